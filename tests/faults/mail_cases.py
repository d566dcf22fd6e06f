"""Arrange helpers of the mail-intake tests: contacts, filled templates and the e-mails counties send.

The messages are built as Chinese mail clients write them (RFC 2231, RFC 2047
in quotes, raw GBK bytes, a forwarded message) and appended to a real Dovecot
mailbox with the arrival time (INTERNALDATE) the test wants.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import zipfile
from email.message import EmailMessage
from typing import TYPE_CHECKING
from urllib.parse import quote

from review_calendar.domain.calendar import TZ
from review_calendar.domain.programmes import find_instance, load_programme
from review_calendar.intake.identity import template_properties
from review_calendar.store.db import session_scope
from review_calendar.store.models import Contact
from review_calendar.store.queries import Submitter
from review_calendar_demo.synthetic import break_records, records_for, write_xlsx

if TYPE_CHECKING:
    from pathlib import Path

    from review_calendar.domain.programmes import ObligationInstance

PROGRAMME = load_programme("hebei_smart_cluster")
HALF_YEAR = find_instance(PROGRAMME, 2025, "half_year_report")  # counties; open 2025-06-25, due 07-15
CONTACTS = find_instance(PROGRAMME, 2025, "contact_list")  # cities; due 2025-03-31
COUNTY, OTHER_COUNTY, CITY = "130109", "130229", "130100"  # 130109 is a county of the city 130100
COUNTY_ADDR, OTHER_ADDR, CITY_ADDR = "gxj@gaocheng.example.cn", "gxj@luannan.example.cn", "cyc@sjz.example.cn"
MAILBOX = "tianbao@hebei-gxt.example.cn"


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(TZ)


def add_contacts(url: str) -> None:
    """The division heads of a county, another county and the county's city, for this cycle."""
    with session_scope(url) as session:
        for code, addr in ((COUNTY, COUNTY_ADDR), (OTHER_COUNTY, OTHER_ADDR), (CITY, CITY_ADDR)):
            session.add(
                Contact(programme_id=PROGRAMME.id, cycle_year=2025, region_code=code,
                        role="责任处室负责同志", name=f"联系人{code}", email=addr)
            )  # fmt: skip


def filled(
    tmp: Path,
    instance: ObligationInstance,
    region: str,
    *,
    seed: int = 1,
    properties: bool = True,
    broken: str | None = None,
    name: str = "填报.xlsx",
) -> bytes:
    """A filled template of ``instance`` for ``region`` (with our document properties unless told not)."""
    from openpyxl import load_workbook
    from openpyxl.packaging.custom import StringProperty

    submitter = Submitter(region, f"地区{region}", region[:4] + "00")
    records = records_for(PROGRAMME, instance, submitter, seed=seed)
    if broken:
        records = break_records(records, broken, instance.cycle_year)
    path = write_xlsx(tmp / f"{seed}_{region}_{name}", records, instance.title)
    if properties:
        wb = load_workbook(path)
        for key, value in template_properties(instance).items():
            wb.custom_doc_props.append(StringProperty(name=key, value=value))
        wb.save(path)
    return path.read_bytes()


def message(
    sender: str,
    attachments: list[tuple[str, bytes]] = (),
    *,
    subject: str = "报送材料",
    message_id: str = "<county-1@gaocheng.example.cn>",
    in_reply_to: str | None = None,
    date_header: str = "Mon, 01 Jan 2024 08:00:00 +0800",
) -> bytes:
    """An e-mail as a mail client sends it (UTF-8 names in RFC 2231); the Date header is deliberately wrong."""
    msg = EmailMessage()
    msg["From"] = f"县工信局 <{sender}>"
    msg["To"] = MAILBOX
    msg["Subject"] = subject
    msg["Message-ID"] = message_id
    msg["Date"] = date_header
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
        msg["References"] = in_reply_to
    msg.set_content("附件为填好的报送表，请查收。")
    for name, data in attachments:
        msg.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    return msg.as_bytes()


def raw_named(sender: str, name: str, data: bytes, style: str) -> bytes:
    """A message whose one attachment's name is written in ``style``: rfc2231-gbk, rfc2047-gbk or raw-gbk."""
    gbk = name.encode("gbk")
    if style == "rfc2231-gbk":
        params = f"filename*=GBK''{quote(gbk)}"
        ctype = 'application/vnd.ms-excel; name="attachment.xlsx"'
    elif style == "rfc2047-gbk":
        word = f"=?GBK?B?{base64.b64encode(gbk).decode()}?="
        params, ctype = f'filename="{word}"', f'application/octet-stream; name="{word}"'
    else:
        params, ctype = None, None
    head = (
        (
            f"From: {sender}\r\nTo: {MAILBOX}\r\nSubject: =?GBK?B?{base64.b64encode('报送'.encode('gbk')).decode()}?=\r\n"
            f"Message-ID: <{style}@gaocheng.example.cn>\r\nMIME-Version: 1.0\r\n"
            'Content-Type: multipart/mixed; boundary="SEP"\r\n\r\n--SEP\r\nContent-Type: text/plain; charset=GBK\r\n\r\n'
        ).encode()
        + "见附件".encode("gbk")
        + b"\r\n--SEP\r\n"
    )
    if params is None:  # raw GBK bytes in the header, as some clients still send
        part = (
            b'Content-Type: application/octet-stream; name="'
            + gbk
            + b'"\r\nContent-Disposition: attachment; filename="'
            + gbk
            + b'"\r\n'
        )
    else:
        part = f"Content-Type: {ctype}\r\nContent-Disposition: attachment; {params}\r\n".encode()
    body = base64.encodebytes(data).replace(b"\n", b"\r\n")
    return head + part + b"Content-Transfer-Encoding: base64\r\n\r\n" + body + b"\r\n--SEP--\r\n"


def forwarded(sender: str, inner_sender: str, name: str, data: bytes) -> bytes:
    """A message that forwards (as an attached message) a county's message with the file."""
    inner = EmailMessage()
    inner["From"] = inner_sender
    inner["To"] = sender
    inner["Subject"] = "报送表"
    inner.set_content("见附件")
    inner.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    outer = EmailMessage()
    outer["From"] = sender
    outer["To"] = MAILBOX
    outer["Subject"] = "转发：报送表"
    outer["Message-ID"] = "<fwd-1@sjz.example.cn>"
    outer.set_content("转发县里的报送表。")
    outer.add_attachment(inner)
    return outer.as_bytes()


def zipped(members: dict[str, bytes]) -> bytes:
    """A zip as Windows' built-in tool writes it: member names in GBK without the UTF-8 flag."""
    buf = io.BytesIO()
    names = {}
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for n, (name, data) in enumerate(members.items()):
            gbk = name.encode("gbk")
            placeholder = f"QZ{n}".ljust(len(gbk), "Q")  # ASCII of the same length, replaced below
            names[placeholder.encode()] = gbk
            z.writestr(zipfile.ZipInfo(placeholder), data)
    raw = buf.getvalue()
    for placeholder, gbk in names.items():
        raw = raw.replace(placeholder, gbk)
    return raw
