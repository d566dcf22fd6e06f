"""A rejected file whose region cannot be read is recorded once, however often it is taken in again.

``submissions`` is unique by (instance, region_code, content_hash), and a SQL NULL
never equals another: a file without a readable region (no upload folder, an
unreadable workbook) would slip past both the lookup and the key. Real files,
the real sweep and ``ingest``, once on SQLite and once on PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import shutil
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from review_calendar.intake.inbox import inbox_dir
from review_calendar.settings import get_settings
from review_calendar.store.db import session_scope
from review_calendar.store.models import Decision, OutboxMessage, Submission, SubmissionError
from review_calendar.tasks import ingest_inbox
from tests.faults import contact_list_instance
from tests.security.inbox_cases import submissions

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.faults

PROGRAMME, INSTANCE = contact_list_instance()
MOMENT = "2025-03-20T10:00:00+08:00"
LATER = "2025-03-21T10:00:00+08:00"


def _garbage(tmp_path: Path) -> Path:
    """Bytes that are no workbook, named as one: no region can be read from them."""
    source = tmp_path / "source.xlsx"
    source.write_bytes(b"this is not a workbook\n" * 40)
    return source


def _drop(source: Path) -> Path:
    """The file placed directly in the obligation's folder (no region's upload folder)."""
    folder = inbox_dir(get_settings(), INSTANCE)
    folder.mkdir(parents=True, exist_ok=True)
    return shutil.copy(source, folder / "报表.xlsx")


def _counts(url: str) -> tuple[int, int, int, int]:
    with session_scope(url) as session:

        def count(model: type) -> int:
            return int(session.scalar(select(func.count()).select_from(model)) or 0)

        acceptance = session.scalar(
            select(func.count()).select_from(Decision).where(Decision.kind == "acceptance")
        )
        return count(Submission), count(SubmissionError), int(acceptance or 0), count(OutboxMessage)


def test_the_same_unreadable_file_swept_again_is_one_rejection(sweep_env: str, tmp_path: Path) -> None:
    source = _garbage(tmp_path)
    _drop(source)
    first = ingest_inbox(INSTANCE.key, MOMENT)
    after_first = _counts(sweep_env)
    _drop(source)  # sent again, the same bytes
    ingest_inbox(INSTANCE.key, LATER)

    (row,) = submissions(sweep_env)
    assert first["rejected"] == 1 and row.region_code is None and row.status == "rejected"
    assert _counts(sweep_env) == after_first


def test_the_same_unreadable_file_ingested_twice_is_one_rejection(sweep_env: str, tmp_path: Path) -> None:
    from review_calendar.tasks.intake import ingest_files

    source = _garbage(tmp_path)
    settings = get_settings()
    for _ in range(2):
        ingest_files(sweep_env, settings, PROGRAMME, INSTANCE, [source], received_on=INSTANCE.opens_on)

    (row,) = submissions(sweep_env)
    assert row.region_code is None and row.status == "rejected"


def test_recording_without_a_batch_finds_the_rejection_without_a_region(
    sweep_env: str, tmp_path: Path
) -> None:
    from review_calendar.intake import ingest
    from review_calendar.store import accept

    source = _garbage(tmp_path)
    settings = get_settings()
    outcomes = []
    for _ in range(2):
        with session_scope(sweep_env) as session:
            scope = accept.intake_scope(session, PROGRAMME, INSTANCE)
        (parsed,) = ingest.parse_batch(
            PROGRAMME, INSTANCE, [source], scope, received_on=INSTANCE.opens_on
        ).parsed
        dest = accept.store_copy(settings, INSTANCE, parsed)
        with session_scope(sweep_env) as session:
            outcomes.append(accept.record_submission(session, PROGRAMME, INSTANCE, parsed, dest, None))

    (row,) = submissions(sweep_env)
    assert [o.submission_id for o in outcomes] == [row.id, row.id]


def _row(region_code: str | None = None) -> Submission:
    return Submission(
        programme_id=INSTANCE.programme_id, cycle_year=INSTANCE.cycle_year,
        obligation_id=INSTANCE.obligation_id, period=INSTANCE.period, region_code=region_code,
        content_hash="0" * 64, file_name="报表.xlsx", stored_path="", size_bytes=1,
        received_on=INSTANCE.opens_on, received_at=dt.datetime(2025, 3, 1, tzinfo=dt.UTC),
        status="rejected", is_late=False, row_count=0, error_count=1,
    )  # fmt: skip


def test_the_database_refuses_a_second_row_of_the_same_bytes_without_a_region(sweep_env: str) -> None:
    with session_scope(sweep_env) as session:
        session.add_all([_row(), _row("130100"), _row("130200")])  # the same bytes from two regions: two
    with pytest.raises(IntegrityError), session_scope(sweep_env) as session:
        session.add(_row())


def test_the_migration_keeps_the_first_of_rows_recorded_twice_without_a_region(db_url: str) -> None:
    from review_calendar.store.db import upgrade

    upgrade(db_url, "mail17_0001")
    with session_scope(db_url) as session:
        first, second, other = _row(), _row(), _row("130100")
        session.add_all([first, second, other])
        session.flush()
        session.add_all(
            SubmissionError(submission_id=s.id, code="X", message="m", severity="error")
            for s in (first, second)
        )
        kept = first.id
    upgrade(db_url)

    assert [(s.id, s.region_code) for s in submissions(db_url)] == [(kept, None), (other.id, "130100")]
    with session_scope(db_url) as session:
        assert list(session.scalars(select(SubmissionError.submission_id))) == [kept]
