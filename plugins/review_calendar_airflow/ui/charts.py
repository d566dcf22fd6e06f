"""Small inline SVG charts, drawn in Python (no JavaScript, no CDN).

Colours come from classes styled in ``static/style.css``; every text is
escaped. Each function returns a complete ``<svg>`` element as a string
(mark it safe in the template).
"""

from __future__ import annotations

import datetime as dt
from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence

    from review_calendar.reviewer_pages.views import CityShare, ProgressSeries


def _svg(width: int, height: int, body: list[str], label: str) -> str:
    return (
        f'<svg class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{escape(label)}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(label)}</title>" + "".join(body) + "</svg>"
    )


def progress_chart(series: ProgressSeries, width: int = 640, height: int = 240) -> str:
    """Cumulative accepted submissions over time, against the expected total and the due dates.

    Args:
        series: From :func:`review_calendar.reviewer_pages.views.progress_series`.
        width: Pixels.
        height: Pixels.
    """
    label = (
        f"受理进度：已受理 {series.points[-1].cumulative if series.points else 0} / 应报 {series.expected}"
    )
    if not series.points and not series.due_dates:
        return _svg(width, 40, ['<text x="8" y="24" class="muted">暂无数据</text>'], label)
    days = [p.day for p in series.points] + list(series.due_dates)
    if series.opens_on:
        days.append(series.opens_on)
    start, end = min(days), max(days)
    if end <= start:
        end = start + dt.timedelta(days=1)
    left, right, top, bottom = 44, 16, 16, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    y_max = max([series.expected, *(p.cumulative for p in series.points), 1])

    def x(day: dt.date) -> float:
        return left + plot_w * (day - start).days / (end - start).days

    def y(value: float) -> float:
        return top + plot_h * (1 - value / y_max)

    body = [
        f'<line class="axis" x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}"/>',
        f'<line class="axis" x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}"/>',
        f'<text class="tick" x="{left - 6}" y="{y(0) + 4:.1f}" text-anchor="end">0</text>',
        f'<text class="tick" x="{left - 6}" y="{y(y_max) + 4:.1f}" text-anchor="end">{y_max}</text>',
        f'<text class="tick" x="{left}" y="{height - 8}">{start.isoformat()}</text>',
        f'<text class="tick" x="{left + plot_w}" y="{height - 8}" text-anchor="end">{end.isoformat()}</text>',
    ]
    if series.expected:
        body.append(
            f'<line class="target" x1="{left}" y1="{y(series.expected):.1f}" '
            f'x2="{left + plot_w}" y2="{y(series.expected):.1f}"/>'
            f'<text class="tick" x="{left + plot_w - 4}" y="{y(series.expected) - 4:.1f}" '
            f'text-anchor="end">应报 {series.expected}</text>'
        )
    for n, due in enumerate(series.due_dates):
        # Staggered on three lines: due dates a fortnight apart would overwrite each other.
        # Labelled on the inner side of the line so that none leaves the plot.
        right_half = x(due) > left + plot_w / 2
        body.append(
            f'<line class="due" x1="{x(due):.1f}" y1="{top}" x2="{x(due):.1f}" y2="{top + plot_h}"/>'
            f'<text class="tick" x="{x(due) + (-3 if right_half else 3):.1f}" y="{top + 12 + 13 * (n % 3)}" '
            f'text-anchor="{"end" if right_half else "start"}">截止 {due:%m-%d}</text>'
        )
    if series.points:
        coords = [(x(start), y(0))]
        previous = 0
        for p in series.points:
            coords += [(x(p.day), y(previous)), (x(p.day), y(p.cumulative))]
            previous = p.cumulative
        coords.append((x(end), y(previous)))
        path = " ".join(f"{cx:.1f},{cy:.1f}" for cx, cy in coords)
        body.append(f'<polyline class="progress" points="{path}"/>')
        for p in series.points:
            body.append(
                f'<circle class="progress-dot" cx="{x(p.day):.1f}" cy="{y(p.cumulative):.1f}" r="3">'
                f"<title>{p.day.isoformat()}：当日受理 {p.accepted}，累计 {p.cumulative}</title></circle>"
            )
    return _svg(width, height, body, label)


#: Stacked segments of the per-city bar, in order, with the state class they take the colour of.
_SEGMENTS = (("on_time", "accepted_on_time", "按时"), ("late", "accepted_late", "逾期"),
             ("rejected", "rejected", "退回"), ("missing", "missing", "未交"))  # fmt: skip


def share_chart(shares: Sequence[CityShare], width: int = 640, bar: int = 18) -> str:
    """Per city, the due submissions split into on time / late / rejected / missing, with the on-time share.

    Args:
        shares: From :func:`review_calendar.reviewer_pages.views.on_time_share_by_city`.
        width: Pixels.
        bar: Height of one bar in pixels.
    """
    rows = [s for s in shares if s.due]
    label = "各市按时报送率"
    if not rows:
        return _svg(width, 40, ['<text x="8" y="24" class="muted">暂无已到期的报送</text>'], label)
    left, right, gap = 110, 70, 6
    plot_w = width - left - right
    height = len(rows) * (bar + gap) + gap
    body = []
    for n, s in enumerate(rows):
        top = gap + n * (bar + gap)
        body.append(
            f'<text class="tick" x="{left - 6}" y="{top + bar - 5}" text-anchor="end">{escape(s.city_name)}</text>'
        )
        offset = 0.0
        for attr, state, name in _SEGMENTS:
            count = getattr(s, attr)
            if not count:
                continue
            w = plot_w * count / s.due
            body.append(
                f'<rect class="seg {state}" x="{left + offset:.1f}" y="{top}" width="{w:.1f}" height="{bar}">'
                f"<title>{escape(s.city_name)} {name} {count}/{s.due}</title></rect>"
            )
            offset += w
        share = f"{s.share:.0%}" if s.share is not None else "—"
        body.append(f'<text class="tick" x="{left + plot_w + 6}" y="{top + bar - 5}">{share}</text>')
    return _svg(width, height, body, label)
