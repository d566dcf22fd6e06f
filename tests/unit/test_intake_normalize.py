"""Value normalisers against the spellings county officials actually use."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from review_calendar.intake import issues as E
from review_calendar.intake.columns import YES_NO, YES_NO_MARKS
from review_calendar.intake.datasets import get_dataset
from review_calendar.intake.grid import percent_text
from review_calendar.intake.identifiers import (
    EMAIL_PATTERN,
    check_choice,
    check_code,
    check_email,
    check_mobile,
    check_office_phone,
    check_region_code,
    email_address,
)
from review_calendar.intake.normalize import (
    ValueProblem,
    check_range,
    is_formula,
    normalize_header,
    to_date,
    to_int,
    to_number,
    to_percent,
    to_text,
    to_year,
)
from review_calendar.intake.xlsx import is_percent_format

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("  张三  ", "张三", id="strip"),
        pytest.param("１２３", "123", id="full-width-digits"),
        pytest.param("ＡＢＣ（１）", "ABC(1)", id="full-width-letters-and-brackets"),
        pytest.param("石家庄\u3000市", "石家庄 市", id="ideographic-space"),
        pytest.param("石家庄   市", "石家庄 市", id="collapse-spaces"),
        pytest.param("第一段\r\n  第二段", "第一段\n第二段", id="line-breaks-kept"),
        pytest.param("一\n\n\n\n二", "一\n\n二", id="blank-lines-collapsed"),
        pytest.param("张\u200b三", "张三", id="zero-width-space"),
        pytest.param("①加强领导", "①加强领导", id="circled-digit-kept"),
        pytest.param("", None, id="empty"),
        pytest.param(" \u3000 ", None, id="whitespace-only"),
        pytest.param(None, None, id="none"),
        pytest.param(2025.0, "2025", id="integral-float"),
    ],
)
def test_to_text(raw: object, expected: str | None) -> None:
    assert to_text(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("办公电话", "办公电话", id="plain"),
        pytest.param("办公\n电话", "办公电话", id="newline"),
        pytest.param(" 办公 电话 ", "办公电话", id="spaces"),
        pytest.param("办公电话*", "办公电话", id="required-marker"),
        pytest.param("*办公电话", "办公电话", id="leading-marker"),
        pytest.param("办公电话＊", "办公电话", id="full-width-marker"),
        pytest.param("计划总投资（万元）", "计划总投资(万元)", id="full-width-brackets"),
        pytest.param("“小巨人”企业数", "小巨人企业数", id="quotes"),
        pytest.param("姓名：", "姓名", id="trailing-colon"),
        pytest.param(None, "", id="none"),
    ],
)
def test_normalize_header(raw: object, expected: str) -> None:
    assert normalize_header(raw) == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("2025年3月31日", dt.date(2025, 3, 31), id="chinese"),
        pytest.param("2025 年 3 月 31 日", dt.date(2025, 3, 31), id="chinese-spaced"),
        pytest.param("２０２５年３月３１日", dt.date(2025, 3, 31), id="chinese-full-width"),
        pytest.param("2025/3/31", dt.date(2025, 3, 31), id="slashes"),
        pytest.param("2025-03-31", dt.date(2025, 3, 31), id="iso"),
        pytest.param("2025.3.31", dt.date(2025, 3, 31), id="dots"),
        pytest.param("2025-03-31 00:00:00", dt.date(2025, 3, 31), id="with-time"),
        pytest.param("2025年3月31号", dt.date(2025, 3, 31), id="hao"),
        pytest.param("20250331", dt.date(2025, 3, 31), id="compact"),
        pytest.param("45747", dt.date(2025, 3, 31), id="excel-serial-text"),
        pytest.param(45747.0, dt.date(2025, 3, 31), id="excel-serial-number"),
        pytest.param(dt.datetime(2025, 3, 31, 9, 30), dt.date(2025, 3, 31), id="datetime"),
        pytest.param(dt.date(2025, 3, 31), dt.date(2025, 3, 31), id="date"),
    ],
)
def test_to_date_accepts(raw: object, expected: dt.date) -> None:
    assert to_date(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("2025-02-30", id="no-such-day"),
        pytest.param("2025/13/01", id="month-13"),
        pytest.param("2025年3月", id="month-only"),
        pytest.param("3/31/2025", id="us-order"),
        pytest.param("25/3/31", id="two-digit-year"),
        pytest.param("1899-12-31", id="too-early"),
        pytest.param("100", id="tiny-serial"),
        pytest.param("下月初", id="words"),
    ],
)
def test_to_date_rejects(raw: str) -> None:
    with pytest.raises(ValueProblem) as caught:
        to_date(raw)

    assert caught.value.code == E.DATE_INVALID


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("1234.5", 1234.5, id="plain"),
        pytest.param("1,234.5", 1234.5, id="thousands"),
        pytest.param("1，234，567", 1234567.0, id="full-width-commas"),
        pytest.param("１２３４", 1234.0, id="full-width-digits"),
        pytest.param(" 12 ", 12.0, id="padded"),
        pytest.param("-3.5", -3.5, id="negative"),
        pytest.param("1.5e3", 1500.0, id="exponent"),
        pytest.param(".5", 0.5, id="leading-dot"),
        pytest.param(86.5, 86.5, id="float"),
        pytest.param(12, 12.0, id="int"),
    ],
)
def test_to_number_accepts(raw: object, expected: float) -> None:
    assert to_number(raw) == expected


@pytest.mark.parametrize(
    ("raw", "hint"),
    [
        pytest.param("12万元", "万元", id="unit-wan-yuan"),
        pytest.param("3.5亿", "亿", id="unit-yi"),
        pytest.param("12%", "%", id="percent"),
        pytest.param("1,2345", "数字", id="bad-grouping"),
        pytest.param("约100", "数字", id="approximate"),
        pytest.param("一百", "数字", id="chinese-numeral"),
        pytest.param(True, "数字", id="boolean"),
        pytest.param(float("nan"), "数", id="nan"),
    ],
)
def test_to_number_rejects_with_hint(raw: object, hint: str) -> None:
    with pytest.raises(ValueProblem) as caught:
        to_number(raw)

    assert caught.value.code == E.NUMBER_INVALID
    assert hint in caught.value.fragment


def test_check_range_rejects_negative_with_plain_message() -> None:
    with pytest.raises(ValueProblem) as caught:
        check_range(-1.0, 0.0, None)

    assert (caught.value.code, caught.value.fragment) == (E.NUMBER_OUT_OF_RANGE, "不能为负数，请核对。")


def test_check_range_rejects_above_maximum() -> None:
    with pytest.raises(ValueProblem) as caught:
        check_range(101.0, 0.0, 100.0)

    assert "100" in caught.value.fragment


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("12", 12, id="text"),
        pytest.param("12.0", 12, id="dot-zero"),
        pytest.param("１２", 12, id="full-width"),
    ],
)
def test_to_int_accepts(raw: str, expected: int) -> None:
    assert to_int(raw) == expected


def test_to_int_rejects_fraction() -> None:
    with pytest.raises(ValueProblem) as caught:
        to_int("2.5")

    assert caught.value.code == E.INTEGER_INVALID


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("2025", 2025, id="plain"),
        pytest.param("2025年", 2025, id="nian"),
        pytest.param("2025年度", 2025, id="niandu"),
        pytest.param("２０２５", 2025, id="full-width"),
        pytest.param(2025.0, 2025, id="excel-number"),
        pytest.param("2025.0", 2025, id="float-text"),
    ],
)
def test_to_year_accepts(raw: object, expected: int) -> None:
    assert to_year(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("25", id="two-digit"),
        pytest.param("3025", id="far-future"),
        pytest.param("今年", id="words"),
    ],
)
def test_to_year_rejects(raw: str) -> None:
    with pytest.raises(ValueProblem) as caught:
        to_year(raw)

    assert caught.value.code == E.YEAR_INVALID


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("75%", 0.75, id="percent-sign"),
        pytest.param("75 %", 0.75, id="spaced"),
        pytest.param("７５％", 0.75, id="full-width"),
        pytest.param("7.5%", 0.075, id="decimal-percent"),
        pytest.param("0.75", 0.75, id="fraction"),
        pytest.param("75", 0.75, id="points"),
        pytest.param(0.75, 0.75, id="excel-percent-cell"),
        pytest.param("100%", 1.0, id="hundred"),
        pytest.param("1", 1.0, id="bare-one-is-hundred-percent"),
        pytest.param("0", 0.0, id="zero"),
    ],
)
def test_to_percent_accepts(raw: object, expected: float) -> None:
    assert to_percent(raw) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        pytest.param("120%", E.PERCENT_OUT_OF_RANGE, id="over-100"),
        pytest.param("101", E.PERCENT_OUT_OF_RANGE, id="points-over-100"),
        pytest.param("-5%", E.PERCENT_OUT_OF_RANGE, id="negative-share"),
        pytest.param("七成", E.PERCENT_INVALID, id="words"),
        pytest.param("75%%", E.PERCENT_INVALID, id="double-sign"),
        pytest.param("", E.PERCENT_INVALID, id="blank"),
    ],
)
def test_to_percent_rejects(raw: str, code: str) -> None:
    with pytest.raises(ValueProblem) as caught:
        to_percent(raw)

    assert caught.value.code == code


@pytest.mark.parametrize(
    ("raw", "expected"),
    [pytest.param("-5%", -0.05, id="negative"), pytest.param("150%", 1.5, id="over-100")],
)
def test_to_percent_growth_bounds(raw: str, expected: float) -> None:
    assert to_percent(raw, minimum=-1.0, maximum=None) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("0311-87803218", "0311-87803218", id="canonical"),
        pytest.param("0311 87803218", "0311-87803218", id="space"),
        pytest.param("0311—87803218", "0311-87803218", id="em-dash"),
        pytest.param("(0311)87803218", "0311-87803218", id="brackets"),
        pytest.param("（0311）87803218", "0311-87803218", id="full-width-brackets"),
        pytest.param("031187803218", "0311-87803218", id="no-separator"),
        pytest.param("010-62345678", "010-62345678", id="beijing"),
        pytest.param("01062345678", "010-62345678", id="beijing-no-separator"),
        pytest.param("022-2345678", "022-2345678", id="seven-digit-number"),
        pytest.param("0318-7523001", "0318-7523001", id="county-seven-digits"),
        pytest.param("0311-87803218-123", "0311-87803218-123", id="extension-dash"),
        pytest.param("0311-87803218转123", "0311-87803218-123", id="extension-zhuan"),
        pytest.param("0311-87803218 转 123", "0311-87803218-123", id="extension-zhuan-spaced"),
        pytest.param("0311-87803218分机123", "0311-87803218-123", id="extension-fenji"),
        pytest.param("0311-87803218 ext.123", "0311-87803218-123", id="extension-ext"),
        pytest.param("０３１１－８７８０３２１８", "0311-87803218", id="full-width"),
    ],
)
def test_check_office_phone_accepts(raw: str, expected: str) -> None:
    assert check_office_phone(raw) == expected


@pytest.mark.parametrize(
    ("raw", "hint"),
    [
        pytest.param("87803218", "区号", id="no-area-code"),
        pytest.param("13812345678", "手机", id="mobile"),
        pytest.param("0311-87803218/87803219", "一个", id="two-numbers"),
        pytest.param("0311-8780", "0311-87803218", id="too-short"),
        pytest.param("0311-01234567", "0311-87803218", id="number-starts-with-zero"),
        pytest.param("电话", "0311-87803218", id="words"),
    ],
)
def test_check_office_phone_rejects(raw: str, hint: str) -> None:
    with pytest.raises(ValueProblem) as caught:
        check_office_phone(raw)

    assert caught.value.code == E.PHONE_INVALID
    assert hint in caught.value.fragment


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("13812345678", "13812345678", id="plain"),
        pytest.param("138 1234 5678", "13812345678", id="spaces"),
        pytest.param("138-1234-5678", "13812345678", id="dashes"),
        pytest.param("+86 138 1234 5678", "13812345678", id="plus-86"),
        pytest.param("8613812345678", "13812345678", id="86"),
        pytest.param("１３８１２３４５６７８", "13812345678", id="full-width"),
        pytest.param(13812345678.0, "13812345678", id="excel-number"),
    ],
)
def test_check_mobile_accepts(raw: object, expected: str) -> None:
    assert check_mobile(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param("1381234567", id="ten-digits"),
        pytest.param("138123456789", id="twelve-digits"),
        pytest.param("23812345678", id="starts-with-2"),
        pytest.param("12012345678", id="no-such-prefix"),
        pytest.param("0311-87803218", id="landline"),
    ],
)
def test_check_mobile_rejects_with_the_rule(raw: str) -> None:
    with pytest.raises(ValueProblem) as caught:
        check_mobile(raw)

    assert (caught.value.code, caught.value.fragment) == (
        E.MOBILE_INVALID,
        "不是11位手机号码，请填写以1开头的11位数字。",
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("zhangsan@example.gov.cn", "zhangsan@example.gov.cn", id="plain"),
        pytest.param("ZhangSan@Example.GOV.cn", "ZhangSan@example.gov.cn", id="domain-lowered"),
        pytest.param("zhangsan＠example.gov.cn", "zhangsan@example.gov.cn", id="full-width-at"),
        pytest.param(" mailto:a.b-c@hb.example.cn ", "a.b-c@hb.example.cn", id="mailto"),
        pytest.param("12345678@qq.com", "12345678@qq.com", id="digits"),
        # IDNA: the ideographic full stop separates domain labels like "." does.
        pytest.param("zhangsan@example。gov.cn", "zhangsan@example.gov.cn", id="chinese-full-stop-in-domain"),
        pytest.param("zs@例子.中国", "zs@xn--fsqu00a.xn--fiqs8s", id="internationalised-domain"),
        pytest.param("zs@xn--fsqu00a.xn--fiqs8s", "zs@xn--fsqu00a.xn--fiqs8s", id="punycode-domain"),
    ],
)
def test_check_email_accepts(raw: str, expected: str) -> None:
    assert check_email(raw) == expected


@pytest.mark.parametrize(
    ("raw", "hint"),
    [
        pytest.param("zhangsan.example.gov.cn", "@", id="no-at"),
        pytest.param("zhang。san@example.gov.cn", "。", id="chinese-full-stop-in-local-part"),
        pytest.param("name.@example.gov.cn", "句点", id="dot-before-at"),
        pytest.param(".name@example.gov.cn", "句点", id="leading-dot"),
        pytest.param("a" * 65 + "@example.gov.cn", "过长", id="local-part-too-long"),
        pytest.param("a@" + ".".join(["b" * 60] * 5) + ".cn", "过长", id="domain-too-long"),
        pytest.param("a@gx.test", "name@example.gov.cn", id="special-use-domain"),
        pytest.param("zhangsan@", "name@example.gov.cn", id="no-domain"),
        pytest.param("zhang san@example", "name@example.gov.cn", id="no-tld"),
        pytest.param("a..b@example.com", "name@example.gov.cn", id="double-dot"),
        pytest.param("张三@example.com", "name@example.gov.cn", id="chinese-local-part"),
    ],
)
def test_check_email_rejects(raw: str, hint: str) -> None:
    with pytest.raises(ValueProblem) as caught:
        check_email(raw)

    assert caught.value.code == E.EMAIL_INVALID
    assert hint in caught.value.fragment


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("130100", "130100", id="plain"),
        pytest.param("'130100", "130100", id="excel-apostrophe"),
        pytest.param("１３０１００", "130100", id="full-width"),
        pytest.param(130100.0, "130100", id="excel-number"),
    ],
)
def test_check_region_code_accepts(raw: object, expected: str) -> None:
    assert check_region_code(raw) == expected


@pytest.mark.parametrize(
    ("raw", "hint"),
    [
        pytest.param("13010", "6位", id="five-digits"),
        pytest.param("130100000000", "12位", id="statistical-code"),
        pytest.param("090100", "6位", id="no-such-province-digit"),
        pytest.param("石家庄", "6位", id="name"),
    ],
)
def test_check_region_code_rejects(raw: str, hint: str) -> None:
    with pytest.raises(ValueProblem) as caught:
        check_region_code(raw)

    assert caught.value.code == E.CODE_INVALID
    assert hint in caught.value.fragment


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param("hb-2016-01", "HB-2016-01", id="upper-cased"),
        pytest.param("ＨＮ０５", "HN05", id="full-width"),
    ],
)
def test_check_code_accepts(raw: str, expected: str) -> None:
    assert check_code(raw) == expected


@pytest.mark.parametrize("raw", [pytest.param("HB 01", id="space"), pytest.param("河北01", id="chinese")])
def test_check_code_rejects(raw: str) -> None:
    with pytest.raises(ValueProblem) as caught:
        check_code(raw)

    assert caught.value.code == E.CODE_INVALID


@pytest.mark.parametrize(
    ("raw", "choices", "aliases", "expected"),
    [
        pytest.param("市", ("市", "县"), None, "市", id="exact"),
        pytest.param(" 主管 领导 ", ("主管领导", "责任处室负责同志"), None, "主管领导", id="spaces"),
        pytest.param("Y", ("是", "否"), None, "是", id="yes-letter"),
        pytest.param("FALSE", ("是", "否"), None, "否", id="excel-boolean"),
        pytest.param("第一季度", ("一季度",), {"第一季度": "一季度"}, "一季度", id="alias"),
    ],
)
def test_check_choice_accepts(
    raw: str, choices: tuple[str, ...], aliases: dict[str, str] | None, expected: str
) -> None:
    assert check_choice(raw, choices, aliases) == expected


def test_check_choice_rejects_and_lists_the_choices() -> None:
    with pytest.raises(ValueProblem) as caught:
        check_choice("省", ("市", "县"))

    assert (caught.value.code, caught.value.fragment) == (
        E.CHOICE_INVALID,
        "不在可选范围内，请从“市、县”中选择一项。",
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("=1+1", True, id="equals"),
        pytest.param('=HYPERLINK("http://x","y")', True, id="hyperlink"),
        pytest.param("@SUM(A1:A2)", True, id="at"),
        pytest.param("+cmd|' /C calc'!A0", True, id="dde-plus"),
        pytest.param("-2+3", True, id="minus-arithmetic"),
        pytest.param(" =1+1", True, id="leading-space"),
        pytest.param("＝1+1", True, id="full-width-equals"),
        pytest.param("-12.5", False, id="negative-number"),
        pytest.param("+86 138 1234 5678", False, id="international-phone"),
        pytest.param("-", False, id="dash-placeholder"),
        pytest.param("--", False, id="double-dash"),
        pytest.param("0311-87803218", False, id="landline"),
        pytest.param("张三", False, id="text"),
        pytest.param("", False, id="empty"),
    ],
)
def test_is_formula(text: str, expected: bool) -> None:
    assert is_formula(text) is expected


@pytest.mark.parametrize(
    "raw",
    [
        "zhangsan@example.gov.cn",
        "ZhangSan@Example.GOV.cn",
        "a+b_c-d@x-y.example.cn",
        "zs@例子.中国",
        "o'brien@example.cn",
        "12345678@qq.com",
    ],
)
def test_provincial_suite_pattern_accepts_every_address_intake_stores(raw: str) -> None:
    """The suite's regex is the syntax of what :func:`email_address` returns (one rule, two engines)."""
    assert re.fullmatch(EMAIL_PATTERN, email_address(raw))


