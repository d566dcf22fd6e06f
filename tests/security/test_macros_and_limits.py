"""Macro workbooks, zip bombs shaped just under the per-part limits, and files over the size limit.

- An ``.xlsm`` (an Excel 4.0 macro sheet, a VBA project, or just the
  macro-enabled package type) is rejected with FILE_HAS_MACROS and its
  quarantined copy is never kept under a name that opens as a workbook.
- A zip of many parts, each under the 1 MB part-ratio threshold, that
  declares 199 MB in a 223 KB file is rejected from its central directory,
  before anything is inflated (seconds and memory stay small).
- A file over the size limit is rejected with a message naming the limit;
  its bytes are never copied (it stays where it arrived, never deleted).
"""

from __future__ import annotations

import hashlib
import time
import tracemalloc
import zipfile
from pathlib import Path

import pytest

from review_calendar.intake import issues as E
from review_calendar.intake.inbox import inbox_dir
from review_calendar.intake.reader import ReadLimits
from review_calendar.settings import get_settings
from review_calendar.tasks import ingest_inbox
from review_calendar_demo.synthetic import set_received
from tests.faults import AS_OF, RECEIVED, contact_list_instance
from tests.security.inbox_cases import a_contact_list, stored_files
from tests.unit.intake_cases import contact_rows, read_contacts, rejected, write_xlsx

pytestmark = pytest.mark.security

MACRO_SHEET = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<xm:macrosheet xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main">'
    b"<sheetData/></xm:macrosheet>"
)


