"""The review calendar's FastAPI app: server-rendered pages for reviewers.

Mounted by Airflow's api-server under ``/review-calendar`` (see
``plugins/review_calendar_plugin.py``). Every route depends on
:func:`~review_calendar_airflow.ui.auth.require_reader`; the only state change
(re-run a cycle) also needs Airflow's permission to trigger that DAG. Pages
read the review database (``get_settings().db_url``) through the read model
:mod:`review_calendar.reviewer_pages`; charts are inline SVG; no script, no CDN.

The routes come in groups: :mod:`.page_routes` (HTML pages), :mod:`.region_routes` (a page per
region and cluster), :mod:`.api_routes` (re-run, matrix as JSON), :mod:`.reports` (the reports
folder), :mod:`.file_routes` (a cell's file history; downloads as attachments), :mod:`.landing`
(the lagging list's export, the logged contact reveal) and the stylesheet.
"""

from __future__ import annotations

from fastapi import Depends, FastAPI, HTTPException, Request, status
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response

from review_calendar_airflow.ui.api_routes import add_api_routes
from review_calendar_airflow.ui.auth import NotAuthenticated, login_url, require_reader, wants_html
from review_calendar_airflow.ui.common import DatabaseUnavailable
from review_calendar_airflow.ui.file_routes import add_file_routes
from review_calendar_airflow.ui.landing import add_landing_routes
from review_calendar_airflow.ui.page_routes import add_page_routes
from review_calendar_airflow.ui.region_routes import add_region_routes
from review_calendar_airflow.ui.rendering import HERE, Pages
from review_calendar_airflow.ui.reports import add_report_routes

#: What a broken or empty review database looks like to a reviewer.
DATABASE_MESSAGE = (
    "审查数据库不可用或尚未初始化（请先运行 review-calendar db upgrade 和 review-calendar regions load）。"
)


def _add_error_handlers(app: FastAPI, pages: Pages) -> None:
    """Answer errors as the caller expects: a page for a browser, JSON for an API client."""

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
        accept = request.headers.get("accept", "")
        if "text/html" in accept and "application/json" not in accept:
            return pages.render(request, "error.html", exc.status_code, message=exc.detail, title="出错了")
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(DatabaseUnavailable)
    async def _db_error(request: Request, exc: DatabaseUnavailable) -> Response:
        if wants_html(request):
            return pages.render(request, "error.html", 503, message=DATABASE_MESSAGE, title="数据库不可用")
        return JSONResponse({"detail": DATABASE_MESSAGE}, status_code=503)


def _add_style_route(app: FastAPI) -> None:
    """``GET /static/style.css``: the one stylesheet."""

    @app.get("/static/style.css", name="style")
    def style() -> Response:
        """The one stylesheet."""
        return FileResponse(
            HERE / "static" / "style.css",
            media_type="text/css; charset=utf-8",
            headers={"Cache-Control": "private, max-age=300", "X-Content-Type-Options": "nosniff"},
        )


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
    _add_error_handlers(app, pages)
    add_page_routes(app, pages)
    add_region_routes(app, pages)
    add_api_routes(app)
    add_report_routes(app)
    add_file_routes(app, pages)
    add_landing_routes(app, pages)
    _add_style_route(app)
    return app
