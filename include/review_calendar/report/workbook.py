"""The provincial reports of an aggregation: an Excel workbook and a self-contained HTML summary.

Both are read by officials who open them with Excel or a browser, so both
treat every text that came from a submission as hostile:

- In the workbook every string cell goes through :func:`neutralise`: a text
  starting with ``=``, ``+``, ``-``, ``@``, TAB or CR (OWASP "CSV injection";
  the full-width forms too, which Chinese input methods produce) gets a
  leading apostrophe, so Excel, and any CSV exported from the workbook, shows
  it as text instead of running it as a formula. Numbers stay numbers.
- The HTML page is rendered by Jinja with autoescaping, has inline CSS and
  inline SVG charts (:mod:`review_calendar.report.charts`), no script and nothing
  loaded from a network.

Files go to ``<out_dir>/<programme>/<year>/<obligation>_<period>.xlsx|.html``
and are replaced atomically, so a re-run never leaves half a report.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from review_calendar.aggregate.figures import STATE_COUNTS as STATES
from review_calendar.aggregate.figures import STATE_FIGURES, Figure
from review_calendar.aggregate.states import LAGGING_STATES
from review_calendar.domain.labels import SUBMISSION_STATES as STATE_LABELS
from review_calendar.report.charts import line_svg, stacked_bars_svg

if TYPE_CHECKING:
    from collections.abc import Sequence

    from openpyxl.worksheet.worksheet import Worksheet

    from review_calendar.aggregate.compute import ProvinceAggregate
    from review_calendar.domain.programmes import ObligationInstance, Programme

__all__ = ["FORMULA_TRIGGERS", "STATE_COLOURS", "neutralise", "report_paths", "write_reports"]

log = logging.getLogger(__name__)

#: First characters that make a spreadsheet treat a text as a formula (OWASP), with their full-width forms.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
STATE_COLOURS = {"on_time": "#2e7d32", "late": "#f9a825", "missing": "#c62828", "rejected": "#6a1b9a"}
_SHORT_STATE = {"on_time": "按时", "late": "逾期", "missing": "未报", "rejected": "退回"}
_CRITERION = {True: "达标", False: "未达标", None: "无法判断"}
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


def report_paths(out_dir: Path, instance: ObligationInstance) -> dict[str, Path]:
    """Where the reports of ``instance`` go: ``{"xlsx": ..., "html": ...}``."""
    folder = out_dir / instance.programme_id / str(instance.cycle_year)
    stem = f"{instance.obligation_id}_{instance.period}"
    return {"xlsx": folder / f"{stem}.xlsx", "html": folder / f"{stem}.html"}


# ---------------------------------------------------------------------------
# Values
# ---------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """A value openpyxl and Jinja handle: Python numbers, dates, text or None."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) or hasattr(value, "dtype"):
        number = float(value)
        if math.isnan(number):
            return None
        return int(number) if number.is_integer() and not isinstance(value, float) else number
    return value


def _is_percent(figure: Figure) -> bool:
    return figure.ratio_of is not None and figure.unit == ""


def _header(figure: Figure) -> str:
    if _is_percent(figure) or not figure.unit:
        return figure.label
    return f"{figure.label}({figure.unit})"


def _number_format(figure: Figure) -> str:
    if _is_percent(figure):
        return "0.0%"
    if figure.unit in ("万元", "亿元"):
        return "#,##0.00"
    if figure.ratio_of is not None:
        return "0.0"
    return "#,##0"


def _show(value: Any, figure: Figure | None = None) -> str:
    """A figure for the HTML page ("—" when not reported)."""
    value = _plain(value)
    if value is None:
        return "—"
    if figure is not None and _is_percent(figure):
        return f"{value:.1%}"
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}"


def _date(value: Any) -> dt.date | None:
    value = _plain(value)
    if value is None or value == "":
        return None
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def _note(state: str, received: dt.date | None, due: dt.date, errors: int, as_of: dt.date) -> str:
    if state == "late" and received is not None:
        return f"逾期{(received - due).days}天报送"
    if state == "rejected":
        return f"报送文件未通过校验（{errors}处错误），需修改后重新报送"
    return f"截至{as_of.isoformat()}未报送"


# ---------------------------------------------------------------------------
# Workbook
# ---------------------------------------------------------------------------


def _width(value: Any) -> int:
    text = "" if value is None else str(value)
    return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)


