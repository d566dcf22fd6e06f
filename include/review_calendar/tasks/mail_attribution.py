"""Which obligation and region an e-mailed attachment is for, and whether its sender may send it.

In this order:

1. the thread: the message answers one of our e-mails (its In-Reply-To or
   References holds the Message-ID of a reminder, notice, rejection or 回执 to
   region X about instance O): the file is X's for O, unless its document
   properties name another instance (one message may carry files for several
   obligations), which then gives the instance;
2. the template's document properties (programme, obligation, cycle year, period);
3. the sender's address in the contact lists (any programme, any year) and the
   region codes in the file: a contact answers for its region, a city's
   contact also for the city's counties. Without a thread or properties, the
   one instance open for the sender's level is taken, if there is exactly one.

An attachment that none of these places, or whose sender has no standing for
the regions in it, is held for an operator (:class:`Place` with a reason).
The region found is handed to intake as the file's upload folder would be
(``hints``): intake then checks the file's codes against it, and a city's file
listing its counties is split per county, exactly as for the folder inbox.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

if TYPE_CHECKING:
    import datetime as dt
    from pathlib import Path

    from sqlalchemy.orm import Session

    from review_calendar.intake.mail_parts import Envelope

__all__ = ["MailContext", "Place", "load_context", "place_sheet"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Place:
    """Where an attachment goes: an instance and the submitting region, or held with the reason.

    Attributes:
        key: The obligation instance's key (None: held).
        hint: The submitting region (as an upload folder's code).
        via: ``thread``, ``properties`` or ``sender``.
        reason: Why it is held (Chinese), "" when placed.
    """

    key: str | None
    hint: str | None = None
    via: str = ""
    reason: str = ""


@dataclass
class MailContext:
    """What one message is judged with: the e-mail it answers, the sender's regions, the province's regions."""

    sender: str
    thread_key: str | None = None
    thread_region: str | None = None
    sender_regions: set[str] = field(default_factory=set)
    levels: dict[str, str] = field(default_factory=dict)
    parents: dict[str, str | None] = field(default_factory=dict)

    def covering(self, code: str) -> str | None:
        """The sender's region that answers for ``code``: itself, or its city."""
        if code in self.sender_regions:
            return code
        parent = self.parents.get(code)
        return parent if parent in self.sender_regions else None


def load_context(session: Session, envelope: Envelope) -> MailContext:
    """The thread, the sender's regions and the regions of the message."""
    from review_calendar.store.mail import outbox_rows_by_digest
    from review_calendar.store.tables.registry import Contact, Region

    ctx = MailContext(sender=envelope.sender)
    digests = [m[4:44] for m in envelope.in_reply_to if m.startswith("<rc.")]
    for row in outbox_rows_by_digest(session, digests):
        if not row.instance_key.startswith("mail/") and row.region_code:
            ctx.thread_key, ctx.thread_region = row.instance_key, row.region_code
            break
    if envelope.sender:
        ctx.sender_regions = set(
            session.scalars(
                select(Contact.region_code).where(func.lower(func.trim(Contact.email)) == envelope.sender)
            )
        )
    for code, level, parent in session.execute(select(Region.code, Region.level, Region.parent_code)):
        ctx.levels[code] = level
        ctx.parents[code] = parent
    return ctx


def place_sheet(ctx: MailContext, path: Path, name: str, data: bytes, moment: dt.datetime) -> Place:
    """Where one sheet attachment goes (module docstring)."""
    from review_calendar.intake.identity import file_identity

    identity = file_identity(data)
    key, via = None, ""
    if identity and identity.programme and identity.obligation and identity.cycle_year:
        key = f"{identity.programme}/{identity.cycle_year}/{identity.obligation}/{identity.period or 'Y'}"
        via = "thread" if key == ctx.thread_key else "properties"
    elif ctx.thread_key:
        key, via = ctx.thread_key, "thread"
    if key is None:
        key, reason = _only_open_instance(ctx, moment)
        if key is None:
            return Place(None, reason=reason)
        via = "sender"
    try:
        programme, instance = _instance(key)
    except Exception:  # an unknown programme, obligation or period in the properties
        return Place(None, reason=f"文档属性所指的报送事项“{key}”不存在，请使用本期下发的模板")
    if via == "thread" and ctx.thread_region:
        return Place(key, ctx.thread_region, via)
    if not ctx.sender_regions:
        return Place(None, reason="发件人不在各地报送的联系人名单中，无法确认报送单位，需人工核对")
    codes = _file_codes(path, name, programme, instance, ctx)
    uncovered = sorted(c for c in codes if ctx.covering(c) is None)
    if uncovered:
        return Place(
            None,
            reason=f"发件人是{'、'.join(sorted(ctx.sender_regions))}的联系人，"
            f"无权报送{'、'.join(uncovered[:5])}的数据，需人工核对",
        )
    if codes:
        covering = {ctx.covering(c) for c in codes}
        hint = next(iter(covering)) if len(covering) == 1 else None
        if len(codes) == 1 and next(iter(codes)) in ctx.sender_regions:
            hint = next(iter(codes))
    else:
        hint = next(iter(ctx.sender_regions)) if len(ctx.sender_regions) == 1 else None
    if hint is None:
        return Place(None, reason="无法确定附件所属的报送地区，需人工核对")
    return Place(key, hint, via)


def _instance(key: str) -> tuple[Any, Any]:
    from review_calendar.tasks import instance_of

    return instance_of(key)


def _only_open_instance(ctx: MailContext, moment: dt.datetime) -> tuple[str | None, str]:
    """The one instance open on the day for the sender's level, or the reason there is none."""
    from review_calendar.tasks import open_instances

    if not ctx.sender_regions:
        return (
            None,
            "无法确定附件所属的报送事项（不是回复催报邮件，也不是下发的模板），发件人也不在联系人名单中",
        )
    levels = {ctx.levels.get(c) for c in ctx.sender_regions}
    found = []
    for key in open_instances(moment.date().isoformat(), None, ad_hoc=False):
        programme, instance = _instance(key)
        obligation = programme.obligation(instance.obligation_id)
        if obligation.dataset and obligation.submitter in levels:
            found.append(key)
    if len(found) == 1:
        return found[0], ""
    return None, "无法确定附件所属的报送事项（请直接回复催报邮件，或使用本期下发的模板），需人工核对"


def _file_codes(path: Path, name: str, programme: Any, instance: Any, ctx: MailContext) -> set[str]:
    """The region codes in the file's main table (empty when it cannot be read: intake will say why)."""
    from review_calendar.intake.ingest import parse_file

    try:
        parsed = parse_file(path, name, programme, instance, ctx.levels.keys())
    except Exception:  # intake reports the problem itself when the file is taken in
        log.info("Mail attachment %s: region codes not readable before intake", path.name)
        return set()
    dataset = programme.obligation(instance.obligation_id).dataset or ""
    return {str(r["region_code"]) for r in parsed.records.get(dataset, []) if r.get("region_code")}
