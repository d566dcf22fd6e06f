"""Entry points of the decision DAGs: ask a reviewer about each proposal, take the answers.

``decisions__<programme>`` runs when a cycle publishes its Asset (or an
operator starts it): :func:`collect_proposals` opens one review round per
proposal not yet asked and returns what each Required Action shows;
:func:`take_review_answer` takes one answer (:mod:`review_calendar.decide.answers`),
applies it, and queues the notice. Nothing here waits: Airflow parks each
Required Action without a worker slot, and the cycle run has long finished.
"""

from __future__ import annotations

import datetime as dt
import importlib
import logging
from typing import TYPE_CHECKING, Any

from review_calendar.domain.programmes import load_programme
from review_calendar.settings import get_settings

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from sqlalchemy.orm import Session

    from review_calendar.domain.programmes import Programme
    from review_calendar.store.tables.decisions import Decision

log = logging.getLogger(__name__)

#: The task of the decision DAG that holds the Required Actions (one mapped instance per proposal).
REVIEW_TASK = "review"
#: Modules that register the effect of a decision kind (imported before an answer is applied).
EFFECT_MODULES = (
    "review_calendar.decide.subsidies",
    "review_calendar.tasks.bulletin",
    "review_calendar.tasks.returns",
)
#: Figures shown in a Required Action only as part of other lines, or internal.
_HIDDEN = frozenset({"state", "reason", "cluster", "region_code", "files", "proposed_outcome", "decided_by",
                     "decided_by_name", "decided_at", "answer_reason", "review_round", "obligation_id", "period", "as_of", "basis"})  # fmt: skip


def assigned_users(programme: Programme) -> list[dict[str, str]]:
    """The reviewers of a programme as HITL assigned users (``{"id", "name"}``, the Airflow user name)."""
    names = programme.review.reviewers if programme.review else []
    return [{"id": n, "name": n} for n in names]


def subject_name(decision: Decision, programme: Programme) -> str:
    """What a proposal is about, in words (:func:`domain.verdicts.subject_label`)."""
    from review_calendar.domain.verdicts import subject_label

    return subject_label(decision.subject, decision.figures, {o.id: o.title for o in programme.obligations})


def _value(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list | tuple):
        return "、".join(_value(v) for v in value) or "无"
    if isinstance(value, dict):
        return "；".join(f"{k}：{_value(v)}" for k, v in value.items())
    return str(value)


def proposal_body(programme: Programme, decision: Decision, note: str = "", region_label: str = "") -> str:
    """The Markdown of a Required Action: the cluster, the proposed outcome, the rule, the figures, the links.

    ``note`` says why it is asked again; ``region_label`` names the cluster's region.
    """
    from review_calendar.decide.effects import alternatives
    from review_calendar.domain.labels import DECISION_KINDS, FIGURE_LABELS, OUTCOMES, label
    from review_calendar.reviewer_pages.rule_words import rule_in_words

    f = decision.figures or {}
    region = f.get("region_code") or ""
    where = f"（{region_label or region}）" if region else ""
    lines = [
        f"### {label(DECISION_KINDS, decision.kind)}：{subject_name(decision, programme)}{where}",
        "",
    ]
    if note:
        lines += [f"> **再次请您审定**：{note}。请重新选择并填写。", ""]
    lines += [
        f"- **项目**：{programme.name}，{decision.cycle_year}年度",
        f"- **拟定结论**：**{label(OUTCOMES, decision.outcome)}**",
        f"- **理由**：{f.get('reason', '')}",
        f"- **依据**：{decision.clause or '—'}",
        f"- **规则**：{rule_in_words(decision, programme)}",
        f"- **审定单位**：{programme.review.authority if programme.review else programme.authority}",
    ]
    figures = [(k, v) for k, v in f.items() if k not in _HIDDEN and v not in (None, "", [], {})]
    if figures:
        lines += ["", "**数据与情形**", ""] + [
            f"- {label(FIGURE_LABELS, k)}：{_value(v)}" for k, v in figures
        ]
    links = [
        f"[{programme.short_name} {decision.cycle_year} 年度报送情况](/review-calendar/programmes/{programme.id}/{decision.cycle_year})"
    ]
    if f.get("obligation_id") and f.get("period"):
        links.append(
            f"[本期报送、闸门与汇总](/review-calendar/programmes/{programme.id}/{decision.cycle_year}/{f['obligation_id']}/{f['period']})"
        )
    lines += ["", "**材料**：" + " · ".join(links), ""]
    choices = "、".join(
        f"“{label(OUTCOMES, o)}”" for o in alternatives(decision.kind, programme) if o != decision.outcome
    )
    lines += [
        "---",
        "**如何答复**：选择“批准”即按拟定结论执行；选择“改变结论”须在“改为”中选择结论并填写理由"
        + (f"（可选：{choices}）" if choices else "")
        + "；选择“退回补充材料”须在“理由或意见”中写明需要补充什么，可填写新的截止日期。"
        "答复之前不执行任何决定、不发送任何通知。",
    ]
    return "\n".join(lines)