def _sheet(
    wb: Workbook,
    title: str,
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    formats: Sequence[str | None],
    total_rows: int = 0,
) -> Worksheet:
    """A sheet with a bold, frozen header row, fitted column widths and neutralised text cells."""
    ws = wb.create_sheet(title)
    widths = [_width(h) for h in headers]
    for col, header in enumerate(headers, start=1):
        cell = ws.cell(row=1, column=col, value=neutralise(header))
        cell.font = Font(bold=True)
        cell.fill = _HEADER_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    for r, row in enumerate(rows, start=2):
        is_total = r > len(rows) + 1 - total_rows
        for c, raw in enumerate(row, start=1):
            value = _plain(raw)
            cell = ws.cell(row=r, column=c, value=neutralise(value))
            if isinstance(value, int | float) and not isinstance(value, bool) and formats[c - 1]:
                cell.number_format = formats[c - 1]
            elif isinstance(value, dt.date):
                cell.number_format = "yyyy-mm-dd"
            if is_total:
                cell.font = Font(bold=True)
                cell.fill = _TOTAL_FILL
            widths[c - 1] = max(
                widths[c - 1], _width(value if not isinstance(value, float) else f"{value:,.2f}")
            )
    for c, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(c)].width = min(60, max(8, width + 2))
    ws.freeze_panes = "A2"
    if rows:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{len(rows) + 1 - total_rows}"
    return ws


def _shown(aggregate: ProvinceAggregate) -> list[Figure]:
    return [f for f in aggregate.figures if f.show]


def _summary_sheet(wb: Workbook, aggregate: ProvinceAggregate) -> None:
    figures = _shown(aggregate)
    headers = [
        "市代码",
        "市",
        "应报",
        "按时",
        "逾期",
        "未报",
        "退回",
        "按时报送率",
        *(_header(f) for f in figures),
    ]
    counts = ["expected", *STATES, "on_time_rate"]
    rows = [
        [c["city_code"], c["city_name"], *(c[k] for k in counts), *(c.get(f.metric) for f in figures)]
        for c in aggregate.cities.to_dict("records")
    ]
    totals = aggregate.totals
    rows.append(
        [aggregate.region_code, f"{aggregate.region_name}合计", *(totals.get(k) for k in counts),
         *(totals.get(f.metric) for f in figures)]
    )  # fmt: skip
    formats = [None, None, "0", "0", "0", "0", "0", "0.0%", *(_number_format(f) for f in figures)]
    _sheet(wb, "汇总", headers, rows, formats, total_rows=1)


def _detail_sheet(wb: Workbook, aggregate: ProvinceAggregate, states: pd.DataFrame) -> None:
    figures = _shown(aggregate)
    values = aggregate.regions.set_index("region_code")
    headers = ["行政区划代码", "地区", "所属市", "产业集群", "报送状态", "报送日期", "文件名", "错误数",
               *(_header(f) for f in figures)]  # fmt: skip
    rows = []
    for s in states.to_dict("records"):
        region = values.loc[s["region_code"]] if s["region_code"] in values.index else None
        rows.append(
            [s["region_code"], s["region_name"], s["city_name"], s.get("cluster") or "",
             STATE_LABELS.get(s["state"], s["state"]), _date(s.get("received_on")), s.get("file_name") or "",
             s.get("error_count"), *(None if region is None else region.get(f.metric) for f in figures)]
        )  # fmt: skip
    formats = [None, None, None, None, None, None, None, "0", *(_number_format(f) for f in figures)]
    _sheet(wb, "明细", headers, rows, formats)


def _lagging_sheet(wb: Workbook, aggregate: ProvinceAggregate) -> None:
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
        received = _date(r.get("received_on"))
        rows.append(
            [r["city_name"], r["region_code"], r["region_name"], r.get("cluster") or "",
             STATE_LABELS.get(r["state"], r["state"]), received, r.get("file_name") or "", r.get("error_count"),
             _note(r["state"], received, aggregate.effective_due, int(r.get("error_count") or 0), aggregate.as_of)]
        )  # fmt: skip
    _sheet(wb, "滞后地区", headers, rows, [None] * 7 + ["0", None])


