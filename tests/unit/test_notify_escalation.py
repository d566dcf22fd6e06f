"""Escalation of unanswered proposals on working days: at N and 2N, never before, once per level, nothing decided.

A real review database (SQLite; PostgreSQL with the ``postgres`` mark); proposals are
asked through the review ledger (:func:`review_calendar.store.reviews.ask`) and
their ``asked_at`` set to a day before the 2025 National Day week (Oct 1-8 off,
Sat Oct 11 a make-up working day). Hebei and Langfang escalate after 3 working days.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from review_calendar.domain.calendar import TZ, default_calendar
from review_calendar.domain.programmes import Programme, load_programme
from review_calendar.notify.escalation import escalation_level, queue_escalations
from review_calendar.store.db import session_scope
from review_calendar.store.models import Decision, DecisionReview, OutboxMessage
from review_calendar.store.reviews import AskedIn, ask, open_rounds
from review_calendar.tasks.escalation import escalate_proposals

pytestmark = pytest.mark.unit

TUE_BEFORE_HOLIDAY = dt.date(2025, 9, 30)
FRIDAY = dt.date(2025, 10, 17)


def _at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(10, 0), tzinfo=TZ).astimezone(dt.UTC)


def _propose(url: str, programme_id: str, asked: dt.date, subject: str = "yutian_printing") -> int:
    with session_scope(url) as session:
        decision = Decision(
            programme_id=programme_id, cycle_year=2025, kind="evaluation", subject=subject, outcome="rectify",
            rule="r", clause="冀工信产业〔2016〕93号 五",
            figures={"state": "proposed", "cluster": "玉田印刷包装产业集群", "region_code": "130229"},
        )  # fmt: skip
        session.add(decision)
        session.flush()
        review = ask(session, decision, AskedIn(f"decisions__{programme_id}", "run_1", "review_proposal", 0))
        review.asked_at = _at(asked)
        return decision.id


def _escalate(url: str, programme: Programme, day: dt.date) -> int:
    with session_scope(url) as session:
        return queue_escalations(session, programme, day, default_calendar()).queued


def _mails(url: str) -> list[OutboxMessage]:
    with session_scope(url) as session:
        rows = list(session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "escalation")))
        session.expunge_all()
    return rows


@pytest.mark.parametrize(
    ("asked", "not_yet", "due"),
    [
        pytest.param(
            TUE_BEFORE_HOLIDAY, dt.date(2025, 10, 10), dt.date(2025, 10, 11), id="national-day-week"
        ),
        pytest.param(FRIDAY, dt.date(2025, 10, 21), dt.date(2025, 10, 22), id="over-a-weekend"),
    ],
)
def test_first_escalation_after_n_working_days_not_before(
    asked: dt.date, not_yet: dt.date, due: dt.date
) -> None:
    calendar = default_calendar()

    assert escalation_level(asked, not_yet, 3, calendar) == (0, 2)
    assert escalation_level(asked, due, 3, calendar) == (1, 3)


def test_escalates_at_n_and_2n_once_per_level_and_decides_nothing(migrated_url: str) -> None:
    programme = load_programme("hebei_smart_cluster")
    decision_id = _propose(migrated_url, programme.id, TUE_BEFORE_HOLIDAY)

    days = [dt.date(2025, 10, d) for d in (8, 10, 11, 11, 13, 15, 15, 16)]
    queued = [_escalate(migrated_url, programme, day) for day in days]

    assert queued == [0, 0, 1, 0, 0, 1, 0, 0]
    first, second = _mails(migrated_url)
    assert [m["addr"] for m in first.to_addrs] == ["chuzhang.cyzc@gxt.hebei.example.cn"]
    assert "第1次" in first.subject and "第2次" in second.subject
    assert "已3个工作日未作答复" in first.body and "已6个工作日未作答复" in second.body
    assert "拟定结论：限期整改" in first.body and "审阅人：hebei_reviewer、reviewer" in first.body
    assert (
        "浏览 › 待响应的任务实例" in first.body
        and "decisions__hebei_smart_cluster / run_1 / review_proposal[0]" in first.body
    )
    with session_scope(migrated_url) as session:
        decision = session.get(Decision, decision_id)
        (review,) = session.scalars(select(DecisionReview).where(DecisionReview.decision_id == decision_id))
        assert (decision.outcome, decision.figures["state"]) == ("rectify", "proposed")
        assert (review.answer, review.escalations, review.escalated_on) == (None, 2, dt.date(2025, 10, 15))
        assert len(open_rounds(session, programme.id)) == 1


def test_an_answered_proposal_is_not_escalated(migrated_url: str) -> None:
    programme = load_programme("hebei_smart_cluster")
    decision_id = _propose(migrated_url, programme.id, TUE_BEFORE_HOLIDAY)
    with session_scope(migrated_url) as session:
        (review,) = session.scalars(select(DecisionReview).where(DecisionReview.decision_id == decision_id))
        review.answer = "approve"

    assert _escalate(migrated_url, programme, dt.date(2025, 10, 15)) == 0


def test_langfang_escalates_within_its_city_bureau(migrated_url: str) -> None:
    programme = load_programme("langfang_digital")
    _propose(migrated_url, programme.id, TUE_BEFORE_HOLIDAY, subject="wenan_board")

    _escalate(migrated_url, programme, dt.date(2025, 10, 11))

    (mail,) = _mails(migrated_url)
    assert [m["addr"] for m in mail.to_addrs] == ["kezhang@gxj.langfang.example.cn"]
    assert mail.cc_addrs == []
    assert "gxt.hebei" not in mail.body and "河北省工业和信息化厅" not in mail.body
    assert "廊坊市工业和信息化局" in mail.body


def test_the_task_entry_point_covers_every_programme_and_a_dry_run_writes_nothing(
    migrated_url: str, review_env: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REVIEW_CALENDAR_DB_URL", migrated_url)
    _propose(migrated_url, "hebei_smart_cluster", TUE_BEFORE_HOLIDAY)
    _propose(migrated_url, "langfang_digital", TUE_BEFORE_HOLIDAY, subject="wenan_board")

    dry = escalate_proposals("2025-10-11", dry_run=True)
    real = escalate_proposals("2025-10-11")
    again = escalate_proposals("2025-10-11")

    assert dry["queued"] == 2 and real["queued"] == 2 and again["queued"] == 0
    assert len(_mails(migrated_url)) == 2


def test_operators_can_run_the_day_from_the_command_line(
    migrated_url: str, review_env: object, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from review_calendar.cli import main

    monkeypatch.setenv("REVIEW_CALENDAR_DB_URL", migrated_url)
    _propose(migrated_url, "hebei_smart_cluster", TUE_BEFORE_HOLIDAY)

    dry = main(["escalate", "--as-of", "2025-10-11", "--programme", "hebei_smart_cluster", "--dry-run"])
    text = capsys.readouterr().out
    real = main(["escalate", "--as-of", "2025-10-11", "--json"])

    assert (dry, real) == (0, 0)
    assert "hebei_smart_cluster：待审定 1 项，新增督办 1 封" in text and "第1次督办" in text
    assert '"queued": 1' in capsys.readouterr().out
    assert len(_mails(migrated_url)) == 1
