"""End-to-end fixtures: Airflow's own metadata database (SQLite under .airflow-test) migrated once."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """Run ``airflow db migrate`` for the test Airflow home once (skipped while the lock file is unchanged)."""
    home = Path(os.environ["AIRFLOW_HOME"])
    stamp = home / ".migrated"
    lock = ROOT / "requirements.lock"
    if not stamp.exists() or stamp.stat().st_mtime < lock.stat().st_mtime:
        home.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "airflow", "db", "migrate"],
            check=True,
            capture_output=True,
            timeout=600,
            env=os.environ,
        )
        stamp.touch()
    return home
