"""Engine, sessions, migrations and idempotent upserts for the review database.

The database is an embedded SQLite file by default and any PostgreSQL URL by
configuration (``REVIEW_CALENDAR_DB_URL``). Upserts use each dialect's
``INSERT ... ON CONFLICT`` so a re-run never duplicates rows.
"""

from __future__ import annotations

import ast
import logging
import re
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.orm import Session, sessionmaker

from review_calendar.store.tables.base import Base
from review_calendar.store.tables.intake import attach_partial_indexes

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# ``revision = "x"``, ``down_revision: str | None = "y"`` and ``depends_on`` lines of a migration script.
_SCRIPT_ASSIGNMENT = re.compile(r"^(revision|down_revision|depends_on)\b[^=\n]*=\s*(.+?)\s*$", re.MULTILINE)


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
    else:
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
        engine = create_engine(url, pool_pre_ping=True)
    attach_partial_indexes(engine.dialect.name)
    return engine


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
    """Apply migrations up to ``revision`` (idempotent).

    A database already at the scripts' one head is left as it is without
    loading Alembic (every command starts with this call; a county's file is
    answered in about a second). Anything else (a database never migrated, one
    behind or ahead, several heads) goes through Alembic as always.
    """
    if revision == "head" and _at_head(url):
        log.info("Review database %s is at the latest migration", redact(url))
        return
    from alembic import command

    log.info("Migrating review database %s to %s", redact(url), revision)
    command.upgrade(alembic_config(url), revision)


def _script_head() -> str | None:
    """The one head revision of the migration scripts, read from their text (None: not exactly one, or unclear)."""
    revisions: set[str] = set()
    below: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        said = dict(_SCRIPT_ASSIGNMENT.findall(path.read_text(encoding="utf-8")))
        try:
            rev = ast.literal_eval(said["revision"])
            down = ast.literal_eval(said.get("down_revision", "None"))
            depends = ast.literal_eval(said.get("depends_on", "None"))
        except (KeyError, ValueError, SyntaxError):
            return None
        if not isinstance(rev, str) or depends:
            return None
        revisions.add(rev)
        below.update(down if isinstance(down, (tuple, list)) else [down] if down else [])
    heads = revisions - below
    return heads.pop() if len(heads) == 1 else None


def _at_head(url: str) -> bool:
    """Whether the database's version table holds exactly the scripts' one head (False when unsure)."""
    head = _script_head()
    if head is None:
        return False
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    # A database that cannot be reached raises here, as Alembic's own connection would.
    with get_engine(url).connect() as conn:
        try:
            versions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        except DBAPIError:
            return False  # no version table yet, or a database Alembic reports on
    return list(versions) == [head]


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
