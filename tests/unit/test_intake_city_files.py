"""A city's combined table for its counties: one submission per county row, each judged on its own."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from review_calendar.domain.programmes import find_instance, load_programme
from review_calendar.intake import issues as E
from review_calendar.intake.inbox import inbox_dir, pending_files
from review_calendar.settings import get_settings
from review_calendar.store.db import session_scope
from review_calendar.store.models import Submission
from review_calendar.store.queries import expected_submitters, record_instances
from review_calendar.tasks.intake import ingest_files
from review_calendar_demo.seed import seed_demo
from review_calendar_demo.synthetic import records_for, set_received, write_xlsx

pytestmark = pytest.mark.unit
A = load_programme("hebei_smart_cluster")
REPORT = find_instance(A, 2025, "half_year_report")
BAODING, LIXIAN, GAOBEIDIAN, GAOCHENG = "130600", "130635", "130684", "130109"  # 藁城区 is 石家庄's


@pytest.fixture
def env(migrated_url: str, review_env: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("REVIEW_CALENDAR_DB_URL", migrated_url)
    seed_demo(migrated_url)
    record_instances(migrated_url, A, 2025)
    settings = get_settings()
    with session_scope(migrated_url) as s:
        counties = {x.region_code: x for x in expected_submitters(s, A, REPORT)}
    return migrated_url, settings, counties


def _rows(counties, *codes: str) -> list[dict]:
    return [r for code in codes for r in records_for(A, REPORT, counties[code])["progress_report"]]


def _place(settings, folder: str, name: str, rows: list[dict], day: dt.date) -> None:
    path = write_xlsx(inbox_dir(settings, REPORT) / folder / name, {"progress_report": rows}, "保定市汇总")
    set_received(path, day)


def _take_in(url: str, settings):
    return ingest_files(url, settings, A, REPORT, pending_files(settings, REPORT), move=True)


def _submissions(url: str) -> list[tuple[str, str, str]]:
    with session_scope(url) as s:
        rows = s.scalars(select(Submission).order_by(Submission.id)).all()
        return [(r.region_code, r.status, r.file_name) for r in rows]


def test_city_file_is_one_submission_per_county(env) -> None:
    url, settings, counties = env
    _place(settings, BAODING, "保定市汇总.xlsx", _rows(counties, LIXIAN, GAOBEIDIAN), dt.date(2025, 7, 10))

    report = _take_in(url, settings)

    assert sorted(o.region_code for o in report.accepted) == [LIXIAN, GAOBEIDIAN]
    assert _submissions(url) == [
        (LIXIAN, "accepted", "保定市汇总.xlsx"),
        (GAOBEIDIAN, "accepted", "保定市汇总.xlsx"),
    ]
    assert pending_files(settings, REPORT) == []
    assert _take_in(url, settings).counts()["accepted"] == 0  # nothing left; the same file again is no news


def test_bad_row_rejects_only_its_county(env) -> None:
    url, settings, counties = env
    rows = _rows(counties, LIXIAN, GAOBEIDIAN)
    bad = next(i for i, r in enumerate(rows) if r["region_code"] == GAOBEIDIAN)
    rows[bad]["year"] = "2019"
    _place(settings, BAODING, "保定市汇总.xlsx", rows, dt.date(2025, 7, 10))

    report = _take_in(url, settings)

    assert [o.region_code for o in report.accepted] == [LIXIAN]
    assert [o.region_code for o in report.rejected] == [GAOBEIDIAN]
    assert {e["row"] for e in report.rejected[0].errors} == {
        bad + 3
    }  # title row, header row, then the data rows


def test_county_outside_the_city_is_a_row_error(env) -> None:
    url, settings, counties = env
    _place(settings, BAODING, "保定市汇总.xlsx", _rows(counties, LIXIAN, GAOCHENG), dt.date(2025, 7, 10))

    report = _take_in(url, settings)

    assert [o.region_code for o in report.accepted] == [LIXIAN]
    [rejected] = report.rejected
    assert rejected.region_code == BAODING
    outside = [e for e in rejected.errors if e["code"] == E.REGION_OUTSIDE_CITY]
    assert outside and outside[0]["row"] == 4
    assert "第4行" in outside[0]["message"] and "藁城区（130109）不是保定市所辖" in outside[0]["message"]


def test_latest_receipt_counts_whether_from_the_county_or_its_city(env) -> None:
    url, settings, counties = env
    _place(settings, LIXIAN, "蠡县.xlsx", _rows(counties, LIXIAN), dt.date(2025, 7, 8))
    _take_in(url, settings)
    _place(settings, BAODING, "保定市汇总.xlsx", _rows(counties, LIXIAN, GAOBEIDIAN), dt.date(2025, 7, 10))

    _take_in(url, settings)

    assert _submissions(url) == [
        (LIXIAN, "superseded", "蠡县.xlsx"),
        (LIXIAN, "accepted", "保定市汇总.xlsx"),
        (GAOBEIDIAN, "accepted", "保定市汇总.xlsx"),
    ]


@pytest.mark.skipif(shutil.which("soffice") is None, reason="the demo's .xls is saved by LibreOffice")
def test_demo_year_sends_a_city_table_and_an_xls(env) -> None:
    """The demo's 半年报: 保定's two on-time counties in one city table, one county's file as .xls."""
    from review_calendar.tasks import ingest_inbox
    from review_calendar_demo.scenario import place_submissions

    url, settings, _ = env

    placed = place_submissions(url, settings, A, REPORT)
    ingest_inbox(REPORT.key, "2026-01-31")

    shapes = sorted((p.role, p.region_code, p.path.suffix) for p in placed if p.role in ("city", "xls"))
    [xls] = [p.region_code for p in placed if p.role == "xls"]
    assert shapes == [("city", LIXIAN, ".xlsx"), ("city", GAOBEIDIAN, ".xlsx"), ("xls", xls, ".xls")]
    with session_scope(url) as s:
        rows = s.scalars(select(Submission).where(Submission.status == "accepted")).all()
        by_region = {r.region_code: r.file_name for r in rows}
    assert by_region[LIXIAN] == by_region[GAOBEIDIAN] == f"{BAODING}_各县汇总表.xlsx"
    assert by_region[xls].endswith(".xls")
