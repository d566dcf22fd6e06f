"""Build the corpus of malformed county submissions in ``tests/data/bad/``.

Run from the repository root after changing a case:

    PYTHONPATH=include:. .venv/bin/python tests/data/make_bad_corpus.py

Every case is a small file plus one line of ``EXPECTED.csv``: the dataset it
is submitted as, the error code intake must report and, where the problem is
in a cell or a header, the spreadsheet row and column header it must name.
Two cases are too big to commit (a 50 MB file and an xlsx zip bomb): they are
listed with ``source=generated`` and built at test time by
:func:`build_generated`.

The builders here (xlsx, csv, CFB containers, zip surgery) are also used by
the unit tests, so a case and its test cannot drift apart. Contact data in
the corpus is fictitious.
"""

from __future__ import annotations

import csv
import io
import re
import struct
import sys
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook

BAD_DIR = Path(__file__).resolve().parent / "bad"
EXPECTED_CSV = BAD_DIR / "EXPECTED.csv"
EXPECTED_FIELDS = (
    "file",
    "source",
    "dataset",
    "code",
    "row",
    "column",
    "submitted_name",
    "expected_period",
    "case",
)

# Region codes the corpus treats as existing (a few Hebei cities and counties).
KNOWN_REGIONS = frozenset({"130100", "130200", "130600", "130681", "131125", "131100", "131102", "131026"})
EXPECTED_YEAR = 2025

CONTACT_HEADERS = ("行政区划代码", "地区名称", "层级", "角色", "姓名", "职务", "办公电话", "手机", "电子邮箱")
CONTACT_ROWS: tuple[tuple[str, ...], ...] = (
    (
        "130100",
        "石家庄市",
        "市",
        "主管领导",
        "张三",
        "副局长",
        "0311-87803218",
        "13812345678",
        "zhangsan@example.gov.cn",
    ),
    (
        "130100",
        "石家庄市",
        "市",
        "责任处室负责同志",
        "李四",
        "处长",
        "0311-87803219",
        "13912345678",
        "lisi@example.gov.cn",
    ),
    (
        "131125",
        "安平县",
        "县",
        "主管领导",
        "王五",
        "副县长",
        "0318-7523001",
        "13712345678",
        "wangwu@example.gov.cn",
    ),
    (
        "131125",
        "安平县",
        "县",
        "责任处室负责同志",
        "赵六",
        "科长",
        "0318-7523002-8",
        "13612345678",
        "zhaoliu@example.gov.cn",
    ),
)
PROGRESS_HEADERS = (
    "行政区划代码",
    "产业集群名称",
    "年度",
    "报告期",
    "年度计划投资(万元)",
    "已完成投资(万元)",
    "集群营业收入(亿元)",
    "开工项目数(个)",
    "竣工项目数(个)",
    "进展情况",
)
PROGRESS_ROW = (
    "131125",
    "安平丝网产业集群",
    "2025",
    "上半年",
    "5,000",
    "2600",
    "86.5",
    "6",
    "2",
    "平台一期已上线。",
)

Rows = Sequence[Sequence[object]]


# Builders


def write_xlsx(
    path: Path,
    rows: Rows,
    *,
    sheet: str = "联系人名单",
    title: str | None = "河北省智慧集群建设试点——主管领导及责任处室负责同志名单",
    merges: Sequence[str] = (),
    extra_sheets: Sequence[tuple[str, Rows]] = (("填表说明", (("请按模板填写。",),)),),
) -> Path:
    """An .xlsx with an optional title row above ``rows`` (header first)."""
    workbook = Workbook()
    ws = workbook.active
    assert ws is not None
    ws.title = sheet
    if title is not None:
        ws.append([title])
    for row in rows:
        ws.append(list(row))
    for ref in merges:
        ws.merge_cells(ref)
    for name, extra_rows in extra_sheets:
        other = workbook.create_sheet(name)
        for row in extra_rows:
            other.append(list(row))
    path.parent.mkdir(parents=True, exist_ok=True)
    save_deterministic(workbook, path)
    return path


def save_deterministic(workbook: Workbook, path: Path) -> None:
    """Save with openpyxl, then fix the zip and document timestamps."""
    workbook.save(path)
    write_zip(path, zip_parts(path))