@pytest.mark.parametrize(
    "raw",
    ["name.@example.cn", ".name@example.cn", "a..b@example.cn", "a" * 65 + "@example.cn", "a@b", "a@-b.cn"],
)
def test_provincial_suite_pattern_refuses_what_intake_refuses(raw: str) -> None:
    with pytest.raises(ValueProblem):
        email_address(raw)
    assert not re.fullmatch(EMAIL_PATTERN, raw)


def test_contact_list_gate_uses_the_one_address_pattern() -> None:
    from review_calendar.gate.suites import spec_expectations

    regexes = [
        e["kwargs"]["regex"]
        for e in spec_expectations(get_dataset("contact_list"))
        if e["type"] == "expect_column_values_to_match_regex" and e["kwargs"]["column"] == "email"
    ]
    assert regexes == [EMAIL_PATTERN]


@pytest.mark.parametrize(
    ("stored", "text", "fraction"),
    [
        pytest.param(1.5, "150%", 1.5, id="growth-150"),
        pytest.param(1.25, "125%", 1.25, id="growth-125"),
        pytest.param(0.755, "75.5%", 0.755, id="share"),
        pytest.param(-0.125, "-12.5%", -0.125, id="negative"),
    ],
)
def test_percent_formatted_number_is_read_as_percent_points(
    stored: float, text: str, fraction: float
) -> None:
    """Excel stores 150 % as 1.5; the reader gives "150%", the parser 1.5 (not 1.5 %)."""
    assert percent_text(stored) == text
    assert to_percent(text, minimum=-1.0, maximum=None) == pytest.approx(fraction)


