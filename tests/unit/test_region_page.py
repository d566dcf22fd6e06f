"""A region's (and a cluster's) page: the read model ``review_calendar.reviewer_pages.region``.

On a real SQLite review database seeded with the demo province; each test adds
the files, returns, decisions and messages it reads, as the pipeline would.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from review_calendar.domain.labels import stage_label
from review_calendar.domain.programmes import Programme, load_programmes
from review_calendar.reviewer_pages.region import (
    MAX_ERRORS,
    InstanceLine,
    RegionPage,
    cluster_region,
    region_view,
)
from review_calendar.store.db import session_scope, upgrade
from review_calendar.store.models import Decision, DueChange, OutboxMessage
from tests.support.builders import Key, add_submission

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]
P = "hebei_smart_cluster"
YEAR = 2025
COUNTY = "130684"  # 高碑店市, home of the demo's 白沟箱包 cluster
CLUSTER = "baigou_luggage"
D = dt.date
LATER = D(2026, 11, 23)


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


def _half_year(session: Session) -> tuple[int, int]:
    """A rejected file with two errors, then an accepted correction in time, then a late second version."""
    key = Key(P, YEAR, "half_year_report")
    bad = add_submission(session, key, COUNTY, D(2025, 7, 1), "半年报.xlsx", status="rejected", error_count=2,
                         errors=[{"sheet": "集群", "row": 5, "column": "营业收入", "value": "abc",
                                  "code": "not_number", "message": "应为数值，联系 13812345678"},
                                 {"sheet": "集群", "row": 6, "column": "建设年限", "value": "2019-2017",
                                  "code": "required", "message": "必填"}])  # fmt: skip
    good = add_submission(
        session, key, COUNTY, D(2025, 7, 10), "半年报-更正.xlsx", status="superseded", is_late=False
    )
    late = add_submission(
        session, key, COUNTY, D(2025, 8, 2), "半年报-二版.xlsx", status="accepted", is_late=True
    )
    good.superseded_by = late.id
    session.flush()
    return bad.id, good.id


def _line(page: RegionPage, title: str = "半年", year: int = YEAR) -> InstanceLine:
    section = next(p for p in page.programmes if p.programme_id == P)
    y = next(y for y in section.years if y.year == year)
    return next(i for i in y.instances if title in i.title)


def test_unknown_region_or_foreign_cluster_has_no_page(session: Session, programmes: dict) -> None:
    assert region_view(session, programmes, "999999", LATER) is None
    assert region_view(session, programmes, "130100", LATER, cluster_id=CLUSTER) is None
    assert cluster_region(session, CLUSTER) == COUNTY
    assert cluster_region(session, "nope") is None


def test_every_file_version_with_result_errors_and_supersession(session: Session, programmes: dict) -> None:
    bad_id, _ = _half_year(session)
    page = region_view(session, programmes, COUNTY, LATER)

    assert page.name == "高碑店市"
    assert page.city_name == "保定市"
    assert [c.id for c in page.clusters] == [CLUSTER]
    line = _line(page)
    assert [f.file_name for f in line.files] == ["半年报-二版.xlsx", "半年报-更正.xlsx", "半年报.xlsx"]
    assert [f.status_label for f in line.files] == ["已受理", "已被更正文件取代", "未通过校验（已退回）"]
    assert line.files[1].superseded_by == "半年报-二版.xlsx"
    rejected = line.files[2]
    assert rejected.id == bad_id
    assert [(e.sheet, e.row, e.column, e.value) for e in rejected.errors] == [
        ("集群", 5, "营业收入", "abc"), ("集群", 6, "建设年限", "2019-2017")
    ]  # fmt: skip
    assert "13812345678" not in rejected.errors[0].message
    assert "138****5678" in rejected.errors[0].message
    assert line.owed
    assert line.state == "on_time_corrected"  # the state rule of the matrix


def test_every_finding_is_counted_and_a_long_list_is_cut_for_the_history_page(
    session: Session, programmes: dict
) -> None:
    key = Key(P, YEAR, "half_year_report")
    errors = [{"sheet": "集群", "row": n, "column": "营业收入", "value": "x", "code": "not_number",
               "message": "应为数值"} for n in range(2, 2 + MAX_ERRORS + 7)]  # fmt: skip
    add_submission(session, key, COUNTY, D(2025, 7, 1), "长清单.xlsx", status="rejected",
                   error_count=len(errors), errors=errors)  # fmt: skip
    short = [{"sheet": "集群", "row": 5, "column": "营业收入", "value": "abc", "code": "not_number",
              "message": "应为数值"}]  # fmt: skip
    add_submission(
        session, key, COUNTY, D(2025, 7, 2), "短清单.xlsx", status="rejected", error_count=1, errors=short
    )

    files = {f.file_name: f for f in _line(region_view(session, programmes, COUNTY, LATER)).files}

    long, brief = files["长清单.xlsx"], files["短清单.xlsx"]
    assert (long.problem_count, len(long.errors), long.all_listed) == (MAX_ERRORS + 7, MAX_ERRORS, False)
    assert (brief.problem_count, len(brief.errors), brief.all_listed) == (1, 1, True)


def test_as_of_view_leaves_out_what_arrived_later(session: Session, programmes: dict) -> None:
    _half_year(session)
    page = region_view(session, programmes, COUNTY, D(2025, 7, 5))

    line = _line(page)
    assert [f.file_name for f in line.files] == ["半年报.xlsx"]
    assert line.state == "rejected"
    assert page.today == D(2025, 7, 5)


def test_years_without_a_cycle_are_labelled_not_empty_owed(session: Session, programmes: dict) -> None:
    _half_year(session)
    page = region_view(session, programmes, COUNTY, LATER)

    section = next(p for p in page.programmes if p.programme_id == P)
    years = {y.year: y for y in section.years}
    assert years[YEAR].has_cycle
    assert not years[2026].has_cycle  # today's year, nothing recorded yet
    assert years[2026].instances == ()


def test_returns_and_decisions_say_who_decided_and_why(session: Session, programmes: dict) -> None:
    _, returned_id = _half_year(session)
    at = dt.datetime(2025, 7, 12, 2, 30, tzinfo=dt.UTC)
    decision = Decision(programme_id=P, cycle_year=YEAR, kind="submission_review",
                        subject=f"half_year_report/Y/{COUNTY}/{returned_id}", outcome="submission_returned",
                        rule="hebei_smart_cluster.yaml: returns", clause="冀工信产业〔2016〕93号",
                        figures={"region_code": COUNTY, "reason": "营业收入与上年口径不一致", "state": "returned",
                                 "decided_by": "王审阅", "decided_at": at.isoformat(), "answer_reason": "请按新口径重报"},
                        decided_at=at)  # fmt: skip
    other = Decision(programme_id=P, cycle_year=YEAR, kind="evaluation", subject="xinji_leather", outcome="continue",
                     rule="", clause="", figures={"region_code": "130181"}, decided_at=at)  # fmt: skip
    session.add_all([decision, other])
    session.flush()
    session.add(DueChange(decision_id=decision.id, programme_id=P, cycle_year=YEAR, obligation_id="half_year_report",
                          period="Y", region_code=COUNTY, kind="return", submission_id=returned_id,
                          due=D(2025, 7, 25), comment="请按新口径重报", decided_by="王审阅", decided_at=at))  # fmt: skip
    session.flush()

    page = region_view(session, programmes, COUNTY, LATER)
    section = next(p for p in page.programmes if p.programme_id == P)
    assert [d.id for d in section.decisions] == [decision.id]
    item = section.decisions[0]
    assert item.decided_by == "王审阅"
    assert item.decided_at == "2025-07-12 10:30（北京时间）"
    assert item.reason == "营业收入与上年口径不一致"
    change = _line(page).changes[0]
    assert (change.kind_label, change.file_name, change.due, change.comment) == (
        "退回修改", "半年报-更正.xlsx", D(2025, 7, 25), "请按新口径重报"
    )  # fmt: skip
    assert change.decided_at == "2025-07-12 10:30（北京时间）"
    before = region_view(session, programmes, COUNTY, D(2025, 7, 11))
    assert not next(p for p in before.programmes if p.programme_id == P).decisions
    assert not _line(before).changes


def test_cluster_page_narrows_decisions_to_the_cluster(session: Session, programmes: dict) -> None:
    at = dt.datetime(2026, 3, 20, tzinfo=dt.UTC)
    about = Decision(programme_id=P, cycle_year=YEAR, kind="evaluation", subject=CLUSTER, outcome="continue",
                     rule="", clause="", figures={"cluster": "白沟箱包", "region_code": COUNTY}, decided_at=at)  # fmt: skip
    county_only = Decision(programme_id=P, cycle_year=YEAR, kind="extension", subject=f"half_year_report/Y/{COUNTY}",
                           outcome="extension_granted", rule="", clause="", figures={"region_code": COUNTY},
                           decided_at=at)  # fmt: skip
    session.add_all([about, county_only])
    session.flush()

    region_ids = {
        d.id for p in region_view(session, programmes, COUNTY, LATER).programmes for d in p.decisions
    }
    page = region_view(session, programmes, COUNTY, LATER, cluster_id=CLUSTER)
    cluster_ids = {d.id for p in page.programmes for d in p.decisions}
    assert region_ids == {about.id, county_only.id}
    assert cluster_ids == {about.id}
    assert page.cluster is not None
    assert page.cluster.id == CLUSTER


def test_communication_log_with_delivery_outcome_and_masked_addresses(
    session: Session, programmes: dict
) -> None:
    def message(
        n: int, kind: str, stage: str, status: str, created: dt.date, **extra: object
    ) -> OutboxMessage:
        return OutboxMessage(natural_key=f"k{n}", kind=kind, programme_id=P,
                             instance_key=f"{P}/{YEAR}/half_year_report/Y", region_code=COUNTY, stage=stage,
                             to_addrs=[{"name": "李四", "addr": "lisi@gx.example.cn", "role": "联系人", "region_code": COUNTY}],
                             cc_addrs=["city@gx.example.cn"], subject=f"主题{n}", body="正文", status=status,
                             created_on=created, **extra)  # fmt: skip

    session.add_all([
        message(1, "notice", "notice", "sent", D(2025, 6, 25), attempts=1,
                sent_at=dt.datetime(2025, 6, 25, 1, 0, tzinfo=dt.UTC)),
        message(2, "reminder", "overdue_3", "failed", D(2025, 7, 18), attempts=3,
                last_error="550 mailbox lisi@gx.example.cn unavailable"),
        message(3, "gap_report", "gap", "queued", D(2025, 12, 1)),
    ])  # fmt: skip
    session.flush()

    log = region_view(session, programmes, COUNTY, D(2025, 8, 1)).messages
    assert [m.subject for m in log] == ["主题2", "主题1"]  # newest first, none after the day asked about
    failed, sent = log
    assert (failed.kind_label, failed.stage_label, failed.status_label, failed.attempts) == (
        "催报提醒", "逾期 3 个工作日", "发送失败", 3
    )  # fmt: skip
    assert "lisi@" not in failed.error
    assert "l***@gx.example.cn" in failed.error
    assert failed.recipients == "联系人 李四 l***@gx.example.cn；c***@gx.example.cn"
    assert sent.sent_at == "2025-06-25 09:00（北京时间）"
    assert sent.status_label == "已发送"


def test_stage_label_words() -> None:
    assert stage_label("before_7") == "截止前 7 天"
    assert stage_label("overdue_6") == "逾期 6 个工作日"
    assert stage_label("due_day") == "截止当日"
    assert stage_label("something_else") == ""
