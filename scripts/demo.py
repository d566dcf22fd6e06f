"""The main job: a whole demonstration year of the review calendar on the embedded defaults.

Run through ``scripts/demo.sh``. Every step goes through the real DAGs with
``dag.test()`` (Airflow's in-process runner) against the project-local Airflow
home, the SQLite review database under ``var/`` and a real local SMTP server
(aiosmtpd) that stores every delivered e-mail under ``var/mail/``.

The year, in calendar order: for each obligation instance of programmes A
(Hebei smart-cluster pilots), B (MIIT SME clusters) and D (Langfang digital
transformation), the counties' files arrive in the inbox on their dates (on
time, late, corrected after a rejection, rejected, missing); the reminders DAG
runs a week before, on the due day and when overdue; then the instance's cycle
DAG closes the window, gates, aggregates, decides and notifies.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from review_calendar.settings import Settings
    from review_calendar_demo.local_smtp import LocalSmtpServer
    from review_calendar_demo.year_run import RunLog

ROOT = Path(__file__).resolve().parents[1]
log = logging.getLogger("demo")
PROGRAMMES = ("hebei_smart_cluster", "miit_sme_cluster", "henan_demo_base", "langfang_digital")


def say(text: str = "") -> None:
    print(text, flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--year", type=int, default=None, help="demo cycle year (default from data/demo.yaml)"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the previous demo's data (default: start afresh)"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")

    from review_calendar.settings import get_settings

    settings = get_settings()
    if not args.keep and settings.home.exists() and settings.db_url.startswith("sqlite:///"):
        shutil.rmtree(settings.home)  # the demo's own working folder (var/), rebuilt below
    from review_calendar.cli import main as cli
    from review_calendar_demo.cli import main as demo_cli
    from review_calendar_demo.seed import demo_data

    year = args.year or int(demo_data()["default_year"])
    say(f"==> 审查库 {settings.db_url}")
    cli(["db", "upgrade"])
    demo_cli(["seed"])
    cli(["programmes", "check"])
    say(f"\n==> {year} 年度审查日历（节选）")
    cli(["deadlines", "--programme", "hebei_smart_cluster", "--year", str(year)])

    from review_calendar_demo.local_smtp import LocalSmtpServer

    imap = start_mailbox()
    # Operator alerts (a failed task) go to this demo address, beside the county e-mails.
    os.environ.setdefault("REVIEW_CALENDAR_OPERATORS", "operators@gxt.hebei.example.cn")
    with LocalSmtpServer(maildir=settings.home / "mail") as mail:
        os.environ["AIRFLOW_CONN_SMTP_DEFAULT"] = json.dumps({
            "conn_type": "smtp", "host": "127.0.0.1", "port": mail.port,
            "extra": {"disable_ssl": True, "disable_tls": True, "from_email": "review-calendar@gxt.hebei.example.cn",
                      "timeout": 10, "retry_limit": 1},
        })  # fmt: skip
        try:
            code = run_demo_year(settings, year, mail)
        finally:
            if imap is not None:
                imap.stop()
    return code


def start_mailbox() -> Any:
    """The submissions mailbox some counties answer to: a local Dovecot (installed by scripts/demo.sh), if installed."""
    from review_calendar_demo.local_imap import ImapServer

    if not ImapServer.available():
        say("    未安装 Dovecot（scripts/apt-install.sh dovecot-imapd），本次演示不含邮件报送")
        return None
    server = ImapServer()
    import secrets

    user = "tianbao@gxt.hebei.example.cn"
    password = secrets.token_urlsafe(16)  # a throw-away mailbox: a fresh password each demo
    server.add_user(user, password)
    server.start()
    os.environ.update({
        "REVIEW_CALENDAR_SUBMISSIONS_ADDRESS": user, "REVIEW_CALENDAR_IMAP_HOST": server.host,
        "REVIEW_CALENDAR_IMAP_PORT": str(server.port), "REVIEW_CALENDAR_IMAP_USER": user,
        "REVIEW_CALENDAR_IMAP_PASSWORD": password, "REVIEW_CALENDAR_IMAP_SSL": "false",
        "AIRFLOW_CONN_REVIEW_CALENDAR_IMAP": json.dumps({
            "conn_type": "imap", "host": server.host, "port": server.port, "login": user,
            "password": password, "extra": {"use_ssl": False},
        }),
    })  # fmt: skip
    return server


def run_demo_year(settings: Settings, year: int, mail: LocalSmtpServer) -> int:
    from review_calendar_demo.decisions import DecisionDesk
    from review_calendar_demo.year_run import DagRunner, run_year

    say("\n==> 加载 DAG")
    dag_log = settings.home / "logs" / "dag-runs.log"
    run = DagRunner(dag_log, say)
    say(f"    {len(run.dagbag.dags)} 个 DAG；任务日志：{dag_log}")
    say("\n==> 启动 Airflow api-server（同一元数据库），审阅人通过“待响应的任务实例”的 REST 接口答复拟定决定")
    desk = DecisionDesk.demo(settings.home)
    desk.start()
    try:
        log = run_year(run, year, PROGRAMMES, say, desk=desk)
        desk.left = desk.leave_for_ui("miit_sme_cluster", year, dag_log)
    finally:
        desk.stop()
    summarise(settings, year, mail, log, desk)
    # The planned gate stop (corrected and re-run) is the only failure the year may show.
    unexpected = [r for r in log.failed() if not r[0].endswith("__development_plan")]
    return 1 if unexpected else 0


def say_answers(desk: Any) -> None:
    """Who decided what through Airflow's Required Actions, and what is left for a person."""
    say("\n==> 审阅人的答复（Airflow 待响应的任务实例，经 REST 接口）")
    from review_calendar.domain.labels import REVIEW_OPTIONS

    words = {code: option for option, code in REVIEW_OPTIONS.items()}
    for a in desk.answered:
        if a["answer"] == "incomplete":
            say(f"    {a['by']}：{a['what']}（拟定：{a['proposed']}）— 答复不完整：{a['note']}，系统重新询问")
            continue
        changed = f"，改为“{a['outcome']}”" if a["answer"] == "change" else ""
        reason = f"，理由：{a['reason']}" if a["reason"] and a["answer"] != "approve" else ""
        say(f"    {a['by']}：{a['what']}（拟定：{a['proposed']}）— {words[a['answer']]}{changed}{reason}")
    for subject in desk.left:
        say(f"    待审定（留给审阅人在 Airflow 界面“待响应的任务实例”中答复）：{subject}")
    say("    审定记录：review-calendar decisions list --programme hebei_smart_cluster --year 2025 [--json]")


