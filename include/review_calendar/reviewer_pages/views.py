"""What the reviewers' pages show: pure queries over the review database.

Every function takes an open :class:`~sqlalchemy.orm.Session` (and "today" where
the answer depends on it; nothing here calls ``now()``) and returns frozen
dataclasses of plain values. The Airflow plugin
(``plugins/review_calendar_airflow/ui``) renders them; this module imports
neither Airflow nor FastAPI, so it is tested on SQLite without either.

A cell of the status matrix is one region and one obligation instance:

========================  ==========================================================
state                     meaning
========================  ==========================================================
``accepted_on_time``      a file was accepted, received by the effective due date
``accepted_late``         a file was accepted, received after the effective due date
``rejected``              the latest file was rejected and nothing is accepted
``missing``               the window has closed and nothing was received
``open``                  the window is open and nothing has been received yet
``not_due``               the window has not opened yet
``not_applicable``        the region owes nothing for this instance
========================  ==========================================================
"""

from __future__ import annotations

import datetime as dt
import os
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from review_calendar.domain.labels import OUTCOMES
from review_calendar.domain.programmes import instances_for_year
from review_calendar.store.models import (
    Aggregate,
    Cluster,
    Decision,
    GateRun,
    ObligationInstanceRow,
    Region,
    Submission,
)
from review_calendar.store.queries import expected_submitters

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from sqlalchemy.orm import Session

    from review_calendar.domain.programmes import ObligationInstance, Programme

#: Cell states in the order of the legend, with their labels for reviewers.
STATE_LABELS: dict[str, str] = {
    "accepted_on_time": "按时提交",
    "accepted_late": "逾期提交",
    "rejected": "已退回",
    "missing": "未提交",
    "open": "待提交",
    "not_due": "未到期",
    "not_applicable": "无需报送",
}

#: What each state means, for the legend.
STATE_HINTS: dict[str, str] = {
    "accepted_on_time": "文件已受理，截止日（含顺延）前收到",
    "accepted_late": "文件已受理，但在截止日之后收到",
    "rejected": "最近一次报送未通过校验被退回，尚无受理的文件",
    "missing": "报送窗口已关闭，未收到任何文件",
    "open": "报送窗口已开启，尚未收到文件",
    "not_due": "报送窗口尚未开启",
    "not_applicable": "该地区本期无需报送",
}

#: Window phases of an obligation instance.
PHASE_LABELS = {"closed": "已截止", "open": "报送中", "upcoming": "未开始"}

KIND_LABELS = {
    "acceptance": "受理",
    "gate": "数据质量闸门",
    "evaluation": "绩效评价",
    "re_review": "期满复核",
    "clawback": "追回补贴",
    "subsidy": "补贴",
    "bulletin": "通报",
}


#: Files a gate report page may be served as (suffix -> media type).
REPORT_MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".txt": "text/plain; charset=utf-8",
}


def cycle_dag_id(programme_id: str, obligation_id: str) -> str:
    """The dag_id of the review cycle of one obligation (``dags/review_cycle.py``)."""
    return f"review_cycle__{programme_id}__{obligation_id}"


def calendar_dag_id(programme_id: str) -> str:
    """The dag_id of a programme's calendar DAG (``dags/programme_calendar.py``)."""
    return f"programme_calendar__{programme_id}"


def window_phase(instance: ObligationInstance, today: dt.date) -> str:
    """``closed`` after the effective due date, ``open`` from the opening day, else ``upcoming``."""
    if today > instance.effective_due:
        return "closed"
    if today >= instance.opens_on:
        return "open"
    return "upcoming"


def cell_state(submissions: Sequence[Submission], instance: ObligationInstance, today: dt.date) -> str:
    """The state of one region for one instance (see the module docstring).

    Args:
        submissions: That region's submissions for the instance, any status.
        instance: The obligation instance.
        today: The day the reviewer looks at (decides missing/open/not_due).
    """
    accepted = [s for s in submissions if s.status == "accepted"]
    if accepted:
        latest = max(accepted, key=lambda s: (s.received_on, s.id or 0))
        return "accepted_late" if latest.is_late else "accepted_on_time"
    if any(s.status == "rejected" for s in submissions):
        return "rejected"
    phase = window_phase(instance, today)
    return {"closed": "missing", "open": "open", "upcoming": "not_due"}[phase]


