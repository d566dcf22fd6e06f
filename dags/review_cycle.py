"""Review cycles: one DAG per programme obligation, generated from the programme files.

Each run is one obligation instance (a cycle year and period): wait for the
effective deadline without holding a worker slot, take in what arrived, run the
provincial data-quality gate, aggregate per city and for the province, decide
where the obligation decides (evaluation, re-review, subsidies), notify, and
publish the Asset that starts the downstream cycle.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from airflow.providers.standard.sensors.date_time import DateTimeSensorAsync
from airflow.sdk import Param, dag, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException
from review_calendar_airflow.assets import obligation_asset, proposals_asset
from review_calendar_airflow.dag_defaults import DEFAULT_ARGS, START_DATE, programmes, wanted
from review_calendar_airflow.timetables import DeadlineTimetable

from review_calendar.domain.labels import LEVELS

if TYPE_CHECKING:
    from airflow.sdk import Context

KIND_TAGS = {"evaluation": "evaluation", "re_review": "re_review", "bulletin": "bulletin"}

DOC = """
### {title}（{programme}）

{content}

- **报送路径**：{route}
- **截止日**：{due}（遇周末或法定节假日顺延至下一个工作日）{configured}
- **依据**：{clause}
- **启动方式**：{trigger}

每次运行处理一个年度（期次）的报送事项：等待截止日（不占用工作槽位）→ 接收收件箱中的报送文件 →
省级数据质量闸门（Great Expectations）→ 按市汇总 → 全省汇总和报表 → {decide}发送通知 → 发布数据资产。

手动触发（重跑、补跑任意年度）须在触发表单中填写 `year`（多期事项还要填写 `period`）；没有年度的手动运行会立即失败并说明要填写什么。
`as_of` 可留空：按运行当天计算，最早为截止日次日。`dry_run` 只计算不发邮件、不改变认定状态。
"""


def _asset_extras(context: Context) -> list[dict]:
    """The ``extra`` of each Asset event that started the run, oldest first (empty for other runs)."""
    events = [e for group in (context.get("triggering_asset_events") or {}).values() for e in group]
    return [dict(e.extra or {}) for e in sorted(events, key=lambda e: e.timestamp)]


def _params(programme_id: str, periods: list[str]) -> dict:
    return {
        "programme": Param(programme_id, type="string", enum=[programme_id], title="项目"),
        "year": Param(
            None,
            type=["null", "integer"],
            minimum=2000,
            maximum=2100,
            title="年度（手动触发必填；计划运行和上游启动时留空）",
        ),
        "period": Param(None, type=["null", "string"], enum=[None, *periods], title="期次"),
        "as_of": Param(
            None,
            type=["null", "string"],
            format="date",
            title="按此日期计算（留空：运行当天，最早为截止日次日）",
        ),
        "dry_run": Param(False, type="boolean", title="试运行（不发邮件、不改变认定状态）"),
    }


@task(task_display_name="列出各市")
def list_cities(instance: dict) -> list:
    """列出本期有应报送地区的各市，每市一个汇总任务。"""
    return instance["cities"]


@task(task_display_name="接收报送文件")
def ingest_submissions(instance: dict) -> dict:
    """接收本期收件箱中的全部报送文件：合格的接收，不合格的退回并隔离，注明原因。"""
    from review_calendar.tasks import ingest_inbox

    return ingest_inbox(instance["key"], instance["as_of"], run_id=get_current_context()["run_id"])


@task(task_display_name="省级数据质量闸门")
def check_provincial_gate(instance: dict) -> dict:
    """对全省数据运行数据质量闸门（Great Expectations）；发现严重问题即在此停止，闸门报告列明地区、行和字段。"""
    from review_calendar.gate.errors import GateFailed
    from review_calendar.tasks import run_gate

    try:
        return run_gate(instance["key"], instance["as_of"], get_current_context()["run_id"])
    except GateFailed as failed:
        # Bad data does not get better by retrying: fail now, reviewers read why.
        raise AirflowFailException(str(failed)) from failed


@task(
    task_display_name="按市汇总",
    map_index_template="{{ task.op_kwargs['city_code'] }}",
    doc_md="汇总一个市所辖县（市、区）的报送状态和关键指标。",  # mapped: the docstring is not shown
)
def aggregate_city(instance: dict, city_code: str) -> dict:
    """汇总一个市所辖县（市、区）的报送状态和关键指标。"""
    from review_calendar.tasks import aggregate_city as run

    return run(instance["key"], instance["as_of"], city_code)


@task(task_display_name="提出拟定决定")
def decide(instance: dict) -> dict:
    """按项目的决定规则（绩效评价、复核、补贴、通报排名）提出拟定决定，记录理由和依据；由审阅人在“待响应的任务实例”中审定后才执行。"""
    from review_calendar.tasks import decide as run

    context = get_current_context()
    summary = run(instance["key"], instance["as_of"], context["run_id"], dry_run=context["params"]["dry_run"])
    # The decision DAG asks about the proposals of this instance's year.
    asset = proposals_asset(instance["key"].split("/")[0])
    context["outlet_events"][asset].extra = {"cycle_year": instance["cycle_year"], "key": instance["key"]}
    return summary


@task(task_display_name="生成通知")
def queue_notices(instance: dict) -> dict:
    """将本期的决定通知（评价、复核结果）登记到发件箱；试运行时不登记。"""
    from review_calendar.tasks import queue_instance_notices

    dry_run = get_current_context()["params"]["dry_run"]
    return queue_instance_notices(instance["key"], instance["as_of"], dry_run=dry_run)


@task(task_display_name="发送邮件")
def send_emails() -> dict:
    """通过 Airflow 的 SMTP 连接发送发件箱中的邮件，每封只发一次。"""
    from review_calendar_airflow.mail import deliver_outbox

    return deliver_outbox(dry_run=get_current_context()["params"]["dry_run"])


def _wait_for_deadline() -> DateTimeSensorAsync:
    """The deferrable wait for the window to close, run in the triggerer only."""
    return DateTimeSensorAsync(
        task_id="wait_for_deadline",
        task_display_name="等待截止日",
        doc_md="在触发器（triggerer）中等待报送窗口关闭（顺延后截止日次日零时），不占用工作槽位；已过截止日则立即继续。",
        # One XCom by map index: the triggerer, which renders this, answers only single pulls.
        target_time="{{ ti.xcom_pull(task_ids='open_instance', map_indexes=-1)['closes_at'] }}",
        # The wait starts and ends in the triggerer, no worker involved: a worker that deferred
        # a deadline already passed raced the trigger's immediate resumption and lost its try
        # (apache/airflow#72716, state mismatch after defer).
        start_from_trigger=True,
        end_from_trigger=True,
    )


def _dag_header(programme_id: str, obligation_id: str) -> tuple[dict, object]:
    """The header of one obligation's cycle: ids, Chinese names and doc, tags, params; and its schedule."""
    programme = programmes()[programme_id]
    obligation = programme.obligation(obligation_id)
    if obligation.after:
        upstream = programme.obligation(obligation.after)
        schedule = obligation_asset(programme_id, obligation.after)
        trigger = f"“{upstream.title}”全省汇总完成后自动启动"
    else:
        schedule = DeadlineTimetable(programme_id, obligation_id)
        trigger = "按截止日（工作日顺延）自动运行，截止日次日零时启动"
    due = "、".join(f"{d.month}月{d.day}日" + ("（次年）" if d.year_offset else "") for d in obligation.due)
    route = " → ".join(LEVELS[x] for x in (obligation.submitter, obligation.via, obligation.recipient) if x)
    doc = DOC.format(
        title=obligation.title, programme=programme.name, content=obligation.content or obligation.title,
        route=route, due=due, clause=obligation.clause, trigger=trigger,
        configured="；原文未规定日期，此为配置日期" if obligation.due_is_configured else "",
        decide={"evaluation": "作出评价决定，", "re_review": "作出复核决定，"}.get(obligation.kind, ""),
    )  # fmt: skip
    kind_tags = [KIND_TAGS[obligation.kind]] if obligation.kind in KIND_TAGS else []
    header = {
        "dag_id": f"review_cycle__{programme_id}__{obligation_id}",
        "dag_display_name": f"{programme.short_name}：{obligation.title}",
        "description": f"{programme.name}：{obligation.title}（{due}）",
        "doc_md": doc,
        "tags": ["review_calendar", "cycle", *programme.tags, *kind_tags],
        "params": _params(programme_id, [d.period for d in obligation.due]),
    }
    return header, schedule


