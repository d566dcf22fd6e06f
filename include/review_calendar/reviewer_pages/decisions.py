"""Decisions as reviewers read them: grouped by kind, pending proposals first, file acceptances apart.

Every decision of the log except file acceptances (kind ``acceptance``, shown in
each instance's 受理记录, :func:`acceptances_view`) and gate runs (kind ``gate``,
shown beside the gates) is a decision a reviewer may need to read: the plain
reason first, the outcome, the proposed outcome when a reviewer changed it, the
state, the rule in words and its clause, who decided and when (北京时间) and why.
Only labels of :mod:`review_calendar.domain.labels` are shown, never a code or a
stored path.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from review_calendar.decide.rules import ARTICLE_17
from review_calendar.domain.calendar import TZ, default_calendar
from review_calendar.domain.labels import (
    CRITERION_RESULTS,
    DECISION_GROUPS,
    DECISION_KINDS,
    FIGURE_LABELS,
    MIIT_DECISIONS,
    OUTCOMES,
    label,
)
from review_calendar.domain.runs import decision_dag_id
from review_calendar.domain.verdicts import decision_state, state_label, subject_label
from review_calendar.reviewer_pages.common import cycle_dag_id
from review_calendar.reviewer_pages.deciders import ReviewRun, cycle_run_words, decided_by_name, review_runs
from review_calendar.reviewer_pages.rule_words import rule_in_words
from review_calendar.store.tables.decisions import Decision
from review_calendar.store.tables.registry import Cluster, Region
from review_calendar.store.tables.review import DecisionReview

if TYPE_CHECKING:
    from collections.abc import Iterable

    from sqlalchemy.orm import Session

    from review_calendar.domain.calendar import WorkingCalendar
    from review_calendar.domain.programmes import ObligationInstance, Programme

__all__ = [
    "NOT_DECISIONS",
    "AcceptanceItem",
    "DecisionGroup",
    "DecisionItem",
    "FigureLine",
    "PendingItem",
    "acceptances_view",
    "beijing_time",
    "decision_dag_id",
    "decision_groups",
    "decision_items",
    "decisions_view",
    "pending_view",
    "rule_in_words",
]

#: Kinds of the decision log that are not decisions for reviewers: file acceptances and gate runs.
NOT_DECISIONS = ("acceptance", "gate")
#: Figures shown elsewhere on the line (reason, state, answer) or internal to the pipeline.
_SHOWN_ELSEWHERE = frozenset({
    "state", "reason", "basis", "cluster", "cluster_name", "region_code", "obligation_id", "period",
    "proposed_outcome", "decided_by", "decided_by_name", "decided_at", "answer_reason", "review_round", "previous_outcome",
    "ministry_decision", "as_of", "files", "evidence", "evaluation_id", "report_state", "bands_configured",
    "needs_finding", "title", "region_name", "obligation", "obligation_title", "submission_id", "link",
    "fact_id", "recorded_by",
})  # fmt: skip
#: Figures that are shares (0.8 is shown as 80%).
_SHARES = frozenset({"min_target_completion"})
#: Figures that mean something else in a decision of this kind: (kind, figure) → label.
_KIND_FIGURE_LABELS = {("clawback", "amount_wan_yuan"): f"{OUTCOMES['clawback']}（万元）"}


def beijing_time(value: dt.datetime | str | None) -> str:
    """``2026-12-01 01:00（北京时间）`` for a stored time; a naive time (as SQLite returns it) is UTC."""
    if value in (None, ""):
        return ""
    at = dt.datetime.fromisoformat(value) if isinstance(value, str) else value
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    return at.astimezone(TZ).strftime("%Y-%m-%d %H:%M") + "（北京时间）"


def _beijing_day(at: dt.datetime | None) -> dt.date:
    """The Beijing day of a stored time (naive = UTC); a missing time counts as long ago."""
    if at is None:
        return dt.date.min
    return (at if at.tzinfo else at.replace(tzinfo=dt.UTC)).astimezone(TZ).date()


def _code(value: str) -> str | None:
    """A code's Chinese label (an outcome, a criterion result), or None for a code nobody labelled."""
    for vocabulary in (OUTCOMES, CRITERION_RESULTS):
        if value in vocabulary:
            return vocabulary[value]
    return None