def summarise(settings: Settings, year: int, mail: LocalSmtpServer, log: RunLog, desk: Any) -> None:
    """Print what the year left behind and where to look at it."""
    say("\n==> 结果")
    say_records(settings, year)
    say_mail(settings, mail)
    failed = log.failed()
    say(
        f"    DAG 运行：{len(log.runs)} 次，{len(failed)} 次失败"
        + (f"（{[r[0] for r in failed]}，闸门拦截后已重跑）" if failed else "")
    )
    say_answers(desk)
    say_where(settings, year)


def say_records(settings: Settings, year: int) -> None:
    """Submissions by outcome, gate runs, decisions and the Henan bulletin ranking of the year."""
    from sqlalchemy import select

    from review_calendar.store.db import session_scope
    from review_calendar.store.tables.decisions import Decision
    from review_calendar.store.tables.intake import Submission
    from review_calendar.store.tables.review import Aggregate, GateRun

    with session_scope(settings.db_url) as s:
        subs = Counter(
            (r.status, r.is_late) for r in s.scalars(select(Submission).where(Submission.cycle_year == year))
        )
        say(f"    报送文件：接收 {subs[('accepted', False)]} 按时 + {subs[('accepted', True)]} 逾期，"
            f"被更正替代 {subs[('superseded', False)] + subs[('superseded', True)]}，退回 {subs[('rejected', False)]}")  # fmt: skip
        gates = s.scalars(select(GateRun).where(GateRun.cycle_year == year).order_by(GateRun.id)).all()
        say(
            f"    数据质量闸门：{sum(g.success for g in gates)} 次通过，{sum(not g.success for g in gates)} 次拦截"
        )
        say_decisions(s.scalars(select(Decision).where(Decision.kind != "acceptance")).all())
        ranks = s.scalars(
            select(Aggregate)
            .where(Aggregate.metric == "bulletin_rank", Aggregate.period == "Q3")
            .order_by(Aggregate.value)
        ).all()
        if ranks:
            say("    河南示范基地三季度通报排名：" + "，".join(
                f"{int(r.value)}. {r.region_code}{f'（{r.text}）' if r.text else ''}" for r in ranks))  # fmt: skip
            bulletin = settings.reports_dir / "henan_demo_base" / str(year) / "bulletin_Q3.html"
            say(f"    河南三季度通报（网页和 Excel，已发送各市）：{bulletin}")
        stages = s.scalars(
            select(Aggregate).where(Aggregate.programme_id == "langfang_digital", Aggregate.cycle_year == year,
                                    Aggregate.metric.like("stage_%"))
        ).all()  # fmt: skip
        for a in stages:
            say(f"    廊坊阶段目标：{a.text}")


