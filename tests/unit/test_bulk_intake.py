"""Bulk storing: many files to a transaction, each file atomic, on SQLite and PostgreSQL.

``tasks.intake.ingest_files`` stores ``tasks.storing.STORE_CHUNK`` files per transaction, each
file in a SAVEPOINT of its own (``tasks.storing.store_chunk``). A bad file never
blocks the files behind it, a re-run stores nothing twice, and the result is the
one file-by-file intake gives (same rows, same receipt numbers and hashes).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DataError

from review_calendar.domain.programmes import find_instance, load_programme
from review_calendar.settings import get_settings
from review_calendar.store import accept
from review_calendar.store.db import session_scope
from review_calendar.store.models import DatasetRow, Decision, Receipt, Submission, SubmissionError
from review_calendar.store.queries import expected_submitters, record_instances
from review_calendar.tasks import storing
from review_calendar.tasks.intake import ingest_files
from review_calendar_demo.seed import seed_demo
from review_calendar_demo.synthetic import break_records, records_for, set_received, write_xlsx

pytestmark = pytest.mark.unit
A = load_programme("hebei_smart_cluster")
INSTANCE = find_instance(A, 2025, "contact_list")
DAY = dt.date(2025, 3, 20)


@pytest.fixture
def env(migrated_url: str, review_env: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("REVIEW_CALENDAR_DB_URL", migrated_url)
    seed_demo(migrated_url)
    record_instances(migrated_url, A, 2025)
    return migrated_url, get_settings()


def _files(url: str, folder: Path, count: int, bad: int | None = None) -> list[Path]:
    """One contact list per city (the ``bad``-th with a wrong mobile), received a minute apart."""
    with session_scope(url) as s:
        cities = [x for x in expected_submitters(s, A, INSTANCE)][:count]
    paths = []
    for n, city in enumerate(cities):
        records = records_for(A, INSTANCE, city)
        if n == bad:
            records = break_records(records, "bad_mobile", 2025)
        path = write_xlsx(folder / f"{city.region_code}.xlsx", records, "测试")
        set_received(path, DAY)
        paths.append(path)
    return paths


def _moments(paths: list[Path]) -> dict[Path, dt.datetime]:
    from review_calendar.domain.calendar import TZ

    start = dt.datetime.combine(DAY, dt.time(9), tzinfo=TZ)
    return {p: start + dt.timedelta(minutes=n) for n, p in enumerate(paths)}


def _ledger(url: str) -> dict[str, Any]:
    """What the database holds, without ids: per content hash its status, receipt and rows."""
    with session_scope(url) as s:
        subs = {x.id: x for x in s.scalars(select(Submission))}
        rows = s.execute(select(DatasetRow.submission_id, DatasetRow.row_no, DatasetRow.data)).all()
        receipts = s.execute(select(Receipt.submission_id, Receipt.receipt_no, Receipt.seq)).all()
        return {
            "submissions": sorted(
                (x.content_hash, x.status, x.region_code, x.receipt_no, x.row_count, x.error_count)
                for x in subs.values()
            ),
            "superseded_by": sorted(
                (x.content_hash, subs[x.superseded_by].content_hash) for x in subs.values() if x.superseded_by
            ),
            "rows": sorted((subs[i].content_hash, n, repr(sorted(d.items()))) for i, n, d in rows),
            "receipts": sorted((subs[i].content_hash, no, seq) for i, no, seq in receipts),
            "errors": s.scalar(select(func.count()).select_from(SubmissionError)),
            "decisions": sorted(
                (d.subject, d.outcome)
                for d in s.scalars(select(Decision).where(Decision.kind == "acceptance"))
            ),
        }


def test_a_bad_file_in_the_middle_is_quarantined_and_the_others_stored(
    env, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url, settings = env
    paths = _files(url, tmp_path / "in", 5, bad=2)

    with caplog.at_level("INFO", logger="review_calendar.tasks.storing"):
        report = ingest_files(url, settings, A, INSTANCE, paths, received_at=_moments(paths))

    assert "went back" not in caplog.text  # stored together: one INSERT per table for the chunk

    assert report.counts() == {"accepted": 4, "rejected": 1, "duplicates": 0}
    (rejected,) = report.rejected
    assert rejected.file == paths[2].name
    assert "/quarantine/" in rejected.stored_path and Path(rejected.stored_path).exists()
    assert [s for _, s, *_ in _ledger(url)["submissions"]].count("accepted") == 4


def test_a_file_the_database_refuses_is_rolled_back_alone(
    env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A write error inside one file's SAVEPOINT fails that file only; no row of it is left."""
    url, settings = env
    paths = _files(url, tmp_path / "in", 5)
    real = accept.project

    def refuse_third(session: Any, programme: Any, instance: Any, submission_id: int, records: Any) -> None:
        real(session, programme, instance, submission_id, records)
        if session.get(Submission, submission_id).file_name == paths[2].name:
            raise DataError("INSERT", {}, Exception("value refused"))

    monkeypatch.setattr(accept, "project", refuse_third)

    with caplog.at_level("INFO", logger="review_calendar.tasks.storing"):
        report = ingest_files(url, settings, A, INSTANCE, paths, received_at=_moments(paths))

    assert "went back" in caplog.text  # the chunk went back whole, then one file at a time

    assert report.counts() == {"accepted": 4, "rejected": 0, "duplicates": 0, "failed": 1}
    assert [(o.file, o.errors[0]["code"]) for o in report.failed] == [(paths[2].name, "STORAGE_FAILED")]
    ledger = _ledger(url)
    assert len(ledger["submissions"]) == 4
    assert paths[2].name not in {s.file_name for s in _submissions(url)}
    # Numbered without a gap: the refused file's receipt number went back with its SAVEPOINT.
    assert sorted(seq for _, _, seq in ledger["receipts"]) == [1, 2, 3, 4]