def build(programme_id: str, obligation_id: str) -> None:
    """Define the cycle DAG of one obligation of one programme."""
    asset = obligation_asset(programme_id, obligation_id)
    header, schedule = _dag_header(programme_id, obligation_id)

    @dag(
        **header,
        schedule=schedule,
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,
        dagrun_timeout=dt.timedelta(days=400),
        default_args=DEFAULT_ARGS,
    )
    def review_cycle() -> None:
        @task(task_display_name="确定年度和截止日")
        def open_instance() -> dict:
            """确定本次运行处理的年度和期次（触发参数、上游数据资产或计划时间），登记截止日和应报送地区；无法确定时立即失败并说明要填写什么。"""
            from review_calendar.domain.runs import CycleUnknown
            from review_calendar.tasks import open_instance as run

            context = get_current_context()
            try:
                return run(
                    programme_id, obligation_id, params=dict(context["params"]), asset_extras=_asset_extras(context),
                    interval_end=context.get("data_interval_end"), run_after=context["dag_run"].run_after,
                    run_id=context["run_id"],
                )  # fmt: skip
            except CycleUnknown as unknown:
                # Retrying cannot tell the cycle either: fail now, the message says what to fill in.
                raise AirflowFailException(str(unknown)) from unknown

        @task(task_display_name="全省汇总和报表", outlets=[asset])
        def aggregate_province(instance: dict, cities: list) -> dict:
            """全省汇总，生成 Excel 和 HTML 报表，发布数据资产以启动下游审查事项。"""
            from review_calendar.tasks import aggregate_province as run

            context = get_current_context()
            summary = run(instance["key"], instance["as_of"], context["run_id"])
            # The downstream cycle reads its cycle from this extra (it has no data interval).
            context["outlet_events"][asset].extra = {
                "programme": programme_id, "obligation": obligation_id,
                "cycle_year": summary["cycle_year"], "period": summary["period"],
            }  # fmt: skip
            return summary

        instance = open_instance()
        cities = aggregate_city.partial(instance=instance).expand(city_code=list_cities(instance))
        (
            instance
            >> _wait_for_deadline()
            >> ingest_submissions(instance)
            >> check_provincial_gate(instance)
            >> cities
        )
        province = aggregate_province(instance, cities)
        proposed = decide.override(outlets=[proposals_asset(programme_id)])(instance)
        province >> proposed >> queue_notices(instance) >> send_emails()

    review_cycle()


for _programme_id, _programme in programmes().items():
    for _obligation in _programme.obligations:
        if _obligation.kind in ("meeting", "ad_hoc"):
            continue  # meetings are on the calendar; ad-hoc reports have no deadline to run after
        if wanted(f"review_cycle__{_programme_id}__{_obligation.id}"):
            build(_programme_id, _obligation.id)
