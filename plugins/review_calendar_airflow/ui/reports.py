"""Serving the reports folder: gate reports and provincial summaries, path-traversal guarded."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import HTTPException, status
from fastapi.responses import FileResponse

from review_calendar_airflow.ui.common import settings

if TYPE_CHECKING:
    from pathlib import Path

    from fastapi import FastAPI

    from review_calendar.domain.programmes import ObligationInstance

#: Files a report page may be served as (suffix -> media type).
REPORT_MEDIA_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".txt": "text/plain; charset=utf-8",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
#: Suffixes never shown in the browser: always served as a download.
ATTACHMENT_SUFFIXES = (".xlsx",)
#: Reports are written from submitted data: served in a sandbox.
REPORT_HEADERS = {
    "Content-Security-Policy": "sandbox; default-src 'self' 'unsafe-inline' data:; frame-ancestors 'self'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


def resolve_report(reports_dir: Path, relpath: str) -> Path | None:
    """The file a report URL names, if it is a servable file inside the reports folder.

    Guards against path traversal: the path is resolved (symbolic links
    followed) and must stay inside ``reports_dir``; only the suffixes of
    :data:`REPORT_MEDIA_TYPES` are served.

    Args:
        reports_dir: The reports folder.
        relpath: The path from the URL, relative to the reports folder.

    Returns:
        The resolved file, or None (not found, outside the folder, or not servable).
    """
    if not relpath or "\x00" in relpath or relpath.startswith(("/", "\\")):
        return None
    base = reports_dir.resolve()
    try:
        target = (base / relpath).resolve()
    except (OSError, RuntimeError):
        return None
    if not target.is_relative_to(base) or target == base:
        return None
    if target.suffix.lower() not in REPORT_MEDIA_TYPES or not target.is_file():
        return None
    return target


def summary_report(reports_dir: Path, instance: ObligationInstance) -> str | None:
    """The provincial summary of an instance, relative to the reports folder, if it has been written.

    Args:
        reports_dir: The reports folder.
        instance: The obligation instance (:func:`review_calendar.report.publish.report_paths`
            names its summary).

    Returns:
        The path for a ``/reports/`` URL, or None before the aggregation wrote it.
    """
    from pathlib import PurePath

    from review_calendar.report.publish import report_paths

    relpath = report_paths(PurePath(), instance)["html"].as_posix()
    return relpath if resolve_report(reports_dir, relpath) else None


def add_report_routes(app: FastAPI) -> None:
    """``GET /reports/{relpath}``: a file of the reports folder."""

    @app.get("/reports/{relpath:path}", name="report")
    def report(relpath: str) -> FileResponse:
        """A gate's HTML report (or a file next to it) from the reports folder, path-traversal guarded.

        A workbook (.xlsx) is served as an attachment (``nosniff``), never inline.
        """
        target = resolve_report(settings().reports_dir, relpath)
        if target is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "没有这个报告")
        suffix = target.suffix.lower()
        if suffix in ATTACHMENT_SUFFIXES:
            from review_calendar_airflow.ui.file_routes import attachment

            return attachment(target, target.name, REPORT_MEDIA_TYPES[suffix])
        return FileResponse(target, media_type=REPORT_MEDIA_TYPES[suffix], headers=REPORT_HEADERS)
