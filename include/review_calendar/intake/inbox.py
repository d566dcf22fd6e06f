"""The inbox: where submitted files wait for intake, one folder per obligation instance.

``<inbox>/<programme>/<year>/<obligation>[_<period>]/`` holds the files of one
instance, directly or in a sub-folder named by the submitting region's 6-digit
code (an upload portal per region).

A file's receipt time (:func:`receipt_time`) is the earlier of its status-change
time (ctime) on this server and the (logical) time a sweep first saw it, to the
second: both are at or after the real arrival and neither can be set by the
submitter (a modification time can: it is never read for receipt).

The inbox is written by outsiders, so a sweep trusts nothing it finds there
(:func:`scan_inbox`):

- a symbolic link (to a file or a folder, e.g. a region folder linked to
  ``/etc``) is never followed, read, copied or deleted: it is reported;
- a file whose place is unambiguous is taken in: a code folder with stray
  spaces (``" 130100 "``), the obligation folder with its period suffix
  (``contact_list_Y``), a folder nested in a region folder;
- every other file (a city name or a date instead of a code, a device, a
  file with several hard links) is reported to the operators with the reason,
  never silently ignored;
- upload tools' temporary files (``.filepart``, ``.crdownload``, ``.tmp``,
  ``.part``, ``~$…``, hidden files) are left alone: the upload is not done;
- a file is taken only when it is stable (:func:`stable_files`): unchanged
  across two looks, or untouched for a settle time.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import os
import stat
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from review_calendar.domain.calendar import TZ
from review_calendar.intake.reader import ReadLimits, file_digest

if TYPE_CHECKING:
    from collections.abc import Sequence

    from review_calendar.domain.programmes import ObligationInstance
    from review_calendar.settings import Settings

__all__ = [
    "TEMPORARY_SUFFIXES",
    "InboxScan",
    "Unplaced",
    "inbox_dir",
    "instance_folders",
    "is_inside",
    "pending_files",
    "receipt_order",
    "receipt_time",
    "received_on",
    "region_hint",
    "scan_inbox",
    "file_identity",
    "keyed_sighting",
    "sighting_key",
    "stable_files",
    "stray_entries",
]

#: Names upload tools (WinSCP, browsers, Office, rsync) give a file still being written.
TEMPORARY_SUFFIXES = (".filepart", ".crdownload", ".tmp", ".part", ".partial", ".download", ".!ut")
#: Deepest folder nesting followed under a region folder.
MAX_DEPTH = 6
#: A file untouched this long (seconds) is complete; a younger one gets a second look.
SETTLE_SECONDS = 30.0
#: Seconds between the two looks at a young file.
LOOK_INTERVAL = 1.0


@dataclass(frozen=True)
class Unplaced:
    """A file (or link) under an inbox that is not taken in, and why.

    Attributes:
        path: Where it is, relative to the inbox root.
        reason: Chinese reason, for the operators.
    """

    path: str
    reason: str

    def to_dict(self) -> dict[str, str]:
        """JSON-ready form (ingest result, log, stored list)."""
        return {"path": self.path, "reason": self.reason}


@dataclass
class InboxScan:
    """What one look at an instance's inbox found.

    Attributes:
        files: Regular files to take in, oldest first.
        hints: The region code of each file's upload folder (None: none), by path.
        unplaced: Files and links reported to the operators instead.
        temporary: Upload tools' temporary files, left alone.
        misplaced: The regular files among ``unplaced`` (in a folder that names no
            region): remembered, so once moved to their place they keep their first sighting.
    """

    files: list[Path] = field(default_factory=list)
    hints: dict[Path, str | None] = field(default_factory=dict)
    unplaced: list[Unplaced] = field(default_factory=list)
    temporary: list[Path] = field(default_factory=list)
    misplaced: list[Path] = field(default_factory=list)


def inbox_dir(settings: Settings, instance: ObligationInstance) -> Path:
    """The inbox folder of an instance: ``inbox/<programme>/<year>/<obligation>[_<period>]``.

    Args:
        settings: Where the inbox is (``settings.inbox_dir``).
        instance: The obligation instance.

    Returns:
        The folder (it may not exist yet).
    """
    leaf = instance.obligation_id if instance.period == "Y" else f"{instance.obligation_id}_{instance.period}"
    return settings.inbox_dir / instance.programme_id / str(instance.cycle_year) / leaf


def instance_folders(settings: Settings, instance: ObligationInstance) -> list[Path]:
    """Every folder that unambiguously holds the instance's files.

    The canonical folder (:func:`inbox_dir`), the same name with stray spaces,
    and, for a yearly obligation, the name with its period suffix (``_Y``).
    """
    canonical = inbox_dir(settings, instance)
    names = {canonical.name, f"{instance.obligation_id}_{instance.period}"}
    year_dir = canonical.parent
    try:
        entries = sorted(os.scandir(year_dir), key=lambda e: e.name)
    except (FileNotFoundError, NotADirectoryError):
        return []
    return [Path(e.path) for e in entries if e.name.strip() in names]


def scan_inbox(settings: Settings, instance: ObligationInstance) -> InboxScan:
    """Look once at the instance's inbox without following any link.

    Args:
        settings: Where the inbox is.
        instance: The obligation instance.

    Returns:
        The files to take in (by status-change time, then name), their upload
        folders' region codes, what is reported instead, and the temporary files.
    """
    scan = InboxScan()
    root = settings.inbox_dir
    year_dir = inbox_dir(settings, instance).parent
    links = _linked_ancestors(root, year_dir)
    if links:
        scan.unplaced.append(Unplaced(_rel(root, links[0]), "收件目录是符号链接，不跟随、不读取"))
        return scan
    for folder in instance_folders(settings, instance):
        if folder.is_symlink():
            scan.unplaced.append(Unplaced(_rel(root, folder), "收件目录是符号链接，不跟随、不读取"))
        elif folder.is_dir():
            _walk(root, folder, None, 0, scan)
        else:
            scan.unplaced.append(Unplaced(_rel(root, folder), "应为收件目录，却是文件"))
    scan.files.sort(key=_age_key)
    return scan


def stray_entries(settings: Settings, instances: Sequence[ObligationInstance]) -> list[Unplaced]:
    """Entries of a cycle's inbox folder that belong to none of its instances, each with the reason.

    Args:
        settings: Where the inbox is.
        instances: Every instance of one programme and cycle year.

    Returns:
        Files and folders in ``inbox/<programme>/<year>/`` that no instance's
        folder (:func:`instance_folders`) takes, e.g. a file put directly in the
        year folder or a folder named ``联系人名单``; temporary files are left out.
    """
    if not instances:
        return []
    root = settings.inbox_dir
    year_dir = inbox_dir(settings, instances[0]).parent
    names = set()
    for i in instances:
        names |= {inbox_dir(settings, i).name, f"{i.obligation_id}_{i.period}"}
    try:
        entries = sorted(os.scandir(year_dir), key=lambda e: e.name)
    except OSError:
        return []
    out = []
    for entry in entries:
        name = entry.name
        if name.strip() in names or name.startswith((".", "~$")) or name.lower().endswith(TEMPORARY_SUFFIXES):
            continue
        kind = "目录" if entry.is_dir(follow_symlinks=False) else "文件"
        out.append(
            Unplaced(_rel(root, Path(entry.path)), f"{kind}“{name}”不属于本年度任何报送事项的收件目录")
        )
    return out


def pending_files(settings: Settings, instance: ObligationInstance) -> list[Path]:
    """Files waiting in the instance's inbox, oldest first (see :func:`scan_inbox`).

    Args:
        settings: Where the inbox is.
        instance: The obligation instance.

    Returns:
        The files by status-change time, then name.
    """
    return scan_inbox(settings, instance).files


def stable_files(
    files: Sequence[Path],
    *,
    settle_seconds: float = SETTLE_SECONDS,
    look_interval: float = LOOK_INTERVAL,
) -> tuple[list[Path], list[Path]]:
    """Split files into complete ones and ones still being written.

    A file untouched (modification and status-change time) for
    ``settle_seconds`` is complete; a younger one is looked at again after
    ``look_interval`` seconds and is complete when its size and times did not change.

    Returns:
        (stable files, files still changing or gone), in the given order.
    """
    first = {p: _signature(p) for p in files}
    now = time.time()
    young = [
        p for p, sig in first.items() if sig is not None and now - max(sig[1], sig[2]) / 1e9 < settle_seconds
    ]
    if young:
        time.sleep(look_interval)
    stable, waiting = [], []
    for p in files:
        sig = first[p]
        if sig is None or (p in young and _signature(p) != sig):
            waiting.append(p)
        else:
            stable.append(p)
    return stable, waiting


def region_hint(path: Path) -> str | None:
    """The region code of the inbox sub-folder a file was uploaded to, if any (its parent folder)."""
    parent = path.parent.name.strip()
    return parent if _is_region_code(parent) else None


def receipt_time(path: Path, seen_at: dt.datetime | None = None) -> dt.datetime:
    """When a file was received: the earlier of its ctime and ``seen_at``, to the second, Asia/Shanghai.

    Args:
        path: The file (a link is not followed).
        seen_at: When a sweep first saw it (its logical time); default: now.

    Raises:
        OSError: The file is gone.
    """
    changed = dt.datetime.fromtimestamp(path.lstat().st_ctime, tz=TZ)
    moment = changed if seen_at is None else min(changed, seen_at)
    return moment.astimezone(TZ).replace(microsecond=0)


def received_on(path: Path) -> dt.date:
    """The day a file was received (:func:`receipt_time` seen now), in Asia/Shanghai.

    Raises:
        OSError: The file is gone.
    """
    return receipt_time(path).date()


def receipt_order(path: Path) -> int:
    """Tie-break between files received in the same second: the status-change time (a stable sort keeps the rest)."""
    try:
        return path.lstat().st_ctime_ns
    except OSError:
        return 0


def sighting_key(
    root: Path, path: Path, *, instance_key: str = "", hint: str | None = None
) -> tuple[str, str] | None:
    """The identity a sweep remembers a file by, hashed; and its path under ``root``.

    The identity is the file's content (:func:`file_identity`) with the instance and
    the region of its upload folder (``hint``): a file moved or renamed inside the
    region's folders keeps its first sighting, a file rewritten is a new one, and the
    same bytes in two regions' folders are two files. None when the file is gone.
    """
    identity = file_identity(root, path)
    if identity is None:
        return None
    return keyed_sighting(identity, instance_key, hint), _rel(root, path)


def file_identity(root: Path, path: Path) -> str | None:
    """A regular file's content hash (a file over the size limit, never read: its path, size and inode).

    None when the file is gone or not a regular file.
    """
    try:
        info = path.lstat()
        if not stat.S_ISREG(info.st_mode):
            return None
        if info.st_size > ReadLimits().max_bytes:
            return f"path\0{_rel(root, path)}\0{info.st_size}\0{info.st_ino}"
        return f"content\0{file_digest(path)[0]}"
    except OSError:
        return None


def keyed_sighting(identity: str, instance_key: str, hint: str | None) -> str:
    """The sighting key of a file's identity in an instance's inbox and a region's folder (None: none)."""
    return hashlib.sha256(f"{instance_key}\0{hint or ''}\0{identity}".encode()).hexdigest()


