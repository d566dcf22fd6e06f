"""A rectification decision opens a follow-up (整改报告): once, with its deadline, reminders and a check.

A real review database (SQLite; PostgreSQL with the ``postgres`` mark) seeded with
the demo province. The Hebei pilots' rectification period is 30 days (provincial
configuration): decided Wed 2026-04-01, due Fri 2026-05-01, a Labour Day holiday,
so the deadline moves to Wed 2026-05-06. Reports are taken in like any ad-hoc
report, under the year they arrive (intake marks them never late against the
year's end); the follow-up judges them against its own deadline.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from review_calendar.decide.rectification import (
    KIND,
    check_follow_ups,
    follow_ups,
    open_rectification,
    report_state,
)
from review_calendar.domain.calendar import default_calendar
from review_calendar.domain.programmes import Programme, ad_hoc_instance, load_programme
from review_calendar.notify.follow_ups import plan_follow_up_reminders
from review_calendar.notify.recipients import ROLE_DIVISION
from review_calendar.store.db import session_scope
from review_calendar.store.models import Decision, OutboxMessage
from review_calendar.tasks.escalation import follow_up_rectifications
from review_calendar_demo.seed import seed_demo
from tests.support.builders import contact_values, set_contacts, submit

pytestmark = pytest.mark.unit

DECIDED = dt.date(2026, 4, 1)
DUE = dt.date(2026, 5, 6)
COUNTY = "130229"  # 玉田县, 唐山市


@pytest.fixture
def programme() -> Programme:
    return load_programme("hebei_smart_cluster")


@pytest.fixture
def url(migrated_url: str) -> str:
    seed_demo(migrated_url)
    set_contacts(
        migrated_url,
        [contact_values("hebei_smart_cluster", 2025, COUNTY, ROLE_DIVISION, email="div.yt@gx.example.cn")],
    )
    with session_scope(migrated_url) as session:
        session.add(
            Decision(
                programme_id="hebei_smart_cluster", cycle_year=2025, kind="evaluation", subject="yutian_printing",
                outcome="rectify", rule="r", clause="冀工信产业〔2016〕93号 五",
                figures={"state": "approved", "cluster": "玉田印刷包装产业集群", "region_code": COUNTY,
                         "rectify_days": 30},
            )
        )  # fmt: skip
    return migrated_url


def _open(url: str, programme: Programme, decided_on: dt.date = DECIDED) -> object:
    with session_scope(url) as session:
        decision = session.scalar(select(Decision).where(Decision.kind == "evaluation"))
        return open_rectification(session, programme, decision, decided_on, default_calendar())


def _state(url: str, programme: Programme, day: dt.date) -> str:
    with session_scope(url) as session:
        (follow_up,) = follow_ups(session, programme)
        return report_state(session, programme, follow_up, day).state


def test_opens_once_with_the_deadline_moved_past_the_holiday(url: str, programme: Programme) -> None:
    first = _open(url, programme)
    again = _open(url, programme, DECIDED + dt.timedelta(days=5))

    with session_scope(url) as session:
        rows = list(session.scalars(select(Decision).where(Decision.kind == KIND)))
    assert first == again
    assert (first.statutory_due, first.effective_due) == (dt.date(2026, 5, 1), DUE)
    assert (first.cluster_id, first.region_code, first.cycle_year) == ("yutian_printing", COUNTY, 2025)
    (row,) = rows
    assert row.outcome == "rectification_open" and "省级配置" in row.rule


@pytest.mark.parametrize(
    ("received", "day", "state"),
    [
        pytest.param(None, dt.date(2026, 4, 20), "open", id="nothing-yet"),
        pytest.param(None, dt.date(2026, 5, 7), "missing", id="missing-after-the-deadline"),
        pytest.param(
            dt.date(2026, 5, 6), dt.date(2026, 5, 7), "on_time", id="received-on-the-moved-deadline"
        ),
        pytest.param(dt.date(2026, 5, 8), dt.date(2026, 5, 8), "late", id="received-late"),
        pytest.param(
            dt.date(2026, 3, 20),
            dt.date(2026, 5, 7),
            "missing",
            id="a-file-before-the-decision-does-not-count",
        ),
    ],
)
def test_the_report_is_checked_against_the_follow_ups_deadline(
    url: str, programme: Programme, received: dt.date | None, day: dt.date, state: str
) -> None:
    _open(url, programme)
    if received is not None:
        submit(url, ad_hoc_instance(programme, received.year, "rectification_report"), COUNTY, received)

    assert _state(url, programme, day) == state


def test_check_records_the_state_on_the_follow_up(url: str, programme: Programme) -> None:
    _open(url, programme)
    submit(url, ad_hoc_instance(programme, 2026, "rectification_report"), COUNTY, dt.date(2026, 5, 8))

    with session_scope(url) as session:
        check_follow_ups(session, programme, dt.date(2026, 5, 8))
    with session_scope(url) as session:
        row = session.scalar(select(Decision).where(Decision.kind == KIND))
        assert (row.figures["report_state"], row.figures["report_received_on"]) == ("late", "2026-05-08")


def _plan(url: str, programme: Programme, day: dt.date) -> list[OutboxMessage]:
    with session_scope(url) as session:
        plan_follow_up_reminders(session, programme, day, default_calendar())
    with session_scope(url) as session:
        rows = list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        session.expunge_all()
    return rows


def test_the_region_gets_the_notice_then_reminders_until_the_report_arrives(
    url: str, programme: Programme
) -> None:
    _open(url, programme)

    opened = _plan(url, programme, dt.date(2026, 4, 2))
    again = _plan(url, programme, dt.date(2026, 4, 2))
    week_before = _plan(url, programme, dt.date(2026, 4, 29))
    submit(url, ad_hoc_instance(programme, 2026, "rectification_report"), COUNTY, dt.date(2026, 4, 30))
    after = _plan(url, programme, dt.date(2026, 5, 6))

    (notice,) = opened
    assert notice.kind == "notice" and [m["addr"] for m in notice.to_addrs] == ["div.yt@gx.example.cn"]
    assert "整改报告报送通知（截止2026年5月6日）" in notice.subject
    assert [m.id for m in again] == [m.id for m in opened]
    assert [m.kind for m in week_before] == ["notice", "reminder"]
    assert "整改报告" in week_before[1].subject
    assert len(after) == 2  # received: no due-day reminder


def test_the_daily_task_checks_and_reminds(
    url: str, programme: Programme, review_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REVIEW_CALENDAR_DB_URL", url)
    _open(url, programme)

    dry = follow_up_rectifications("2026-04-02", dry_run=True)
    real = follow_up_rectifications("2026-04-02")

    assert dry["queued"] == real["queued"] == 1
    assert real["programmes"]["hebei_smart_cluster"]["states"] == {"yutian_printing": "open"}
    with session_scope(url) as session:
        (notice,) = session.scalars(select(OutboxMessage))
        assert notice.attachments and notice.attachments[0].endswith("整改报告报送模板.xlsx")
