"""Programmes as data: the typed schema and loader of ``programmes/*.yaml``.

A programme file describes one supervision programme (who submits what to whom,
by when, with which template, how reminders run and how decisions are taken).
A new province's programme is a new file, never new code. Files are validated
on load; an invalid file raises :class:`ProgrammeError` naming the file, the
key and what is wrong.

This module is light on purpose (pydantic + PyYAML): DAG files import it at
parse time to generate one DAG per programme.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any, Literal

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from review_calendar.domain.programme_rules import (
    ID_PATTERN,
    Criterion,
    EvaluationRules,
    Recognition,
    ReReviewRules,
    ReviewRules,
    StageTarget,
    Strict,
    SubsidyRule,
    Validity,
)
from review_calendar.domain.yaml_text import load_yaml

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

Level = Literal["province", "city", "county", "evaluator", "ministry", "firm"]
Kind = Literal["submission", "evaluation", "re_review", "bulletin", "meeting", "ad_hoc", "application"]
Recurrence = Literal["yearly", "plan_period", "ad_hoc"]


class ProgrammeError(ValueError):
    """A programme file is invalid; the message names the file, the key and the problem."""


class DateSpec(Strict):
    """A statutory due date relative to the cycle year (e.g. Jan 15 of the next year)."""

    month: Annotated[int, Field(ge=1, le=12)]
    day: Annotated[int, Field(ge=1, le=31)]
    year_offset: Annotated[int, Field(ge=0, le=3)] = 0
    period: Annotated[str, Field(pattern=r"^[A-Z0-9]{1,3}$")] = "Y"

    @model_validator(mode="after")
    def _real_date(self) -> DateSpec:
        try:
            dt.date(2024, self.month, self.day)  # 2024 is a leap year: allows Feb 29
        except ValueError:
            raise ValueError(f"{self.month}-{self.day} is not a calendar date") from None
        return self


class ReminderSchedule(Strict):
    """When lagging submitters are reminded, and when the reminder escalates."""

    days_before: list[Annotated[int, Field(ge=1, le=90)]] = [14, 7, 3, 1]
    on_due_day: bool = True
    overdue_every_working_days: Annotated[int, Field(ge=1, le=30)] = 3
    escalate_city_after_days: Annotated[int, Field(ge=0, le=365)] = 3
    escalate_province_after_days: Annotated[int, Field(ge=0, le=365)] = 10
    stop_after_days: Annotated[int, Field(ge=1, le=365)] = 60

    @model_validator(mode="after")
    def _ordered(self) -> ReminderSchedule:
        if self.escalate_province_after_days < self.escalate_city_after_days:
            raise ValueError("escalate_province_after_days must not be before escalate_city_after_days")
        return self


class Office(Strict):
    """The programme authority's responsible division (receives escalations and gap reports)."""

    division: str
    email: Annotated[str, Field(pattern=r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")]
    sender: Annotated[str, Field(pattern=r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")]


class Source(Strict):
    """A source document whose clauses the rules cite."""

    id: Annotated[str, Field(pattern=ID_PATTERN)]
    title: str
    number: str = ""
    file: str = ""


class Obligation(Strict):
    """One obligation of a programme: recurring on dates, or ``ad_hoc`` (reported whenever it happens).

    An ``ad_hoc`` obligation (kind and recurrence ``ad_hoc``) has no due date: it has no
    instances, so it is never due, never missing and never reminded; a report is accepted
    whenever it arrives. ``recurrence_is_configured`` marks a yearly recurrence that is the
    province's choice, not the source document's (shown as 配置).
    """

    id: Annotated[str, Field(pattern=ID_PATTERN)]
    title: Annotated[str, Field(min_length=2)]
    kind: Kind = "submission"
    submitter: Level
    via: Level | None = None
    recipient: Level
    due: list[DateSpec] = []
    due_is_configured: bool = False
    recurrence: Recurrence = "yearly"
    recurrence_is_configured: bool = False
    opens_days_before: Annotated[int, Field(ge=0, le=366)] = 30
    template: str | None = None
    dataset: str | None = None
    applies_to: Literal[
        "cities", "enrolled_counties", "enrolments_expiring", "evaluator", "plan_due", "applicants"
    ] = "enrolled_counties"
    clause: Annotated[str, Field(min_length=2)]
    content: str = ""
    deadline_shift: Literal["next_working_day", "none"] = "next_working_day"
    reminders: ReminderSchedule | None = None
    completeness_threshold: Annotated[float, Field(ge=0, le=1)] = 1.0
    after: str | None = None
    data_year_offset: Annotated[int, Field(ge=-1, le=0)] = 0
    expects: dict[str, str] = {}
    #: A reviewer reads each accepted file (a plan, an evaluation report, re-review materials)
    #: and accepts or returns it for correction (``decide.returns``).
    needs_reading: bool = False

    @field_validator("due", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, dict) else value

    @model_validator(mode="after")
    def _unique_periods(self) -> Obligation:
        periods = [d.period for d in self.due]
        if (self.kind == "ad_hoc") != (self.recurrence == "ad_hoc"):
            raise ValueError("kind ad_hoc and recurrence ad_hoc go together")
        if (self.applies_to == "plan_due") != (self.recurrence == "plan_period"):
            raise ValueError("applies_to plan_due and recurrence plan_period go together")
        if self.kind == "ad_hoc":
            if periods or self.reminders is not None:
                raise ValueError("an ad_hoc obligation has no due dates and no reminders")
            return self
        if not periods:
            raise ValueError("due must list at least one date")
        if len(set(periods)) != len(periods):
            raise ValueError(f"due periods repeat: {periods}")
        return self


class Programme(Strict):
    """A supervision programme loaded from ``programmes/<id>.yaml``."""

    id: Annotated[str, Field(pattern=ID_PATTERN)]
    name: str
    short_name: str
    authority: str
    scope: Literal["national", "province", "city"]
    region_code: Annotated[str, Field(pattern=r"^\d{6}$")]
    summary: str
    office: Office
    sources: list[Source]
    first_year: Annotated[int, Field(ge=2000, le=2100)]
    validity: Validity = Validity()
    reminders: ReminderSchedule = ReminderSchedule()
    obligations: list[Obligation]
    evaluation: EvaluationRules | None = None
    re_review: ReReviewRules | None = None
    criteria: list[Criterion] = []
    recognition: Recognition | None = None
    subsidy_rules: list[SubsidyRule] = []
    stage_targets: list[StageTarget] = []
    bulletin_indicators: list[str] = []
    #: How many of the best bases a quarterly bulletin commends (provincial configuration).
    bulletin_commend_top: Annotated[int, Field(ge=0, le=50)] = 0
    #: Facts the province records for this programme (``review-calendar record`` / the
    #: ``record_fact`` form): only these kinds are taken, so a fact never lands on a
    #: programme whose documents have no such step.
    #: Who answers the proposals and when an unanswered one is escalated (configuration).
    review: ReviewRules | None = None
    recorded_facts: list[
        Literal["visit", "meeting", "miit_decision", "recognition", "re_review", "extension_request"]
    ] = []
    tags: list[str] = []

    @model_validator(mode="after")
    def _consistent(self) -> Programme:
        ids = [o.id for o in self.obligations]
        if len(set(ids)) != len(ids):
            raise ValueError(f"obligation ids repeat: {sorted(i for i in ids if ids.count(i) > 1)}")
        for o in self.obligations:
            if o.after is not None and o.after not in ids:
                raise ValueError(f"obligation {o.id!r}: 'after' names unknown obligation {o.after!r}")
        if self.re_review and self.re_review.annual_table and self.re_review.annual_table not in ids:
            raise ValueError(
                f"re_review.annual_table names unknown obligation {self.re_review.annual_table!r}"
            )
        return self

    @property
    def region_prefix(self) -> str:
        """Code prefix of the regions the programme's submitters come from ("" for a national programme).

        A city programme (Langfang) still draws on its province's table of regions.
        """
        return "" if self.scope == "national" else self.region_code[:2]

    def obligation(self, obligation_id: str) -> Obligation:
        """The obligation with that id.

        Raises:
            KeyError: No such obligation in this programme.
        """
        for o in self.obligations:
            if o.id == obligation_id:
                return o
        raise KeyError(f"项目 {self.id} 没有报送事项“{obligation_id}”")

    @property
    def dated_obligations(self) -> list[Obligation]:
        """The obligations with due dates (every kind but ``ad_hoc``)."""
        return [o for o in self.obligations if o.kind != "ad_hoc"]

    @property
    def ad_hoc_obligations(self) -> list[Obligation]:
        """The obligations reported whenever something happens (no due date, never missing)."""
        return [o for o in self.obligations if o.kind == "ad_hoc"]

    def reminders_for(self, obligation: Obligation) -> ReminderSchedule:
        """The obligation's reminder schedule, or the programme default."""
        return obligation.reminders or self.reminders


@dataclass(frozen=True, slots=True)
class ObligationInstance:
    """One obligation of one cycle and period, with its computed dates."""

    programme_id: str
    cycle_year: int
    obligation_id: str
    period: str
    title: str
    kind: str
    submitter: str
    via: str | None
    recipient: str
    statutory_due: dt.date
    effective_due: dt.date
    opens_on: dt.date
    clause: str
    due_is_configured: bool
    recurrence: str = "yearly"
    recurrence_is_configured: bool = False

    @property
    def due_label(self) -> str:
        """法定截止日期 for a date the source states, 配置日期 for a configured one (labels.due_label)."""
        from review_calendar.domain.labels import due_label

        return due_label(self.due_is_configured)

    @property
    def key(self) -> str:
        """Natural key ``programme/year/obligation/period`` used across the database."""
        return f"{self.programme_id}/{self.cycle_year}/{self.obligation_id}/{self.period}"


def instances_for_year(
    programme: Programme, cycle_year: int, calendar: Any = None
) -> list[ObligationInstance]:
    """Every obligation instance of a cycle, sorted by effective due date.

    Args:
        programme: The programme.
        cycle_year: The cycle (the Jan 15 full-year report of 2024 belongs to 2024).
        calendar: A :class:`review_calendar.domain.calendar.WorkingCalendar`; the default when omitted.

    Returns:
        Instances with statutory and effective due dates (never earlier than an
        announced one, see ``WorkingCalendar.announced_due``); ``ad_hoc``
        obligations have none.
    """
    from review_calendar.domain.calendar import default_calendar, due_date, statutory_date

    calendar = calendar or default_calendar()
    out: list[ObligationInstance] = []
    for o in programme.obligations:
        for spec in o.due:
            statutory = statutory_date(cycle_year, spec.month, spec.day, spec.year_offset)
            effective = calendar.announced_due(
                f"{programme.id}/{cycle_year}/{o.id}/{spec.period}",
                due_date(statutory, o.deadline_shift, calendar),
            )
            out.append(
                ObligationInstance(
                    programme_id=programme.id,
                    cycle_year=cycle_year,
                    obligation_id=o.id,
                    period=spec.period,
                    title=o.title,
                    kind=o.kind,
                    submitter=o.submitter,
                    via=o.via,
                    recipient=o.recipient,
                    statutory_due=statutory,
                    effective_due=effective,
                    opens_on=statutory - dt.timedelta(days=o.opens_days_before),
                    clause=o.clause,
                    due_is_configured=o.due_is_configured,
                    recurrence=o.recurrence,
                    recurrence_is_configured=o.recurrence_is_configured,
                )
            )
    return sorted(out, key=lambda i: (i.effective_due, i.obligation_id, i.period))


def _format_loc(loc: Iterable[Any]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "（顶层）"


#: pydantic's commonest complaints about a programme file, in the operators' words (others keep pydantic's text).
_SCHEMA_WORDS = {
    "missing": "缺少必填项",
    "extra_forbidden": "不认识的键（拼写有误，或不属于此处）",
    "string_type": "应为文字",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "float_parsing": "应为数字",
    "bool_parsing": "应为 true 或 false",
    "date_from_datetime_parsing": "应为日期 YYYY-MM-DD",
    "date_parsing": "应为日期 YYYY-MM-DD",
    "list_type": "应为列表",
    "dict_type": "应为键值映射",
}


def parse_programme(text: str, *, source: str, expected_id: str | None = None) -> Programme:
    """Parse and validate one programme file's text.

    Args:
        text: YAML text.
        source: File name for error messages.
        expected_id: The id the file must declare (its stem).

    Returns:
        The validated programme.

    Raises:
        ProgrammeError: Invalid YAML, schema violation (every problem listed
            with its key), or an id that differs from the file name.
    """
    try:
        data = load_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"第{mark.line + 1}行" if mark is not None else ""
        raise ProgrammeError(f"{source}：{where}不是有效的 YAML：{getattr(exc, 'problem', exc)}") from None
    if not isinstance(data, dict):
        raise ProgrammeError(f"{source}：顶层应为键值映射，实为 {type(data).__name__}")
    try:
        programme = Programme.model_validate(data)
    except ValidationError as exc:
        problems = "；".join(
            f"{_format_loc(e['loc'])}：{_SCHEMA_WORDS.get(e['type'], e['msg'])}" for e in exc.errors()
        )
        raise ProgrammeError(f"{source}：{problems}") from None
    if expected_id is not None and programme.id != expected_id:
        raise ProgrammeError(f"{source}：id “{programme.id}”须与文件名“{expected_id}”一致")
    return programme


def load_programme_file(path: Path) -> Programme:
    """Load and validate ``path``; its stem is the programme id.

    Raises:
        ProgrammeError: See :func:`parse_programme`; also for an unreadable file.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProgrammeError(f"{path.name}：无法读取：{exc}") from None
    return parse_programme(text, source=path.name, expected_id=path.stem)


def programme_files(directory: Path) -> list[Path]:
    """Programme files of a folder in sorted order (``_*.yaml`` are ignored as drafts)."""
    return sorted(p for p in directory.glob("*.yaml") if not p.name.startswith("_"))


def find_instance(
    programme: Programme, cycle_year: int, obligation_id: str, period: str = "Y"
) -> ObligationInstance:
    """The instance of one obligation and period in a cycle.

    Raises:
        KeyError: The programme has no such obligation or period.
    """
    for i in instances_for_year(programme, cycle_year):
        if i.obligation_id == obligation_id and i.period == period:
            return i
    if period == "Y" and any(o.id == obligation_id for o in programme.ad_hoc_obligations):
        return ad_hoc_instance(programme, cycle_year, obligation_id)
    raise KeyError(f"项目 {programme.id} 的 {cycle_year} 年度没有报送事项 {obligation_id}/{period}")


def ad_hoc_instance(programme: Programme, cycle_year: int, obligation_id: str) -> ObligationInstance:
    """The instance an ad-hoc report is filed under: the year it arrives, open all year.

    Its only bound is the year's last day, so a report filed in the year it arrives is
    never late; it is in no cycle's list of instances, so it is never due, missing or reminded.
    """
    o = programme.obligation(obligation_id)
    last = dt.date(cycle_year, 12, 31)
    return ObligationInstance(
        programme.id, cycle_year, o.id, "Y", o.title, o.kind, o.submitter, o.via, o.recipient,
        last, last, dt.date(cycle_year, 1, 1), o.clause, False, o.recurrence, o.recurrence_is_configured,
    )  # fmt: skip


class UnknownProgramme(ProgrammeError):
    """No programme file of that id in the programmes folder; the message lists the known ids."""


def load_programme(programme_id: str, directory: Path | None = None) -> Programme:
    """The programme ``programme_id`` of the deployment's programmes folder (the one way to load one).

    Args:
        programme_id: The file stem, e.g. ``"hebei_smart_cluster"``.
        directory: The programmes folder (default: ``REVIEW_CALENDAR_PROGRAMMES`` of the settings).

    Raises:
        UnknownProgramme: No such file.
        ProgrammeError: The file is invalid (see :func:`parse_programme`).
    """
    from review_calendar.settings import get_settings

    folder = directory or get_settings().programmes_dir
    path = folder / f"{programme_id}.yaml"
    if not path.exists():
        known = ", ".join(p.stem for p in programme_files(folder))
        raise UnknownProgramme(f"没有项目“{programme_id}”；已有：{known}")
    return load_programme_file(path)


def load_programmes(directory: Path) -> dict[str, Programme]:
    """Load every programme of ``directory``, sorted by id.

    Raises:
        ProgrammeError: The first invalid file (use :func:`check_programmes` to see all).
    """
    return {p.stem: load_programme_file(p) for p in programme_files(directory)}


def check_programmes(directory: Path) -> list[str]:
    """Validate every programme file and return one message per invalid file (empty when all valid)."""
    problems = []
    for path in programme_files(directory):
        try:
            load_programme_file(path)
        except ProgrammeError as exc:
            problems.append(str(exc))
    return problems


def slug(text: str) -> str:
    """ASCII snake_case id from a label (for generated task ids)."""
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
