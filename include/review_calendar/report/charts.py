"""Inline SVG charts for the HTML reports and the reviewers' pages: pure string building, no JavaScript, no CDN.

The reports are opened from a shared folder or an e-mail attachment, often on
machines without internet access, and the reviewers' pages forbid scripts, so a
chart is a self-contained ``<svg>`` element. Every label is XML-escaped (region names and file names come from
submissions); colours are checked against a strict pattern, so no caller value
can break out of an attribute.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = ["FONT_FAMILY", "STATE_COLOURS", "line_svg", "message_svg", "stacked_bars_svg"]

FONT_FAMILY = "'PingFang SC','Microsoft YaHei','Noto Sans CJK SC','Source Han Sans SC',sans-serif"

_COLOUR = re.compile(r"^(#[0-9a-fA-F]{3}|#[0-9a-fA-F]{6}|[a-zA-Z]{3,20})$")
# Characters XML 1.0 does not allow (a browser would refuse the whole SVG).
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_FALLBACK_COLOURS = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1")

#: Colour of each submission state in every chart and page (reports and the reviewers' pages).
STATE_COLOURS = {
    "on_time": "#2e7d32",
    "on_time_corrected": "#2e7d32",
    "late": "#f9a825",
    "missing": "#c62828",
    "rejected": "#6a1b9a",
    "open": "#90a4ae",
    "not_due": "#cfd8dc",
    "awaiting_approval": "#ef6c00",
    "returned": "#ad1457",
}


def _text(value: object) -> str:
    """Escape a label for SVG text or attribute content."""
    return escape(_XML_ILLEGAL.sub("", str(value)), quote=True)


def _colour(colors: Mapping[str, str], name: str, position: int) -> str:
    colour = colors.get(name, _FALLBACK_COLOURS[position % len(_FALLBACK_COLOURS)])
    if not _COLOUR.match(colour):
        raise ValueError(f"colour of series {name!r} must be #rgb, #rrggbb or a CSS name, got {colour!r}")
    return colour


def _number(value: float) -> str:
    """A value for a label: integers without decimals, others with up to two."""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _text_width(text: str, size: float) -> float:
    """Approximate rendered width: CJK and full-width characters are about one em, others half."""
    return sum(size if ord(ch) > 0x2E7F else size * 0.55 for ch in text)


def _clean(values: Sequence[float | None], name: str, count: int, *, allow_negative: bool) -> list[float]:
    if len(values) != count:
        raise ValueError(f"series {name!r} has {len(values)} values for {count} categories")
    out = []
    for v in values:
        number = 0.0 if v is None or (isinstance(v, float) and math.isnan(v)) else float(v)
        if number < 0 and not allow_negative:
            raise ValueError(f"series {name!r} has a negative value {number}: bars stack counts")
        out.append(number)
    return out


def _nice_ticks(maximum: float, count: int = 5, *, integer: bool = False) -> list[float]:
    """Round tick values from 0 to at least ``maximum`` (whole-number steps for counts)."""
    if maximum <= 0:
        return [0.0, 1.0]
    raw = max(maximum / count, 1.0) if integer else maximum / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    top = math.ceil(maximum / step) * step
    return [i * step for i in range(int(round(top / step)) + 1)]


def _legend(names: Sequence[str], colours: Sequence[str], x: float, y: float, size: float) -> list[str]:
    parts = []
    for name, colour in zip(names, colours, strict=True):
        parts.append(
            f'<rect x="{x:.1f}" y="{y - size + 2:.1f}" width="{size - 2:.1f}" height="{size - 2:.1f}" '
            f'fill="{colour}"/>'
            f'<text x="{x + size + 2:.1f}" y="{y:.1f}" font-size="{size:.0f}">{_text(name)}</text>'
        )
        x += size + 14 + _text_width(name, size)
    return parts


def _open(title: str, width: float, height: float, *, heading: bool = True) -> list[str]:
    """The ``<svg>`` start tag, its ``<title>`` (the accessible name) and, by default, the visible heading."""
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" aria-label="{_text(title)}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" height="{height:.0f}" '
        f'font-family="{FONT_FAMILY}">',
        f"<title>{_text(title)}</title>",
    ]
    if heading:
        parts.append(
            f'<text x="{width / 2:.1f}" y="20" font-size="16" font-weight="bold" text-anchor="middle">'
            f"{_text(title)}</text>"
        )
    return parts


@dataclass(frozen=True, slots=True)
class _Bars:
    """The geometry of a bar chart: where the plot starts, how wide a unit is, how tall a row and a bar are."""

    label_w: float
    top: float
    scale: float
    row: float = 26.0
    bar: float = 18.0
    size: float = 13.0

    def grid(self, ticks: Sequence[float], count: int) -> list[str]:
        """Vertical grid lines with their values under the plot."""
        bottom = self.top + self.row * max(1, count)
        return [
            f'<line x1="{self.label_w + t * self.scale:.1f}" y1="{self.top - 4:.1f}" '
            f'x2="{self.label_w + t * self.scale:.1f}" y2="{bottom:.1f}" stroke="#ddd"/>'
            f'<text x="{self.label_w + t * self.scale:.1f}" y="{bottom + 16:.1f}" font-size="11" '
            f'text-anchor="middle" fill="#555">{_number(t)}</text>'
            for t in ticks
        ]

    def bar_row(
        self, i: int, category: str, segments: Sequence[tuple[str, str, float]], after: str
    ) -> list[str]:
        """Row ``i``: the category's label, one rectangle per (name, colour, value) segment, then ``after``."""
        y = self.top + i * self.row + (self.row - self.bar) / 2
        out = [
            f'<text x="{self.label_w - 8:.1f}" y="{y + self.bar - 4:.1f}" font-size="{self.size:.0f}" '
            f'text-anchor="end">{_text(category)}</text>'
        ]
        x = self.label_w
        for name, colour, value in segments:
            if value <= 0:
                continue
            w = value * self.scale
            label = _number(value)
            out.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{self.bar:.1f}" fill="{colour}">'
                f"<title>{_text(category)} {_text(name)}：{label}</title></rect>"
            )
            if w >= _text_width(label, 11) + 6:
                out.append(
                    f'<text x="{x + w / 2:.1f}" y="{y + self.bar - 5:.1f}" font-size="11" fill="#fff" '
                    f'text-anchor="middle">{label}</text>'
                )
            x += w
        out.append(
            f'<text x="{x + 6:.1f}" y="{y + self.bar - 4:.1f}" font-size="12" fill="#333">{after}</text>'
        )
        return out


