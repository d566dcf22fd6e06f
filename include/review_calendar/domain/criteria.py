"""Numeric recognition criteria checked on reported indicators.

The provincial aggregation marks each cluster against the criteria, and the
re-review decides with the same marks, so the check lives below both of them.
Thresholds and operators come from the programme file (``criteria``); the
wording rules (以上 / 不低于 is ≥, 高于 / 超过 is >, 年均 over the period) are
applied when the file is written, not here.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from review_calendar.domain.programmes import Criterion

#: The comparison operators a criterion may use.
OPS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt, "==": operator.eq}


@dataclass(frozen=True, slots=True)
class CriterionResult:
    """Whether one numeric recognition criterion is met (None: the indicator was not reported)."""

    id: str
    title: str
    met: bool | None
    value: Any
    threshold: float
    clause: str


def check_criteria(criteria: Sequence[Criterion], indicators: Mapping[str, Any]) -> list[CriterionResult]:
    """Mark each criterion met / not met / unknown (None: the indicator was not reported).

    Args:
        criteria: The programme's criteria.
        indicators: Indicator values by field; a criterion with ``years > 1`` takes a
            list of the last ``years`` yearly values and must hold in every one.

    Returns:
        One result per criterion, in the programme's order.
    """
    results = []
    for c in criteria:
        value = indicators.get(c.field)
        values = value if isinstance(value, list | tuple) else [value]
        if c.years > 1 and len(values) < c.years or any(v is None for v in values):
            met = None
        else:
            met = all(OPS[c.op](float(v), c.threshold) for v in values[-c.years :])
        results.append(CriterionResult(c.id, c.title, met, value, c.threshold, c.clause))
    return results
