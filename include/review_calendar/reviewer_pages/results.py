"""What the cycle produced: gate verdicts and aggregate figures, labelled for reviewers (decisions: :mod:`.decisions`)."""

from __future__ import annotations

import datetime as dt
import os
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from review_calendar.aggregate.figures import STATE_FIGURES, figures_for
from review_calendar.aggregate.write import NATIONAL_PREFIX
from review_calendar.domain.labels import AGGREGATE_COLUMNS, FIGURE_LABELS
from review_calendar.domain.programmes import find_instance
from review_calendar.reviewer_pages.common import cycle_dag_id
from review_calendar.store.queries import instance_filter
from review_calendar.store.tables.registry import Region
from review_calendar.store.tables.review import Aggregate, GateRun

if TYPE_CHECKING:
    from pathlib import Path

    from sqlalchemy.orm import Session

    from review_calendar.domain.programmes import Programme

__all__ = [
    "AggregateRow",
    "AggregateTable",
    "GateResult",
    "aggregates_view",
    "gate_results",
    "is_ratio",
    "report_relpath",
]


@dataclass(frozen=True, slots=True)
class GateResult:
    """One verdict of a data-quality gate, with the path of its HTML report."""

    obligation_id: str
    period: str
    gate: str
    run_id: str
    success: bool
    critical_failures: int
    warnings: int
    summary: dict[str, Any]
    report: str | None
    created_at: dt.datetime | None
    dag_id: str


def report_relpath(html_path: str, reports_dir: Path | None) -> str | None:
    """The report's path relative to the reports folder, or None when it lies outside.

    Args:
        html_path: As stored by the gate: absolute, or relative to the reports folder.
        reports_dir: The reports folder (``Settings.reports_dir``).
    """
    if not html_path or reports_dir is None:
        return None
    path = PurePosixPath(html_path.replace(os.sep, "/"))
    base = PurePosixPath(str(reports_dir).replace(os.sep, "/"))
    if path.is_absolute():
        try:
            path = path.relative_to(base)
        except ValueError:
            return None
    normal = PurePosixPath(os.path.normpath(str(path)).replace(os.sep, "/"))
    if normal.is_absolute() or normal.parts[:1] == ("..",) or str(normal) in ("", "."):
        return None
    return str(normal)


def gate_results(
    session: Session,
    programme_id: str,
    year: int,
    obligation_id: str | None = None,
    period: str | None = None,
    reports_dir: Path | None = None,
) -> list[GateResult]:
    """Gate verdicts of a cycle (or one instance), newest first.

    Args:
        session: Open session on the review database.
        programme_id: Programme id.
        year: Cycle year.
        obligation_id: Only this obligation.
        period: Only this period.
        reports_dir: The reports folder, to turn stored paths into report links.
    """
    stmt = select(GateRun).where(GateRun.programme_id == programme_id, GateRun.cycle_year == year)
    if obligation_id is not None:
        stmt = stmt.where(GateRun.obligation_id == obligation_id)
    if period is not None:
        stmt = stmt.where(GateRun.period == period)
    runs = sorted(session.scalars(stmt), key=lambda g: (g.created_at or dt.datetime.min, g.id), reverse=True)
    return [
        GateResult(
            obligation_id=g.obligation_id,
            period=g.period,
            gate=g.gate,
            run_id=g.run_id,
            success=g.success,
            critical_failures=g.critical_failures,
            warnings=g.warnings,
            summary=dict(g.summary or {}),
            report=report_relpath(g.html_path, reports_dir),
            created_at=g.created_at,
            dag_id=cycle_dag_id(programme_id, g.obligation_id),
        )
        for g in runs
    ]


@dataclass(frozen=True, slots=True)
class AggregateRow:
    """The figures of one region."""

    region_code: str
    region_name: str
    level: str
    values: dict[str, float | str | None]


