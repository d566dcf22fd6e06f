"""Rules one row can decide: the types the row checks share, and each dataset's cross-cell rules.

A rule takes one normalised record and the file's :class:`RowContext` and
yields :class:`RowProblem` records; the dataset specs (``datasets.py``) list
which rules a sheet runs.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

from review_calendar.domain.calendar import pilot_period_ok
from review_calendar.intake import issues as E
from review_calendar.intake.columns import show_value

if TYPE_CHECKING:
    from review_calendar.intake.columns import Column
    from review_calendar.intake.issues import Severity

__all__ = [
    "ColumnOrder",
    "RowCheck",
    "RowContext",
    "RowProblem",
    "approval_date",
    "column_order",
    "pilot_period",
    "unusual_values",
    "violation_note",
]


class RowProblem(NamedTuple):
    """A problem a row check found: the column it names, a code, a sentence and its severity.

    ``"warning"`` keeps the file with a note (a rule the document states "in
    principle"); ``"error"`` rejects it.
    """

    column: str
    code: str
    message: str
    severity: Severity = "error"


@dataclass(frozen=True, slots=True)
class RowContext:
    """What the rows of one file are checked against, beyond the dataset spec.

    Attributes:
        known_region_codes: Region codes that exist (e.g. the province's
            table); a well-formed code outside it is REGION_UNKNOWN. None
            skips the check.
        expected_year: The cycle's data year; a different value in the
            dataset's year column is YEAR_MISMATCH. None skips the check.
        expected_period: The obligation's period (``上半年``, ``全年``,
            ``一季度`` or an alias such as ``Q1``); a different value in the
            period column is OBLIGATION_MISMATCH. None skips the check.
        max_pilot_years: The programme's longest pilot (implementation) period
            (``validity.max_pilot_years``); a pilot period beyond it is a
            VALUE_INCONSISTENT warning, never a rejection. None skips the check.
    """

    known_region_codes: Collection[str] | None = None
    expected_year: int | None = None
    expected_period: str | None = None
    max_pilot_years: int | None = None


RowCheck = Callable[[Mapping[str, object], RowContext], Iterable[RowProblem]]


@dataclass(frozen=True, slots=True)
class ColumnOrder:
    """A rule across two numeric columns of one row: ``larger`` is not less than ``smaller``.

    Declared once on the dataset spec (``Dataset.column_orders``); intake's row
    rule (:func:`column_order`) and the provincial gate's pair expectation
    (``gate.suites.spec_expectations``) are both made from it.

    Attributes:
        larger: Key of the column that must not be less (GX ``column_A``).
        smaller: Key of the column that must not be more (GX ``column_B``).
        field: Key of the column a problem is reported on (one of the two).
        message: The sentence naming the problem, with ``{larger}`` and
            ``{smaller}`` for the two values, without final punctuation.
    """

    larger: str
    smaller: str
    field: str
    message: str

    def broken(self, record: Mapping[str, object]) -> bool:
        """Whether the record's two values are both numbers and in the wrong order."""
        larger, smaller = record.get(self.larger), record.get(self.smaller)
        numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in (larger, smaller))
        return numbers and larger < smaller  # type: ignore[operator]


def column_order(orders: Iterable[ColumnOrder]) -> RowCheck:
    """The row rule of a dataset's :class:`ColumnOrder` declarations (an error per broken pair).

    Args:
        orders: The declarations.

    Returns:
        A row check.
    """
    orders = tuple(orders)

    def check(record: Mapping[str, object], context: RowContext) -> Iterable[RowProblem]:
        for order in orders:
            if order.broken(record):
                message = order.message.format(larger=record[order.larger], smaller=record[order.smaller])
                yield RowProblem(order.field, E.VALUE_INCONSISTENT, f"{message}，请核对。")

    return check


def pilot_period(record: Mapping[str, object], context: RowContext) -> Iterable[RowProblem]:
    """The pilot's implementation period ends after it starts; beyond the programme's limit is a warning.

    冀工信产业〔2016〕93号 三: 试点实施时间原则上不超过3年 ("in principle": the file is
    kept with a note for the reviewer), read from ``validity.max_pilot_years``.
    """
    start, end = record.get("pilot_start"), record.get("pilot_end")
    if not (isinstance(start, int) and isinstance(end, int)):
        return
    if end < start:
        yield RowProblem(
            "pilot_end", E.VALUE_INCONSISTENT, f"试点实施截止年份{end}早于起始年份{start}，请核对。"
        )
        return
    limit = context.max_pilot_years
    if limit is not None and not pilot_period_ok(start, end, limit):
        yield RowProblem(
            "pilot_end",
            E.VALUE_INCONSISTENT,
            f"试点实施期{start}—{end}年共{end - start + 1}年，超过{limit}年（试点实施时间原则上不超过{limit}年），"
            "文件予以接收，请在实施方案中说明理由。",
            "warning",
        )


def approval_date(record: Mapping[str, object], context: RowContext) -> Iterable[RowProblem]:
    """A plan without the county government's approval (文号 and date) is received but awaits it.

    冀工信产业〔2016〕93号 二: the plan is approved by the county government. A plan
    marked not approved, or without the approval's 文号 or date, is kept with a
    warning; it counts as submitted only once approved (状态“待补批复”).
    """
    if record.get("approved") == "是" and record.get("approval_number") and record.get("approval_date"):
        return
    missing = [
        name
        for key, name in (("approval_number", "批复文号"), ("approval_date", "批准日期"))
        if not record.get(key)
    ]
    column = "approval_date" if "批准日期" in missing and "批复文号" not in missing else "approval_number"
    if record.get("approved") != "是":
        column = "approved"
    what = "尚未经县（市）政府批准" if record.get("approved") != "是" else f"未填写{'、'.join(missing)}"
    yield RowProblem(
        column,
        E.VALUE_REQUIRED,
        f"规划{what}：已收到，状态为“待补批复”，补报县（市）政府批复文号、批准日期和批复文件后计为已报送。",
        "warning",
    )


def violation_note(record: Mapping[str, object], context: RowContext) -> Iterable[RowProblem]:
    """A violation is explained."""
    if record.get("violation") == "是" and not record.get("violation_note"):
        yield RowProblem("violation_note", E.VALUE_REQUIRED, "存在违规时必须填写“违规情况说明”。")


def unusual_values(columns: Iterable[Column]) -> RowCheck:
    """The rule that warns of values outside the columns' soft bounds (``Column.usual``).

    The row is kept; the warning puts the value in front of the reviewer. The
    rule is made from the columns' declarations, so each bound is declared once.

    Args:
        columns: The dataset's columns (those without ``usual`` are skipped).

    Returns:
        A row check.
    """
    watched = [c for c in columns if c.usual is not None]

    def check(record: Mapping[str, object], context: RowContext) -> Iterable[RowProblem]:
        for column in watched:
            value = record.get(column.key)
            if not isinstance(value, int | float) or isinstance(value, bool):
                continue
            low, high = column.usual or (None, None)
            if low is not None and value < low:
                bound = f"通常不低于{show_value(column, low)}"
            elif high is not None and value > high:
                bound = f"通常不超过{show_value(column, high)}"
            else:
                continue
            yield RowProblem(
                column.key,
                E.NUMBER_UNUSUAL,
                f"“{column.header}”为{show_value(column, value)}，超出常见范围（{bound}），请核对数值和单位；"
                "文件已接收，该值将提交审核人员核对。",
                "warning",
            )

    return check
