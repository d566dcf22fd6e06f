"""The status matrix: every expected submitter against every obligation instance of a cycle.

A cell is one region and one instance; its state is
:func:`~review_calendar.aggregate.states.submission_state` of the region's files
on the day the reviewer looks at (``not_applicable`` where the region owes nothing).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import select

from review_calendar.aggregate.states import submission_state, window_phase
from review_calendar.domain.labels import SUBMISSION_STATE_HINTS, SUBMISSION_STATES, due_hint, due_label
from review_calendar.domain.programmes import instances_for_year
from review_calendar.reviewer_pages.common import cycle_dag_id, files_by_cell
from review_calendar.store.due_changes import region_dues
from review_calendar.store.queries import expected_submitters
from review_calendar.store.tables.registry import Region

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Sequence

    from sqlalchemy.orm import Session

    from review_calendar.domain.programmes import ObligationInstance, Programme
    from review_calendar.store.due_changes import RegionDue
    from review_calendar.store.tables.intake import Submission

__all__ = [
    "CityGroup",
    "MatrixCell",
    "MatrixColumn",
    "MatrixRow",
    "StatusMatrix",
    "make_cell",
    "status_matrix",
]


@dataclass(frozen=True, slots=True)
class MatrixColumn:
    """An obligation instance as a column of the matrix."""

    obligation_id: str
    period: str
    title: str
    effective_due: dt.date
    statutory_due: dt.date
    opens_on: dt.date
    phase: str
    dag_id: str
    due_is_configured: bool = False

    @property
    def due_label(self) -> str:
        """法定截止日期 or 配置日期 (the one rule of ``domain.labels``)."""
        return due_label(self.due_is_configured)

    @property
    def due_hint(self) -> str:
        """What the label means, shown on a tap."""
        return due_hint(self.due_is_configured)

    @property
    def key(self) -> str:
        """``obligation/period``, unique within a cycle."""
        return f"{self.obligation_id}/{self.period}"


@dataclass(frozen=True, slots=True)
class MatrixCell:
    """One region's state for one instance, with the file behind it."""

    state: str
    label: str
    file_name: str = ""
    received_on: dt.date | None = None
    error_count: int = 0
    attempts: int = 0

    @property
    def title(self) -> str:
        """A one-line explanation (tooltip)."""
        if self.state == "not_applicable":
            return SUBMISSION_STATE_HINTS[self.state]
        parts = [self.label]
        if self.file_name:
            parts.append(self.file_name)
        if self.received_on:
            parts.append(f"收到于 {self.received_on.isoformat()}")
        if self.error_count:
            parts.append(f"{self.error_count} 处错误")
        if self.attempts > 1:
            parts.append(f"共报送 {self.attempts} 次")
        return "；".join(parts)


#: The cell of a region that owes nothing for an instance.
NOT_APPLICABLE = MatrixCell("not_applicable", SUBMISSION_STATES["not_applicable"])


@dataclass(frozen=True, slots=True)
class MatrixRow:
    """A submitting region (county, city or the evaluator) and its cells."""

    region_code: str
    region_name: str
    clusters: tuple[str, ...]
    cells: tuple[MatrixCell, ...]


@dataclass(frozen=True, slots=True)
class CityGroup:
    """The rows of one city (the city itself and its counties)."""

    city_code: str
    city_name: str
    rows: tuple[MatrixRow, ...]


@dataclass(frozen=True, slots=True)
class StatusMatrix:
    """Regions (rows, grouped by city) against obligation instances (columns)."""

    programme_id: str
    year: int
    today: dt.date
    columns: tuple[MatrixColumn, ...]
    groups: tuple[CityGroup, ...]
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def rows(self) -> tuple[MatrixRow, ...]:
        """All rows in display order."""
        return tuple(r for g in self.groups for r in g.rows)

    def cell(self, region_code: str, obligation_id: str, period: str = "Y") -> MatrixCell:
        """The cell of a region and an instance.

        Raises:
            KeyError: No such row or column.
        """
        index = next(
            (n for n, c in enumerate(self.columns) if (c.obligation_id, c.period) == (obligation_id, period)),
            None,
        )
        if index is None:
            raise KeyError(f"no column {obligation_id}/{period}")
        for row in self.rows:
            if row.region_code == region_code:
                return row.cells[index]
        raise KeyError(f"no row {region_code}")


