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
        from review_calendar.reviewer_pages.common import cycle_dag_id
        from review_calendar_airflow.ui.airflow_api import trigger_dag_run

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
        conf = {"programme": programme.id, "year": year, "period": period}
        note = f"审查日历：{caller.name} 请求重跑 {year} 年度“{instance.title}”（{period}）"
        result = await trigger_dag_run(caller.token, dag_id, conf, note)
        log.info("Re-run of %s %s/%s by %s: %s", dag_id, year, period, caller.name, result.status_code)
        target = f"/programmes/{programme.id}/{year}/{obligation_id}/{period}"
        return _rerun_answer(request, caller, result, target, dag_id, conf)

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
