"""A matrix cell's file history, and every download: submitted files, error lists, reports.

Everything a reviewer downloads is served as an attachment (``Content-Disposition:
attachment``) with ``X-Content-Type-Options: nosniff``, so a hostile file never
renders in the browser. Files are served only from the configured data folders
(accepted and quarantined files, reports), after resolving the path (symbolic
links followed): a stored path or URL that leads elsewhere is answered with 404.
"""

from __future__ import annotations

import csv
import io
import logging
from typing import TYPE_CHECKING, Any

from fastapi import HTTPException, Request, status
from fastapi.responses import FileResponse, HTMLResponse, Response

from review_calendar_airflow.ui.common import (
    check_year,
    instance_or_404,
    parse_today,
    programme_or_404,
    query_string,
    read,
    settings,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence
    from pathlib import Path

    from fastapi import FastAPI

    from review_calendar_airflow.ui.rendering import Pages

log = logging.getLogger(__name__)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
#: What every download carries: never sniffed, never cached, never rendered in a frame.
DOWNLOAD_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Content-Security-Policy": "sandbox; default-src 'none'",
}
#: Reports that may be downloaded (suffix -> media type).
REPORT_DOWNLOADS = {".xlsx": XLSX, ".html": "text/html; charset=utf-8"}


def inside(path: Path | str, folders: Iterable[Path]) -> Path | None:
    """``path`` resolved, if it is a regular file inside one of ``folders``, else None.

    Guards against path traversal and links out of the data folders: the path is
    resolved (``..`` and symbolic links followed) before it is compared.
    """
    from pathlib import Path

    text = str(path)
    if not text or "\x00" in text:
        return None
    try:
        target = Path(text).resolve()
    except (OSError, RuntimeError):
        return None
    for folder in folders:
        base = folder.resolve()
        if target != base and target.is_relative_to(base) and target.is_file():
            return target
    return None


def attachment(content: bytes | Path, filename: str, media_type: str) -> Response:
    """A download: the bytes or file as an attachment named ``filename``, never rendered inline."""
    from urllib.parse import quote

    ascii_name = filename.encode("ascii", "ignore").decode() or "download"
    ascii_name = "".join(c if c.isalnum() or c in "._-" else "_" for c in ascii_name)
    disposition = f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"
    headers = {**DOWNLOAD_HEADERS, "Content-Disposition": disposition}
    if isinstance(content, bytes):
        return Response(content, media_type=media_type, headers=headers)
    return FileResponse(content, media_type=media_type, headers=headers)


def xlsx_bytes(title: str, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """A one-sheet workbook: bold header row, every text cell neutralised against formulas."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from review_calendar.report.workbook import neutralise

    wb = Workbook()
    ws = wb.active
    ws.title = title[:31]
    ws.append([neutralise(h) for h in headers])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append([neutralise(v) for v in row])
    ws.freeze_panes = "A2"
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def csv_bytes(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """CSV in UTF-8 with a byte-order mark (Excel opens it in Chinese), text neutralised against formulas."""
    from review_calendar.report.workbook import neutralise

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(headers)
    for row in rows:
        writer.writerow(["" if v is None else neutralise(v) for v in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def summary_downloads(reports_dir: Path, instance: Any) -> dict[str, str]:
    """The provincial summary's files the aggregation wrote, by suffix (``xlsx``, ``html``), relative to the folder."""
    from pathlib import PurePath

    from review_calendar.report.publish import report_paths

    out = {}
    for kind, path in report_paths(PurePath(), instance).items():
        if inside(reports_dir / path, (reports_dir,)) is not None:
            out[kind] = path.as_posix()
    return out


def _submission(session: Any, submission_id: int) -> dict[str, Any]:
    from review_calendar.reviewer_pages.files import error_lines
    from review_calendar.store.tables.intake import Submission

    s = session.get(Submission, submission_id)
    if s is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "没有这个文件")
    return {"file_name": s.file_name, "stored_path": s.stored_path, "status": s.status,
            "errors": error_lines(session, s.id)}  # fmt: skip