def collect_proposals(
    programme_id: str,
    dag_id: str,
    run_id: str,
    *,
    cycle_years: Iterable[int] | None = None,
    decision_ids: Iterable[int] | None = None,
) -> list[dict[str, Any]]:
    """Open a review round for every proposal not yet asked; one Required Action each.

    Args:
        programme_id: The programme.
        dag_id: The decision DAG.
        run_id: This run (kept with each round, so a re-run finds the rounds open and asks nothing).
        cycle_years: Only proposals of these cycle years (the instances whose Assets started the run).
        decision_ids: Only these proposals.

    Returns:
        One dict per Required Action, in map-index order: ``decision_id``, ``subject`` (the
        Required Action's title) and ``body`` (Markdown), ``outcomes`` (codes a reviewer may change to).
    """
    from review_calendar.decide.effects import alternatives
    from review_calendar.domain.labels import DECISION_KINDS, OUTCOMES, label
    from review_calendar.store.db import session_scope, upgrade
    from review_calendar.store.reviews import AskedIn, ask, rounds, to_ask
    from review_calendar.store.tables.registry import Region

    settings = get_settings()
    upgrade(settings.db_url)
    programme = load_programme(programme_id)
    asks: list[dict[str, Any]] = []
    with session_scope(settings.db_url) as session:
        pending = to_ask(session, programme_id, decision_ids=decision_ids, cycle_years=cycle_years)
        for decision in pending:
            earlier = rounds(session, decision.id)
            note = earlier[-1].note if earlier and earlier[-1].answer == "incomplete" else ""
            asked = ask(session, decision, AskedIn(dag_id, run_id, REVIEW_TASK, len(asks)), note=note)
            if (asked.dag_id, asked.run_id) != (dag_id, run_id):
                # Another run opened this round meanwhile (two proposal Assets a second apart start
                # two runs): its Required Action is the one the reviewer answers; none asked here.
                continue
            region = session.get(Region, decision.figures.get("region_code") or "")
            name = subject_name(decision, programme)
            asks.append({
                "decision_id": decision.id,
                "subject": f"{decision.cycle_year}年 {label(DECISION_KINDS, decision.kind)}：{name} → {label(OUTCOMES, decision.outcome)}",
                "body": proposal_body(programme, decision, note, f"{region.name} {region.code}" if region else ""),
                "outcomes": [o for o in alternatives(decision.kind, programme) if o != decision.outcome],
            })  # fmt: skip
    log.info("%s: %d proposal(s) asked in %s", programme_id, len(asks), run_id)
    return asks


def _notice_reason(figures: dict[str, Any]) -> str:
    """The reason a notice gives: the reviewer's when the outcome was changed, else the rule's."""
    if figures.get("state") == "changed" and figures.get("answer_reason"):
        return f"经审定改为本结论：{figures['answer_reason']}"
    return str(figures.get("reason", ""))


def _queue_notice(session: Session, programme: Programme, decision: Decision) -> bool:
    """Queue the answered decision's notice to the cluster's region (announced kinds only)."""
    from review_calendar.decide.answers import ANNOUNCED_KINDS
    from review_calendar.domain.verdicts import announceable
    from review_calendar.notify.notices import queue_decision
    from review_calendar.notify.render import DecisionNotice

    f = decision.figures or {}
    if decision.kind not in ANNOUNCED_KINDS or not f.get("region_code") or not announceable(f):
        return False
    if decision.kind == "re_review" and programme.re_review and programme.re_review.decided_by == "ministry":
        return False  # MIIT decides and announces (第十五条); the province's recommendation is not a notice
    if f.get("state") not in ("approved", "changed"):
        return False
    notice = DecisionNotice(kind=decision.kind, cycle_year=decision.cycle_year, subject=decision.subject,
                            subject_name=f.get("cluster", decision.subject), outcome=decision.outcome,
                            reason=_notice_reason(f), clause=decision.clause)  # fmt: skip
    return queue_decision(session, programme, notice,
                          instance_key=f"{decision.programme_id}/{decision.cycle_year}/{decision.kind}",
                          region_code=f["region_code"], created_on=dt.datetime.now(dt.UTC).date())  # fmt: skip


def take_review_answer(
    programme_id: str,
    dag_id: str,
    run_id: str,
    map_index: int,
    payload: dict[str, Any],
    accounts: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Take the answer of one Required Action: record, apply once, queue the notice.

    Args:
        programme_id: The programme.
        dag_id, run_id, map_index: The task instance that asked (task :data:`REVIEW_TASK`).
        payload: The HITL task's result (``chosen_options``, ``params_input``, ``responded_by_user``, ``responded_at``).
        accounts: Login → the Airflow account's own name, for reviewers missing from the roster.

    Returns:
        ``decision_id``, ``state``, ``outcome``, ``ask_again`` (why, when the answer was
        incomplete: the caller starts a new run that asks again, named by
        ``cycle_year``, ``period``, ``round`` and ``answered_at``) and ``notice`` (queued or not).
    """
    from review_calendar.decide.answers import answer_from_hitl, take_answer
    from review_calendar.store.db import session_scope
    from review_calendar.store.reviews import AskedIn
    from review_calendar.store.tables.decisions import Decision

    for module in EFFECT_MODULES:
        importlib.import_module(module)
    settings = get_settings()
    programme = load_programme(programme_id)
    with session_scope(settings.db_url) as session:
        where = AskedIn(dag_id, run_id, REVIEW_TASK, map_index)
        answer = answer_from_hitl(payload, accounts)
        result = take_answer(session, programme, where, answer)
        decision = session.get(Decision, result["decision_id"])
        result["answered_at"] = answer.at
        result["cycle_year"] = decision.cycle_year if decision is not None else None
        result["period"] = str((decision.figures or {}).get("period") or "") if decision is not None else ""
        if decision is not None and decision.kind == "submission_review" and result["state"] == "returned":
            from review_calendar.tasks.returns import return_submission

            # Returned for correction: 退回修改 with the comment and the new due date, the county told.
            return_submission(session, programme, decision, answer.reason, answer.new_due, answer.by)
        result["notice"] = bool(decision is not None and _queue_notice(session, programme, decision))
    log.info("Decision %s: %s (%s)%s", result["decision_id"], result["state"], result["outcome"],
             f"; asked again: {result['ask_again']}" if result["ask_again"] else "")  # fmt: skip
    return result
