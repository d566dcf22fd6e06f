"""Pure value normalisers: the way county officials actually type things.

Each function takes one cell (text from the reader, or a number/date object)
and returns the normalised value, or raises :class:`ValueProblem` with a
stable code and the end of a Chinese sentence. The dataset layer prefixes the
sentence with the cell's position ("第12行“手机”列的值“…”") and turns it into
an :class:`~review_calendar.intake.issues.IntakeIssue`.

Identifiers (phones, e-mail addresses, codes, choices) are checked by
:mod:`~review_calendar.intake.identifiers`.

Units are never converted: a column's unit is fixed by its template header
(e.g. ``计划总投资（万元）``). A value that repeats the header's unit
(``126.5亿元`` under 亿元) is read as the number; any other unit (``12万元``
under 亿元) is rejected with a hint rather than guessed at.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from functools import lru_cache

from review_calendar.intake import issues as E

__all__ = [
    "ValueProblem",
    "check_range",
    "decode_encoded_words",
    "has_hidden_line_break",
    "is_formula",
    "normalize_header",
    "to_date",
    "to_int",
    "to_number",
    "to_percent",
    "to_text",
    "to_year",
]


class ValueProblem(ValueError):
    """A cell value that does not fit its column.

    Attributes:
        code: Stable error code (``review_calendar.intake.issues``).
        fragment: The end of a Chinese sentence that follows the quoted value,
            e.g. ``"不是11位手机号码，请填写以1开头的11位数字。"``.
    """

    def __init__(self, code: str, fragment: str) -> None:
        super().__init__(code)
        self.code = code
        self.fragment = fragment


# Full-width ASCII (U+FF01..U+FF5E) and the ideographic space fold to ASCII: the
# width part of NFKC. Full NFKC is not applied to free text because it would
# also turn "①" into "1" and "㎡" into "m2" in officials' narratives.
_WIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}
_WIDTH.update({0x3000: 0x20, 0x00A0: 0x20, 0x2002: 0x20, 0x2003: 0x20, 0x2009: 0x20, 0x202F: 0x20})
# Invisible characters pasted from web pages and WeChat.
_WIDTH.update(dict.fromkeys((0x200B, 0x200C, 0x200D, 0x2060, 0xFEFF)))
_NEEDS_SPACE_FIX = re.compile(r"[\t\r\n\f\v]| {2}")
_HSPACE = re.compile(r"[ \t\f\v]+")
_AROUND_NL = re.compile(r" *\n *")
_MANY_NL = re.compile(r"\n{3,}")

_EXAMPLE_DATE = "请按“2025-03-31”或“2025年3月31日”的格式填写。"


def to_text(value: object) -> str | None:
    """Cleaned text of a cell, or None when it is blank.

    Strips, folds full-width digits, letters and ASCII punctuation to
    half-width, drops zero-width characters, collapses runs of spaces and keeps
    single line breaks (narratives have paragraphs).

    Args:
        value: A cell: text, number, date or None.

    Returns:
        The cleaned text, or None for None, "" and whitespace-only cells.
    """
    if value is None:
        return None
    if not isinstance(value, str):
        if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return str(value)
    text = value.translate(_WIDTH)
    if _NEEDS_SPACE_FIX.search(text):
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        text = _HSPACE.sub(" ", text)
        text = _AROUND_NL.sub("\n", text)
        text = _MANY_NL.sub("\n\n", text)
    text = text.strip()
    return text or None


_HEADER_DROP = re.compile(r"[\s*“”‘’\"'「」]+")


@lru_cache(maxsize=4096)
def _normalize_header_text(text: str) -> str:
    return _HEADER_DROP.sub("", unicodedata.normalize("NFKC", text)).rstrip(":")


def normalize_header(value: object) -> str:
    """The comparable form of a header cell.

    NFKC (full-width → half-width, ``（万元）`` → ``(万元)``), no whitespace or
    line breaks anywhere, no required-marker ``*`` and no quotation marks, so
    ``"*办公 电话"``, ``"办公\\n电话"`` and ``"办公电话＊"`` all compare equal.

    Args:
        value: A header cell.

    Returns:
        The normalised header ("" for a blank cell).
    """
    if value is None:
        return ""
    # Cached: every file of a batch repeats the same few dozen header texts.
    return _normalize_header_text(str(value))


_SAFE_SIGNED = re.compile(r"[+-]+[\d.,%\s]*")
_PHONE_LIKE = re.compile(r"\+[\d\s()-]+")


def is_formula(text: str) -> bool:
    """Whether a text cell would be executed as a formula by a spreadsheet.

    ``=`` and ``@`` always start a formula in Excel and WPS; ``+`` and ``-``
    do unless what follows is just a signed number or an international phone
    number (``-12.5``, ``+86 138 1234 5678``), which officials do type.
    The text is normalised first, as it will be stored (:func:`to_text`):
    leading spaces of any kind (non-breaking, ideographic), zero-width and
    other invisible characters and a byte-order mark are dropped before the
    first character is looked at, so they cannot hide a formula.

    Args:
        text: A cell's text.

    Returns:
        True for formula-like text such as ``=1+1``, ``@SUM(A1)`` or ``-2+3``.
    """
    folded = _without_lead(text.translate(_WIDTH))
    if not folded:
        return False
    first = folded[0]
    if first in "=@":
        return True
    if first in "+-":
        return not (_SAFE_SIGNED.fullmatch(folded) or _PHONE_LIKE.fullmatch(folded))
    return False


def _without_lead(text: str) -> str:
    """``text`` without leading whitespace, control and invisible (format) characters."""
    start = 0
    while start < len(text) and (text[start].isspace() or unicodedata.category(text[start]) in ("Cc", "Cf")):
        start += 1
    return text[start:]


_ENCODED_WORD = re.compile(r"=\?([^?\s*]+)(?:\*[^?\s]*)?\?([bBqQ])\?([^?\s]*)\?=")
_BETWEEN_WORDS = re.compile(r"(?<=\?=)[ \t\r\n]+(?==\?)")


def decode_encoded_words(text: str) -> str:
    """``text`` with its RFC 2047 encoded words (``=?utf-8?q?…?=``) decoded, as a mail reader shows it.

    Decoded repeatedly (an encoded word may decode to another one), at most
    three times; words that do not decode are kept as typed.
    """
    for _ in range(3):
        if not _ENCODED_WORD.search(text):
            break
        decoded = _ENCODED_WORD.sub(_decode_word, _BETWEEN_WORDS.sub("", text))
        if decoded == text:
            break
        text = decoded
    return text


def _decode_word(match: re.Match[str]) -> str:
    import base64
    import binascii
    from email import quoprimime

    charset, kind, payload = match.groups()
    try:
        if kind in "qQ":
            raw = quoprimime.header_decode(payload).encode("latin-1")
        else:
            raw = base64.b64decode(payload + "=" * (-len(payload) % 4))
        return raw.decode(charset, "replace")
    except (LookupError, ValueError, binascii.Error, UnicodeError):
        return match.group(0)


def has_hidden_line_break(text: str) -> bool:
    """Whether ``text`` holds control characters once its RFC 2047 encoded words are decoded.

    Such a value (e.g. a contact name ``=?utf-8?q?x=0D=0ABcc:_evil@x?=``) would
    add a header to an e-mail that quotes it; intake rejects it and the
    mailer refuses it (:mod:`review_calendar.notify.message`).
    """
    if not _ENCODED_WORD.search(text):
        return False
    return any(unicodedata.category(ch) == "Cc" for ch in decode_encoded_words(text))


def _show(value: float) -> str:
    return f"{value:g}" if abs(value) < 1e15 else str(value)


_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")
_THOUSANDS = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_UNIT_SUFFIX = re.compile(r"(万元|亿元|千元|元|万|亿|平方公里|km2|个|家|件|项|次|人)$")
# What officials type for "none" or "not applicable" in a numeric cell.
_NONE_MARKS = frozenset(
    {"—", "——", "-", "--", "/", "／", "\\", "N/A", "NA", "n/a", "无", "空", "暂无", "-/-", "×"}
)
# The unit a too-large figure was most likely typed in, by the column's unit.
_SMALLER_UNIT = {"亿元": ("万元", "1亿元=10000万元"), "万元": ("元", "1万元=10000元")}


def _number_text(text: str) -> float | None:
    """The number of a plain or thousands-separated text, None when it is neither."""
    if _PLAIN_NUMBER.fullmatch(text):
        return float(text)
    if _THOUSANDS.fullmatch(text):
        return float(text.replace(",", ""))
    return None


def to_number(value: object, *, unit: str | None = None) -> float:
    """A decimal number as officials type it.

    Accepts ``1234.5``, ``1,234.5`` (thousands separators), full-width digits
    ``１２３４``, signs and Excel numbers, and the column's own unit after the
    number (``126.5亿元`` when ``unit`` is 亿元). Rejects other units
    (``12万元`` under 亿元), percent signs, ``—``/``/``/``N/A`` (with the hint
    to write 0) and everything else.

    Args:
        value: A cell (text or number), not blank.
        unit: The column's unit from its header (亿元, 万元, 个...), None if it has none.

    Returns:
        The number as a float.

    Raises:
        ValueProblem: NUMBER_INVALID.
    """
    if isinstance(value, bool):
        raise ValueProblem(E.NUMBER_INVALID, "不是数字，请只填写数字。")
    if isinstance(value, int | float):
        number = float(value)
    else:
        text = to_text(value) or ""
        text = text.replace(" ", "")
        parsed = _number_text(text)
        suffix = _UNIT_SUFFIX.search(text)
        if parsed is not None:
            number = parsed
        elif suffix and (stem := _number_text(text[: suffix.start()])) is not None:
            typed = suffix.group(1)
            if unit is not None and typed == unit:
                number = stem
            elif unit is not None:
                raise ValueProblem(
                    E.NUMBER_INVALID,
                    f"带有单位“{typed}”，与本列表头的单位“{unit}”不符，请换算为{unit}后只填写数字。",
                )
            else:
                raise ValueProblem(
                    E.NUMBER_INVALID, f"带有单位“{typed}”，本列的单位以表头为准，请只填写数字。"
                )
        elif text in _NONE_MARKS or text.upper() in _NONE_MARKS:
            raise ValueProblem(E.NUMBER_INVALID, "不是数字；没有的请填写0，不要填写“—”“/”“N/A”等符号。")
        elif text.endswith("%"):
            raise ValueProblem(E.NUMBER_INVALID, "带有百分号，本列应填写数字，请去掉“%”。")
        else:
            raise ValueProblem(
                E.NUMBER_INVALID, "不是数字，请只填写阿拉伯数字（可带小数点），不要填写文字或单位。"
            )
    if math.isnan(number) or math.isinf(number):
        raise ValueProblem(E.NUMBER_INVALID, "不是有效数字，请填写具体数值。")
    return number


def check_range(
    number: float, minimum: float | None, maximum: float | None, *, unit: str | None = None
) -> float:
    """A number within optional (hard) bounds.

    A value above the maximum of a 亿元 or 万元 column names the likely slip:
    the figure typed in the next smaller unit (1,874,000 in a 亿元 column is
    a figure in 万元).

    Args:
        number: The value.
        minimum: Inclusive lower bound, or None.
        maximum: Inclusive upper bound, or None.
        unit: The column's unit, for the message.

    Returns:
        ``number`` unchanged.

    Raises:
        ValueProblem: NUMBER_OUT_OF_RANGE.
    """
    if minimum is not None and number < minimum:
        if minimum == 0:
            raise ValueProblem(E.NUMBER_OUT_OF_RANGE, "不能为负数，请核对。")
        raise ValueProblem(E.NUMBER_OUT_OF_RANGE, f"小于允许的最小值{_show(minimum)}，请核对。")
    if maximum is not None and number > maximum:
        limit = f"{maximum:,.0f}{unit}" if unit and float(maximum).is_integer() else _show(maximum)
        if unit in _SMALLER_UNIT and number / 10_000 <= maximum:
            # Within bounds once divided by 10,000: typed in the next smaller unit.
            smaller, rate = _SMALLER_UNIT[unit]
            raise ValueProblem(
                E.NUMBER_OUT_OF_RANGE,
                f"数值过大（本列单位为{unit}，上限{limit}），可能误填为{smaller}，"
                f"请换算为{unit}（{rate}）后填写。",
            )
        raise ValueProblem(E.NUMBER_OUT_OF_RANGE, f"数值过大，超过本列上限{limit}，请核对数值和单位。")
    return number


def to_int(value: object, *, unit: str | None = None) -> int:
    """A whole number (counts of firms, projects, visits).

    Args:
        value: A cell, not blank: ``12``, ``"12"``, ``"１２"``, ``12.0``.
        unit: The column's unit (个, 家...), accepted after the number.

    Returns:
        The integer.

    Raises:
        ValueProblem: NUMBER_INVALID or INTEGER_INVALID (e.g. ``12.5``).
    """
    number = to_number(value, unit=unit)
    if not number.is_integer():
        raise ValueProblem(E.INTEGER_INVALID, "应为整数，请填写不带小数的个数。")
    return int(number)


_YEAR = re.compile(r"(\d{4})(?:\.0+)?\s*年?(?:度)?")
MIN_YEAR = 1990
MAX_YEAR = 2100


def to_year(value: object) -> int:
    """A calendar year: ``2025``, ``"2025年"``, ``"2025年度"``, ``2025.0``.

    Args:
        value: A cell, not blank.

    Returns:
        The year.

    Raises:
        ValueProblem: YEAR_INVALID.
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        year = int(value) if float(value).is_integer() else -1
    else:
        match = _YEAR.fullmatch(to_text(value) or "")
        year = int(match.group(1)) if match else -1
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise ValueProblem(E.YEAR_INVALID, "不是有效年份，请填写4位数字年份，如“2025”。")
    return year


