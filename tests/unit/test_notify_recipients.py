"""Recipients from the contact list: preferences, fallbacks, gaps, escalation, address hygiene."""

from __future__ import annotations

import smtplib

import pytest

from review_calendar.domain.programmes import Programme, load_programme_file
from review_calendar.notify.delivery import describe_error
from review_calendar.notify.recipients import (
    ROLE_DIVISION,
    ROLE_LEADER,
    ContactBook,
    ContactEntry,
    RegionEntry,
    clean_display_name,
    mailbox,
    valid_address,
)
from review_calendar.settings import get_settings
from review_calendar.store.queries import Submitter

pytestmark = pytest.mark.unit

PROGRAMME = "hebei_smart_cluster"
REGIONS = {
    "130100": RegionEntry("130100", "石家庄市", "city", "130000"),
    "130109": RegionEntry("130109", "藁城区", "county", "130100"),
    "130123": RegionEntry("130123", "正定县", "county", "130100"),
    "130200": RegionEntry("130200", "唐山市", "city", "130000"),
    "130229": RegionEntry("130229", "玉田县", "county", "130200"),
}
COUNTY = Submitter("130109", "藁城区", "130100")


@pytest.fixture(scope="module")
def programme() -> Programme:
    return load_programme_file(get_settings().programmes_dir / f"{PROGRAMME}.yaml")


def entry(
    region: str, role: str, email: str, *, year: int = 2025, programme_id: str = PROGRAMME
) -> ContactEntry:
    return ContactEntry(programme_id, year, region, role, f"{role}{region}", email)


def book(programme: Programme, *entries: ContactEntry) -> ContactBook:
    return ContactBook(programme, 2025, list(entries), REGIONS)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("zhang.san@gxt.hebei.example.cn", "zhang.san@gxt.hebei.example.cn", id="plain"),
        pytest.param("  li@Example.CN ", "li@example.cn", id="spaces-stripped-domain-lowered"),
        pytest.param("a+b_c-d@x-y.example.cn", "a+b_c-d@x-y.example.cn", id="atext"),
        pytest.param("a@b.cn\r\nBcc: x@evil.example", None, id="crlf-injection"),
        pytest.param("a@b.cn\n", None, id="trailing-lf"),
        pytest.param("a@b.cn, x@evil.example", None, id="comma-list"),
        pytest.param("a@b.cn;x@evil.example", None, id="semicolon-list"),
        pytest.param("张三 <a@b.cn>", None, id="display-name"),
        pytest.param("<a@b.cn>", None, id="angle-brackets"),
        pytest.param('"a"@b.cn', None, id="quoted-local-part"),
        pytest.param("a b@c.cn", None, id="inner-space"),
        pytest.param("a@localhost", None, id="no-dotted-domain"),
        pytest.param("a@@b.cn", None, id="double-at"),
        pytest.param("a@b..cn", None, id="empty-label"),
        pytest.param("a@-b.cn", None, id="label-starts-with-hyphen"),
        pytest.param("张三@例子.中国", None, id="non-ascii-local-part"),
        pytest.param("zs@例子.中国", "zs@xn--fsqu00a.xn--fiqs8s", id="internationalised-domain-as-punycode"),
        pytest.param("zs@xn--fsqu00a.xn--fiqs8s", "zs@xn--fsqu00a.xn--fiqs8s", id="punycode-domain"),
        pytest.param("name.@example.cn", None, id="dot-before-at"),
        pytest.param(".name@example.cn", None, id="leading-dot"),
        pytest.param("a" * 65 + "@example.cn", None, id="local-part-too-long"),
        pytest.param("", None, id="empty"),
        pytest.param(None, None, id="none"),
        pytest.param(13812345678, None, id="number"),
    ],
)
def test_valid_address(raw: object, expected: str | None) -> None:
    assert valid_address(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("张三\r\nBcc: x@evil.example", "张三 Bcc: x@evil.example", id="crlf-becomes-space"),
        pytest.param("李四 <x@evil.example>", "李四 x@evil.example", id="angle-brackets-dropped"),
        pytest.param('王"五', "王五", id="quote-dropped"),
        pytest.param("赵\u200b六\x00", "赵 六", id="format-and-control-characters"),
        pytest.param(None, "", id="none"),
    ],
)
def test_clean_display_name(raw: object, expected: str) -> None:
    assert clean_display_name(raw) == expected


def test_dry_run_form_of_a_mailbox_is_its_role_and_masked_address() -> None:
    box = mailbox("张三", "zhang@gxt.example.cn", ROLE_DIVISION)

    assert box is not None and box.masked() == "责任处室负责同志 z***@gxt.example.cn"


def test_sending_error_is_masked_with_the_one_rule() -> None:
    error = smtplib.SMTPResponseException(
        550, b"<zhang@gxt.example.cn> unknown; call 0311-87803218 or 13812345678"
    )

    text = describe_error(error)

    assert (
        text == "SMTPResponseException: 550 <z***@gxt.example.cn> unknown; call 0311-****3218 or 138****5678"
    )


