"""The names submitters give their files: checked before use, made safe to store and show.

A name comes from an upload, an e-mail attachment or the inbox folder and is
never trusted: it may climb out of a folder (``../``), hide its real extension
behind a right-to-left override, or be a Windows device name. An unsafe name
rejects the file with one message (:func:`name_issue`); the display name of
every file is :func:`safe_file_name` of what was given.
"""

from __future__ import annotations

import re
import unicodedata

from review_calendar.intake import issues as E
from review_calendar.intake.issues import IntakeIssue, issue

__all__ = ["MAX_NAME_BYTES", "check_file_name", "name_issue", "safe_file_name"]

_WINDOWS_RESERVED = frozenset(
    ["CON", "PRN", "AUX", "NUL"] + [f"COM{i}" for i in range(1, 10)] + [f"LPT{i}" for i in range(1, 10)]
)
_NAME_FORBIDDEN = re.compile(r'[<>:"|?*\\/]')
#: Longest file name most file systems allow, in bytes.
MAX_NAME_BYTES = 255


def _invisible(ch: str) -> bool:
    # Cc: control characters; Cf: format characters such as U+202E (right-to-
    # left override), used to disguise "exe.xlsx" as "xslx.exe".
    return unicodedata.category(ch) in ("Cc", "Cf")


def _has_invisible(text: str) -> bool:
    # A printable text (str.isprintable: no C* or Z* character but the space) has
    # no Cc or Cf character; only the others are looked at character by character.
    return not text.isprintable() and any(_invisible(ch) for ch in text)


def check_file_name(name: str) -> list[str]:
    """Why a submitted file name is unsafe to store or show, if it is.

    Args:
        name: The name the submitter gave the file (upload or e-mail
            attachment name, or the name in the inbox folder).

    Returns:
        Chinese reasons, empty when the name is safe: path separators or
        ``..`` (path traversal), absolute or drive paths, control or invisible
        characters, reserved device names, over 255 bytes, or no name at all.
    """
    reasons: list[str] = []
    if not name or not name.strip():
        return ["文件名为空"]
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        reasons.append("文件名是绝对路径")
    parts = re.split(r"[\\/]", name)
    if ".." in parts:
        reasons.append("文件名包含上级目录“..”")
    elif len(parts) > 1:
        reasons.append("文件名包含目录分隔符")
    if _has_invisible(name):
        reasons.append("文件名包含控制字符或不可见字符")
    stem = parts[-1].split(".")[0].strip().upper()
    if stem in _WINDOWS_RESERVED:
        reasons.append("文件名是系统保留名称")
    if len(name.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        reasons.append("文件名过长")
    return reasons


def name_issue(name: str) -> IntakeIssue | None:
    """The FILE_NAME_UNSAFE issue of a submitted name, None when the name is safe.

    Args:
        name: The name the submitter gave the file.

    Returns:
        The issue, shown under the safe name (see :func:`safe_file_name`),
        with every reason :func:`check_file_name` found.
    """
    reasons = check_file_name(name)
    if not reasons:
        return None
    label = safe_file_name(name)
    return issue(
        label,
        E.FILE_NAME_UNSAFE,
        f"文件名不安全（{'；'.join(reasons)}），请将文件重命名为只含文字、数字的普通名称"
        "（如“石家庄市联系人名单.xlsx”）后重新提交。",
        value=label,
    )


def safe_file_name(name: str) -> str:
    """A name that is safe to store in a quarantine folder and to show in reports.

    Keeps only the last path component, removes control/invisible characters,
    replaces characters Windows forbids with ``_``, drops leading dots and
    trailing dots/spaces, defuses reserved device names and shortens to 255
    bytes keeping the extension. Chinese characters are kept.

    Args:
        name: Any submitted name, e.g. ``"../../etc/passwd.xlsx"``.

    Returns:
        A non-empty single-component name, e.g. ``"passwd.xlsx"``.
    """
    base = re.split(r"[\\/]", name or "")[-1]
    base = unicodedata.normalize("NFC", base)
    if _has_invisible(base):
        base = "".join(ch for ch in base if not _invisible(ch))
    base = _NAME_FORBIDDEN.sub("_", base).strip()
    base = base.lstrip(".").rstrip(". ")
    if not base:
        return "unnamed"
    stem, dot, ext = base.rpartition(".")
    if not dot:
        stem, ext = base, ""
    if stem.strip().upper() in _WINDOWS_RESERVED:
        base = "_" + base
    if len(base.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        suffix = ("." + ext) if dot and len(ext) <= 10 else ""
        budget = MAX_NAME_BYTES - len(suffix.encode("utf-8"))
        head = base[: len(base) - len(suffix)] if suffix else base
        while len(head.encode("utf-8", "surrogatepass")) > budget:
            head = head[:-1]
        base = head + suffix
    return base.encode("utf-8", "replace").decode("utf-8")
