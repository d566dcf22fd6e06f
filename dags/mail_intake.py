"""Mail intake: every 10 minutes on Chinese working days, the submissions mailbox taken in and answered.

Each new message of the submissions mailbox (the Airflow connection
``review_calendar_imap``, of the imap provider's type) is taken in once: its
attachments go through the same intake as inbox files, received at the mail
server's arrival time; the 回执 or the rejection (with every error and the
template) go back in the county's thread in the same run; attachments that
cannot be attributed are held for an operator and the sender is told.
"""

from __future__ import annotations

import datetime as dt

from airflow.sdk import dag, get_current_context, task
from airflow.sdk.exceptions import AirflowSkipException
from review_calendar_airflow.dag_defaults import DEFAULT_ARGS, START_DATE
from review_calendar_airflow.timetables import WorkingDayIntervalTimetable

DOC = """
### 邮件报送接收（工作日每 10 分钟）

接收报送邮箱（Airflow 连接 `review_calendar_imap`，类型 imap）中的新邮件：附件（xlsx、xls、ods、csv，
以及 pdf、docx、ofd 文件，zip 压缩包按文件同样的限制解开）与收件箱文件走同一套接收程序，
接收时间为邮件服务器收到邮件的时间。归属依次按：回复的催报/通知邮件、模板文档属性、发件人在联系人名单中的身份和表内行政区划代码
（市联系人可代所辖县报送）。

受理回执或退回说明（列出每一处错误并重新附上模板）在本次运行中回复到原邮件会话；
无法归属或发件人无权报送的附件保存待人工核对（`review-calendar mail held`），并告知发件人正在核对。
每封邮件只处理一次，处理后移入“Processed”文件夹，不删除。未配置连接时本任务跳过。
"""


@dag(
    dag_id="mail_intake",
    dag_display_name="邮件报送接收",
    description="工作日每 10 分钟接收报送邮箱的新邮件，附件按收件箱同一规则接收并在原会话中答复",
    doc_md=DOC,
    schedule=WorkingDayIntervalTimetable(10),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=dt.timedelta(minutes=30),
    default_args={**DEFAULT_ARGS, "retries": 2, "retry_delay": dt.timedelta(minutes=1)},
    tags=["review_calendar", "inbox"],
)
def mail_intake() -> None:
    @task(task_display_name="接收新邮件")
    def fetch() -> dict:
        """接收报送邮箱的新邮件：附件走收件箱同一接收程序，答复登记到发件箱，邮件移入已处理文件夹。"""
        from review_calendar_airflow.mail import imap_settings

        from review_calendar.tasks.mail import fetch_mail

        imap = imap_settings()
        if imap is None or not imap.host:
            raise AirflowSkipException("未配置报送邮箱连接（review_calendar_imap），跳过")
        result = fetch_mail(imap, run_id=get_current_context()["run_id"])
        return {"messages": len(result["messages"]), **result["totals"]}

    @task(task_display_name="发送答复", trigger_rule="none_failed")
    def send_emails() -> dict:
        """通过 Airflow 的 SMTP 连接立即发送回执、退回说明和核对告知（发件箱中每封邮件只发一次）。"""
        from review_calendar_airflow.mail import deliver_outbox

        return deliver_outbox()

    fetch() >> send_emails()


mail_intake()
