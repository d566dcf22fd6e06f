"""The real Airflow stack, started once per database for the whole test session.

``stack`` runs ``scripts/airflow-ui.sh`` (scheduler, dag-processor, triggerer,
api-server; LocalExecutor) on a free, non-default port, with Airflow's metadata
database and the review database both on SQLite, or both on the tests'
PostgreSQL server; a real local SMTP server receives the e-mails. The review
database is migrated and seeded with the demo province before the stack
starts; the DAGs start paused, so each suite decides what runs.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.stack.airflow_stack import AirflowStack, free_port

OPERATORS = "ops@review-calendar.example.cn"
#: Where the script's output and the components' and tasks' logs stay after the session.
OUTPUT = Path(__file__).resolve().parents[2] / "test-output"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "stack: Airflow's real scheduler, dag-processor, triggerer and api-server started by scripts/airflow-ui.sh",
    )


@dataclass
class Stack:
    """A running stack, its review database and working folder, and the SMTP server its tasks send to."""

    airflow: AirflowStack
    database: str
    review_url: str
    review_home: Path
    smtp: object


@pytest.fixture(scope="session", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def stack(request: pytest.FixtureRequest) -> Iterator[Stack]:
    """Airflow's real stack on one database, for the whole session."""
    from review_calendar.store.db import upgrade
    from review_calendar_demo.local_smtp import LocalSmtpServer
    from review_calendar_demo.seed import seed_demo

    # Not under pytest's numbered temporary folders: another pytest session on the machine may
    # prune those while this stack still writes there.
    tmp = Path(tempfile.mkdtemp(prefix=f"rc-stack-{request.param}-"))
    home, review_home = tmp / "airflow", tmp / "review"
    if request.param == "sqlite":
        metadata, review_url = f"sqlite:///{home / 'airflow.db'}", f"sqlite:///{review_home / 'review.db'}"
    else:
        server = request.getfixturevalue("pg_server")
        metadata = server.create_database("airflow").replace("postgresql://", "postgresql+psycopg2://", 1)
        review_url = server.create_database("review")
    review_home.mkdir(parents=True)
    upgrade(review_url)
    seed_demo(review_url)
    smtp = LocalSmtpServer().start()
    env = AirflowStack.environment(
        home,
        metadata,
        free_port(),
        {
            "REVIEW_CALENDAR_HOME": str(review_home),
            "REVIEW_CALENDAR_DB_URL": review_url,
            "REVIEW_CALENDAR_OPERATORS": OPERATORS,
            # The stack runs the 2025 cycles with files written today: a simulated year, like the demo's.
            "REVIEW_CALENDAR_SIMULATED_YEAR": "true",
            "AIRFLOW_CONN_SMTP_DEFAULT": json.dumps({
                "conn_type": "smtp", "host": "127.0.0.1", "port": smtp.port,
                "extra": {"disable_ssl": True, "disable_tls": True, "timeout": 10, "from_email": "review-calendar@localhost"},
            }),
            # Fewer re-parses of unchanged files: the test's DAGs do not change while it runs.
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "600",
        },
    )  # fmt: skip
    airflow = AirflowStack(home=home, env=env, port=int(env["AIRFLOW__API__PORT"]))
    try:
        airflow.start()
        yield Stack(airflow, request.param, review_url, review_home, smtp)
    finally:
        airflow.stop()
        smtp.stop()
        keep = OUTPUT / f"stack-{request.param}"
        shutil.rmtree(keep, ignore_errors=True)
        if home.exists():
            shutil.copytree(
                home, keep, ignore=shutil.ignore_patterns("*.db", "*.db-*", "*.generated", "*.cfg")
            )
        shutil.rmtree(tmp, ignore_errors=True)