def _submissions(url: str) -> list[Submission]:
    with session_scope(url) as s:
        return list(s.scalars(select(Submission)))


def test_rerunning_the_batch_stores_nothing_twice(env, tmp_path: Path) -> None:
    url, settings = env
    paths = _files(url, tmp_path / "in", 6, bad=3)
    ingest_files(url, settings, A, INSTANCE, paths, received_at=_moments(paths))
    first = _ledger(url)

    again = ingest_files(url, settings, A, INSTANCE, paths, received_at=_moments(paths))

    assert again.counts()["accepted"] == 0
    assert again.counts()["duplicates"] == 5
    assert _ledger(url) == first


def test_batch_result_equals_the_file_by_file_result(
    migrated_url: str,
    review_env: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    """Same submissions, rows, receipt numbers and decisions whether stored in chunks or one file at a time."""
    monkeypatch.setenv("REVIEW_CALENDAR_DB_URL", migrated_url)
    seed_demo(migrated_url)
    record_instances(migrated_url, A, 2025)
    settings = get_settings()
    # Two versions from one city (the later supersedes), a rejected file, in chunks of 3.
    paths = _files(migrated_url, tmp_path / "in", 7, bad=4)
    with session_scope(migrated_url) as s:
        city = next(iter(expected_submitters(s, A, INSTANCE)))
    second = write_xlsx(
        tmp_path / "in2" / f"{city.region_code}.xlsx", records_for(A, INSTANCE, city, seed=7), "测试"
    )
    paths.append(second)
    moments = _moments(paths)
    monkeypatch.setattr(storing, "STORE_CHUNK", 3)
    ingest_files(migrated_url, settings, A, INSTANCE, paths, received_at=moments)
    batched = _ledger(migrated_url)

    from review_calendar.store.db import get_engine, upgrade

    if migrated_url.startswith("sqlite"):
        other = f"sqlite:///{tmp_path / 'other.db'}"
    else:
        other = request.getfixturevalue("pg_server").create_database()
    request.addfinalizer(lambda: get_engine(other).dispose())
    upgrade(other)
    seed_demo(other)
    record_instances(other, A, 2025)
    monkeypatch.setenv("REVIEW_CALENDAR_DB_URL", other)
    monkeypatch.setattr(storing, "STORE_CHUNK", 1)
    for path in paths:
        ingest_files(other, settings, A, INSTANCE, [path], received_at={path: moments[path]})

    assert _ledger(other) == batched
    assert len(batched["receipts"]) == 7
