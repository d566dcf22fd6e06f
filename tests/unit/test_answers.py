"""A reviewer's answer to a proposal: nothing before it, once after it, a reason when changing.

The cycle only proposes; the answer (the payload Airflow's HITL operator returns)
is taken by :func:`review_calendar.tasks.reviews.take_review_answer`. 冀工信产业〔2016〕93号
五: revocation with claw-back of a pilot whose funds were misused — applied only
once a named reviewer approves it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from review_calendar.decide.apply import decide_evaluations
from review_calendar.domain.programmes import find_instance, load_programme_file
from review_calendar.store.db import session_scope
from review_calendar.store.models import Decision, DecisionReview, Enrolment, Evaluation, Subsidy
from review_calendar.store.reviews import AskedIn, ask, to_ask
from review_calendar_demo.seed import seed_demo
from tests.support.reviews import answer

pytestmark = pytest.mark.unit
PROGRAMMES = Path(__file__).resolve().parents[2] / "programmes"
A = load_programme_file(PROGRAMMES / "hebei_smart_cluster.yaml")
B = load_programme_file(PROGRAMMES / "miit_sme_cluster.yaml")


@pytest.fixture
def proposed(db_url: str, review_env: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """Programme A's 2025 evaluation proposed: baigou_luggage misused funds (revocation, 200万元 claw-back)."""
    from review_calendar.store.db import upgrade

    monkeypatch.setenv("REVIEW_CALENDAR_DB_URL", db_url)
    upgrade(db_url)
    seed_demo(db_url)
    with session_scope(db_url) as s:
        s.add_all([
            Evaluation(programme_id=A.id, cycle_year=2025, cluster_id="baigou_luggage", evaluator="x", score=80.0,
                       violation=True),
            Evaluation(programme_id=A.id, cycle_year=2025, cluster_id="lixian_fur", evaluator="x", score=52.0,
                       violation=False),
        ])  # fmt: skip
    with session_scope(db_url) as s:
        decide_evaluations(s, A, find_instance(A, 2025, "performance_evaluation"), "cycle-run", dry_run=False)
    return db_url


def _state(url: str, subject: str) -> tuple[str, str, str]:
    with session_scope(url) as s:
        d = s.scalars(
            select(Decision).where(Decision.kind == "evaluation", Decision.subject == subject)
        ).one()
        e = s.get(Enrolment, (A.id, subject))
        return d.outcome, d.figures["state"], e.status


def _clawbacks(url: str) -> int:
    with session_scope(url) as s:
        return s.scalar(select(func.count()).select_from(Subsidy).where(Subsidy.kind == "clawback"))


def test_a_revocation_is_only_proposed_until_a_reviewer_answers(proposed: str) -> None:
    assert _state(proposed, "baigou_luggage") == ("revoke", "proposed", "active")
    assert _clawbacks(proposed) == 0


def test_approval_revokes_and_claws_back_once(proposed: str) -> None:
    first = answer(proposed, A.id, "evaluation", "baigou_luggage", "批准", reason="同意")
    again = answer(proposed, A.id, "evaluation", "baigou_luggage", "批准")  # a second round: nothing to ask

    assert first["state"] == "approved"
    assert _state(proposed, "baigou_luggage") == ("revoke", "approved", "revoked")
    assert _clawbacks(proposed) == 1
    assert again["state"] == "approved" and _clawbacks(proposed) == 1
    with session_scope(proposed) as s:
        d = s.scalars(
            select(Decision).where(Decision.subject == "baigou_luggage", Decision.kind == "evaluation")
        ).one()
        assert d.figures["decided_by"] == "hebei_reviewer" and d.figures["decided_at"]
        clawback = s.scalars(select(Subsidy).where(Subsidy.kind == "clawback")).one()
        assert (clawback.beneficiary, clawback.amount_wan_yuan) == ("baigou_luggage", 200.0)


def test_a_change_without_a_reason_applies_nothing_and_is_asked_again(proposed: str) -> None:
    result = answer(proposed, A.id, "evaluation", "baigou_luggage", "改变结论", outcome="rectify")

    assert "没有填写理由" in result["ask_again"]
    assert _state(proposed, "baigou_luggage") == ("revoke", "proposed", "active")
    with session_scope(proposed) as s:
        waiting = [d.subject for d in to_ask(s, A.id)]
    assert "baigou_luggage" in waiting  # the next decision run asks again


