"""E-mail texts: pure functions over data and Jinja2 templates (Simplified Chinese, plain text).

Each function returns a :class:`Rendered` subject and body and touches
neither the database nor SMTP, so the wording is tested directly. Templates
live in ``notify/templates/*.txt.j2``; every label (levels, periods, decision
kinds, outcomes) comes from :mod:`review_calendar.domain.labels`.

Values come partly from submitted spreadsheets (file names, error messages).
Autoescaping is off (plain text), but every interpolated value is flattened to
one line without control characters, and the subject is built and checked
here: a value can never add a header or a line to the subject.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from jinja2 import Environment, PackageLoader, StrictUndefined

from review_calendar.domain.labels import DECISION_KINDS, LEVELS, OUTCOMES, due_label, label, period_label
from review_calendar.settings import get_settings

if TYPE_CHECKING:
    from collections.abc import Sequence

    from review_calendar.domain.programmes import ObligationInstance, Programme
    from review_calendar.notify.recipients import ContactGap
    from review_calendar.notify.stages import Stage

#: At most this many problems of a rejected file are listed in an e-mail.
MAX_LISTED_ERRORS = 10
WEEKDAYS = "一二三四五六日"


@dataclass(frozen=True, slots=True)
class Rendered:
    """A rendered e-mail: one-line subject and plain-text body."""

    subject: str
    body: str

    def __post_init__(self) -> None:
        if "\r" in self.subject or "\n" in self.subject:
            raise ValueError("subject must be a single line")


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem of a rejected file, as intake recorded it (``submission_errors``)."""

    sheet: str | None
    row: int | None
    column: str | None
    message: str


@dataclass(frozen=True, slots=True)
class Rejection:
    """The latest rejected file of a region and why it was rejected.

    Attributes:
        file_name: The file as the county named it.
        received_on: When it was received.
        problems: The problems, most important first (only the first 10 are listed).
        total: How many problems intake found (may exceed ``len(problems)``).
    """

    file_name: str
    received_on: dt.date
    problems: tuple[Problem, ...]
    total: int


@dataclass(frozen=True, slots=True)
class DecisionNotice:
    """A decision to announce to the region of a cluster.

    Attributes:
        kind: ``evaluation`` (yearly performance evaluation) or ``re_review``.
        cycle_year: The cycle decided.
        subject: The decision's subject (the cluster id).
        subject_name: The cluster's name.
        outcome: A code of :data:`~review_calendar.domain.labels.OUTCOMES` (``continue``, ``rectify``,
            ``revoke``, ``revoke_recognition``, ``extend``...).
        reason: The reason in Chinese (from :class:`review_calendar.domain.verdicts.Verdict`).
        clause: The clause the rule comes from.
    """

    kind: str
    cycle_year: int
    subject: str
    subject_name: str
    outcome: str
    reason: str
    clause: str


def one_line(value: Any) -> str:
    """A value as a single line: control characters become spaces, runs of space collapse.

    Args:
        value: Anything; None gives "".

    Returns:
        The flattened text.
    """
    if value is None:
        return ""
    text = str(value)
    if not text.isprintable():  # printable: no control, format or unassigned character (category C)
        text = "".join(" " if unicodedata.category(ch).startswith("C") else ch for ch in text)
    return " ".join(text.split())


def cn_date(day: dt.date, weekday: bool = True) -> str:
    """``2025年7月15日（星期二）``."""
    text = f"{day.year}年{day.month}月{day.day}日"
    return f"{text}（星期{WEEKDAYS[day.weekday()]}）" if weekday else text


def _finalize(value: Any) -> Any:
    # Every {{ value }} passes here: dates read as officials write them, other
    # values become one line (a spreadsheet value cannot add lines or headers).
    if isinstance(value, dt.date):
        return cn_date(value)
    return one_line(value)


@cache
def environment() -> Environment:
    """The Jinja2 environment of the e-mail templates (plain text, strict undefined)."""
    env = Environment(
        loader=PackageLoader("review_calendar.notify", "templates"),
        autoescape=False,  # plain-text e-mail; _finalize makes every value one safe line
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=_finalize,
    )
    env.filters["cndate"] = cn_date
    return env


def _body(template: str, **context: Any) -> str:
    text = environment().get_template(template).render(**context)
    # Collapse the blank lines optional blocks leave behind.
    lines: list[str] = []
    for line in text.splitlines():
        if line.strip() or (lines and lines[-1].strip()):
            lines.append(line.rstrip())
    return "\n".join(lines).strip() + "\n"


def _subject(programme: Programme, text: str) -> str:
    return one_line(f"【{programme.short_name}】{text}")


