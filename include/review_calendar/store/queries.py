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
from review_calendar.store.models import Cluster, Enrolment, ObligationInstanceRow, Region, Submission

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

ACTIVE_STATUSES = ("active", "extended")


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
        # An announced deadline is never shortened by a holiday table published later.
        announced = {
            (r.obligation_id, r.period): r.effective_due
            for r in session.scalars(
                select(ObligationInstanceRow).where(
                    ObligationInstanceRow.programme_id == programme.id,
                    ObligationInstanceRow.cycle_year == cycle_year,
                )
            )
        }
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
    with session_scope(url) as session:
        upsert(
            session, ObligationInstanceRow, rows, ["programme_id", "cycle_year", "obligation_id", "period"]
        )
    return instances


def _city_code(region: Region) -> str:
    return region.code if region.level == "city" else (region.parent_code or region.code)


def expected_submitters(
    session: Session, programme: Programme, instance: ObligationInstance
) -> list[Submitter]:
    """Regions that owe a submission for ``instance``, sorted by region code.

    - ``cities``: every city (incl. directly administered ones) of the programme's province;
    - ``enrolled_counties``: the region of every cluster enrolled and active during the cycle;
    - ``enrolments_expiring``: clusters whose validity ends in the cycle year (re-review);
    - ``evaluator``: the province itself (the evaluator reports to it).

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
    for enrolment, cluster in session.execute(stmt):
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
    return sorted(out.values(), key=lambda s: (s.region_code, s.cluster_id or ""))


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