# --- calendar -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CalendarEntry:
    """One deadline of a programme's cycle, with how far submissions have come."""

    obligation_id: str
    period: str
    title: str
    kind: str
    statutory_due: dt.date
    effective_due: dt.date
    opens_on: dt.date
    shifted: bool
    due_is_configured: bool
    phase: str
    phase_label: str
    days_left: int
    expected: int
    accepted: int
    late: int
    rejected: int
    state: str
    dag_id: str
    clause: str


@dataclass(frozen=True, slots=True)
class ProgrammeCalendar:
    """A programme's deadlines of one cycle year, split at ``today``."""

    programme_id: str
    name: str
    short_name: str
    authority: str
    year: int
    today: dt.date
    entries: tuple[CalendarEntry, ...]
    warnings: tuple[str, ...]
    dag_id: str

    @property
    def past(self) -> tuple[CalendarEntry, ...]:
        """Entries whose effective due date has passed."""
        return tuple(e for e in self.entries if e.phase == "closed")

    @property
    def upcoming(self) -> tuple[CalendarEntry, ...]:
        """Entries still open or not yet open."""
        return tuple(e for e in self.entries if e.phase != "closed")


def _submissions_by_cell(
    session: Session, programme_id: str, year: int
) -> dict[tuple[str, str, str], list[Submission]]:
    stmt = select(Submission).where(
        Submission.programme_id == programme_id,
        Submission.cycle_year == year,
        Submission.status.in_(("accepted", "rejected")),
    )
    out: dict[tuple[str, str, str], list[Submission]] = defaultdict(list)
    for s in session.scalars(stmt):
        if s.region_code:
            out[(s.obligation_id, s.period, s.region_code)].append(s)
    return out


def _stored_states(session: Session, programme_id: str, year: int) -> dict[tuple[str, str], str]:
    stmt = select(ObligationInstanceRow).where(
        ObligationInstanceRow.programme_id == programme_id, ObligationInstanceRow.cycle_year == year
    )
    return {(r.obligation_id, r.period): r.state for r in session.scalars(stmt)}


def programme_calendar(
    session: Session, programme: Programme, year: int, today: dt.date, calendar: Any = None
) -> ProgrammeCalendar:
    """The deadlines of one programme's cycle, with expected and received counts.

    Args:
        session: Open session on the review database.
        programme: The programme.
        year: Cycle year.
        today: The day the reviewer looks at.
        calendar: A working calendar (default: the configured one).

    Returns:
        Entries sorted by effective due date; warnings name years without holiday data.
    """
    from review_calendar.domain.calendar import default_calendar

    calendar = calendar or default_calendar()
    instances = instances_for_year(programme, year, calendar)
    by_cell = _submissions_by_cell(session, programme.id, year)
    stored = _stored_states(session, programme.id, year)
    entries = []
    for i in instances:
        regions = {s.region_code for s in expected_submitters(session, programme, i)}
        states = Counter(
            cell_state(by_cell.get((i.obligation_id, i.period, r), []), i, today) for r in regions
        )
        phase = window_phase(i, today)
        entries.append(
            CalendarEntry(
                obligation_id=i.obligation_id,
                period=i.period,
                title=i.title,
                kind=i.kind,
                statutory_due=i.statutory_due,
                effective_due=i.effective_due,
                opens_on=i.opens_on,
                shifted=i.effective_due != i.statutory_due,
                due_is_configured=i.due_is_configured,
                phase=phase,
                phase_label=PHASE_LABELS[phase],
                days_left=(i.effective_due - today).days,
                expected=len(regions),
                accepted=states["accepted_on_time"] + states["accepted_late"],
                late=states["accepted_late"],
                rejected=states["rejected"],
                state=stored.get((i.obligation_id, i.period), "planned"),
                dag_id=cycle_dag_id(programme.id, i.obligation_id),
                clause=i.clause,
            )
        )
    years = {year} | {e.effective_due.year for e in entries}
    return ProgrammeCalendar(
        programme_id=programme.id,
        name=programme.name,
        short_name=programme.short_name,
        authority=programme.authority,
        year=year,
        today=today,
        entries=tuple(entries),
        warnings=tuple(calendar.warnings(years)),
        dag_id=calendar_dag_id(programme.id),
    )