def test_a_change_with_a_reason_applies_the_chosen_outcome(proposed: str) -> None:
    result = answer(proposed, A.id, "evaluation", "baigou_luggage", "改变结论", outcome="rectify",
                    reason="违规金额已全部退回，给予限期整改")  # fmt: skip

    assert result["state"] == "changed"
    assert _state(proposed, "baigou_luggage") == ("rectify", "changed", "active")
    assert _clawbacks(proposed) == 0
    with session_scope(proposed) as s:
        d = s.scalars(
            select(Decision).where(Decision.subject == "baigou_luggage", Decision.kind == "evaluation")
        ).one()
        assert (d.figures["proposed_outcome"], d.figures["answer_reason"]) == (
            "revoke",
            "违规金额已全部退回，给予限期整改",
        )


@pytest.mark.parametrize("outcome", ["baigou_luggage", "revoke_recognition"])
def test_a_change_to_the_same_or_a_foreign_outcome_is_asked_again(proposed: str, outcome: str) -> None:
    chosen = "revoke" if outcome == "baigou_luggage" else outcome
    result = answer(proposed, A.id, "evaluation", "baigou_luggage", "改变结论", outcome=chosen, reason="理由")

    assert result["ask_again"]
    assert _state(proposed, "baigou_luggage") == ("revoke", "proposed", "active")


def test_a_return_without_a_comment_is_asked_again_and_with_one_is_recorded(proposed: str) -> None:
    empty = answer(proposed, A.id, "evaluation", "lixian_fur", "退回补充材料")
    returned = answer(proposed, A.id, "evaluation", "lixian_fur", "退回补充材料", reason="请补充第三方评估报告原件",
                      new_due="2026-02-27")  # fmt: skip

    assert "需要补充什么" in empty["ask_again"]
    assert returned["state"] == "returned"
    assert _state(proposed, "lixian_fur") == ("stop_support", "returned", "active")


def test_asking_twice_opens_one_round(proposed: str) -> None:
    with session_scope(proposed) as s:
        d = s.scalars(
            select(Decision).where(Decision.subject == "lixian_fur", Decision.kind == "evaluation")
        ).one()
        where = AskedIn("decisions__hebei_smart_cluster", "run-1", "review", 0)
        assert ask(s, d, where).round == ask(s, d, where).round == 1
        assert s.scalar(select(func.count()).select_from(DecisionReview)) == 1
        assert "lixian_fur" not in [x.subject for x in to_ask(s, A.id)]


def test_a_re_run_of_the_cycle_keeps_an_answered_proposal(proposed: str) -> None:
    answer(proposed, A.id, "evaluation", "baigou_luggage", "批准")
    with session_scope(proposed) as s:
        decide_evaluations(
            s, A, find_instance(A, 2025, "performance_evaluation"), "cycle-rerun", dry_run=False
        )
        assert "baigou_luggage" not in [x.subject for x in to_ask(s, A.id)]
    assert _state(proposed, "baigou_luggage") == ("revoke", "approved", "revoked")


def test_an_approved_rectification_opens_its_follow_up_once(proposed: str) -> None:
    """A rectify outcome (here chosen instead of stop_support) opens the 整改报告 follow-up with its deadline."""
    from review_calendar.decide.rectification import KIND

    answer(proposed, A.id, "evaluation", "lixian_fur", "改变结论", outcome="rectify", reason="给予整改机会")
    with session_scope(proposed) as s:
        follow_ups = s.scalars(select(Decision).where(Decision.kind == KIND)).all()
        assert [f.subject for f in follow_ups] == ["lixian_fur"]


def test_two_decision_runs_a_second_apart_ask_each_proposal_once(
    proposed: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Two proposal Assets a second apart start two decision runs. On SQLite each SELECT sees the
    # database as of itself, so the second run can list a proposal the first has just asked; it
    # must not ask it again (two Required Actions for one proposal, the reviewer answering one).
    from review_calendar.store import reviews as ledger
    from review_calendar.tasks import reviews

    with session_scope(proposed) as s:
        stale = to_ask(s, A.id)  # what the second run listed before the first had asked
    first = reviews.collect_proposals(A.id, "decisions__hebei_smart_cluster", "run-1")
    monkeypatch.setattr(ledger, "to_ask", lambda session, *a, **k: [session.merge(d) for d in stale])

    second = reviews.collect_proposals(A.id, "decisions__hebei_smart_cluster", "run-2")

    assert len(first) == len(stale) > 0 and second == []
    with session_scope(proposed) as s:
        assert s.scalar(select(func.count()).select_from(DecisionReview)) == len(first)