def is_inside(path: Path, root: Path) -> bool:
    """Whether ``path`` itself (not what a link points to) is a regular file under ``root``.

    Used before removing a file from the inbox: nothing outside it, and no
    link, is ever deleted.
    """
    try:
        info = path.lstat()
        real_parent = path.parent.resolve(strict=True)
    except OSError:
        return False
    return stat.S_ISREG(info.st_mode) and real_parent.is_relative_to(root.resolve())


def _walk(root: Path, folder: Path, hint: str | None, depth: int, scan: InboxScan) -> None:
    """Sort the entries of one folder into files, unplaced entries and temporary files."""
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        scan.unplaced.append(Unplaced(_rel(root, folder), "目录无法读取"))
        return
    for entry in entries:
        path = Path(entry.path)
        name = entry.name
        if entry.is_symlink():
            scan.unplaced.append(Unplaced(_rel(root, path), "符号链接，不跟随、不读取"))
        elif entry.is_dir(follow_symlinks=False):
            code = name.strip()
            if _is_region_code(code):
                _walk_region(root, path, code, depth + 1, scan)
            elif hint is not None:
                _walk_region(root, path, hint, depth + 1, scan)
            else:
                reason = f"目录“{name}”不是6位行政区划代码，无法确定报送地区"
                _report_all(root, path, reason, scan)
        elif name.startswith((".", "~$")) or name.lower().endswith(TEMPORARY_SUFFIXES):
            scan.temporary.append(path)
        else:
            _add_file(root, entry, path, hint, scan)