@pytest.mark.parametrize(
    ("code", "percent"),
    [
        ("0.00%", True),
        ("0%", True),
        ('0.0"%"', False),
        ("#,##0.00", False),
        ("0.0%;[Red]-0.0%", True),
        ("General", False),
    ],
)
def test_percent_number_formats(code: str, percent: bool) -> None:
    assert is_percent_format(code) is percent


def test_share_above_100_percent_is_refused() -> None:
    with pytest.raises(ValueProblem) as caught:
        to_percent("180%")
    assert caught.value.code == E.PERCENT_OUT_OF_RANGE


@pytest.mark.parametrize(
    ("raw", "unit", "expected"),
    [
        pytest.param("126.5亿元", "亿元", 126.5, id="header-unit"),
        pytest.param("1,250万元", "万元", 1250.0, id="header-unit-thousands"),
        pytest.param("12个", "个", 12.0, id="count-unit"),
    ],
)
def test_number_with_the_header_unit_is_accepted(raw: str, unit: str, expected: float) -> None:
    assert to_number(raw, unit=unit) == expected


def test_number_with_another_unit_names_both() -> None:
    with pytest.raises(ValueProblem) as caught:
        to_number("126.5万元", unit="亿元")
    assert caught.value.code == E.NUMBER_INVALID
    assert "“万元”" in caught.value.fragment and "“亿元”" in caught.value.fragment


