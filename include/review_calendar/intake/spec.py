"""The type of a dataset spec: one template table, its columns and its one-row rules.

The specs themselves are declared in :mod:`review_calendar.intake.datasets`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from review_calendar.intake.row_rules import ColumnOrder, RowCheck, column_order, unusual_values

if TYPE_CHECKING:
    from review_calendar.intake.columns import Column

__all__ = ["Dataset"]


@dataclass(frozen=True)
class Dataset:
    """A template's table: what officials fill in and how it is checked.

    Attributes:
        id: Dataset id, referenced by programme files (``dataset:``).
        title: Chinese title of the table.
        sheet: Name of the data sheet in the template.
        columns: The columns, in template order.
        key_columns: Column keys that identify one row (duplicates are errors).
        year_column: Key of the column holding the reporting year, checked
            against the cycle's year.
        period_column: Key of the column holding the reporting period
            (上半年/全年, 一季度…), checked against the obligation.
        row_checks: Rules across the cells of one row.
        column_orders: Pairs of numeric columns where one is never less than
            the other (plan end ≥ start year); intake's row rule and the
            provincial gate's check are both generated from them.
        total_row_labels: First-cell texts that mark a 合计 row: excluded
            from the records, its numbers checked against the column sums.
        needs_approval: The file counts as submitted only with its approval
            (approved, 文号, date and the approval document attached; see
            ``store.attachments``); until then it is 待补批复.
    """

    id: str
    title: str
    sheet: str
    columns: tuple[Column, ...]
    key_columns: tuple[str, ...]
    year_column: str | None = None
    period_column: str | None = None
    row_checks: tuple[RowCheck, ...] = ()
    column_orders: tuple[ColumnOrder, ...] = ()
    total_row_labels: tuple[str, ...] = ("合计", "总计", "小计")
    needs_approval: bool = False

    def __post_init__(self) -> None:
        if self.column_orders:
            # Declared once as pairs; their row rule runs first, as the rules it replaced did.
            object.__setattr__(self, "row_checks", (column_order(self.column_orders), *self.row_checks))
        if any(c.usual is not None for c in self.columns):
            # The soft bounds are declared on the columns; their rule is made from them.
            object.__setattr__(self, "row_checks", (*self.row_checks, unusual_values(self.columns)))
        keys = [c.key for c in self.columns]
        if len(set(keys)) != len(keys) or len({c.header for c in self.columns}) != len(keys):
            raise ValueError(f"dataset {self.id!r}: column keys or headers repeat")
        orders = [k for o in self.column_orders for k in (o.larger, o.smaller, o.field)]
        for key in (*self.key_columns, self.year_column, self.period_column, *orders):
            if key is not None and key not in keys:
                raise ValueError(f"dataset {self.id!r}: unknown column {key!r}")

    @cached_property
    def headers(self) -> tuple[str, ...]:
        """The Chinese headers in template order (the reader's expected columns)."""
        return tuple(c.header for c in self.columns)

    def column(self, key: str) -> Column:
        """The column with that key.

        Raises:
            KeyError: No such column.
        """
        for c in self.columns:
            if c.key == key:
                return c
        raise KeyError(key)
