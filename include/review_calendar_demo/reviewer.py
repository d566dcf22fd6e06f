"""Playing the reviewer: an Airflow api-server on the run's metadata database, answered over REST.

``dag.test()`` parks a Required Action (awaiting input) and never answers it;
an answer has to come from outside, as it would from a reviewer in the UI. The
main job and the end-to-end tests start ``airflow api-server`` on the same
Airflow home and database, log in as a programme's reviewer (``POST
/auth/token``) and answer through the HITL REST API
(``PATCH /api/v2/dags/{dag}/dagRuns/{run}/taskInstances/review/{i}/hitlDetails``).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

if TYPE_CHECKING:
    from pathlib import Path


def _utc(text: str) -> dt.datetime:
    """An ISO time (``Z`` or an offset) as an aware UTC datetime."""
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(dt.UTC)


def free_port() -> int:
    """A free TCP port on localhost."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http(method: str, url: str, body: Any = None, token: str = "", timeout: float = 60) -> tuple[int, Any]:
    """One JSON request; returns (status, decoded body) and never raises on HTTP errors."""
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as r:
            raw, status = r.read(), r.status
    except urllib.error.HTTPError as e:
        raw, status = e.read(), e.code
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw.decode("utf-8", errors="replace")


@dataclass
class ApiServer:
    """``airflow api-server`` on this process's Airflow home and database, in its own process group."""

    log_file: Path
    port: int = field(default_factory=free_port)
    env: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 180) -> ApiServer:
        """Start and wait until ``/api/v2/monitor/health`` answers.

        Raises:
            RuntimeError: It did not come up in time (the log's tail is in the message).
        """
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, **self.env}
        with self.log_file.open("a", encoding="utf-8") as log:
            self.process = subprocess.Popen(
                ["airflow", "api-server", "--port", str(self.port), "--host", "127.0.0.1"],
                stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                if http("GET", f"{self.url}/api/v2/monitor/health", timeout=5)[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(1)
        tail = self.log_file.read_text(encoding="utf-8", errors="replace")[-3000:]
        self.stop()
        raise RuntimeError(f"api-server did not start on {self.url}:\n{tail}")

    def stop(self) -> None:
        """Stop the server's process group."""
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=20)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process = None

    def __enter__(self) -> ApiServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@dataclass
class Reviewer:
    """A reviewer answering Required Actions through the REST API."""

    url: str
    username: str
    password: str
    _token: str = ""

    def token(self) -> str:
        """A JWT from ``POST /auth/token``.

        Raises:
            RuntimeError: The login was refused.
        """
        if not self._token:
            status, body = http("POST", f"{self.url}/auth/token",
                                {"username": self.username, "password": self.password})  # fmt: skip
            if status not in (200, 201) or not isinstance(body, dict):
                raise RuntimeError(f"login of {self.username} refused: HTTP {status}")
            self._token = body["access_token"]
        return self._token

    def pending(self, dag_id: str = "~", since: str = "") -> list[dict[str, Any]]:
        """Required Actions waiting for an answer (all DAGs, or one; only those created at ``since`` or later).

        ``since`` is an ISO time in UTC: a run's own actions, not the ones older runs left open.

        Only actions whose task already waits (``awaiting_input``) are listed. Airflow 3.3
        writes a task's Required Action before it parks the task; an answer that arrives in
        between is recorded but resumes nothing (the api-server resumes only a parked task),
        and the run then waits forever. A person never answers within those milliseconds; a
        program playing the reviewer would.
        """
        status, body = http(
            "GET", f"{self.url}/api/v2/dags/{quote(dag_id)}/dagRuns/~/hitlDetails?response_received=false&limit=100",
            token=self.token(),
        )  # fmt: skip
        if status != 200:
            raise RuntimeError(f"HTTP {status}: {body}")
        return [
            d
            for d in body["hitl_details"]
            if d["task_instance"].get("state") == "awaiting_input"
            and (not since or _utc(d["created_at"]) >= _utc(since))
        ]

    def answer(self, detail: dict[str, Any], option: str, **form: Any) -> tuple[int, Any]:
        """Answer one Required Action with ``option`` and the form's fields; returns (status, body)."""
        ti = detail["task_instance"]
        path = (f"/api/v2/dags/{quote(ti['dag_id'])}/dagRuns/{quote(ti['dag_run_id'], safe='')}"
                f"/taskInstances/{quote(ti['task_id'])}/{ti['map_index']}/hitlDetails")  # fmt: skip
        params = {"outcome": None, "reason": None, "new_due": None, **form}
        return http(
            "PATCH", self.url + path, {"chosen_options": [option], "params_input": params}, token=self.token()
        )
