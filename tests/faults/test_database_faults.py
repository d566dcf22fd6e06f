"""Review database unavailable or locked in the middle of an inbox sweep, on SQLite and PostgreSQL.

The faults are real:

- SQLite: another connection takes the write lock (``BEGIN EXCLUSIVE``) and
  holds it longer than the busy timeout. The product waits 15 s before giving
  up; the test shortens that to 0.3 s on the cached engine (an extra
  ``PRAGMA busy_timeout`` on connect), so the lock is held "longer than the
  timeout" without a 15 s wait.
- PostgreSQL: the review database stops accepting connections and its
  sessions are terminated (``ALLOW_CONNECTIONS false`` + ``pg_terminate_backend``),
  what a failover or an administrator's maintenance does to a running task.

Intake stores its files in chunks, one transaction each (``tasks.storing.STORE_CHUNK``);
the test makes a chunk 5 files, so the 20 files take four transactions. The fault
starts as the next transaction begins once 5 files are committed (SQLAlchemy
session events count them); the sweep is the DAG's own task
function, ``tasks.ingest_inbox``.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

import pytest
from sqlalchemy import event, func, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from review_calendar.settings import get_settings
from review_calendar.store.db import get_engine, session_scope
from review_calendar.store.faults import DatabaseFault
from review_calendar.store.models import Decision, Submission
from review_calendar.store.queries import record_instances
from review_calendar.tasks import ingest_inbox, storing
from review_calendar_demo.seed import seed_demo
from tests.faults import AS_OF, contact_list_instance, fill_inbox, ledger

pytestmark = pytest.mark.faults

FILES = 20
COMMITTED_BEFORE_FAULT = 5
#: What the error says when the database goes away: SQLite's lock, PostgreSQL's refusal or termination.
DATABASE_PROBLEM = re.compile(
    r"database is locked|not currently accepting connections|terminating connection|server closed the connection"
)


class Fault(Protocol):
    def start(self) -> None: ...
    def stop(self) -> None: ...


class SqliteWriteLock:
    """Another process's connection holding SQLite's write lock."""

    def __init__(self, url: str) -> None:
        self.path = url.removeprefix("sqlite:///")
        self.conn: sqlite3.Connection | None = None

    def start(self) -> None:
        self.conn = sqlite3.connect(self.path, isolation_level=None, timeout=5)
        self.conn.execute("BEGIN EXCLUSIVE")

    def stop(self) -> None:
        if self.conn is not None:
            self.conn.execute("ROLLBACK")
            self.conn.close()
            self.conn = None


class PostgresRefusal:
    """The review database refusing connections, its sessions terminated."""

    def __init__(self, admin_url: str, url: str) -> None:
        admin = make_url(admin_url)
        self.dsn = f"host={admin.host} port={admin.port} user={admin.username} dbname={admin.database}"
        self.database = make_url(url).database

    def _admin(self, *statements: str) -> None:
        import psycopg

        with psycopg.connect(self.dsn, autocommit=True) as conn:
            for sql in statements:
                conn.execute(sql)

    def start(self) -> None:
        self._admin(
            f'ALTER DATABASE "{self.database}" ALLOW_CONNECTIONS false',
            f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{self.database}'",
        )

    def stop(self) -> None:
        self._admin(f'ALTER DATABASE "{self.database}" ALLOW_CONNECTIONS true')


def _short_busy_timeout(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA busy_timeout=300")


@pytest.fixture
def url(migrated_url: str, review_env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The demo province, the 2025 Hebei calendar, the sweep pointed at this database."""
    monkeypatch.setenv("REVIEW_CALENDAR_DB_URL", migrated_url)
    seed_demo(migrated_url)
    programme, _ = contact_list_instance()
    record_instances(migrated_url, programme, 2025)
    engine = get_engine(migrated_url)
    if engine.dialect.name == "sqlite":
        # Runs after the product's own PRAGMAs (listeners run in order); new connections only.
        event.listen(engine, "connect", _short_busy_timeout)
        engine.dispose()
    yield migrated_url
    if event.contains(engine, "connect", _short_busy_timeout):
        event.remove(engine, "connect", _short_busy_timeout)


@pytest.fixture
def fault(url: str, request: pytest.FixtureRequest) -> Iterator[Fault]:
    """The database fault of this backend; always lifted at the end."""
    if url.startswith("sqlite"):
        made: Fault = SqliteWriteLock(url)
    else:
        made = PostgresRefusal(request.getfixturevalue("pg_server").url(), url)
    yield made
    made.stop()


