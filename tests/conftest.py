"""Shared test set-up: an isolated Airflow home, review databases on SQLite and PostgreSQL.

Environment variables are set before anything imports Airflow, so the tests
never touch the developer's ``.airflow`` or ``var`` folders.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
os.environ["AIRFLOW_HOME"] = str(ROOT / ".airflow-test")
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(ROOT / "dags")
os.environ["AIRFLOW__CORE__PLUGINS_FOLDER"] = str(ROOT / "plugins")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__DEFAULT_TIMEZONE"] = "Asia/Shanghai"
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "False"
os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")
os.environ["REVIEW_CALENDAR_PROGRAMMES"] = str(ROOT / "programmes")
os.environ["REVIEW_CALENDAR_HOLIDAYS"] = str(ROOT / "config" / "holidays.yaml")
os.environ["REVIEW_CALENDAR_EXPECTATIONS"] = str(ROOT / "expectations")
os.environ.setdefault("REVIEW_CALENDAR_HOME", str(ROOT / ".airflow-test" / "var"))

from tests.pg_server import PostgresServer  # noqa: E402


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """A real PostgreSQL server for the whole session (started by the tests themselves)."""
    if not PostgresServer.available():
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL binaries (initdb, pg_ctl) are required in CI")
        pytest.skip("PostgreSQL binaries (initdb, pg_ctl) not installed")
    server = PostgresServer().start()
    yield server
    server.stop()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty review database URL, once on SQLite and once on PostgreSQL.

    The process keeps one pooled engine per URL; it is disposed after the test, so
    the idle connections of hundreds of test databases never exhaust the server.
    """
    from review_calendar.store.db import get_engine

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'review.db'}"
    else:
        url = request.getfixturevalue("pg_server").create_database()
    yield url
    get_engine(url).dispose()


@pytest.fixture
def migrated_url(db_url: str) -> str:
    """A review database at the latest migration."""
    from review_calendar.store.db import upgrade

    upgrade(db_url)
    return db_url


@pytest.fixture
def review_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Point REVIEW_CALENDAR_HOME (and the SQLite review database) at a fresh folder.

    The tests simulate past cycle years, as the demo does: files written now are
    received at the sweep's logical moment (``REVIEW_CALENDAR_SIMULATED_YEAR``).
    The back-fill tests (``tests/faults/test_back_fill.py``) turn it off.
    """
    home = tmp_path / "rc-home"
    monkeypatch.setenv("REVIEW_CALENDAR_HOME", str(home))
    monkeypatch.setenv("REVIEW_CALENDAR_SIMULATED_YEAR", "true")
    monkeypatch.delenv("REVIEW_CALENDAR_DB_URL", raising=False)
    return home