def make_cell(
    files: Sequence[Submission],
    instance: ObligationInstance,
    today: dt.date,
    changes: RegionDue | None = None,
) -> MatrixCell:
    """The cell of a region that owes ``instance``, from its stored files (any status).

    Args:
        files: The region's files for the instance.
        instance: The obligation instance.
        today: The day the reviewer looks at (files received later are not counted).
        changes: The region's returned files and extension (``store.due_changes``).

    Returns:
        The state and its label, with the deciding file's name, date and errors.
    """
    verdict = submission_state(files, instance, today, changes)
    if verdict.file is None:
        return MatrixCell(verdict.state, verdict.label, attempts=verdict.attempts)
    return MatrixCell(
        state=verdict.state,
        label=verdict.label,
        file_name=verdict.file.file_name,
        received_on=verdict.file.received_on,
        error_count=verdict.file.error_count,
        attempts=verdict.attempts,
    )


@dataclass
class _Submitters:
    """Who owes what: per instance the region codes, per region its name, city and clusters."""

    owed: list[set[str]] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)
    city_of: dict[str, str] = field(default_factory=dict)
    clusters: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))


def _submitters(
    session: Session, programme: Programme, instances: Sequence[ObligationInstance]
) -> _Submitters:
    out = _Submitters()
    for i in instances:
        regions = set()
        for s in expected_submitters(session, programme, i):
            regions.add(s.region_code)
            out.names[s.region_code] = s.region_name
            out.city_of[s.region_code] = s.city_code
            if s.cluster_name:
                out.clusters[s.region_code].add(s.cluster_name)
        out.owed.append(regions)
    return out


def _column(programme: Programme, instance: ObligationInstance, today: dt.date) -> MatrixColumn:
    return MatrixColumn(
        obligation_id=instance.obligation_id,
        period=instance.period,
        title=instance.title,
        effective_due=instance.effective_due,
        statutory_due=instance.statutory_due,
        opens_on=instance.opens_on,
        phase=window_phase(instance, today),
        dag_id=cycle_dag_id(programme.id, instance.obligation_id),
        due_is_configured=instance.due_is_configured,
    )


def status_matrix(
    session: Session,
    programme: Programme,
    year: int,
    today: dt.date,
    instances: Sequence[ObligationInstance] | None = None,
) -> StatusMatrix:
    """The status of every expected submitter for every obligation instance of a cycle.

    Rows are the regions that owe at least one instance (a county with two
    clusters is one row naming both), grouped by city and sorted by code;
    columns are the instances sorted by effective due date.

    Args:
        session: Open session on the review database (regions, enrolments, submissions).
        programme: The programme.
        year: Cycle year.
        today: The day the reviewer looks at.
        instances: The instances to show (default: every instance of the year but meetings).

    Returns:
        The matrix; ``counts`` tallies the cells by state (``not_applicable`` excluded).
    """
    if instances is None:  # a meeting is an event the province records: nobody submits for it
        instances = [i for i in instances_for_year(programme, year) if i.kind != "meeting"]
    instances = list(instances)
    by_cell = files_by_cell(session, programme.id, year)
    who = _submitters(session, programme, instances)
    wanted = set(who.city_of.values()) | set(who.names)
    region_names = {r.code: r.name for r in session.scalars(select(Region).where(Region.code.in_(wanted)))}
    counts: Counter[str] = Counter()
    dues = [region_dues(session, i) for i in instances]
    rows_by_city: dict[str, list[MatrixRow]] = defaultdict(list)
    for code in sorted(who.names):
        cells = []
        for i, owed, due in zip(instances, who.owed, dues, strict=True):
            cell = (
                make_cell(by_cell.get((i.obligation_id, i.period, code), []), i, today, due.get(code))
                if code in owed
                else None
            )
            if cell is not None:
                counts[cell.state] += 1
            cells.append(cell or NOT_APPLICABLE)
        name = region_names.get(code, who.names[code])
        rows_by_city[who.city_of[code]].append(
            MatrixRow(code, name, tuple(sorted(who.clusters[code])), tuple(cells))
        )
    groups = tuple(
        CityGroup(city, region_names.get(city, city), tuple(rows))
        for city, rows in sorted(rows_by_city.items())
    )
    columns = tuple(_column(programme, i, today) for i in instances)
    return StatusMatrix(programme.id, year, today, columns, groups, dict(counts))