def _value(key: str, value: Any) -> str | None:
    """A figure as text, or None when it has nothing a reviewer can read."""
    if value is None or value in ("", [], {}):
        return None
    if isinstance(value, bool):
        return "是" if value else "否"
    if key in _SHARES and isinstance(value, int | float):
        return f"{value:.0%}"
    if isinstance(value, float):
        return f"{value:g}"
    if key == "conditions" and isinstance(value, list | tuple):
        grounds = dict.fromkeys(
            f"第十七条{ARTICLE_17[c]}" for c in value if isinstance(c, str) and c in ARTICLE_17
        )
        return "；".join(grounds) or None
    if isinstance(value, list | tuple):
        parts = [_value("", v) for v in value if not isinstance(v, dict)]
        return "、".join(p for p in parts if p) or None
    if isinstance(value, dict):
        return None  # keyed by codes: the reason states what matters
    text = str(value)
    if re.fullmatch(r"[a-z][a-z0-9_]*", text):
        return _code(text)
    return None if text.startswith(("/", "\\")) or ":\\" in text else text


@dataclass(frozen=True, slots=True)
class FigureLine:
    """One figure of a decision, labelled in Chinese."""

    label: str
    value: str


def _figure_lines(kind: str, figures: dict[str, Any]) -> tuple[FigureLine, ...]:
    """The labelled figures a reviewer reads; figures without a Chinese label are left out."""
    lines = []
    for key, raw in figures.items():
        title = _KIND_FIGURE_LABELS.get((kind, key)) or FIGURE_LABELS.get(key)
        if key in _SHOWN_ELSEWHERE or title is None:
            continue
        text = _value(key, raw)
        if text is not None:
            lines.append(FigureLine(title, text))
    return tuple(lines)


@dataclass(frozen=True, slots=True)
class DecisionItem:
    """A decision for reviewers: why, what, in which state, on which rule, who decided when and why."""

    id: int
    kind: str
    kind_label: str
    subject: str
    subject_label: str
    reason: str
    outcome: str
    outcome_label: str
    proposed_outcome_label: str
    state: str
    state_label: str
    rule: str
    clause: str
    figures: tuple[FigureLine, ...]
    decided_by: str
    decided_at: str
    answer_reason: str
    ministry: str
    new_due: str
    cycle_year: int
    run_id: str
    dag_id: str | None
    region_code: str = ""
    cluster_id: str = ""
    #: Who decided by name (``张伟（…处）``); ``decided_by`` is the login, shown beside it.
    decided_by_name: str = ""
    #: The cycle run that proposed it, in words (``2025 年度审查运行``).
    run_words: str = ""
    #: The Required Actions asked about it (the decision DAG's runs), first round first.
    review_runs: tuple[ReviewRun, ...] = ()

    @property
    def pending(self) -> bool:
        """A proposal waiting for a reviewer's answer."""
        return self.state == "proposed"


@dataclass(frozen=True, slots=True)
class DecisionGroup:
    """The decisions of one kind."""

    kind: str
    label: str
    items: tuple[DecisionItem, ...]


def _subject_names(session: Session, decisions: Iterable[Decision]) -> dict[str, str]:
    """Cluster names by id, for subjects that are clusters (``cluster`` or ``cluster/ground``)."""
    ids = {d.subject.split("/", 1)[0] for d in decisions}
    return {c.id: c.name for c in session.scalars(select(Cluster).where(Cluster.id.in_(ids)))}


def _subject_label(decision: Decision, names: dict[str, str], programme: Programme) -> str:
    """The cluster's name; for a file, request or bulletin, the region and the obligation in words."""
    titles = {o.id: o.title for o in programme.obligations}
    return subject_label(decision.subject, decision.figures, titles, names)


def _ministry(figures: dict[str, Any]) -> str:
    """MIIT's recorded decision in words: 工业和信息化部决定：复核通过…（文号，日期）."""
    m = figures.get("ministry_decision")
    if not isinstance(m, dict):
        return ""
    extra = "，".join(str(x) for x in (m.get("reference"), m.get("date")) if x)
    return f"工业和信息化部决定：{label(MIIT_DECISIONS, m.get('decision'))}" + (
        f"（{extra}）" if extra else ""
    )


def _region_of(decision: Decision) -> str:
    """The region a decision is about: its figure, else the region part of a file's subject."""
    code = (decision.figures or {}).get("region_code")
    parts = decision.subject.split("/")
    if not code and len(parts) >= 3 and parts[2].isdigit():
        code = parts[2]
    return str(code or "")