@pytest.mark.parametrize("raw", ["—", "-", "/", "N/A", "n/a", "无", "——"])
def test_none_mark_in_a_number_asks_for_zero(raw: str) -> None:
    with pytest.raises(ValueProblem) as caught:
        to_number(raw)
    assert "没有的请填写0" in caught.value.fragment


@pytest.mark.parametrize("raw", ["—", "/", "N/A"])
def test_none_mark_in_a_percent_asks_for_zero(raw: str) -> None:
    with pytest.raises(ValueProblem) as caught:
        to_percent(raw)
    assert "没有的请填写0%" in caught.value.fragment


@pytest.mark.parametrize("raw", ["1e308", "inf", "nan", 1e308, float("inf")])
def test_non_finite_or_huge_is_refused_under_the_ceiling(raw: object) -> None:
    with pytest.raises(ValueProblem) as caught:
        check_range(to_number(raw), 0.0, 1e12)
    assert caught.value.code in (E.NUMBER_INVALID, E.NUMBER_OUT_OF_RANGE)


def test_figure_in_wan_under_a_yi_column_names_the_slip() -> None:
    with pytest.raises(ValueProblem) as caught:
        check_range(1_874_000.0, 0.0, 10_000.0, unit="亿元")
    assert "可能误填为万元" in caught.value.fragment