def stacked_bars_svg(
    categories: list[str],
    series: dict[str, list[float]],
    colors: dict[str, str],
    title: str,
    *,
    notes: Sequence[str] | None = None,
) -> str:
    """Horizontal stacked bars, one bar per category, one segment per series.

    Each segment carries a ``<title>`` (a tooltip without JavaScript) and, when
    wide enough, its value; the bar's total (or its note) is written after it.

    Args:
        categories: Bar labels, top to bottom (e.g. city names).
        series: Segment values per series name, in stacking order; each list has
            one value per category (None or NaN counts as 0).
        colors: Fill colour per series name (``#rrggbb``, ``#rgb`` or a CSS name);
            series without one get a default palette colour.
        title: Chart title (also the accessible name of the image).
        notes: Text written after each bar instead of its total (e.g. a share), one per category.

    Returns:
        An ``<svg>`` element as a string.

    Raises:
        ValueError: A series has the wrong length or a negative value, a colour is
            not a plain colour value, or there is not one note per category.
    """
    if notes is not None and len(notes) != len(categories):
        raise ValueError(f"{len(notes)} notes for {len(categories)} categories")
    names = list(series)
    values = {n: _clean(series[n], n, len(categories), allow_negative=False) for n in names}
    colours = [_colour(colors, n, i) for i, n in enumerate(names)]
    totals = [sum(values[n][i] for n in names) for i in range(len(categories))]
    whole = all(float(v).is_integer() for n in names for v in values[n])
    ticks = _nice_ticks(max(totals, default=0.0), integer=whole)
    width, right, top = 760.0, 56.0, 62.0
    label_w = min(220.0, max([_text_width(c, 13.0) for c in categories] + [40.0]) + 12)
    bars = _Bars(label_w=label_w, top=top, scale=(width - label_w - right) / ticks[-1])
    out = [
        *_open(title, width, top + bars.row * max(1, len(categories)) + 34),
        *_legend(names, colours, label_w, 44, bars.size),
        *bars.grid(ticks, len(categories)),
    ]
    for i, category in enumerate(categories):
        segments = [(n, c, values[n][i]) for n, c in zip(names, colours, strict=True)]
        after = _number(totals[i]) if notes is None else _text(notes[i])
        out.extend(bars.bar_row(i, category, segments, after))
    out.append("</svg>")
    return "".join(out)