def _item(
    programme: Programme, d: Decision, names: dict[str, str], asked: dict[int, tuple[ReviewRun, ...]]
) -> DecisionItem:
    figures = dict(d.figures or {})
    by_kind = {o.kind: o.id for o in programme.obligations}
    obligation = figures.get("obligation_id") or by_kind.get(d.kind)
    proposed = str(figures.get("proposed_outcome") or d.outcome)
    state = decision_state(figures)
    return DecisionItem(
        id=d.id,
        kind=d.kind,
        kind_label=label(DECISION_KINDS, d.kind),
        subject=d.subject,
        subject_label=_subject_label(d, names, programme),
        reason=str(figures.get("reason") or ""),
        outcome=d.outcome,
        outcome_label=label(OUTCOMES, d.outcome),
        proposed_outcome_label=label(OUTCOMES, proposed)
        if state == "changed" and proposed != d.outcome
        else "",
        state=state,
        state_label=state_label(figures),
        rule=rule_in_words(d, programme),
        clause=d.clause or "",
        figures=_figure_lines(d.kind, figures),
        decided_by=str(figures.get("decided_by") or ""),
        decided_at=beijing_time(figures.get("decided_at")),
        answer_reason=str(figures.get("answer_reason") or ""),
        ministry=_ministry(figures),
        new_due=str(figures.get("new_due") or "") if state == "returned" else "",
        cycle_year=d.cycle_year,
        run_id=d.run_id or "",
        dag_id=cycle_dag_id(programme.id, obligation) if obligation and d.run_id else None,
        region_code=_region_of(d),
        cluster_id=head if (head := d.subject.split("/", 1)[0]) in names else "",
        decided_by_name=decided_by_name(
            str(figures.get("decided_by") or ""), str(figures.get("decided_by_name") or "")
        ),
        run_words=cycle_run_words(d.cycle_year, str(figures.get("period") or "")),
        review_runs=asked.get(d.id, ()),
    )


def decisions_view(
    session: Session, programme: Programme, year: int, kind: str | None = None, as_of: dt.date | None = None
) -> list[DecisionItem]:
    """The decisions of a cycle (file acceptances and gate runs excluded), by kind and subject.

    Args:
        session: Open session on the review database.
        programme: The programme (its obligations tell which cycle DAG decided).
        year: Cycle year.
        kind: Only decisions of this kind.
        as_of: Leave out decisions taken after this (Beijing) day.
    """
    stmt = select(Decision).where(
        Decision.programme_id == programme.id,
        Decision.cycle_year == year,
        Decision.kind.not_in(NOT_DECISIONS),
    )
    if kind is not None:
        stmt = stmt.where(Decision.kind == kind)
    decided = sorted(
        (d for d in session.scalars(stmt) if as_of is None or _beijing_day(d.decided_at) <= as_of),
        key=lambda d: (d.kind, d.subject),
    )
    names = _subject_names(session, decided)
    asked = review_runs(session, decided)
    return [_item(programme, d, names, asked) for d in decided]


def decision_items(
    session: Session, programme: Programme, decisions: Iterable[Decision]
) -> list[DecisionItem]:
    """Decisions of the log as reviewers read them (e.g. those about one region, for its page)."""
    chosen = list(decisions)
    names = _subject_names(session, chosen)
    asked = review_runs(session, chosen)
    return [_item(programme, d, names, asked) for d in chosen]


def decision_groups(items: Iterable[DecisionItem]) -> list[DecisionGroup]:
    """Decisions grouped by kind, in the order of ``DECISION_GROUPS``; pending ones first in each group."""
    order = list(DECISION_GROUPS)
    by_kind: dict[str, list[DecisionItem]] = {}
    for item in items:
        by_kind.setdefault(item.kind, []).append(item)
    kinds = sorted(by_kind, key=lambda k: (order.index(k) if k in order else len(order), k))
    return [
        DecisionGroup(
            kind=k,
            label=DECISION_GROUPS.get(k) or label(DECISION_KINDS, k),
            items=tuple(sorted(by_kind[k], key=lambda i: (not i.pending, i.subject_label))),
        )
        for k in kinds
    ]


@dataclass(frozen=True, slots=True)
class PendingItem:
    """A proposal waiting for its reviewer, and where to answer it."""

    programme_id: str
    programme_name: str
    cycle_year: int
    kind_label: str
    subject_label: str
    outcome_label: str
    reason: str
    asked_on: dt.date | None
    working_days_open: int | None
    decision_dag_id: str
    #: The open Required Action: its run in words and its Airflow page (empty before it is asked).
    review: ReviewRun | None = None


