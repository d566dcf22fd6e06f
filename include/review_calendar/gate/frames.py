"""The gate's view of the stored rows: one typed frame per dataset of an instance.

The rows of the accepted submissions are read back from the review database
(``store.frames``) and typed as the suites expect them
(:func:`review_calendar.intake.expectations.typed_frame`); a value that is not a
number becomes a critical finding located by region and spreadsheet row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from review_calendar.gate.errors import GATE_TYPE_INVALID, GateFinding
from review_calendar.intake.datasets import get_dataset
from review_calendar.intake.expectations import as_int, is_blank, show_value, typed_frame

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy.orm import Session

    from review_calendar.domain.programmes import ObligationInstance
    from review_calendar.intake.expectations import TypeProblem

__all__ = ["instance_frame", "region_and_row", "type_findings"]


def instance_frame(
    session: Session, instance: ObligationInstance, dataset_id: str
) -> tuple[pd.DataFrame, list[TypeProblem]]:
    """The typed rows of one dataset of an instance's accepted submissions.

    Args:
        session: Open session on the review database.
        instance: The obligation instance.
        dataset_id: A key of ``DATASETS``.

    Returns:
        ``(frame, problems)``: the dataset's columns typed for the suites, the
        stored metadata columns (``region_code``, ``row_no``...) and ``_pos``;
        problems are ``(position, column key, value)`` of values that are not numbers.
    """
    from review_calendar.store.frames import META_COLUMNS, load_instance_frame

    stored = load_instance_frame(session, instance, dataset_id)
    return typed_frame(stored, get_dataset(dataset_id), META_COLUMNS)


def region_and_row(frame: pd.DataFrame, pos: int) -> tuple[str | None, int | None]:
    """``(region code, spreadsheet row)`` of the row at position ``pos`` of a typed frame."""
    region = frame.at[pos, "region_code"] if "region_code" in frame.columns else None
    row = frame.at[pos, "row_no"] if "row_no" in frame.columns else None
    return (None if is_blank(region) else str(region)), as_int(row)


def type_findings(dataset_id: str, frame: pd.DataFrame, problems: list[TypeProblem]) -> list[GateFinding]:
    """A critical finding for every stored value that is not a number.

    Args:
        dataset_id: The dataset of ``frame``.
        frame: A typed frame from :func:`instance_frame`.
        problems: Its type problems.

    Returns:
        One ``GATE_TYPE_INVALID`` finding per problem, located by region, row and column.
    """
    findings = []
    for pos, key, raw in problems:
        region, row = region_and_row(frame, pos)
        findings.append(
            GateFinding(
                dataset_id,
                region,
                row,
                key,
                GATE_TYPE_INVALID,
                f"值“{show_value(raw)}”不是有效的数值。",
                "critical",
            )
        )
    return findings
