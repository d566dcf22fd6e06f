"""The documents sent with an instance's accepted files, as reviewers see them.

Listed by name, type, size and SHA-256 so a reviewer can match a copy; the
pages never open, preview or render a document.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from review_calendar.aggregate.states import region_names
from review_calendar.domain.labels import ATTACHMENT_KINDS, ATTACHMENT_STATUSES, label
from review_calendar.store.attachments import attachments_of

if TYPE_CHECKING:
    import datetime as dt

    from sqlalchemy.orm import Session

    from review_calendar.domain.programmes import ObligationInstance

__all__ = ["DocumentRow", "documents_view", "human_size"]


@dataclass(frozen=True, slots=True)
class DocumentRow:
    """One document: whose, what, how big, its hash and whether it was kept."""

    region_code: str
    region_name: str
    kind: str
    file_name: str
    media_type: str
    size: str
    sha256: str
    status: str
    reason: str
    received_on: dt.date


def human_size(size: int) -> str:
    """``1536`` → ``1.5 KB``; bytes below 1 KB as they are."""
    if size < 1024:
        return f"{size} B"
    for unit in ("KB", "MB"):
        size /= 1024  # type: ignore[assignment]
        if size < 1024 or unit == "MB":
            return f"{size:.1f} {unit}"
    return f"{size} B"  # pragma: no cover


def documents_view(session: Session, instance: ObligationInstance) -> list[DocumentRow]:
    """The documents of the instance's accepted files, by region (labels in Chinese)."""
    found = attachments_of(session, instance)
    names = region_names(session, {a.region_code for a in found})
    return [
        DocumentRow(
            region_code=a.region_code,
            region_name=names.get(a.region_code, a.region_code),
            kind=label(ATTACHMENT_KINDS, a.kind),
            file_name=a.file_name,
            media_type=a.media_type.upper() or "—",
            size=human_size(a.size_bytes),
            sha256=a.sha256,
            status=label(ATTACHMENT_STATUSES, a.status),
            reason=a.reason,
            received_on=a.received_on,
        )
        for a in found
    ]