def pending_view(
    session: Session,
    programmes: Iterable[Programme],
    today: dt.date,
    year: int | None = None,
    calendar: WorkingCalendar | None = None,
) -> list[PendingItem]:
    """Proposals in state ``proposed`` (待审定), longest open first.

    Args:
        session: Open session on the review database.
        programmes: The programmes to look in.
        today: The day the working days open are counted to.
        year: Only this cycle year (default: every year).
        calendar: Working calendar (default: the configured one).

    Returns:
        One item per proposal; ``asked_on`` is the Beijing day its open Required
        Action was asked (None before the decision DAG asked it), and
        ``working_days_open`` the working days since then.
    """
    calendar = calendar or default_calendar()
    out = []
    for programme in programmes:
        stmt = select(Decision).where(
            Decision.programme_id == programme.id, Decision.kind.not_in(NOT_DECISIONS)
        )
        if year is not None:
            stmt = stmt.where(Decision.cycle_year == year)
        proposals = [d for d in session.scalars(stmt) if decision_state(d.figures) == "proposed"]
        if not proposals:
            continue
        asked = _asked_on(session, [d.id for d in proposals])
        names = _subject_names(session, proposals)
        runs = review_runs(session, proposals)
        for d in proposals:
            day = asked.get(d.id)
            out.append(
                PendingItem(
                    programme_id=programme.id,
                    programme_name=programme.short_name,
                    cycle_year=d.cycle_year,
                    kind_label=label(DECISION_KINDS, d.kind),
                    subject_label=_subject_label(d, names, programme),
                    outcome_label=label(OUTCOMES, d.outcome),
                    reason=str((d.figures or {}).get("reason") or ""),
                    asked_on=day,
                    working_days_open=max(calendar.working_days_between(day, today), 0) if day else None,
                    decision_dag_id=decision_dag_id(programme.id),
                    review=next((r for r in runs.get(d.id, ()) if r.open), None),
                )
            )
    out.sort(key=lambda p: (-(p.working_days_open or 0), p.programme_id, p.cycle_year, p.subject_label))
    return out


def _asked_on(session: Session, decision_ids: list[int]) -> dict[int, dt.date]:
    """The Beijing day each proposal's open round was asked."""
    stmt = select(DecisionReview).where(
        DecisionReview.decision_id.in_(decision_ids), DecisionReview.answer.is_(None)
    )
    out: dict[int, dt.date] = {}
    for review in session.scalars(stmt):
        at = review.asked_at
        if at.tzinfo is None:
            at = at.replace(tzinfo=dt.UTC)
        out[review.decision_id] = at.astimezone(TZ).date()
    return out


@dataclass(frozen=True, slots=True)
class AcceptanceItem:
    """One file's acceptance or return, for the instance's 受理记录."""

    region_code: str
    region_name: str
    file_name: str
    received_on: str
    outcome_label: str
    reason: str
    errors: int | None
    recorded_at: str
    receipt_no: str = ""


def _received_text(figures: dict) -> str:
    """When the file was received, Beijing time to the second when known (else its day)."""
    at = figures.get("received_at")
    if at:
        moment = dt.datetime.fromisoformat(str(at)).astimezone(TZ)
        return f"{moment:%Y-%m-%d %H:%M:%S}"
    return str(figures.get("received_on") or "")


def acceptances_view(
    session: Session, instance: ObligationInstance, as_of: dt.date | None = None
) -> list[AcceptanceItem]:
    """The 受理记录 of an instance: every file accepted or returned, newest first.

    Args:
        session: Open session on the review database.
        instance: The obligation instance.
        as_of: Leave out files received after this day.
    """
    prefix = f"{instance.obligation_id}/{instance.period}/"
    rows = [
        d
        for d in session.scalars(
            select(Decision).where(
                Decision.programme_id == instance.programme_id,
                Decision.cycle_year == instance.cycle_year,
                Decision.kind == "acceptance",
                Decision.subject.startswith(prefix, autoescape=True),
            )
        )
    ]
    codes = {d.subject.split("/")[2] for d in rows if d.subject.count("/") >= 3}
    regions = {r.code: r.name for r in session.scalars(select(Region).where(Region.code.in_(codes)))}
    out = []
    for d in rows:
        f = d.figures or {}
        parts = d.subject.split("/")
        code = parts[2] if len(parts) >= 4 and parts[2] != "-" else ""
        name = str(f.get("file") or "").replace("\\", "/").rsplit("/", 1)[-1]
        if as_of is not None and str(f.get("received_on") or "") > as_of.isoformat():
            continue
        errors = f.get("errors")
        out.append(
            AcceptanceItem(
                region_code=code,
                region_name=regions.get(code, code) if code else "未识别地区",
                file_name=name,
                received_on=_received_text(f),
                outcome_label=label(OUTCOMES, d.outcome),
                reason=str(f.get("reason") or ""),
                errors=int(errors) if isinstance(errors, int | float) else None,
                recorded_at=beijing_time(d.decided_at),
                receipt_no=str(f.get("receipt_no") or ""),
            )
        )
    out.sort(key=lambda a: (a.received_on, a.recorded_at), reverse=True)
    return out