def calendar_view(
    session: Session, programmes: Mapping[str, Programme] | Iterable[Programme], year: int, today: dt.date
) -> list[ProgrammeCalendar]:
    """Past and upcoming deadlines of every programme for a cycle year.

    Args:
        session: Open session on the review database.
        programmes: Programmes by id (or an iterable of programmes).
        year: Cycle year.
        today: The day the reviewer looks at.

    Returns:
        One calendar per programme, sorted by programme id.
    """
    items = programmes.values() if hasattr(programmes, "values") else programmes
    return [programme_calendar(session, p, year, today) for p in sorted(items, key=lambda p: p.id)]


# --- status matrix ------------------------------------------------------------------------------


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

    @property
    def key(self) -> str:
        """``obligation/period``, unique within a cycle."""
        return f"{self.obligation_id}/{self.period}"


@dataclass(frozen=True, slots=True)
class MatrixCell:
    """One region's state for one instance, with the latest file behind it."""

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
            return STATE_HINTS[self.state]
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


def _make_cell(submissions: Sequence[Submission], instance: ObligationInstance, today: dt.date) -> MatrixCell:
    state = cell_state(submissions, instance, today)
    if not submissions:
        return MatrixCell(state, STATE_LABELS[state])
    accepted = [s for s in submissions if s.status == "accepted"]
    latest = max(accepted or submissions, key=lambda s: (s.received_on, s.id or 0))
    return MatrixCell(
        state=state,
        label=STATE_LABELS[state],
        file_name=latest.file_name,
        received_on=latest.received_on,
        error_count=latest.error_count,
        attempts=len(submissions),
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
        instances: The instances to show (default: every instance of the year).

    Returns:
        The matrix; ``counts`` tallies the cells by state (``not_applicable`` excluded).
    """
    instances = list(instances if instances is not None else instances_for_year(programme, year))
    by_cell = _submissions_by_cell(session, programme.id, year)
    expected: list[set[str]] = []
    names: dict[str, str] = {}
    city_of: dict[str, str] = {}
    clusters: dict[str, set[str]] = defaultdict(set)
    for i in instances:
        regions = set()
        for s in expected_submitters(session, programme, i):
            regions.add(s.region_code)
            names[s.region_code] = s.region_name
            city_of[s.region_code] = s.city_code
            if s.cluster_name:
                clusters[s.region_code].add(s.cluster_name)
        expected.append(regions)
    region_names = {
        r.code: r.name
        for r in session.scalars(select(Region).where(Region.code.in_(set(city_of.values()) | set(names))))
    }
    counts: Counter[str] = Counter()
    rows_by_city: dict[str, list[MatrixRow]] = defaultdict(list)
    for code in sorted(names):
        cells = []
        for i, owed in zip(instances, expected, strict=True):
            if code not in owed:
                cells.append(MatrixCell("not_applicable", STATE_LABELS["not_applicable"]))
                continue
            cell = _make_cell(by_cell.get((i.obligation_id, i.period, code), []), i, today)
            counts[cell.state] += 1
            cells.append(cell)
        rows_by_city[city_of[code]].append(
            MatrixRow(code, region_names.get(code, names[code]), tuple(sorted(clusters[code])), tuple(cells))
        )
    groups = tuple(
        CityGroup(city, region_names.get(city, city), tuple(rows))
        for city, rows in sorted(rows_by_city.items())
    )
    columns = tuple(
        MatrixColumn(
            obligation_id=i.obligation_id,
            period=i.period,
            title=i.title,
            effective_due=i.effective_due,
            statutory_due=i.statutory_due,
            opens_on=i.opens_on,
            phase=window_phase(i, today),
            dag_id=cycle_dag_id(programme.id, i.obligation_id),
        )
        for i in instances
    )
    return StatusMatrix(programme.id, year, today, columns, groups, dict(counts))


# --- charts' data -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CityShare:
    """How many of a city's due submissions arrived on time."""

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


#: States that count as "due" for the on-time share: accepted, or the window has closed.
_DUE_STATES = ("accepted_on_time", "accepted_late", "rejected", "missing")


def on_time_share_by_city(
    session: Session, programme: Programme, year: int, today: dt.date, matrix: StatusMatrix | None = None
) -> list[CityShare]:
    """Share of submissions accepted on time per city, over the cells already due.

    A cell counts once it is accepted or its window has closed (a file rejected
    while the window is still open counts too: it was due and is not in).

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
                due=sum(states[s] for s in _DUE_STATES),
                on_time=states["accepted_on_time"],
                late=states["accepted_late"],
                rejected=states["rejected"],
                missing=states["missing"],
            )
        )
    return out


@dataclass(frozen=True, slots=True)
class ProgressPoint:
    """Accepted submissions on one day and in total up to that day."""

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
) -> ProgressSeries:
    """Submissions accepted per day, for a progress chart.

    Args:
        session: Open session on the review database.
        programme: The programme.
        year: Cycle year.
        obligation_id: Only this obligation (default: all of the cycle).
        period: Only this period of the obligation.

    Returns:
        One point per day with an acceptance (by date received), the expected
        number of submissions and the effective due dates of the instances.
    """
    instances = [
        i
        for i in instances_for_year(programme, year)
        if (obligation_id is None or i.obligation_id == obligation_id)
        and (period is None or i.period == period)
    ]
    keys = {(i.obligation_id, i.period) for i in instances}
    stmt = select(Submission).where(
        Submission.programme_id == programme.id,
        Submission.cycle_year == year,
        Submission.status == "accepted",
    )
    per_day: Counter[dt.date] = Counter()
    seen: set[tuple[str, str, str | None]] = set()
    for s in sorted(session.scalars(stmt), key=lambda s: (s.received_on, s.id)):
        cell = (s.obligation_id, s.period, s.region_code)
        if (s.obligation_id, s.period) in keys and cell not in seen:
            seen.add(cell)
            per_day[s.received_on] += 1
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


# --- gates, aggregates, decisions ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GateResult:
    """One verdict of a data-quality gate, with the path of its HTML report."""

    obligation_id: str
    period: str
    gate: str
    run_id: str
    success: bool
    critical_failures: int
    warnings: int
    summary: dict[str, Any]
    report: str | None
    created_at: dt.datetime | None
    dag_id: str


def report_relpath(html_path: str, reports_dir: Path | None) -> str | None:
    """The report's path relative to the reports folder, or None when it lies outside.

    Args:
        html_path: As stored by the gate: absolute, or relative to the reports folder.
        reports_dir: The reports folder (``Settings.reports_dir``).
    """
    if not html_path or reports_dir is None:
        return None
    path = PurePosixPath(html_path.replace(os.sep, "/"))
    base = PurePosixPath(str(reports_dir).replace(os.sep, "/"))
    if path.is_absolute():
        try:
            path = path.relative_to(base)
        except ValueError:
            return None
    normal = PurePosixPath(os.path.normpath(str(path)).replace(os.sep, "/"))
    if normal.is_absolute() or normal.parts[:1] == ("..",) or str(normal) in ("", "."):
        return None
    return str(normal)


def resolve_report(reports_dir: Path, relpath: str) -> Path | None:
    """The file a report URL names, if it is a servable file inside the reports folder.

    Guards against path traversal: the path is resolved (symbolic links
    followed) and must stay inside ``reports_dir``; only the suffixes of
    :data:`REPORT_MEDIA_TYPES` are served.

    Args:
        reports_dir: The reports folder.
        relpath: The path from the URL, relative to the reports folder.

    Returns:
        The resolved file, or None (not found, outside the folder, or not servable).
    """
    if not relpath or "\x00" in relpath or relpath.startswith(("/", "\\")):
        return None
    base = reports_dir.resolve()
    try:
        target = (base / relpath).resolve()
    except (OSError, RuntimeError):
        return None
    if not target.is_relative_to(base) or target == base:
        return None
    if target.suffix.lower() not in REPORT_MEDIA_TYPES or not target.is_file():
        return None
    return target


def gate_results(
    session: Session,
    programme_id: str,
    year: int,
    obligation_id: str | None = None,
    period: str | None = None,
    reports_dir: Path | None = None,
) -> list[GateResult]:
    """Gate verdicts of a cycle (or one instance), newest first.

    Args:
        session: Open session on the review database.
        programme_id: Programme id.
        year: Cycle year.
        obligation_id: Only this obligation.
        period: Only this period.
        reports_dir: The reports folder, to turn stored paths into report links.
    """
    stmt = select(GateRun).where(GateRun.programme_id == programme_id, GateRun.cycle_year == year)
    if obligation_id is not None:
        stmt = stmt.where(GateRun.obligation_id == obligation_id)
    if period is not None:
        stmt = stmt.where(GateRun.period == period)
    runs = sorted(session.scalars(stmt), key=lambda g: (g.created_at or dt.datetime.min, g.id), reverse=True)
    return [
        GateResult(
            obligation_id=g.obligation_id,
            period=g.period,
            gate=g.gate,
            run_id=g.run_id,
            success=g.success,
            critical_failures=g.critical_failures,
            warnings=g.warnings,
            summary=dict(g.summary or {}),
            report=report_relpath(g.html_path, reports_dir),
            created_at=g.created_at,
            dag_id=cycle_dag_id(programme_id, g.obligation_id),
        )
        for g in runs
    ]


@dataclass(frozen=True, slots=True)
class AggregateRow:
    """The figures of one region."""

    region_code: str
    region_name: str
    level: str
    values: dict[str, float | str | None]


@dataclass(frozen=True, slots=True)
class AggregateTable:
    """Aggregate figures of one instance: regions (province first) against metrics."""

    metrics: tuple[str, ...]
    rows: tuple[AggregateRow, ...]

    @property
    def labels(self) -> dict[str, str]:
        """Column title of each metric."""
        return {m: METRIC_LABELS.get(m, m) for m in self.metrics}


_LEVEL_ORDER = {"province": 0, "city": 1, "county": 2}

#: Column titles of the completeness figures every aggregation writes (``review_calendar.aggregate.compute``);
#: other metrics show their id.
METRIC_LABELS = {
    "expected": "应报",
    "submitted": "已报",
    "on_time": "按时",
    "late": "逾期",
    "missing": "未报",
    "rejected": "退回",
    "on_time_rate": "按时报送率",
    "planned_investment": "年度计划投资（万元）",
    "completed_investment": "已完成投资（万元）",
    "completion_rate": "投资完成率",
}


def is_ratio(metric: str) -> bool:
    """Whether a metric is a share (shown as a percentage)."""
    return metric.endswith(("_rate", "_share", "_ratio"))


def aggregates_view(
    session: Session, programme_id: str, year: int, obligation_id: str, period: str = "Y"
) -> AggregateTable:
    """The aggregate figures of one obligation instance.

    Args:
        session: Open session on the review database.
        programme_id: Programme id.
        year: Cycle year.
        obligation_id: Obligation id.
        period: Period.

    Returns:
        Metrics in first-seen order of their sorted names; rows: province, then
        cities, then counties, each by code. A value is the number, or the text
        when the figure has no number.
    """
    stmt = select(Aggregate).where(
        Aggregate.programme_id == programme_id,
        Aggregate.cycle_year == year,
        Aggregate.obligation_id == obligation_id,
        Aggregate.period == period,
    )
    figures = list(session.scalars(stmt))
    codes = {a.region_code for a in figures}
    regions = {r.code: r for r in session.scalars(select(Region).where(Region.code.in_(codes)))}
    values: dict[str, dict[str, float | str | None]] = defaultdict(dict)
    for a in figures:
        values[a.region_code][a.metric] = a.value if a.value is not None else (a.text or None)
    rows = []
    for code in codes:
        region = regions.get(code)
        level = region.level if region else ("province" if code.endswith("0000") else "county")
        rows.append(AggregateRow(code, region.name if region else code, level, values[code]))
    rows.sort(key=lambda r: (_LEVEL_ORDER.get(r.level, 3), r.region_code))
    return AggregateTable(tuple(sorted({a.metric for a in figures})), tuple(rows))


@dataclass(frozen=True, slots=True)
class DecisionItem:
    """An audited decision, with its labels for reviewers."""

    kind: str
    kind_label: str
    subject: str
    subject_label: str
    outcome: str
    outcome_label: str
    rule: str
    clause: str
    figures: dict[str, Any]
    run_id: str
    decided_at: dt.datetime | None
    dag_id: str | None


def decisions_view(
    session: Session, programme: Programme, year: int, kind: str | None = None
) -> list[DecisionItem]:
    """The decisions of a cycle (evaluations, re-reviews, claw-backs...), by kind and subject.

    Args:
        session: Open session on the review database.
        programme: The programme (its obligations tell which cycle DAG decided).
        year: Cycle year.
        kind: Only decisions of this kind.
    """
    stmt = select(Decision).where(Decision.programme_id == programme.id, Decision.cycle_year == year)
    if kind is not None:
        stmt = stmt.where(Decision.kind == kind)
    by_kind = {o.kind: o.id for o in programme.obligations}
    decided = list(session.scalars(stmt))
    clusters = {
        c.id: c.name
        for c in session.scalars(select(Cluster).where(Cluster.id.in_({d.subject for d in decided})))
    }
    out = []
    for d in sorted(decided, key=lambda d: (d.kind, d.subject)):
        figures = dict(d.figures or {})
        obligation = figures.get("obligation_id") or by_kind.get(d.kind)
        out.append(
            DecisionItem(
                kind=d.kind,
                kind_label=KIND_LABELS.get(d.kind, d.kind),
                subject=d.subject,
                subject_label=clusters.get(d.subject, d.subject),
                outcome=d.outcome,
                outcome_label=OUTCOMES.get(d.outcome, d.outcome),
                rule=d.rule,
                clause=d.clause,
                figures=figures,
                run_id=d.run_id,
                decided_at=d.decided_at,
                dag_id=cycle_dag_id(programme.id, obligation) if obligation and d.run_id else None,
            )
        )
    return out


def cycle_years(session: Session, programme_id: str | None = None) -> list[int]:
    """Cycle years that have data (instances or submissions), newest first."""
    years: set[int] = set()
    for model in (ObligationInstanceRow, Submission):
        stmt = select(model.cycle_year).distinct()
        if programme_id is not None:
            stmt = stmt.where(model.programme_id == programme_id)
        years.update(y for y in session.scalars(stmt) if y is not None)
    return sorted(years, reverse=True)


__all__ = [
    "STATE_LABELS",
    "STATE_HINTS",
    "AggregateTable",
    "CalendarEntry",
    "CityShare",
    "DecisionItem",
    "GateResult",
    "METRIC_LABELS",
    "ProgrammeCalendar",
    "ProgressSeries",
    "StatusMatrix",
    "aggregates_view",
    "calendar_view",
    "cell_state",
    "cycle_dag_id",
    "cycle_years",
    "decisions_view",
    "gate_results",
    "on_time_share_by_city",
    "programme_calendar",
    "progress_series",
    "report_relpath",
    "resolve_report",
    "status_matrix",
]
