"""Files made the way officials make them (template filled, saved by LibreOffice as .xlsx, .xls, .ods).

The fixtures are built by ``tests/fixtures/make_office_files.py``; each case
is read in every format it exists in and must give the same stored value or
the same message. Percents are stored as fractions (75 % → 0.75), amounts in
the unit of their header.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import pytest

from review_calendar.intake import issues as E
from review_calendar.intake.issues import IntakeIssue, IntakeRejected
from review_calendar.intake.rows import Submission, read_submission
from tests.fixtures.make_office_files import CASES

pytestmark = pytest.mark.unit

OFFICE = Path(__file__).resolve().parents[1] / "fixtures" / "office"
FORMATS = ("xlsx", "xls", "ods")


def _read(name: str, fmt: str, dataset: str = "annual_info_table") -> Submission:
    return read_submission(OFFICE / f"{name}.{fmt}", dataset)


def _rejected(name: str, fmt: str, dataset: str = "annual_info_table") -> list[IntakeIssue]:
    with pytest.raises(IntakeRejected) as caught:
        read_submission(OFFICE / f"{name}.{fmt}", dataset)
    return caught.value.issues


@pytest.mark.parametrize("fmt", FORMATS)
def test_growth_above_100_percent_in_a_percent_cell_is_stored_as_typed(fmt: str) -> None:
    """150 % growth (stored by the spreadsheet as 1.5 under 0.00%) is 1.5, not 1.5 %."""
    submission = _read("growth_150", fmt)

    record = submission.records[0]
    assert submission.format == fmt
    assert record["output_growth"] == pytest.approx(1.5)
    assert record["invention_patent_growth"] == pytest.approx(1.25)
    assert record["sme_output_share"] == pytest.approx(0.78)
    assert submission.warnings == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_share_above_100_percent_in_a_percent_cell_is_rejected(fmt: str) -> None:
    """A share of 180 % is impossible; it is named as 180 %, not read as 1.8 %."""
    issues = _rejected("share_180", fmt)

    assert [(i.code, i.row, i.column) for i in issues] == [(E.PERCENT_OUT_OF_RANGE, 4, "中小企业产值占比(%)")]
    assert "180%" in issues[0].message


@pytest.mark.parametrize("fmt", FORMATS)
def test_output_typed_in_wan_under_yi_names_the_unit_slip(fmt: str) -> None:
    """1,874,000 in the 亿元 column is the figure in 万元: rejected, the message says so."""
    issues = _rejected("output_in_wan", fmt)

    assert [(i.code, i.column) for i in issues] == [(E.NUMBER_OUT_OF_RANGE, "集群产值(亿元)")]
    assert "可能误填为万元" in issues[0].message


@pytest.mark.parametrize("fmt", FORMATS)
def test_huge_value_is_rejected_so_totals_stay_finite(fmt: str) -> None:
    issues = _rejected("output_1e30", fmt)

    assert [(i.code, i.column) for i in issues] == [(E.NUMBER_OUT_OF_RANGE, "集群产值(亿元)")]
    assert "上限10,000亿元" in issues[0].message


@pytest.mark.parametrize("fmt", FORMATS)
def test_unusual_output_is_kept_with_a_warning_for_the_reviewer(fmt: str) -> None:
    submission = _read("output_unusual", fmt)

    assert submission.records[0]["output_yi"] == pytest.approx(3500.0)
    assert [(w.code, w.row, w.column, w.severity) for w in submission.warnings] == [
        (E.NUMBER_UNUSUAL, 4, "集群产值(亿元)", "warning")
    ]


@pytest.mark.parametrize("fmt", FORMATS)
def test_header_unit_in_the_cell_is_accepted(fmt: str) -> None:
    assert _read("output_with_unit", fmt).records[0]["output_yi"] == pytest.approx(126.5)


@pytest.mark.parametrize("fmt", FORMATS)
def test_other_unit_in_the_cell_is_an_error(fmt: str) -> None:
    issues = _rejected("output_wrong_unit", fmt)

    assert [(i.code, i.column) for i in issues] == [(E.NUMBER_INVALID, "集群产值(亿元)")]
    assert "“万元”" in issues[0].message and "“亿元”" in issues[0].message


@pytest.mark.parametrize("fmt", FORMATS)
def test_dash_in_a_count_asks_for_zero(fmt: str) -> None:
    issues = _rejected("count_dash", fmt)

    assert [(i.code, i.column) for i in issues] == [(E.NUMBER_INVALID, "高新技术企业数(家)")]
    assert "没有的请填写0" in issues[0].message


@pytest.mark.parametrize("fmt", FORMATS)
def test_ticks_and_crosses_are_yes_and_no(fmt: str) -> None:
    record = _read("ticks", fmt).records[0]

    assert (record["major_incident"], record["has_three_year_plan"]) == ("否", "是")


@pytest.mark.parametrize("fmt", ["xlsx", "ods"])
def test_formula_with_saved_result_takes_the_result_with_a_warning(fmt: str) -> None:
    submission = _read("formula_saved", fmt)

    assert submission.records[0]["output_yi"] == pytest.approx(120.3)
    assert [(w.code, w.column, w.value) for w in submission.warnings] == [
        (E.FORMULA_SAVED_VALUE, "集群产值(亿元)", "=100+20.3")
    ]


def test_formula_in_xls_is_its_saved_result() -> None:
    """An .xls always stores a formula's result; that result is the value."""
    assert _read("formula_saved", "xls").records[0]["output_yi"] == pytest.approx(120.3)