@dataclass(frozen=True, slots=True)
class _Lines:
    """The geometry of a line chart: the plot area, the number of points and the y ticks."""

    points: int
    ticks: Sequence[float]
    percent: bool
    width: float = 760.0
    height: float = 320.0
    left: float = 64.0
    right: float = 48.0
    top: float = 62.0
    bottom: float = 44.0

    @property
    def plot_w(self) -> float:
        """Width of the plot area."""
        return self.width - self.left - self.right

    @property
    def plot_h(self) -> float:
        """Height of the plot area."""
        return self.height - self.top - self.bottom

    def fmt(self, v: float) -> str:
        """A y value as written: a percentage or a number."""
        return f"{v:.0%}" if self.percent else _number(v)

    def px(self, i: int) -> float:
        """The x of point ``i`` (a single point sits in the middle)."""
        if self.points < 2:
            return self.left + self.plot_w / 2
        return self.left + i * self.plot_w / (self.points - 1)

    def py(self, v: float) -> float:
        """The y of value ``v``."""
        span = (self.ticks[-1] - self.ticks[0]) or 1.0
        return self.top + self.plot_h - (v - self.ticks[0]) / span * self.plot_h

    def axes(self, x_labels: Sequence[str]) -> list[str]:
        """Horizontal grid lines with their values, and about ten x labels (always the last)."""
        out = [
            f'<line x1="{self.left:.1f}" y1="{self.py(t):.1f}" x2="{self.width - self.right:.1f}" '
            f'y2="{self.py(t):.1f}" stroke="#ddd"/>'
            f'<text x="{self.left - 6:.1f}" y="{self.py(t) + 4:.1f}" font-size="11" text-anchor="end" '
            f'fill="#555">{self.fmt(t)}</text>'
            for t in self.ticks
        ]
        every = max(1, math.ceil(len(x_labels) / 10))
        last = len(x_labels) - 1
        for i, label in enumerate(x_labels):
            # Every ``every``-th label and the last one; a regular label closer to the last is left out.
            if i == last or (i % every == 0 and last - i >= every):
                out.append(
                    f'<text x="{self.px(i):.1f}" y="{self.height - self.bottom + 18:.1f}" font-size="11" '
                    f'text-anchor="middle" fill="#555">{_text(label)}</text>'
                )
        return out

    def markers(self, x_labels: Sequence[str], markers: dict[str, str]) -> list[str]:
        """A dashed vertical line and its caption at each marked x label.

        Captions of markers close together would overwrite each other: they are
        staggered on three lines, and written on the inner side of a marker in the
        right half so that none leaves the plot.
        """
        shown = [(label, caption) for label, caption in markers.items() if label in x_labels]
        out = []
        for n, (label, caption) in enumerate(shown):
            x = self.px(list(x_labels).index(label))
            right_half = x > self.left + self.plot_w / 2
            out.append(
                f'<line x1="{x:.1f}" y1="{self.top - 4:.1f}" x2="{x:.1f}" y2="{self.top + self.plot_h:.1f}" '
                f'stroke="#c62828" stroke-dasharray="4 3"/>'
                f'<text x="{x + (-4 if right_half else 4):.1f}" y="{self.top + self.plot_h - 6 - 13 * (n % 3):.1f}" '
                f'font-size="11" fill="#c62828" text-anchor="{"end" if right_half else "start"}">'
                f"{_text(caption)}</text>"
            )
        return out

    def line(
        self, name: str, colour: str, values: Sequence[float | None], x_labels: Sequence[str], dots: str
    ) -> list[str]:
        """One series: a polyline per run of present values, and its dots with tooltips."""
        out: list[str] = []
        segment: list[str] = []
        segments: list[list[str]] = []
        for i, v in enumerate(values):
            if v is None or math.isnan(float(v)):
                if segment:
                    segments.append(segment)
                segment = []
                continue
            segment.append(f"{self.px(i):.1f},{self.py(float(v)):.1f}")
            if dots == "changes" and 0 < i < len(values) - 1 and values[i - 1] == v:
                continue
            out.append(
                f'<circle cx="{self.px(i):.1f}" cy="{self.py(float(v)):.1f}" r="3" fill="{colour}">'
                f"<title>{_text(name)} {_text(x_labels[i])}：{self.fmt(float(v))}</title></circle>"
            )
        if segment:
            segments.append(segment)
        out.extend(
            f'<polyline points="{" ".join(s)}" fill="none" stroke="{colour}" stroke-width="2"/>'
            for s in segments
            if len(s) > 1
        )
        return out


