"""An intake process killed halfway through an inbox sweep: the re-run ends consistent.

A child process (this module run with ``python -m``) takes in 40 contact lists
from the inbox with ``tasks.intake.ingest_files(move=True)`` and is killed with SIGKILL:

- ``during-parse``: while reading the files, before anything is written;
- ``after-copy``: right after the 10th file was copied to accepted/ or
  quarantine/, before its database transaction;
- ``after-commit``: right after the transaction of the 2nd chunk of 5 files
  (10 files) committed, before its files were removed from the inbox;
- ``external``: by the test, as soon as 10 submissions are in the database
  (the child waits 50 ms after each chunk so the kill lands mid-batch, at
  whatever point the process happens to be).

The child stores :data:`CHUNK` files per transaction (``tasks.storing.STORE_CHUNK``,
each file in a SAVEPOINT), so a kill can land inside a chunk. The three precise
points are reached by wrapping one function *in the child only*
(``store.accept.copy_file``, the copy; ``tasks.storing.store_chunk``, one chunk's
transaction) so that it kills its own process there; the signal is a real
SIGKILL, nothing in the parent is patched. The child skips the Great
Expectations row checks (they run before the first write, so they do not
change what a kill can leave behind). The re-run is the DAG's own task
function, ``tasks.ingest_inbox``, in the test process.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.faults import AS_OF, Ledger, contact_list_instance, fill_inbox, ledger, sha256

pytestmark = pytest.mark.faults

ROOT = Path(__file__).resolve().parents[2]
FILES = 40
KILL_AT = 10
CHUNK = 5
MODES = ("during-parse", "after-copy", "after-commit", "external")


def _kill_self(*_: Any) -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def child(mode: str) -> None:
    """The intake process: sweep the contact-list inbox, dying at ``mode`` (see the module docstring)."""
    from review_calendar.intake.inbox import pending_files
    from review_calendar.settings import get_settings
    from review_calendar.store import accept
    from review_calendar.tasks import intake as tasks
    from review_calendar.tasks import storing

    settings = get_settings()
    programme, instance = contact_list_instance()
    progress = None
    calls = Counter[str]()

    def after(module: Any, name: str, then: Any) -> None:
        real = getattr(module, name)

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            result = real(*args, **kwargs)
            calls[name] += 1
            then(calls[name])
            return result

        setattr(module, name, wrapper)

    if mode == "during-parse":
        progress = lambda n: n == KILL_AT and _kill_self()  # noqa: E731
    elif mode == "after-copy":
        after(accept, "copy_file", lambda n: n == KILL_AT and _kill_self())
    elif mode == "after-commit":
        after(storing, "store_chunk", lambda n: n == KILL_AT // CHUNK and _kill_self())
    else:
        after(storing, "store_chunk", lambda n: time.sleep(0.05 * CHUNK))
    storing.STORE_CHUNK = CHUNK
    files = pending_files(settings, instance)
    tasks.ingest_files(settings.db_url, settings, programme, instance, files, move=True, progress=progress)


def count_submissions(url: str) -> int:
    from sqlalchemy import func, select

    from review_calendar.store.db import session_scope
    from review_calendar.store.models import Submission

    with session_scope(url) as session:
        return session.scalar(select(func.count()).select_from(Submission)) or 0


def run_and_kill(mode: str, url: str) -> int:
    """Start the intake child; in ``external`` mode SIGKILL it once 10 files are stored. Returns its exit code."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "include"), str(ROOT)])}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.faults.test_killed_intake", mode],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        if mode == "external":
            deadline = time.monotonic() + 60
            while count_submissions(url) < KILL_AT and proc.poll() is None and time.monotonic() < deadline:
                time.sleep(0.01)
            proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode


@dataclass(frozen=True)
class Killed:
    """One killed sweep and its re-run."""

    files: set[str]  # content hashes of the files put in the inbox
    exit_code: int
    after_kill: Ledger
    rerun: dict[str, Any]
    after_rerun: Ledger


@pytest.fixture(
    scope="module",
    params=[pytest.param(("sqlite", m), id=f"sqlite-{m}") for m in MODES]
    + [pytest.param(("postgres", m), id=f"postgres-{m}", marks=pytest.mark.postgres) for m in MODES],
)
def killed(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Killed:
    from review_calendar.settings import get_settings
    from review_calendar.store.db import upgrade
    from review_calendar.store.queries import record_instances
    from review_calendar.tasks import ingest_inbox
    from review_calendar_demo.seed import seed_demo

    backend, mode = request.param
    home = tmp_path_factory.mktemp(f"killed-{backend}-{mode}")
    url = (
        f"sqlite:///{home / 'review.db'}"
        if backend == "sqlite"
        else request.getfixturevalue("pg_server").create_database()
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("REVIEW_CALENDAR_HOME", str(home))
        mp.setenv("REVIEW_CALENDAR_DB_URL", url)
        mp.setenv("REVIEW_CALENDAR_SIMULATED_YEAR", "true")  # files written now, swept in 2025
        settings = get_settings()
        programme, instance = contact_list_instance()
        upgrade(url)
        seed_demo(url)
        record_instances(url, programme, 2025)
        files = {sha256(p) for p in fill_inbox(url, settings, instance, FILES)}

        exit_code = run_and_kill(mode, url)
        after_kill = ledger(url, settings, instance)
        rerun = ingest_inbox(instance.key, AS_OF, run_id="rerun")
        after_rerun = ledger(url, settings, instance)
    return Killed(files, exit_code, after_kill, rerun, after_rerun)


def test_intake_process_was_killed_mid_batch(killed: Killed) -> None:
    stored = sum(killed.after_kill.statuses.values())

    assert killed.exit_code == -signal.SIGKILL
    assert stored < FILES and len(killed.after_kill.pending) > 0


def test_killed_run_leaves_every_file_pending_or_recorded(killed: Killed) -> None:
    recorded = set(killed.after_kill.hashes)

    assert recorded | killed.after_kill.pending == killed.files
    assert killed.after_kill.orphan_rows == killed.after_kill.rejected_without_errors == 0


def test_rerun_records_every_file_exactly_once(killed: Killed) -> None:
    assert set(killed.after_rerun.hashes) == killed.files
    assert set(killed.after_rerun.hashes.values()) == {1}
    recorded = set(killed.after_kill.hashes)
    # A file recorded as rejected but killed before leaving the inbox is judged again
    # (its row is updated in place, never duplicated: see the line above).
    rejudged = len(recorded & killed.after_kill.pending)
    judged = killed.rerun["accepted"] + killed.rerun["rejected"]
    assert FILES - len(recorded) <= judged <= FILES - len(recorded) + rejudged


def test_rerun_empties_the_inbox(killed: Killed) -> None:
    assert killed.after_rerun.pending == set()


def test_rerun_keeps_exactly_the_recorded_files(killed: Killed) -> None:
    assert killed.after_rerun.kept == killed.after_rerun.stored
    assert killed.after_rerun.partial == set()


def test_rerun_leaves_whole_submissions(killed: Killed) -> None:
    found = killed.after_rerun

    assert (found.orphan_rows, found.rejected_without_errors) == (0, 0)


def test_rerun_leaves_one_accepted_list_per_city(killed: Killed) -> None:
    # 13 cities (11 prefecture-level, 定州 and 辛集) send 3 or 4 lists each; every 5th list has a bad mobile.
    assert killed.after_rerun.statuses == Counter({"accepted": 13, "superseded": 19, "rejected": 8})


if __name__ == "__main__":
    child(sys.argv[1])
