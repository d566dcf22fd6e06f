"""The Excel workbook of a provincial aggregation, safe to open in Excel or WPS.

Every text that came from a submission is hostile: every string cell goes
through :func:`neutralise`, so a text starting with ``=``, ``+``, ``-``, ``@``,
TAB or CR (OWASP "CSV injection"; the full-width forms too, which Chinese input
methods produce) gets a leading apostrophe, and Excel, and any CSV exported
from the workbook, shows it as text instead of running it as a formula.
Numbers stay numbers, with number formats by unit.

Sheets: 汇总 (per city: counts by state and the key figures, with the province
total), 明细 (per expected submitter), 滞后地区 (late, missing and rejected
regions) and, when the programme's recognition criteria were checked, 认定标准.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from review_calendar.report.values import (
    COUNT_METRICS,
    as_date,
    count_headers,
    criterion_mark,
    figure_header,
    is_percent,
    lagging_note,
    plain,
    shown_figures,
    state_label,
)

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    import pandas as pd
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

    from review_calendar.aggregate.compute import ProvinceAggregate
    from review_calendar.aggregate.figures import Figure
    from review_calendar.domain.programmes import Programme

__all__ = ["FORMULA_TRIGGERS", "neutralise", "write_workbook"]

#: First characters that make a spreadsheet treat a text as a formula (OWASP), with their full-width forms.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
_HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
_TOTAL_FILL = PatternFill("solid", fgColor="F2F2F2")


def neutralise(value: Any) -> Any:
    """Make a cell value safe from formula injection; non-text values are returned unchanged.

    A text whose first character (or first after leading spaces) is one of
    :data:`FORMULA_TRIGGERS` gets a leading apostrophe, the OWASP remedy: the
    cell then holds, and shows, literal text. Characters that cannot be stored
    in an .xlsx cell (ASCII control characters other than TAB, LF, CR) are removed.

    Args:
        value: Any cell value.

    Returns:
        The value to write.
    """
    if not isinstance(value, str):
        return value
    text = ILLEGAL_CHARACTERS_RE.sub("", value)
    if text[:1] in FORMULA_TRIGGERS or text.lstrip(" \u3000")[:1] in FORMULA_TRIGGERS:
        return "'" + text
    return text


def _number_format(figure: Figure) -> str:
    """Excel number format of a figure: percent, money with two decimals, ratio, or count."""
    if is_percent(figure):
        return "0.0%"
    if figure.unit in ("万元", "亿元"):
        return "#,##0.00"
    if figure.ratio_of is not None:
        return "0.0"
    return "#,##0"


def _width(value: Any) -> int:
    """Display width of a value in characters (CJK and full-width count double)."""
    text = "" if value is None else str(value)
    if text.isascii():
        return len(text)
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _header_cells(ws: WriteOnlyWorksheet, headers: Sequence[str]) -> list[WriteOnlyCell]:
    """Bold, filled, centred header cells (the first row)."""
    cells = []
    for header in headers:
        cell = WriteOnlyCell(ws, value=neutralise(header))
        cell.font = Font(bold=True)
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cells.append(cell)
    return cells


def _row_cells(
    ws: WriteOnlyWorksheet, row: Sequence[Any], formats: Sequence[str | None], is_total: bool
) -> list[Any]:
    """One row's plain values (:func:`plain`), neutralised; a styled cell where a number or date
    format or the total style applies."""
    out: list[Any] = []
    for c, plain_value in enumerate(row):
        value = neutralise(plain_value)
        number_format = None
        if isinstance(value, int | float) and not isinstance(value, bool) and formats[c]:
            number_format = formats[c]
        elif isinstance(value, dt.date):
            number_format = "yyyy-mm-dd"
        if number_format is None and not is_total:
            out.append(value)
            continue
        cell = WriteOnlyCell(ws, value=value)
        if number_format is not None:
            cell.number_format = number_format
        if is_total:
            cell.font = Font(bold=True)
            cell.fill = _TOTAL_FILL
        out.append(cell)
    return out


def _widths(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[int]:
    """Display width of each column: its widest header or plain value (floats as shown, with two decimals)."""
    widths = [_width(h) for h in headers]
    for row in rows:
        for c, value in enumerate(row):
            shown = value if not isinstance(value, float) else f"{value:,.2f}"
            widths[c] = max(widths[c], _width(shown))
    return widths


def _sheet(
    wb: Workbook,
    title: str,
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    formats: Sequence[str | None],
    total_rows: int = 0,
) -> WriteOnlyWorksheet:
    """A sheet with a bold, frozen header row, fitted column widths and neutralised text cells.

    The workbook is write-only (rows are streamed to the file): column widths,
    the frozen pane and the filter are set before the first row.

    Args:
        wb: The workbook (write-only).
        title: Sheet name.
        headers: Column headers.
        rows: Rows of values; the last ``total_rows`` are totals (bold, shaded, outside the filter).
        formats: Number format per column (None: general).
        total_rows: How many rows at the end are totals.
    """
    ws = wb.create_sheet(title)
    values = [[plain(raw) for raw in row] for row in rows]  # once per cell, for the widths and the cells
    for c, width in enumerate(_widths(headers, values), start=1):
        ws.column_dimensions[get_column_letter(c)].width = min(60, max(8, width + 2))
    ws.freeze_panes = "A2"
    if rows:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{len(rows) + 1 - total_rows}"
    ws.append(_header_cells(ws, headers))
    first_total = len(values) - total_rows
    for r, row in enumerate(values):
        ws.append(_row_cells(ws, row, formats, r >= first_total))
    return ws


def _summary_sheet(wb: Workbook, aggregate: ProvinceAggregate) -> None:
    """汇总: one row per city, counts by state and the key figures, with the province total."""
    figures = shown_figures(aggregate)
    headers = ["市代码", "市", *count_headers(), *(figure_header(f) for f in figures)]
    rows = [
        [c["city_code"], c["city_name"], *(c[k] for k in COUNT_METRICS), *(c.get(f.metric) for f in figures)]
        for c in aggregate.cities.to_dict("records")
    ]
    totals = aggregate.totals
    rows.append(
        [
            aggregate.region_code,
            f"{aggregate.region_name}合计",
            *(totals.get(k) for k in COUNT_METRICS),
            *(totals.get(f.metric) for f in figures),
        ]
    )
    counts = ["0"] * (len(COUNT_METRICS) - 1) + ["0.0%"]
    formats = [None, None, *counts, *(_number_format(f) for f in figures)]
    _sheet(wb, "汇总", headers, rows, formats, total_rows=1)


def _detail_sheet(wb: Workbook, aggregate: ProvinceAggregate, states: pd.DataFrame) -> None:
    """明细: one row per expected submitter with its state, file and figures."""
    figures = shown_figures(aggregate)
    # One dict per region: a row lookup in a DataFrame costs more than writing the row.
    values = dict(zip(aggregate.regions["region_code"], aggregate.regions.to_dict("records"), strict=True))
    headers = ["行政区划代码", "地区", "所属市", "产业集群", "报送状态", "报送日期", "文件名", "错误数"]
    headers += [figure_header(f) for f in figures]
    rows = []
    for s in states.to_dict("records"):
        region = values.get(s["region_code"])
        rows.append(
            [
                s["region_code"],
                s["region_name"],
                s["city_name"],
                s.get("cluster") or "",
                state_label(s["state"]),
                as_date(s.get("received_on")),
                s.get("file_name") or "",
                s.get("error_count"),
                *(None if region is None else region.get(f.metric) for f in figures),
            ]
        )
    formats = [None] * 7 + ["0", *(_number_format(f) for f in figures)]
    _sheet(wb, "明细", headers, rows, formats)


def _lagging_sheet(wb: Workbook, aggregate: ProvinceAggregate) -> None:
    """滞后地区: late, missing and rejected regions, by city, with a note on each."""
    headers = [
        "所属市",
        "行政区划代码",
        "地区",
        "产业集群",
        "报送状态",
        "报送日期",
        "文件名",
        "错误数",
        "说明",
    ]
    rows = []
    for r in aggregate.lagging.to_dict("records"):
        received = as_date(r.get("received_on"))
        errors = int(r.get("error_count") or 0)
        note = lagging_note(r["state"], received, aggregate.effective_due, errors, aggregate.as_of)
        rows.append(
            [
                r["city_name"],
                r["region_code"],
                r["region_name"],
                r.get("cluster") or "",
                state_label(r["state"]),
                received,
                r.get("file_name") or "",
                r.get("error_count"),
                note,
            ]
        )
    _sheet(wb, "滞后地区", headers, rows, [None] * 7 + ["0", None])


def _criteria_sheet(wb: Workbook, programme: Programme, aggregate: ProvinceAggregate) -> None:
    """认定标准: each cluster against each criterion, with the counts per criterion at the end."""
    criteria = programme.criteria
    headers = [
        "行政区划代码",
        "地区",
        "所属市",
        "产业集群",
        "报送状态",
        *(c.title for c in criteria),
        "全部达标",
    ]
    rows: list[list[Any]] = []
    for r in aggregate.clusters.to_dict("records"):
        marks = [criterion_mark(r.get(c.id), bool(r["reported"])) for c in criteria]
        met_all = "是" if r["met_all"] else "否"
        rows.append(
            [
                r["region_code"],
                r["region_name"],
                r["city_name"],
                r["cluster"],
                state_label(r["state"]),
                *marks,
                met_all,
            ]
        )
    summary = aggregate.criteria.set_index("id") if len(aggregate.criteria) else None
    for title, column in (
        ("达标集群数", "met"),
        ("未达标集群数", "not_met"),
        ("无法判断或未报送", "unknown"),
    ):
        counts = [None if summary is None else int(summary.loc[c.id, column]) for c in criteria]
        all_met = (
            int(aggregate.clusters["met_all"].sum()) if column == "met" and len(aggregate.clusters) else None
        )
        rows.append(["", title, "", "", "", *counts, all_met])
    _sheet(wb, "认定标准", headers, rows, [None] * 5 + ["0"] * (len(criteria) + 1), total_rows=3)


def write_workbook(
    path: Path, programme: Programme, aggregate: ProvinceAggregate, states: pd.DataFrame
) -> None:
    """Write the workbook of an aggregation to ``path``, replacing it atomically.

    Args:
        path: The .xlsx file; its folder must exist.
        programme: The programme (its criteria head the 认定标准 sheet).
        aggregate: What the provincial aggregation returned.
        states: The submission state of every expected submitter.
    """
    wb = Workbook(write_only=True)
    _summary_sheet(wb, aggregate)
    _detail_sheet(wb, aggregate, states)
    _lagging_sheet(wb, aggregate)
    if len(aggregate.clusters):
        _criteria_sheet(wb, programme, aggregate)
    wb.properties.title = neutralise(f"{programme.name} {aggregate.title} {aggregate.cycle_year}")
    wb.properties.creator = "review-calendar"
    tmp = path.with_name(path.name + ".part")
    wb.save(tmp)
    tmp.replace(path)
