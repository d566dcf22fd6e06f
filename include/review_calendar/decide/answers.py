"""A reviewer's answer to a proposal: approve, change the outcome (with a reason), or return it.

The decision DAG asks one Required Action per proposal (Airflow's HITL
operators); this module takes the answer once it is given. It checks what the
form cannot (a change needs a reason and another outcome, a return needs a
comment), records the answer in the review ledger with who decided and when,
moves the decision to its state (``approved``, ``changed``, ``returned`` or
``awaiting_ministry``), applies the effect once (:mod:`.effects`) and queues the
notice. An incomplete answer applies nothing and asks again, saying why.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from review_calendar.decide.effects import DECIDED_AS, alternatives, apply_effect, figures_after
from review_calendar.domain.labels import OUTCOMES, REVIEW_OPTIONS, label
from review_calendar.domain.people import display_name
from review_calendar.domain.verdicts import decision_state
from review_calendar.store.reviews import ANSWERS, AskedIn, asked_in
from review_calendar.store.tables.decisions import Decision

if TYPE_CHECKING:
    from collections.abc import Mapping

    from sqlalchemy.orm import Session

    from review_calendar.domain.programmes import Programme

#: The options of each Required Action and the answer each one is (one definition, in labels).
OPTIONS = REVIEW_OPTIONS
#: Kinds whose decision is announced to the cluster's region once answered.
ANNOUNCED_KINDS = ("evaluation", "re_review", "base_re_review")


@dataclass(frozen=True, slots=True)
class Answer:
    """What a reviewer answered in a Required Action.

    Attributes:
        answer: ``approve``, ``change`` or ``return`` (:data:`OPTIONS`).
        outcome: The outcome chosen instead (``change`` only).
        reason: The reason of a change, the comment of a return, or a note on an approval.
        new_due: The new due date a return or an extension sets, if any.
        by: The reviewer's user name (the Airflow login).
        at: When the answer was given (UTC).
        by_name: The reviewer by name (:func:`review_calendar.domain.people.display_name`).
    """

    answer: str
    outcome: str | None
    reason: str
    new_due: dt.date | None
    by: str
    at: dt.datetime
    by_name: str = ""


def answer_from_hitl(payload: dict[str, Any], accounts: Mapping[str, str] | None = None) -> Answer:
    """The :class:`Answer` in a HITL task's result (``chosen_options``, ``params_input``, ``responded_*``).

    ``responded_by_user`` is ``{"id": <auth manager user id>, "name": <login>}`` (FAB's
    ``username``); the reviewer's name comes from the roster, else ``accounts`` (login →
    the Airflow account's own name, :func:`review_calendar.domain.people.account_name`).

    Raises:
        ValueError: The chosen option is not one of :data:`OPTIONS`.
    """
    chosen = (payload.get("chosen_options") or [""])[0]
    if chosen not in OPTIONS:
        raise ValueError(f"unknown option {chosen!r}; expected one of {list(OPTIONS)}")
    form = payload.get("params_input") or {}
    user = payload.get("responded_by_user") or {}
    at = payload.get("responded_at") or dt.datetime.now(dt.UTC)
    if isinstance(at, str):
        at = dt.datetime.fromisoformat(at)
    due = form.get("new_due")
    login = str(user.get("name") or user.get("id") or "")
    return Answer(
        answer=OPTIONS[chosen],
        outcome=form.get("outcome") or None,
        reason=str(form.get("reason") or "").strip(),
        new_due=dt.date.fromisoformat(due) if due else None,
        by=login,
        at=at,
        by_name=display_name(login, account=(accounts or {}).get(login, "")),
    )


def incomplete(decision: Decision, answer: Answer, programme: Programme | None = None) -> str:
    """Why an answer cannot be taken (in Chinese), or "" when it can."""
    if answer.answer not in ANSWERS:
        return f"未知的答复：{answer.answer}"
    if answer.answer == "change":
        choices = alternatives(decision.kind, programme)
        if not answer.outcome:
            return "选择了“改变结论”，但没有选择改为哪一结论"
        if answer.outcome not in choices:
            return f"“{label(OUTCOMES, answer.outcome)}”不是本类决定可选的结论"
        if answer.outcome == decision.outcome:
            return "选择了“改变结论”，但所选结论与拟定结论相同"
        if not answer.reason:
            return "选择了“改变结论”，但没有填写理由"
    if answer.answer == "return" and not answer.reason:
        return "选择了“退回补充材料”，但没有写明需要补充什么"
    return ""


def take_answer(session: Session, programme: Programme, where: AskedIn, answer: Answer) -> dict[str, Any]:
    """Take the answer given in the Required Action of task instance ``where``.

    Args:
        session: Open session; the caller commits.
        programme: The decision's programme.
        where: The task instance that asked (its round is found in the review ledger).
        answer: The answer.

    Returns:
        ``{"decision_id", "round", "state", "outcome", "ask_again"}`` (``round``: the round
        asked in ``where``): ``ask_again`` is the reason
        (in Chinese) when the answer was incomplete and a new round was opened to ask
        again; a repeated call returns what was recorded and changes nothing.

    Raises:
        LookupError: No round was asked in that task instance.
    """
    review = asked_in(session, where)
    if review is None:
        raise LookupError(f"no proposal was asked in {where}")
    decision = session.get(Decision, review.decision_id)
    if decision is None:
        raise LookupError(f"the decision of round {review.id} is gone")
    if review.answer is not None:  # taken before: a re-run records once
        return {"decision_id": decision.id, "round": review.round, "state": decision.figures.get("state"),
                "outcome": decision.outcome, "ask_again": review.note if review.answer == "incomplete" else ""}  # fmt: skip
    if decision_state(decision.figures) != "proposed":  # decided in another round: never applied twice
        review.answer, review.note = "superseded", f"已于其他轮次审定（{decision.figures.get('state')}）"
        session.flush()
        return {"decision_id": decision.id, "round": review.round, "state": decision.figures.get("state"), "outcome": decision.outcome,
                "ask_again": ""}  # fmt: skip
    review.decided_by, review.decided_at = answer.by, answer.at
    review.reason, review.new_due = answer.reason, answer.new_due
    why = incomplete(decision, answer, programme)
    if why:
        review.answer, review.outcome = "incomplete", None
        review.note = why
        session.flush()
        return {
            "decision_id": decision.id,
            "round": review.round,
            "state": "proposed",
            "outcome": decision.outcome,
            "ask_again": why,
        }
    outcome = answer.outcome if answer.answer == "change" else decision.outcome
    review.answer, review.outcome = answer.answer, outcome
    answered = {
        "proposed_outcome": decision.figures.get("proposed_outcome", decision.outcome),
        "decided_by": answer.by,
        "decided_by_name": answer.by_name or answer.by,
        "decided_at": answer.at.isoformat(),
        "answer_reason": answer.reason,
        "review_round": review.round,
    }
    if answer.answer == "return":
        decision.figures = figures_after(decision, state="returned", **answered,
                                         new_due=answer.new_due.isoformat() if answer.new_due else None)  # fmt: skip
        session.flush()
        return {
            "decision_id": decision.id,
            "round": review.round,
            "state": "returned",
            "outcome": decision.outcome,
            "ask_again": "",
        }
    if answer.answer == "change":  # the machine's reason stays; the reviewer's is answer_reason
        decision.outcome = outcome
    applied = apply_effect(session, programme, decision, outcome, answer.by)
    state = (
        "awaiting_ministry"
        if applied == "awaiting_ministry"
        else ("changed" if answer.answer == "change" else "approved")
    )
    if state != "awaiting_ministry":
        decision.outcome = review.outcome = DECIDED_AS.get(outcome, outcome)
    decision.figures = figures_after(decision, state=state, **answered)
    session.flush()
    return {
        "decision_id": decision.id,
        "round": review.round,
        "state": state,
        "outcome": outcome,
        "ask_again": "",
    }
