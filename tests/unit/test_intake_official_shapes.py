"""Correct files shaped the way officials reshape a template (built by ``tests/fixtures/make_office_files.py``).

Each case exists as .xlsx, .xls and .ods saved by LibreOffice and must be
accepted with the same record in every format: the table pasted into a new
workbook, a 备注 column added after the template's columns, a region code
merged down over a 合计 row.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from review_calendar.intake import issues as E
from review_calendar.intake.row_rules import RowContext
from review_calendar.intake.rows import Submission, read_submission

pytestmark = pytest.mark.unit

OFFICE = Path(__file__).resolve().parents[1] / "fixtures" / "office"
FORMATS = ("xlsx", "xls", "ods")
CONTEXT = RowContext(known_region_codes=frozenset({"131125"}), expected_year=2025)


def _read(name: str, fmt: str) -> Submission:
    return read_submission(OFFICE / f"{name}.{fmt}", "annual_info_table", context=CONTEXT)


def _the_county_row(submission: Submission) -> None:
    assert [(r["region_code"], r["output_yi"]) for r in submission.records] == [
        ("131125", pytest.approx(120.3))
    ]


@pytest.mark.parametrize("fmt", FORMATS)
def test_table_pasted_into_a_new_workbook_is_read_like_the_template(fmt: str) -> None:
    """Sheet1 instead of the template's sheet name, title and header intact: accepted, nothing to warn."""
    submission = _read("pasted_sheet1", fmt)

    assert submission.sheet == "Sheet1"
    _the_county_row(submission)
    assert submission.warnings == []


@pytest.mark.parametrize("fmt", FORMATS)
def test_remark_column_after_the_template_columns_is_ignored_with_a_warning(fmt: str) -> None:
    submission = _read("remark_column", fmt)

    _the_county_row(submission)
    assert "备注" not in str(submission.records[0])
    assert [(w.code, w.severity, w.value) for w in submission.warnings] == [
        (E.COLUMN_UNEXPECTED, "warning", "备注")
    ]
    assert "已忽略" in submission.warnings[0].message


@pytest.mark.parametrize("fmt", FORMATS)
def test_region_code_merged_over_the_total_row_is_not_a_second_region_row(fmt: str) -> None:
    """The 合计 row under a merged code is checked as a total, not read as the county again."""
    submission = _read("total_merged_code", fmt)

    _the_county_row(submission)
    assert submission.warnings == []