@dataclass(frozen=True, slots=True)
class AggregateTable:
    """Aggregate figures of one instance: regions (province first) against metrics.

    ``titles`` holds the column title of every metric the aggregation defines
    (:attr:`~review_calendar.aggregate.figures.Figure.title`), else its label in the one vocabulary.
    """

    metrics: tuple[str, ...]
    rows: tuple[AggregateRow, ...]
    titles: dict[str, str] = field(default_factory=dict)

    @property
    def labels(self) -> dict[str, str]:
        """Column title of each metric shown: its figure's title, else the one vocabulary's label.

        A national roll-up's metric (``national_…``) takes its figure's title with 全国汇总;
        a metric without a Chinese title is an internal id and has no column.
        """
        out = {}
        for m in self.metrics:
            title = _title(m, self.titles)
            if title is None and m.startswith(NATIONAL_PREFIX):
                base = _title(m.removeprefix(NATIONAL_PREFIX), self.titles)
                title = f"{base}（全国汇总）" if base and base != AGGREGATE_COLUMNS["name"] else base
            if title and _CJK.search(title):
                out[m] = title
        return out

    @property
    def columns(self) -> tuple[str, ...]:
        """The metrics shown as columns: those with a Chinese title."""
        shown = self.labels
        return tuple(m for m in self.metrics if m in shown)


_CJK = re.compile(r"[\u4e00-\u9fff]")


def _title(metric: str, titles: dict[str, str]) -> str | None:
    return titles.get(metric) or FIGURE_LABELS.get(metric) or AGGREGATE_COLUMNS.get(metric)


_LEVEL_ORDER = {"province": 0, "city": 1, "county": 2}


def is_ratio(metric: str) -> bool:
    """Whether a metric is a share (shown as a percentage)."""
    return metric.endswith(("_rate", "_share", "_ratio"))


def _is_number(metric: str, figures: dict[str, str]) -> bool:
    """Whether a metric's value is its number: a figure or a criteria count, whose stored text is only its label.

    A criteria count without a number (a region with no cluster that reported) is missing, not its label.
    """
    return metric in figures or metric.startswith("criteri")


def aggregates_view(
    session: Session, programme: Programme, year: int, obligation_id: str, period: str = "Y"
) -> AggregateTable:
    """The aggregate figures of one obligation instance.

    Args:
        session: Open session on the review database.
        programme: The programme (its obligation's dataset names the figures).
        year: Cycle year.
        obligation_id: Obligation id.
        period: Period.

    Returns:
        Metrics sorted by name; rows: province, then cities, then counties, each by
        code. A value is the number; without one, a figure is missing (None: the text
        stored beside a count is its label, never a value) and another metric (``name``,
        ``state``) is its text.

    Raises:
        KeyError: The programme has no such obligation or period in ``year``.
    """
    instance = find_instance(programme, year, obligation_id, period)
    figures = list(session.scalars(select(Aggregate).where(*instance_filter(Aggregate, instance))))
    codes = {a.region_code for a in figures}
    regions = {r.code: r for r in session.scalars(select(Region).where(Region.code.in_(codes)))}
    dataset = programme.obligation(obligation_id).dataset
    titles = {f.metric: f.title for f in (*STATE_FIGURES, *figures_for(programme, dataset))}
    values: dict[str, dict[str, float | str | None]] = defaultdict(dict)
    for a in figures:
        if a.value is not None or _is_number(a.metric, titles):
            values[a.region_code][a.metric] = a.value
        else:
            values[a.region_code][a.metric] = a.text or None
    rows = []
    for code in codes:
        region = regions.get(code)
        level = region.level if region else ("province" if code.endswith("0000") else "county")
        rows.append(AggregateRow(code, region.name if region else code, level, values[code]))
    rows.sort(key=lambda r: (_LEVEL_ORDER.get(r.level, 3), r.region_code))
    return AggregateTable(tuple(sorted({a.metric for a in figures})), tuple(rows), titles)