def _walk_region(root: Path, folder: Path, code: str, depth: int, scan: InboxScan) -> None:
    if depth > MAX_DEPTH:
        _report_all(root, folder, "目录层级过深", scan)
        return
    _walk(root, folder, code, depth, scan)


def _add_file(root: Path, entry: os.DirEntry[str], path: Path, hint: str | None, scan: InboxScan) -> None:
    try:
        info = entry.stat(follow_symlinks=False)
    except OSError:
        return  # gone meanwhile
    if not stat.S_ISREG(info.st_mode):
        scan.unplaced.append(Unplaced(_rel(root, path), "不是普通文件"))
    elif info.st_nlink > 1:
        scan.unplaced.append(Unplaced(_rel(root, path), "文件有多个硬链接，不予读取"))
    else:
        scan.files.append(path)
        scan.hints[path] = hint


def _report_all(root: Path, folder: Path, reason: str, scan: InboxScan) -> None:
    """Report every file under a folder whose place is ambiguous (links reported, not followed)."""
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        for name in sorted(filenames + [d for d in dirnames if Path(dirpath, d).is_symlink()]):
            if not name.startswith((".", "~$")) and not name.lower().endswith(TEMPORARY_SUFFIXES):
                path = Path(dirpath, name)
                scan.unplaced.append(Unplaced(_rel(root, path), reason))
                with contextlib.suppress(OSError):
                    info = path.lstat()
                    if stat.S_ISREG(info.st_mode) and info.st_nlink == 1:
                        scan.misplaced.append(path)


def _linked_ancestors(root: Path, year_dir: Path) -> list[Path]:
    """The folders between the inbox root and the year folder that are links."""
    out = []
    current = root
    for part in year_dir.relative_to(root).parts:
        current = current / part
        if current.is_symlink():
            out.append(current)
    return out


def _signature(path: Path) -> tuple[int, int, int] | None:
    try:
        info = path.lstat()
    except OSError:
        return None
    return info.st_size, info.st_mtime_ns, info.st_ctime_ns


def _age_key(path: Path) -> tuple[float, str]:
    try:
        return path.lstat().st_ctime, path.name
    except OSError:
        return 0.0, path.name


def _rel(root: Path, path: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def _is_region_code(name: str) -> bool:
    return len(name) == 6 and name.isdigit() and name.isascii()
