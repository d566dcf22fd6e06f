"""Some counties answer by e-mail: their files go to the demo's submissions mailbox, not the inbox.

On its day, a chosen county file is taken out of the inbox, given the template's
document properties (as the official template carries them) and sent from the
county's contact address as a reply to the last notice or reminder the county
received (its Message-ID in In-Reply-To), or as a fresh e-mail when it received
none. It is APPENDed to the demo's Dovecot mailbox with that day's arrival time;
the ``mail_intake`` DAG then takes it in and answers in the thread.
"""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import format_datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import datetime as dt

    from review_calendar.domain.programmes import ObligationInstance, Programme
    from review_calendar_demo.scenario import Placed

#: How many files of each county obligation arrive by e-mail.
PER_INSTANCE = 2


def choose(
    settings: Any, programme: Programme, instance: ObligationInstance, placed: list[Placed]
) -> list[Placed]:
    """The on-time .xlsx files of counties with a contact address that are sent by e-mail (at most two).

    Only a file alone in its region's folder (a plan with its documents stays in the inbox).
    """
    if not settings.imap.host or programme.obligation(instance.obligation_id).submitter != "county":
        return []
    chosen = []
    for p in placed:
        alone = p.path.exists() and [f for f in p.path.parent.iterdir() if f.is_file()] == [p.path]
        if p.role == "on_time" and p.path.suffix == ".xlsx" and alone and _contact(settings, p.region_code):
            chosen.append(p)
        if len(chosen) == PER_INSTANCE:
            break
    return chosen


def send(
    settings: Any, programme: Programme, instance: ObligationInstance, p: Placed, moment: dt.datetime
) -> bool:
    """Take the file out of the inbox and append the county's e-mail with it; False when it cannot be sent."""
    from openpyxl import load_workbook
    from openpyxl.packaging.custom import StringProperty

    from review_calendar.intake.identity import template_properties
    from review_calendar.intake.mailbox import SubmissionsMailbox

    sender = _contact(settings, p.region_code)
    if not sender or not p.path.exists():
        return False
    workbook = load_workbook(p.path)
    for name, value in template_properties(instance).items():
        workbook.custom_doc_props.append(StringProperty(name=name, value=value))
    workbook.save(p.path)
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = settings.submissions_address or settings.imap.user
    msg["Subject"] = f"回复：{instance.title}报送材料"
    msg["Date"] = format_datetime(moment)
    msg["Message-ID"] = (
        f"<demo.{p.region_code}.{instance.obligation_id}.{moment:%Y%m%d%H%M}@county.example.cn>"
    )
    answered = _last_message_id(settings, programme, instance, p.region_code)
    if answered:
        msg["In-Reply-To"] = answered
        msg["References"] = answered
    msg.set_content(f"附件为{instance.title}，请查收。")
    msg.add_attachment(
        p.path.read_bytes(), maintype="application", subtype="octet-stream", filename=p.path.name
    )
    with SubmissionsMailbox(settings.imap) as box:
        box.append(msg.as_bytes(), moment)
    p.path.unlink()
    return True


def _contact(settings: Any, region_code: str) -> str | None:
    from sqlalchemy import select

    from review_calendar.intake.identifiers import email_address
    from review_calendar.intake.normalize import ValueProblem
    from review_calendar.store.db import session_scope
    from review_calendar.store.tables.registry import Contact

    with session_scope(settings.db_url) as session:
        addresses = session.scalars(
            select(Contact.email)
            .where(Contact.region_code == region_code)
            .order_by(Contact.cycle_year.desc(), Contact.role.desc())
        ).all()
    for address in addresses:
        try:
            return email_address((address or "").strip())
        except ValueProblem:
            continue
    return None


def _last_message_id(
    settings: Any, programme: Programme, instance: ObligationInstance, region: str
) -> str | None:
    """The Message-ID of the last notice or reminder sent to the region about the instance."""
    from sqlalchemy import select

    from review_calendar.notify.outbox import message_id
    from review_calendar.store.db import session_scope
    from review_calendar.store.tables.mail import OutboxMessage

    with session_scope(settings.db_url) as session:
        key = session.scalar(
            select(OutboxMessage.natural_key)
            .where(
                OutboxMessage.instance_key == instance.key,
                OutboxMessage.region_code == region,
                OutboxMessage.kind.in_(("notice", "reminder")),
                OutboxMessage.status == "sent",
            )
            .order_by(OutboxMessage.id.desc())
            .limit(1)
        )
    return message_id(key, programme.office.sender.rpartition("@")[2]) if key else None