def _criteria_sheet(wb: Workbook, programme: Programme, aggregate: ProvinceAggregate) -> None:
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
        if r["reported"]:
            marks = [_CRITERION[_plain(r.get(c.id))] for c in criteria]
        else:
            marks = ["未报送"] * len(criteria)
        rows.append(
            [r["region_code"], r["region_name"], r["city_name"], r["cluster"],
             STATE_LABELS.get(r["state"], r["state"]), *marks, "是" if r["met_all"] else "否"]
        )  # fmt: skip
    summary = aggregate.criteria.set_index("id") if len(aggregate.criteria) else None
    for label, column in (
        ("达标集群数", "met"),
        ("未达标集群数", "not_met"),
        ("无法判断或未报送", "unknown"),
    ):
        counts = [None if summary is None else int(summary.loc[c.id, column]) for c in criteria]
        met_all = (
            int(aggregate.clusters["met_all"].sum()) if column == "met" and len(aggregate.clusters) else None
        )
        rows.append(["", label, "", "", "", *counts, met_all])
    _sheet(wb, "认定标准", headers, rows, [None] * 5 + ["0"] * (len(criteria) + 1), total_rows=3)


def _workbook(path: Path, programme: Programme, aggregate: ProvinceAggregate, states: pd.DataFrame) -> None:
    wb = Workbook()
    wb.remove(wb.active)
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


# ---------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------


def _gate_href(gate_html: str, html_dir: Path) -> str:
    """A link to the gate page: http(s) URLs as given, paths relative to the report's folder.

    Any other scheme (``javascript:``...) is treated as a path, percent-encoded
    and prefixed with ``./``, so it can only ever name a file.
    """
    if re.match(r"^https?://", gate_html, flags=re.IGNORECASE):
        return quote(gate_html, safe=":/?#[]@!$&'()*+,;=%-._~")
    target = Path(gate_html)
    if target.is_absolute():
        try:
            relative = os.path.relpath(target, html_dir.resolve())
        except ValueError:  # another drive on Windows
            relative = target.as_posix()
    else:
        relative = target.as_posix()
    href = quote(Path(relative).as_posix(), safe="/._-~")
    return href if href.startswith(("./", "../", "/")) else f"./{href}"


def _progress_chart(states: pd.DataFrame, aggregate: ProvinceAggregate) -> str | None:
    """Cumulative accepted submissions per day, against the number expected."""
    regions = states.drop_duplicates("region_code")
    received = [
        _date(v)
        for v, s in zip(regions["received_on"], regions["state"], strict=True)
        if s in ("on_time", "late")
    ]
    days = sorted(d for d in received if d is not None)
    if not days:
        return None
    end = max(days[-1], min(aggregate.effective_due, aggregate.as_of))
    span = min((end - days[0]).days, 400)
    axis = [days[0] + dt.timedelta(days=i) for i in range(span + 1)]
    cumulative, count, i = [], 0, 0
    for day in axis:
        while i < len(days) and days[i] <= day:
            count, i = count + 1, i + 1
        cumulative.append(float(count))
    expected = float(len(regions))
    return line_svg(
        [d.isoformat() for d in axis],
        {"累计已报送": cumulative, "应报送": [expected] * len(axis)},
        {"累计已报送": STATE_COLOURS["on_time"], "应报送": "#888888"},
        "报送进度",
        y_label="地区数（个）",
        markers={aggregate.effective_due.isoformat(): "截止日"},
    )