def _cell_data(session: Any, programme: Any, instance: Any, region_code: str, day: Any) -> dict[str, Any]:
    from review_calendar.aggregate.states import region_names
    from review_calendar.reviewer_pages.common import files_by_cell
    from review_calendar.reviewer_pages.files import file_history
    from review_calendar.reviewer_pages.matrix import make_cell
    from review_calendar.store.due_changes import region_dues

    files = files_by_cell(session, programme.id, instance.cycle_year).get(
        (instance.obligation_id, instance.period, region_code), []
    )
    return {
        "region_name": region_names(session, [region_code]).get(region_code, region_code),
        "cell": make_cell(files, instance, day, region_dues(session, instance).get(region_code)),
        "versions": [v for v in file_history(session, instance, region_code) if v.received_on <= day],
    }


def add_file_routes(app: FastAPI, pages: Pages) -> None:
    """The cell history page and the downloads (files, error lists, reports)."""

    @app.get(
        "/programmes/{programme_id}/{year}/{obligation_id}/{period}/regions/{region_code}",
        response_class=HTMLResponse,
        name="cell_history",
    )
    def cell_history(request: Request, programme_id: str, year: int, obligation_id: str, period: str,
                     region_code: str, today: str | None = None) -> HTMLResponse:  # fmt: skip
        """One matrix cell: the region's state and every file version with its errors."""
        day = parse_today(today)
        check_year(year)
        programme = programme_or_404(programme_id)
        instance = instance_or_404(programme, year, obligation_id, period)
        data = read(lambda session: _cell_data(session, programme, instance, region_code, day))
        return pages.render(
            request, "cell.html", title=f"{data['region_name']} · {instance.title}（{year}）", programme=programme,
            instance=instance, year=year, region_code=region_code, today=day, as_of=today,
            q=query_string(today=today), **data,
        )  # fmt: skip

    @app.get("/files/{submission_id}/download", name="file_download")
    def file_download(submission_id: int) -> Response:
        """The submitted file as it was received (accepted or quarantined), as an attachment."""
        config = settings()
        s = read(lambda session: _submission(session, submission_id))
        target = inside(s["stored_path"], (config.accepted_dir, config.quarantine_dir))
        if target is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "文件不在受理或隔离目录中")
        return attachment(target, s["file_name"], "application/octet-stream")

    @app.get("/files/{submission_id}/errors.{fmt}", name="file_errors")
    def file_errors(submission_id: int, fmt: str) -> Response:
        """The file's error list as .xlsx or .csv (sheet, row, column, value, message), as an attachment."""
        from pathlib import PurePath

        from review_calendar.reviewer_pages.files import ERROR_COLUMNS

        if fmt not in ("xlsx", "csv"):
            raise HTTPException(status.HTTP_404_NOT_FOUND, "错误清单只提供 .xlsx 和 .csv")
        s = read(lambda session: _submission(session, submission_id))
        rows = [e.cells() for e in s["errors"]]
        name = f"{PurePath(s['file_name']).stem}_错误清单.{fmt}"
        if fmt == "csv":
            return attachment(csv_bytes(ERROR_COLUMNS, rows), name, "text/csv; charset=utf-8")
        return attachment(xlsx_bytes("错误清单", ERROR_COLUMNS, rows), name, XLSX)

    @app.get("/downloads/reports/{relpath:path}", name="report_download")
    def report_download(relpath: str) -> Response:
        """A report of the reports folder (.xlsx or .html) as an attachment."""
        reports = settings().reports_dir
        if not relpath or relpath.startswith(("/", "\\")):
            raise HTTPException(status.HTTP_404_NOT_FOUND, "没有这个报告")
        target = inside(reports / relpath, (reports,))
        if target is None or target.suffix.lower() not in REPORT_DOWNLOADS:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "没有这个报告")
        return attachment(target, target.name, REPORT_DOWNLOADS[target.suffix.lower()])
