"""Assemble an instance's accepted submissions into one provincial dataset (a DataFrame).

The gates and the aggregation read the same frame: one row per data row of the
latest accepted submission of each region, with the submission's metadata.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from review_calendar.store.queries import instance_filter
from review_calendar.store.tables.intake import DatasetRow, Submission

if TYPE_CHECKING:
    import pandas as pd
    from sqlalchemy.orm import Session

    from review_calendar.domain.programmes import ObligationInstance

META_COLUMNS = ["submission_id", "region_code", "sheet", "row_no", "is_late", "received_on", "file_name"]


def load_instance_frame(
    session: Session, instance: ObligationInstance, dataset: str | None = None
) -> pd.DataFrame:
    """Rows of the accepted submissions of ``instance`` (optionally one dataset/sheet).

    Args:
        session: Open session on the review database.
        instance: The obligation instance.
        dataset: Only rows of this dataset id (e.g. ``plan_projects``); all when None.

    Returns:
        A DataFrame with :data:`META_COLUMNS` followed by the dataset's column keys
        (values as normalised at intake: ISO date strings, floats, fractions for percents).
    """
    import pandas as pd

    stmt = (
        select(DatasetRow, Submission)
        .join(Submission, Submission.id == DatasetRow.submission_id)
        .where(*instance_filter(Submission, instance), Submission.status == "accepted")
        .order_by(Submission.region_code, DatasetRow.sheet, DatasetRow.row_no)
    )
    if dataset is not None:
        stmt = stmt.where(DatasetRow.dataset == dataset)
    records = []
    for row, sub in session.execute(stmt):
        record = {
            "submission_id": sub.id,
            "region_code": row.region_code or sub.region_code,
            "sheet": row.sheet,
            "row_no": row.row_no,
            "is_late": sub.is_late,
            "received_on": sub.received_on.isoformat(),
            "file_name": sub.file_name,
        }
        record.update({k: v for k, v in row.data.items() if k not in record})
        records.append(record)
    return pd.DataFrame.from_records(records, columns=None if records else META_COLUMNS)