def test_formula_without_saved_result_is_an_error() -> None:
    issues = _rejected("formula_unsaved", "xlsx")

    assert [(i.code, i.row, i.column) for i in issues] == [(E.FORMULA_NOT_ALLOWED, 4, "集群产值(亿元)")]


@pytest.mark.parametrize("fmt", FORMATS)
def test_error_cell_is_named_as_such(fmt: str) -> None:
    issues = _rejected("formula_error", fmt)

    assert [(i.code, i.row, i.column, i.value) for i in issues] == [
        (E.CELL_ERROR, 4, "集群产值(亿元)", "#DIV/0!")
    ]
    assert "未填写" not in issues[0].message


@pytest.mark.parametrize("fmt", FORMATS)
def test_codes_and_phones_exported_as_floats_are_accepted(fmt: str) -> None:
    record = _read("float_codes", fmt, "contact_list").records[0]

    assert (record["region_code"], record["mobile"]) == ("130100", "13900001111")


@pytest.mark.parametrize("fmt", FORMATS)
def test_phone_in_scientific_notation_asks_for_a_text_cell(fmt: str) -> None:
    issues = _rejected("phone_scientific", fmt, "contact_list")

    assert [(i.code, i.column) for i in issues] == [(E.MOBILE_INVALID, "手机")]
    assert "科学计数法" in issues[0].message and "文本" in issues[0].message


@pytest.mark.parametrize("fmt", FORMATS)
def test_serial_date_in_a_general_cell_of_a_1904_workbook_uses_the_1904_epoch(fmt: str) -> None:
    """The serial of 2025-05-20 counted from 1904-01-01; the 1900 epoch would give 2021-05-19."""
    submission = _read("date1904_general", fmt, "development_plan")

    assert submission.records[0]["approval_date"] == dt.date(2025, 5, 20)


def test_every_fixture_is_committed() -> None:
    """The generator's cases and the committed files agree (the suite never needs LibreOffice)."""
    expected = {f"{case.name}.{fmt}" for case in CASES for fmt in (case.formats or ("xlsx",))}
    assert expected == {p.name for p in OFFICE.iterdir()}


def _ods_with(
    tmp_path: Path, content_edit: tuple[bytes, bytes] | None = None, extra: str | None = None
) -> Path:
    """A LibreOffice-made .ods rebuilt with one change to content.xml or one extra part."""
    source = zipfile.ZipFile(OFFICE / "growth_150.ods")
    out = tmp_path / "changed.ods"
    with zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "content.xml" and content_edit is not None:
                data = data.replace(*content_edit)
            method = zipfile.ZIP_STORED if info.filename == "mimetype" else zipfile.ZIP_DEFLATED
            target.writestr(info.filename, data, compress_type=method)
        if extra is not None:
            target.writestr(extra, "Sub Main\nEnd Sub\n")
    return out


def test_ods_cell_repeated_over_a_million_rows_is_refused_before_calamine(tmp_path: Path) -> None:
    path = _ods_with(
        tmp_path, (b"<table:table-row", b'<table:table-row table:number-rows-repeated="1048576"')
    )

    with pytest.raises(IntakeRejected) as caught:
        read_submission(path, "annual_info_table")

    assert caught.value.codes == [E.SHEET_TOO_LARGE]


def test_ods_with_macros_is_refused(tmp_path: Path) -> None:
    with pytest.raises(IntakeRejected) as caught:
        read_submission(_ods_with(tmp_path, extra="Basic/Standard/Module1.xml"), "annual_info_table")

    assert caught.value.codes == [E.FILE_HAS_MACROS]


def test_xls_with_a_vba_project_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "macro.xls"
    path.write_bytes((OFFICE / "growth_150.xls").read_bytes() + "_VBA_PROJECT_CUR".encode("utf-16-le"))

    with pytest.raises(IntakeRejected) as caught:
        read_submission(path, "annual_info_table")

    assert caught.value.codes == [E.FILE_HAS_MACROS]


def test_format_is_told_by_the_bytes_not_the_name(tmp_path: Path) -> None:
    """An .xls renamed .xlsx and an .ods renamed .xls read as what they are."""
    xls = tmp_path / "renamed.xlsx"
    xls.write_bytes((OFFICE / "growth_150.xls").read_bytes())
    ods = tmp_path / "renamed.xls"
    ods.write_bytes((OFFICE / "growth_150.ods").read_bytes())

    assert read_submission(xls, "annual_info_table").format == "xls"
    assert read_submission(ods, "annual_info_table").format == "ods"
