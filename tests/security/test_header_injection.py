"""Header injection through an RFC 2047 encoded line break in a contact name or a subject.

A name such as ``张三=?utf-8?q?x=0D=0ABcc:_evil@x?=`` looks harmless (no CR or
LF in it), but the e-mail library decodes the encoded word while building the
header and the reminder then carries a second header (``Bcc: evil@x``).
Intake rejects such a cell; the mailer decodes names and subjects before it
removes control characters and refuses a header that still breaks. The
reminders go to the real local SMTP server (aiosmtpd) and what arrived is parsed.
"""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from review_calendar.intake import issues as E
from review_calendar.notify.delivery import deliver
from review_calendar.notify.message import MessageError, _header, build_message
from review_calendar.notify.recipients import ROLE_DIVISION, ROLE_LEADER, mailbox
from review_calendar.notify.smtp import smtp_sender
from review_calendar.settings import SmtpSettings
from review_calendar.tasks import plan_reminders
from review_calendar_demo.local_smtp import LocalSmtpServer
from review_calendar_demo.seed import seed_demo
from tests.support.builders import contact_values, set_contacts
from tests.unit.intake_cases import contact_rows, read_contacts, write_csv

pytestmark = pytest.mark.security

PROGRAMME = "hebei_smart_cluster"
AS_OF = "2025-07-08"
LAGGING = ("130109", "130229", "130322", "130635")
CITIES = ("130100", "130200", "130300", "130600")
INJECTED = "张三=?utf-8?q?x=0D=0ABcc:_evil@attacker.example?="
INJECTED_B64 = "李四=?utf-8?b?eA0KVG86IGV2aWxAYXR0YWNrZXIuZXhhbXBsZQ==?="  # "x\r\nTo: evil@attacker.example"


@pytest.fixture
def smtp() -> Iterator[LocalSmtpServer]:
    server = LocalSmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def url(migrated_url: str, review_env: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The demo province whose contacts (stored before intake checked names) carry encoded line breaks."""
    monkeypatch.setenv("REVIEW_CALENDAR_DB_URL", migrated_url)
    seed_demo(migrated_url)
    set_contacts(
        migrated_url,
        [
            contact_values(
                PROGRAMME, 2025, code, role, name=INJECTED if role == ROLE_DIVISION else INJECTED_B64,
                email=f"{prefix}.{code}@gx.example.cn",
            )
            for code in (*LAGGING, *CITIES)
            for role, prefix in ((ROLE_DIVISION, "div"), (ROLE_LEADER, "lead"))
        ],
    )  # fmt: skip
    return migrated_url


def test_reminders_to_contacts_with_encoded_line_breaks_carry_no_extra_header(
    url: str, smtp: LocalSmtpServer
) -> None:
    plan_reminders(PROGRAMME, AS_OF)
    with smtp_sender(SmtpSettings(host=smtp.host, port=smtp.port, timeout=5)) as send:
        report = deliver(url, send)

    received = smtp.received
    assert report.sent == len(received) > 0
    for mail in received:
        assert not any("attacker" in r for r in mail.rcpt_tos)
        message = mail.message
        assert message.get_all("Bcc") is None
        assert len(message.get_all("To")) == 1
        assert "attacker" not in str(message["To"]).split("<")[-1]
        assert all("\n" not in str(v) and "\r" not in str(v) for v in message.values())
        header_block = mail.raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
        names = [line.split(":", 1)[0] for line in header_block.split("\r\n") if line[:1] not in (" ", "\t")]
        assert sorted(names) == sorted(set(names))  # no header twice


def test_subject_with_an_encoded_line_break_arrives_as_one_line(smtp: LocalSmtpServer) -> None:
    to = mailbox(INJECTED, "div.130109@gx.example.cn")
    assert to is not None
    row = SimpleNamespace(
        to_addrs=[to.to_json()], cc_addrs=[], natural_key="test/subject", body="正文", attachments=[],
        subject="催报=?utf-8?q?=0D=0ABcc:_evil@attacker.example?=",
    )  # fmt: skip
    sender = mailbox("省工业和信息化厅", "office@gx.example.cn")
    assert sender is not None
    with smtp_sender(SmtpSettings(host=smtp.host, port=smtp.port, timeout=5)) as send:
        refused = send(build_message(row, sender))

    assert refused == {}
    (mail,) = smtp.received
    assert mail.rcpt_tos == ("div.130109@gx.example.cn",)
    message = email.message_from_bytes(mail.raw, policy=email.policy.default)
    assert message.get_all("Bcc") is None
    assert message["Subject"] == "催报 Bcc: evil@attacker.example"
    assert message["To"].addresses[0].addr_spec == "div.130109@gx.example.cn"


def test_header_with_a_bare_line_break_is_refused() -> None:
    from email.headerregistry import Address

    # What plain_text would have cleaned, handed to the header builder as is.
    smuggled = Address(display_name="x =?utf-8?q?=0D=0ABcc:_e@x.example?=", addr_spec="a@example.com")

    with pytest.raises(MessageError):
        _header("To", (smuggled,))
    with pytest.raises(MessageError):
        _header("To", "=?utf-8?q?x=0D=0ABcc:_evil@x?= <a@example.com>")


@pytest.mark.parametrize("name", [INJECTED, INJECTED_B64])
def test_contact_name_with_an_encoded_line_break_is_rejected_at_intake(tmp_path: Path, name: str) -> None:
    path = write_csv(tmp_path / "名单.csv", contact_rows((0, "姓名", name)))

    table = read_contacts(path)

    assert [(i.code, i.row, i.column) for i in table.issues] == [(E.VALUE_CONTROL_CHARS, 3, "姓名")]
    assert table.rows[0][1]["姓名"] is None


def test_encoded_chinese_name_without_control_characters_is_kept(tmp_path: Path) -> None:
    name = "=?utf-8?b?5byg5LiJ?="  # 张三, encoded: odd but harmless
    path = write_csv(tmp_path / "名单.csv", contact_rows((0, "职务", "处长" + name)))

    table = read_contacts(path)

    assert not table.issues
    assert table.rows[0][1]["职务"] == "处长=?utf-8?b?5byg5LiJ?="
