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
import datetime as dt
import json
import logging
import os
import shutil
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
log = logging.getLogger("demo")
PROGRAMMES = ("hebei_smart_cluster", "miit_sme_cluster", "langfang_digital")


def say(text: str = "") -> None:
    print(text, flush=True)


class MailCatcher:
    """A real SMTP server on 127.0.0.1 that writes each message it receives to ``folder``."""

    def __init__(self, folder: Path) -> None:
        from aiosmtpd.controller import Controller

        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        catcher = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201, N802
                n = len(list(catcher.folder.glob("*.eml"))) + 1
                (catcher.folder / f"{n:05d}.eml").write_bytes(envelope.original_content or envelope.content)
                return "250 OK"

        import socket

        with socket.socket() as probe:  # aiosmtpd needs a concrete port to check it is up
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> MailCatcher:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()

    def messages(self) -> list:
        import email
        from email import policy

        return [
            email.message_from_bytes(p.read_bytes(), policy=policy.default)
            for p in sorted(self.folder.glob("*.eml"))
        ]


class Runner:
    """Runs DAGs with dag.test() and keeps a log of the runs."""

    def __init__(self, dagbag, log_file: Path) -> None:  # noqa: ANN001
        self.dagbag = dagbag
        self.log_file = log_file
        self.runs: list[tuple[str, str, str]] = []

    def __call__(self, dag_id: str, label: str, **conf) -> str:  # noqa: ANN003
        started = time.monotonic()
        # Task logs go to a file (the console keeps one line per run): file descriptors,
        # because Airflow's log handlers hold on to the original streams.
        sys.stdout.flush()
        sys.stderr.flush()
        saved = os.dup(1), os.dup(2)
        with self.log_file.open("a", encoding="utf-8") as out:
            os.dup2(out.fileno(), 1)
            os.dup2(out.fileno(), 2)
            try:
                run = self.dagbag.dags[dag_id].test(run_conf=conf)
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os.dup2(saved[0], 1)
                os.dup2(saved[1], 2)
                os.close(saved[0])
                os.close(saved[1])
        state = str(getattr(run, "state", "unknown")).removeprefix("DagRunState.").lower()
        mark = "✓" if state == "success" else "✗"
        say(f"    {mark} {dag_id:<58} {label:<22} {state:<8} {time.monotonic() - started:5.1f} s")
        self.runs.append((dag_id, label, state))
        return state


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

    from review_calendar.config import get_settings

    settings = get_settings()
    if not args.keep and settings.home.exists() and settings.db_url.startswith("sqlite:///"):
        shutil.rmtree(settings.home)  # the demo's own working folder (var/), rebuilt below
    from review_calendar.cli import main as cli
    from review_calendar.seed import demo_data

    year = args.year or int(demo_data()["default_year"])
    say(f"==> 审查库 {settings.db_url}")
    cli(["db", "upgrade"])
    cli(["seed", "demo"])
    cli(["programmes", "check"])
    say(f"\n==> {year} 年度审查日历（节选）")
    cli(["deadlines", "--programme", "hebei_smart_cluster", "--year", str(year)])

    with MailCatcher(settings.home / "mail") as mail:
        os.environ["AIRFLOW_CONN_SMTP_DEFAULT"] = json.dumps({
            "conn_type": "smtp", "host": "127.0.0.1", "port": mail.port,
            "extra": {"disable_ssl": True, "disable_tls": True, "from_email": "review-calendar@gxt.hebei.example.cn",
                      "timeout": 10, "retry_limit": 1},
        })  # fmt: skip
        code = run_year(settings, year, mail)
    return code