@pytest.fixture
def inbox(url: str, monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    monkeypatch.setattr(storing, "STORE_CHUNK", COMMITTED_BEFORE_FAULT)  # the fault falls between two chunks
    _, instance = contact_list_instance()
    return fill_inbox(url, get_settings(), instance, FILES)


@contextmanager
def after_committed_files(count: int, action: Callable[[], None]) -> Iterator[None]:
    """Run ``action`` once, when the next transaction begins after the committed submissions reached ``count``.

    Started as the next transaction begins (not inside the commit's own event, while
    the committing connection may still be handing its lock back).
    """
    done = 0
    due = False

    def flushed(session: Session, _context: Any) -> None:
        added = sum(isinstance(o, Submission) for o in session.new)
        session.info["submissions"] = session.info.get("submissions", 0) + added

    def committed(session: Session) -> None:
        nonlocal done, due
        before, done = done, done + session.info.pop("submissions", 0)
        due = due or before < count <= done

    def begun(_session: Session, _transaction: Any, _connection: Any) -> None:
        nonlocal due
        if due:
            due = False
            action()

    event.listen(Session, "after_flush", flushed)
    event.listen(Session, "after_commit", committed)
    event.listen(Session, "after_begin", begun)
    try:
        yield
    finally:
        event.remove(Session, "after_flush", flushed)
        event.remove(Session, "after_commit", committed)
        event.remove(Session, "after_begin", begun)


def sweep() -> dict[str, Any]:
    _, instance = contact_list_instance()
    return ingest_inbox(instance.key, AS_OF, run_id="fault-test")


def sweep_with_fault_mid_run(fault: Fault) -> DatabaseFault:
    """Sweep the inbox; the database goes away after 5 files. Returns the error the sweep raised."""
    with (
        after_committed_files(COMMITTED_BEFORE_FAULT, fault.start),
        pytest.raises(DatabaseFault) as caught,
    ):
        sweep()
    return caught.value


def test_database_lost_mid_run_fails_with_an_error_naming_the_database_problem(
    fault: Fault, inbox: list[Path]
) -> None:
    error = sweep_with_fault_mid_run(fault)

    assert DATABASE_PROBLEM.search(str(error)), str(error)


def test_database_lost_mid_run_leaves_no_partial_rows(url: str, fault: Fault, inbox: list[Path]) -> None:
    sweep_with_fault_mid_run(fault)
    fault.stop()

    _, instance = contact_list_instance()
    found = ledger(url, get_settings(), instance)
    assert sum(found.statuses.values()) == COMMITTED_BEFORE_FAULT
    assert (found.orphan_rows, found.rejected_without_errors) == (0, 0)
    # Every file not committed is still waiting in the inbox.
    assert len(found.pending) == FILES - COMMITTED_BEFORE_FAULT


def test_retry_after_the_database_is_back_takes_in_every_file_once(
    url: str, fault: Fault, inbox: list[Path]
) -> None:
    sweep_with_fault_mid_run(fault)
    fault.stop()

    result = sweep()

    _, instance = contact_list_instance()
    found = ledger(url, get_settings(), instance)
    assert result["accepted"] + result["rejected"] == FILES - COMMITTED_BEFORE_FAULT
    assert len(found.hashes) == FILES and set(found.hashes.values()) == {1}
    assert (found.orphan_rows, found.rejected_without_errors) == (0, 0)
    assert found.pending == set()
    assert found.kept == found.stored and found.partial == set()


def test_database_down_before_the_run_leaves_the_inbox_untouched(
    url: str, fault: Fault, inbox: list[Path]
) -> None:
    fault.start()

    with pytest.raises(DatabaseFault, match=DATABASE_PROBLEM):
        sweep()

    fault.stop()
    _, instance = contact_list_instance()
    found = ledger(url, get_settings(), instance)
    assert sum(found.statuses.values()) == 0
    assert len(found.pending) == FILES


def test_retry_after_the_database_is_back_records_an_acceptance_decision_for_every_file(
    url: str, fault: Fault, inbox: list[Path]
) -> None:
    sweep_with_fault_mid_run(fault)
    fault.stop()

    sweep()

    with session_scope(url) as session:
        decisions = session.scalar(
            select(func.count()).select_from(Decision).where(Decision.kind == "acceptance")
        )
        files = session.scalar(select(func.count()).select_from(Submission))
    assert decisions == files == FILES