def write_csv(path: Path, rows: Rows, *, encoding: str = "utf-8", title: str | None = "联系人名单") -> Path:
    """A CSV in the given encoding (``utf-8-sig`` adds a BOM) with an optional title line."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    if title is not None:
        writer.writerow([title])
    writer.writerows([["" if v is None else str(v) for v in row] for row in rows])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path


def contact_rows(*changes: tuple[int, str, object]) -> list[list[object]]:
    """The valid contact list (header + 4 rows) with (data row index, header, value) changes."""
    rows = [list(CONTACT_HEADERS)] + [list(r) for r in CONTACT_ROWS]
    for index, header, value in changes:
        rows[index + 1][CONTACT_HEADERS.index(header)] = value
    return rows


def progress_rows(*changes: tuple[str, object]) -> list[list[object]]:
    """A valid one-row progress report with (header, value) changes."""
    row = list(PROGRESS_ROW)
    for header, value in changes:
        row[PROGRESS_HEADERS.index(header)] = value
    return [list(PROGRESS_HEADERS), row]


def cfb_container(streams: Sequence[tuple[str, bytes]]) -> bytes:
    """A minimal, well-formed OLE2/CFB (MS-CFB v3) file holding the given streams.

    Each stream is padded to 4096 bytes so it lives in regular sectors (no
    mini stream needed). With streams ``EncryptionInfo`` and
    ``EncryptedPackage`` this is exactly how Excel stores a workbook with an
    open password (MS-OFFCRYPTO 2.3.4); with ``Workbook`` it is a legacy .xls.
    """
    sector = 512
    end_of_chain, free, fat_sector, no_stream = 0xFFFFFFFE, 0xFFFFFFFF, 0xFFFFFFFD, 0xFFFFFFFF
    padded = [(name, data.ljust(4096, b"\0")[: max(4096, len(data))]) for name, data in streams]
    fat = [fat_sector, end_of_chain]  # sector 0: the FAT itself, sector 1: the directory
    starts = []
    for _, data in padded:
        count = len(data) // sector
        first = len(fat)
        starts.append(first)
        fat.extend(first + i + 1 for i in range(count - 1))
        fat.append(end_of_chain)
    assert len(fat) <= sector // 4, "one FAT sector is enough for the corpus"
    fat.extend([free] * (sector // 4 - len(fat)))

    def entry(name: str, kind: int, left: int, right: int, child: int, start: int, size: int) -> bytes:
        encoded = (name + "\0").encode("utf-16-le") if name else b""
        return struct.pack(
            "<64sHBBIII16sIQQIQ",
            encoded.ljust(64, b"\0"),
            len(encoded),
            kind,
            1,  # black
            left,
            right,
            child,
            b"\0" * 16,
            0,
            0,
            0,
            start,
            size,
        )

    entries = [entry("Root Entry", 5, no_stream, no_stream, 1 if padded else no_stream, end_of_chain, 0)]
    for index, ((name, data), start) in enumerate(zip(padded, starts, strict=True), start=1):
        right = index + 1 if index < len(padded) else no_stream
        entries.append(entry(name, 2, no_stream, right, no_stream, start, len(data)))
    while len(entries) % 4:
        entries.append(entry("", 0, no_stream, no_stream, no_stream, 0, 0))
    assert len(entries) == 4, "one directory sector is enough for the corpus"
    header = struct.pack(
        "<8s16sHHHHH6sIIIIIIIII",
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
        b"\0" * 16,
        0x003E,
        0x0003,
        0xFFFE,
        9,
        6,
        b"\0" * 6,
        0,  # directory sectors (0 for v3)
        1,  # FAT sectors
        1,  # first directory sector
        0,
        4096,  # mini stream cutoff
        end_of_chain,  # first mini FAT sector
        0,
        end_of_chain,  # first DIFAT sector
        0,
    )
    difat = struct.pack("<109I", 0, *([free] * 108))
    body = struct.pack(f"<{sector // 4}I", *fat) + b"".join(entries) + b"".join(d for _, d in padded)
    return header + difat + body


def zip_parts(path: Path) -> dict[str, bytes]:
    """The parts of a zip, in order."""
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


_FIXED_TIME = (2025, 1, 1, 0, 0, 0)
_STAMP = re.compile(rb"(<dcterms:(?:created|modified)[^>]*>)[^<]*(</dcterms:)")


def write_zip(path: Path, parts: dict[str, bytes]) -> Path:
    """A deflated zip of the parts with fixed timestamps, so the corpus rebuilds byte for byte."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            if name == "docProps/core.xml":
                data = _STAMP.sub(rb"\g<1>2025-01-01T00:00:00Z\g<2>", data)
            info = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return path


