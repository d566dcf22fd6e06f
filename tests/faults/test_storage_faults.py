"""A read-only review database, a full disk, a file that vanishes mid-run: one clear line, the other files go on.

The faults are real:

- read-only database: the SQLite file and its folder are ``chmod 0444`` / ``0555``;
  as root (who ignores mode bits) they are also made immutable (``chattr +i``),
  so every write really fails; the test is skipped where neither holds;
- full disk: the sweep runs in a subprocess whose file-size limit
  (``resource.setrlimit(RLIMIT_FSIZE)``, ``SIGXFSZ`` ignored) makes the write
  of a large copy fail with ``EFBIG``, as a full disk fails it with ``ENOSPC``;
  the review database is PostgreSQL there (a SQLite file would hit the same
  limit);
- vanishing file: the file is deleted between the inbox listing and its
  reading, by the intake's own progress callback after the file before it.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from review_calendar.settings import get_settings
from review_calendar.store.db import get_engine, upgrade
from review_calendar.store.faults import DatabaseFault
from review_calendar.store.queries import record_instances
from review_calendar.tasks import ingest_inbox
from review_calendar.tasks.intake import ingest_files
from review_calendar_demo.seed import seed_demo
from review_calendar_demo.synthetic import set_received
from tests.faults import AS_OF, RECEIVED, contact_list_instance, fill_inbox, ledger, sha256
from tests.support.fresh import run_fresh

pytestmark = pytest.mark.faults

REPO = Path(__file__).resolve().parents[2]


def _prepare(url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("REVIEW_CALENDAR_DB_URL", url)
    upgrade(url)
    seed_demo(url)
    programme, _ = contact_list_instance()
    record_instances(url, programme, 2025)
    return url


def _immutable(path: Path, on: bool) -> bool:
    chattr = shutil.which("chattr")
    if chattr is None:
        return False
    done = subprocess.run([chattr, "+i" if on else "-i", str(path)], capture_output=True, check=False)
    return done.returncode == 0


@pytest.fixture
def read_only_url(tmp_path: Path, review_env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A migrated, seeded SQLite review database, then made read-only (file and folder)."""
    folder = tmp_path / "db"
    folder.mkdir()
    db = folder / "review.db"
    url = _prepare(f"sqlite:///{db}", monkeypatch)
    _, instance = contact_list_instance()
    fill_inbox(url, get_settings(), instance, 3)
    get_engine(url).dispose()  # WAL checkpointed and closed: the database is the one file
    db.chmod(0o444)
    folder.chmod(0o555)
    locked = [p for p in (db, folder) if os.geteuid() == 0 and _immutable(p, True)]
    try:
        if os.geteuid() == 0 and len(locked) != 2:
            pytest.skip("running as root without chattr +i: mode bits alone do not stop root writing")
        yield url
    finally:
        for p in locked:
            _immutable(p, False)
        get_engine(url).dispose()
        folder.chmod(stat.S_IRWXU)
        db.chmod(0o644)


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "review_calendar.cli", *args],
        capture_output=True,
        text=True,
        env=os.environ.copy(),
        timeout=300,
        check=False,
    )


def test_sweep_on_a_read_only_database_fails_with_one_line_naming_the_database(read_only_url: str) -> None:
    _, instance = contact_list_instance()

    with pytest.raises(DatabaseFault) as caught:
        ingest_inbox(instance.key, AS_OF, run_id="read-only")

    message = str(caught.value)
    assert "审查数据库只读" in message and "read-only" in message
    assert read_only_url.removeprefix("sqlite:///") in message
    assert "\n" not in message and "INSERT" not in message and "[SQL" not in message
    # Nothing was taken: every file still waits in the inbox.
    assert len(ledger_pending(instance)) == 3


def ledger_pending(instance: Any) -> set[str]:
    from review_calendar.intake.inbox import pending_files

    return {p.name for p in pending_files(get_settings(), instance)}


def test_ingest_command_on_a_read_only_database_prints_one_line_not_a_traceback(
    read_only_url: str, tmp_path: Path
) -> None:
    _, instance = contact_list_instance()
    (file, *_) = sorted(Path(p) for p in _inbox_files(instance))

    done = cli("ingest", str(file), "--programme", instance.programme_id, "--year", "2025",
               "--obligation", instance.obligation_id)  # fmt: skip

    (line,) = done.stderr.strip().splitlines()
    assert done.returncode == 1
    assert line.startswith("review-calendar：错误：审查数据库只读，无法写入：sqlite:///")
    assert "review.db" in line
    assert "Traceback" not in done.stderr and "已存在" not in done.stdout


def _inbox_files(instance: Any) -> list[Path]:
    from review_calendar.intake.inbox import pending_files

    return pending_files(get_settings(), instance)


@pytest.fixture
def sweep_url(migrated_url: str, review_env: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("REVIEW_CALENDAR_DB_URL", migrated_url)
    seed_demo(migrated_url)
    programme, _ = contact_list_instance()
    record_instances(migrated_url, programme, 2025)
    return migrated_url


def test_a_file_deleted_between_listing_and_reading_is_reported_vanished_and_the_rest_go_on(
    sweep_url: str,
) -> None:
    settings = get_settings()
    programme, instance = contact_list_instance()
    files = fill_inbox(sweep_url, settings, instance, 4)
    listing = _inbox_files(instance)
    doomed = listing[1]

    def delete_the_next(read: int) -> None:
        if read == 1:  # the first file was read; the second is deleted before its turn
            doomed.unlink()

    report = ingest_files(sweep_url, settings, programme, instance, listing, move=True,
                          progress=delete_the_next)  # fmt: skip

    (gone,) = report.vanished
    assert gone.file == doomed.name and report.duplicates == []
    assert doomed.name in gone.errors[0]["message"] and "消失" in gone.errors[0]["message"]
    assert len(report.accepted) + len(report.rejected) == len(files) - 1
    assert report.counts()["vanished"] == 1
    assert _inbox_files(instance) == []


# Full disk: a subprocess with a file-size limit; the review database on PostgreSQL.

FULL_DISK_SWEEP = """
import json, resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG instead
limit = int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
from review_calendar.tasks import ingest_inbox
print(json.dumps(ingest_inbox(sys.argv[1], sys.argv[3], run_id="full-disk"), ensure_ascii=False))
"""
LIMIT = 64 * 1024


@pytest.mark.postgres
def test_a_file_that_cannot_be_stored_stays_in_the_inbox_and_does_not_block_the_files_behind_it(
    pg_server: Any, review_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = _prepare(pg_server.create_database(), monkeypatch)
    settings = get_settings()
    _, instance = contact_list_instance()
    files = fill_inbox(url, settings, instance, 4)
    # First in line: a 300 KB upload that is no workbook; its quarantine copy cannot be written.
    big = files[0].with_name("000_大文件联系人名单.xlsx")
    files[0].rename(big)
    big.write_bytes(os.urandom(300 * 1024))
    set_received(big, RECEIVED)

    summary, _ = run_fresh(FULL_DISK_SWEEP, instance.key, str(LIMIT), AS_OF)
    (problem,) = summary["problems"]
    found = ledger(url, settings, instance)
    assert summary["failed"] == 1 and summary["accepted"] + summary["rejected"] == 3
    assert big.name in problem and "超出文件大小限制" in problem and "留在收件箱" in problem
    assert big.exists() and found.pending == {sha256(big)}
    assert sum(found.statuses.values()) == 3
