"""The receipt (回执) of an accepted file: its 受理编号, name, time received, rows accepted and warnings.

Queued by intake in the file's own transaction, like a rejection notice, under
the natural key of the receipt (its number), so a re-run never sends it twice;
an earlier version sent again gets a receipt of its own. It goes to the
submitting region's contact (else its city bureau, who is told to pass it on).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select

from review_calendar.notify.notices import queue_to_submitter
from review_calendar.notify.render import (
    MAX_LISTED_ERRORS,
    Problem,
    Rendered,
    _addressee,
    _body,
    _common,
    _subject,
)
from review_calendar.store.receipts import aware
from review_calendar.store.tables.intake import Receipt, Submission, SubmissionError

if TYPE_CHECKING:
    import datetime as dt

    from sqlalchemy.orm import Session

    from review_calendar.domain.programmes import ObligationInstance, Programme
    from review_calendar.notify.recipients import ContactBook

__all__ = ["ReceiptNote", "beijing_time", "queue_receipt", "render_receipt"]


@dataclass(frozen=True, slots=True)
class ReceiptNote:
    """What a 回执 says about one receipt.

    Attributes:
        receipt_no: The 受理编号.
        file_name: The file as the region named it.
        received_text: When it was received, Beijing time (``2025年3月20日 10:05:12``).
        rows: Rows accepted.
        is_late: Received after the effective due date.
        warnings: The first warnings (unusual values...), at most 10.
        warning_total: How many warnings intake recorded.
    """

    receipt_no: str
    file_name: str
    received_text: str
    rows: int
    is_late: bool
    warnings: tuple[Problem, ...] = ()
    warning_total: int = 0


def beijing_time(moment: dt.datetime) -> str:
    """``2025年3月20日 10:05:12``, in Beijing time."""
    local = aware(moment)
    assert local is not None
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M:%S}"


def render_receipt(
    programme: Programme,
    instance: ObligationInstance,
    note: ReceiptNote,
    *,
    region_name: str,
    as_of: dt.date,
    via_city: str | None = None,
) -> Rendered:
    """The 回执 of an accepted file."""
    subject = _subject(programme, f"{instance.title}：报送文件已受理（{note.receipt_no}） — {region_name}")
    body = _body(
        "receipt.txt.j2",
        **_common(programme, instance, as_of),
        addressee=_addressee(region_name, via_city),
        region_name=region_name,
        receipt=note,
        warnings=list(note.warnings),
        via_city=via_city,
    )
    return Rendered(subject, body)


def queue_receipt(
    session: Session,
    programme: Programme,
    instance: ObligationInstance,
    submission_id: int,
    *,
    created_on: dt.date,
    book: ContactBook | None = None,
) -> bool:
    """Queue the 回执 of the accepted submission's latest receipt, once.

    Returns:
        True when queued; False when already queued, not an accepted file of a
        region with a receipt, or the region cannot be reached (logged).
    """
    sub = session.get(Submission, submission_id)
    if (
        sub is None
        or sub.status not in ("accepted", "superseded")
        or not sub.region_code
        or not sub.receipt_no
    ):
        return False
    receipt = session.scalar(select(Receipt).where(Receipt.receipt_no == sub.receipt_no))
    if receipt is None:
        return False

    def render(region_name: str, via_city: str | None) -> Rendered:
        warnings = list(
            session.scalars(
                select(SubmissionError)
                .where(SubmissionError.submission_id == sub.id, SubmissionError.severity != "error")
                .order_by(SubmissionError.id)
            )
        )
        note = ReceiptNote(
            receipt_no=receipt.receipt_no,
            file_name=receipt.file_name,
            received_text=beijing_time(receipt.received_at),
            rows=sub.row_count,
            is_late=sub.is_late,
            warnings=tuple(
                Problem(w.sheet, w.row, w.column, w.message) for w in warnings[:MAX_LISTED_ERRORS]
            ),
            warning_total=len(warnings),
        )
        return render_receipt(
            programme, instance, note, region_name=region_name, as_of=created_on, via_city=via_city
        )

    return queue_to_submitter(
        session, programme, instance, sub.region_code, kind="receipt", stage=f"receipt_{receipt.id}",
        what=f"Receipt {receipt.receipt_no}", render=render, created_on=created_on, book=book,
    )  # fmt: skip
