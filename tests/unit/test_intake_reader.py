"""read_table on real files: formats, encodings, headers, row numbers, hostile input."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import random
from typing import TYPE_CHECKING

import pytest
from openpyxl import load_workbook

from review_calendar.intake import (
    IntakeRejected,
    ReadLimits,
    RowContext,
    check_file_name,
    read_submission,
    read_table,
    safe_file_name,
)
from review_calendar.intake import issues as E
from review_calendar.intake.reader import read_file
from review_calendar.intake.templates import template_datasets
from tests.unit.intake_cases import (
    CONTACT_HEADERS,
    CONTACT_ROWS,
    KNOWN_REGIONS,
    contact_rows,
    fill_template,
    progress_rows,
    read_contacts,
    rejected,
    write_csv,
    write_xlsx,
)

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.unit


def test_xlsx_rows_keep_the_officials_row_numbers(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "名单.xlsx", contact_rows())

    table = read_contacts(path)

    assert (table.header_row, [number for number, _ in table.rows]) == (2, [3, 4, 5, 6])


def test_xlsx_cells_are_read_under_their_headers(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "名单.xlsx", contact_rows())

    table = read_contacts(path)

    assert table.rows[0][1] == dict(zip(CONTACT_HEADERS, CONTACT_ROWS[0], strict=True))


def test_blank_rows_are_skipped_without_renumbering(tmp_path: Path) -> None:
    rows = contact_rows()
    rows.insert(2, [None] * len(CONTACT_HEADERS))
    path = write_xlsx(tmp_path / "名单.xlsx", rows)

    table = read_contacts(path)

    assert [number for number, _ in table.rows] == [3, 5, 6, 7]


@pytest.mark.parametrize(
    "encoding",
    [
        pytest.param("utf-8", id="utf-8"),
        pytest.param("utf-8-sig", id="utf-8-bom"),
        pytest.param("gbk", id="gbk"),
        pytest.param("gb18030", id="gb18030"),
    ],
)
def test_csv_encodings_are_detected_from_the_bytes(tmp_path: Path, encoding: str) -> None:
    # 䶮 (CJK extension A) exists in GB18030 but not in GBK: it tells the two apart.
    name = "王䶮" if encoding != "gbk" else "王岩"
    path = write_csv(tmp_path / "名单.csv", contact_rows((3, "姓名", name)), encoding=encoding)

    table = read_contacts(path)

    assert (table.format, table.encoding, table.rows[3][1]["姓名"]) == ("csv", encoding, name)


def test_csv_keeps_spreadsheet_row_numbers(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "名单.csv", contact_rows(), encoding="gbk")

    table = read_contacts(path)

    assert [number for number, _ in table.rows] == [3, 4, 5, 6]


def test_excel_unicode_text_export_is_read(tmp_path: Path) -> None:
    text = "\r\n".join("\t".join(row) for row in contact_rows())  # type: ignore[arg-type]
    path = tmp_path / "名单.txt"
    path.write_bytes(text.encode("utf-16"))

    table = read_contacts(path)

    assert (table.encoding, len(table.rows)) == ("utf-16", 4)


def test_csv_named_xlsx_is_read_as_csv(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "名单.xlsx", contact_rows(), encoding="gbk")

    table = read_contacts(path)

    assert (table.format, table.encoding) == ("csv", "gbk")


def test_xlsx_named_csv_is_read_as_xlsx(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "名单.csv", contact_rows())

    table = read_contacts(path)

    assert (table.format, table.sheet) == ("xlsx", "联系人名单")


def test_header_is_found_below_title_and_unit_rows(tmp_path: Path) -> None:
    rows = [["填报单位（盖章）：石家庄市工业和信息化局"], [], *contact_rows()]
    path = write_xlsx(tmp_path / "名单.xlsx", rows)

    table = read_contacts(path)

    assert (table.header_row, table.rows[0][0]) == (4, 5)


def test_header_spellings_are_normalised(tmp_path: Path) -> None:
    rows = contact_rows()
    rows[0] = [
        "行政区划代码*",
        "地区\n名称",
        "层 级",
        "角色＊",
        "*姓名",
        "职务",
        "办公电话",
        "手机",
        "电子邮箱",
    ]
    path = write_xlsx(tmp_path / "名单.xlsx", rows)

    table = read_contacts(path)

    assert table.columns == CONTACT_HEADERS


def test_columns_in_another_order_are_read_by_header(tmp_path: Path) -> None:
    rows = [list(reversed(r)) for r in contact_rows()]
    path = write_xlsx(tmp_path / "名单.xlsx", rows)

    table = read_contacts(path)

    assert table.rows[0][1]["手机"] == "13812345678"


def test_without_a_sheet_name_the_instruction_sheet_is_skipped(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "名单.xlsx", contact_rows(), sheet="Sheet1")
    workbook = load_workbook(path)
    workbook.move_sheet("填表说明", offset=-1)
    workbook.save(path)

    table = read_table(path, sheet=None, expected_columns=CONTACT_HEADERS)

    assert table.sheet == "Sheet1"


def test_sheet_name_matches_despite_stray_spaces(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "名单.xlsx", contact_rows(), sheet="联系人名单 ")

    table = read_contacts(path)

    assert table.sheet == "联系人名单 "


def test_table_pasted_into_a_new_workbook_is_read_under_its_own_sheet_name(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "名单.xlsx", contact_rows(), sheet="Sheet1")

    table = read_contacts(path)

    assert table.sheet == "Sheet1"
    assert table.issues == ()


def test_excel_typed_values_become_plain_text(tmp_path: Path) -> None:
    rows = [
        ["代码", "日期", "比例", "数量", "金额", "布尔"],
        [130100, dt.date(2025, 3, 31), 0.75, 12, 1234.5, True],
    ]
    path = write_xlsx(tmp_path / "x.xlsx", rows, sheet="数据")

    table = read_table(path, sheet="数据", expected_columns=rows[0])  # type: ignore[arg-type]

    assert table.rows[0][1] == {
        "代码": "130100",
        "日期": "2025-03-31",
        "比例": "0.75",
        "数量": "12",
        "金额": "1234.5",
        "布尔": "TRUE",
    }


def test_vertically_merged_data_cells_apply_to_every_row(tmp_path: Path) -> None:
    rows = contact_rows((1, "行政区划代码", None), (1, "地区名称", None))
    path = write_xlsx(tmp_path / "名单.xlsx", rows, merges=["A3:A4", "B3:B4"])

    table = read_contacts(path)

    assert [(r["行政区划代码"], r["地区名称"]) for _, r in table.rows[:2]] == [("130100", "石家庄市")] * 2


def test_footer_lines_under_the_table_are_not_data(tmp_path: Path) -> None:
    rows = [*contact_rows(), ["填表人：张三    联系电话：0311-87803218"], ["注：本表由市局汇总报送。"]]
    path = write_xlsx(tmp_path / "名单.xlsx", rows)

    table = read_contacts(path)

    assert [number for number, _ in table.rows] == [3, 4, 5, 6]


def test_formula_cell_is_reported_and_its_value_dropped(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "名单.xlsx", contact_rows())
    workbook = load_workbook(path)
    workbook["联系人名单"]["H3"] = '=HYPERLINK("http://example.com","13812345678")'
    workbook.save(path)

    table = read_contacts(path)

    assert [(i.code, i.row, i.column) for i in table.issues] == [(E.FORMULA_NOT_ALLOWED, 3, "手机")]
    assert table.rows[0][1]["手机"] is None


def test_formula_outside_the_table_is_reported_with_its_cell(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "名单.xlsx", contact_rows())
    workbook = load_workbook(path)
    workbook["联系人名单"]["K4"] = "=1+1"
    workbook.save(path)

    table = read_contacts(path)

    assert [(i.code, i.row, i.value) for i in table.issues] == [(E.FORMULA_NOT_ALLOWED, 4, "=1+1")]
    assert "K列" in table.issues[0].message


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param("=1+1", id="equals"),
        pytest.param("@SUM(1,2)", id="at"),
        pytest.param("+cmd|' /C calc'!A0", id="plus-dde"),
        pytest.param("-1+cmd|' /C calc'!A0", id="minus-dde"),
    ],
)
def test_formula_text_in_csv_is_reported(tmp_path: Path, payload: str) -> None:
    path = write_csv(tmp_path / "名单.csv", contact_rows((0, "职务", payload)))

    table = read_contacts(path)

    assert [(i.code, i.row, i.column, i.value) for i in table.issues] == [
        (E.FORMULA_NOT_ALLOWED, 3, "职务", payload)
    ]


def test_identity_of_the_bytes_is_returned(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "名单.xlsx", contact_rows())

    table = read_contacts(path)

    assert (table.sha256, table.size) == (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_size)


def test_rejection_carries_the_hash_of_bytes_it_read(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "名单.xlsx", [list(CONTACT_HEADERS)])

    error = rejected(lambda: read_contacts(path))

    assert error.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()


def test_size_limit_is_checked_before_reading(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "名单.xlsx", contact_rows())

    error = rejected(lambda: read_contacts(path, limits=ReadLimits(max_bytes=1000)))

    assert ([i.code for i in error.issues], error.sha256) == ([E.FILE_TOO_LARGE], None)


def test_compression_ratio_limit_applies_to_declared_sizes(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "名单.xlsx", contact_rows())

    error = rejected(
        lambda: read_contacts(path, limits=ReadLimits(max_compression_ratio=1.5, ratio_min_bytes=0))
    )

    assert [i.code for i in error.issues] == [E.FILE_ZIP_BOMB]


def test_total_uncompressed_limit(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "名单.xlsx", contact_rows())

    error = rejected(lambda: read_contacts(path, limits=ReadLimits(max_uncompressed_bytes=1000)))

    assert [i.code for i in error.issues] == [E.FILE_ZIP_BOMB]


@pytest.mark.parametrize("writer", [pytest.param(write_xlsx, id="xlsx"), pytest.param(write_csv, id="csv")])
def test_row_limit(tmp_path: Path, writer: object) -> None:
    path = writer(tmp_path / "名单", contact_rows())  # type: ignore[operator]

    error = rejected(lambda: read_contacts(path, limits=ReadLimits(max_rows=3)))

    assert [i.code for i in error.issues] == [E.SHEET_TOO_LARGE]


def test_missing_file_is_unreadable(tmp_path: Path) -> None:
    error = rejected(lambda: read_contacts(tmp_path / "不存在.xlsx"))

    assert [i.code for i in error.issues] == [E.FILE_UNREADABLE]


def test_directory_is_unreadable(tmp_path: Path) -> None:
    error = rejected(lambda: read_contacts(tmp_path))

    assert [i.code for i in error.issues] == [E.FILE_UNREADABLE]


def test_whitespace_only_csv_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "名单.csv"
    path.write_bytes(b"\xef\xbb\xbf\r\n,,,\r\n")

    error = rejected(lambda: read_contacts(path))

    assert [i.code for i in error.issues] == [E.FILE_EMPTY]


def test_unterminated_quote_in_csv_is_a_row_problem_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "名单.csv"
    path.write_bytes(
        b"\xef\xbb\xbf" + ",".join(CONTACT_HEADERS).encode() + b'\r\n"130100,' + "石家庄市,市\r\n".encode()
    )

    error = rejected(lambda: read_submission(path, "contact_list"))

    assert {(i.code, i.row) for i in error.issues} >= {(E.CODE_INVALID, 2), (E.VALUE_REQUIRED, 2)}


def test_binary_bytes_are_not_a_spreadsheet(tmp_path: Path) -> None:
    path = tmp_path / "名单.csv"
    path.write_bytes(",".join(CONTACT_HEADERS).encode() + b"\r\n\x00\x01\x02\x00")

    error = rejected(lambda: read_contacts(path))

    assert [i.code for i in error.issues] == [E.FILE_NOT_SPREADSHEET]


def test_unsafe_name_on_disk_is_rejected_with_a_safe_label(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "名单\t.xlsx", contact_rows())

    error = rejected(lambda: read_contacts(path))

    assert [(i.code, i.file) for i in error.issues] == [(E.FILE_NAME_UNSAFE, "名单.xlsx")]


def test_issues_name_the_file_by_its_safe_submitted_name(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "upload-1.xlsx", [list(CONTACT_HEADERS)])

    error = rejected(lambda: read_contacts(path, name="石家庄市名单.xlsx"))

    assert error.issues[0].file == "石家庄市名单.xlsx"


def test_other_template_in_csv_is_an_obligation_mismatch(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "进展.csv", progress_rows())
    layouts = {"建设进展情况": progress_rows()[0]}

    error = rejected(lambda: read_contacts(path, other_layouts=layouts))

    assert [(i.code, i.value) for i in error.issues] == [(E.OBLIGATION_MISMATCH, "建设进展情况")]


def test_rejection_text_carries_codes_not_cell_values(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "名单.csv", contact_rows((0, "手机", "1381234567")))

    error = rejected(lambda: read_submission(path, "contact_list"))

    assert "1381234567" not in str(error)
    assert E.MOBILE_INVALID in str(error)


def test_contact_data_never_reaches_the_log(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = write_csv(
        tmp_path / "名单.csv", contact_rows((0, "手机", "1381234567"), (1, "办公电话", "87803219"))
    )
    caplog.set_level(logging.DEBUG, logger="review_calendar")

    rejected(
        lambda: read_submission(path, "contact_list", context=RowContext(known_region_codes=KNOWN_REGIONS))
    )

    assert caplog.records, "intake logs its outcome"
    for secret in ("1381234567", "87803219", "13912345678", "zhangsan@example.gov.cn", "张三"):
        assert secret not in caplog.text


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        pytest.param("../../etc/passwd.xlsx", "..", id="traversal"),
        pytest.param("..\\..\\Windows\\win.xlsx", "..", id="windows-traversal"),
        pytest.param("/etc/passwd.xlsx", "绝对路径", id="absolute"),
        pytest.param("C:\\Users\\a.xlsx", "绝对路径", id="drive-letter"),
        pytest.param("sub/名单.xlsx", "目录分隔符", id="sub-folder"),
        pytest.param("名单\x00.xlsx", "控制字符", id="nul"),
        pytest.param("名单\n.xlsx", "控制字符", id="newline"),
        pytest.param("名单\u202eslx.exe", "不可见字符", id="right-to-left-override"),
        pytest.param("CON.xlsx", "保留名称", id="reserved-device"),
        pytest.param("名" * 100 + ".xlsx", "过长", id="too-long"),
        pytest.param("", "为空", id="empty"),
    ],
)
def test_check_file_name_explains_unsafe_names(name: str, reason: str) -> None:
    assert any(reason in r for r in check_file_name(name))


@pytest.mark.parametrize(
    "name",
    [
        pytest.param("石家庄市联系人名单（2025）.xlsx", id="chinese"),
        pytest.param("a b-c_d.v2.csv", id="ascii"),
    ],
)
def test_check_file_name_accepts_ordinary_names(name: str) -> None:
    assert check_file_name(name) == []


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        pytest.param("../../etc/passwd.xlsx", "passwd.xlsx", id="traversal"),
        pytest.param("..\\..\\Windows\\名单.xlsx", "名单.xlsx", id="windows-traversal"),
        pytest.param("名单\x00\t.xlsx", "名单.xlsx", id="control-characters"),
        pytest.param("名单\u202eslx.exe", "名单slx.exe", id="bidi-override"),
        pytest.param('a<b>:"c"|?*.xlsx', "a_b___c____.xlsx", id="windows-forbidden"),
        pytest.param(".hidden.xlsx", "hidden.xlsx", id="leading-dot"),
        pytest.param("名单.xlsx. ", "名单.xlsx", id="trailing-dot-space"),
        pytest.param("CON.xlsx", "_CON.xlsx", id="reserved"),
        pytest.param("..", "unnamed", id="only-dots"),
        pytest.param("", "unnamed", id="empty"),
    ],
)
def test_safe_file_name(name: str, expected: str) -> None:
    assert safe_file_name(name) == expected


def test_safe_file_name_shortens_to_255_bytes_keeping_the_extension() -> None:
    safe = safe_file_name("名" * 200 + ".xlsx")

    assert (len(safe.encode()) <= 255, safe.endswith(".xlsx")) == (True, True)


def test_damaged_bytes_never_escape_as_other_exceptions(tmp_path: Path) -> None:
    # Arrange: 60 random corruptions of a valid workbook (seeded, so reproducible).
    original = write_xlsx(tmp_path / "名单.xlsx", contact_rows()).read_bytes()
    rng = random.Random(20250331)
    outcomes: set[str] = set()
    for attempt in range(60):
        data = bytearray(original)
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        if attempt % 5 == 0:
            data = data[: rng.randrange(1, len(data))]
        path = tmp_path / f"damaged-{attempt}.xlsx"
        path.write_bytes(bytes(data))
        # Act
        try:
            read_contacts(path)
            outcomes.add("read")
        except IntakeRejected as error:
            outcomes.update(i.code for i in error.issues)
    # Assert: only intake's own outcomes (any other exception fails the test above).
    assert outcomes <= {"read", *E.CODES}


@pytest.mark.parametrize(
    "head",
    [
        pytest.param(b"", id="no-magic"),
        pytest.param(b"PK\x03\x04", id="zip-magic"),
        pytest.param(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", id="cfb-magic"),
        pytest.param("行政区划代码,".encode(), id="csv-start"),
        pytest.param(b"\xff\xfe", id="utf-16-bom"),
    ],
)
def test_random_bytes_are_rejected_not_crashed(tmp_path: Path, head: bytes) -> None:
    rng = random.Random(head)
    codes: set[str] = set()
    for attempt in range(20):
        path = tmp_path / f"random-{attempt}.xlsx"
        path.write_bytes(head + rng.randbytes(rng.randrange(1, 4096)))

        try:
            read_contacts(path)
        except IntakeRejected as error:
            codes.update(i.code for i in error.issues)

    assert codes and codes <= set(E.CODES)


# the bytes, read once


def test_read_file_returns_the_bytes_with_their_hash(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "名单.xlsx", contact_rows())

    content = read_file(path)

    assert (content.data, content.sha256, content.size) == (
        path.read_bytes(),
        hashlib.sha256(path.read_bytes()).hexdigest(),
        path.stat().st_size,
    )


def test_read_file_does_not_read_a_file_over_the_limit(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "名单.xlsx", contact_rows())

    content = read_file(path, ReadLimits(max_bytes=1000))

    assert (content.data, content.sha256, content.size) == (None, None, path.stat().st_size)


def test_table_is_read_from_bytes_already_read(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "名单.xlsx", contact_rows())
    content = read_file(path)
    path.unlink()

    table = read_contacts(path, content=content)

    assert (len(table.rows), table.sha256) == (4, content.sha256)


def test_every_dataset_of_a_template_is_read_from_the_same_bytes(tmp_path: Path) -> None:
    path = fill_template("development_plan", tmp_path / "规划.xlsx")
    content = read_file(path)
    path.unlink()

    submissions = [read_submission(path, d, content=content) for d in template_datasets("development_plan")]

    assert [(s.dataset_id, len(s.records)) for s in submissions] == [
        ("development_plan", 1),
        ("plan_projects", 1),
    ]
