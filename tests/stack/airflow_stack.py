"""Airflow's real stack for tests: ``scripts/airflow-ui.sh`` started as an operator starts it, driven over REST.

The script starts scheduler, dag-processor, triggerer and api-server
(LocalExecutor) in one process group; this module starts the script in its own
session on a free, non-default port with a throw-away Airflow home and metadata
database, waits until every component reports healthy, logs in through the
FAB auth manager's ``POST /auth/token`` with the passwords that the script's
provisioning wrote to ``$AIRFLOW_HOME/passwords.json``, and talks to ``/api/v2``
like any client. Stopping sends SIGTERM to the script (which stops its group), then
kills what is left of both groups by their ids.

No pytest import here: suites build their fixtures on it.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "airflow-ui.sh"
FINISHED = frozenset({"success", "failed"})


class StackError(RuntimeError):
    """The stack did not start, or a run did not finish in time (the message has the logs' tail)."""


@dataclass(frozen=True)
class Response:
    """One HTTP answer: status and decoded JSON (or text)."""

    status: int
    body: Any

    def ok(self) -> Any:
        """The body of a 2xx answer.

        Raises:
            StackError: Another status.
        """
        if not 200 <= self.status < 300:
            raise StackError(f"HTTP {self.status}: {self.body}")
        return self.body


def http(method: str, url: str, *, body: Any = None, token: str = "", timeout: float = 60) -> Response:
    """One JSON request (the demo reviewer's client); HTTP errors are returned, not raised."""
    from review_calendar_demo.reviewer import http as request

    return Response(*request(method, url, body, token=token, timeout=timeout))


def wait_for(check: Callable[[], Any], timeout: float, what: str, interval: float = 2.0) -> Any:
    """Call ``check`` until it returns something truthy.

    Raises:
        StackError: ``timeout`` seconds passed; names ``what`` and the last error.
    """
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = check()
        except StackError:
            raise
        except Exception as exc:
            last = exc
        else:
            if value:
                return value
        time.sleep(interval)
    raise StackError(f"timed out after {timeout:.0f} s waiting for {what} (last error: {last!r})")


def free_port(avoid: frozenset[int] = frozenset({8080})) -> int:
    """A free TCP port on 127.0.0.1 that is none of ``avoid`` (Airflow's default port)."""
    import socket

    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port not in avoid:
            return port


@dataclass
class AirflowStack:
    """``scripts/airflow-ui.sh`` in its own session, with a REST client for ``/api/v2``.

    Attributes:
        home: The Airflow home (metadata database for SQLite, logs, generated passwords).
        env: Environment of the script (and so of every component and task).
        port: The api-server's port.
    """

    home: Path
    env: dict[str, str]
    port: int
    started_in: float = 0.0
    _proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _tokens: dict[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def environment(
        cls, home: Path, sql_alchemy_conn: str, port: int, extra: Mapping[str, str] = {}
    ) -> dict[str, str]:
        """The script's environment: this process's, a private Airflow home, database, port and secrets."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW__")}
        env.update(
            AIRFLOW_HOME=str(home),
            AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=sql_alchemy_conn,
            AIRFLOW__API__PORT=str(port),
            AIRFLOW__API__HOST="127.0.0.1",
            # Shared by every component: tokens the scheduler signs are checked by the api-server.
            AIRFLOW__API_AUTH__JWT_SECRET=secrets.token_urlsafe(64),
            AIRFLOW__API__SECRET_KEY=secrets.token_urlsafe(32),
            AIRFLOW__LOGGING__LOGGING_LEVEL="INFO",
        )
        env.update(extra)
        return env

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def output(self) -> Path:
        """What the script printed."""
        return self.home / "airflow-ui.out"

    def start(self, timeout: float = 420) -> AirflowStack:
        """Run the script and wait until the metadatabase, scheduler, triggerer and dag-processor are healthy.

        Raises:
            StackError: The script exited or the stack was not healthy in time.
        """
        self.home.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        with self.output.open("wb") as out:
            self._proc = subprocess.Popen(
                ["bash", str(SCRIPT), "--no-bootstrap"], env=self.env, cwd=ROOT, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        wait_for(self._healthy, timeout, "every Airflow component to report healthy")
        self.started_in = time.monotonic() - started
        return self

    def _healthy(self) -> bool:
        if self._proc is None or self._proc.poll() is not None:
            raise StackError(f"scripts/airflow-ui.sh exited:\n{self.tail()}")
        health = http("GET", f"{self.url}/api/v2/monitor/health", timeout=10).ok()
        parts = ("metadatabase", "scheduler", "triggerer", "dag_processor")
        return all((health.get(p) or {}).get("status") == "healthy" for p in parts)

    def stop(self) -> None:
        """SIGTERM to the script (it stops its components), then SIGKILL to whatever group is left."""
        groups = [self._proc.pid] if self._proc else []
        pgid_file = self.home / "airflow-ui.pgid"
        if pgid_file.exists():
            groups.append(int(pgid_file.read_text().strip()))
        if self._proc is not None and self._proc.poll() is None:
            os.killpg(self._proc.pid, signal.SIGTERM)
            try:
                self._proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                pass
        for group in groups:
            try:
                os.killpg(group, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def tail(self, chars: int = 4000) -> str:
        """The end of the script's output and of each component's log."""
        parts = [self.output, *sorted((self.home / "logs").glob("*.log"))]
        return "\n".join(
            f"--- {p.name}\n{p.read_text(errors='replace')[-chars:]}" for p in parts if p.exists()
        )

    def password(self, username: str) -> str:
        """The password the project's provisioning generated for ``username``."""
        from review_calendar_airflow.access import password

        return password(username, self.home)

    def token(self, username: str = "operator") -> str:
        """A JWT from FAB's ``POST /auth/token`` with the user's provisioned password."""
        if username not in self._tokens:
            from review_calendar_airflow.access import token

            self._tokens[username] = token(self.url, username, self.password(username))
        return self._tokens[username]

    def user_id(self, username: str) -> str:
        """The user's id as Airflow compares it (FAB's integer id as text): the token's subject."""
        import base64

        payload = self.token(username).split(".")[1]
        return str(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["sub"])

    def api(self, method: str, path: str, body: Any = None, *, user: str | None = "operator") -> Response:
        """``/api/v2`` + ``path`` as ``user`` (``None``: anonymous)."""
        return http(method, f"{self.url}/api/v2{path}", body=body, token=self.token(user) if user else "")

    def unpause(self, dag_id: str) -> None:
        self.api("PATCH", f"/dags/{quote(dag_id)}", {"is_paused": False}).ok()

    def trigger(self, dag_id: str, conf: Mapping[str, Any], note: str = "") -> str:
        """Trigger ``dag_id`` without a logical date (the REST API's default); returns the run id."""
        body = {"logical_date": None, "conf": dict(conf), "note": note or None}
        return self.api("POST", f"/dags/{quote(dag_id)}/dagRuns", body).ok()["dag_run_id"]

    def runs(self, dag_id: str) -> list[dict[str, Any]]:
        """The DAG's runs, oldest first."""
        path = f"/dags/{quote(dag_id)}/dagRuns?order_by=run_after&limit=100"
        return self.api("GET", path).ok()["dag_runs"]

    def run(self, dag_id: str, run_id: str) -> dict[str, Any]:
        return self.api("GET", f"/dags/{quote(dag_id)}/dagRuns/{quote(run_id)}").ok()

    def task_instances(self, dag_id: str, run_id: str) -> list[dict[str, Any]]:
        path = f"/dags/{quote(dag_id)}/dagRuns/{quote(run_id)}/taskInstances?limit=200"
        return self.api("GET", path).ok()["task_instances"]

    def xcom(self, dag_id: str, run_id: str, task_id: str) -> Any:
        """The return value of a task."""
        path = (
            f"/dags/{quote(dag_id)}/dagRuns/{quote(run_id)}/taskInstances/{task_id}/xcomEntries/return_value"
        )
        return self.api("GET", path + "?deserialize=true").ok()["value"]

    def task_log(self, dag_id: str, run_id: str, task_id: str, try_number: int = 1) -> str:
        """The task's log as text (the structured lines' events joined)."""
        path = f"/dags/{quote(dag_id)}/dagRuns/{quote(run_id)}/taskInstances/{task_id}/logs/{try_number}"
        content = self.api("GET", path + "?full_content=true").ok()["content"]
        if isinstance(content, str):
            return content
        return "\n".join(
            " ".join(str(v) for v in (line.get("event"), line.get("error_detail")) if v)
            if isinstance(line, dict) else str(line)
            for line in content
        )  # fmt: skip

    def wait_for_runs(
        self, wanted: Callable[[list[dict[str, Any]]], bool], dag_id: str, timeout: float, what: str
    ) -> list[dict[str, Any]]:
        """Poll the DAG's runs until ``wanted(runs)`` holds; returns them.

        Raises:
            StackError: Not in time; the message lists the runs and the logs' tail.
        """
        try:
            return wait_for(lambda: (runs := self.runs(dag_id)) and wanted(runs) and runs, timeout, what, 3.0)
        except StackError as error:
            seen = [(r["dag_run_id"], r["run_type"], r["state"]) for r in self.runs(dag_id)]
            raise StackError(f"{error}\n{dag_id} runs: {seen}\n{self.tail()}") from None

    def wait_finished(self, dag_id: str, run_id: str, timeout: float) -> dict[str, Any]:
        """Poll one run until it succeeded or failed; returns it."""
        found = self.wait_for_runs(
            lambda runs: any(r["dag_run_id"] == run_id and r["state"] in FINISHED for r in runs),
            dag_id, timeout, f"run {run_id} of {dag_id} to finish",
        )  # fmt: skip
        return next(r for r in found if r["dag_run_id"] == run_id)