_EXCEL_EPOCH = dt.date(1899, 12, 30)
# The 1904 date system (old Excel for Mac workbooks, ``date1904``): serial 0 is 1904-01-01.
_EXCEL_EPOCH_1904 = dt.date(1904, 1, 1)
# Serial numbers of 1990-01-01 and 2100-12-31: a date column holding a number
# outside this window is a typo, not a date.
_SERIAL_MIN = (dt.date(MIN_YEAR, 1, 1) - _EXCEL_EPOCH).days
_SERIAL_MAX = (dt.date(MAX_YEAR, 12, 31) - _EXCEL_EPOCH).days
_DATE_YMD = re.compile(
    r"(\d{4})\s*[年/.\-]\s*(\d{1,2})\s*[月/.\-]\s*(\d{1,2})\s*[日号]?"
    r"(?:[ T]?\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?"
)
_DATE_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")
_SERIAL = re.compile(r"\d{5}(?:\.\d+)?")


def to_date(value: object, *, date1904: bool = False) -> dt.date:
    """A calendar date as officials type it.

    Accepts ``2025年3月31日``, ``2025/3/31``, ``2025-03-31``, ``2025.3.31``,
    ``20250331``, Excel serial numbers (``45747``, as text or number) and
    date/datetime objects; a time of day after the date is ignored.

    Args:
        value: A cell, not blank.
        date1904: The workbook counts serial numbers from 1904-01-01 (a
            serial number in a General cell of such a workbook is 1,462 days
            later than in a 1900-based one).

    Returns:
        The date.

    Raises:
        ValueProblem: DATE_INVALID.
    """
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return _from_serial(float(value), date1904)
    text = to_text(value) or ""
    match = _DATE_YMD.fullmatch(text) or _DATE_COMPACT.fullmatch(text)
    if match:
        year, month, day = (int(g) for g in match.groups())
        if not MIN_YEAR <= year <= MAX_YEAR:
            raise ValueProblem(E.DATE_INVALID, "年份超出合理范围，" + _EXAMPLE_DATE)
        try:
            return dt.date(year, month, day)
        except ValueError:
            raise ValueProblem(E.DATE_INVALID, "不是实际存在的日期，请核对月份和日期。") from None
    if _SERIAL.fullmatch(text):
        return _from_serial(float(text), date1904)
    raise ValueProblem(E.DATE_INVALID, "不是有效日期，" + _EXAMPLE_DATE)


