"""Who a closed instance expected, kept as a record so a re-run reproduces the cycle's figures.

:func:`~review_calendar.store.queries.expected_submitters` answers from the
enrolments as they are now. The decisions a cycle leads to change them: a
re-review extends a cluster (it no longer expires that year) or revokes it,
an evaluation revokes a pilot. Asked again after those decisions, a finished
cycle would expect fewer regions and its report would change (3 expected,
66.7 % on time, became 0 and "—"). The first aggregation at or after the
instance's effective due date records who is expected in
``obligation_instances.expected``; every later aggregation of the instance
uses that record. An aggregation before the close records nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from review_calendar.store.queries import Submitter, expected_submitters, instance_filter
from review_calendar.store.tables.intake import ObligationInstanceRow

if TYPE_CHECKING:
    import datetime as dt

    from sqlalchemy.orm import Session

    from review_calendar.domain.programmes import ObligationInstance, Programme

_FIELDS = ("region_code", "region_name", "city_code", "cluster_id", "cluster_name")


def expected_at_close(
    session: Session, programme: Programme, instance: ObligationInstance, as_of: dt.date
) -> list[Submitter]:
    """The submitters recorded at the instance's close, or the current ones (recorded when ``as_of`` is past the close).

    Args:
        session: Open session (the caller commits the record).
        programme: The programme.
        instance: The obligation instance.
        as_of: The day the aggregation computes for.

    Returns:
        The expected submitters, sorted by region code.
    """
    row = session.scalar(
        select(ObligationInstanceRow).where(*instance_filter(ObligationInstanceRow, instance))
    )
    if row is not None and row.expected is not None:
        return [Submitter(**{k: item.get(k) for k in _FIELDS}) for item in row.expected]
    submitters = expected_submitters(session, programme, instance)
    if row is not None and as_of >= instance.effective_due:
        row.expected = [{k: getattr(s, k) for k in _FIELDS} for s in submitters]
    return submitters
