"""Numeric recognition criteria checked on reported indicators.

The provincial aggregation marks each cluster against the criteria, and the
re-review decides with the same marks, so the check lives below both of them.
Thresholds and operators come from the programme file (``criteria``); the
wording rules are applied when the file is written: 以上 / 不低于 is ≥, 高于 /
超过 is >, and 年均 is the average annual growth over the period, geometric as
official statistics compute it (水平法: (last / first) ** (1 / n) − 1 from the
levels, or the chained yearly rates ((1 + g1) … (1 + gn)) ** (1 / n) − 1).
A criterion whose values are missing is unknown (None), never met.
"""

from __future__ import annotations

import math
import operator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from review_calendar.domain.programme_rules import Alternative, Criterion

#: The comparison operators a criterion may use.
OPS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt, "==": operator.eq}
#: Digits a computed average growth is rounded to (so that exactly 10 % is not "above 10 %" by float noise).
GROWTH_DIGITS = 10


@dataclass(frozen=True, slots=True)
class CriterionResult:
    """Whether one recognition criterion is met (None: undeterminable, values missing).

    ``value`` is what was compared: the value, the yearly values, the computed
    average growth, or for an any-of criterion the value of each alternative.
    """

    id: str
    title: str
    met: bool | None
    value: Any
    threshold: float | None
    clause: str


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _series(value: Any, length: int) -> list[float] | None:
    """The last ``length`` yearly values, or None when fewer are given or one of them is missing."""
    values = list(value) if isinstance(value, list | tuple) else [value]
    if len(values) < length:
        return None
    numbers = [_number(v) for v in values[-length:]]
    return None if any(n is None for n in numbers) else numbers  # type: ignore[return-value]


def average_growth(levels: Sequence[float] | None, rates: Sequence[float] | None, years: int) -> float | None:
    """Average annual growth over ``years`` years, geometric (水平法).

    From ``years + 1`` levels: (last / first) ** (1 / years) − 1; else from
    ``years`` yearly rates: ((1 + g1) … (1 + gn)) ** (1 / years) − 1; else None.
    """
    if levels is not None and len(levels) == years + 1 and levels[0] > 0:
        growth = (levels[-1] / levels[0]) ** (1 / years) - 1
    elif rates is not None and len(rates) == years and all(r > -1 for r in rates):
        growth = math.prod(1 + r for r in rates) ** (1 / years) - 1
    else:
        return None
    return round(growth, GROWTH_DIGITS)


def _alternative(alt: Alternative, indicators: Mapping[str, Any]) -> tuple[bool | None, float | None]:
    """One branch of an any-of criterion: the sum of its fields against its threshold."""
    parts = [_number(indicators.get(f)) for f in alt.fields]
    if any(p is None for p in parts):
        return None, None
    total = sum(parts)  # type: ignore[arg-type]
    return OPS[alt.op](total, alt.threshold), total


def check_criterion(c: Criterion, indicators: Mapping[str, Any]) -> CriterionResult:
    """Mark one criterion met / not met / undeterminable (None)."""
    if c.kind == "any_of":
        marks = [_alternative(a, indicators) for a in c.alternatives]
        met = (
            True if any(m is True for m, _ in marks) else None if any(m is None for m, _ in marks) else False
        )
        return CriterionResult(c.id, c.title, met, [v for _, v in marks], None, c.clause)
    assert c.threshold is not None
    if c.kind == "average_growth":
        levels = _series(indicators.get(c.levels_field), c.years + 1) if c.levels_field else None
        growth = average_growth(levels, _series(indicators.get(c.field), c.years), c.years)
        met = None if growth is None else OPS[c.op](growth, c.threshold)
        return CriterionResult(c.id, c.title, met, growth, c.threshold, c.clause)
    values = _series(indicators.get(c.field), c.years)
    met = None if values is None else all(OPS[c.op](v, c.threshold) for v in values)
    value = indicators.get(c.field)
    return CriterionResult(c.id, c.title, met, value, c.threshold, c.clause)


def check_criteria(criteria: Sequence[Criterion], indicators: Mapping[str, Any]) -> list[CriterionResult]:
    """Mark each criterion met / not met / undeterminable (None: values missing).

    Args:
        criteria: The programme's criteria.
        indicators: Indicator values by field; a field read over several years
            (:meth:`Criterion.series`) takes the list of yearly values, oldest
            first, with None for a year not reported.

    Returns:
        One result per criterion, in the programme's order.
    """
    return [check_criterion(c, indicators) for c in criteria]
