"""Driving a whole review year through the real DAGs with ``dag.test()``.

Used by the main job (``scripts/demo.py``) and the end-to-end tests, so both
exercise exactly the same sequence: for every obligation instance in calendar
order, the counties' files arrive in the inbox on their dates and an inbox
sweep runs at each arrival (its logical time, 10:00 Beijing time of the day,
is the files' receipt time: file times are never read, :func:`~review_calendar.settings.simulated_year`), the reminders DAG
runs a week before, on the due day and when overdue, then the instance's
cycle DAG closes the window, gates, aggregates, decides and notifies. A
development plan whose totals do not reconcile is stopped by the provincial
gate; the county corrects it and the operator re-runs the cycle.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    from review_calendar.domain.calendar import WorkingCalendar
    from review_calendar.domain.programmes import ObligationInstance, Programme
    from review_calendar_demo.decisions import DecisionDesk
    from review_calendar_demo.scenario import Placed

DAGS = Path(__file__).resolve().parents[2] / "dags"


@dataclass
class RunLog:
    """Every DAG run of a year: (dag_id, label, state, seconds)."""

    runs: list[tuple[str, str, str, float]] = field(default_factory=list)

    def failed(self) -> list[tuple[str, str, str, float]]:
        """The runs that did not end in success."""
        return [r for r in self.runs if r[2] != "success"]


class DagRunner:
    """Runs DAGs of the project's folder with ``dag.test()``; task output goes to ``log_file``."""

    def __init__(self, log_file: Path, say: Callable[[str], None] = lambda _: None) -> None:
        from airflow.dag_processing.dagbag import DagBag

        self.dagbag = DagBag(dag_folder=str(DAGS))
        if self.dagbag.import_errors:
            raise RuntimeError(f"DAG import errors: {self.dagbag.import_errors}")
        self.log_file = log_file
        self.say = say
        self.log = RunLog()
        log_file.parent.mkdir(parents=True, exist_ok=True)

    def __call__(self, dag_id: str, label: str, **conf: Any) -> str:
        """Run one DAG with ``conf`` as its params; say one line about it.

        Returns:
            The run's state, e.g. ``"success"`` or ``"failed"``.
        """
        started = time.monotonic()
        # File descriptors, because Airflow's log handlers hold on to the original streams.
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
        seconds = time.monotonic() - started
        mark = "✓" if state == "success" else "✗"
        self.say(f"    {mark} {dag_id:<58} {label:<22} {state:<8} {seconds:5.1f} s")
        self.log.runs.append((dag_id, label, state, seconds))
        return state


def _timeline(programmes: dict[str, Programme], year: int) -> list[tuple[ObligationInstance, Programme]]:
    """Every instance of the year that asks for a file, in order of effective due date."""
    from review_calendar.domain.programmes import instances_for_year

    return sorted(
        (
            (i, p)
            for p in programmes.values()
            for i in instances_for_year(p, year)
            if p.obligation(i.obligation_id).dataset
        ),
        key=lambda ip: (ip[0].effective_due, ip[0].programme_id),
    )


#: The time of day the demo's files arrive and are swept (Beijing time).
ARRIVAL = dt.time(10, 0)


def _reminder_days(calendar: WorkingCalendar, instance: ObligationInstance) -> dict[dt.date, str]:
    """The reminders DAG's days: a week before, the due day, three working days after (once the window opened)."""
    due = instance.effective_due
    return {
        day: label
        for label, day in (
            ("提前一周提醒", due - dt.timedelta(days=7)),
            ("截止日提醒", due),
            ("逾期提醒", calendar.add_working_days(due, 3)),
        )
        if day >= instance.opens_on
    }


