"""Exports neutralise spreadsheet formulas: text from submissions never becomes a formula in a report.

Intake already refuses formulas inside submitted cells (FORMULA_NOT_ALLOWED,
see the bad corpus), so hostile text reaches the reports another way:

- file names, which intake accepts as they are when safe for the file system
  (``=1+1.xlsx``); the files go through the real inbox sweep;
- cluster names, which come from the programme's enrolment data and are
  written to the review database directly here.

The provincial reports are then written by the aggregation task function
(``tasks.aggregate_province``), and the workbook is read back both with
openpyxl and as raw sheet XML.
"""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import update

from review_calendar.domain.programmes import find_instance, load_programme
from review_calendar.intake.inbox import inbox_dir
from review_calendar.report.workbook import FORMULA_TRIGGERS
from review_calendar.settings import get_settings
from review_calendar.store.db import session_scope
from review_calendar.store.models import Cluster
from review_calendar.store.queries import expected_submitters, record_instances
from review_calendar.tasks import aggregate_province, ingest_inbox
from review_calendar_demo.seed import seed_demo
from review_calendar_demo.synthetic import break_records, records_for, set_received, write_xlsx
from tests.support.builders import submit

pytestmark = pytest.mark.security

AS_OF = "2025-07-31"
#: County -> (file name it submits its half-year report under, whether the file is broken).
HALF_YEAR_FILES = {
    "130109": ("=1+1.xlsx", False),
    "130229": ("@SUM(A1).xlsx", False),
    "130322": ("＝HYPERLINK(0).xlsx", False),  # full-width equals sign, as Chinese input methods type it
    "130635": ("-2+3.xlsx", True),  # rejected: listed with its file name among the lagging regions
}
#: Cluster id -> hostile name put in the enrolment data.
CLUSTER_NAMES = {
    "baigou_luggage": '=HYPERLINK("http://evil.example","点此查看")',  # 130684 sends nothing: missing
    "changli_wine": "\u3000+1",  # after an ideographic space
    "botou_casting": "=cmd|' /C calc'!A0",  # a Programme B cluster (criteria sheet)
}


@dataclass(frozen=True)
class Export:
    xlsx: Path
    hostile: list[str]


def rename_clusters(url: str) -> None:
    with session_scope(url) as session:
        for cluster_id, name in CLUSTER_NAMES.items():
            session.execute(update(Cluster).where(Cluster.id == cluster_id).values(name=name))


def half_year_report(url: str) -> Export:
    """The Hebei pilots' half-year report: files with hostile names through the inbox sweep."""
    programme = load_programme("hebei_smart_cluster")
    instance = find_instance(programme, 2025, "half_year_report")
    with session_scope(url) as session:
        counties = {s.region_code: s for s in expected_submitters(session, programme, instance)}
    for code, (name, broken) in HALF_YEAR_FILES.items():
        records = records_for(programme, instance, counties[code])
        if broken:
            records = break_records(records, "wrong_year", 2025)
        path = write_xlsx(inbox_dir(get_settings(), instance) / code / name, records, "上半年进展")
        set_received(path, dt.date(2025, 7, 10))
    result = ingest_inbox(instance.key, AS_OF, run_id="exports")
    assert (result["accepted"], result["rejected"]) == (3, 1)
    reports = aggregate_province(instance.key, AS_OF, "exports")["reports"]
    hostile = [name for name, _ in HALF_YEAR_FILES.values()]
    return Export(
        Path(reports["xlsx"]), hostile + [CLUSTER_NAMES["baigou_luggage"], CLUSTER_NAMES["changli_wine"]]
    )


def annual_info_table(url: str) -> Export:
    """Programme B's annual information table: a cluster's row written to the database directly."""
    programme = load_programme("miit_sme_cluster")
    instance = find_instance(programme, 2025, "annual_info_table")
    row = {"cluster_name": CLUSTER_NAMES["botou_casting"], "area_km2": 60.0, "output_yi": 120.0,
           "platform_adoption": 0.3}  # fmt: skip
    submit(url, instance, "130981", instance.effective_due, "泊头.xlsx", rows={"annual_info_table": [row]},
           first_row=3, row_count=1)  # fmt: skip
    reports = aggregate_province(instance.key, instance.effective_due.isoformat(), "exports")["reports"]
    return Export(Path(reports["xlsx"]), [CLUSTER_NAMES["botou_casting"]])


@pytest.fixture(
    params=[
        pytest.param(half_year_report, id="half-year-report"),
        pytest.param(annual_info_table, id="programme-b-criteria"),
    ]
)
def export(
    request: pytest.FixtureRequest, migrated_url: str, review_env: Path, monkeypatch: pytest.MonkeyPatch
) -> Export:
    monkeypatch.setenv("REVIEW_CALENDAR_DB_URL", migrated_url)
    seed_demo(migrated_url)
    for programme_id in ("hebei_smart_cluster", "miit_sme_cluster"):
        record_instances(migrated_url, load_programme(programme_id), 2025)
    rename_clusters(migrated_url)
    return request.param(migrated_url)


def text_cells(path: Path) -> list[tuple[str, str, Any]]:
    """(sheet, coordinate, value) of every cell, as openpyxl reads it."""
    wb = load_workbook(path)
    return [(ws.title, c.coordinate, c) for ws in wb for row in ws.iter_rows() for c in row]


def test_workbook_contains_no_formula(export: Export) -> None:
    with zipfile.ZipFile(export.xlsx) as z:
        sheets = {n: z.read(n).decode("utf-8") for n in z.namelist() if n.startswith("xl/worksheets/sheet")}
    formulas = [c for _, c, cell in text_cells(export.xlsx) if cell.data_type == "f"]

    assert sheets and all(not re.search(r"<f[ >]", xml) for xml in sheets.values())
    assert formulas == []


def test_hostile_text_is_written_as_quoted_text(export: Export) -> None:
    values = [cell.value for _, _, cell in text_cells(export.xlsx) if isinstance(cell.value, str)]

    for text in export.hostile:
        assert "'" + text in values, f"{text!r} not in the workbook as quoted text"
        assert text not in values


def test_every_text_cell_starting_like_a_formula_is_quoted(export: Export) -> None:
    risky = [
        (sheet, coordinate, cell.value)
        for sheet, coordinate, cell in text_cells(export.xlsx)
        if isinstance(cell.value, str) and cell.value.lstrip(" \u3000")[:1] in FORMULA_TRIGGERS
    ]

    assert risky == []
