"""Programme calendars: record every obligation instance of a cycle with its due dates.

One DAG per programme file (``programme_calendar__<programme>``), run on Dec 1
for the coming cycle, and by operators for any year from the form.
"""

from __future__ import annotations

import datetime as dt

from airflow.sdk import Param, dag, get_current_context, task
from review_calendar_airflow.dag_defaults import DEFAULT_ARGS, START_DATE, programmes, wanted

from review_calendar.domain.labels import LEVELS

DOC = """
### {name}：年度审查日历

记录 **{name}**（{authority}）一个年度的全部报送事项及其法定截止日和顺延后的截止日
（截止日遇周末或法定节假日顺延至下一个工作日，调休上班日视为工作日）。

每年12月1日自动为下一年度运行；运维人员可在触发表单中填写 `year` 重新生成任意年度。
没有节假日数据的年度按周末及元旦、劳动节、国庆节的固定日期计算，并在任务日志中给出警告。

| 事项 | 报送路径 | 法定截止 | 依据 |
|---|---|---|---|
{rows}
"""


def build(programme_id: str) -> None:
    """Define the calendar DAG of one programme."""
    programme = programmes()[programme_id]
    rows = "\n".join(
        f"| {o.title} | {' → '.join(LEVELS[x] for x in (o.submitter, o.via, o.recipient) if x)} | "
        f"{'、'.join(f'{d.month}月{d.day}日' + ('（次年）' if d.year_offset else '') for d in o.due) or '随时报送'}"
        f" | {o.clause} |"
        for o in programme.obligations
    )

    @dag(
        dag_id=f"programme_calendar__{programme_id}",
        dag_display_name=f"{programme.short_name}：年度审查日历",
        description=f"{programme.name}：记录年度报送事项和截止日",
        doc_md=DOC.format(name=programme.name, authority=programme.authority, rows=rows),
        schedule="0 8 1 12 *",
        start_date=START_DATE,
        catchup=False,
        max_active_runs=1,
        dagrun_timeout=dt.timedelta(minutes=30),
        default_args=DEFAULT_ARGS,
        tags=["review_calendar", "calendar", *programme.tags],
        params={
            "programme": Param(programme_id, type="string", enum=[programme_id], title="项目"),
            "year": Param(
                None, type=["null", "integer"], minimum=2000, maximum=2100, title="年度（留空为下一年度）"
            ),
        },
    )
    def programme_calendar() -> None:
        @task(task_display_name="记录年度报送事项")
        def record_instances() -> dict:
            """计算本年度全部报送事项的法定截止日和顺延后的截止日，记入审查库；年度留空为运行日的下一年度。"""
            from review_calendar.domain.runs import calendar_year
            from review_calendar.tasks import record_calendar

            context = get_current_context()
            return record_calendar(
                programme_id, calendar_year(context["params"]["year"], context["dag_run"].run_after)
            )

        record_instances()

    programme_calendar()


for _programme_id in programmes():
    if wanted(f"programme_calendar__{_programme_id}"):
        build(_programme_id)
