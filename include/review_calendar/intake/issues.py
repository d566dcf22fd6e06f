"""What intake reports about a submission: typed issues with stable codes.

Every problem found in a county's file becomes an :class:`IntakeIssue`: where
it is (file, sheet, 1-based spreadsheet row, column header), what the official
typed, a stable machine code and a message in plain Simplified Chinese that
says what to fix. Storage keeps the issues of a rejected file next to the
quarantined file; the CLI prints them as JSON (``ingest --json``); the codes
are the contract with the database and the tests, so they never change
meaning.

Issues are made with :func:`issue` or an :class:`IssueFactory` bound to one
file and sheet, never by position. The readers raise :class:`FileProblem`
for a problem of the whole file before its display name is settled;
:meth:`FileProblem.to_issue` names the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from collections.abc import Sequence

Severity = Literal["error", "warning"]

# File: the bytes cannot be read as a spreadsheet at all.
FILE_EMPTY = "FILE_EMPTY"
FILE_UNREADABLE = "FILE_UNREADABLE"
FILE_NOT_SPREADSHEET = "FILE_NOT_SPREADSHEET"
FILE_FORMAT_UNSUPPORTED = "FILE_FORMAT_UNSUPPORTED"
FILE_ENCRYPTED = "FILE_ENCRYPTED"
FILE_TRUNCATED = "FILE_TRUNCATED"
FILE_CORRUPT = "FILE_CORRUPT"
FILE_TOO_LARGE = "FILE_TOO_LARGE"
FILE_ZIP_BOMB = "FILE_ZIP_BOMB"
FILE_HAS_MACROS = "FILE_HAS_MACROS"
FILE_NAME_UNSAFE = "FILE_NAME_UNSAFE"
ENCODING_UNDETECTED = "ENCODING_UNDETECTED"
# Sheet and header: the table is not where or how the template puts it.
SHEET_MISSING = "SHEET_MISSING"
SHEET_EMPTY = "SHEET_EMPTY"
SHEET_TOO_LARGE = "SHEET_TOO_LARGE"
HEADER_NOT_FOUND = "HEADER_NOT_FOUND"
HEADER_MERGED = "HEADER_MERGED"
COLUMN_MISSING = "COLUMN_MISSING"
COLUMN_UNEXPECTED = "COLUMN_UNEXPECTED"
COLUMN_DUPLICATE = "COLUMN_DUPLICATE"
COLUMN_RENAMED = "COLUMN_RENAMED"
OBLIGATION_MISMATCH = "OBLIGATION_MISMATCH"
NO_DATA_ROWS = "NO_DATA_ROWS"
# Cells and rows.
FORMULA_NOT_ALLOWED = "FORMULA_NOT_ALLOWED"
FORMULA_SAVED_VALUE = "FORMULA_SAVED_VALUE"
CELL_ERROR = "CELL_ERROR"
NUMBER_UNUSUAL = "NUMBER_UNUSUAL"
VALUE_REQUIRED = "VALUE_REQUIRED"
VALUE_TOO_LONG = "VALUE_TOO_LONG"
DATE_INVALID = "DATE_INVALID"
YEAR_INVALID = "YEAR_INVALID"
NUMBER_INVALID = "NUMBER_INVALID"
INTEGER_INVALID = "INTEGER_INVALID"
NUMBER_OUT_OF_RANGE = "NUMBER_OUT_OF_RANGE"
PERCENT_INVALID = "PERCENT_INVALID"
PERCENT_OUT_OF_RANGE = "PERCENT_OUT_OF_RANGE"
PHONE_INVALID = "PHONE_INVALID"
MOBILE_INVALID = "MOBILE_INVALID"
EMAIL_INVALID = "EMAIL_INVALID"
CHOICE_INVALID = "CHOICE_INVALID"
CODE_INVALID = "CODE_INVALID"
REGION_UNKNOWN = "REGION_UNKNOWN"
YEAR_MISMATCH = "YEAR_MISMATCH"
ROW_DUPLICATE = "ROW_DUPLICATE"
TOTAL_MISMATCH = "TOTAL_MISMATCH"
VALUE_INCONSISTENT = "VALUE_INCONSISTENT"
# Submitter: which region a file speaks for.
REGION_MIXED = "REGION_MIXED"
REGION_NOT_EXPECTED = "REGION_NOT_EXPECTED"
REGION_MISMATCH = "REGION_MISMATCH"
FILE_IDENTITY_MISMATCH = "FILE_IDENTITY_MISMATCH"
REGION_OUTSIDE_CITY = "REGION_OUTSIDE_CITY"
VALUE_CONTROL_CHARS = "VALUE_CONTROL_CHARS"

# One line per code, in Chinese, for the code table of reports and README pages.
CODES: dict[str, str] = {
    FILE_EMPTY: "空文件",
    FILE_UNREADABLE: "文件无法打开",
    FILE_NOT_SPREADSHEET: "不是电子表格文件",
    FILE_FORMAT_UNSUPPORTED: "不支持的表格格式（接受.xlsx、.xls、.ods和.csv）",
    FILE_ENCRYPTED: "文件设置了密码",
    FILE_TRUNCATED: "文件不完整",
    FILE_CORRUPT: "文件已损坏",
    FILE_TOO_LARGE: "文件过大",
    FILE_ZIP_BOMB: "文件解压后体积异常",
    FILE_HAS_MACROS: "文件包含宏",
    FILE_NAME_UNSAFE: "文件名不安全",
    ENCODING_UNDETECTED: "无法识别文件编码",
    SHEET_MISSING: "缺少指定工作表",
    SHEET_EMPTY: "工作表为空",
    SHEET_TOO_LARGE: "工作表行列数过多",
    HEADER_NOT_FOUND: "未找到表头",
    HEADER_MERGED: "表头有合并单元格",
    COLUMN_MISSING: "缺少列",
    COLUMN_UNEXPECTED: "多出模板以外的列",
    COLUMN_DUPLICATE: "列重复",
    COLUMN_RENAMED: "列名被修改",
    OBLIGATION_MISMATCH: "与报送事项不符",
    NO_DATA_ROWS: "没有数据行",
    FORMULA_NOT_ALLOWED: "单元格含公式",
    FORMULA_SAVED_VALUE: "公式单元格已按保存的计算结果读取",
    CELL_ERROR: "单元格是Excel错误值",
    NUMBER_UNUSUAL: "数值异常，请核对",
    VALUE_REQUIRED: "必填项未填写",
    VALUE_TOO_LONG: "内容过长",
    DATE_INVALID: "日期格式错误",
    YEAR_INVALID: "年份格式错误",
    NUMBER_INVALID: "数字格式错误",
    INTEGER_INVALID: "应为整数",
    NUMBER_OUT_OF_RANGE: "数值超出范围",
    PERCENT_INVALID: "百分比格式错误",
    PERCENT_OUT_OF_RANGE: "百分比超出范围",
    PHONE_INVALID: "办公电话格式错误",
    MOBILE_INVALID: "手机号码格式错误",
    EMAIL_INVALID: "电子邮箱格式错误",
    CHOICE_INVALID: "不在可选范围内",
    CODE_INVALID: "代码格式错误",
    REGION_UNKNOWN: "行政区划代码不存在",
    YEAR_MISMATCH: "年度与报送年度不符",
    ROW_DUPLICATE: "重复行",
    TOTAL_MISMATCH: "合计数与明细不符",
    VALUE_INCONSISTENT: "同一行内数据互相矛盾",
    REGION_MIXED: "一个文件包含多个地区",
    REGION_NOT_EXPECTED: "地区不在本期报送范围内",
    REGION_MISMATCH: "报送目录与表内地区不符",
    FILE_IDENTITY_MISMATCH: "文件属性与报送目录不符",
    REGION_OUTSIDE_CITY: "县（市、区）不属于报送的市",
    VALUE_CONTROL_CHARS: "内容含编码后的换行或控制字符",
}


@dataclass(frozen=True, slots=True)
class IntakeIssue:
    """One problem in one submitted file.

    ``value`` is what the official typed, as text (possibly a formula or a
    phone number): storage may keep it, but log lines must not, and exports
    must neutralise it like any other cell.
    """

    file: str
    sheet: str | None
    row: int | None
    column: str | None
    value: str | None
    code: str
    message: str
    severity: Severity = "error"

    def to_dict(self) -> dict[str, str | int | None]:
        """The issue as a JSON-ready dict (the ``errors`` items of ``ingest --json``).

        Returns:
            Keys file, sheet, row, column, value, code, message, severity.
        """
        return {
            "file": self.file,
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "code": self.code,
            "message": self.message,
            "severity": self.severity,
        }


def issue(
    file: str,
    code: str,
    message: str,
    *,
    sheet: str | None = None,
    row: int | None = None,
    column: str | None = None,
    value: str | None = None,
    severity: Severity = "error",
) -> IntakeIssue:
    """One issue of a file, its place given by name.

    Args:
        file: Safe display name of the file.
        code: One of the codes of this module.
        message: What to fix, in Chinese.
        sheet: Sheet, None for a CSV or a problem of the whole file.
        row: 1-based spreadsheet row.
        column: The template's header of the column.
        value: What the official typed, as text.
        severity: ``"error"`` rejects the file; ``"warning"`` keeps it with a note.

    Returns:
        The issue.
    """
    return IntakeIssue(file, sheet, row, column, value, code, message, severity)


@dataclass(frozen=True, slots=True)
class IssueFactory:
    """Makes the issues of one file and sheet: callers give code, message and cell.

    Attributes:
        file: Safe display name of the file.
        sheet: Sheet the issues are on (None for a CSV or the whole file).
    """

    file: str
    sheet: str | None = None

    def __call__(
        self,
        code: str,
        message: str,
        *,
        row: int | None = None,
        column: str | None = None,
        value: str | None = None,
        severity: Severity = "error",
    ) -> IntakeIssue:
        """An issue of this file and sheet (see :func:`issue`)."""
        return IntakeIssue(self.file, self.sheet, row, column, value, code, message, severity)


class FileProblem(Exception):
    """One problem that makes a whole file or sheet unreadable, raised while reading it.

    The message may hold ``{file}``, replaced by the file's display name when
    the problem becomes an issue (the readers do not know that name).

    Attributes:
        code: One of the codes of this module.
        message: What to fix, in Chinese.
        sheet: Sheet concerned, if any.
        row: 1-based row concerned, if any.
        column: Header concerned, if any.
        value: The offending value, as text.
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        sheet: str | None = None,
        row: int | None = None,
        column: str | None = None,
        value: str | None = None,
    ) -> None:
        super().__init__(code)
        self.code = code
        self.message = message
        self.sheet = sheet
        self.row = row
        self.column = column
        self.value = value

    def to_issue(self, file: str) -> IntakeIssue:
        """This problem as an issue of the file shown as ``file``."""
        return issue(
            file,
            self.code,
            self.message.replace("{file}", file),
            sheet=self.sheet,
            row=self.row,
            column=self.column,
            value=self.value,
        )


