"""Inbox sweep: every 10 minutes on Chinese working days, files taken in and answered at once.

Each open instance's inbox is swept through the intake code (a file still being
written waits for the next sweep); the rejection notices the sweep queued go out
in the same run, so a county hears within minutes what was wrong with its file.
Files that cannot be placed are e-mailed to the operators once and listed on the
reviewers' landing page.
"""

from __future__ import annotations

import datetime as dt

from airflow.sdk import Param, dag, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException
from review_calendar_airflow.dag_defaults import DEFAULT_ARGS, START_DATE, programmes
from review_calendar_airflow.timetables import WorkingDayIntervalTimetable

DOC = """
### 收件箱巡检（工作日每 10 分钟）

接收各开放报送事项收件箱中新到的文件：格式和内容合格的文件登记为已接收，不合格的文件退回，
退回通知（说明每一处错误）在同一次运行中发出，报送单位在上传后 10 分钟内收到答复。
仍在上传中的文件等下次巡检；上传工具的临时文件（.filepart、.crdownload、.tmp、~$…）不处理。

无法确定所属事项或地区的文件（放错目录、符号链接等）不接收、不删除，
向运维人员发送一次提醒邮件（每个文件只提醒一次），并在审查日历首页列出。

每天 9:00 的催报提醒和截止日后的审查周期仍会各自再巡检一次。
触发表单：`as_of` 按哪一天接收（留空：运行当天），`programme` 只处理一个项目。
按过去的日期或时刻补跑时，晚于该时刻才到达的文件不按该日接收，留在收件箱中，由下次实时巡检按实际到达时间接收。
"""


@dag(
    dag_id="inbox_sweep",
    dag_display_name="收件箱巡检",
    description="工作日每 10 分钟接收新到文件，退回通知立即发出，无法归位的文件提醒运维人员",
    doc_md=DOC,
    schedule=WorkingDayIntervalTimetable(10),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=dt.timedelta(minutes=30),
    default_args={**DEFAULT_ARGS, "retries": 2, "retry_delay": dt.timedelta(minutes=1)},
    tags=["review_calendar", "inbox"],
    params={
        "as_of": Param(
            None,
            type=["null", "string"],
            title="按此日期或时刻接收（YYYY-MM-DD 或 YYYY-MM-DDTHH:MM+08:00；留空：运行时刻）",
        ),
        "programme": Param(None, type=["null", "string"], enum=[None, *programmes()], title="只处理此项目"),
    },
)
def inbox_sweep() -> None:
    @task(task_display_name="接收新到文件")
    def sweep() -> dict:
        """巡检各开放事项的收件箱：接收稳定的新文件，退回不合格文件，无法归位的文件提醒运维人员一次。"""
        from review_calendar.domain.runs import CycleUnknown, sweep_moment
        from review_calendar.tasks.inbox import sweep_now

        context = get_current_context()
        params = context["params"]
        try:
            # A manual run has no logical date: its own time (run_after) is the sweep's moment.
            moment = sweep_moment(params["as_of"], context["dag_run"].run_after)
        except CycleUnknown as bad:
            raise AirflowFailException(str(bad)) from bad
        result = sweep_now(moment, params["programme"], run_id=context["run_id"])
        return {"as_of": result["as_of"], "swept": result["swept"], **result["totals"],
                "alerted": len(result["alerted"])}  # fmt: skip

    @task(task_display_name="发送邮件")
    def send_emails(swept: dict) -> dict:
        """通过 Airflow 的 SMTP 连接立即发送退回通知和提醒（发件箱中每封邮件只发一次）。"""
        from review_calendar_airflow.mail import deliver_outbox

        return deliver_outbox()

    send_emails(sweep())


inbox_sweep()
