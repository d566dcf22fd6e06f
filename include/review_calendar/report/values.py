"""Values shared by the workbook and the HTML page of a provincial report.

Both show the same figures with the same headers, the same state words and the
same notes; the headers of figures come from the aggregation's figure specs and
every other word from :mod:`review_calendar.domain.labels`.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING, Any

import pandas as pd

from review_calendar.aggregate.figures import STATE_COUNTS as STATES
from review_calendar.aggregate.figures import STATE_FIGURES
from review_calendar.domain.labels import CRITERION_RESULTS, SUBMISSION_STATES, label

if TYPE_CHECKING:
    from review_calendar.aggregate.compute import ProvinceAggregate
    from review_calendar.aggregate.figures import Figure

#: The count columns of the summaries, in order: expected, one per state, on-time rate.
COUNT_METRICS = ("expected", *STATES, "on_time_rate")
#: States whose file was accepted (the progress chart counts them as received).
RECEIVED_STATES = ("on_time", "on_time_corrected", "late")
_STATE_FIGURES = {f.metric: f for f in STATE_FIGURES}
_CRITERION_CODES = {True: "met", False: "not_met", None: "unknown"}


def plain(value: Any) -> Any:
    """A value openpyxl and Jinja handle: Python numbers, dates, text or None (for NaN, NA, NaT).

    Args:
        value: A value from a DataFrame (numpy and pandas scalars included).

    Returns:
        None, a bool, an int (integral non-float numbers), a float, or the value unchanged.
    """
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


def as_date(value: Any) -> dt.date | None:
    """A date from a date, a datetime or ISO text (None when empty)."""
    value = plain(value)
    if value is None or value == "":
        return None
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])


def is_percent(figure: Figure) -> bool:
    """The figure is a unitless ratio, shown as a percentage."""
    return figure.ratio_of is not None and figure.unit == ""


def figure_header(figure: Figure) -> str:
    """Column header of a figure: its label, with its unit in brackets unless a percentage."""
    if is_percent(figure) or not figure.unit:
        return figure.label
    return f"{figure.label}({figure.unit})"


def count_figure(metric: str) -> Figure:
    """The figure spec of a count column (``expected``, a state, ``on_time_rate``)."""
    return _STATE_FIGURES[metric]


def count_headers() -> list[str]:
    """Headers of the count columns: 应报, one per state, 按时报送率."""
    return [count_figure(m).label for m in COUNT_METRICS]


def shown_figures(aggregate: ProvinceAggregate) -> list[Figure]:
    """The dataset's key figures the reports show (helpers of a ratio are left out)."""
    return [f for f in aggregate.figures if f.show]


def state_label(state: str) -> str:
    """The Chinese word of a submission state, as every page shows it."""
    return label(SUBMISSION_STATES, state)


def criterion_code(met: Any, reported: bool = True) -> str:
    """``met`` / ``not_met`` / ``unknown`` for a criterion result (True / False / None), ``not_reported``."""
    if not reported:
        return "not_reported"
    return _CRITERION_CODES[plain(met)]


def criterion_mark(met: Any, reported: bool = True) -> str:
    """达标 / 未达标 / 无法判断 for a criterion result (True / False / None), 未报送 when nothing came."""
    return CRITERION_RESULTS[criterion_code(met, reported)]


def lagging_note(state: str, received: dt.date | None, due: dt.date, errors: int, as_of: dt.date) -> str:
    """The note of a lagging region: days late, errors to fix, or not submitted as of a day.

    Args:
        state: ``late``, ``rejected`` or ``missing``.
        received: When the deciding file arrived (None when nothing did).
        due: The effective due date.
        errors: Errors of the rejected file.
        as_of: The day of the report.
    """
    if state == "late" and received is not None:
        return f"逾期{(received - due).days}天报送"
    if state == "rejected":
        return f"报送文件未通过校验（{errors}处错误），需修改后重新报送"
    if state == "returned":
        return "文件已受理，审阅人退回修改，待报送修改后的文件"
    if state == "awaiting_approval":
        return "规划已收到，待补县（市）政府批复文号、批准日期和批复文件，补齐前不计为已报送"
    return f"截至{as_of.isoformat()}未报送"