def has_errors(issues: Sequence[IntakeIssue]) -> bool:
    """Whether any issue is an error (warnings alone never reject a file).

    Args:
        issues: Issues of one file.

    Returns:
        True when at least one issue has severity ``"error"``.
    """
    return any(i.severity == "error" for i in issues)


class IntakeRejected(Exception):
    """A submission that cannot be accepted, with every reason found.

    The only exception type that intake raises for bad input: library errors
    (zip, XML, calamine, csv, decoding) are translated into issues, so callers
    quarantine the file and report, never crash.

    Attributes:
        issues: Every problem found, errors first in file order.
        sha256: Hex digest of the file's bytes when they were read, else None
            (e.g. a file over the size limit is never read into memory).
    """

    def __init__(self, issues: Sequence[IntakeIssue], *, sha256: str | None = None) -> None:
        self.issues: list[IntakeIssue] = list(issues)
        self.sha256 = sha256
        errors = [i for i in self.issues if i.severity == "error"]
        first = errors[0] if errors else (self.issues[0] if self.issues else None)
        head = f"{first.file}: {first.code}" if first else "rejected"
        # The summary carries codes only: messages may quote contact data and
        # exception text ends up in task logs.
        codes = sorted({i.code for i in errors})
        super().__init__(f"{head} ({len(errors)} error(s): {', '.join(codes)})")

    def __reduce__(self) -> tuple[object, ...]:
        # Keeps the issues when a rejection crosses a process boundary
        # (multiprocessing pools, Airflow task runners); the default would
        # rebuild the exception from its summary text.
        return (type(self), (self.issues,), {"sha256": self.sha256})

    @property
    def codes(self) -> list[str]:
        """The distinct codes of the issues, sorted."""
        return sorted({i.code for i in self.issues})

    def to_dict(self) -> dict[str, object]:
        """The rejection as in ``ingest --json``: ``{"file", "errors": [...]}``.

        Returns:
            A JSON-ready dict.
        """
        file = self.issues[0].file if self.issues else None
        return {"file": file, "sha256": self.sha256, "errors": [i.to_dict() for i in self.issues]}
