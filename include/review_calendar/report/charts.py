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
from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = ["FONT_FAMILY", "line_svg", "message_svg", "stacked_bars_svg"]

FONT_FAMILY = "'PingFang SC','Microsoft YaHei','Noto Sans CJK SC','Source Han Sans SC',sans-serif"

_COLOUR = re.compile(r"^(#[0-9a-fA-F]{3}|#[0-9a-fA-F]{6}|[a-zA-Z]{3,20})$")
# Characters XML 1.0 does not allow (a browser would refuse the whole SVG).
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_FALLBACK_COLOURS = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1")


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
    size, row, bar = 13.0, 26.0, 18.0
    label_w = min(220.0, max([_text_width(c, size) for c in categories] + [40.0]) + 12)
    width, right = 760.0, 56.0
    top = 62.0
    plot_w = width - label_w - right
    totals = [sum(values[n][i] for n in names) for i in range(len(categories))]
    whole = all(float(v).is_integer() for n in names for v in values[n])
    ticks = _nice_ticks(max(totals, default=0.0), integer=whole)
    scale = plot_w / ticks[-1]
    height = top + row * max(1, len(categories)) + 34
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" aria-label="{_text(title)}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" height="{height:.0f}" '
        f'font-family="{FONT_FAMILY}">',
        f"<title>{_text(title)}</title>",
        f'<text x="{width / 2:.1f}" y="20" font-size="16" font-weight="bold" text-anchor="middle">'
        f"{_text(title)}</text>",
        *_legend(names, colours, label_w, 44, size),
    ]
    bottom = top + row * max(1, len(categories))
    for t in ticks:
        x = label_w + t * scale
        out.append(
            f'<line x1="{x:.1f}" y1="{top - 4:.1f}" x2="{x:.1f}" y2="{bottom:.1f}" stroke="#ddd"/>'
            f'<text x="{x:.1f}" y="{bottom + 16:.1f}" font-size="11" text-anchor="middle" fill="#555">'
            f"{_number(t)}</text>"
        )
    for i, category in enumerate(categories):
        y = top + i * row + (row - bar) / 2
        out.append(
            f'<text x="{label_w - 8:.1f}" y="{y + bar - 4:.1f}" font-size="{size:.0f}" text-anchor="end">'
            f"{_text(category)}</text>"
        )
        x = label_w
        for name, colour in zip(names, colours, strict=True):
            value = values[name][i]
            if value <= 0:
                continue
            w = value * scale
            out.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{bar:.1f}" fill="{colour}">'
                f"<title>{_text(category)} {_text(name)}：{_number(value)}</title></rect>"
            )
            label = _number(value)
            if w >= _text_width(label, 11) + 6:
                out.append(
                    f'<text x="{x + w / 2:.1f}" y="{y + bar - 5:.1f}" font-size="11" fill="#fff" '
                    f'text-anchor="middle">{label}</text>'
                )
            x += w
        after = _number(totals[i]) if notes is None else _text(notes[i])
        out.append(f'<text x="{x + 6:.1f}" y="{y + bar - 4:.1f}" font-size="12" fill="#333">{after}</text>')
    out.append("</svg>")
    return "".join(out)


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
    (evenly spaced, always the first and last); every dot has a tooltip.

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
    ticks = [t + low for t in ticks]
    width, height = 760.0, 320.0
    left, right, top, bottom = 64.0, 48.0, 62.0, 44.0
    plot_w, plot_h = width - left - right, height - top - bottom
    span = (ticks[-1] - ticks[0]) or 1.0
    step_x = plot_w / max(1, len(x_labels) - 1)

    def fmt(v: float) -> str:
        return f"{v:.0%}" if percent else _number(v)

    def px(i: int) -> float:
        return left + (i * step_x if len(x_labels) > 1 else plot_w / 2)

    def py(v: float) -> float:
        return top + plot_h - (v - ticks[0]) / span * plot_h

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" aria-label="{_text(title)}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" width="{width:.0f}" height="{height:.0f}" '
        f'font-family="{FONT_FAMILY}">',
        f"<title>{_text(title)}</title>",
        f'<text x="{width / 2:.1f}" y="20" font-size="16" font-weight="bold" text-anchor="middle">'
        f"{_text(title)}</text>",
        *_legend(names, colours, left + (_text_width(y_label, 11) + 24 if y_label else 0), 44, 13.0),
    ]
    if y_label:
        out.append(f'<text x="8" y="44" font-size="11" fill="#555">{_text(y_label)}</text>')
    for t in ticks:
        y = py(t)
        out.append(
            f'<line x1="{left:.1f}" y1="{y:.1f}" x2="{width - right:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
            f'<text x="{left - 6:.1f}" y="{y + 4:.1f}" font-size="11" text-anchor="end" fill="#555">'
            f"{fmt(t)}</text>"
        )
    every = max(1, math.ceil(len(x_labels) / 10))
    for i, label in enumerate(x_labels):
        if i % every == 0 or i == len(x_labels) - 1:
            out.append(
                f'<text x="{px(i):.1f}" y="{height - bottom + 18:.1f}" font-size="11" text-anchor="middle" '
                f'fill="#555">{_text(label)}</text>'
            )
    shown = [(label, caption) for label, caption in (markers or {}).items() if label in x_labels]
    for n, (label, caption) in enumerate(shown):
        x = px(x_labels.index(label))
        # Captions of markers close together would overwrite each other: three lines, and
        # on the inner side of a marker in the right half so that none leaves the plot.
        right_half = x > left + plot_w / 2
        out.append(
            f'<line x1="{x:.1f}" y1="{top - 4:.1f}" x2="{x:.1f}" y2="{top + plot_h:.1f}" stroke="#c62828" '
            f'stroke-dasharray="4 3"/>'
            f'<text x="{x + (-4 if right_half else 4):.1f}" y="{top + plot_h - 6 - 13 * (n % 3):.1f}" '
            f'font-size="11" fill="#c62828" text-anchor="{"end" if right_half else "start"}">{_text(caption)}</text>'
        )
    for name, colour in zip(names, colours, strict=True):
        segment: list[str] = []
        segments: list[list[str]] = []
        values = series[name]
        for i, v in enumerate(values):
            if v is None or math.isnan(float(v)):
                if segment:
                    segments.append(segment)
                segment = []
                continue
            segment.append(f"{px(i):.1f},{py(float(v)):.1f}")
            if dots == "changes" and 0 < i < len(values) - 1 and values[i - 1] == v:
                continue
            out.append(
                f'<circle cx="{px(i):.1f}" cy="{py(float(v)):.1f}" r="3" fill="{colour}">'
                f"<title>{_text(name)} {_text(x_labels[i])}：{fmt(float(v))}</title></circle>"
            )
        if segment:
            segments.append(segment)
        out.extend(
            f'<polyline points="{" ".join(s)}" fill="none" stroke="{colour}" stroke-width="2"/>'
            for s in segments
            if len(s) > 1
        )
    out.append("</svg>")
    return "".join(out)


def message_svg(title: str, message: str, width: int = 640) -> str:
    """A chart's place when there is nothing to draw: its title (the accessible name) and a short message.

    Args:
        title: The chart's title.
        message: What to say instead (暂无数据...).
        width: Pixels.
    """
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" aria-label="{_text(title)}" '
        f'viewBox="0 0 {width} 40" width="{width}" height="40" font-family="{FONT_FAMILY}">'
        f"<title>{_text(title)}</title>"
        f'<text x="8" y="24" font-size="12" fill="#555">{_text(message)}</text></svg>'
    )
