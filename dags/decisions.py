"""Decisions: one DAG per programme where a named reviewer answers every proposal.

A cycle records its proposals (evaluation outcomes, re-reviews, recommendations
to MIIT, recognitions, subsidies, the bulletin...) and publishes the programme's
proposals Asset; this DAG then asks one Required Action per proposal not yet
asked (Airflow's HITL operator, one mapped task each, assigned to the
programme's reviewers). The cycle does not wait for the answers; nothing is
applied and no notice is sent before one.

Run names: a run that asks again after an incomplete answer is named by the
proposal's cycle and round (``ask_again__2025_Y__decision17_round1__<moment>``,
:func:`review_calendar.domain.runs.ask_again_run_id`); runs the Asset starts keep
Airflow's ``asset_triggered__<moment>`` (Airflow 3.3's scheduler does not ask the
timetable for them), and the reviewers' pages name them by year and round.
"""

from __future__ import annotations

import datetime as dt

from airflow.sdk import Param, dag, get_current_context, task
from review_calendar_airflow.assets import proposals_asset
from review_calendar_airflow.dag_defaults import DEFAULT_ARGS, START_DATE, programmes, wanted
from review_calendar_airflow.review import ProposalReview

from review_calendar.domain.runs import decision_dag_id

DOC = """
### {name}：审定拟定决定

各审查事项在汇总后提出拟定决定（绩效评价结果、期满复核、报工业和信息化部的建议、认定、补贴、通报等），
本 DAG 为每一项拟定决定建立一个“待响应的任务实例”（Required Action），指派给本项目的审阅人：{reviewers}。

- **批准**：按拟定结论执行，并通知相关县（市、区）。
- **改变结论**：选择改为的结论并填写理由；未填写理由的，系统会重新建立一个待响应的任务实例并说明原因。
- **退回补充材料**：写明需要补充什么，可填写新的截止日期。

答复之前不执行任何决定、不发送任何通知；超时不会自动决定，逾期未审定的按工作日提醒{head}。
审定单位：{authority}（{configured}）。

由审查事项发布的数据资产自动启动；运维人员也可手动触发（`year` 只询问该年度，`decision_ids` 只询问指定的拟定决定）。
已询问过的拟定决定不会重复询问。答复不完整而再次询问的运行以年度和轮次命名（如 `ask_again__2025_Y__decision17_round1__…`），
每个待响应任务的标题以年度开头；审查日历页面以“2025 年度审定 · 第 1 次询问”称呼各次运行。
"""


def build(programme_id: str) -> None:
    """Define the decision DAG of one programme."""
    programme = programmes()[programme_id]
    review = programme.review
    if review is None:
        return
    users = [{"id": n, "name": n} for n in review.reviewers]

    @dag(
        dag_id=decision_dag_id(programme_id),
        dag_display_name=f"{programme.short_name}：审定拟定决定",
        description=f"{programme.name}：审阅人审定拟定决定（待响应的任务实例）",
        doc_md=DOC.format(
            name=programme.name,
            reviewers="、".join(review.reviewers),
            head=review.division_head.name,
            authority=review.authority,
            configured="配置",
        ),  # fmt: skip
        schedule=[proposals_asset(programme_id)],
        start_date=START_DATE,
        catchup=False,
        # A run holds parked Required Actions (no worker slot) until answered: several may be open at once.
        max_active_runs=16,
        dagrun_timeout=dt.timedelta(days=400),
        default_args=DEFAULT_ARGS,
        tags=["review_calendar", "decisions", *programme.tags],
        params={
            "year": Param(
                None, type=["null", "integer"], minimum=2000, maximum=2100, title="只询问该年度（留空：全部）"
            ),
            "decision_ids": Param(
                None, type=["null", "array"], items={"type": "integer"}, title="只询问这些拟定决定（编号）"
            ),
        },  # fmt: skip
    )
    def decisions() -> None:
        @task(task_display_name="列出待审定的拟定决定")
        def collect_proposals() -> list:
            """为每一项尚未询问过的拟定决定建立一轮审定，返回待响应的任务实例的标题和正文。"""
            from review_calendar.tasks.reviews import collect_proposals as run

            context = get_current_context()
            params = context["params"]
            events = [e for group in (context.get("triggering_asset_events") or {}).values() for e in group]
            years = {int(e.extra["cycle_year"]) for e in events if (e.extra or {}).get("cycle_year")}
            if params.get("year"):
                years = {int(params["year"])}
            asks = run(programme_id, context["dag"].dag_id, context["run_id"], cycle_years=sorted(years) or None,
                       decision_ids=params.get("decision_ids") or None)  # fmt: skip
            return [{"subject": a["subject"], "body": a["body"], "decision_id": a["decision_id"],
                     "outcomes": a["outcomes"]} for a in asks]  # fmt: skip

        ProposalReview.partial(
            task_id="review",
            task_display_name="审定",
            doc_md="一项拟定决定的待响应的任务实例：审阅人批准、改变结论（须填写理由）或退回补充材料；答复后执行并通知，超时不会自动决定。",
            programme_id=programme_id,
            assigned_users=users,
            map_index_template="{{ task.subject }}",
            execution_timeout=None,
        ).expand_kwargs(collect_proposals())

    decisions()


for _programme_id, _programme in programmes().items():
    if _programme.review is not None and wanted(decision_dag_id(_programme_id)):
        build(_programme_id)