def _from_serial(serial: float, date1904: bool = False) -> dt.date:
    epoch = _EXCEL_EPOCH_1904 if date1904 else _EXCEL_EPOCH
    shift = (_EXCEL_EPOCH_1904 - _EXCEL_EPOCH).days if date1904 else 0
    if not _SERIAL_MIN - shift <= serial <= _SERIAL_MAX - shift:
        raise ValueProblem(E.DATE_INVALID, "不是有效日期，" + _EXAMPLE_DATE)
    return epoch + dt.timedelta(days=int(serial))


def _percent_text(value: float) -> str:
    return f"{value * 100:g}%"


def to_percent(value: object, *, minimum: float | None = 0.0, maximum: float | None = 1.0) -> float:
    """A percentage as a fraction (75 % → 0.75).

    ``75%``, ``75 %`` and ``７５％`` are percent points; a bare number is a
    fraction when its absolute value is at most 1 (``0.75``, and Excel's
    percent-formatted cells, which store 0.75) and percent points otherwise
    (``75``). So a bare ``1`` is 100 %: templates ask for the ``%`` sign.

    Args:
        value: A cell, not blank.
        minimum: Smallest allowed fraction (None: unbounded); growth rates
            use -1.0.
        maximum: Largest allowed fraction (None: unbounded); shares use 1.0.

    Returns:
        The fraction, rounded to 10 decimals so that ``"7.5%"`` is 0.075.

    Raises:
        ValueProblem: PERCENT_INVALID or PERCENT_OUT_OF_RANGE.
    """
    if isinstance(value, bool):
        raise ValueProblem(E.PERCENT_INVALID, "不是百分比，请按“75%”的格式填写。")
    if isinstance(value, int | float):
        number, explicit = float(value), False
    else:
        text = (to_text(value) or "").replace(" ", "")
        explicit = text.endswith("%")
        if explicit:
            text = text[:-1]
        if not _PLAIN_NUMBER.fullmatch(text):
            if text in _NONE_MARKS or text.upper() in _NONE_MARKS:
                raise ValueProblem(
                    E.PERCENT_INVALID, "不是百分比；没有的请填写0%，不要填写“—”“/”“N/A”等符号。"
                )
            raise ValueProblem(E.PERCENT_INVALID, "不是百分比，请按“75%”的格式填写（只填数字和百分号）。")
        number = float(text)
    if math.isnan(number) or math.isinf(number):
        raise ValueProblem(E.PERCENT_INVALID, "不是百分比，请按“75%”的格式填写。")
    fraction = number / 100 if explicit or abs(number) > 1 else number
    fraction = round(fraction, 10)
    if minimum is not None and fraction < minimum:
        bound = "不能为负数" if minimum == 0 else f"不能低于{_percent_text(minimum)}"
        raise ValueProblem(E.PERCENT_OUT_OF_RANGE, f"{bound}，请核对。")
    if maximum is not None and fraction > maximum:
        raise ValueProblem(
            E.PERCENT_OUT_OF_RANGE, f"超过{_percent_text(maximum)}，请核对（百分比请按“75%”的格式填写）。"
        )
    return fraction
