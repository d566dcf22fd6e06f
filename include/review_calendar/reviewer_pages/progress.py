"""The data of the progress charts: on-time share per city, acceptances per day."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING

from review_calendar.aggregate.states import ACCEPTABLE, ON_TIME_STATES, SUBMITTED_STATES
from review_calendar.domain.programmes import instances_for_year
from review_calendar.reviewer_pages.common import files_by_cell
from review_calendar.reviewer_pages.matrix import status_matrix
from review_calendar.store.queries import expected_submitters

if TYPE_CHECKING:
    import datetime as dt

    from sqlalchemy.orm import Session

    from review_calendar.domain.programmes import Programme
    from review_calendar.reviewer_pages.matrix import StatusMatrix

__all__ = ["CityShare", "ProgressPoint", "ProgressSeries", "on_time_share_by_city", "progress_series"]

#: States that count as "due" for the on-time share: an acceptable file arrived, the
#: window has closed, or the region's files were all rejected (it was due and is not in).
DUE_STATES = (*SUBMITTED_STATES, "rejected", "missing")


@dataclass(frozen=True, slots=True)
class CityShare:
    """How many of a city's due submissions arrived on time (a corrected on-time file counts as on time)."""

    city_code: str
    city_name: str
    due: int
    on_time: int
    late: int
    rejected: int
    missing: int

    @property
    def share(self) -> float | None:
        """On-time share of the due submissions (None when nothing is due yet)."""
        return self.on_time / self.due if self.due else None


def on_time_share_by_city(
    session: Session, programme: Programme, year: int, today: dt.date, matrix: StatusMatrix | None = None
) -> list[CityShare]:
    """Share of submissions on time per city, over the cells already due (see :data:`DUE_STATES`).

    Args:
        session: Open session on the review database.
        programme: The programme.
        year: Cycle year.
        today: The day the reviewer looks at.
        matrix: A matrix already computed for the same arguments (saves the queries).

    Returns:
        One entry per city with at least one submitter, in the matrix's order.
    """
    matrix = matrix or status_matrix(session, programme, year, today)
    out = []
    for group in matrix.groups:
        states = Counter(c.state for r in group.rows for c in r.cells)
        out.append(
            CityShare(
                city_code=group.city_code,
                city_name=group.city_name,
                due=sum(states[s] for s in DUE_STATES),
                on_time=sum(states[s] for s in ON_TIME_STATES),
                late=states["late"],
                rejected=states["rejected"],
                missing=states["missing"],
            )
        )
    return out


@dataclass(frozen=True, slots=True)
class ProgressPoint:
    """Regions whose first acceptable file arrived on one day, and in total up to that day."""

    day: dt.date
    accepted: int
    cumulative: int


@dataclass(frozen=True, slots=True)
class ProgressSeries:
    """Submissions accepted per day for an instance (or a whole cycle), against the expected total."""

    points: tuple[ProgressPoint, ...]
    expected: int
    due_dates: tuple[dt.date, ...]
    opens_on: dt.date | None


def progress_series(
    session: Session,
    programme: Programme,
    year: int,
    obligation_id: str | None = None,
    period: str | None = None,
    as_of: dt.date | None = None,
) -> ProgressSeries:
    """Regions with an acceptable file per day, for a progress chart.

    A region counts once per instance, on the day its first acceptable file
    arrived: a correction sent later does not move it (the state rule keeps such a
    region on time too).

    Args:
        session: Open session on the review database.
        programme: The programme.
        year: Cycle year.
        obligation_id: Only this obligation (default: all of the cycle).
        period: Only this period of the obligation.
        as_of: Leave out files received after this day (the pages' 查看日期).

    Returns:
        One point per day with a first acceptable file, the expected number of
        submissions and the effective due dates of the instances.
    """
    instances = [
        i
        for i in instances_for_year(programme, year)
        if (obligation_id is None or i.obligation_id == obligation_id)
        and (period is None or i.period == period)
    ]
    keys = {(i.obligation_id, i.period) for i in instances}
    per_day: Counter[dt.date] = Counter()
    for (obligation, cell_period, _region), files in files_by_cell(session, programme.id, year).items():
        acceptable = [
            f.received_on
            for f in files
            if f.status in ACCEPTABLE and (as_of is None or f.received_on <= as_of)
        ]
        if (obligation, cell_period) in keys and acceptable:
            per_day[min(acceptable)] += 1
    total = 0
    points = []
    for day in sorted(per_day):
        total += per_day[day]
        points.append(ProgressPoint(day, per_day[day], total))
    expected = sum(
        len({s.region_code for s in expected_submitters(session, programme, i)}) for i in instances
    )
    return ProgressSeries(
        points=tuple(points),
        expected=expected,
        due_dates=tuple(sorted({i.effective_due for i in instances})),
        opens_on=min((i.opens_on for i in instances), default=None),
    )