def _common(programme: Programme, instance: ObligationInstance, as_of: dt.date) -> dict[str, Any]:
    obligation = programme.obligation(instance.obligation_id)
    return {
        "programme": programme,
        "office": programme.office,
        "instance": instance,
        "title": instance.title,
        "period": period_label(instance.period),
        "content": obligation.content,
        "clause": instance.clause,
        "statutory_due": instance.statutory_due,
        "due_label": due_label(instance.due_is_configured),
        "effective_due": instance.effective_due,
        "shifted": instance.effective_due != instance.statutory_due,
        "as_of": as_of,
        "days_left": (instance.effective_due - as_of).days,
        "route": " → ".join(
            label(LEVELS, x) for x in (instance.submitter, instance.via, instance.recipient) if x
        ),
        # A submissions mailbox is configured: notices and reminders say to reply with the file.
        "reply_by_mail": bool(get_settings().submissions_address),
    }


def _addressee(region_name: str, via_city: str | None) -> str:
    return f"{via_city}工业和信息化局" if via_city else region_name


def render_notice(
    programme: Programme,
    instance: ObligationInstance,
    *,
    region_name: str,
    as_of: dt.date,
    clusters: Sequence[str] = (),
    attachment_name: str | None = None,
    via_city: str | None = None,
) -> Rendered:
    """The window-opening notice: what to submit, by when, with the template attached.

    Args:
        programme: The programme.
        instance: The obligation instance whose window is open.
        region_name: The submitting region.
        as_of: The day the notice is planned for.
        clusters: Names of the region's clusters concerned.
        attachment_name: File name of the attached template (None: none attached).
        via_city: The city bureau's name when the region had no valid contact.

    Returns:
        Subject and body.
    """
    subject = _subject(
        programme,
        f"{instance.title}报送通知（截止{cn_date(instance.effective_due, weekday=False)}）— {region_name}",
    )
    body = _body(
        "notice.txt.j2",
        **_common(programme, instance, as_of),
        addressee=_addressee(region_name, via_city),
        region_name=region_name,
        clusters=list(clusters),
        attachment_name=attachment_name,
        via_city=via_city,
    )
    return Rendered(subject, body)


def render_reminder(
    programme: Programme,
    instance: ObligationInstance,
    stage: Stage,
    *,
    region_name: str,
    as_of: dt.date,
    city_name: str = "",
    clusters: Sequence[str] = (),
    rejection: Rejection | None = None,
    attachment_name: str | None = None,
    via_city: str | None = None,
    due_note: str = "",
) -> Rendered:
    """A reminder to a region that has no accepted submission yet.

    Args:
        programme: The programme.
        instance: The obligation instance.
        stage: Today's reminder stage (days left or overdue, escalation).
        region_name: The lagging region.
        as_of: The day the reminder is planned for.
        city_name: The region's city (named when the reminder is copied to its bureau).
        clusters: Names of the region's clusters concerned.
        rejection: The region's latest file if it was rejected (its problems are listed).
        attachment_name: File name of the attached template.
        via_city: The city bureau's name when the region had no valid contact.
        due_note: Why the region owes ``instance.effective_due`` rather than the instance's
            date (a file returned, more time granted); "" for none.

    Returns:
        Subject and body.
    """
    if stage.days_left > 0:
        when = f"距截止还有{stage.days_left}天"
    elif stage.days_left == 0:
        when = "今天截止"
    else:
        when = f"已逾期{-stage.days_left}天"
    subject = _subject(programme, f"催报提醒：{instance.title}（{when}）— {region_name}")
    body = _body(
        "reminder.txt.j2",
        **_common(programme, instance, as_of),
        addressee=_addressee(region_name, via_city),
        region_name=region_name,
        city_name=city_name,
        clusters=list(clusters),
        stage=stage,
        overdue_days=-stage.days_left,
        rejection=rejection,
        problems=list(rejection.problems[:MAX_LISTED_ERRORS]) if rejection else [],
        attachment_name=attachment_name,
        via_city=via_city,
        due_note=due_note,
    )
    return Rendered(subject, body)


def render_rejection(
    programme: Programme,
    instance: ObligationInstance,
    rejection: Rejection,
    *,
    region_name: str,
    as_of: dt.date,
    via_city: str | None = None,
) -> Rendered:
    """The notice that a submitted file was rejected, with its problems.

    Args:
        programme: The programme.
        instance: The obligation instance.
        rejection: The rejected file and its problems (at most 10 listed).
        region_name: The submitting region.
        as_of: The day of the notice.
        via_city: The city bureau's name when the region had no valid contact.

    Returns:
        Subject and body.
    """
    subject = _subject(programme, f"{instance.title}：报送文件未通过审核 — {region_name}")
    body = _body(
        "rejection.txt.j2",
        **_common(programme, instance, as_of),
        addressee=_addressee(region_name, via_city),
        region_name=region_name,
        rejection=rejection,
        problems=list(rejection.problems[:MAX_LISTED_ERRORS]),
        via_city=via_city,
    )
    return Rendered(subject, body)


