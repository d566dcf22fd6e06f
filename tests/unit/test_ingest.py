"""Intake persistence: accept, supersede, quarantine, duplicates, inbox sweeps, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from review_calendar.domain.programmes import find_instance, load_programme
from review_calendar.intake.inbox import inbox_dir, pending_files
from review_calendar.settings import get_settings
from review_calendar.store import receipts
from review_calendar.store.db import session_scope
from review_calendar.store.models import Contact, DatasetRow, Submission, SubmissionError
from review_calendar.store.queries import expected_submitters, record_instances
from review_calendar.tasks.intake import ingest_files
from review_calendar_demo.seed import seed_demo
from review_calendar_demo.synthetic import break_records, records_for, set_received, write_xlsx

pytestmark = pytest.mark.unit
A = load_programme("hebei_smart_cluster")


@pytest.fixture
def env(migrated_url: str, review_env: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("REVIEW_CALENDAR_DB_URL", migrated_url)
    seed_demo(migrated_url)
    record_instances(migrated_url, A, 2025)
    return migrated_url, get_settings()


def _submitter(url: str, obligation: str, region: str):
    instance = find_instance(A, 2025, obligation)
    with session_scope(url) as s:
        return instance, next(x for x in expected_submitters(s, A, instance) if x.region_code == region)


def _file(tmp_path: Path, name: str, records: dict, day: dt.date) -> Path:
    path = write_xlsx(tmp_path / "in" / name, records, "测试")
    set_received(path, day)
    return path


def test_good_file_is_accepted_with_rows_and_contacts(env, tmp_path: Path) -> None:
    url, settings = env
    instance, city = _submitter(url, "contact_list", "130600")
    path = _file(
        tmp_path,
        "保定.xlsx",
        records_for(A, instance, city, counties=[("130683", "安国市")]),
        dt.date(2025, 3, 20),
    )

    report = ingest_files(url, settings, A, instance, [path], received_on=dt.date(2025, 3, 20))

    assert [(o.status, o.region_code, o.is_late) for o in report.accepted] == [("accepted", "130600", False)]
    with session_scope(url) as s:
        assert len(s.scalars(select(DatasetRow)).all()) == 4
        contacts = s.scalars(select(Contact).where(Contact.region_code == "130683")).all()
    assert sorted(c.role for c in contacts) == ["主管领导", "责任处室负责同志"]
    assert Path(report.accepted[0].stored_path).read_bytes() == path.read_bytes()


def test_same_file_twice_is_a_no_op(env, tmp_path: Path) -> None:
    url, settings = env
    instance, city = _submitter(url, "contact_list", "130600")
    path = _file(tmp_path, "保定.xlsx", records_for(A, instance, city), dt.date(2025, 3, 20))
    ingest_files(url, settings, A, instance, [path])

    again = ingest_files(url, settings, A, instance, [path])

    assert again.counts() == {"accepted": 0, "rejected": 0, "duplicates": 1}
    with session_scope(url) as s:
        assert len(s.scalars(select(Submission)).all()) == 1


def test_corrected_resubmission_supersedes_and_keeps_history(env, tmp_path: Path) -> None:
    url, settings = env
    instance, county = _submitter(url, "half_year_report", "130109")
    first = _file(tmp_path, "v1.xlsx", records_for(A, instance, county, seed=1), dt.date(2025, 7, 1))
    second = _file(tmp_path, "v2.xlsx", records_for(A, instance, county, seed=2), dt.date(2025, 7, 10))

    ingest_files(url, settings, A, instance, [first])
    report = ingest_files(url, settings, A, instance, [second])

    with session_scope(url) as s:
        rows = s.scalars(select(Submission).order_by(Submission.id)).all()
    assert [(r.file_name, r.status) for r in rows] == [("v1.xlsx", "superseded"), ("v2.xlsx", "accepted")]
    assert rows[0].superseded_by == rows[1].id == report.accepted[0].submission_id


def test_rejected_file_is_quarantined_with_its_errors(env, tmp_path: Path) -> None:
    url, settings = env
    instance, city = _submitter(url, "contact_list", "130600")
    bad = break_records(records_for(A, instance, city), "bad_mobile", 2025)
    path = _file(tmp_path, "坏.xlsx", bad, dt.date(2025, 3, 20))

    report = ingest_files(url, settings, A, instance, [path])

    outcome = report.rejected[0]
    assert report.to_json()["rejected"][0]["errors"][0]["code"] == "MOBILE_INVALID"
    stored = Path(outcome.stored_path)
    assert stored.read_bytes() == path.read_bytes()
    assert stored.is_relative_to(settings.quarantine_dir)
    sidecar = json.loads(stored.with_name(stored.name + ".errors.json").read_text(encoding="utf-8"))
    assert sidecar["errors"][0]["row"] == 3 and sidecar["errors"][0]["column"] == "手机"
    with session_scope(url) as s:
        errors = s.scalars(select(SubmissionError)).all()
    assert [(e.code, e.row, e.column) for e in errors] == [("MOBILE_INVALID", 3, "手机")]


def test_file_after_the_due_date_is_late(env, tmp_path: Path) -> None:
    url, settings = env
    instance, county = _submitter(url, "half_year_report", "130109")
    path = _file(
        tmp_path, "迟.xlsx", records_for(A, instance, county), instance.effective_due + dt.timedelta(days=1)
    )

    report = ingest_files(url, settings, A, instance, [path])

    assert report.accepted[0].is_late is True


def test_region_outside_the_programme_is_rejected(env, tmp_path: Path) -> None:
    url, settings = env
    instance, county = _submitter(url, "half_year_report", "130109")
    records = records_for(A, instance, county)
    records["progress_report"][0]["region_code"] = "130102"  # 长安区: real, but no enrolled pilot
    path = _file(tmp_path, "外.xlsx", records, dt.date(2025, 7, 1))

    report = ingest_files(url, settings, A, instance, [path])

    assert report.rejected[0].errors[0]["code"] == "REGION_NOT_EXPECTED"


def test_inbox_sweep_moves_files_received_when_first_seen_whatever_their_modification_time(
    env, tmp_path: Path
) -> None:
    from review_calendar.tasks import ingest_inbox

    url, settings = env
    instance, county = _submitter(url, "half_year_report", "130109")
    folder = inbox_dir(settings, instance) / "130109"
    early = write_xlsx(folder / "early.xlsx", records_for(A, instance, county, seed=1), "t")
    later = write_xlsx(folder / "later.xlsx", records_for(A, instance, county, seed=2), "t")
    set_received(early, dt.date(2025, 1, 1))  # modification times are the submitter's: never read
    set_received(later, dt.date(2025, 12, 20))

    result = ingest_inbox(instance.key, "2025-07-15T16:05:00+08:00")

    assert result["accepted"] == 2
    assert pending_files(settings, instance) == []
    with session_scope(url) as s:
        subs = s.scalars(select(Submission).order_by(Submission.id)).all()
    assert {(x.received_on, x.file_name) for x in subs} == {
        (dt.date(2025, 7, 15), "early.xlsx"),
        (dt.date(2025, 7, 15), "later.xlsx"),
    }
    assert {receipts.aware(x.received_at).strftime("%H:%M:%S") for x in subs} == {"16:05:00"}


def test_unreadable_file_in_region_folder_is_attributed_to_that_region(env, tmp_path: Path) -> None:
    url, settings = env
    instance, _ = _submitter(url, "half_year_report", "130109")
    path = inbox_dir(settings, instance) / "130109" / "坏文件.xlsx"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"%PDF-1.4 not a spreadsheet")

    report = ingest_files(url, settings, A, instance, [path])

    assert (report.rejected[0].region_code, report.rejected[0].errors[0]["code"]) == (
        "130109",
        "FILE_NOT_SPREADSHEET",
    )


def test_a_rejection_in_the_acceptance_record_names_its_problems_in_chinese() -> None:
    # The reviewers' 受理记录 shows this reason: error codes are the machine's, not the reviewer's words.
    from review_calendar.intake.ingest import FileOutcome
    from review_calendar.store.accept import acceptance_record

    outcome = FileOutcome(
        file="蠡县.xlsx", status="rejected", sha256="ab" * 32, region_code="130635",
        errors=[{"code": "VALUE_REQUIRED"}, {"code": "VALUE_REQUIRED"}, {"code": "COLUMN_MISSING"}],
    )  # fmt: skip

    record = acceptance_record(A, find_instance(A, 2025, "development_plan"), outcome)

    assert record["reason"] == "退回：3 处问题（必填项未填写、缺少列）"
