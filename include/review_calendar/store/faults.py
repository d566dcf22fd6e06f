"""What a storage fault says: one line naming the database or the file, in Chinese and English.

A read-only or locked review database, a full disk or a file that vanished
mid-run are told as one line an operator can act on: the database's URL
(password hidden) or the file's name, what went wrong, and the driver's or
system's own reason; never the SQL statement or its parameters (which may
hold contact data), never a traceback.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

from review_calendar.domain.privacy import mask_text


class DatabaseFault(RuntimeError):
    """The review database cannot be read or written; the run stops, files not stored stay in the inbox."""


#: (marker in the driver's message, Chinese, English) from the most to the least specific.
_DATABASE_PROBLEMS = (
    ("readonly", "审查数据库只读，无法写入", "review database is read-only"),
    ("read-only", "审查数据库只读，无法写入", "review database is read-only"),
    ("disk is full", "磁盘已满，审查数据库无法写入", "disk full, review database cannot be written"),
    ("locked", "审查数据库被占用（锁定）", "review database is locked"),
    ("unable to open", "无法打开审查数据库", "cannot open the review database"),
)

#: errno → (Chinese, English) of a file that cannot be written.
_FILE_PROBLEMS = {
    errno.ENOSPC: ("磁盘已满", "disk full"),
    errno.EDQUOT: ("磁盘配额已用完", "disk quota exceeded"),
    errno.EFBIG: ("超出文件大小限制", "file too large for the file system or process limit"),
    errno.EROFS: ("文件系统只读", "read-only file system"),
    errno.EACCES: ("没有写入权限", "permission denied"),
    errno.EPERM: ("不允许写入", "operation not permitted"),
}


def database_fault(exc: BaseException, url: str) -> DatabaseFault:
    """The one-line fault of a database error (the SQL and its parameters left out).

    Args:
        exc: A SQLAlchemy ``DBAPIError`` (its driver error is ``orig``) or a driver error.
        url: The review database URL (its password is hidden).
    """
    from review_calendar.store.db import redact

    orig = getattr(exc, "orig", None) or exc
    reason = " ".join(str(orig).split())[:300]
    zh, en = "审查数据库出错", "review database error"
    for marker, z, e in _DATABASE_PROBLEMS:
        if marker in reason.lower():
            zh, en = z, e
            break
    if _sqlite_read_only(url):
        # A WAL database in a folder it cannot write says "unable to open": it is read-only.
        zh, en = _DATABASE_PROBLEMS[0][1:]
    return DatabaseFault(mask_text(f"{zh}：{redact(url)} / {en}: {redact(url)} ({reason})"))


def _sqlite_read_only(url: str) -> bool:
    """Whether the URL is a SQLite file that exists but that this process cannot write (file or folder)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return False
    path = Path(parsed.database)
    return path.exists() and not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK))


def file_problem(exc: OSError, name: str) -> str:
    """The one-line reason a file could not be stored (Chinese, then English), naming the file.

    Args:
        exc: The error writing its copy.
        name: The file's (safe) display name.
    """
    zh, en = _FILE_PROBLEMS.get(exc.errno or 0, ("无法写入", exc.strerror or type(exc).__name__))
    return f"“{name}”未能保存（{zh}），已留在收件箱中，下次接收时重试 / {name}: not stored ({en})"
