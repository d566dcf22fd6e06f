"""Every decision reaches someone: county → its city → the programme's division, the gap reported.

On a real review database (SQLite; PostgreSQL with the ``postgres`` mark) seeded
with the demo province; contacts are set per test. Nothing is mocked.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from review_calendar.domain.programmes import Programme, load_programme
from review_calendar.notify.notices import queue_decision
from review_calendar.notify.recipients import ROLE_DIVISION
from review_calendar.notify.render import DecisionNotice
from review_calendar.store.db import session_scope
from review_calendar.store.models import OutboxMessage
from review_calendar_demo.seed import seed_demo
from tests.support.builders import contact_values, set_contacts

pytestmark = pytest.mark.unit

PROGRAMME = "hebei_smart_cluster"
OFFICE = "cyzc@gxt.hebei.example.cn"
KEY = "hebei_smart_cluster/2025/performance_evaluation/Y"
DAY = dt.date(2026, 4, 1)
# 玉田县 (130229) belongs to 唐山市 (130200).
COUNTY, CITY = "130229", "130200"
NOTICE = DecisionNotice(
    "evaluation",
    2025,
    "yutian_printing",
    "玉田印刷包装产业集群",
    "rectify",
    "评分 70 分",
    "冀工信产业〔2016〕93号 五",
)


@pytest.fixture
def programme() -> Programme:
    return load_programme(PROGRAMME)


@pytest.fixture
def url(migrated_url: str) -> str:
    seed_demo(migrated_url)
    return migrated_url


def _contacts(url: str, *codes: str) -> None:
    set_contacts(
        url,
        [contact_values(PROGRAMME, 2025, c, ROLE_DIVISION, email=f"div.{c}@gx.example.cn") for c in codes],
    )


def _queue(url: str, programme: Programme) -> bool:
    with session_scope(url) as session:
        return queue_decision(
            session, programme, NOTICE, instance_key=KEY, region_code=COUNTY, created_on=DAY
        )


def _outbox(url: str) -> dict[str, OutboxMessage]:
    with session_scope(url) as session:
        rows = list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
        session.expunge_all()
    return {r.kind: r for r in rows}


def _to(row: OutboxMessage) -> list[str]:
    return [m["addr"] for m in row.to_addrs]


def test_county_with_a_contact_gets_the_notice_and_no_gap_is_reported(url: str, programme: Programme) -> None:
    _contacts(url, COUNTY, CITY)

    assert _queue(url, programme) is True

    rows = _outbox(url)
    assert set(rows) == {"decision"}
    assert _to(rows["decision"]) == [f"div.{COUNTY}@gx.example.cn"]


def test_county_without_a_contact_goes_to_its_city_and_the_gap_is_reported(
    url: str, programme: Programme
) -> None:
    _contacts(url, CITY)

    _queue(url, programme)

    rows = _outbox(url)
    assert _to(rows["decision"]) == [f"div.{CITY}@gx.example.cn"]
    assert "本通知发送至唐山市工业和信息化局" in rows["decision"].body
    assert _to(rows["gap_report"]) == [OFFICE]
    assert "玉田县（130229）" in rows["gap_report"].body and "已改发唐山市联系人" in rows["gap_report"].body


def test_neither_county_nor_city_goes_to_the_division_which_is_told_why(
    url: str, programme: Programme
) -> None:
    queued = _queue(url, programme)

    rows = _outbox(url)
    notice = rows["decision"]
    assert queued is True
    assert _to(notice) == [OFFICE] and notice.cc_addrs == []
    assert notice.body.startswith("河北省工业和信息化厅产业政策处：")
    assert (
        "因玉田县及唐山市工业和信息化局均没有有效的联系人信息，本通知发送至河北省工业和信息化厅产业政策处"
        in notice.body
    )
    assert "结果：限期整改" in notice.body
    gap = rows["gap_report"]
    assert _to(gap) == [OFFICE]
    assert "玉田县（130229）" in gap.body and "唐山市（130200）" in gap.body
    assert "已改发河北省工业和信息化厅产业政策处" in gap.body


def test_a_rerun_queues_nothing_twice(url: str, programme: Programme) -> None:
    first = _queue(url, programme)
    again = _queue(url, programme)

    with session_scope(url) as session:
        kinds = sorted(session.scalars(select(OutboxMessage.kind)))
    assert (first, again) == (True, False)
    assert kinds == ["decision", "gap_report"]


def test_langfang_falls_back_to_its_city_bureau_not_the_province(url: str) -> None:
    """Programme D is the city bureau's own scheme: its responsible division is the bureau."""
    langfang = load_programme("langfang_digital")
    notice = DecisionNotice(
        "evaluation", 2025, "wenan_board", "文安人造板产业集群", "continue", "理由", "条款"
    )

    with session_scope(url) as session:
        queue_decision(
            session,
            langfang,
            notice,
            instance_key="langfang_digital/2025/x/Y",
            region_code="131026",
            created_on=DAY,
        )

    rows = _outbox(url)
    assert _to(rows["decision"]) == ["szh@gxj.langfang.example.cn"]
    assert "gxt.hebei" not in rows["decision"].body