def line_svg(
    x_labels: list[str],
    series: dict[str, list[float | None]],
    colors: dict[str, str],
    title: str,
    *,
    y_label: str = "",
    percent: bool = False,
    markers: dict[str, str] | None = None,
    dots: str = "all",
) -> str:
    """Lines over ordered points, e.g. cumulative submissions per day up to the deadline.

    A None value leaves a gap in its line. At most about ten x labels are written
    (evenly spaced, always the last); every dot has a tooltip.

    Args:
        x_labels: Labels of the points, left to right (e.g. ISO dates).
        series: Values per series name, one per x label.
        colors: Stroke colour per series name (same rules as :func:`stacked_bars_svg`).
        title: Chart title.
        y_label: Unit or axis caption written above the y axis.
        percent: Values are fractions (0..1) shown as percentages.
        markers: Captions of vertical dashed lines, by x label (e.g. the due date); the
            captions of several markers are staggered on three lines.
        dots: ``all`` draws a dot on every point; ``changes`` only where a series' value
            differs from the point before, and on its first and last point (for long daily axes).

    Returns:
        An ``<svg>`` element as a string.

    Raises:
        ValueError: A series has the wrong length, or a colour is not a plain colour value.
    """
    names = list(series)
    for n in names:
        if len(series[n]) != len(x_labels):
            raise ValueError(f"series {n!r} has {len(series[n])} values for {len(x_labels)} points")
    colours = [_colour(colors, n, i) for i, n in enumerate(names)]
    present = [float(v) for n in names for v in series[n] if v is not None and not math.isnan(float(v))]
    low = min([0.0, *present])
    ticks = _nice_ticks(
        max([0.0, *present]) - low, integer=not percent and all(v.is_integer() for v in present)
    )
    plot = _Lines(points=len(x_labels), ticks=[t + low for t in ticks], percent=percent)
    out = [
        *_open(title, plot.width, plot.height),
        *_legend(names, colours, plot.left + (_text_width(y_label, 11) + 24 if y_label else 0), 44, 13.0),
    ]
    if y_label:
        out.append(f'<text x="8" y="44" font-size="11" fill="#555">{_text(y_label)}</text>')
    out += plot.axes(x_labels) + plot.markers(x_labels, markers or {})
    for name, colour in zip(names, colours, strict=True):
        out += plot.line(name, colour, series[name], x_labels, dots)
    out.append("</svg>")
    return "".join(out)


def message_svg(title: str, message: str, width: int = 640) -> str:
    """A chart's place when there is nothing to draw: its title (the accessible name) and a short message.

    Args:
        title: The chart's title.
        message: What to say instead (暂无数据...).
        width: Pixels.
    """
    body = f'<text x="8" y="24" font-size="12" fill="#555">{_text(message)}</text></svg>'
    return "".join(_open(title, width, 40, heading=False)) + body
