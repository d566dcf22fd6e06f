"""The HTML summary of a provincial aggregation: one self-contained page.

Officials open it from a shared folder or an e-mail attachment, often offline,
and every text on it may have come from a submission. So the page is rendered
by Jinja with autoescaping (``templates/report.html.j2``), has inline CSS and
inline SVG charts (:mod:`review_calendar.report.charts`, which escapes every
label), no script and nothing loaded from a network; the link to the gate page
can only name a file or an http(s) URL.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from review_calendar.aggregate.figures import STATE_COUNTS as STATES
from review_calendar.aggregate.states import LAGGING_STATES
from review_calendar.domain.labels import CRITERION_RESULTS, period_label
from review_calendar.report.charts import STATE_COLOURS, line_svg, stacked_bars_svg
from review_calendar.report.pages import page_environment
from review_calendar.report.values import (
    COUNT_METRICS,
    RECEIVED_STATES,
    as_date,
    count_figure,
    count_headers,
    criterion_code,
    figure_header,
    is_percent,
    lagging_note,
    plain,
    shown_figures,
    state_label,
)

if TYPE_CHECKING:
    import pandas as pd

    from review_calendar.aggregate.compute import ProvinceAggregate
    from review_calendar.aggregate.figures import Figure
    from review_calendar.domain.programmes import ObligationInstance, Programme

__all__ = ["write_html"]

_EXPECTED_COLOUR = "#888888"
_MARK_CSS = {"met": "yes", "not_met": "no"}


def _show(value: Any, figure: Figure | None = None) -> str:
    """A figure as the page shows it: thousands separators, percentages, "—" when not reported."""
    value = plain(value)
    if value is None:
        return "—"
    if figure is not None and is_percent(figure):
        return f"{value:.1%}"
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}"


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


def _status_chart(aggregate: ProvinceAggregate) -> str:
    """Stacked bars: per city, how many regions are in each state."""
    cities = aggregate.cities.to_dict("records")
    names = {s: count_figure(s).label for s in STATES}
    return stacked_bars_svg(
        [str(c["city_name"]) for c in cities],
        {names[s]: [float(c[s]) for c in cities] for s in STATES},
        {names[s]: STATE_COLOURS[s] for s in STATES},
        "各市报送情况",
    )


def _progress_chart(states: pd.DataFrame, aggregate: ProvinceAggregate) -> str | None:
    """Cumulative accepted submissions per day, against the number expected (None when nothing arrived)."""
    regions = states.drop_duplicates("region_code")
    received = [
        as_date(v)
        for v, s in zip(regions["received_on"], regions["state"], strict=True)
        if s in RECEIVED_STATES
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
        {"累计已报送": STATE_COLOURS["on_time"], "应报送": _EXPECTED_COLOUR},
        "报送进度",
        y_label="地区数（个）",
        markers={aggregate.effective_due.isoformat(): "截止日"},
    )


def _city_table(aggregate: ProvinceAggregate) -> dict[str, Any]:
    """分市汇总: headers, one row per city and the province total, every value formatted."""
    figures = shown_figures(aggregate)

    def row(name: str, values: dict[str, Any]) -> list[str]:
        counts = [_show(values.get(m), count_figure(m)) for m in COUNT_METRICS]
        return [name, *counts, *(_show(values.get(f.metric), f) for f in figures)]

    return {
        "city_headers": ["市", *count_headers(), *(figure_header(f) for f in figures)],
        "city_rows": [row(c["city_name"], c) for c in aggregate.cities.to_dict("records")],
        "total_row": row(f"{aggregate.region_name}合计", aggregate.totals),
    }


def _listed_lagging_states(aggregate: ProvinceAggregate) -> tuple[str, ...]:
    """The states the 滞后地区 table can hold: after the deadline nobody is still 待提交 or 未到期.

    待补批复 is named only where a region is in it (only plans await an approval).
    """
    listed = ("late", "missing", "rejected") if aggregate.as_of > aggregate.effective_due else LAGGING_STATES
    present = set(aggregate.lagging["state"]) if "state" in aggregate.lagging else set()
    # 待补批复 and 退回修改 are named only where a region is in them (only files read by a reviewer).
    named = tuple(s for s in ("awaiting_approval", "returned") if s in present)
    return tuple(s for s in listed if s not in ("awaiting_approval", "returned")) + named


def _lagging_rows(aggregate: ProvinceAggregate) -> list[dict[str, Any]]:
    """滞后地区: one row per late, missing or rejected region, with its note."""
    rows = []
    for r in aggregate.lagging.to_dict("records"):
        received = as_date(r.get("received_on"))
        errors = int(r.get("error_count") or 0)
        rows.append(
            {
                "city": r["city_name"],
                "code": r["region_code"],
                "region": r["region_name"],
                "cluster": r.get("cluster") or "",
                "state": r["state"],
                "state_label": state_label(r["state"]),
                "received": received.isoformat() if received else "—",
                "file": r.get("file_name") or "—",
                "note": lagging_note(r["state"], received, aggregate.effective_due, errors, aggregate.as_of),
            }
        )
    return rows


def _criteria_tables(programme: Programme, aggregate: ProvinceAggregate) -> dict[str, Any]:
    """认定标准达标情况: counts per criterion, and each cluster against each criterion."""
    criteria = [
        {k: c[k] for k in ("title", "met", "not_met", "unknown", "clause")}
        for c in aggregate.criteria.to_dict("records")
    ]
    clusters = []
    for r in aggregate.clusters.to_dict("records"):
        codes = [criterion_code(r.get(c.id), bool(r["reported"])) for c in programme.criteria]
        marks = [{"text": CRITERION_RESULTS[code], "css": _MARK_CSS.get(code, "")} for code in codes]
        clusters.append(
            {
                "cluster": r["cluster"],
                "region": r["region_name"],
                "city": r["city_name"],
                "marks": marks,
                "met_all": bool(r["met_all"]),
            }
        )
    titles = [c.title for c in programme.criteria] if clusters else []
    return {"criteria": criteria, "clusters": clusters, "criteria_titles": titles}


def write_html(
    path: Path,
    programme: Programme,
    instance: ObligationInstance,
    aggregate: ProvinceAggregate,
    states: pd.DataFrame,
    *,
    gate_html: str | None,
    xlsx_name: str,
) -> None:
    """Render the summary page of an aggregation to ``path``, replacing it atomically.

    Args:
        path: The .html file; its folder must exist.
        programme: The programme.
        instance: The obligation instance.
        aggregate: What the provincial aggregation returned.
        states: The submission state of every expected submitter (for the progress chart).
        gate_html: Path (or http(s) URL) of the gate's HTML page to link, if any.
        xlsx_name: File name of the workbook beside the page, named in the footer.
    """
    from markupsafe import Markup

    totals = aggregate.totals
    rate = count_figure("on_time_rate")
    progress = _progress_chart(states, aggregate)
    gate = None
    if gate_html:
        gate = {"href": _gate_href(gate_html, path.parent), "name": Path(gate_html).name or gate_html}
    context = {
        "title": f"{programme.name}·{instance.title}（{instance.cycle_year}年度）汇总",
        "programme": programme,
        "instance": instance,
        "aggregate": aggregate,
        "period": period_label(instance.period),
        "cards": [(state_label(s), _show(totals.get(s)), s) for s in STATES],
        "expected": _show(totals.get("expected")),
        "on_time_rate": _show(totals.get("on_time_rate"), rate),
        # The charts are built by charts.py, which escapes every label and checks every colour.
        "chart": Markup(_status_chart(aggregate)),
        "progress": Markup(progress) if progress else None,
        **_city_table(aggregate),
        "lagging": _lagging_rows(aggregate),
        "lagging_states": [state_label(s) for s in _listed_lagging_states(aggregate)],
        **_criteria_tables(programme, aggregate),
        "colours": STATE_COLOURS,
        "gate": gate,
        "xlsx_name": xlsx_name,
    }
    html = page_environment().get_template("report.html.j2").render(**context)
    tmp = path.with_name(path.name + ".part")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(path)