def _arrive(
    settings: Any,
    instance: ObligationInstance,
    placed: list[Placed],
    run: DagRunner | None = None,
    calendar: WorkingCalendar | None = None,
    mailed: list[Placed] | None = None,
) -> int:
    """The placed files reach the inbox on their days; a sweep at each day's arrival time takes them in.

    Every file of the instance's inbox is held back outside it and returned on its
    day (a document with the first sheet of its folder), then the inbox is swept
    with that moment as the sweep's logical time: file times are never read. With
    ``run``, the reminders DAG runs on its days in between, and a day a broken file
    arrives runs the ``inbox_sweep`` DAG, so its rejection notice goes out in the
    same run, as the 10-minute sweep would; other days sweep in process (not every
    10 minutes of a simulated year, only at the moments something arrives). The
    ``mailed`` files are e-mailed by their counties instead (:mod:`.by_mail`) and
    the ``mail_intake`` DAG takes them in and answers in the thread.

    Returns:
        The number of sweeps run.
    """
    import shutil

    from review_calendar.intake.inbox import inbox_dir

    folder = inbox_dir(settings, instance)
    day_of = {p.path: p.received_on for p in placed}
    roles: dict[dt.date, set[str]] = {}
    first_in = {}
    for p in sorted(placed, key=lambda p: p.received_on):
        first_in.setdefault(p.path.parent, p.received_on)
        roles.setdefault(p.received_on, set()).add(p.role)
    held = settings.home / "arriving" / instance.key.replace("/", "_")
    by_day: dict[dt.date, list[tuple[Path, Path]]] = {}
    for path in sorted(f for f in folder.rglob("*") if f.is_file()):
        day = day_of.get(path) or first_in.get(path.parent)
        if day is None:
            continue
        target = held / path.relative_to(folder)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(path, target)
        by_day.setdefault(day, []).append((target, path))
    from review_calendar.settings import simulated_year

    reminders = _reminder_days(calendar, instance) if run is not None and calendar is not None else {}
    mailed_paths = {p.path for p in mailed or ()} if run is not None else set()
    with simulated_year():
        _sweep_days(settings, instance, placed, by_day, reminders, roles, run, mailed_paths)
    shutil.rmtree(held, ignore_errors=True)
    return len(by_day)


def _sweep_days(
    settings: Any,
    instance: ObligationInstance,
    placed: list[Placed],
    by_day: dict[dt.date, list[tuple[Path, Path]]],
    reminders: dict[dt.date, str],
    roles: dict[dt.date, set[str]],
    run: DagRunner | None,
    by_mail: set[Path],
) -> None:
    """Each day, its files put back in the inbox and swept at their arrival (or e-mailed by
    their counties and taken in by the ``mail_intake`` DAG); the reminders on their days."""
    import shutil

    from review_calendar.domain.calendar import TZ
    from review_calendar.tasks import ingest_inbox

    for day in sorted(set(by_day) | set(reminders)):
        if day in by_day:
            for target, path in by_day[day]:
                path.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(target, path)
            moment = dt.datetime.combine(day, ARRIVAL, tzinfo=TZ)
            sent = [p for p in placed if p.path in by_mail and p.received_on == day]
            sent = [p for p in sent if _mail(settings, instance, p, moment)]
            if run is not None and roles.get(day, set()) & {"broken", "rejected"}:
                sweep_at(moment, instance.programme_id, run)
            else:
                ingest_inbox(instance.key, moment.isoformat(), run_id=f"demo-sweep-{moment:%Y%m%dT%H%M}")
            if sent and run is not None:
                run("mail_intake", f"邮件报送 {len(sent)} 封 {moment:%m-%d %H:%M}")
        if day in reminders:  # the reminders run sweeps first, then sends
            run("reminders", f"{reminders[day]} {day}", as_of=day.isoformat())


def _mail(settings: Any, instance: ObligationInstance, p: Placed, moment: dt.datetime) -> bool:
    from review_calendar.domain.programmes import load_programme
    from review_calendar_demo import by_mail

    return by_mail.send(settings, load_programme(instance.programme_id), instance, p, moment)


def sweep_at(moment: dt.datetime, programme_id: str, run: DagRunner | None = None) -> Any:
    """The inbox sweep at a logical moment of the simulated year (the files' receipt time).

    With ``run``, the ``inbox_sweep`` DAG (sweep, then send); without, its entry
    point :func:`review_calendar.tasks.inbox.sweep_now` in process (what it
    queues goes out with the next DAG run that sends).

    Returns:
        The DAG run's state, or the sweep's result.
    """
    from review_calendar.tasks.inbox import sweep_now

    if run is not None:
        return run(
            "inbox_sweep",
            f"收件箱巡检 {moment:%Y-%m-%d %H:%M}",
            as_of=moment.isoformat(),
            programme=programme_id,
        )
    return sweep_now(moment, programme_id, run_id=f"demo__inbox_sweep__{moment.isoformat()}")