def _environment() -> Any:
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    return Environment(
        loader=PackageLoader("review_calendar.report", "templates"),
        autoescape=select_autoescape(["html", "j2"], default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _html(
    path: Path,
    programme: Programme,
    instance: ObligationInstance,
    aggregate: ProvinceAggregate,
    states: pd.DataFrame,
    gate_html: str | None,
) -> None:
    from markupsafe import Markup

    cities = aggregate.cities.to_dict("records")
    chart = stacked_bars_svg(
        [str(c["city_name"]) for c in cities],
        {_SHORT_STATE[s]: [float(c[s]) for c in cities] for s in STATES},
        {_SHORT_STATE[s]: STATE_COLOURS[s] for s in STATES},
        "各市报送情况",
    )
    progress = _progress_chart(states, aggregate)
    figures = _shown(aggregate)
    totals = aggregate.totals
    city_rows = [
        [c["city_name"], *(_show(c[k]) for k in ("expected", *STATES)), _show(c["on_time_rate"], STATE_FIGURES[-1]),
         *(_show(c.get(f.metric), f) for f in figures)]
        for c in cities
    ]  # fmt: skip
    total_row = [
        f"{aggregate.region_name}合计", *(_show(totals.get(k)) for k in ("expected", *STATES)),
        _show(totals.get("on_time_rate"), STATE_FIGURES[-1]), *(_show(totals.get(f.metric), f) for f in figures),
    ]  # fmt: skip
    lagging = []
    for r in aggregate.lagging.to_dict("records"):
        received = _date(r.get("received_on"))
        lagging.append(
            {
                "city": r["city_name"], "code": r["region_code"], "region": r["region_name"],
                "cluster": r.get("cluster") or "", "state": r["state"], "state_label": STATE_LABELS[r["state"]],
                "received": received.isoformat() if received else "—", "file": r.get("file_name") or "—",
                "note": _note(r["state"], received, aggregate.effective_due, int(r.get("error_count") or 0),
                              aggregate.as_of),
            }
        )  # fmt: skip
    criteria_rows = [
        {
            "title": c["title"],
            "met": c["met"],
            "not_met": c["not_met"],
            "unknown": c["unknown"],
            "clause": c["clause"],
        }
        for c in aggregate.criteria.to_dict("records")
    ]
    clusters = [
        {
            "cluster": r["cluster"], "region": r["region_name"], "city": r["city_name"],
            "marks": [(_CRITERION[_plain(r.get(c.id))] if r["reported"] else "未报送") for c in programme.criteria],
            "met_all": bool(r["met_all"]),
        }
        for r in aggregate.clusters.to_dict("records")
    ]  # fmt: skip
    gate = None
    if gate_html:
        gate = {"href": _gate_href(gate_html, path.parent), "name": Path(gate_html).name or gate_html}
    context = {
        "title": f"{programme.name}·{instance.title}（{instance.cycle_year}年度）汇总",
        "programme": programme,
        "instance": instance,
        "aggregate": aggregate,
        "period": "" if instance.period == "Y" else instance.period,
        "cards": [(STATE_LABELS[s], _show(totals.get(s)), s) for s in STATES],
        "expected": _show(totals.get("expected")),
        "on_time_rate": _show(totals.get("on_time_rate"), STATE_FIGURES[-1]),
        "chart": Markup(chart),  # noqa: S704 - built by charts.py, every label escaped there
        "progress": Markup(progress) if progress else None,  # noqa: S704
        "city_headers": [
            "市",
            "应报",
            "按时",
            "逾期",
            "未报",
            "退回",
            "按时报送率",
            *(_header(f) for f in figures),
        ],
        "city_rows": city_rows,
        "total_row": total_row,
        "lagging": lagging,
        "lagging_states": [STATE_LABELS[s] for s in LAGGING_STATES],
        "criteria": criteria_rows,
        "criteria_titles": [c.title for c in programme.criteria] if clusters else [],
        "clusters": clusters,
        "colours": STATE_COLOURS,
        "gate": gate,
        "xlsx_name": report_paths(Path("."), instance)["xlsx"].name,
    }
    html = _environment().get_template("report.html.j2").render(**context)
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(path)


def write_reports(
    out_dir: Path,
    programme: Programme,
    instance: ObligationInstance,
    aggregate: ProvinceAggregate,
    states: pd.DataFrame,
    gate_html: str | None,
) -> dict[str, str]:
    """Write the Excel workbook and the HTML summary of an aggregation.

    The workbook has the sheets 汇总 (per city: 应报/按时/逾期/未报/退回 and the
    key figures, with the province total), 明细 (per expected submitter),
    滞后地区 (late, missing and rejected regions) and, when the programme's
    recognition criteria were checked, 认定标准 (each cluster, each criterion).

    Args:
        out_dir: Reports folder (e.g. ``get_settings().reports_dir``).
        programme: The programme.
        instance: The obligation instance.
        aggregate: What :func:`~review_calendar.aggregate.compute.aggregate_province` returned.
        states: What :func:`~review_calendar.aggregate.compute.submission_states` returned.
        gate_html: Path (or http(s) URL) of the gate's HTML page to link, if any.

    Returns:
        ``{"xlsx": path, "html": path}`` as strings.
    """
    paths = report_paths(out_dir, instance)
    paths["xlsx"].parent.mkdir(parents=True, exist_ok=True)
    _workbook(paths["xlsx"], programme, aggregate, states)
    _html(paths["html"], programme, instance, aggregate, states, gate_html)
    log.info("Reports of %s written to %s", instance.key, paths["xlsx"].parent)
    return {kind: str(p) for kind, p in paths.items()}
