"""Intake's one content-sniffing rule (``intake.magic``): what a file's first bytes are."""

from __future__ import annotations

from pathlib import Path

import pytest

from review_calendar.intake.magic import EXECUTABLES, ZIP_KINDS, content_kind

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"PK\x03\x04\x14\x00", "zip"),
        (b"PK\x05\x06" + b"\x00" * 18, "zip_empty"),
        (bytes.fromhex("d0cf11e0a1b11ae1") + b"\x00", "ole2"),
        (b"%PDF-1.7\n", "pdf"),
        (b"%PDF\n", "pdf_damaged"),
        (b"\x89PNG\r\n", "png"),
        (b"MZ\x90\x00", "exe"),
        (b"\x7fELF\x02", "elf"),
        (b"#!/bin/sh\n", "script"),
        (b"\xcf\xfa\xed\xfe", "mach_o"),
        (b"region_code,name\n", ""),
        (b"", ""),
    ],
)
def test_content_kind_names_what_the_first_bytes_are(head: bytes, kind: str) -> None:
    assert content_kind(head) == kind


def test_executables_and_zips_are_named_kinds() -> None:
    assert content_kind(b"MZ") in EXECUTABLES and content_kind(b"PK\x05\x06") in ZIP_KINDS
    assert not EXECUTABLES & ZIP_KINDS


def test_the_documents_and_the_mail_agree_on_what_a_pdf_is(tmp_path: Path) -> None:
    from email.message import EmailMessage

    from review_calendar.intake.attachments import sniff
    from review_calendar.intake.mail_parts import split_message

    data = b"%PDF-1.4 not a spreadsheet"
    (tmp_path / "x.pdf").write_bytes(data)
    msg = EmailMessage()
    msg["From"], msg["Subject"] = "a@example.cn", "报送"
    msg.set_content("附件")
    for name in ("批复.pdf", "表.xlsx"):
        msg.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)

    _, parts = split_message(msg.as_bytes())

    assert sniff(tmp_path / "x.pdf") == "pdf"
    assert [(p.name, p.kind) for p in parts] == [("批复.pdf", "document"), ("表.xlsx", "quarantine")]
    assert parts[1].reason == "附件内容与扩展名“.xlsx”不符"
