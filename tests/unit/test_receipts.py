"""Receipt time, 受理编号 and the 回执: the pure parts, and the demo's arrivals placing files in time."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from review_calendar.domain.calendar import TZ
from review_calendar.domain.programmes import find_instance, load_programme
from review_calendar.intake.inbox import pending_files, receipt_time, sighting_key
from review_calendar.notify.receipts import ReceiptNote, beijing_time, render_receipt
from review_calendar.notify.render import Problem
from review_calendar.settings import get_settings
from review_calendar.store.db import session_scope
from review_calendar.store.models import Receipt, Submission
from review_calendar.store.queries import record_instances
from review_calendar.store.receipts import aware, receipt_prefix
from review_calendar_demo.seed import seed_demo
from review_calendar_demo.synthetic import set_received

A = load_programme("hebei_smart_cluster")
M = load_programme("miit_sme_cluster")


def test_receipt_time_is_the_earlier_of_ctime_and_the_first_sighting(tmp_path: Path) -> None:
    path = tmp_path / "a.xlsx"
    path.write_bytes(b"x")
    set_received(path, dt.date(2020, 1, 1))  # a modification time in the past changes nothing
    changed = dt.datetime.fromtimestamp(path.lstat().st_ctime, tz=TZ).replace(microsecond=0)
    earlier = dt.datetime(2025, 3, 20, 10, 0, 7, 900, tzinfo=TZ)

    assert receipt_time(path, earlier) == earlier.replace(microsecond=0)
    assert receipt_time(path, changed + dt.timedelta(days=1)) == changed
    assert receipt_time(path).tzinfo is not None


def test_a_file_rewritten_is_a_new_sighting(tmp_path: Path) -> None:
    root = tmp_path
    path = root / "130100" / "a.xlsx"
    path.parent.mkdir()
    path.write_bytes(b"x")
    first = sighting_key(root, path)
    path.write_bytes(b"xy")

    assert first is not None and first[1] == "130100/a.xlsx"
    assert sighting_key(root, path) != first
    assert sighting_key(root, root / "gone.xlsx") is None


@pytest.mark.parametrize(
    ("programme", "obligation", "year", "expected"),
    [
        (A, "contact_list", 2025, "HSC-2025-CL"),
        (A, "development_plan", 2025, "HSC-2025-DP"),
        (A, "half_year_report", 2025, "HSC-2025-HYR"),
        (M, "annual_info_table", 2025, "MSC-2025-AIT"),
    ],
)
def test_receipt_numbers_read_programme_year_and_obligation(programme, obligation, year, expected) -> None:
    assert receipt_prefix(programme, find_instance(programme, year, obligation)) == expected


def test_receipt_prefixes_are_unique_within_a_programme() -> None:
    for programme in (A, M):
        prefixes = {
            receipt_prefix(programme, find_instance(programme, 2025, o.id)) for o in programme.obligations
        }
        assert len(prefixes) == len(programme.obligations)


def test_the_receipt_quotes_number_name_time_rows_and_warnings() -> None:
    instance = find_instance(A, 2025, "contact_list")
    note = ReceiptNote(
        receipt_no="HSC-2025-CL-0007",
        file_name="保定联系人名单.xlsx",
        received_text=beijing_time(dt.datetime(2025, 3, 20, 2, 5, 12, tzinfo=dt.UTC)),
        rows=4,
        is_late=False,
        warnings=(Problem("联系人", 3, "手机", "第3行“手机”列的值少见，请核实"),),
        warning_total=1,
    )

    rendered = render_receipt(A, instance, note, region_name="保定市", as_of=dt.date(2025, 3, 20))

    assert "HSC-2025-CL-0007" in rendered.subject and "已受理" in rendered.subject
    body = rendered.body
    assert "受理编号：HSC-2025-CL-0007" in body and "文件名称：保定联系人名单.xlsx" in body
    assert "收到时间：2025年3月20日 10:05:12（北京时间）" in body
    assert "受理数据：4 行" in body and "第3行“手机”列的值少见" in body
    assert "逾期" not in body


def test_stored_moments_read_back_aware_in_beijing_time() -> None:
    assert aware(dt.datetime(2025, 3, 20, 2, 0)) == dt.datetime(2025, 3, 20, 10, 0, tzinfo=TZ)
    assert aware(None) is None


def test_the_demo_places_files_in_time_by_the_sweeps_logical_time(
    migrated_url: str, review_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from review_calendar_demo.scenario import place_submissions
    from review_calendar_demo.year_run import ARRIVAL, _arrive

    monkeypatch.setenv("REVIEW_CALENDAR_DB_URL", migrated_url)
    monkeypatch.delenv("REVIEW_CALENDAR_SIMULATED_YEAR")  # the demo declares its simulated year itself
    seed_demo(migrated_url)
    record_instances(migrated_url, A, 2025)
    settings = get_settings()
    instance = find_instance(A, 2025, "contact_list")
    placed = place_submissions(migrated_url, settings, A, instance)

    sweeps = _arrive(settings, instance, placed)

    assert sweeps == len({p.received_on for p in placed}) and pending_files(settings, instance) == []
    with session_scope(migrated_url) as s:
        subs = s.scalars(select(Submission)).all()
        numbers = s.scalars(select(Receipt.receipt_no)).all()
    days = {p.received_on for p in placed}
    assert {x.received_on for x in subs} <= days
    assert {aware(x.received_at).time() for x in subs} == {ARRIVAL}
    assert all(x.is_late == (x.received_on > instance.effective_due) for x in subs if x.status != "rejected")
    assert any(x.is_late for x in subs) and any(not x.is_late for x in subs if x.status != "rejected")
    assert len(numbers) == len(set(numbers)) == sum(x.status != "rejected" for x in subs)
    assert not get_settings().simulated_year  # declared for the sweeps only
