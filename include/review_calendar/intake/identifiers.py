"""Checks of what officials type as identifiers: phones, e-mail addresses, codes, choices.

Like the normalisers of :mod:`~review_calendar.intake.normalize`, each function
takes one cell and returns the canonical value, or raises
:class:`~review_calendar.intake.normalize.ValueProblem` with a stable code and
the end of a Chinese sentence that says how to write the value.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from email_validator import EmailNotValidError, validate_email

from review_calendar.intake import issues as E
from review_calendar.intake.normalize import ValueProblem, to_text

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

__all__ = [
    "EMAIL_PATTERN",
    "REGION_CODE_PATTERN",
    "check_choice",
    "check_code",
    "check_email",
    "check_mobile",
    "check_office_phone",
    "check_region_code",
    "email_address",
]


# Area codes: 010 and 02X are three digits, all others four (03XX-09XX).
_OFFICE_PHONE = re.compile(
    r"\(?(010|02\d|0[3-9]\d{2})\)?-?([2-9]\d{6,7})"  # area code, local number
    r"(?:(?:-?(?:转|分机|ext\.?|x|#)-?|-)(\d{1,6}))?",  # extension
    re.IGNORECASE,
)
_MOBILE = re.compile(r"1[3-9]\d{9}")
# A whole number exported as a float (``130982.0``, ``13900001111.0``).
_FLOAT_TAIL = re.compile(r"(\d+)\.0+")
# A number Excel showed in scientific notation and that was then saved as text (``1.39E+10``).
_SCIENTIFIC = re.compile(r"[+-]?\d(?:\.\d+)?[eE]\+?\d+")
_SCIENTIFIC_HINT = (
    "显示为科学计数法，号码的后几位已丢失。请将该列单元格设置为“文本”格式后重新输入完整号码"
    "（或在号码前加英文单引号'）。"
)


def _whole(text: str) -> str:
    """``text`` without the ``.0`` of a whole number exported as a float."""
    match = _FLOAT_TAIL.fullmatch(text)
    return match.group(1) if match else text


_PHONE_JOINERS = re.compile(r"[\s—–_]+")
_SEVERAL = re.compile(r"[/、,;，；]|\d\s*或")


def check_office_phone(value: object) -> str:
    """An office landline with area code, optionally with an extension.

    Accepts ``0311-87803218``, ``0311 87803218``, ``(0311)87803218``,
    ``031187803218``, ``010-12345678``, and extensions written
    ``0311-87803218-123``, ``0311-87803218转123`` or ``…分机123``. A number in
    scientific notation (``3.11E+10``: the cell was not text) is refused with
    the hint to format the cell as text.

    Args:
        value: A cell, not blank.

    Returns:
        ``"0311-87803218"`` or ``"0311-87803218-123"``.

    Raises:
        ValueProblem: PHONE_INVALID.
    """
    text = _whole(to_text(value) or "")
    if _SCIENTIFIC.fullmatch(text.replace(" ", "")):
        raise ValueProblem(E.PHONE_INVALID, _SCIENTIFIC_HINT)
    if _SEVERAL.search(text):
        raise ValueProblem(E.PHONE_INVALID, "包含多个号码，请只填写一个办公电话。")
    compact = _PHONE_JOINERS.sub("-", text).replace("--", "-")
    compact = compact.replace("(-", "(").replace("-)", ")").replace(")-", ")")
    match = _OFFICE_PHONE.fullmatch(compact)
    if match:
        area, number, extension = match.groups()
        return f"{area}-{number}-{extension}" if extension else f"{area}-{number}"
    digits = re.sub(r"\D", "", text)
    if _MOBILE.fullmatch(digits):
        raise ValueProblem(E.PHONE_INVALID, "是手机号码，本列请填写带区号的办公电话，如“0311-87803218”。")
    if re.fullmatch(r"[2-9]\d{6,7}", digits):
        raise ValueProblem(E.PHONE_INVALID, "缺少区号，请按“0311-87803218”的格式填写。")
    raise ValueProblem(
        E.PHONE_INVALID,
        "不是有效的办公电话，请按“0311-87803218”的格式填写（分机号可写成“0311-87803218-123”）。",
    )


def check_mobile(value: object) -> str:
    """A mainland mobile number: 11 digits starting with 1.

    Spaces and dashes are removed (``138 1234 5678``, ``138-1234-5678``) and a
    ``+86``/``86`` prefix is dropped; ``13900001111.0`` (exported as a
    float) is accepted; ``1.39E+10`` (digits lost) is refused with the hint to
    format the cell as text.

    Args:
        value: A cell, not blank.

    Returns:
        The 11 digits.

    Raises:
        ValueProblem: MOBILE_INVALID.
    """
    text = _whole(to_text(value) or "")
    if _SCIENTIFIC.fullmatch(text.replace(" ", "")):
        raise ValueProblem(E.MOBILE_INVALID, _SCIENTIFIC_HINT)
    digits = _PHONE_JOINERS.sub("", text).replace("-", "")
    for prefix in ("+86", "0086", "86"):
        if digits.startswith(prefix) and len(digits) == 11 + len(prefix):
            digits = digits[len(prefix) :]
            break
    if _MOBILE.fullmatch(digits):
        return digits
    raise ValueProblem(E.MOBILE_INVALID, "不是11位手机号码，请填写以1开头的11位数字。")


_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
#: The syntax of a stored address (the ASCII form :func:`email_address` returns), for the
#: provincial gate (its check of an e-mail column is generated with exactly this pattern).
EMAIL_PATTERN = (
    rf"^(?=.{{1,254}}$)(?=[^@]{{1,64}}@){_ATEXT}(?:\.{_ATEXT})*"
    rf"@(?:{_LABEL}\.)+(?:[A-Za-z]{{2,63}}|xn--[A-Za-z0-9-]{{1,59}})$"
)


def email_address(text: str) -> str:
    """The one e-mail address rule of intake, the provincial gate and the mailer.

    An ``local@domain`` address as the ``email-validator`` library checks it
    (no deliverability lookup): a dot-atom local part of ASCII characters
    without a leading, trailing or doubled dot, at most 64 characters; a
    domain of valid labels with at least one dot, at most 253 characters, not a
    special-use name (``localhost``, ``.test``, ``.local``). Internationalised
    domains are accepted and returned as punycode (``例子.中国`` →
    ``xn--fsqu00a.xn--fiqs8s``), so the address can be sent with plain SMTP.

    Args:
        text: The address, already trimmed.

    Returns:
        The ASCII address with its domain lower-cased.

    Raises:
        ValueProblem: EMAIL_INVALID, with what is wrong.
    """
    try:
        checked = validate_email(text, check_deliverability=False, allow_smtputf8=False, strict=True)
    except EmailNotValidError as exc:
        raise ValueProblem(E.EMAIL_INVALID, _email_hint(text, str(exc))) from None
    return checked.ascii_email or checked.normalized


def _email_hint(text: str, reason: str) -> str:
    """The Chinese end of the sentence for an address ``email-validator`` refused."""
    example = "请按“name@example.gov.cn”的格式填写。"
    if "@" not in text:
        return "缺少“@”，不是有效的电子邮箱，" + example
    if "。" in text:
        return "含有中文句号“。”，请改为英文句点“.”。"
    local = text.rsplit("@", 1)[0]
    if local.startswith(".") or local.endswith(".") or ".." in local:
        return "“@”前的部分不能以句点开头或结尾，也不能有连续的句点，" + example
    if "too long" in reason:
        return "过长（“@”前最多64个字符，全长最多254个字符），请核对。"
    if not local.isascii():
        return "“@”前只能使用英文字母、数字和“.”“_”“-”“+”，" + example
    return "不是有效的电子邮箱，" + example


def check_email(value: object) -> str:
    """An e-mail address as officials type it, checked by :func:`email_address`.

    Spaces (also inside), full-width characters and a ``mailto:`` prefix are
    cleaned first.

    Args:
        value: A cell, not blank (``ZhangSan@Example.GOV.cn``, ``mailto:…``).

    Returns:
        The address, e.g. ``"ZhangSan@example.gov.cn"``.

    Raises:
        ValueProblem: EMAIL_INVALID.
    """
    text = (to_text(value) or "").replace(" ", "")
    if text.lower().startswith("mailto:"):
        text = text[7:]
    return email_address(text)


#: A 6-digit administrative division code (GB/T 2260); also the gate's format check.
REGION_CODE_PATTERN = r"[1-8]\d{5}"
_REGION = re.compile(REGION_CODE_PATTERN)


def check_region_code(value: object) -> str:
    """A 6-digit administrative division code (GB/T 2260), e.g. ``130100``.

    Args:
        value: A cell, not blank (a leading apostrophe, Excel's text marker,
            is dropped; ``130982.0``, a code exported as a float, is 130982).

    Returns:
        The 6 digits.

    Raises:
        ValueProblem: CODE_INVALID (a 12-digit statistical code gets its own hint).
    """
    text = _whole((to_text(value) or "").lstrip("'").replace(" ", ""))
    if _REGION.fullmatch(text):
        return text
    if _SCIENTIFIC.fullmatch(text):
        raise ValueProblem(E.CODE_INVALID, _SCIENTIFIC_HINT.replace("号码", "代码"))
    if re.fullmatch(r"[1-8]\d{11}", text):
        raise ValueProblem(E.CODE_INVALID, "是12位统计用区划代码，请填写6位行政区划代码（如“130100”）。")
    raise ValueProblem(E.CODE_INVALID, "不是6位行政区划代码，请填写6位数字，如“130100”。")


_CODE = re.compile(r"[A-Z0-9][A-Z0-9_-]{0,39}")


def check_code(value: object) -> str:
    """An identifier such as a cluster or base number: letters, digits, ``-``, ``_``.

    Args:
        value: A cell, not blank.

    Returns:
        The code upper-cased.

    Raises:
        ValueProblem: CODE_INVALID.
    """
    text = (to_text(value) or "").lstrip("'").upper()
    if _CODE.fullmatch(text):
        return text
    raise ValueProblem(E.CODE_INVALID, "不是有效编号，请只使用字母、数字和“-”，不要包含空格或汉字。")


_YES_NO_ALIASES = {"Y": "是", "YES": "是", "TRUE": "是", "N": "否", "NO": "否", "FALSE": "否"}


def check_choice(value: object, choices: Sequence[str], aliases: Mapping[str, str] | None = None) -> str:
    """One of the template's drop-down choices.

    Spaces inside are ignored (``"主管 领导"``); a 是/否 column also takes
    Y/N and TRUE/FALSE (Excel booleans); ``aliases`` maps further spellings
    (``第一季度`` → ``一季度``).

    Args:
        value: A cell, not blank.
        choices: The allowed values.
        aliases: Extra accepted spellings and the choice each stands for.

    Returns:
        The canonical choice.

    Raises:
        ValueProblem: CHOICE_INVALID.
    """
    text = (to_text(value) or "").replace(" ", "")
    if text in choices:
        return text
    if aliases and text in aliases:
        return aliases[text]
    if "是" in choices and "否" in choices and text.upper() in _YES_NO_ALIASES:
        return _YES_NO_ALIASES[text.upper()]
    raise ValueProblem(E.CHOICE_INVALID, f"不在可选范围内，请从“{'、'.join(choices)}”中选择一项。")
