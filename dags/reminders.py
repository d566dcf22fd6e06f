"""Daily reminders: lagging submitters get an e-mail before and after each deadline, exactly once.

Runs at 09:00 Asia/Shanghai on Chinese working days (holidays skipped, make-up
working days included). Takes in what arrived overnight first, so nobody is
reminded of a file they already sent.
"""

from __future__ import annotations

import datetime as dt

from airflow.sdk import Param, dag, get_current_context, task
from airflow.sdk.exceptions import AirflowFailException
from review_calendar_airflow.dag_defaults import DEFAULT_ARGS, START_DATE, programmes
from review_calendar_airflow.timetables import WorkingDayTimetable

DOC = """
### 催报提醒（每个工作日 9:00）

对每个已开放的报送事项，向尚未报送或报送被退回的地区发送提醒邮件：截止日前 14、7、3、1 天，
截止当日，逾期后每 3 个工作日一次（各项目可在项目配置文件中调整）。逾期超过设定天数后，
抄送市工业和信息化局主管领导，再抄送省级主管部门责任处室。

提请审定的事项超过项目配置的工作日数仍未答复时，向处室负责人发送督办邮件（之后每隔相同工作日数再次督办），
事项仍保持待审定，系统不会因超时作出任何决定。绩效评价结果为限期整改的试点，按整改期限发送整改报告通知和催报，
并核对整改报告是否按期收到。

收件人来自 3 月 31 日报送的联系人名单；没有有效联系人的县使用所在市的联系人，并将缺口报告省级主管部门。
每封邮件都经过发件箱登记：重试、重跑或补跑都不会重复发送；邮件服务器故障时邮件保留在发件箱，下次运行补发。

触发表单：`as_of` 指定按哪一天计算（补跑历史日期），`programme` 只处理一个项目，`dry_run` 只列出将发送的邮件。
"""


@dag(
    dag_id="reminders",
    dag_display_name="催报提醒",
    description="每个工作日 9:00 向滞后地区发送催报提醒（每封邮件只发一次）",
    doc_md=DOC,
    schedule=WorkingDayTimetable(9, 0),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=dt.timedelta(hours=2),
    default_args=DEFAULT_ARGS,
    tags=["review_calendar", "reminders"],
    params={
        "as_of": Param(None, type=["null", "string"], format="date", title="按此日期计算（留空：运行当天）"),
        "programme": Param(None, type=["null", "string"], enum=[None, *programmes()], title="只处理此项目"),
        "dry_run": Param(False, type="boolean", title="试运行（只列出将发送的邮件）"),
    },
)
def reminders() -> None:
    @task(task_display_name="确定日期")
    def resolve_day() -> str:
        """确定按哪一天计算提醒：触发参数 as_of，留空则为本次运行当天（北京时间）。"""
        from review_calendar.domain.runs import CycleUnknown, reminder_day

        context = get_current_context()
        try:
            return reminder_day(context["params"]["as_of"], context["dag_run"].run_after).isoformat()
        except CycleUnknown as bad:
            raise AirflowFailException(str(bad)) from bad

    @task(task_display_name="接收新到文件")
    def sweep_inboxes(as_of: str) -> dict:
        """接收各开放事项收件箱中新到的文件，提醒只发给确实尚未报送的地区。"""
        from review_calendar.tasks import sweep_inboxes as run

        context = get_current_context()
        return run(as_of, context["params"]["programme"], run_id=context["run_id"])

    @task(task_display_name="列出项目")
    def list_programmes(as_of: str) -> list:
        """列出当天有开放报送事项的项目，每个项目一个生成提醒任务。"""
        from review_calendar.tasks import open_instances

        chosen = get_current_context()["params"]["programme"]
        return sorted({k.split("/")[0] for k in open_instances(as_of, chosen)})

    @task(task_display_name="生成提醒", map_index_template="{{ task.op_kwargs['programme_id'] }}",
          doc_md="为一个项目生成当天的催报提醒、开放通知和联系人缺口报告，登记到发件箱。")  # fmt: skip
    def plan_reminders(as_of: str, programme_id: str) -> dict:
        """为一个项目生成当天的催报提醒、开放通知和联系人缺口报告，登记到发件箱。"""
        from review_calendar.tasks import plan_reminders as run

        return run(programme_id, as_of, dry_run=get_current_context()["params"]["dry_run"])

    @task(task_display_name="督办待审定事项")
    def escalate_proposals(as_of: str) -> dict:
        """待审定事项超过设定的工作日数仍未答复时，发邮件提醒处室负责人督办；不作任何决定。"""
        from review_calendar.tasks.escalation import escalate_proposals as run

        params = get_current_context()["params"]
        return run(as_of, params["programme"], dry_run=params["dry_run"])

    @task(task_display_name="整改报告跟踪")
    def follow_up_rectifications(as_of: str) -> dict:
        """核对限期整改试点的整改报告是否按期收到，并发送报送通知和催报提醒。"""
        from review_calendar.tasks.escalation import follow_up_rectifications as run

        params = get_current_context()["params"]
        return run(as_of, params["programme"], dry_run=params["dry_run"])

    # Runs when nothing upstream failed: a day with no open instance (no reminder task
    # mapped) still sends the day's escalations.
    @task(task_display_name="发送邮件", trigger_rule="none_failed")
    def send_emails() -> dict:
        """通过 Airflow 的 SMTP 连接发送发件箱中的邮件，每封只发一次。"""
        from review_calendar_airflow.mail import deliver_outbox

        return deliver_outbox(dry_run=get_current_context()["params"]["dry_run"])

    day = resolve_day()
    swept = sweep_inboxes(day)
    planned = plan_reminders.partial(as_of=day).expand(programme_id=list_programmes(day))
    sent = send_emails()
    swept >> planned >> sent
    escalate_proposals(day) >> sent
    swept >> follow_up_rectifications(day) >> sent


reminders()
