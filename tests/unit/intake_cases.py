"""Shared builders for the intake tests: real files, written the way offices write them.

The file builders live in ``tests/data/make_bad_corpus.py`` (the corpus
generator) and are re-exported here, so a corpus case and a unit test build
their files the same way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from review_calendar.intake import IntakeRejected, RawTable, read_table
from review_calendar.intake.templates import DATA_FIRST_ROW, example_value, template_datasets, write_template
from tests.data.make_bad_corpus import (
    CONTACT_HEADERS,
    CONTACT_ROWS,
    KNOWN_REGIONS,
    contact_rows,
    progress_rows,
    write_csv,
    write_xlsx,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from pathlib import Path

    from review_calendar.intake import Dataset

__all__ = [
    "CONTACT_HEADERS",
    "CONTACT_ROWS",
    "KNOWN_REGIONS",
    "contact_rows",
    "example_row",
    "fill_template",
    "progress_rows",
    "read_contacts",
    "rejected",
    "write_csv",
    "write_xlsx",
]


def read_contacts(path: Path, **kwargs: object) -> RawTable:
    """``read_table`` with the contact list's sheet and headers."""
    return read_table(path, sheet="联系人名单", expected_columns=CONTACT_HEADERS, **kwargs)  # type: ignore[arg-type]


def rejected(call: Callable[[], object]) -> IntakeRejected:
    """The IntakeRejected that ``call`` raises (fails the test if it raises nothing)."""
    with pytest.raises(IntakeRejected) as caught:
        call()
    return caught.value


def example_row(dataset: Dataset) -> dict[str, str]:
    """One valid row of a dataset, from the examples of its 填表说明 sheet."""
    return {column.header: example_value(column) for column in dataset.columns}


def fill_template(
    dataset_id: str,
    path: Path,
    rows_by_sheet: Mapping[str, list[Mapping[str, object]]] | None = None,
) -> Path:
    """Write the official template, then type rows into it as an official would.

    Args:
        dataset_id: Template to write.
        path: Where.
        rows_by_sheet: Rows (header → value) per sheet; default one example
            row on every data sheet.

    Returns:
        ``path``.
    """
    from openpyxl import load_workbook

    write_template(
        dataset_id,
        path,
        programme_title="河北省智慧集群建设试点",
        obligation_title="测试事项",
        due="2025年3月31日",
    )
    workbook = load_workbook(path)
    for dataset in template_datasets(dataset_id):
        rows = (rows_by_sheet or {}).get(dataset.sheet, [example_row(dataset)])
        sheet = workbook[dataset.sheet]
        for offset, row in enumerate(rows):
            for index, column in enumerate(dataset.columns, start=1):
                sheet.cell(row=DATA_FIRST_ROW + offset, column=index, value=row.get(column.header))
    workbook.save(path)
    return path