def understate_size(data: bytes, member: str, declared: int) -> bytes:
    """Rewrite both headers of one member to declare a smaller uncompressed size."""
    out = bytearray(data)
    encoded = member.encode()
    local = out.find(b"PK\x03\x04")
    while local != -1:
        name_len = struct.unpack_from("<H", out, local + 26)[0]
        if bytes(out[local + 30 : local + 30 + name_len]) == encoded:
            struct.pack_into("<I", out, local + 22, declared)
        local = out.find(b"PK\x03\x04", local + 4)
    central = out.find(b"PK\x01\x02")
    while central != -1:
        name_len = struct.unpack_from("<H", out, central + 28)[0]
        if bytes(out[central + 46 : central + 46 + name_len]) == encoded:
            struct.pack_into("<I", out, central + 24, declared)
        central = out.find(b"PK\x01\x02", central + 4)
    return bytes(out)


def damage_member(data: bytes, member: str) -> bytes:
    """Flip bytes in the middle of one member's compressed data (CRC or inflate fails)."""
    out = bytearray(data)
    encoded = member.encode()
    local = out.find(b"PK\x03\x04")
    while local != -1:
        name_len, extra_len = struct.unpack_from("<HH", out, local + 26)
        if bytes(out[local + 30 : local + 30 + name_len]) == encoded:
            size = struct.unpack_from("<I", out, local + 18)[0]
            start = local + 30 + name_len + extra_len
            for offset in range(size // 3, size // 3 + 8):
                out[start + offset] ^= 0x5A
            return bytes(out)
        local = out.find(b"PK\x03\x04", local + 4)
    raise KeyError(member)


def build_zip_bomb(path: Path, *, megabytes: int = 120) -> Path:
    """A valid-looking contact list whose worksheet inflates to ``megabytes`` MB of whitespace.

    Built at test time: the file is ~120 KB, its declared content 1000 times that.
    """
    source = write_xlsx(path.with_suffix(".src.xlsx"), contact_rows())
    parts = zip_parts(source)
    source.unlink()
    sheet = parts["xl/worksheets/sheet1.xml"]
    head, tail = sheet.split(b"</sheetData>", 1)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            if name != "xl/worksheets/sheet1.xml":
                archive.writestr(name, data)
                continue
            info = zipfile.ZipInfo(name)
            info.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(info, "w", force_zip64=True) as member:
                member.write(head)
                chunk = b" " * (1024 * 1024)
                for _ in range(megabytes):
                    member.write(chunk)
                member.write(b"</sheetData>" + tail)
    return path


def build_huge(path: Path, *, megabytes: int = 50) -> Path:
    """A ``megabytes`` MB file that starts like an xlsx (sparse: no real disk use)."""
    with path.open("wb") as fh:
        fh.write(b"PK\x03\x04")
        fh.truncate(megabytes * 1024 * 1024)
    return path


GENERATED: dict[str, Callable[[Path], Path]] = {
    "generated_zip_bomb.xlsx": build_zip_bomb,
    "generated_50mb.xlsx": build_huge,
}


def build_generated(name: str, folder: Path) -> Path:
    """Build one ``source=generated`` case into ``folder``."""
    return GENERATED[name](folder / name)


# The corpus


@dataclass(frozen=True)
class Case:
    file: str
    dataset: str
    code: str
    build: Callable[[Path], object] | None
    row: int | None = None
    column: str | None = None
    submitted_name: str = ""
    expected_period: str = ""
    case: str = ""
    source: str = "file"


def _bytes(data: bytes) -> Callable[[Path], object]:
    return lambda path: path.write_bytes(data)


def _valid_xlsx_bytes() -> bytes:
    buffer = io.BytesIO()
    tmp = Path(BAD_DIR / ".tmp_valid.xlsx")
    write_xlsx(tmp, contact_rows())
    buffer.write(tmp.read_bytes())
    tmp.unlink()
    return buffer.getvalue()


def _macro_workbook(path: Path) -> None:
    write_xlsx(path, contact_rows())
    parts = zip_parts(path)
    parts["xl/vbaProject.bin"] = b"\xd0\xcf\x11\xe0" + b"\0" * 508
    write_zip(path, parts)


def _docx(path: Path) -> None:
    document = "<w:document><w:body><w:p><w:t>联系人名单</w:t></w:p></w:body></w:document>"
    write_zip(
        path,
        {
            "[Content_Types].xml": b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
            b'package/2006/content-types"/>',
            "word/document.xml": document.encode(),
        },
    )


def _header_merged(path: Path) -> None:
    # Two-row header: "联系方式" merged over the three contact columns, the other
    # headers merged vertically, as many offices lay out their own forms.
    top = ["行政区划代码", "地区名称", "层级", "角色", "姓名", "职务", "联系方式", None, None]
    sub = [None, None, None, None, None, None, "办公电话", "手机", "电子邮箱"]
    rows = [top, sub] + [list(r) for r in CONTACT_ROWS]
    merges = [f"{c}2:{c}3" for c in "ABCDEF"] + ["G2:I2"]
    write_xlsx(path, rows, merges=merges)


def _far_cell(path: Path) -> None:
    write_xlsx(path, contact_rows())
    from openpyxl import load_workbook

    workbook = load_workbook(path)
    workbook["联系人名单"]["XFD1048576"] = "x"
    save_deterministic(workbook, path)


def _formula(cell: str, formula: str, rows: Rows | None = None) -> Callable[[Path], object]:
    def build(path: Path) -> None:
        write_xlsx(path, rows or contact_rows())
        from openpyxl import load_workbook

        workbook = load_workbook(path)
        workbook["联系人名单"][cell] = formula  # openpyxl stores "=..." as a real formula cell
        save_deterministic(workbook, path)

    return build


def _text_formula(cell: str, text: str) -> Callable[[Path], object]:
    def build(path: Path) -> None:
        write_xlsx(path, contact_rows())
        from openpyxl import load_workbook

        workbook = load_workbook(path)
        target = workbook["联系人名单"][cell]
        target.value = text
        target.data_type = "s"  # stored as text: Excel would still run it when re-typed or exported
        save_deterministic(workbook, path)

    return build


def _progress(path: Path, *changes: tuple[str, object], headers: Sequence[str] | None = None) -> None:
    rows = progress_rows(*changes)
    if headers is not None:
        rows[0] = list(headers)
    write_xlsx(path, rows, sheet="建设进展", title="河北省智慧集群建设试点——上半年试点建设进展情况")


PLAN_HEADERS = (
    "行政区划代码",
    "产业集群名称",
    "规划起始年份",
    "规划截止年份",
    "试点实施起始年份",
    "试点实施截止年份",
    "总体思路",
    "建设目标",
    "主要任务",
    "保障措施",
    "是否经县(市)政府批准",
    "批准日期",
    "批复文号",
    "计划总投资(万元)",
)
PLAN_ROW = (
    "131125",
    "安平丝网产业集群",
    "2025",
    "2029",
    "2025",
    "2027",
    "思路",
    "目标",
    "任务",
    "措施",
    "是",
    "2025年5月20日",
    "安政字〔2025〕18号",
    "12,500",
)
PROJECT_HEADERS = (
    "行政区划代码",
    "项目名称",
    "建设内容",
    "投资主体",
    "预期目标",
    "投资年度",
    "计划投资(万元)",
    "资金来源",
)


def _plan(path: Path, *changes: tuple[str, object], projects: Rows | None = None, encoding: str = "") -> None:
    row = list(PLAN_ROW)
    for header, value in changes:
        row[PLAN_HEADERS.index(header)] = value
    if encoding:
        write_csv(path, [list(PLAN_HEADERS), row], encoding=encoding, title="专项发展规划")
        return
    extra: list[tuple[str, Rows]] = []
    if projects is not None:
        extra.append(("项目清单", [list(PROJECT_HEADERS), *projects]))
    write_xlsx(
        path, [list(PLAN_HEADERS), row], sheet="专项发展规划", title="专项发展规划", extra_sheets=extra
    )


ANNUAL_HEADERS = (
    "行政区划代码",
    "集群名称",
    "年度",
    "集群面积(平方公里)",
    "集群产值(亿元)",
    "中小企业产值占比(%)",
    "主导产业产值占比(%)",
    "产值增长率(%)",
    "单项冠军和专精特新“小巨人”企业数(家)",
    "专精特新中小企业数(家)",
    "高新技术企业数(家)",
    "中小企业研发经费增长率(%)",
    "有效发明专利数(件)",
    "每万人有效发明专利拥有量(件)",
    "有效发明专利增长率(%)",
    "工业互联网平台普及率(%)",
    "近三年是否发生重大事故",
    "是否制定三年发展规划",
)
ANNUAL_ROW = (
    "131125",
    "安平丝网产业集群",
    "2025",
    "85.6",
    "120.3",
    "78%",
    "82%",
    "11.2%",
    "2",
    "15",
    "23",
    "10.5%",
    "460",
    "16.2",
    "15.4%",
    "18%",
    "否",
    "是",
)


def _annual(path: Path, *changes: tuple[str, object]) -> None:
    row = list(ANNUAL_ROW)
    for header, value in changes:
        row[ANNUAL_HEADERS.index(header)] = value
    write_xlsx(path, [list(ANNUAL_HEADERS), row], sheet="年度培育情况信息表", title="年度培育情况信息表")


def cases() -> list[Case]:
    """Every case of the corpus, in EXPECTED.csv order."""
    valid = _valid_xlsx_bytes()
    c = contact_rows
    return [
        # Encodings: each CSV decodes, then names the bad cell (row 1 is a title line).
        Case(
            "enc_utf8_bad_mobile.csv",
            "contact_list",
            "MOBILE_INVALID",
            lambda p: write_csv(p, c((0, "手机", "1381234567")), encoding="utf-8"),
            3,
            "手机",
            case="UTF-8 CSV",
        ),
        Case(
            "enc_utf8_bom_bad_email.csv",
            "contact_list",
            "EMAIL_INVALID",
            lambda p: write_csv(p, c((1, "电子邮箱", "lisi.@example.gov.cn")), encoding="utf-8-sig"),
            4,
            "电子邮箱",
            case="UTF-8 with BOM CSV",
        ),
        Case(
            "enc_gbk_bad_phone.csv",
            "contact_list",
            "PHONE_INVALID",
            lambda p: write_csv(p, c((2, "办公电话", "7523001")), encoding="gbk"),
            5,
            "办公电话",
            case="GBK CSV",
        ),
        Case(
            "enc_gb18030_bad_date.csv",
            "development_plan",
            "DATE_INVALID",
            lambda p: _plan(p, ("批准日期", "2025年2月30日"), encoding="gb18030"),
            3,
            "批准日期",
            case="GB18030 CSV",
        ),
        Case(
            "enc_utf16_tab_bad_choice.csv",
            "contact_list",
            "CHOICE_INVALID",
            lambda p: p.write_bytes(
                "\r\n".join("\t".join(map(str, r)) for r in c((0, "层级", "省"))).encode("utf-16")
            ),
            2,
            "层级",
            case="UTF-16 tab-separated (Excel Unicode text)",
        ),
        Case(
            "enc_undetectable.csv",
            "contact_list",
            "ENCODING_UNDETECTED",
            _bytes("行政区划代码,地区名称\r\n130100,石家庄".encode("gbk") + b"\x80\xff\xfe"),
            case="bytes that are neither UTF-8 nor GB18030",
        ),
        # Sheet, header and columns.
        Case(
            "header_merged.xlsx",
            "contact_list",
            "HEADER_MERGED",
            _header_merged,
            2,
            case="merged header cells",
        ),
        Case(
            "sheet_wrong_name.xlsx",
            "contact_list",
            "SHEET_MISSING",
            lambda p: write_xlsx(p, [["说明"], ["本表为空"]], sheet="Sheet1"),
            case="data sheet renamed",
        ),
        Case(
            "sheet_empty.xlsx",
            "contact_list",
            "SHEET_EMPTY",
            lambda p: write_xlsx(p, [], title=None),
            case="empty data sheet",
        ),
        Case(
            "header_only.xlsx",
            "contact_list",
            "NO_DATA_ROWS",
            lambda p: write_xlsx(p, [list(CONTACT_HEADERS)]),
            2,
            case="header only",
        ),
        Case(
            "header_not_found.xlsx",
            "contact_list",
            "HEADER_NOT_FOUND",
            lambda p: write_xlsx(p, [["序号", "单位", "金额"], ["1", "某局", "100"]]),
            case="no template header",
        ),
        Case(
            "column_missing.xlsx",
            "contact_list",
            "COLUMN_MISSING",
            lambda p: write_xlsx(p, [r[:-1] for r in c()]),
            2,
            "电子邮箱",
            case="missing column",
        ),
        Case(
            "column_extra.xlsx",
            "contact_list",
            "COLUMN_UNEXPECTED",
            lambda p: write_xlsx(p, [[*r[:-1], "备注" if i == 0 else "", r[-1]] for i, r in enumerate(c())]),
            2,
            case="column inserted among the template's",
        ),
        Case(
            "column_renamed.xlsx",
            "contact_list",
            "COLUMN_RENAMED",
            lambda p: write_xlsx(p, [["手机号码" if v == "手机" else v for v in r] for r in c()]),
            2,
            "手机",
            case="renamed column",
        ),
        Case(
            "column_unit_changed.xlsx",
            "progress_report",
            "COLUMN_RENAMED",
            lambda p: _progress(
                p,
                headers=[
                    h.replace("(万元)", "(元)") if h.startswith("年度计划") else h for h in PROGRESS_HEADERS
                ],
            ),
            2,
            "年度计划投资(万元)",
            case="unit of a column changed",
        ),
        Case(
            "column_duplicate.xlsx",
            "contact_list",
            "COLUMN_DUPLICATE",
            lambda p: write_xlsx(p, [[*r, r[4]] for r in c()]),
            2,
            "姓名",
            case="duplicated column",
        ),
        Case(
            "obligation_wrong.xlsx",
            "contact_list",
            "OBLIGATION_MISMATCH",
            lambda p: _progress(p),
            case="progress report sent as contact list",
        ),
        Case(
            "period_wrong.xlsx",
            "progress_report",
            "OBLIGATION_MISMATCH",
            lambda p: _progress(p, ("报告期", "全年")),
            3,
            "报告期",
            expected_period="上半年",
            case="full-year report sent for the half-year obligation",
        ),
        # Values.
        Case(
            "year_wrong.xlsx",
            "progress_report",
            "YEAR_MISMATCH",
            lambda p: _progress(p, ("年度", "2024")),
            3,
            "年度",
            case="wrong year",
        ),
        Case(
            "region_unknown.xlsx",
            "contact_list",
            "REGION_UNKNOWN",
            lambda p: write_xlsx(p, c((2, "行政区划代码", "139999"), (3, "行政区划代码", "139999"))),
            5,
            "行政区划代码",
            case="well-formed but unknown region code",
        ),
        Case(
            "region_code_malformed.xlsx",
            "contact_list",
            "CODE_INVALID",
            lambda p: write_xlsx(p, c((0, "行政区划代码", "13010"))),
            3,
            "行政区划代码",
            case="5-digit region code",
        ),
        Case(
            "rows_duplicate.xlsx",
            "contact_list",
            "ROW_DUPLICATE",
            lambda p: write_xlsx(p, [*c(), list(CONTACT_ROWS[0])]),
            7,
            case="duplicate rows",
        ),
        Case(
            "date_invalid.xlsx",
            "development_plan",
            "DATE_INVALID",
            lambda p: _plan(p, ("批准日期", "2025/13/01")),
            3,
            "批准日期",
            case="bad date",
        ),
        Case(
            "percent_invalid.xlsx",
            "annual_info_table",
            "PERCENT_INVALID",
            lambda p: _annual(p, ("中小企业产值占比(%)", "七成")),
            3,
            "中小企业产值占比(%)",
            case="bad percent",
        ),
        Case(
            "percent_over_100.xlsx",
            "annual_info_table",
            "PERCENT_OUT_OF_RANGE",
            lambda p: _annual(p, ("工业互联网平台普及率(%)", "120%")),
            3,
            "工业互联网平台普及率(%)",
            case="percent above 100",
        ),
        Case(
            "number_with_unit.xlsx",
            "progress_report",
            "NUMBER_INVALID",
            lambda p: _progress(p, ("已完成投资(万元)", "0.26亿元")),
            3,
            "已完成投资(万元)",
            case="another unit than the header's typed in a number",
        ),
        Case(
            "count_fraction.xlsx",
            "progress_report",
            "INTEGER_INVALID",
            lambda p: _progress(p, ("开工项目数(个)", "2.5")),
            3,
            "开工项目数(个)",
            case="fractional count",
        ),
        Case(
            "phone_mobile_in_office.xlsx",
            "contact_list",
            "PHONE_INVALID",
            lambda p: write_xlsx(p, c((3, "办公电话", "13612345678"))),
            6,
            "办公电话",
            case="mobile as office phone",
        ),
        Case(
            "mobile_too_short.xlsx",
            "contact_list",
            "MOBILE_INVALID",
            lambda p: write_xlsx(p, c((1, "手机", "139 1234 567"))),
            4,
            "手机",
            case="short mobile",
        ),
        Case(
            "email_no_at.xlsx",
            "contact_list",
            "EMAIL_INVALID",
            lambda p: write_xlsx(p, c((2, "电子邮箱", "wangwu.example.gov.cn"))),
            5,
            "电子邮箱",
            case="e-mail without @",
        ),
        Case(
            "choice_invalid.xlsx",
            "contact_list",
            "CHOICE_INVALID",
            lambda p: write_xlsx(p, c((1, "角色", "联络员"))),
            4,
            "角色",
            case="value not in drop-down",
        ),
        Case(
            "required_missing.xlsx",
            "contact_list",
            "VALUE_REQUIRED",
            lambda p: write_xlsx(p, c((2, "姓名", None))),
            5,
            "姓名",
            case="required value blank",
        ),
        Case(
            "plan_period_reversed.xlsx",
            "development_plan",
            "VALUE_INCONSISTENT",
            lambda p: _plan(p, ("规划截止年份", "2024")),
            3,
            "规划截止年份",
            case="plan ends before it starts (its horizon is not limited)",
        ),
        Case(
            "projects_total_mismatch.xlsx",
            "plan_projects",
            "TOTAL_MISMATCH",
            lambda p: _plan(
                p,
                projects=[
                    ["131125", "平台建设", "云平台", "某公司", "服务200家", "2025", "800", "自筹"],
                    ["131125", "设备改造", "数控设备", "某公司", "效率提升", "2025", "1,200", "自筹"],
                    ["合计", None, None, None, None, None, "2500", None],
                ],
            ),
            4,
            "计划投资(万元)",
            case="合计 row does not add up",
        ),
        # Formulas.
        Case(
            "formula_arithmetic.xlsx",
            "contact_list",
            "FORMULA_NOT_ALLOWED",
            _formula("A4", "=130000+100"),
            4,
            "行政区划代码",
            case="=1+1 style formula",
        ),
        Case(
            "formula_hyperlink.xlsx",
            "contact_list",
            "FORMULA_NOT_ALLOWED",
            _formula("I3", '=HYPERLINK("http://example.com/x","zhangsan@example.gov.cn")'),
            3,
            "电子邮箱",
            case="=HYPERLINK formula",
        ),
        Case(
            "formula_dde_plus.csv",
            "contact_list",
            "FORMULA_NOT_ALLOWED",
            lambda p: write_csv(p, c((0, "职务", "+cmd|' /C calc'!A0"))),
            3,
            "职务",
            case="+ DDE payload in CSV",
        ),
        Case(
            "formula_at_sum.csv",
            "contact_list",
            "FORMULA_NOT_ALLOWED",
            lambda p: write_csv(p, c((1, "姓名", "@SUM(1+9)*cmd|' /C calc'!A0"))),
            4,
            "姓名",
            case="@ formula in CSV",
        ),
        Case(
            "formula_minus_text.xlsx",
            "contact_list",
            "FORMULA_NOT_ALLOWED",
            _text_formula("F5", "-2+3+cmd|' /C calc'!A0"),
            5,
            "职务",
            case="- formula stored as text",
        ),
        # Broken and hostile files.
        Case("empty_0_bytes.xlsx", "contact_list", "FILE_EMPTY", _bytes(b""), case="0-byte file"),
        Case(
            "encrypted_password.xlsx",
            "contact_list",
            "FILE_ENCRYPTED",
            _bytes(
                cfb_container(
                    [
                        ("EncryptionInfo", b"\x04\x00\x04\x00\x40\x00\x00\x00"),
                        ("EncryptedPackage", b"\x10\x00" * 64),
                    ]
                )
            ),
            case="password-protected workbook",
        ),
        Case(
            "legacy_binary.xls",
            "contact_list",
            "FILE_CORRUPT",
            _bytes(cfb_container([("Workbook", b"\x09\x08\x10\x00")])),
            case="legacy .xls whose workbook stream is cut off",
        ),
        Case(
            "pdf_renamed.xlsx",
            "contact_list",
            "FILE_NOT_SPREADSHEET",
            _bytes(b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"),
            case="PDF renamed .xlsx",
        ),
        Case(
            "word_renamed.xlsx",
            "contact_list",
            "FILE_NOT_SPREADSHEET",
            _docx,
            case="Word document renamed .xlsx",
        ),
        Case(
            "html_export.xls",
            "contact_list",
            "FILE_NOT_SPREADSHEET",
            _bytes("<html><body><table><tr><td>行政区划代码</td></tr></table></body></html>".encode()),
            case="web page saved as .xls",
        ),
        Case(
            "truncated.xlsx",
            "contact_list",
            "FILE_TRUNCATED",
            _bytes(valid[: len(valid) // 2]),
            case="upload cut in half",
        ),
        Case(
            "corrupt_member.xlsx",
            "contact_list",
            "FILE_CORRUPT",
            _bytes(damage_member(valid, "xl/worksheets/sheet1.xml")),
            case="damaged worksheet data",
        ),
        Case(
            "zip_size_lie.xlsx",
            "contact_list",
            "FILE_CORRUPT",
            _bytes(understate_size(valid, "xl/worksheets/sheet1.xml", 64)),
            case="zip header understates the inflated size",
        ),
        Case(
            "macro_workbook.xlsx",
            "contact_list",
            "FILE_HAS_MACROS",
            _macro_workbook,
            case="workbook with VBA",
        ),
        Case(
            "far_away_cell.xlsx",
            "contact_list",
            "SHEET_TOO_LARGE",
            _far_cell,
            case="a cell in XFD1048576 (would make calamine allocate 17 billion cells)",
        ),
        # Files that are what they are, not what their extension says.
        Case(
            "csv_named_xlsx.xlsx",
            "contact_list",
            "MOBILE_INVALID",
            lambda p: write_csv(p, c((3, "手机", "2361234567")), encoding="utf-8-sig"),
            6,
            "手机",
            case="a CSV named .xlsx is read as CSV",
        ),
        Case(
            "xlsx_named_csv.csv",
            "contact_list",
            "EMAIL_INVALID",
            lambda p: write_xlsx(p, c((0, "电子邮箱", "zhangsan@"))),
            3,
            "电子邮箱",
            case="an xlsx named .csv is read as xlsx",
        ),
        # Unsafe names (the bytes are a valid contact list).
        Case(
            "name_traversal.xlsx",
            "contact_list",
            "FILE_NAME_UNSAFE",
            _bytes(valid),
            submitted_name="../../etc/cron.d/联系人名单.xlsx",
            case="path traversal",
        ),
        Case(
            "name_windows_traversal.xlsx",
            "contact_list",
            "FILE_NAME_UNSAFE",
            _bytes(valid),
            submitted_name="..\\..\\Windows\\联系人名单.xlsx",
            case="Windows path traversal",
        ),
        Case(
            "name_absolute.xlsx",
            "contact_list",
            "FILE_NAME_UNSAFE",
            _bytes(valid),
            submitted_name="/var/lib/review/联系人名单.xlsx",
            case="absolute path",
        ),
        Case(
            "name_control_chars.xlsx",
            "contact_list",
            "FILE_NAME_UNSAFE",
            _bytes(valid),
            submitted_name="联系人名单\t.xlsx",
            case="control character (tab) in name",
        ),
        Case(
            "name_reserved.xlsx",
            "contact_list",
            "FILE_NAME_UNSAFE",
            _bytes(valid),
            submitted_name="CON.xlsx",
            case="Windows reserved device name",
        ),
        # Too big to commit: built at test time.
        Case(
            "generated_zip_bomb.xlsx",
            "contact_list",
            "FILE_ZIP_BOMB",
            None,
            source="generated",
            case="xlsx zip bomb (120 MB inflated)",
        ),
        Case(
            "generated_50mb.xlsx",
            "contact_list",
            "FILE_TOO_LARGE",
            None,
            source="generated",
            case="50 MB file",
        ),
    ]


def main(argv: Sequence[str] = ()) -> int:
    """Rebuild ``tests/data/bad/`` and its ``EXPECTED.csv``."""
    BAD_DIR.mkdir(parents=True, exist_ok=True)
    for old in BAD_DIR.iterdir():
        if old.is_file():
            old.unlink()
    all_cases = cases()
    for case in all_cases:
        if case.build is not None:
            case.build(BAD_DIR / case.file)
    with EXPECTED_CSV.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(EXPECTED_FIELDS)
        for case in all_cases:
            writer.writerow(
                [
                    case.file,
                    case.source,
                    case.dataset,
                    case.code,
                    "" if case.row is None else case.row,
                    case.column or "",
                    case.submitted_name,
                    case.expected_period,
                    case.case,
                ]
            )
    sys.stdout.write(f"wrote {len(all_cases)} cases to {BAD_DIR}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
