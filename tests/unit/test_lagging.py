"""The landing page's read model: what is lagging now, its order, its filters (real SQLite, demo province)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from review_calendar.domain.programmes import Programme, load_programmes
from review_calendar.reviewer_pages.files import file_history
from review_calendar.reviewer_pages.lagging import LAGGING_NOW, LaggingFilter, filter_lagging, lagging_view
from review_calendar.store.db import session_scope, upgrade, upsert
from review_calendar.store.models import Contact, OutboxMessage
from tests.support.builders import Key, add_submission, contact_values

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]
P = "hebei_smart_cluster"
YEAR = 2025
DAY = dt.date(2025, 7, 20)  # contact list (3-31), plan (6-30) and half-year report (7-15) are overdue
D = dt.date


@pytest.fixture(scope="module")
def programmes() -> dict[str, Programme]:
    return load_programmes(ROOT / "programmes")


@pytest.fixture
def session(tmp_path: Path) -> Iterator[Session]:
    from review_calendar_demo.seed import seed_demo

    url = f"sqlite:///{tmp_path / 'review.db'}"
    upgrade(url)
    seed_demo(url)
    with session_scope(url) as s:
        yield s


def hebei(programmes: dict[str, Programme]) -> dict[str, Programme]:
    return {P: programmes[P]}


def sent_reminder(
    session: Session, obligation: str, region: str, stage: str, status: str = "sent", **when: object
) -> None:
    session.add(
        OutboxMessage(
            natural_key=f"reminder|{P}/{YEAR}/{obligation}/Y|{region}|{stage}|x", kind="reminder", programme_id=P,
            instance_key=f"{P}/{YEAR}/{obligation}/Y", region_code=region, stage=stage, to_addrs=["a@b.cn"],
            subject="催报", body="催报", status=status, **{"created_on": DAY, **when},
        )
    )  # fmt: skip
    session.flush()


def test_lagging_rows_are_sorted_most_overdue_first_then_by_state(
    session: Session, programmes: dict[str, Programme]
) -> None:
    add_submission(session, Key(P, YEAR, "contact_list"), "130100", D(2025, 3, 20), "sjz.xlsx",
                   status="rejected", error_count=2, stored_path="x")  # fmt: skip
    add_submission(
        session,
        Key(P, YEAR, "contact_list"),
        "130200",
        D(2025, 3, 20),
        "ts.xlsx",
        is_late=False,
        stored_path="x",
    )

    rows = lagging_view(session, hebei(programmes), DAY, years=[YEAR])

    assert [r.days_overdue for r in rows] == sorted((r.days_overdue for r in rows), reverse=True)
    assert {r.state for r in rows} <= set(LAGGING_NOW)
    first = [r for r in rows if r.obligation_id == "contact_list"]
    assert first[0].days_overdue == (DAY - D(2025, 3, 31)).days == 111
    # among the equally overdue, 未提交 before 已退回, then by region code
    assert [r.state for r in first][-1] == "rejected" and first[-1].region_code == "130100"
    missing = [r.region_code for r in first if r.state == "missing"]
    assert missing == sorted(missing)
    assert "130200" not in {r.region_code for r in first}  # accepted on time: not lagging
    rejected = first[-1]
    assert (rejected.file_name, rejected.error_count, rejected.received_on) == ("sjz.xlsx", 2, D(2025, 3, 20))
    assert rejected.state_label == "已退回" and rejected.period_label == "全年"


def test_regions_whose_window_is_open_or_not_yet_open_are_not_lagging(
    session: Session, programmes: dict[str, Programme]
) -> None:
    rows = lagging_view(session, hebei(programmes), D(2025, 6, 10), years=[YEAR])

    assert {r.obligation_id for r in rows} == {"contact_list"}  # the plan's window is open until 6-30
    assert all(r.days_overdue > 0 for r in rows)


def test_meetings_are_events_and_never_lag(session: Session, programmes: dict[str, Programme]) -> None:
    rows = lagging_view(session, programmes, D(2026, 11, 30))

    kinds = {programmes[r.programme_id].obligation(r.obligation_id).kind for r in rows}
    assert "meeting" not in kinds and rows
    assert len({r.programme_id for r in rows}) > 1  # across programmes
    assert len({r.cycle_year for r in rows}) >= 1


def test_reminders_sent_and_their_escalation(session: Session, programmes: dict[str, Programme]) -> None:
    sent_reminder(session, "contact_list", "130300", "before_7")
    sent_reminder(session, "contact_list", "130300", "overdue_3")
    sent_reminder(session, "contact_list", "130400", "overdue_12")
    sent_reminder(session, "contact_list", "130500", "overdue_12", status="queued")  # not sent yet

    rows = {r.region_code: r for r in lagging_view(session, hebei(programmes), DAY, years=[YEAR])
            if r.obligation_id == "contact_list"}  # fmt: skip

    assert (rows["130300"].reminders_sent, rows["130300"].escalation) == (2, "city")
    assert (rows["130400"].reminders_sent, rows["130400"].escalation_label) == (1, "已抄送省级处室")
    assert (rows["130500"].reminders_sent, rows["130500"].escalation) == (0, "none")


def test_reminders_and_escalation_are_counted_as_of_the_day_shown(
    session: Session, programmes: dict[str, Programme]
) -> None:
    from review_calendar_airflow.ui.rendering import Pages

    sent_reminder(session, "contact_list", "130300", "overdue_3", created_on=D(2025, 4, 7),
                  sent_at=dt.datetime(2025, 4, 7, 1, 0, tzinfo=dt.UTC))  # fmt: skip
    sent_reminder(session, "contact_list", "130300", "overdue_12", created_on=D(2025, 4, 21))  # after the day
    sent_reminder(session, "contact_list", "130400", "overdue_12", created_on=D(2025, 4, 10),
                  sent_at=dt.datetime(2025, 4, 10, 17, 0, tzinfo=dt.UTC))  # sent on 04-11, Beijing  # fmt: skip
    as_of = D(2025, 4, 10)

    rows = [
        r
        for r in lagging_view(session, hebei(programmes), as_of, years=[YEAR])
        if r.obligation_id == "contact_list"
    ]
    by_region = {r.region_code: r for r in rows}
    assert (by_region["130300"].reminders_sent, by_region["130300"].escalation) == (1, "city")
    assert (by_region["130400"].reminders_sent, by_region["130400"].escalation) == (0, "none")
    later = {r.region_code: r for r in lagging_view(session, hebei(programmes), DAY, years=[YEAR])}
    assert (later["130300"].reminders_sent, later["130300"].escalation_label) == (2, "已抄送省级处室")

    html = Pages().env.get_template("index.html").render(
        year=YEAR, years=[YEAR], calendars=[], prefix="/review-calendar", airflow="/", caller=None, pending=[],
        lagging=rows, lagging_total=len(rows), filters=LaggingFilter(),
        choices={"programmes": [], "cities": [], "states": [], "obligations": []},
    )  # fmt: skip
    line = html[html.index(by_region["130300"].region_name) :]
    assert "1 次" in line[: line.index("</tr>")] and "已抄送市局" in line[: line.index("</tr>")]


def test_the_city_contact_is_named_with_mobile_and_email_masked(
    session: Session, programmes: dict[str, Programme]
) -> None:
    upsert(session, Contact, [
        contact_values(P, 2024, "130300", "责任处室负责同志", name="王芳", office_phone="0335-3031234",
                       mobile="13812345678", email="wangfang@qhd.example.cn"),
    ], ["programme_id", "cycle_year", "region_code", "role"])  # fmt: skip

    rows = lagging_view(session, hebei(programmes), DAY, years=[YEAR])

    row = next(r for r in rows if r.region_code == "130300")
    assert row.contact is not None  # the 2024 list stands until the 2025 one arrives
    assert (row.contact.name, row.contact.office_phone) == ("王芳", "0335-3031234")
    assert (row.contact.mobile_masked, row.contact.email_masked) == ("138****5678", "w***@qhd.example.cn")
    assert "13812345678" not in repr(row) and "wangfang" not in repr(row)


def test_filters_and_search(session: Session, programmes: dict[str, Programme]) -> None:
    add_submission(session, Key(P, YEAR, "contact_list"), "130100", D(2025, 3, 20), "sjz_联系人.xlsx",
                   status="rejected", error_count=2, stored_path="x")  # fmt: skip
    rows = lagging_view(session, programmes, DAY, years=[YEAR])

    def pick(**wanted: str) -> list[tuple[str, str]]:
        return [(r.region_code, r.obligation_id) for r in filter_lagging(rows, LaggingFilter(**wanted))]

    assert len(pick()) == len(rows)
    assert {r.programme_id for r in filter_lagging(rows, LaggingFilter(programme=P))} == {P}
    assert pick(state="rejected") == [("130100", "contact_list")]
    assert all(o == "development_plan" for _, o in pick(obligation="development_plan"))
    assert {c for c, _ in pick(city="130600")} <= {"130600", "130635", "130684"}
    assert pick(q="联系人") == [("130100", "contact_list")]  # the file name
    assert ("130100", "contact_list") in pick(q="130100")  # the code
    county = next(r for r in rows if r.clusters)
    assert (county.region_code, county.obligation_id) in pick(q=county.clusters[0])  # a cluster
    assert (county.region_code, county.obligation_id) in pick(q=county.region_name)  # the county
    assert pick(q="没有这个地方") == []
    assert LaggingFilter(q="  ").active is False and LaggingFilter(city="130600").active


def test_a_cells_file_history_lists_every_version_with_its_errors(
    session: Session, programmes: dict[str, Programme]
) -> None:
    from review_calendar.domain.programmes import find_instance

    instance = find_instance(programmes[P], YEAR, "contact_list", "Y")
    add_submission(session, instance, "130100", D(2025, 3, 20), "v1.xlsx", status="rejected", error_count=1,
                   stored_path="x", errors=[{"sheet": "名单", "row": 4, "column": "手机", "value": "123",
                                              "code": "BAD_PHONE", "message": "手机号码格式不正确"}])  # fmt: skip
    add_submission(session, instance, "130100", D(2025, 3, 25), "v2.xlsx", stored_path="x")

    versions = file_history(session, instance, "130100")

    assert [v.file_name for v in versions] == ["v2.xlsx", "v1.xlsx"]
    assert [v.status_label for v in versions] == ["已受理", "未通过校验（已退回）"]
    line = versions[1].errors[0]
    assert (line.sheet, line.row, line.column, line.value, line.message) == (
        "名单",
        4,
        "手机",
        "123",
        "手机号码格式不正确",
    )
    assert versions[0].recorded_at.endswith("（北京时间）")


def test_a_province_owing_an_obligation_is_not_told_its_city_sent_no_contact() -> None:
    from review_calendar.reviewer_pages.lagging import LaggingRow

    def row(code: str) -> LaggingRow:
        return LaggingRow(
            "p", "项目", 2025, "o", "Y", "年度监测评价", code, "河北省", code, "河北省", (), "missing",
            dt.date(2025, 3, 31), 3, "", None, 0, 0, "none", None,
        )  # fmt: skip

    assert row("130000").provincial and not row("130100").provincial and not row("130635").provincial
