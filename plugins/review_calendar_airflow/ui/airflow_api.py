"""Start DAG runs through Airflow's own REST API, as the caller.

The re-run button does not touch Airflow's tables itself: it sends
``POST /api/v2/dags/{dag_id}/dagRuns`` with the caller's own JWT to the
api-server it runs in (in-process, over ASGI, no network). Airflow then
applies its own authorisation, validates the run's ``conf`` against the DAG's
params, records the caller as the run's triggering user and writes its audit
log entry, exactly as for a trigger from the Airflow UI.
"""

from __future__ import annotations

import datetime as dt
import re
import sys
from dataclasses import dataclass
from typing import Any

#: The module uvicorn/gunicorn load the api-server's root app from (``airflow api-server``).
ROOT_APP_MODULE = "airflow.api_fastapi.main"


@dataclass(frozen=True, slots=True)
class TriggerResult:
    """What Airflow answered: its status code, the new run's id, or its error detail."""

    status_code: int
    run_id: str | None
    detail: str

    @property
    def ok(self) -> bool:
        return 200 <= self.status_code < 300


def _root_app() -> Any:
    module = sys.modules.get(ROOT_APP_MODULE)
    if module is None:
        raise RuntimeError(
            "Airflow's REST API is not served by this process (not inside `airflow api-server`)"
        )
    return module.app


def rerun_id(conf: dict[str, Any], now: dt.datetime | None = None) -> str:
    """The run id of a re-run, named by the cycle year and period it serves: ``manual__2025_H1__<moment>``.

    As the timetable names scheduled runs (``scheduled__2025_H1__...``), so the Airflow UI's run
    list says which cycle each run is; ASCII only (``[scheduler] allowed_run_id_pattern``), the
    moment (UTC) keeps it unique.
    """
    moment = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).isoformat()
    period = re.sub(r"[^A-Za-z0-9]", "", str(conf["period"]))
    return f"manual__{int(conf['year'])}_{period}__{moment}"


async def trigger_dag_run(token: str, dag_id: str, conf: dict[str, Any], note: str) -> TriggerResult:
    """Trigger ``dag_id`` through Airflow's REST API with the caller's token.

    Args:
        token: The caller's JWT (forwarded as ``Authorization: Bearer``).
        dag_id: DAG to run.
        conf: Run configuration (validated by Airflow against the DAG's params).
        note: Run note shown in the Airflow UI.

    Returns:
        Airflow's answer.
    """
    import httpx

    transport = httpx.ASGITransport(app=_root_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://api-server.internal") as client:
        response = await client.post(
            f"/api/v2/dags/{dag_id}/dagRuns",
            json={"dag_run_id": rerun_id(conf), "logical_date": None, "conf": conf, "note": note},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
    try:
        body = response.json()
    except ValueError:
        body = {"detail": response.text}
    if response.is_success:
        return TriggerResult(response.status_code, body.get("dag_run_id"), "")
    detail = body.get("detail", body) if isinstance(body, dict) else body
    return TriggerResult(response.status_code, None, str(detail))


#: Run states of a run that has not ended.
ACTIVE_STATES = ("queued", "running")


@dataclass(frozen=True, slots=True)
class RunInfo:
    """One run of a cycle's DAG as the page shows it: which cycle it runs and how far it is."""

    run_id: str
    state: str
    year: int | None
    period: str | None
    dry_run: bool
    as_of: str | None

    @property
    def active(self) -> bool:
        return self.state in ACTIVE_STATES


@dataclass(frozen=True, slots=True)
class DagStatus:
    """Whether the DAG is paused and its runs not yet ended (None/empty when Airflow could not be asked)."""

    paused: bool | None
    active: tuple[RunInfo, ...]
    reachable: bool = True

    def active_for(self, year: int, period: str) -> RunInfo | None:
        """A queued or running run of this cycle year and period, if any."""
        return next((r for r in self.active if r.year == year and r.period == period), None)


async def _get(token: str, path: str, params: dict[str, Any] | None = None) -> tuple[int, Any]:
    import httpx

    transport = httpx.ASGITransport(app=_root_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://api-server.internal") as client:
        response = await client.get(
            path, params=params, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, None


def _run_info(body: dict[str, Any]) -> RunInfo:
    conf = body.get("conf") or {}
    year = conf.get("year")
    return RunInfo(
        run_id=str(body.get("dag_run_id") or ""),
        state=str(body.get("state") or ""),
        year=int(year) if isinstance(year, int | str) and str(year).isdigit() else None,
        period=conf.get("period"),
        dry_run=bool(conf.get("dry_run")),
        as_of=conf.get("as_of"),
    )


async def dag_status(token: str, dag_id: str) -> DagStatus:
    """Ask Airflow, as the caller, whether ``dag_id`` is paused and which of its runs are queued or running."""
    try:
        code, dag = await _get(token, f"/api/v2/dags/{dag_id}")
        _, runs = await _get(
            token, f"/api/v2/dags/{dag_id}/dagRuns", {"state": list(ACTIVE_STATES), "limit": 50}
        )
    except RuntimeError:
        return DagStatus(None, (), reachable=False)
    if code != 200 or not isinstance(dag, dict):
        return DagStatus(None, (), reachable=False)
    items = runs.get("dag_runs", []) if isinstance(runs, dict) else []
    return DagStatus(bool(dag.get("is_paused")), tuple(_run_info(r) for r in items if isinstance(r, dict)))


async def run_info(token: str, dag_id: str, run_id: str) -> RunInfo | None:
    """One run of ``dag_id`` as the caller may see it (None when unknown or Airflow is not reachable)."""
    from urllib.parse import quote

    try:
        code, body = await _get(token, f"/api/v2/dags/{dag_id}/dagRuns/{quote(run_id, safe='')}")
    except RuntimeError:
        return None
    return _run_info(body) if code == 200 and isinstance(body, dict) else None
