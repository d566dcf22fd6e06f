"""What is lagging now: every region that still owes a file, across programmes and years.

The landing page's list. A region lags for an obligation instance whose window
has opened when :func:`~review_calendar.aggregate.states.submission_state` says it
still owes an acceptable file for a reason a reviewer can act on: nothing
arrived after the window closed (未提交), what arrived was rejected (已退回), a
reviewer returned it (退回修改), or it awaits its approval (待补批复). ``open`` and
``not_due`` regions are not lagging: their due date has not passed.

Each row carries what a reviewer chases it with: the region's own due date
(an extension or a return's new date when one was granted), the days overdue,
the reminders the outbox sent and how far they escalated (``notify.stages``:
the ``overdue_N`` stage names the working days overdue), and the city bureau's
contact (name and office phone; mobile and e-mail masked by ``domain.privacy``
until a reviewer asks to see them). Rows are sorted by urgency: the most days
overdue first, then by state (未提交, 已退回, 退回修改, 待补批复), then by region code.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select

from review_calendar.aggregate.states import states_by_region
from review_calendar.domain.labels import ESCALATIONS, PERIODS, SUBMISSION_STATES
from review_calendar.domain.privacy import mask_contact
from review_calendar.domain.programmes import instances_for_year
from review_calendar.domain.regions import province_code_of
from review_calendar.notify.recipients import TO_ROLES
from review_calendar.notify.stages import escalation_for
from review_calendar.reviewer_pages.common import cycle_years, messages_as_of, sent_by
from review_calendar.store.due_changes import region_dues
from review_calendar.store.queries import expected_submitters
from review_calendar.store.tables.mail import OutboxMessage
from review_calendar.store.tables.registry import Contact, Region

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Iterable, Mapping, Sequence

    from sqlalchemy.orm import Session

    from review_calendar.aggregate.states import RegionState
    from review_calendar.domain.programmes import ObligationInstance, Programme
    from review_calendar.store.due_changes import RegionDue

__all__ = ["LAGGING_NOW", "CityContact", "LaggingFilter", "LaggingRow", "filter_lagging", "lagging_view"]

#: States in which a region lags now, most urgent first (the tie-break of the ordering).
LAGGING_NOW = ("missing", "rejected", "returned", "awaiting_approval")
_OVERDUE_STAGE = re.compile(r"^overdue_(\d+)$")


@dataclass(frozen=True, slots=True)
class CityContact:
    """The city bureau's contact for a lagging region: name and office phone shown, the rest masked."""

    city_code: str
    role: str
    name: str
    office_phone: str
    mobile_masked: str
    email_masked: str


@dataclass(frozen=True, slots=True)
class LaggingRow:
    """One region that still owes one obligation instance."""

    programme_id: str
    programme_name: str
    cycle_year: int
    obligation_id: str
    period: str
    title: str
    region_code: str
    region_name: str
    city_code: str
    city_name: str
    clusters: tuple[str, ...]
    state: str
    due: dt.date
    days_overdue: int
    file_name: str
    received_on: dt.date | None
    error_count: int
    reminders_sent: int
    escalation: str
    contact: CityContact | None

    @property
    def state_label(self) -> str:
        """The state's label (the one vocabulary)."""
        return SUBMISSION_STATES[self.state]

    @property
    def provincial(self) -> bool:
        """The province itself owes it (no city office, so no city contact to show)."""
        return self.region_code == province_code_of(self.region_code)

    @property
    def period_label(self) -> str:
        """全年, 上半年...: the period in words."""
        return PERIODS.get(self.period, self.period)

    @property
    def escalation_label(self) -> str:
        """未升级, 已抄送市局 or 已抄送省级处室."""
        return ESCALATIONS[self.escalation]

    @property
    def urgency(self) -> tuple[int, int, str, str]:
        """The sort key: most days overdue first, then the state's rank, then the region and instance."""
        return (-self.days_overdue, LAGGING_NOW.index(self.state), self.region_code, self.instance_key)

    @property
    def instance_key(self) -> str:
        """``programme/year/obligation/period`` (the database's natural key)."""
        return f"{self.programme_id}/{self.cycle_year}/{self.obligation_id}/{self.period}"


@dataclass(frozen=True, slots=True)
class LaggingFilter:
    """The landing page's filters; an empty field does not filter."""

    programme: str = ""
    city: str = ""
    state: str = ""
    obligation: str = ""
    q: str = ""

    @property
    def active(self) -> bool:
        """Whether any filter or search is set."""
        return any((self.programme, self.city, self.state, self.obligation, self.q.strip()))


def _region_due(instance: ObligationInstance, verdict: RegionState, change: RegionDue | None) -> dt.date:
    """The date the region owes the instance by: a return's new date, else an extension, else the instance's."""
    due = instance.effective_due
    if change is None:
        return due
    if change.extended_to is not None:
        due = max(due, change.extended_to)
    file_id = getattr(verdict.file, "id", None)
    if verdict.state == "returned" and file_id in change.returns and change.returns[file_id] is not None:
        due = change.returns[file_id]
    return due


def _reminders(
    session: Session, programme: Programme, keys: Iterable[str], today: dt.date
) -> dict[tuple[str, str], list[str]]:
    """The stages of the reminders sent by ``today``, by (instance key, region code)."""
    wanted = set(keys)
    out: dict[tuple[str, str], list[str]] = defaultdict(list)
    where = (OutboxMessage.programme_id == programme.id, OutboxMessage.kind == "reminder")
    for m in messages_as_of(session, today, *where):
        if m.instance_key in wanted and m.region_code and sent_by(m, today):
            out[(m.instance_key, m.region_code)].append(m.stage)
    return out


