"""A submission e-mail taken apart: names in every encoding, zips within limits, hostile parts quarantined."""

from __future__ import annotations

import io
import zipfile
from email.message import EmailMessage

import pytest

from review_calendar.intake.mail_parts import message_ids, split_message
from review_calendar.intake.reader import ReadLimits
from tests.faults.mail_cases import raw_named, zipped

pytestmark = pytest.mark.unit
XLSX = b"PK\x03\x04" + b"\x00" * 100


def _message(*attachments: tuple[str, bytes], **headers: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = headers.get("sender", "县工信局 <GXJ@County.example.cn>")
    msg["Subject"] = "报送"
    for name in ("Message-ID", "In-Reply-To", "References", "Date"):
        if name.replace("-", "_").lower() in headers:
            msg[name] = headers[name.replace("-", "_").lower()]
    msg.set_content("见附件")
    for name, data in attachments:
        msg.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    return msg.as_bytes()


def test_the_envelope_says_who_sent_it_and_what_it_answers() -> None:
    raw = _message(
        message_id="<m1@county>", in_reply_to="<rc.abc@prov>", references="<rc.old@prov> <rc.abc@prov>"
    )

    envelope, parts = split_message(raw)

    assert (envelope.message_id, envelope.sender) == ("<m1@county>", "gxj@county.example.cn")
    assert envelope.in_reply_to == ("<rc.abc@prov>", "<rc.old@prov>")
    assert parts == []


@pytest.mark.parametrize("style", ["rfc2231-gbk", "rfc2047-gbk", "raw-gbk"])
def test_gbk_names_in_every_style(style: str) -> None:
    name = "邯郸市/上半年报表（终稿）.xlsx"
    _, [part] = split_message(raw_named("a@b.cn", name, XLSX, style))

    assert (part.name, part.kind) == (name, "sheet")
    assert part.file_name == "上半年报表（终稿）.xlsx"  # one safe path component


def test_a_zip_is_unpacked_with_gbk_member_names_and_traversal_removed() -> None:
    archive = zipped({"..\\..\\县表.xlsx": XLSX, "批复.pdf": b"%PDF-1.7 x", "说明.txt": b"x"})

    _, parts = split_message(_message(("材料.zip", archive)))

    assert [(p.name, p.kind) for p in parts] == [
        ("材料.zip", "skipped"),
        ("材料.zip/县表.xlsx", "sheet"),
        ("材料.zip/批复.pdf", "document"),
        ("材料.zip/说明.txt", "quarantine"),
    ]


def test_zip_bombs_nested_and_encrypted_zips_are_quarantined() -> None:
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("big.csv", b"0" * 5_000_000)
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as z:
        z.writestr("x.xlsx", XLSX)
    nested = io.BytesIO()
    with zipfile.ZipFile(nested, "w") as z:
        z.writestr("inner.zip", inner.getvalue())
    encrypted = bytearray(inner.getvalue())
    encrypted[6] |= 1  # the "encrypted" flag of the local header
    cd = encrypted.rfind(b"PK\x01\x02")
    encrypted[cd + 8] |= 1  # and of the central directory
    limits = ReadLimits(max_uncompressed_bytes=1_000_000)

    _, parts = split_message(
        _message(
            ("bomb.zip", bomb.getvalue()), ("nested.zip", nested.getvalue()), ("enc.zip", bytes(encrypted))
        ),
        limits,
    )

    reasons = {p.name: p.reason for p in parts if p.kind == "quarantine"}
    assert "压缩炸弹" in reasons["bomb.zip"]
    assert "压缩包中的压缩包" in reasons["nested.zip/inner.zip"]
    assert "加密" in reasons["enc.zip"]


def test_content_that_contradicts_its_name_and_oversize_parts_are_quarantined() -> None:
    limits = ReadLimits(max_bytes=1000)
    _, parts = split_message(
        _message(("a.xlsx", b"MZ\x90\x00"), ("b.pdf", XLSX), ("c.csv", b"a,b\n" * 400), ("d.xlsm", XLSX)),
        limits,
    )

    assert [p.kind for p in parts] == ["quarantine"] * 4
    assert parts[2].data is None and parts[2].size == 1600  # too big: metadata only
    assert "可执行程序" in parts[0].reason and "扩展名" in parts[1].reason and "类型" in parts[3].reason


def test_message_ids_are_read_from_a_header_value() -> None:
    assert message_ids("<a@b> junk <c.d@e>") == ["<a@b>", "<c.d@e>"]
