"""Start DAG runs through Airflow's own REST API, as the caller.

The re-run button does not touch Airflow's tables itself: it sends
``POST /api/v2/dags/{dag_id}/dagRuns`` with the caller's own JWT to the
api-server it runs in (in-process, over ASGI, no network). Airflow then
applies its own authorisation, validates the run's ``conf`` against the DAG's
params, records the caller as the run's triggering user and writes its audit
log entry, exactly as for a trigger from the Airflow UI.
"""

from __future__ import annotations

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
            json={"logical_date": None, "conf": conf, "note": note},
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