def repack(source: Path, target: Path, extra: dict[str, bytes], content_types: bytes | None = None) -> Path:
    """``source`` with ``extra`` parts added (and ``[Content_Types].xml`` edited)."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            if info.filename == "[Content_Types].xml" and content_types is not None:
                data = data.replace(b"</Types>", content_types + b"</Types>")
            zout.writestr(info, data)
        for name, data in extra.items():
            zout.writestr(name, data)
    return target


@pytest.fixture
def workbook(tmp_path: Path) -> Path:
    return write_xlsx(tmp_path / "plain.xlsx", contact_rows())


@pytest.mark.parametrize(
    ("extra", "types"),
    [
        pytest.param(
            {"xl/macrosheets/sheet2.xml": MACRO_SHEET},
            b'<Override PartName="/xl/macrosheets/sheet2.xml" '
            b'ContentType="application/vnd.ms-excel.macrosheet+xml"/>',
            id="excel4-macro-sheet",
        ),
        pytest.param({"xl/vbaProject.bin": b"\xd0\xcf\x11\xe0" + b"\0" * 60}, None, id="vba-project"),
        pytest.param(
            {},
            b'<Override PartName="/xl/workbook.xml" '
            b'ContentType="application/vnd.ms-excel.sheet.macroEnabled.main+xml"/>',
            id="macro-enabled-package",
        ),
        pytest.param({"xl/dialogsheets/sheet3.xml": b"<dialogsheet/>"}, None, id="dialog-sheet"),
    ],
)
def test_macro_workbook_is_rejected(
    workbook: Path, tmp_path: Path, extra: dict[str, bytes], types: bytes
) -> None:
    path = repack(workbook, tmp_path / "名单.xlsm", extra, types)

    caught = rejected(lambda: read_contacts(path))

    assert [i.code for i in caught.issues] == [E.FILE_HAS_MACROS]
    assert "宏" in caught.issues[0].message


def test_xlsm_in_the_inbox_is_rejected_and_never_stored_as_xlsm(sweep_env: str, tmp_path: Path) -> None:
    settings = get_settings()
    _, instance = contact_list_instance()
    plain = a_contact_list(sweep_env, tmp_path / "plain.xlsx")
    types = b'<Override PartName="/xl/macrosheets/sheet9.xml" ContentType="application/vnd.ms-excel.macrosheet+xml"/>'
    target = inbox_dir(settings, instance) / "130100" / "石家庄市联系人名单.xlsm"
    target.parent.mkdir(parents=True)
    repack(plain, target, {"xl/macrosheets/sheet9.xml": MACRO_SHEET}, types)
    set_received(target, RECEIVED)

    result = ingest_inbox(instance.key, AS_OF)

    assert (result["accepted"], result["rejected_files"]) == (
        0,
        [{"file": "石家庄市联系人名单.xlsm", "codes": [E.FILE_HAS_MACROS]}],
    )
    kept = [p for p in stored_files() if not p.name.endswith(".errors.json")]
    assert len(kept) == 1 and kept[0].name.endswith(".xlsm.quarantined")
    assert not settings.accepted_dir.exists() or not any(settings.accepted_dir.rglob("*.xlsm"))


def zip_bomb(path: Path, workbook: Path, parts: int = 199, part_size: int = 1024 * 1024 - 1) -> Path:
    """The workbook plus ``parts`` parts of zeros just under the 1 MB part-ratio threshold (~199 MB)."""
    zeros = bytes(part_size)
    return repack(workbook, path, {f"xl/media/image{n}.png": zeros for n in range(parts)})


def test_zip_bomb_of_many_small_parts_is_rejected_before_inflating(workbook: Path, tmp_path: Path) -> None:
    bomb = zip_bomb(tmp_path / "名单.xlsx", workbook)
    with zipfile.ZipFile(bomb) as z:
        declared = sum(i.file_size for i in z.infolist())
    assert bomb.stat().st_size < 400 * 1024 and declared > 190 * 1024 * 1024  # the issue's shape
    assert declared < ReadLimits().max_uncompressed_bytes

    tracemalloc.start()
    started = time.perf_counter()
    caught = rejected(lambda: read_contacts(bomb))
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()

    assert [i.code for i in caught.issues] == [E.FILE_ZIP_BOMB]
    assert "100倍" in caught.issues[0].message
    assert elapsed < 3.0
    assert peak < 32 * 1024 * 1024  # the read buffer of the size limit; inflating took 293 MB


def test_ordinary_workbook_passes_the_total_ratio_check(workbook: Path) -> None:
    assert read_contacts(workbook).rows


def big_csv(path: Path, size: int) -> Path:
    header = "行政区划代码,地区名称,层级,角色,姓名,职务,办公电话,手机,电子邮箱\r\n".encode()
    line = "130100,石家庄市,市,主管领导,张三,副局长,0311-87803218,13812345678,zhangsan@example.gov.cn\r\n".encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as out:
        out.write(header)
        block = line * (1024 * 1024 // len(line))
        while out.tell() < size:
            out.write(block)
    return path


def test_file_over_the_size_limit_is_rejected_naming_the_limit_and_left_where_it_arrived(
    sweep_env: str,
) -> None:
    settings = get_settings()
    _, instance = contact_list_instance()
    limit = ReadLimits().max_bytes
    path = big_csv(inbox_dir(settings, instance) / "130100" / "石家庄市联系人名单.csv", limit + 1024 * 1024)
    set_received(path, RECEIVED)
    before = hashlib.sha256(path.read_bytes()).hexdigest()

    result = ingest_inbox(instance.key, AS_OF)

    assert result["rejected_files"] == [{"file": "石家庄市联系人名单.csv", "codes": [E.FILE_TOO_LARGE]}]
    assert path.exists() and hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert [p.name.endswith(".errors.json") for p in stored_files()] == [True]  # no copy of the bytes
    sidecar = next(p for p in stored_files()).read_text(encoding="utf-8")
    assert f"超过{limit // 1024 // 1024}MB的上限" in sidecar


def test_file_over_the_size_limit_is_answered_once_then_judged_again_when_replaced(sweep_env: str) -> None:
    from sqlalchemy import func, select

    from review_calendar.store.db import session_scope
    from review_calendar.store.models import Decision

    settings = get_settings()
    _, instance = contact_list_instance()
    path = big_csv(inbox_dir(settings, instance) / "130100" / "联系人名单.csv", ReadLimits().max_bytes + 1024)
    assert ingest_inbox(instance.key, "2025-03-20T10:00:00+08:00")["rejected"] == 1

    later = [ingest_inbox(instance.key, f"2025-03-2{day}T10:00:00+08:00") for day in (1, 4)]

    assert [(r["rejected"], r["too_large"]) for r in later] == [(0, [path.name]), (0, [path.name])]
    with session_scope(sweep_env) as session:
        assert session.scalar(select(func.count()).select_from(Decision)) == 1  # one answer
    path.unlink()
    a_contact_list(sweep_env, path.with_suffix(".xlsx"))  # the city sends a proper file

    result = ingest_inbox(instance.key, "2025-03-25T10:00:00+08:00")

    assert (result["accepted"], result["too_large"]) == (1, [])


def test_file_over_the_limit_is_never_read_into_memory(tmp_path: Path) -> None:
    path = big_csv(tmp_path / "big.csv", 3 * 1024 * 1024)
    limits = ReadLimits(max_bytes=1024 * 1024)

    tracemalloc.start()
    caught = rejected(lambda: read_contacts(path, limits=limits))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()

    assert [i.code for i in caught.issues] == [E.FILE_TOO_LARGE]
    assert "超过1MB的上限" in caught.issues[0].message
    assert peak < 1024 * 1024
