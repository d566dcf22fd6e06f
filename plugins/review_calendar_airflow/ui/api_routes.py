"""What the pages offer besides HTML: re-running a cycle (the one state change) and the matrix as JSON."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from fastapi import HTTPException, Request, status
from fastapi.responses import JSONResponse, RedirectResponse, Response

from review_calendar_airflow.ui.auth import can_trigger, check_same_origin
from review_calendar_airflow.ui.common import (
    check_year,
    instance_or_404,
    parse_today,
    programme_or_404,
    query_string,
    read,
)

if TYPE_CHECKING:
    from fastapi import FastAPI

    from review_calendar_airflow.ui.airflow_api import TriggerResult
    from review_calendar_airflow.ui.auth import Caller

log = logging.getLogger(__name__)


def _rerun_answer(request: Request, caller: Caller, result: TriggerResult, target: str, dag_id: str,
                  conf: dict[str, Any]) -> Response:  # fmt: skip
    """JSON for an API caller; for a browser, back to the instance's page (or the error page)."""
    wants_json = not caller.via_cookie or "application/json" in request.headers.get("accept", "")
    if wants_json:
        body = {"dag_id": dag_id, "dag_run_id": result.run_id, "conf": conf, "detail": result.detail}
        return JSONResponse(body, status_code=status.HTTP_201_CREATED if result.ok else result.status_code)
    if not result.ok:
        raise HTTPException(
            result.status_code, f"Airflow 拒绝了重跑请求（{result.status_code}）：{result.detail}"
        )
    prefix = request.scope.get("root_path", "").rstrip("/")
    return RedirectResponse(
        f"{prefix}{target}{query_string(rerun=result.run_id)}", status_code=status.HTTP_303_SEE_OTHER
    )


async def _options(request: Request) -> tuple[bool, str | None]:
    """The re-run's options from the form (or JSON body): 试运行 and the as-of day.

    Raises:
        HTTPException: 400 for a malformed as-of day.
    """
    content_type = request.headers.get("content-type", "")
    data: Any = {}
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        data = dict(await request.form())
    elif content_type.startswith("application/json"):
        try:
            data = await request.json()
        except ValueError:
            data = {}
    data = data if isinstance(data, dict) else {}
    dry_run = str(data.get("dry_run", "")).lower() in ("1", "true", "on", "yes")
    as_of = str(data.get("as_of") or "").strip() or None
    if as_of is not None:
        as_of = parse_today(as_of).isoformat()
    return dry_run, as_of


def add_api_routes(app: FastAPI) -> None:
    """``POST .../rerun`` (trigger the cycle's DAG as the caller) and ``GET /api/matrix/{id}/{year}``."""

    @app.post("/programmes/{programme_id}/{year}/{obligation_id}/{period}/rerun", name="rerun")
    async def rerun_cycle(
        request: Request, programme_id: str, year: int, obligation_id: str, period: str
    ) -> Response:
        """Re-run this cycle: trigger its DAG through Airflow's REST API, as the caller.

        Needs Airflow's permission to trigger the DAG (SimpleAuthManager: role
        user, op or admin; a viewer gets 403). Airflow records the caller as the
        run's triggering user and in its audit log.
        """
        from review_calendar.domain.labels import RUN_STATES, period_label
        from review_calendar.reviewer_pages.common import cycle_dag_id
        from review_calendar_airflow.ui.airflow_api import dag_status, trigger_dag_run

        caller: Caller = request.state.caller
        check_year(year)
        programme = programme_or_404(programme_id)
        instance = instance_or_404(programme, year, obligation_id, period)
        dag_id = cycle_dag_id(programme.id, obligation_id)
        if not can_trigger(caller, dag_id):
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"用户 {caller.name}（{caller.role or '无角色'}）只能查看，不能重跑；重跑需要运维（op）或管理员角色。",
            )
        check_same_origin(request, caller)
        if programme.obligation(obligation_id).kind in ("meeting", "ad_hoc"):
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"“{instance.title}”没有审查流程可重跑")
        dry_run, as_of = await _options(request)
        busy = (await dag_status(caller.token, dag_id)).active_for(year, period)
        if busy is not None:
            raise HTTPException(
                status.HTTP_409_CONFLICT,
                f"{year} 年度“{instance.title}”已有一次运行{RUN_STATES.get(busy.state, busy.state)}，"
                "结束前不再重复启动。",
            )
        conf: dict[str, Any] = {"programme": programme.id, "year": year, "period": period}
        conf |= {"dry_run": True} if dry_run else {}
        conf |= {"as_of": as_of} if as_of else {}
        words = "试运行" if dry_run else "重跑"
        note = f"审查日历：{caller.name} 请求{words} {year} 年度“{instance.title}”（{period_label(period) or '全年'}）"
        result = await trigger_dag_run(caller.token, dag_id, conf, note)
        log.info("Re-run of %s %s/%s by %s: %s", dag_id, year, period, caller.name, result.status_code)
        target = f"/programmes/{programme.id}/{year}/{obligation_id}/{period}"
        return _rerun_answer(request, caller, result, target, dag_id, conf)

    @app.get("/programmes/{programme_id}/{year}/{obligation_id}/{period}/rerun/{run_id}", name="rerun_state")
    async def rerun_state(
        request: Request, programme_id: str, year: int, obligation_id: str, period: str, run_id: str
    ) -> dict[str, Any]:
        """The state of one run of this cycle's DAG, as the caller may see it in Airflow."""
        from review_calendar.domain.labels import RUN_STATES
        from review_calendar.reviewer_pages.common import cycle_dag_id
        from review_calendar_airflow.ui.airflow_api import run_info

        check_year(year)
        programme = programme_or_404(programme_id)
        instance_or_404(programme, year, obligation_id, period)
        caller: Caller = request.state.caller
        run = await run_info(caller.token, cycle_dag_id(programme.id, obligation_id), run_id)
        if run is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"没有这次运行：{run_id}")
        return {"run_id": run.run_id, "state": run.state, "state_label": RUN_STATES.get(run.state, run.state),
                "active": run.active, "year": run.year, "period": run.period, "dry_run": run.dry_run,
                "as_of": run.as_of}  # fmt: skip

    @app.get("/api/matrix/{programme_id}/{year}", name="matrix_json")
    def matrix_json(programme_id: str, year: int, today: str | None = None) -> dict[str, Any]:
        """The status matrix as JSON: ``{region_code: {obligation/period: state}}`` plus columns and counts."""
        from review_calendar.reviewer_pages.matrix import status_matrix

        day = parse_today(today)
        check_year(year)
        programme = programme_or_404(programme_id)
        matrix = read(lambda session: status_matrix(session, programme, year, day))
        return {
            "programme": programme.id,
            "year": year,
            "today": day.isoformat(),
            "columns": [c.key for c in matrix.columns],
            "counts": matrix.counts,
            "cells": {
                r.region_code: {c.key: cell.state for c, cell in zip(matrix.columns, r.cells, strict=True)}
                for r in matrix.rows
            },
        }
