"""Entry points the DAG tasks call: one function per task, settings resolved here.

A file's way in (read, row checks, store, acceptance decision, rejection notice)
is orchestrated in :mod:`review_calendar.tasks.intake`.

Each function takes plain arguments (programme id, year, dates, run id),
returns a small JSON-serialisable summary for XCom (ids, counts, paths: never
rows), and does all I/O through the review database and the working folder.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import TYPE_CHECKING, Any

from review_calendar.domain.programmes import load_programme
from review_calendar.settings import get_settings

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Mapping, Sequence

log = logging.getLogger(__name__)


def record_calendar(programme_id: str, year: int) -> dict[str, Any]:
    """Record the obligation instances of a cycle; warn about years without holiday data.

    Returns:
        ``{"programme", "year", "instances": [{"obligation", "period", "statutory_due", "effective_due"}], "warnings"}``
    """
    from review_calendar.domain.calendar import default_calendar
    from review_calendar.domain.schedule import years_touched
    from review_calendar.store.db import upgrade
    from review_calendar.store.queries import record_instances

    settings = get_settings()
    upgrade(settings.db_url)
    programme = load_programme(programme_id)
    instances = record_instances(settings.db_url, programme, year)
    warnings = default_calendar().warnings(years_touched(instances))
    for w in warnings:
        log.warning(w)
    return {
        "programme": programme_id,
        "year": year,
        "instances": [
            {
                "obligation": i.obligation_id,
                "period": i.period,
                "statutory_due": i.statutory_due.isoformat(),
                "effective_due": i.effective_due.isoformat(),
            }
            for i in instances
        ],
        "warnings": warnings,
    }


def parse_key(key: str) -> tuple[str, int, str, str]:
    """Split an instance key ``programme/year/obligation/period``.

    Raises:
        ValueError: The key is not in that form.
    """
    parts = key.split("/")
    if len(parts) != 4 or not parts[1].isdecimal():
        raise ValueError(f"not an instance key: {key!r}")
    return parts[0], int(parts[1]), parts[2], parts[3]


def instance_of(key: str) -> tuple[Any, Any]:
    """The programme and obligation instance named by ``key``."""
    from review_calendar.domain.programmes import find_instance
    from review_calendar.tasks.deadlines import install_announced

    programme_id, year, obligation_id, period = parse_key(key)
    programme = load_programme(programme_id)
    install_announced(get_settings().db_url, programme_id)  # announced deadlines are never shortened
    return programme, find_instance(programme, year, obligation_id, period)


def open_instance(
    programme_id: str,
    obligation_id: str,
    *,
    params: Mapping[str, Any],
    asset_extras: Sequence[Mapping[str, Any]],
    interval_end: dt.datetime | None,
    run_after: dt.datetime,
    run_id: str,
) -> dict[str, Any]:
    """Resolve and record the instance a cycle run works on.

    Args:
        programme_id: Programme.
        obligation_id: Obligation of the DAG.
        params: The run's params (``year``, ``period``, ``as_of``).
        asset_extras: ``extra`` of each triggering Asset event, oldest first (empty if none).
        interval_end: The run's data interval end (None: the run has no data interval).
        run_after: The run's own time.
        run_id: The Airflow run id (for the log only).

    Returns:
        ``key``, ``cycle_year``, ``period``, ``closes_at`` (ISO datetime), ``as_of``,
        ``cities`` (city codes with expected submitters, for the per-city fan-out),
        ``expected`` (number of expected submitters), ``source`` (params, asset or interval).

    Raises:
        review_calendar.domain.runs.CycleUnknown: The run cannot tell which cycle it
            serves (see :func:`review_calendar.domain.runs.resolve_cycle`).
    """
    from review_calendar.domain.runs import resolve_cycle, run_day
    from review_calendar.domain.schedule import closes_at
    from review_calendar.store.db import session_scope, upgrade
    from review_calendar.store.queries import expected_submitters, record_instances
    from review_calendar.tasks.deadlines import refresh_deadlines

    settings = get_settings()
    programme = load_programme(programme_id)
    upgrade(settings.db_url)
    # Deadlines recorded before the year's holidays were published move now (never earlier).
    refresh_deadlines(settings.db_url, programme, run_day(run_after))
    cycle = resolve_cycle(
        programme, obligation_id, params=params, asset_extras=asset_extras, interval_end=interval_end,
        run_after=run_after,
    )  # fmt: skip
    instance = cycle.instance
    record_instances(settings.db_url, programme, instance.cycle_year)
    with session_scope(settings.db_url) as session:
        submitters = expected_submitters(session, programme, instance)
    cities = sorted({s.city_code for s in submitters})
    log.info(
        "Run %s handles %s (from %s): due %s (statutory %s), as of %s, %d expected submitters in %d cities",
        run_id, instance.key, cycle.source, instance.effective_due, instance.statutory_due, cycle.as_of,
        len(submitters), len(cities),
    )  # fmt: skip
    return {
        "key": instance.key,
        "cycle_year": instance.cycle_year,
        "period": instance.period,
        "closes_at": closes_at(instance).isoformat(),
        "as_of": cycle.as_of.isoformat(),
        "cities": cities or [programme.region_code],
        "expected": len(submitters),
        "source": cycle.source,
    }


def ingest_inbox(key: str, as_of: str, *, run_id: str = "") -> dict[str, Any]:
    """Sweep the instance's inbox: take in every stable file, received when a sweep first saw it (or earlier).

    ``as_of`` is a day (the sweep stands for now, or for the end of a past day) or
    a moment (``2025-03-20T10:00:00+08:00``: the sweep's logical time, as the
    demo's simulated year sets it). A file first seen by a later sweep stays
    pending for a back-fill. Each accepted or rejected file is also recorded as
    an ``acceptance`` decision for the audit trail; each accepted one gets a
    receipt (回执) with its 受理编号, each rejected one a rejection notice.

    Returns:
        Counts, the accepted files (name, region, late) and the rejected files with
        their error codes (no contact data), and the sweep's summary.

    Raises:
        DatabaseFault: The review database cannot be read or written (one line naming it).
    """
    import datetime as dt

    from sqlalchemy.exc import OperationalError

    from review_calendar.store.faults import database_fault
    from review_calendar.tasks.intake import sweep_instance

    settings = get_settings()
    from review_calendar.domain.calendar import TZ

    moment = dt.datetime.fromisoformat(as_of).astimezone(TZ) if "T" in as_of else None
    day = moment.date() if moment else dt.date.fromisoformat(as_of)
    try:
        programme, instance = instance_of(key)
        report, swept = sweep_instance(
            settings, programme, instance, as_of=day, run_id=run_id, seen_at=moment
        )
    except OperationalError as exc:
        # One line naming the database (no SQL, no parameters) for the operators' failure alert.
        raise database_fault(exc, settings.db_url) from exc
    counts = report.counts()
    log.info("Inbox %s as of %s: %s, %d not taken in", key, as_of, counts, len(swept["unplaced"]))
    return {
        "key": key,
        **counts,
        "accepted_files": [
            {"file": o.file, "region_code": o.region_code, "late": bool(o.is_late)} for o in report.accepted
        ],
        "rejected_files": [
            {"file": o.file, "codes": sorted({e["code"] for e in o.errors})} for o in report.rejected
        ],
        "duplicate_files": [o.file for o in report.duplicates],
        # Files gone before they were read, or not stored (full disk): one line each, for the operators.
        "problems": [e["message"] for o in [*report.vanished, *report.failed] for e in o.errors],
        **swept,
    }


def decide(key: str, as_of: str, run_id: str, *, dry_run: bool = False) -> dict[str, Any]:
    """Apply the decision rules of the instance's obligation, if it decides anything.

    Returns:
        A small summary: kind and counts of outcomes.
    """
    from review_calendar.decide import apply as outcomes
    from review_calendar.store.db import session_scope

    settings = get_settings()
    programme, instance = instance_of(key)
    obligation = programme.obligation(instance.obligation_id)
    with session_scope(settings.db_url) as session:
        if obligation.kind == "evaluation":
            return outcomes.decide_evaluations(session, programme, instance, run_id, dry_run)
        if obligation.kind == "re_review":
            return outcomes.decide_re_reviews(session, programme, instance, run_id, dry_run)
        if obligation.kind == "application":
            from review_calendar.decide.recognition import propose_recognitions

            return propose_recognitions(session, programme, instance, run_id, dry_run)
        if obligation.dataset == "subsidy_claims":
            from review_calendar.decide.subsidies import decide_subsidies

            return decide_subsidies(session, programme, instance, run_id, dry_run)
        if obligation.dataset == "henan_quarterly":
            from review_calendar.tasks.bulletin import publish_bulletin

            return publish_bulletin(session, programme, instance, as_of, dry_run=dry_run)
        if programme.re_review and programme.re_review.annual_table == obligation.id:
            from review_calendar.decide.proposals import propose_article17

            return propose_article17(session, programme, instance, run_id, dry_run)
    return {"kind": "none", "note": f"{obligation.title}：本事项无需作出决定"}


def open_instances(as_of: str, programme_id: str | None = None, *, ad_hoc: bool = False) -> list[str]:
    """Keys of instances whose submission window is open or recently closed on ``as_of``.

    Open means ``opens_on <= as_of`` and no more than the reminder schedule's
    ``stop_after_days`` after the effective due date (late files are still taken in).
    With ``ad_hoc`` (the inbox sweep) also the ad-hoc reports of ``as_of``'s year.
    """
    import datetime as dt

    from review_calendar.domain.programmes import instances_for_year, load_programmes

    day = dt.date.fromisoformat(as_of)
    keys = []
    for pid, programme in load_programmes(get_settings().programmes_dir).items():
        if programme_id not in (None, pid):
            continue
        for year in (day.year - 1, day.year):
            for i in instances_for_year(programme, year):
                obligation = programme.obligation(i.obligation_id)
                stop = programme.reminders_for(obligation).stop_after_days
                if obligation.dataset and i.opens_on <= day <= i.effective_due + dt.timedelta(days=stop):
                    keys.append(i.key)
        if ad_hoc:  # reports without a due date are taken in whenever they arrive, under that year
            keys += [f"{pid}/{day.year}/{o.id}/Y" for o in programme.ad_hoc_obligations if o.dataset]
    return keys


def sweep_inboxes(as_of: str, programme_id: str | None = None, run_id: str = "") -> dict[str, Any]:
    """Take in the files of every open instance (files arrive any day, not only at the deadline)."""
    totals = {"instances": 0, "accepted": 0, "rejected": 0, "duplicates": 0, "unplaced": 0}
    for key in open_instances(as_of, programme_id, ad_hoc=True):
        result = ingest_inbox(key, as_of, run_id=run_id)
        totals["instances"] += 1
        for k in ("accepted", "rejected", "duplicates"):
            totals[k] += result[k]
        totals["unplaced"] += len(result["unplaced"])
    return totals


def plan_reminders(programme_id: str, as_of: str, *, dry_run: bool = False) -> dict[str, Any]:
    """Queue the day's reminders of a programme (every open cycle) in the outbox.

    Returns:
        Counts per kind and stage; with ``dry_run`` the lines that would be sent
        (addresses masked) and nothing queued.
    """
    import datetime as dt

    from review_calendar.intake.templates import template_for
    from review_calendar.notify.reminders import plan_reminders as plan
    from review_calendar.store.db import upgrade
    from review_calendar.tasks.deadlines import install_announced, refresh_deadlines

    settings = get_settings()
    programme = load_programme(programme_id)
    day = dt.date.fromisoformat(as_of)
    upgrade(settings.db_url)
    # Deadlines recorded before the year's holidays were published move now (never earlier).
    if dry_run:
        install_announced(settings.db_url, programme_id)
    else:
        refresh_deadlines(settings.db_url, programme, day)
    attachment = partial(template_for, programme, folder=settings.home / "templates")
    totals: dict[str, Any] = {"programme": programme_id, "as_of": as_of, "queued": 0, "lines": []}
    for year in sorted({int(k.split("/")[1]) for k in open_instances(as_of, programme_id)}):
        result = plan(settings.db_url, programme, year, day, dry_run=dry_run, template_for=attachment)
        totals["queued"] += result.queued
        totals["lines"] += list(result.lines)[:50] if dry_run else []
    return totals


def aggregate_city(key: str, as_of: str, city_code: str) -> dict[str, Any]:
    """Submission states and key figures of one city's regions (a mapped task per city)."""
    import datetime as dt

    from review_calendar.aggregate import write as aggregation
    from review_calendar.store.db import session_scope

    programme, instance = instance_of(key)
    with session_scope(get_settings().db_url) as session:
        return aggregation.aggregate_city(
            session, programme, instance, dt.date.fromisoformat(as_of), city_code
        )


def aggregate_province(key: str, as_of: str, run_id: str) -> dict[str, Any]:
    """Aggregate the province, write the Excel and HTML reports, record the instance as aggregated.

    Returns:
        The aggregate's small summary plus ``cycle_year``, ``period`` and the report paths.
    """
    import datetime as dt

    from sqlalchemy import select

    from review_calendar.aggregate import write as aggregation
    from review_calendar.report.publish import write_reports
    from review_calendar.store.db import session_scope
    from review_calendar.store.queries import instance_filter
    from review_calendar.store.tables.intake import ObligationInstanceRow
    from review_calendar.store.tables.review import GateRun

    settings = get_settings()
    programme, instance = instance_of(key)
    day = dt.date.fromisoformat(as_of)
    with session_scope(settings.db_url) as session:
        result = aggregation.aggregate_province(session, programme, instance, day)
        gate = session.scalar(
            select(GateRun.html_path)
            .where(*instance_filter(GateRun, instance), GateRun.run_id == run_id)
            .order_by(GateRun.id.desc())
        )
        row = session.scalar(
            select(ObligationInstanceRow).where(*instance_filter(ObligationInstanceRow, instance))
        )
        if row is not None:
            row.state = "aggregated"
    paths = write_reports(settings.reports_dir, programme, instance, result, result.states, gate)
    summary = result.summary()
    log.info("Aggregated %s as of %s: reports %s", key, as_of, sorted(paths.values()))
    return {**summary, "cycle_year": instance.cycle_year, "period": instance.period, "reports": paths}


def run_gate(key: str, as_of: str, run_id: str) -> dict[str, Any]:
    """The provincial data-quality gate of an instance; record its verdict, stop on critical findings.

    Returns:
        The gate's small summary (counts, HTML page path).

    Raises:
        review_calendar.gate.errors.GateFailed: A critical finding; the message
            names dataset, region, row and field in Chinese. The gate run and its
            page are stored first, so reviewers can open them.
    """
    from sqlalchemy import select

    from review_calendar.domain.verdicts import Verdict
    from review_calendar.gate.provincial import run_gate as gate
    from review_calendar.report.gate_page import write_gate_page
    from review_calendar.store.db import session_scope
    from review_calendar.store.decision_log import record_decision
    from review_calendar.store.tables.registry import Region

    settings = get_settings()
    programme, instance = instance_of(key)
    obligation = programme.obligation(instance.obligation_id)
    with session_scope(settings.db_url) as session:
        known = set(session.scalars(select(Region.code)))
        result = gate(
            session, programme, instance, run_id=run_id, expectations_dir=settings.expectations_dir,
            reports_dir=settings.reports_dir, known_region_codes=known,
        )  # fmt: skip
        write_gate_page(programme, instance, run_id, result)
        verdict = Verdict(
            subject=f"{instance.obligation_id}/{instance.period}",
            outcome="passed" if result.success else "failed",
            reason=f"严重问题 {len(result.critical)} 项，提示 {len(result.warnings)} 项",
            rule=f"expectations/{obligation.dataset}__provincial.json + structural checks (gate.provincial.run_gate)",
            clause=obligation.clause,
            figures={
                "critical": len(result.critical),
                "warnings": len(result.warnings),
                "html": result.html_path,
            },
        )
        record_decision(session, instance.programme_id, instance.cycle_year, "gate", verdict, run_id)
    log.info("Gate %s: %s (%d critical, %d warnings) %s", key, verdict.outcome, len(result.critical),
             len(result.warnings), result.html_path)  # fmt: skip
    result.raise_if_failed()
    return {"key": key, "success": result.success, "critical": len(result.critical),
            "warnings": len(result.warnings), "html": result.html_path}  # fmt: skip


def queue_instance_notices(key: str, as_of: str, *, dry_run: bool = False) -> dict[str, Any]:
    """Queue the decision notices of an instance (evaluation, re-review outcomes) to each cluster's region.

    Rejection notices are queued at intake, reminders by the daily reminders DAG;
    the outbox's natural keys make every call idempotent. A dry run queues nothing:
    its decisions were computed for a look, not to be announced.
    """
    import datetime as dt

    from sqlalchemy import select

    from review_calendar.domain.verdicts import announceable
    from review_calendar.notify.notices import queue_decision
    from review_calendar.notify.render import DecisionNotice
    from review_calendar.store.db import session_scope
    from review_calendar.store.tables.decisions import Decision

    settings = get_settings()
    programme, instance = instance_of(key)
    obligation = programme.obligation(instance.obligation_id)
    kind = {"evaluation": "evaluation", "re_review": "re_review"}.get(obligation.kind)
    queued = 0
    if kind and not dry_run:
        with session_scope(settings.db_url) as session:
            rows = session.scalars(
                select(Decision).where(Decision.programme_id == programme.id, Decision.cycle_year == instance.cycle_year,
                                       Decision.kind == kind)
            ).all()  # fmt: skip
            for d in rows:
                # A proposal or a recommendation waits for a reviewer (and MIIT): it is never mailed;
                # an answered one was queued when the reviewer answered (tasks.reviews), not again here.
                if d.outcome == "missing" or not d.figures.get("region_code") or not announceable(d.figures):
                    continue
                if d.figures.get("decided_by"):
                    continue
                notice = DecisionNotice(kind=kind, cycle_year=d.cycle_year, subject=d.subject,
                                        subject_name=d.figures.get("cluster", d.subject), outcome=d.outcome,
                                        reason=d.figures.get("reason", ""), clause=d.clause)  # fmt: skip
                queued += queue_decision(session, programme, notice, instance_key=key,
                                         region_code=d.figures["region_code"], created_on=dt.date.fromisoformat(as_of))  # fmt: skip
    return {"key": key, "decision_notices": queued}
