"""Obligation instances of a cycle and who must submit them.

The expected submitters of an instance drive intake completeness, the
provincial aggregation (who is missing) and the reminders (whom to remind).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select

from review_calendar.domain.programmes import ObligationInstance, Programme, instances_for_year
from review_calendar.store.db import session_scope, upsert
from review_calendar.store.tables.intake import DatasetRow, ObligationInstanceRow, Submission
from review_calendar.store.tables.registry import Cluster, Enrolment, Region

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

ACTIVE_STATUSES = ("active", "extended")
_INSTANCE_KEY = ("programme_id", "cycle_year", "obligation_id", "period")


@dataclass(frozen=True, slots=True)
class Submitter:
    """A region that owes a submission for an instance (and the cluster it is for, if any)."""

    region_code: str
    region_name: str
    city_code: str
    cluster_id: str | None = None
    cluster_name: str | None = None


def record_instances(url: str, programme: Programme, cycle_year: int) -> list[ObligationInstance]:
    """Compute a cycle's instances and upsert them into ``obligation_instances``.

    A recorded (announced) effective due date is kept when the calendar now gives an
    earlier one (see ``review_calendar.tasks.deadlines``).

    Returns:
        The instances, sorted by effective due date.
    """
    instances = instances_for_year(programme, cycle_year)
    with session_scope(url) as session:
        stored = {
            (r.obligation_id, r.period): r
            for r in session.scalars(
                select(ObligationInstanceRow).where(
                    ObligationInstanceRow.programme_id == programme.id,
                    ObligationInstanceRow.cycle_year == cycle_year,
                )
            )
        }
    # An announced deadline is never shortened by a holiday table published later.
    announced = {key: r.effective_due for key, r in stored.items()}
    rows = [
        {
            "programme_id": i.programme_id,
            "cycle_year": i.cycle_year,
            "obligation_id": i.obligation_id,
            "period": i.period,
            "title": i.title,
            "statutory_due": i.statutory_due,
            "effective_due": max(
                i.effective_due, announced.get((i.obligation_id, i.period), i.effective_due)
            ),
            "opens_on": i.opens_on,
        }
        for i in instances
    ]
    # Rows stored as they are need no write (every command starts here: no transaction when nothing changed).
    rows = [r for r in rows if not _stored_as(stored.get((r["obligation_id"], r["period"])), r)]
    if rows:
        with session_scope(url) as session:
            upsert(session, ObligationInstanceRow, rows, list(_INSTANCE_KEY))
    return instances


def _stored_as(row: ObligationInstanceRow | None, values: dict[str, object]) -> bool:
    """Whether ``row`` already holds every one of ``values``."""
    return row is not None and all(getattr(row, k) == v for k, v in values.items())


def _city_code(region: Region) -> str:
    return region.code if region.level == "city" else (region.parent_code or region.code)


def expected_submitters(
    session: Session, programme: Programme, instance: ObligationInstance
) -> list[Submitter]:
    """Regions that owe a submission for ``instance``, sorted by region code.

    - ``cities``: every city (incl. directly administered ones) of the programme's province;
    - ``enrolled_counties``: the region of every cluster enrolled and active during the cycle;
    - ``enrolments_expiring``: clusters whose validity ends in the cycle year (re-review);
    - ``evaluator``: the province itself (the evaluator reports to it);
    - ``applicants``: nobody (an open call: applications are taken in, never reminded);
    - ``plan_due``: enrolled clusters that owe a development plan (:func:`plan_due`): in
      their first cycle year and again once the period of their last accepted plan has
      ended, not every pilot every year.

    A meeting (``kind: meeting``) is an event the province holds: nobody owes a submission for it.
    """
    obligation = programme.obligation(instance.obligation_id)
    if obligation.kind == "meeting":
        return []
    province = programme.region_prefix
    regions = {r.code: r for r in session.scalars(select(Region).where(Region.code.like(f"{province}%")))}
    if obligation.applies_to == "cities":
        cities = [r for r in regions.values() if r.level == "city"]
        if programme.scope == "city":
            cities = [r for r in cities if r.code == programme.region_code]
        return [Submitter(r.code, r.name, r.code) for r in sorted(cities, key=lambda r: r.code)]
    if obligation.applies_to == "applicants":
        return []  # an open call: any county of the province may apply, nobody owes it
    if obligation.applies_to == "evaluator":
        own = regions.get(programme.region_code)
        name = own.name if own else programme.authority
        return [Submitter(programme.region_code, name, programme.region_code)]
    year_start, year_end = dt.date(instance.cycle_year, 1, 1), dt.date(instance.cycle_year, 12, 31)
    stmt = (
        select(Enrolment, Cluster)
        .join(Cluster, Cluster.id == Enrolment.cluster_id)
        .where(Enrolment.programme_id == programme.id, Enrolment.recognised_on <= year_end)
    )
    out: dict[str, Submitter] = {}
    first_years: dict[str, int] = {}
    for enrolment, cluster in session.execute(stmt):
        first_years[cluster.id] = enrolment.recognised_on.year
        if obligation.applies_to == "enrolments_expiring":
            if enrolment.valid_until.year != instance.cycle_year or enrolment.status == "revoked":
                continue
        elif enrolment.valid_until < year_start or (
            enrolment.status not in ACTIVE_STATUSES and enrolment.valid_until < year_end
        ):
            continue
        region = regions.get(cluster.region_code)
        if region is None:
            continue
        out[cluster.id] = Submitter(region.code, region.name, _city_code(region), cluster.id, cluster.name)
    if obligation.applies_to == "plan_due":
        ends = plan_period_ends(session, programme, instance)
        out = {
            k: s for k, s in out.items()
            if plan_due(first_years[k], _plan_end(ends, s), instance.cycle_year)
        }  # fmt: skip
    return sorted(out.values(), key=lambda s: (s.region_code, s.cluster_id or ""))


def plan_due(first_year: int, plan_end: int | None, cycle_year: int) -> bool:
    """Whether a pilot owes a development plan in ``cycle_year``.

    冀工信产业〔2016〕93号 二、七 ask each pilot for its plan in its first year (by Jun 30);
    a plan covers its period (规划起始—截止年份), so a new one is owed in the first
    year after that period. A pilot with no accepted plan on record owes one.

    Args:
        first_year: Year the pilot was recognised (its first cycle year).
        plan_end: Last year of the plan accepted in an earlier cycle (None: none on record).
        cycle_year: The cycle asked about.
    """
    if cycle_year == first_year:
        return True
    return plan_end is None or plan_end < cycle_year


def _plan_end(ends: dict[tuple[str, str], int], submitter: Submitter) -> int | None:
    by_cluster = ends.get((submitter.region_code, submitter.cluster_name or ""))
    return by_cluster if by_cluster is not None else ends.get((submitter.region_code, ""))


def plan_period_ends(
    session: Session, programme: Programme, instance: ObligationInstance
) -> dict[tuple[str, str], int]:
    """The last plan year of each region's (and cluster's) plan accepted in a cycle before ``instance``'s.

    Returns:
        ``{(region_code, cluster_name): period_end}`` and ``{(region_code, ""): period_end}``
        (the latest over the region's clusters).
    """
    stmt = (
        select(DatasetRow.region_code, DatasetRow.data)
        .join(Submission, Submission.id == DatasetRow.submission_id)
        .where(
            Submission.programme_id == programme.id,
            Submission.obligation_id == instance.obligation_id,
            Submission.cycle_year < instance.cycle_year,
            Submission.status == "accepted",
            Submission.awaiting == "",
            DatasetRow.dataset == programme.obligation(instance.obligation_id).dataset,
        )
    )
    ends: dict[tuple[str, str], int] = {}
    for region, data in session.execute(stmt):
        end = data.get("period_end")
        if region is None or not isinstance(end, int):
            continue
        for key in ((region, str(data.get("cluster_name") or "")), (region, "")):
            ends[key] = max(end, ends.get(key, end))
    return ends


def accepted_regions(session: Session, instance: ObligationInstance) -> dict[str, Submission]:
    """The accepted (latest, not superseded) submission of each region for ``instance``."""
    stmt = select(Submission).where(*instance_filter(Submission, instance), Submission.status == "accepted")
    return {s.region_code: s for s in session.scalars(stmt) if s.region_code}


def instance_filter(model: type, instance: ObligationInstance) -> tuple:
    """The WHERE clauses that select ``model``'s rows of one obligation instance.

    Args:
        model: A mapped class with ``programme_id``, ``cycle_year``, ``obligation_id`` and
            ``period`` columns (Submission, Aggregate, Decision rows...).
        instance: The obligation instance.

    Returns:
        A tuple to unpack into ``select(...).where(*instance_filter(Model, instance))``.
    """
    return (
        model.programme_id == instance.programme_id,
        model.cycle_year == instance.cycle_year,
        model.obligation_id == instance.obligation_id,
        model.period == instance.period,
    )
