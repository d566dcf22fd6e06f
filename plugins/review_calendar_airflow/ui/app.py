"""The review calendar's FastAPI app: server-rendered pages for reviewers.

Mounted by Airflow's api-server under ``/review-calendar`` (see
``plugins/review_calendar_plugin.py``). Every route depends on
:func:`~review_calendar_airflow.ui.auth.require_reader`; the only state change
(re-run a cycle) also needs Airflow's permission to trigger that DAG. Pages
read the review database (``get_settings().db_url``) through the pure queries
of :mod:`review_calendar.reviewer_pages.views`; charts are inline SVG; no script, no CDN.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode
from zoneinfo import ZoneInfo

from fastapi import Depends, FastAPI, HTTPException, Request, status
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from review_calendar_airflow.ui import URL_PREFIX
from review_calendar_airflow.ui.auth import (
    Caller,
    NotAuthenticated,
    can_trigger,
    check_same_origin,
    login_url,
    require_reader,
    wants_html,
)

if TYPE_CHECKING:
    from review_calendar.domain.programmes import Programme

log = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
TZ = ZoneInfo("Asia/Shanghai")

ROLE_LABELS = {"admin": "管理员", "op": "运维", "user": "用户", "viewer": "审阅（只读）"}

#: Our pages run no script and load nothing from elsewhere; gate reports are sandboxed further.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
REPORT_HEADERS = {
    "Content-Security-Policy": "sandbox; default-src 'self' 'unsafe-inline' data:; frame-ancestors 'self'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


class DatabaseUnavailable(Exception):
    """The review database cannot be read (not configured, not migrated, or down)."""


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["svg"] = Markup  # charts are built and escaped in charts.py
    env.filters["q"] = lambda value: quote(str(value), safe="")
    env.filters["date"] = lambda d: d.isoformat() if d else ""
    env.filters["datetime"] = lambda d: d.astimezone(TZ).strftime("%Y-%m-%d %H:%M") if d else ""
    env.filters["number"] = _number
    return env


def _number(value: Any, metric: str = "") -> str:
    from review_calendar.reviewer_pages.views import is_ratio

    if value is None:
        return "—"
    if isinstance(value, int | float) and is_ratio(metric):
        return f"{value:.1%}"
    if isinstance(value, float):
        if value.is_integer():
            return f"{int(value):,}"
        return f"{value:,.2f}"
    return str(value)


# --- helpers ------------------------------------------------------------------------------------


def _today(raw: str | None) -> dt.date:
    if not raw:
        return dt.datetime.now(TZ).date()
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"日期格式应为 YYYY-MM-DD：{raw}") from None


def _settings() -> Any:
    from review_calendar.settings import get_settings

    return get_settings()


def _programmes() -> dict[str, Programme]:
    from review_calendar.domain.programmes import load_programmes

    return load_programmes(_settings().programmes_dir)


def _programme(programme_id: str) -> Programme:
    programme = _programmes().get(programme_id)
    if programme is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"没有这个项目：{programme_id}")
    return programme


def _instance(programme: Programme, year: int, obligation_id: str, period: str) -> Any:
    from review_calendar.store.queries import find_instance

    try:
        return find_instance(programme, year, obligation_id, period)
    except KeyError:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"{programme.short_name} 没有报送事项 {obligation_id}/{period}"
        ) from None


def _read(fn: Any) -> Any:
    """Run ``fn(session)`` in a read transaction; a broken database becomes a 503 page."""
    from sqlalchemy.exc import SQLAlchemyError

    from review_calendar.store.db import session_scope

    try:
        with session_scope(_settings().db_url) as session:
            return fn(session)
    except SQLAlchemyError as exc:
        log.warning("Review database unavailable: %s", type(exc).__name__)
        raise DatabaseUnavailable(str(exc).splitlines()[0]) from exc


def _default_year(session: Any, today: dt.date, programme_id: str | None = None) -> int:
    from review_calendar.reviewer_pages.views import cycle_years

    years = [y for y in cycle_years(session, programme_id) if y <= today.year]
    return years[0] if years else today.year


def _check_year(year: int) -> int:
    if not 2000 <= year <= 2100:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"年度超出范围：{year}")
    return year


def _year(raw: int | None, session: Any, today: dt.date, programme_id: str | None = None) -> int:
    if raw is None:
        return _default_year(session, today, programme_id)
    return _check_year(raw)


class Pages:
    """Renders templates with what every page shows (user, links, date)."""

    def __init__(self) -> None:
        self.env = _environment()

    def render(self, request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        from review_calendar.reviewer_pages.views import PHASE_LABELS, STATE_HINTS, STATE_LABELS

        prefix = request.scope.get("root_path", "").rstrip("/")
        caller: Caller | None = getattr(request.state, "caller", None)
        html = self.env.get_template(template).render(
            request=request,
            prefix=prefix,
            airflow=prefix.removesuffix(URL_PREFIX) + "/",
            caller=caller,
            role_label=ROLE_LABELS.get(caller.role.lower(), caller.role) if caller else "",
            state_labels=STATE_LABELS,
            state_hints=STATE_HINTS,
            phase_labels=PHASE_LABELS,
            **context,
        )
        return HTMLResponse(html, status_code=status_code, headers=PAGE_HEADERS)


def _query(**params: Any) -> str:
    clean = {k: v for k, v in params.items() if v not in (None, "")}
    return ("?" + urlencode(clean)) if clean else ""


# --- the app ------------------------------------------------------------------------------------


def create_app() -> FastAPI:
    """Build the review calendar's app (every route requires an authenticated Airflow user)."""
    app = FastAPI(
        title="审查日历",
        description="Reviewers' pages of the review calendar, inside Airflow's api-server.",
        dependencies=[Depends(require_reader)],
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    pages = Pages()

    @app.exception_handler(NotAuthenticated)
    async def _not_authenticated(request: Request, exc: NotAuthenticated) -> Response:
        if wants_html(request):
            return RedirectResponse(login_url(request), status_code=status.HTTP_303_SEE_OTHER)
        return JSONResponse(
            {"detail": f"Not authenticated: {exc.reason}"},
            status_code=status.HTTP_401_UNAUTHORIZED,
            headers={"WWW-Authenticate": "Bearer"},
        )

    @app.exception_handler(HTTPException)
    async def _http_error(request: Request, exc: HTTPException) -> Response:
        if "text/html" in request.headers.get("accept", "") and "application/json" not in request.headers.get(
            "accept", ""
        ):
            return pages.render(request, "error.html", exc.status_code, message=exc.detail, title="出错了")
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(DatabaseUnavailable)
    async def _db_error(request: Request, exc: DatabaseUnavailable) -> Response:
        message = "审查数据库不可用或尚未初始化（请先运行 review-calendar db upgrade 和 review-calendar regions load）。"
        if wants_html(request):
            return pages.render(request, "error.html", 503, message=message, title="数据库不可用")
        return JSONResponse({"detail": message}, status_code=503)

    @app.get("/", response_class=HTMLResponse, name="index")
    def index(request: Request, year: int | None = None, today: str | None = None) -> HTMLResponse:
        """Every programme's deadlines of a cycle year, past and upcoming."""
        from review_calendar.reviewer_pages.views import calendar_view, cycle_years

        day = _today(today)
        programmes = _programmes()

        def load(session: Any) -> dict[str, Any]:
            chosen = _year(year, session, day)
            return {
                "year": chosen,
                "calendars": calendar_view(session, programmes, chosen, day),
                "years": sorted({*cycle_years(session), chosen, day.year}, reverse=True),
            }

        data = _read(load)
        return pages.render(
            request, "index.html", title=f"{data['year']} 年度审查日历", today=day, as_of=today, **data
        )

    @app.get("/programmes/{programme_id}/{year}", response_class=HTMLResponse, name="programme")
    def programme_page(
        request: Request, programme_id: str, year: int, today: str | None = None
    ) -> HTMLResponse:
        """One programme's cycle: calendar, status matrix, charts, decisions."""
        from review_calendar.reviewer_pages.views import (
            decisions_view,
            on_time_share_by_city,
            programme_calendar,
            progress_series,
            status_matrix,
        )
        from review_calendar_airflow.ui.charts import progress_chart, share_chart

        day = _today(today)
        programme = _programme(programme_id)
        _check_year(year)

        def load(session: Any) -> dict[str, Any]:
            matrix = status_matrix(session, programme, year, day)
            return {
                "calendar": programme_calendar(session, programme, year, day),
                "matrix": matrix,
                "share_svg": share_chart(on_time_share_by_city(session, programme, year, day, matrix)),
                "progress_svg": progress_chart(progress_series(session, programme, year)),
                "decisions": decisions_view(session, programme, year),
            }

        data = _read(load)
        return pages.render(
            request,
            "programme.html",
            title=f"{programme.short_name} {year} 年度",
            programme=programme,
            year=year,
            today=day,
            as_of=today,
            q=_query(today=today),
            **data,
        )

    @app.get(
        "/programmes/{programme_id}/{year}/{obligation_id}/{period}",
        response_class=HTMLResponse,
        name="obligation",
    )
    def obligation_page(
        request: Request,
        programme_id: str,
        year: int,
        obligation_id: str,
        period: str,
        today: str | None = None,
        rerun: str | None = None,
    ) -> HTMLResponse:
        """One obligation instance: who submitted, gate results, aggregate figures, re-run."""
        from review_calendar.reviewer_pages.views import (
            aggregates_view,
            cycle_dag_id,
            gate_results,
            progress_series,
            resolve_report,
            status_matrix,
        )
        from review_calendar_airflow.ui.charts import progress_chart

        day = _today(today)
        _check_year(year)
        programme = _programme(programme_id)
        instance = _instance(programme, year, obligation_id, period)
        reports_dir = _settings().reports_dir

        def load(session: Any) -> dict[str, Any]:
            return {
                "matrix": status_matrix(session, programme, year, day, instances=[instance]),
                "gates": gate_results(session, programme.id, year, obligation_id, period, reports_dir),
                "aggregates": aggregates_view(session, programme.id, year, obligation_id, period),
                "progress_svg": progress_chart(
                    progress_series(session, programme, year, obligation_id, period)
                ),
            }

        data = _read(load)
        dag_id = cycle_dag_id(programme.id, obligation_id)
        # The provincial summary (review_calendar.report.workbook): <programme>/<year>/<obligation>_<period>.html
        summary = f"{programme.id}/{year}/{obligation_id}_{period}.html"
        caller: Caller = request.state.caller
        return pages.render(
            request,
            "obligation.html",
            title=f"{instance.title}（{year}）",
            programme=programme,
            obligation=programme.obligation(obligation_id),
            instance=instance,
            year=year,
            today=day,
            as_of=today,
            q=_query(today=today),
            dag_id=dag_id,
            may_rerun=can_trigger(caller, dag_id),
            rerun=rerun,
            summary_report=summary if resolve_report(reports_dir, summary) else None,
            **data,
        )

    @app.post("/programmes/{programme_id}/{year}/{obligation_id}/{period}/rerun", name="rerun")
    async def rerun_cycle(
        request: Request, programme_id: str, year: int, obligation_id: str, period: str
    ) -> Response:
        """Re-run this cycle: trigger its DAG through Airflow's REST API, as the caller.

        Needs Airflow's permission to trigger the DAG (SimpleAuthManager: role
        user, op or admin; a viewer gets 403). Airflow records the caller as the
        run's triggering user and in its audit log.
        """
        from review_calendar.reviewer_pages.views import cycle_dag_id
        from review_calendar_airflow.ui.airflow_api import trigger_dag_run

        caller: Caller = request.state.caller
        _check_year(year)
        programme = _programme(programme_id)
        instance = _instance(programme, year, obligation_id, period)
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
        wants_json = not caller.via_cookie or "application/json" in request.headers.get("accept", "")
        if wants_json:
            body = {"dag_id": dag_id, "dag_run_id": result.run_id, "conf": conf, "detail": result.detail}
            return JSONResponse(
                body, status_code=status.HTTP_201_CREATED if result.ok else result.status_code
            )
        if not result.ok:
            raise HTTPException(
                result.status_code, f"Airflow 拒绝了重跑请求（{result.status_code}）：{result.detail}"
            )
        prefix = request.scope.get("root_path", "").rstrip("/")
        target = f"{prefix}/programmes/{programme.id}/{year}/{obligation_id}/{period}"
        return RedirectResponse(
            f"{target}{_query(rerun=result.run_id)}", status_code=status.HTTP_303_SEE_OTHER
        )

    @app.get("/api/matrix/{programme_id}/{year}", name="matrix_json")
    def matrix_json(programme_id: str, year: int, today: str | None = None) -> dict[str, Any]:
        """The status matrix as JSON: ``{region_code: {obligation/period: state}}`` plus columns and counts."""
        from review_calendar.reviewer_pages.views import status_matrix

        day = _today(today)
        _check_year(year)
        programme = _programme(programme_id)
        matrix = _read(lambda session: status_matrix(session, programme, year, day))
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

    @app.get("/reports/{relpath:path}", name="report")
    def report(relpath: str) -> Response:
        """A gate's HTML report (or a file next to it) from the reports folder, path-traversal guarded."""
        from review_calendar.reviewer_pages.views import REPORT_MEDIA_TYPES, resolve_report

        target = resolve_report(_settings().reports_dir, relpath)
        if target is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "没有这个报告")
        return FileResponse(
            target, media_type=REPORT_MEDIA_TYPES[target.suffix.lower()], headers=REPORT_HEADERS
        )

    @app.get("/static/style.css", name="style")
    def style() -> Response:
        """The one stylesheet."""
        return FileResponse(
            HERE / "static" / "style.css",
            media_type="text/css; charset=utf-8",
            headers={"Cache-Control": "private, max-age=300", "X-Content-Type-Options": "nosniff"},
        )

    return app
