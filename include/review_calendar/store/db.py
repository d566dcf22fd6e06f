"""Engine, sessions, migrations and idempotent upserts for the review database.

The database is an embedded SQLite file by default and any PostgreSQL URL by
configuration (``REVIEW_CALENDAR_DB_URL``). Upserts use each dialect's
``INSERT ... ON CONFLICT`` so a re-run never duplicates rows.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.orm import Session, sessionmaker

from review_calendar.store.models import Base

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers (the UI) work while a task writes; busy_timeout turns a
    # short lock into a wait instead of an immediate "database is locked".
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.close()


@cache
def get_engine(url: str) -> Engine:
    """A pooled engine for ``url`` (one per process and URL).

    Args:
        url: SQLAlchemy URL; ``sqlite:///path`` creates the parent folder.
    """
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"timeout": 15})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_pre_ping=True)


def redact(url: str) -> str:
    """The URL with its password hidden, for logs."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    """A transaction: commit on success, roll back on error.

    Args:
        url: Database URL.
    """
    session = sessionmaker(get_engine(url), expire_on_commit=False)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def alembic_config(url: str) -> Any:
    """The Alembic configuration of the review database at ``url``."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Apply migrations up to ``revision`` (idempotent)."""
    from alembic import command

    log.info("Migrating review database %s to %s", redact(url), revision)
    command.upgrade(alembic_config(url), revision)


def current_revision(url: str) -> str | None:
    """The migration revision the database is at (None when never migrated)."""
    from alembic.runtime.migration import MigrationContext

    with get_engine(url).connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def table_names(url: str) -> list[str]:
    """Tables present in the database."""
    return sorted(inspect(get_engine(url)).get_table_names())


def _dialect_insert(session: Session) -> Any:
    """The ``insert`` construct with ``ON CONFLICT`` support of the session's database."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - only the two supported backends
        raise NotImplementedError(f"upserts are not implemented for {dialect}")
    return insert


def upsert(session: Session, model: type[Base], rows: Sequence[dict[str, Any]], keys: Sequence[str]) -> int:
    """Insert rows, or update the non-key columns of rows whose natural key exists.

    Args:
        session: Open session.
        model: Mapped class.
        rows: Column values; every row has the same keys.
        keys: Columns of the unique constraint or primary key that identify a row.

    Returns:
        Number of rows given.
    """
    if not rows:
        return 0
    insert = _dialect_insert(session)
    table = model.__table__
    updates = [c for c in rows[0] if c not in keys]
    # One statement executed for every row (executemany): compiling one huge
    # multi-row VALUES statement costs seconds for tens of thousands of rows.
    stmt = insert(table)
    if updates:
        stmt = stmt.on_conflict_do_update(
            index_elements=list(keys), set_={c: stmt.excluded[c] for c in updates}
        )
    else:
        stmt = stmt.on_conflict_do_nothing(index_elements=list(keys))
    session.execute(stmt, list(rows))
    return len(rows)


def insert_ignore(
    session: Session, model: type[Base], rows: Sequence[dict[str, Any]], keys: Sequence[str]
) -> int:
    """Insert rows whose natural key is new; leave existing rows untouched.

    Returns:
        Number of rows actually inserted.
    """
    if not rows:
        return 0
    insert = _dialect_insert(session)
    inserted = 0
    table = model.__table__
    first_key = next(iter(table.primary_key.columns))
    # One statement, each row as its parameters: SQLAlchemy compiles it once per set of columns.
    # RETURNING tells whether the row went in; rowcount is -1 on PostgreSQL for this statement.
    stmt = insert(table).on_conflict_do_nothing(index_elements=list(keys)).returning(first_key)
    conn = session.connection()  # Core rows, in the session's transaction (no ORM work per row)
    for row in rows:
        inserted += len(conn.execute(stmt, row).all())
    return inserted


__all__ = [
    "Base",
    "get_engine",
    "session_scope",
    "upgrade",
    "upsert",
    "insert_ignore",
    "redact",
    "current_revision",
]