def run_year(settings, year: int, mail: MailCatcher) -> int:  # noqa: ANN001, C901
    from airflow.dag_processing.dagbag import DagBag

    from review_calendar.calendar import default_calendar
    from review_calendar.pipeline import load_programme
    from review_calendar.programmes import instances_for_year
    from review_calendar.scenario import mismatch_plan_totals, place_submissions
    from review_calendar.synthetic import set_received

    say("\n==> 加载 DAG")
    dagbag = DagBag(dag_folder=str(ROOT / "dags"))
    if dagbag.import_errors:
        for path, error in dagbag.import_errors.items():
            say(f"IMPORT ERROR {path}: {error}")
        return 1
    say(f"    {len(dagbag.dags)} DAGs: " + ", ".join(sorted(dagbag.dags)))
    dag_log = settings.home / "logs" / "dag-runs.log"
    dag_log.parent.mkdir(parents=True, exist_ok=True)
    say(f"    任务日志：{dag_log}")
    run = Runner(dagbag, dag_log)
    for pid in PROGRAMMES:
        run(f"programme_calendar__{pid}", "年度日历", year=year)

    calendar = default_calendar()
    timeline = sorted(
        ((i, load_programme(pid)) for pid in PROGRAMMES for i in instances_for_year(load_programme(pid), year)
         if load_programme(pid).obligation(i.obligation_id).dataset),
        key=lambda ip: (ip[0].effective_due, ip[0].programme_id),
    )  # fmt: skip
    failed_unexpectedly = 0
    for instance, programme in timeline:
        obligation = programme.obligation(instance.obligation_id)
        due = instance.effective_due
        say(f"\n==> {instance.effective_due}  {programme.short_name}：{obligation.title}"
            f"（法定 {instance.statutory_due}{'，顺延' if due != instance.statutory_due else ''}）")  # fmt: skip
        placed = place_submissions(settings.db_url, settings, programme, instance)
        roles = Counter(p.role for p in placed)
        say(f"    收件箱：{len(placed)} 个文件（按时 {roles['on_time']}、逾期 {roles['late']}、"
            f"有误 {roles['broken']}、更正 {roles['corrected']}）")  # fmt: skip
        mismatched = None
        if obligation.dataset == "development_plan":
            mismatched = mismatch_plan_totals(placed, settings, programme, instance)
        for label, day in (("提前一周提醒", due - dt.timedelta(days=7)), ("截止日提醒", due),
                           ("逾期提醒", calendar.add_working_days(due, 3))):  # fmt: skip
            if day >= instance.opens_on:
                run("reminders", f"{label} {day}", as_of=day.isoformat())
        as_of = calendar.add_working_days(due, 5).isoformat()
        dag_id = f"review_cycle__{programme.id}__{instance.obligation_id}"
        state = run(
            dag_id, f"截止后汇总 {as_of}", year=instance.cycle_year, period=instance.period, as_of=as_of
        )
        if state != "success" and mismatched is not None:
            say("    省级闸门拦截：规划总投资与项目投资合计不一致；县里更正后重新报送，运维人员重跑本期：")
            from review_calendar.synthetic import records_for, write_xlsx

            fixed = mismatched.path.with_name(mismatched.path.stem + "（总投资更正）.xlsx")
            from review_calendar.cycle import expected_submitters
            from review_calendar.storage.db import session_scope

            with session_scope(settings.db_url) as session:
                submitter = next(s for s in expected_submitters(session, programme, instance)
                                 if s.region_code == mismatched.region_code)  # fmt: skip
            write_xlsx(fixed, records_for(programme, instance, submitter), obligation.title)
            fixed_on = calendar.add_working_days(due, 6)
            set_received(fixed, fixed_on)
            state = run(
                dag_id,
                "更正后重跑",
                year=instance.cycle_year,
                period=instance.period,
                as_of=fixed_on.isoformat(),
            )
        failed_unexpectedly += state != "success"

    summarise(settings, year, mail, run)
    return 1 if failed_unexpectedly else 0


def summarise(settings, year: int, mail: MailCatcher, run: Runner) -> None:  # noqa: ANN001
    from sqlalchemy import func, select

    from review_calendar.storage.db import session_scope
    from review_calendar.storage.models import Decision, GateRun, OutboxMessage, Submission

    say("\n==> 结果")
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
        for kind in ("evaluation", "re_review", "subsidy", "clawback"):
            rows = s.scalars(select(Decision).where(Decision.kind == kind)).all()
            if rows:
                say(f"    决定（{kind}）：" + "，".join(f"{r.subject} {r.outcome}" for r in rows))
        sent = s.scalar(select(func.count()).select_from(OutboxMessage).where(OutboxMessage.status == "sent"))
        kinds = Counter(k for (k,) in s.execute(select(OutboxMessage.kind)))
    messages = mail.messages()
    say(
        f"    邮件：发件箱 {sum(kinds.values())} 封（{dict(kinds)}），SMTP 服务器收到 {len(messages)} 封，已发送 {sent} 封"
    )
    for m in messages[:3]:
        say(f"      例：{m['Subject']}")
    failed = [r for r in run.runs if r[2] != "success"]
    say(f"    DAG 运行：{len(run.runs)} 次，{len(failed)} 次失败" + (f"（{failed}）" if failed else ""))
    say("\n==> 去哪里看")
    say(f"  审查库（SQLite）：     {settings.db_url}")
    say(f"  报表（Excel/HTML）：   {settings.reports_dir}")
    say(f"  退回文件及错误说明：   {settings.quarantine_dir}")
    say(f"  已接收文件：           {settings.accepted_dir}")
    say(f"  送达的邮件（.eml）：   {settings.home / 'mail'}")
    say(f"  DAG 任务日志：         {settings.home / 'logs' / 'dag-runs.log'}")
    say("  Airflow 界面：         scripts/airflow-ui.sh，然后打开 http://localhost:8080（见 README）")


if __name__ == "__main__":
    sys.exit(main())
