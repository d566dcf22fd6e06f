"""The calendar pages: every deadline of a programme's cycle, with how far submissions have come."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from review_calendar.aggregate.states import SUBMITTED_STATES, submission_state, window_phase
from review_calendar.domain.labels import (
    LEVELS,
    PHASES,
    RECURRENCE_CONFIGURED_HINT,
    due_hint,
    due_label,
    recurrence_label,
)
from review_calendar.domain.programmes import instances_for_year
from review_calendar.reviewer_pages.common import Cell, calendar_dag_id, cycle_dag_id, files_by_cell
from review_calendar.store.due_changes import region_dues
from review_calendar.store.queries import expected_submitters
from review_calendar.store.tables.intake import ObligationInstanceRow

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Iterable, Mapping

    from sqlalchemy.orm import Session

    from review_calendar.domain.programmes import ObligationInstance, Programme
    from review_calendar.store.tables.intake import Submission

__all__ = ["CalendarEntry", "ProgrammeCalendar", "calendar_view", "programme_calendar"]


@dataclass(frozen=True, slots=True)
class CalendarEntry:
    """One deadline of a programme's cycle, with how far submissions have come.

    ``accepted`` counts the regions with an acceptable file (on time, corrected or
    late), ``late`` those late among them, ``rejected`` those with only rejected files.
    """

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
    recurrence_label: str = ""
    recurrence_is_configured: bool = False

    @property
    def due_label(self) -> str:
        """法定截止日期 or 配置日期 (the one rule of ``domain.labels``)."""
        return due_label(self.due_is_configured)

    @property
    def due_hint(self) -> str:
        """What the label means, shown on a tap."""
        return due_hint(self.due_is_configured)

    @property
    def recurrence_hint(self) -> str:
        """Why the recurrence is marked 配置 (empty when the document sets it)."""
        return RECURRENCE_CONFIGURED_HINT if self.recurrence_is_configured else ""


@dataclass(frozen=True, slots=True)
class AdHocEntry:
    """An obligation reported whenever something happens: no due date, never missing, never reminded."""

    obligation_id: str
    title: str
    route: str
    clause: str
    recurrence_label: str


@dataclass(frozen=True, slots=True)
class ProgrammeCalendar:
    """A programme's deadlines of one cycle year, split at ``today``, and its ad-hoc reports."""

    programme_id: str
    name: str
    short_name: str
    authority: str
    year: int
    today: dt.date
    entries: tuple[CalendarEntry, ...]
    warnings: tuple[str, ...]
    dag_id: str
    ad_hoc: tuple[AdHocEntry, ...] = ()

    @property
    def reviewer_warnings(self) -> tuple[str, ...]:
        """The warnings without the operator's instruction (which configuration file to edit)."""
        return tuple(w.split("，发布后", 1)[0] + "。" if "，发布后" in w else w for w in self.warnings)

    @property
    def past(self) -> tuple[CalendarEntry, ...]:
        """Entries whose effective due date has passed."""
        return tuple(e for e in self.entries if e.phase == "closed")

    @property
    def upcoming(self) -> tuple[CalendarEntry, ...]:
        """Entries still open or not yet open."""
        return tuple(e for e in self.entries if e.phase != "closed")


def _stored_states(session: Session, programme_id: str, year: int) -> dict[tuple[str, str], str]:
    """The pipeline state of each recorded instance (planned, aggregated...)."""
    stmt = select(ObligationInstanceRow).where(
        ObligationInstanceRow.programme_id == programme_id, ObligationInstanceRow.cycle_year == year
    )
    return {(r.obligation_id, r.period): r.state for r in session.scalars(stmt)}


def _entry(
    session: Session,
    programme: Programme,
    instance: ObligationInstance,
    today: dt.date,
    by_cell: Mapping[Cell, list[Submission]],
    stored: Mapping[tuple[str, str], str],
) -> CalendarEntry:
    """One instance's entry: its dates and phase, and its regions counted by state."""
    i = instance
    regions = {s.region_code for s in expected_submitters(session, programme, i)}
    dues = region_dues(session, i)
    states = Counter(
        submission_state(by_cell.get((i.obligation_id, i.period, r), ()), i, today, dues.get(r)).state
        for r in regions
    )
    phase = window_phase(i, today)
    return CalendarEntry(
        obligation_id=i.obligation_id,
        period=i.period,
        title=i.title,
        kind=i.kind,
        statutory_due=i.statutory_due,
        effective_due=i.effective_due,
        opens_on=i.opens_on,
        shifted=i.effective_due != i.statutory_due,
        due_is_configured=i.due_is_configured,
        recurrence_label=recurrence_label(i.recurrence, i.recurrence_is_configured),
        recurrence_is_configured=i.recurrence_is_configured,
        phase=phase,
        phase_label=PHASES[phase],
        days_left=(i.effective_due - today).days,
        expected=len(regions),
        accepted=sum(states[s] for s in SUBMITTED_STATES),
        late=states["late"],
        rejected=states["rejected"],
        state=stored.get((i.obligation_id, i.period), "planned"),
        dag_id=cycle_dag_id(programme.id, i.obligation_id),
        clause=i.clause,
    )


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
    from review_calendar.domain.schedule import years_touched

    calendar = calendar or default_calendar()
    by_cell = files_by_cell(session, programme.id, year)
    stored = _stored_states(session, programme.id, year)
    instances = instances_for_year(programme, year, calendar)
    entries = [_entry(session, programme, i, today, by_cell, stored) for i in instances]
    years = years_touched(instances)
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
        ad_hoc=tuple(
            AdHocEntry(
                o.id,
                o.title,
                " → ".join(LEVELS.get(x, x) for x in (o.submitter, o.via, o.recipient) if x),
                o.clause,
                recurrence_label(o.recurrence),
            )
            for o in programme.ad_hoc_obligations
        ),
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
