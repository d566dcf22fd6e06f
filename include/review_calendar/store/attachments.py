"""Keeping a submission's documents, and whether an accepted file still awaits its approval.

A checked document (:mod:`review_calendar.intake.attachments`) is copied beside
its accepted file (``<accepted>/<programme>/<year>/<obligation>_<period>/``,
named ``<region>_<sha12>_附件_<name>``), or to quarantine with its reason when
it fails the checks, and recorded in ``attachments`` linked to the submission.

A dataset that needs an approval (``Dataset.needs_approval``: the development
plan, 冀工信产业〔2016〕93号 二) counts as submitted only when every row says it
is approved with the approval's 文号 and date and an approval document is kept;
until then the submission ``awaits`` ``approval`` (状态“待补批复”).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select

from review_calendar.intake.datasets import get_dataset
from review_calendar.store.accept import copy_file, stored_name
from review_calendar.store.tables.intake import Attachment, DatasetRow, Submission

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Iterable, Mapping, Sequence

    from sqlalchemy.orm import Session

    from review_calendar.domain.programmes import ObligationInstance, Programme
    from review_calendar.intake.attachments import CheckedAttachment
    from review_calendar.settings import Settings

__all__ = [
    "AWAITING_APPROVAL",
    "AttachmentInfo",
    "approval_complete",
    "attachments_of",
    "carry_attachments",
    "keep_attachments",
    "refresh_awaiting",
]

#: ``Submission.awaiting`` of a plan without its approval.
AWAITING_APPROVAL = "approval"


def approval_complete(records: Iterable[Mapping[str, object]], kinds: Iterable[str]) -> bool:
    """Whether a plan is approved: every row approved with 文号 and date, and an approval document kept.

    Args:
        records: The plan's rows.
        kinds: Kinds of the documents kept with it.
    """
    rows = list(records)
    approved = all(
        r.get("approved") == "是" and r.get("approval_number") and r.get("approval_date") for r in rows
    )
    return bool(rows) and approved and "approval" in set(kinds)


def keep_attachments(
    session: Session,
    settings: Settings,
    instance: ObligationInstance,
    submission: Submission,
    documents: Sequence[CheckedAttachment],
    received_on: dt.date,
) -> list[Attachment]:
    """Copy each document beside the accepted file (or to quarantine) and record it with the submission.

    The same bytes twice for one submission are recorded once.

    Args:
        session: The submission's transaction.
        settings: The accepted and quarantine folders.
        instance: The obligation instance.
        submission: The accepted submission the documents belong to.
        documents: The checked documents.
        received_on: Day the documents were received.

    Returns:
        The new attachment rows.
    """
    known = set(session.scalars(select(Attachment.sha256).where(Attachment.submission_id == submission.id)))
    folder = f"{instance.programme_id}/{instance.cycle_year}/{instance.obligation_id}_{instance.period}"
    rows = []
    for doc in documents:
        if doc.sha256 in known:
            continue
        known.add(doc.sha256)
        name = stored_name(f"{submission.region_code or 'x'}_{doc.sha256[:12]}_附件_", doc.name)
        if doc.kept:
            dest = settings.accepted_dir / folder / name
        else:
            dest = settings.quarantine_dir / folder / name
            dest.parent.mkdir(parents=True, exist_ok=True)
            sidecar = {"file": doc.name, "sha256": doc.sha256, "reason": doc.problem}
            (dest.parent / f"{dest.name}.errors.json").write_text(
                json.dumps(sidecar, ensure_ascii=False, indent=2), encoding="utf-8"
            )
        copy_file(doc.path, dest)
        row = Attachment(
            submission_id=submission.id,
            kind=doc.kind,
            file_name=doc.name,
            media_type=doc.media_type,
            sha256=doc.sha256,
            size_bytes=doc.size,
            stored_path=str(dest),
            received_on=received_on,
            status="kept" if doc.kept else "rejected",
            reason=doc.problem,
        )
        session.add(row)
        rows.append(row)
    session.flush()
    return rows


def carry_attachments(session: Session, from_id: int, to_id: int) -> int:
    """A correction keeps the documents of the file it replaces (the same stored copies, linked again).

    A county correcting its summary sheet need not upload the plan and its approval again.

    Returns:
        The number of documents linked to ``to_id``.
    """
    known = set(session.scalars(select(Attachment.sha256).where(Attachment.submission_id == to_id)))
    earlier = session.scalars(select(Attachment).where(Attachment.submission_id == from_id)).all()
    carried = [a for a in earlier if a.sha256 not in known]
    session.add_all(
        Attachment(
            submission_id=to_id, kind=a.kind, file_name=a.file_name, media_type=a.media_type, sha256=a.sha256,
            size_bytes=a.size_bytes, stored_path=a.stored_path, received_on=a.received_on, status=a.status,
            reason=a.reason,
        )
        for a in carried
    )  # fmt: skip
    session.flush()
    return len(carried)


def refresh_awaiting(
    session: Session, programme: Programme, instance: ObligationInstance, submission: Submission
) -> str:
    """Set what the accepted ``submission`` still awaits ("" or :data:`AWAITING_APPROVAL`).

    A plan whose approval completes after the instance's effective due date
    (a document sent later) is late: it counts as submitted from then on.

    Returns:
        The new ``awaiting`` value.
    """
    dataset_id = programme.obligation(instance.obligation_id).dataset
    if not dataset_id or not get_dataset(dataset_id).needs_approval:
        return submission.awaiting or ""
    records = [
        r.data
        for r in session.scalars(
            select(DatasetRow).where(
                DatasetRow.submission_id == submission.id, DatasetRow.dataset == dataset_id
            )
        )
    ]
    kept = list(
        session.execute(
            select(Attachment.kind, Attachment.received_on).where(
                Attachment.submission_id == submission.id, Attachment.status == "kept"
            )
        )
    )
    was = submission.awaiting or ""
    if approval_complete(records, (k for k, _ in kept)):
        submission.awaiting = ""
        completed = max(day for k, day in kept if k == "approval")
        if was and completed > instance.effective_due:
            submission.is_late = True
    else:
        submission.awaiting = AWAITING_APPROVAL
    session.flush()
    return submission.awaiting


@dataclass(frozen=True, slots=True)
class AttachmentInfo:
    """A document as the reviewers see it (never opened by the pages)."""

    submission_id: int
    region_code: str
    kind: str
    file_name: str
    media_type: str
    size_bytes: int
    sha256: str
    status: str
    reason: str
    received_on: dt.date


def attachments_of(session: Session, instance: ObligationInstance) -> list[AttachmentInfo]:
    """The documents of the instance's current (accepted) submissions, by region then name."""
    from review_calendar.store.queries import instance_filter

    stmt = (
        select(Attachment, Submission.region_code)
        .join(Submission, Submission.id == Attachment.submission_id)
        .where(*instance_filter(Submission, instance), Submission.status == "accepted")
    )
    out = [
        AttachmentInfo(
            a.submission_id, region or "", a.kind, a.file_name, a.media_type, a.size_bytes, a.sha256,
            a.status, a.reason, a.received_on,
        )
        for a, region in session.execute(stmt)
    ]  # fmt: skip
    return sorted(out, key=lambda a: (a.region_code, a.kind, a.file_name))