def say_decisions(decisions: list[Any]) -> None:
    """Every decision and proposal of the year by kind: outcome, state (待审定...) and the basis of one."""
    from review_calendar.domain.labels import DECISION_KINDS, OUTCOMES, label
    from review_calendar.domain.programmes import load_programme
    from review_calendar.domain.verdicts import state_label, subject_label

    titles = {}
    for pid in {d.programme_id for d in decisions}:
        titles.update({o.id: o.title for o in load_programme(pid).obligations})
    by_kind: dict[str, list[Any]] = {}
    for d in decisions:
        if d.kind != "gate":
            by_kind.setdefault(d.kind, []).append(d)
    for kind in sorted(
        by_kind, key=lambda k: (list(DECISION_KINDS).index(k) if k in DECISION_KINDS else 99, k)
    ):
        rows = by_kind[kind]
        outcomes = Counter((label(OUTCOMES, r.outcome), state_label(r.figures)) for r in rows)
        text = "，".join(f"{o}［{st}］×{n}" if n > 1 else f"{o}［{st}］" for (o, st), n in outcomes.items())
        say(f"    决定（{label(DECISION_KINDS, kind)}，{len(rows)} 项）：{text}")
        example = rows[0]
        say(
            f"      例：{subject_label(example.subject, example.figures, titles)} — {label(OUTCOMES, example.outcome)}；依据 {example.clause}"
        )


def say_mail(settings: Settings, mail: LocalSmtpServer) -> None:
    """The outbox against what the SMTP server received, operator alerts, one example of each kind."""
    from sqlalchemy import func, select

    from review_calendar.store.db import session_scope
    from review_calendar.store.tables.mail import OutboxMessage

    with session_scope(settings.db_url) as s:
        sent = s.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "sent"))
        kinds = Counter(k for (k,) in s.execute(select(OutboxMessage.kind)))
        examples = {}
        for row in s.scalars(
            select(OutboxMessage).where(OutboxMessage.status == "sent").order_by(OutboxMessage.id)
        ):
            examples.setdefault(row.kind, row)
    messages = mail.messages
    say(
        f"    邮件：发件箱 {sum(kinds.values())} 封（{dict(kinds)}），SMTP 服务器收到 {len(messages)} 封，已发送 {sent} 封"
    )
    say_mailbox(settings, messages)
    alerts = [m for m in messages if str(m["Subject"]).startswith("[审查日历] 任务失败")]
    say(f"    运维告警：{len(alerts)} 封" + (f"（{alerts[0]['Subject']}）" if alerts else ""))
    for kind in (
        "notice",
        "reminder",
        "receipt",
        "rejection",
        "decision",
        "gap_report",
        "bulletin",
        "inbox_alert",
    ):
        if kind in examples:
            say(f"      例（{kind}）：{examples[kind].subject}")
    for kind, title in (("receipt", "受理回执"), ("rejection", "退回通知"), ("reminder", "催报提醒")):
        if kind in examples:
            say(f"    {title}正文（节选，{examples[kind].region_code}）：")
            for line in [x for x in examples[kind].body.splitlines() if x.strip()][:12]:
                say(f"      | {line}")


def say_mailbox(settings: Settings, messages: list[Any]) -> None:
    """The counties that answered by e-mail and the receipts that went back in their threads."""
    from sqlalchemy import func, select

    from review_calendar.store.db import session_scope
    from review_calendar.store.tables.mail import MailMessage

    with session_scope(settings.db_url) as s:
        taken = s.scalar(select(func.count()).select_from(MailMessage)) or 0
    if not taken:
        return
    threaded = [m for m in messages if m["In-Reply-To"] and "已受理" in str(m["Subject"])]
    say(f"    邮件报送：报送邮箱收到 {taken} 封县级报送邮件，受理回执 {len(threaded)} 封在原邮件会话中回复")
    for m in threaded[:3]:
        say(f"      回执：{m['Subject']}（回复 {m['In-Reply-To']}）")


def say_where(settings: Settings, year: int) -> None:
    """Where the demo's database, reports, files, e-mails and logs are."""
    say("\n==> 去哪里看")
    say(f"  审查库（SQLite）：     {settings.db_url}")
    say(f"  报表（Excel/HTML）：   {settings.reports_dir}")
    say(f"  退回文件及错误说明：   {settings.quarantine_dir}")
    say(f"  已接收文件：           {settings.accepted_dir}")
    say(f"  送达的邮件（.eml）：   {settings.home / 'mail'}")
    say(f"  DAG 任务日志：         {settings.home / 'logs' / 'dag-runs.log'}")
    say("  Airflow 界面：         scripts/airflow-ui.sh，然后打开 http://localhost:8080（见 README）")
    say(f"\n==> 在真实调度器上运行 {year} 年度：scripts/airflow-ui.sh（换端口：AIRFLOW__API__PORT=8095）")
    say("  以 operator 登录，先解除暂停 review_cycle__hebei_smart_cluster__performance_evaluation，")
    say("  再解除暂停 review_cycle__hebei_smart_cluster__full_year_report：调度器立即运行")
    say("  最近一个已截止的全年报告，全省汇总发布数据资产后绩效评价自动运行；指定年度时触发并填写")
    say(f'  参数 {{"year": {year}}}（不填逻辑日期）。详见 docs/real-scheduler.md')


if __name__ == "__main__":
    sys.exit(main())