def render_decision(
    programme: Programme,
    decision: DecisionNotice,
    *,
    region_name: str,
    via_city: str | None = None,
    via_office_city: str | None = None,
) -> Rendered:
    """The notice of an evaluation or re-review outcome with its reason.

    Args:
        programme: The programme.
        decision: What was decided, why, under which clause.
        region_name: The cluster's region.
        via_city: The city bureau's name when the region had no valid contact.
        via_office_city: The city's name when neither the region nor its city had a
            valid contact and the notice goes to the programme's responsible division.

    Returns:
        Subject and body.
    """
    kind = f"{label(DECISION_KINDS, decision.kind)}结果"
    # 2025年度绩效评价结果, 2025年度期满复核结果: the year, then the kind without a second 年度.
    subject = _subject(
        programme, f"{decision.cycle_year}年度{kind.removeprefix('年度')}：{decision.subject_name}"
    )
    body = _body(
        "decision.txt.j2",
        programme=programme,
        office=programme.office,
        addressee=programme.office.division if via_office_city else _addressee(region_name, via_city),
        decision=decision,
        kind=kind.removeprefix("年度"),
        outcome=label(OUTCOMES, decision.outcome),
        via_city=via_city,
        via_office_city=via_office_city,
        region_name=region_name,
    )
    return Rendered(subject, body)


def render_decision_gap_report(
    programme: Programme, decision: DecisionNotice, gaps: Sequence[ContactGap], *, as_of: dt.date
) -> Rendered:
    """The report to the programme's division that a decision notice found no valid contact.

    Args:
        programme: The programme.
        decision: The decision whose notice met the gaps.
        gaps: The regions and what was done instead (no contact data is listed).
        as_of: The day of the report.

    Returns:
        Subject and body.
    """
    ordered = sorted(gaps, key=lambda g: (g.region_code, g.action))
    regions = len({g.region_code for g in ordered})
    kind = label(DECISION_KINDS, decision.kind).removeprefix("年度")
    subject = _subject(
        programme, f"{kind}结果通知：{regions}个地区缺少有效联系人（{cn_date(as_of, weekday=False)}）"
    )
    body = _body(
        "decision_gap_report.txt.j2",
        programme=programme,
        office=programme.office,
        decision=decision,
        kind=kind,
        gaps=ordered,
        regions=regions,
        as_of=as_of,
    )
    return Rendered(subject, body)


def render_gap_report(
    programme: Programme, instance: ObligationInstance, gaps: Sequence[ContactGap], *, as_of: dt.date
) -> Rendered:
    """The report to the province's division of regions without a valid contact.

    Args:
        programme: The programme.
        instance: The obligation instance whose notifications met the gaps.
        gaps: The regions and what was done instead (no contact data is listed).
        as_of: The day of the report.

    Returns:
        Subject and body.
    """
    ordered = sorted(gaps, key=lambda g: (g.region_code, g.action))
    regions = len({g.region_code for g in ordered})
    subject = _subject(
        programme, f"{instance.title}：{regions}个地区缺少有效联系人（{cn_date(as_of, weekday=False)}）"
    )
    body = _body("gap_report.txt.j2", **_common(programme, instance, as_of), gaps=ordered, regions=regions)
    return Rendered(subject, body)


def render_deadline_moved(
    programme: Programme,
    instance: ObligationInstance,
    *,
    announced: dt.date,
    region_name: str,
    as_of: dt.date,
    via_city: str | None = None,
) -> Rendered:
    """The notice that a deadline moved later because the year's holiday arrangement was published.

    Args:
        programme: The programme.
        instance: The instance with its new effective due date.
        announced: The effective due date announced before.
        region_name: The submitting region.
        as_of: The day of the notice.
        via_city: The city bureau's name when the region had no valid contact.

    Returns:
        Subject and body.
    """
    subject = _subject(
        programme,
        f"{instance.title}截止日期调整为{cn_date(instance.effective_due, weekday=False)} — {region_name}",
    )
    body = _body(
        "deadline_moved.txt.j2",
        **_common(programme, instance, as_of),
        addressee=_addressee(region_name, via_city),
        region_name=region_name,
        announced=announced,
        via_city=via_city,
    )
    return Rendered(subject, body)