def test_mailbox_refuses_an_invalid_address() -> None:
    assert mailbox("张三", "a@b.cn\r\nBcc: x@evil.example") is None


def test_division_head_is_preferred_over_leader(programme: Programme) -> None:
    contacts = book(
        programme,
        entry("130109", ROLE_LEADER, "lead@gc.example.cn"),
        entry("130109", ROLE_DIVISION, "div@gc.example.cn"),
    )

    recipients = contacts.resolve(COUNTY)

    assert [m.addr for m in recipients.to] == ["div@gc.example.cn"]
    assert recipients.cc == () and recipients.gaps == ()


def test_leader_when_the_division_head_address_is_invalid(programme: Programme) -> None:
    contacts = book(
        programme,
        entry("130109", ROLE_DIVISION, "div@gc.example.cn, x@evil.example"),
        entry("130109", ROLE_LEADER, "lead@gc.example.cn"),
    )

    assert [m.addr for m in contacts.resolve(COUNTY).to] == ["lead@gc.example.cn"]


def test_this_cycles_list_beats_a_newer_one(programme: Programme) -> None:
    contacts = book(
        programme,
        entry("130109", ROLE_DIVISION, "new@gc.example.cn", year=2026),
        entry("130109", ROLE_LEADER, "now@gc.example.cn"),
    )

    assert [m.addr for m in contacts.resolve(COUNTY).to] == ["now@gc.example.cn"]


def test_most_recent_list_of_any_programme_when_this_cycle_has_none(programme: Programme) -> None:
    contacts = book(
        programme,
        entry("130109", ROLE_DIVISION, "old@gc.example.cn", year=2023),
        entry("130109", ROLE_DIVISION, "other@gc.example.cn", year=2024, programme_id="miit_sme_cluster"),
    )

    recipients = contacts.resolve(COUNTY)

    assert [m.addr for m in recipients.to] == ["other@gc.example.cn"]
    assert recipients.gaps == ()


def test_county_without_contact_falls_back_to_its_city_and_reports_the_gap(programme: Programme) -> None:
    contacts = book(programme, entry("130100", ROLE_DIVISION, "div@sjz.example.cn"))

    recipients = contacts.resolve(COUNTY)

    assert [m.addr for m in recipients.to] == ["div@sjz.example.cn"]
    assert recipients.via_city is True
    assert [(g.region_code, g.action) for g in recipients.gaps] == [("130109", "已改发石家庄市联系人")]


def test_invalid_addresses_are_reported_as_such(programme: Programme) -> None:
    contacts = book(
        programme,
        entry("130109", ROLE_DIVISION, "not an address"),
        entry("130100", ROLE_DIVISION, "div@sjz.example.cn"),
    )

    (gap,) = contacts.resolve(COUNTY).gaps

    assert gap.reason == "联系人名单中的电子邮箱缺失或格式无效"


def test_city_without_contact_cannot_be_reached(programme: Programme) -> None:
    recipients = book(programme).resolve(Submitter("130200", "唐山市", "130200"))

    assert recipients.to == ()
    assert [(g.region_code, g.action) for g in recipients.gaps] == [("130200", "无可用联系人，未能发送")]


@pytest.mark.parametrize(
    ("escalation", "cc"),
    [
        pytest.param("none", [], id="none"),
        pytest.param("city", ["lead@sjz.example.cn"], id="city-leader"),
        pytest.param(
            "province", ["lead@sjz.example.cn", "cyzc@gxt.hebei.example.cn"], id="city-and-province"
        ),
    ],
)
def test_escalation_copies(programme: Programme, escalation: str, cc: list[str]) -> None:
    contacts = book(
        programme,
        entry("130109", ROLE_DIVISION, "div@gc.example.cn"),
        entry("130100", ROLE_LEADER, "lead@sjz.example.cn"),
        entry("130100", ROLE_DIVISION, "div@sjz.example.cn"),
    )

    recipients = contacts.resolve(COUNTY, escalation)  # type: ignore[arg-type]

    assert [m.addr for m in recipients.to] == ["div@gc.example.cn"]
    assert [m.addr for m in recipients.cc] == cc


def test_copy_never_repeats_the_main_recipient(programme: Programme) -> None:
    contacts = book(programme, entry("130200", ROLE_LEADER, "lead@ts.example.cn"))

    recipients = contacts.resolve(Submitter("130200", "唐山市", "130200"), "city")

    assert [m.addr for m in recipients.to] == ["lead@ts.example.cn"]
    assert recipients.cc == ()


def test_escalation_without_city_leader_is_a_gap(programme: Programme) -> None:
    contacts = book(programme, entry("130229", ROLE_DIVISION, "div@yt.example.cn"))

    recipients = contacts.resolve(Submitter("130229", "玉田县", "130200"), "city")

    assert recipients.cc == ()
    assert [(g.region_code, g.action) for g in recipients.gaps] == [
        ("130200", "催报升级未能抄送市局主管领导")
    ]
