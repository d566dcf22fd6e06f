"""The two charts of the reviewers' pages, drawn by :mod:`review_calendar.report.charts`.

The pages and the provincial reports share one SVG module and one colour per
state, so a chart looks the same in both.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from review_calendar.domain.labels import SUBMISSION_STATES
from review_calendar.report.charts import line_svg, message_svg, stacked_bars_svg

if TYPE_CHECKING:
    from collections.abc import Sequence

    from review_calendar.reviewer_pages.progress import CityShare, ProgressSeries

#: At most this many days on the progress chart's axis (a cycle year and its January deadlines).
MAX_DAYS = 400
#: The segments of a city's bar: the states a due submission can be in (a corrected on-time file is on time).
SEGMENTS = ("on_time", "late", "rejected", "missing")


def _axis(series: ProgressSeries) -> list[dt.date]:
    """Every day from the window's opening (or the first acceptance) to the last due date or acceptance."""
    days = [p.day for p in series.points] + list(series.due_dates)
    if series.opens_on:
        days.append(series.opens_on)
    start, end = min(days), max(days)
    step = max(1, -(-(end - start).days // MAX_DAYS))
    axis = {start + dt.timedelta(days=n) for n in range(0, (end - start).days + 1, step)}
    return sorted(axis | {end} | set(series.due_dates) | {p.day for p in series.points})


def progress_chart(series: ProgressSeries) -> str:
    """Regions with an acceptable file over time, against the expected total and the due dates.

    Args:
        series: From :func:`review_calendar.reviewer_pages.progress.progress_series`.

    Returns:
        An ``<svg>`` element (a short message when there is nothing to draw).
    """
    from review_calendar.report.charts import STATE_COLOURS

    accepted = series.points[-1].cumulative if series.points else 0
    title = f"受理进度：已受理 {accepted} / 应报 {series.expected}"
    if not series.points and not series.due_dates:
        return message_svg(title, "暂无数据")
    axis = _axis(series)
    by_day = {p.day: p.cumulative for p in series.points}
    cumulative, count = [], 0
    for day in axis:
        count = by_day.get(day, count)
        cumulative.append(float(count))
    return line_svg(
        [d.isoformat() for d in axis],
        {"累计受理": cumulative, f"应报 {series.expected}": [float(series.expected)] * len(axis)},
        {"累计受理": STATE_COLOURS["on_time"], f"应报 {series.expected}": "#888888"},
        title,
        y_label="地区数（个）",
        markers={d.isoformat(): f"截止 {d:%m-%d}" for d in series.due_dates},
        dots="changes",
    )


def share_chart(shares: Sequence[CityShare]) -> str:
    """Per city, the due submissions split by state, with the on-time share after each bar.

    Args:
        shares: From :func:`review_calendar.reviewer_pages.progress.on_time_share_by_city`.

    Returns:
        An ``<svg>`` element (a short message when nothing is due yet).
    """
    from review_calendar.report.charts import STATE_COLOURS

    rows = [s for s in shares if s.due]
    title = "各市按时报送率"
    if not rows:
        return message_svg(title, "暂无已到期的报送")
    return stacked_bars_svg(
        [s.city_name for s in rows],
        {SUBMISSION_STATES[state]: [float(getattr(s, state)) for s in rows] for state in SEGMENTS},
        {SUBMISSION_STATES[state]: STATE_COLOURS[state] for state in SEGMENTS},
        title,
        notes=[f"按时 {s.share:.0%}" for s in rows],
    )
