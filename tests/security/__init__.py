"""Bad input and security: the malformed-submission corpus through intake, contact data and credentials in logs,
formula neutralisation in exports, a secret scan, and the reviewers' UI refusing anonymous callers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def migrated_airflow_home() -> Path:
    """Airflow's own metadata database for the tests (``airflow db migrate`` once, as ``tests/e2e`` does).

    Needed by ``dag.test()`` and by Airflow's token validation (it looks tokens
    up in the ``revoked_token`` table).
    """
    home = Path(os.environ["AIRFLOW_HOME"])
    stamp = home / ".migrated"
    if not stamp.exists() or stamp.stat().st_mtime < (ROOT / "requirements.lock").stat().st_mtime:
        home.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "airflow", "db", "migrate"], check=True, capture_output=True, timeout=600
        )
        stamp.touch()
    return home