def test_figure_far_beyond_any_unit_slip_names_the_limit_only() -> None:
    with pytest.raises(ValueProblem) as caught:
        check_range(1e30, 0.0, 10_000.0, unit="亿元")
    assert "误填" not in caught.value.fragment and "10,000亿元" in caught.value.fragment


def test_serial_date_of_a_1904_workbook() -> None:
    """Serial 44335 is 2025-05-20 counted from 1904-01-01 and 2021-05-19 from 1899-12-30."""
    assert to_date(44335, date1904=True) == dt.date(2025, 5, 20)
    assert to_date("44335", date1904=True) == dt.date(2025, 5, 20)
    assert to_date(44335) == dt.date(2021, 5, 19)


@pytest.mark.parametrize(
    ("check", "raw", "expected"),
    [
        pytest.param(check_region_code, "130982.0", "130982", id="code-float"),
        pytest.param(check_mobile, "13900001111.0", "13900001111", id="mobile-float"),
        pytest.param(check_mobile, 13900001111.0, "13900001111", id="mobile-number"),
    ],
)
def test_codes_and_phones_exported_as_floats(check: object, raw: object, expected: str) -> None:
    assert check(raw) == expected  # type: ignore[operator]


@pytest.mark.parametrize("check", [check_mobile, check_office_phone, check_region_code])
def test_scientific_notation_asks_for_a_text_cell(check: object) -> None:
    with pytest.raises(ValueProblem) as caught:
        check("1.39E+10")  # type: ignore[operator]
    assert "科学计数法" in caught.value.fragment


@pytest.mark.parametrize(("mark", "choice"), [("√", "是"), ("✓", "是"), ("×", "否"), ("✗", "否")])
def test_ticks_and_crosses(mark: str, choice: str) -> None:
    assert check_choice(mark, YES_NO, dict(YES_NO_MARKS)) == choice
