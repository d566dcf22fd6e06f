"""A Python snippet run in a fresh interpreter that prints one JSON object as its last line.

For what only a new process can show: which modules an import pulls in, what a
command does from a cold start, how a run ends when a fault stops it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping
from typing import Any


def run_fresh(
    script: str, *args: str, env: Mapping[str, str] | None = None, timeout: float = 300
) -> tuple[Any, subprocess.CompletedProcess[str]]:
    """Run ``python -c script args...``; its last stdout line as JSON, and the finished process.

    Raises:
        AssertionError: The snippet did not exit with 0 (the message ends with its stderr).
    """
    done = subprocess.run(
        [sys.executable, "-c", script, *args],
        env=None if env is None else dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1]), done