def _correct_and_rerun(
    run: DagRunner,
    calendar: WorkingCalendar,
    programme: Programme,
    instance: ObligationInstance,
    mismatched: Placed,
) -> None:
    """The county re-submits its plan with reconciled totals; the operator re-runs the instance's cycle."""
    from review_calendar.domain.calendar import TZ
    from review_calendar.settings import get_settings
    from review_calendar.store.db import session_scope
    from review_calendar.store.queries import expected_submitters
    from review_calendar.tasks import ingest_inbox
    from review_calendar_demo.synthetic import records_for, write_xlsx

    obligation = programme.obligation(instance.obligation_id)
    with session_scope(get_settings().db_url) as session:
        submitter = next(
            s
            for s in expected_submitters(session, programme, instance)
            if s.region_code == mismatched.region_code
        )
    fixed = mismatched.path.with_name(mismatched.path.stem + "（总投资更正）.xlsx")
    write_xlsx(fixed, records_for(programme, instance, submitter), obligation.title)
    fixed_on = calendar.add_working_days(instance.effective_due, 6)
    moment = dt.datetime.combine(fixed_on, ARRIVAL, tzinfo=TZ)
    ingest_inbox(instance.key, moment.isoformat(), run_id=f"demo-sweep-{moment:%Y%m%dT%H%M}")
    run(
        f"review_cycle__{programme.id}__{instance.obligation_id}",
        "更正后重跑",
        year=instance.cycle_year,
        period=instance.period,
        as_of=fixed_on.isoformat(),
    )


def run_year(
    run: DagRunner,
    year: int,
    programme_ids: tuple[str, ...],
    say: Callable[[str], None] = lambda _: None,
    desk: DecisionDesk | None = None,
) -> RunLog:
    """Run a whole cycle year of the given programmes in calendar order.

    Returns:
        The runs; a gate stop that the scenario corrects shows as one failed run
        followed by a successful re-run.
    """
    from review_calendar.settings import simulated_year

    with simulated_year():
        return _run_year(run, year, programme_ids, say, desk)


def _run_year(
    run: DagRunner,
    year: int,
    programme_ids: tuple[str, ...],
    say: Callable[[str], None],
    desk: DecisionDesk | None,
) -> RunLog:
    from review_calendar.domain.calendar import default_calendar
    from review_calendar.domain.programmes import load_programme
    from review_calendar.settings import get_settings
    from review_calendar_demo.scenario import (
        file_earlier_tables,
        mismatch_plan_totals,
        place_submissions,
        recorded_facts,
    )

    settings = get_settings()
    calendar = default_calendar()
    for pid in programme_ids:
        run(f"programme_calendar__{pid}", "年度日历", year=year)
        earlier = file_earlier_tables(settings, load_programme(pid), year)
        if earlier:
            say(f"    {pid}：此前两年的年度信息表 {earlier} 份（三年指标所需）")
    for conf in recorded_facts(year):
        if conf["programme"] in programme_ids:
            run("record_fact", f"记录{conf['kind']} {conf.get('date', '')}", **conf)
    for instance, programme in _timeline({pid: load_programme(pid) for pid in programme_ids}, year):
        obligation = programme.obligation(instance.obligation_id)
        due = instance.effective_due
        moved = "，顺延" if due != instance.statutory_due else ""
        say(
            f"\n==> {due}  {programme.short_name}：{obligation.title}（法定 {instance.statutory_due}{moved}）"
        )
        placed = place_submissions(settings.db_url, settings, programme, instance)
        roles = Counter(p.role for p in placed)
        say(f"    收件箱：{len(placed)} 个文件（按时 {roles['on_time']}、逾期 {roles['late']}、"
            f"有误 {roles['broken']}、更正 {roles['corrected']}）")  # fmt: skip
        if roles["city"] or roles["xls"]:
            say(
                f"    其中市级汇总表按县拆分受理 {roles['city']} 个县，Excel 97-2003（.xls）文件 {roles['xls']} 个"
            )
        mismatched = None
        if obligation.dataset == "development_plan":
            mismatched = mismatch_plan_totals(placed, settings, programme, instance)
        from review_calendar_demo import by_mail

        mailed = by_mail.choose(settings, programme, instance, placed)
        sweeps = _arrive(settings, instance, placed, run, calendar, mailed)
        say(f"    收件箱按到达时间扫描 {sweeps} 次（扫描时间即收到时间）")
        if mailed:
            say(
                f"    其中 {len(mailed)} 个县以邮件报送（回复催报邮件），邮件报送接收后在原会话中回复受理回执"
            )
        as_of = calendar.add_working_days(due, 5)
        state = run(
            f"review_cycle__{programme.id}__{instance.obligation_id}",
            f"截止后汇总 {as_of}",
            year=instance.cycle_year,
            period=instance.period,
            as_of=as_of.isoformat(),
        )
        if state != "success" and mismatched is not None:
            say("    省级闸门拦截：规划总投资与项目投资合计不一致；县里更正后重新报送，运维人员重跑本期：")
            _correct_and_rerun(run, calendar, programme, instance, mismatched)
        if desk is not None and programme.review is not None:
            given = desk.decide(run, programme.id, instance.cycle_year)
            if given:
                say(
                    f"    审阅人 {desk.users[programme.id]} 通过 Airflow 待响应的任务实例答复 {given} 项拟定决定"
                )
    return run.log