def _escalation(programme: Programme, obligation_id: str, stages: Sequence[str]) -> str:
    """How far the sent reminders escalated: the schedule's level at the most overdue stage sent."""
    overdue = [int(m.group(1)) for s in stages if (m := _OVERDUE_STAGE.match(s))]
    if not overdue:
        return "none"
    return escalation_for(programme.reminders_for(programme.obligation(obligation_id)), max(overdue))


def _contacts(session: Session, programme: Programme) -> dict[tuple[int, str], Contact]:
    """The city bureaus' first contact (责任处室负责同志, else 主管领导) by (year, city code)."""
    rank = {role: n for n, role in enumerate(TO_ROLES)}
    stmt = select(Contact).where(Contact.programme_id == programme.id, Contact.role.in_(TO_ROLES))
    out: dict[tuple[int, str], Contact] = {}
    for c in sorted(session.scalars(stmt), key=lambda c: rank[c.role], reverse=True):
        out[(c.cycle_year, c.region_code)] = c
    return out


def _contact_for(contacts: Mapping[tuple[int, str], Contact], year: int, city: str) -> CityContact | None:
    """The city's contact of the cycle year, else of the latest earlier year that has one."""
    years = sorted((y for y, code in contacts if code == city and y <= year), reverse=True)
    if not years:
        return None
    c = contacts[(years[0], city)]
    return CityContact(
        city_code=city,
        role=c.role,
        name=c.name,
        office_phone=c.office_phone,
        mobile_masked=mask_contact("mobile", c.mobile) if c.mobile else "",
        email_masked=mask_contact("email", c.email) if c.email else "",
    )


def _programme_rows(session: Session, programme: Programme, years: Iterable[int], today: dt.date,
                    names: Mapping[str, str]) -> list[LaggingRow]:  # fmt: skip
    instances = [i for y in years for i in instances_for_year(programme, y) if i.opens_on <= today]
    sent = _reminders(session, programme, (i.key for i in instances), today)
    contacts = _contacts(session, programme)
    rows: list[LaggingRow] = []
    for instance in instances:
        submitters = expected_submitters(session, programme, instance)
        if not submitters:
            continue
        clusters: dict[str, set[str]] = defaultdict(set)
        for s in submitters:
            if s.cluster_name:
                clusters[s.region_code].add(s.cluster_name)
        verdicts = states_by_region(session, instance, today, (s.region_code for s in submitters))
        changes = region_dues(session, instance)
        seen: set[str] = set()
        for s in submitters:
            verdict = verdicts[s.region_code]
            if s.region_code in seen or verdict.state not in LAGGING_NOW:
                continue
            seen.add(s.region_code)
            due = _region_due(instance, verdict, changes.get(s.region_code))
            stages = sent.get((instance.key, s.region_code), [])
            file = verdict.file
            rows.append(
                LaggingRow(
                    programme.id,
                    programme.short_name,
                    instance.cycle_year,
                    instance.obligation_id,
                    instance.period,
                    instance.title,
                    s.region_code,
                    names.get(s.region_code, s.region_name),
                    s.city_code,
                    names.get(s.city_code, s.city_code),
                    tuple(sorted(clusters[s.region_code])),
                    verdict.state,
                    due,
                    (today - due).days,
                    "" if file is None else file.file_name,
                    None if file is None else file.received_on,
                    0 if file is None else int(file.error_count or 0),
                    len(stages),
                    _escalation(programme, instance.obligation_id, stages),
                    _contact_for(contacts, instance.cycle_year, s.city_code),
                )  # fmt: skip
            )
    return rows


def lagging_view(
    session: Session, programmes: Mapping[str, Programme], today: dt.date, years: Iterable[int] | None = None
) -> list[LaggingRow]:
    """Every region lagging on ``today``, across programmes and cycle years, most urgent first.

    Args:
        session: Open session on the review database.
        programmes: The programmes by id.
        today: The day the reviewer looks at (files received later are not counted).
        years: The cycle years to look at (default: every year with data, and ``today``'s
            year and the one before; years after ``today``'s are never looked at).

    Returns:
        The lagging rows sorted by :attr:`LaggingRow.urgency` (one row per region and
        instance; a county with two clusters names both).
    """
    if years is None:  # a cycle's last deadlines fall in the next year (e.g. 全年总结 by 1-15)
        years = {*cycle_years(session), today.year - 1, today.year}
    chosen = sorted(y for y in set(years) if y <= today.year)
    names = dict(session.execute(select(Region.code, Region.name)).all())
    rows = [r for p in programmes.values() for r in _programme_rows(session, p, chosen, today, names)]
    return sorted(rows, key=lambda r: r.urgency)


def filter_lagging(rows: Iterable[LaggingRow], wanted: LaggingFilter) -> list[LaggingRow]:
    """The rows that match every set filter; ``q`` searches county, cluster, region code and file name.

    The search is a case-insensitive substring match on the region's name and code,
    its city's name, its clusters' names and the name of the file behind its state.
    """
    needle = wanted.q.strip().casefold()
    out = []
    for r in rows:
        if wanted.programme and r.programme_id != wanted.programme:
            continue
        if wanted.city and r.city_code != wanted.city:
            continue
        if wanted.state and r.state != wanted.state:
            continue
        if wanted.obligation and r.obligation_id != wanted.obligation:
            continue
        if needle:
            haystack = " ".join((r.region_name, r.region_code, r.city_name, *r.clusters, r.file_name))
            if needle not in haystack.casefold():
                continue
        out.append(r)
    return out
