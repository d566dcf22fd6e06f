"""Recording facts only the province or MIIT knows, through an entry form in the Airflow UI.

Triggered by hand only (no schedule): the trigger form's params are the fact.
One task calls :func:`review_calendar.tasks.facts.record_fact`, the same way in
as ``review-calendar record ...``; the recording person is the Airflow user who
triggered the run.
"""

from __future__ import annotations

import datetime as dt

from airflow.sdk import Param, dag, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException
from review_calendar_airflow.dag_defaults import DEFAULT_ARGS, START_DATE, programmes

from review_calendar.domain.labels import FACT_KINDS, MEETING_STATES, MIIT_DECISIONS, PERIODS

DOC = """
### 记录省厅或工业和信息化部掌握的事实

只有省厅或工业和信息化部知道的事实，在这里填写表单记录（也可用命令行 `review-calendar record ...`）：

| 类型 | 填写 |
|---|---|
| 专家辅导 | 被辅导的基地或培育对象（集群编号）、辅导日期、专家 |
| 观摩会 | 年度、半年（上半年/下半年）、是否召开；召开的填写日期（须在该半年内） |
| 工业和信息化部决定 | 集群编号、年度、决定、文号 |
| 认定 | 被认定的企业、平台或基地，认定类别（试点、示范、平台等）、日期、文号 |
| 示范基地复核 | 基地编号、年度、复核结果；未通过的生成“建议取消示范基地称号”，由审核人员决定 |
| 延期申请 | 申请地区的行政区划代码（填在“基地、集群或企业”）、年度、报送事项、期次、申请延至的日期（填在“日期”）、延期理由；生成“拟同意延期”，由审核人员同意（可改定日期）或不同意 |

每条记录保存记录人（触发本次运行的用户）和记录时间；同一事实再次记录时更新原记录，不会重复。
"""

OUTCOME_DISPLAY = {
    "": "（不适用）",
    **{k: f"观摩会{v}" for k, v in MEETING_STATES.items() if k != "not_recorded"},
    **{k: f"部决定：{v}" for k, v in MIIT_DECISIONS.items()},
    "passed": "复核通过",
    "failed": "复核未通过",
    "试点": "认定为试点企业",
    "示范": "认定为示范企业",
    "平台": "认定为工业互联网平台",
    "示范基地": "认定为示范基地",
    "培育对象": "认定为培育对象",
}


def _params() -> dict:
    ids = sorted(programmes())
    return {
        "kind": Param("visit", type="string", enum=list(FACT_KINDS), values_display=FACT_KINDS, title="事实类型"),
        "programme": Param(ids[0], type="string", enum=ids, title="项目"),
        "subject": Param("", type="string", maxLength=200, title="基地、集群或企业",
                         description="专家辅导、部决定、复核填集群编号；认定填企业、平台或基地名称；延期申请填地区代码"),
        "date": Param(None, type=["null", "string"], format="date", title="日期"),
        "year": Param(None, type=["null", "integer"], minimum=2000, maximum=2100, title="年度"),
        "period": Param("", type="string", enum=["", *PERIODS],
                        values_display={"": "（不适用）", **PERIODS}, title="半年或期次",
                        description="观摩会填上半年或下半年；延期申请填报送事项的期次（不填为全年）"),
        "outcome": Param("", type="string", enum=list(OUTCOME_DISPLAY), values_display=OUTCOME_DISPLAY,
                         title="结果、决定或认定类别"),
        "reference": Param("", type="string", maxLength=128, title="文号"),
        "expert": Param("", type="string", maxLength=100, title="辅导专家"),
        "obligation": Param("", type="string", maxLength=64, title="报送事项（延期申请）",
                            description="报送事项编号，例如 development_plan"),
        "reason": Param("", type="string", maxLength=500, title="延期理由（延期申请）"),
        "note": Param("", type="string", maxLength=500, title="备注"),
    }  # fmt: skip


@dag(
    dag_id="record_fact",
    dag_display_name="记录省厅和部里掌握的事实",
    description="专家辅导、观摩会、工业和信息化部决定、认定、示范基地复核、延期申请：填表记录，记录人和时间一并保存",
    doc_md=DOC,
    schedule=None,
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=dt.timedelta(minutes=10),
    default_args=DEFAULT_ARGS,
    tags=["review_calendar", "record"],
    params=_params(),
)
def record_fact() -> None:
    @task(task_display_name="记录事实")
    def record() -> dict:
        """核对并保存表单填写的事实（记录人为触发本次运行的用户）；同一事实再次记录时更新原记录。"""
        from review_calendar.domain.facts import FactError
        from review_calendar.tasks.facts import record_fact as run

        context = get_current_context()
        params = dict(context["params"])
        user = context["dag_run"].triggering_user_name or ""
        if not user:
            raise AirflowFailException("无法确定记录人：请在 Airflow 界面登录后手动触发")
        try:
            return run(params.pop("programme"), params.pop("kind"), params, by=user, source="airflow",
                       run_id=context["run_id"])  # fmt: skip
        except FactError as exc:
            # Retrying cannot complete the form: fail now with the reason.
            raise AirflowFailException(str(exc)) from exc

    record()


record_fact()
