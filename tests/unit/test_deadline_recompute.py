"""Deadlines recorded before a year's holiday arrangement was published: moved later, never earlier.

工信部企业〔2022〕119号 第十六条: the annual table is due Apr 30. In 2028 (no holiday data yet)
Apr 30 is a Sunday and May 1-2 are fixed holidays, so the announced date is 2028-05-03.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from review_calendar.domain.calendar import WorkingCalendar
from review_calendar.domain.programmes import instances_for_year, load_programme
from review_calendar.domain.schedule import deadline_moves, judged_again
from review_calendar.notify.recipients import ROLE_DIVISION
from review_calendar.store.db import session_scope
from review_calendar.store.models import ObligationInstanceRow, OutboxMessage, Submission
from review_calendar.store.queries import record_instances
from review_calendar.tasks.deadlines import recompute_deadlines
from review_calendar_demo.seed import seed_demo
from tests.support.builders import add_cluster, add_enrolment, contact_values, set_contacts, submit

pytestmark = pytest.mark.unit

D = dt.date
KEY = "miit_sme_cluster/2028/annual_info_table/Y"
# May 1-5 off; Sat May 6 a make-up working day (Apr 30 stays a Sunday off).
LATER = "2028:\n  holidays: [2028-05-01, 2028-05-02, 2028-05-03, 2028-05-04, 2028-05-05]\n  workdays: [2028-05-06]\n"
# May 1-5 off; Sun Apr 30 a make-up working day: the table alone would make Apr 30 the due date.
EARLIER = "2028:\n  holidays: [2028-05-01, 2028-05-02, 2028-05-03, 2028-05-04, 2028-05-05]\n  workdays: [2028-04-30]\n"


def calendar_with(tmp_path: Path, text: str) -> WorkingCalendar:
    path = tmp_path / "holidays.yaml"
    path.write_text(text, encoding="utf-8")
    return WorkingCalendar.from_file(path)


def test_announced_deadline_moves_later_when_the_arrangement_says_so(tmp_path: Path) -> None:
    (move,) = [
        m
        for m in deadline_moves(
            load_programme("miit_sme_cluster"), 2028, {KEY: D(2028, 5, 3)}, calendar_with(tmp_path, LATER)
        )
        if m.instance.key == KEY
    ]

    assert (move.announced, move.computed, move.effective, move.moved) == (
        D(2028, 5, 3),
        D(2028, 5, 6),
        D(2028, 5, 6),
        True,
    )


def test_a_make_up_working_day_never_shortens_an_announced_deadline(tmp_path: Path) -> None:
    calendar = calendar_with(tmp_path, EARLIER)

    (move,) = [
        m
        for m in deadline_moves(load_programme("miit_sme_cluster"), 2028, {KEY: D(2028, 5, 3)}, calendar)
        if m.instance.key == KEY
    ]
    calendar.announce({KEY: D(2028, 5, 3)})

    assert (move.computed, move.effective, move.moved) == (D(2028, 4, 30), D(2028, 5, 3), False)
    (again,) = [
        i for i in instances_for_year(load_programme("miit_sme_cluster"), 2028, calendar) if i.key == KEY
    ]
    assert again.effective_due == D(2028, 5, 3)


@pytest.mark.parametrize(
    ("received", "was_late", "on_time_now"),
    [
        pytest.param(D(2028, 5, 5), True, True, id="late-then-on-time"),
        pytest.param(D(2028, 5, 8), True, False, id="still-late"),
        pytest.param(D(2028, 5, 2), False, False, id="on-time-stays-untouched"),
    ],
)
def test_a_judged_file_is_judged_again_only_in_the_countys_favour(
    received: D, was_late: bool, on_time_now: bool
) -> None:
    assert judged_again(received, was_late, D(2028, 5, 6)) is on_time_now


@pytest.fixture
def url(migrated_url: str) -> str:
    """The demo province plus one MIIT cluster in 藁城区 (130109), enrolled 2027-2029, with a contact."""
    seed_demo(migrated_url)
    with session_scope(migrated_url) as session:
        add_cluster(session, "t_gaocheng", "藁城测试集群", "130109")
        add_enrolment(session, "miit_sme_cluster", "t_gaocheng", D(2027, 1, 1), D(2029, 12, 31))
    set_contacts(
        migrated_url,
        [contact_values("miit_sme_cluster", 2028, "130109", ROLE_DIVISION, email="div.130109@gx.example.cn")],
    )
    return migrated_url


def test_recompute_moves_rejudges_and_tells_the_county_once(url: str, tmp_path: Path) -> None:
    programme = load_programme("miit_sme_cluster")
    record_instances(url, programme, 2028)  # recorded with the fallback: announced 2028-05-03
    with session_scope(url) as session:
        row = session.scalars(
            select(ObligationInstanceRow).where(
                ObligationInstanceRow.programme_id == programme.id,
                ObligationInstanceRow.cycle_year == 2028,
                ObligationInstanceRow.obligation_id == "annual_info_table",
            )
        ).one()
        assert row.effective_due == D(2028, 5, 3)
    instance = next(
        m.instance
        for m in deadline_moves(programme, 2028, {KEY: D(2028, 5, 3)}, WorkingCalendar())
        if m.instance.key == KEY
    )
    late_then_on_time = submit(url, instance, "130109", D(2028, 5, 5), is_late=True)
    calendar = calendar_with(tmp_path, LATER)

    first = recompute_deadlines(url, programme, 2028, as_of=D(2028, 1, 10), calendar=calendar)
    again = recompute_deadlines(url, programme, 2028, as_of=D(2028, 1, 11), calendar=calendar)

    with session_scope(url) as session:
        row = session.scalars(
            select(ObligationInstanceRow).where(
                ObligationInstanceRow.programme_id == programme.id,
                ObligationInstanceRow.cycle_year == 2028,
                ObligationInstanceRow.obligation_id == "annual_info_table",
            )
        ).one()
        sub = session.get(Submission, late_then_on_time)
        mails = list(session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "deadline_moved")))
        assert (row.effective_due, sub.is_late) == (D(2028, 5, 6), False)
    assert [m.instance.key for m in first.moved] == [KEY]
    assert first.rejudged == 1 and first.queued >= 1
    assert (again.moved, again.queued) == ((), 0)
    (mine,) = [m for m in mails if m.region_code == "130109"]
    assert "截止日期调整为2028年5月6日" in mine.subject
    assert "由2028年5月3日（星期三）调整为2028年5月6日（星期六）" in mine.body
    assert "法定截止日期：2028年4月30日" in mine.body


def test_recording_again_keeps_the_announced_date(url: str, tmp_path: Path) -> None:
    """A later record of the cycle (the calendar DAG re-run) does not shorten 2028-05-03 to Apr 30."""
    programme = load_programme("miit_sme_cluster")
    record_instances(url, programme, 2028)
    import review_calendar.domain.calendar as cal

    saved = cal._default
    cal._default = calendar_with(tmp_path, EARLIER)
    try:
        record_instances(url, programme, 2028)
    finally:
        cal._default = saved
    with session_scope(url) as session:
        due = session.scalars(
            select(ObligationInstanceRow.effective_due).where(
                ObligationInstanceRow.programme_id == programme.id,
                ObligationInstanceRow.cycle_year == 2028,
                ObligationInstanceRow.obligation_id == "annual_info_table",
            )
        ).one()
    assert due == D(2028, 5, 3)


def test_the_reminders_task_recomputes_before_it_plans(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reminders DAG's task moves 2028-05-03 to 2028-05-06 and tells 藁城区 before reminding."""
    import review_calendar.domain.calendar as calendar_module
    from review_calendar import tasks

    programme = load_programme("miit_sme_cluster")
    monkeypatch.setattr(calendar_module, "_default", None)
    record_instances(url, programme, 2028)
    table = tmp_path / "holidays.yaml"
    table.write_text(LATER, encoding="utf-8")
    monkeypatch.setenv("REVIEW_CALENDAR_DB_URL", url)
    monkeypatch.setenv("REVIEW_CALENDAR_HOLIDAYS", str(table))
    monkeypatch.setattr(calendar_module, "_default", None)

    tasks.plan_reminders("miit_sme_cluster", "2028-04-20")
    tasks.plan_reminders("miit_sme_cluster", "2028-04-20")

    with session_scope(url) as session:
        due = session.scalars(
            select(ObligationInstanceRow.effective_due).where(
                ObligationInstanceRow.programme_id == programme.id,
                ObligationInstanceRow.cycle_year == 2028,
                ObligationInstanceRow.obligation_id == "annual_info_table",
            )
        ).one()
        moved = session.scalars(
            select(OutboxMessage.region_code).where(OutboxMessage.kind == "deadline_moved")
        ).all()
    assert due == D(2028, 5, 6)
    assert moved.count("130109") == 1
