"""Files under the inbox that no instance's sweep looks at, each with the reason.

A sweep takes in the folders of the obligation instances open on its day
(:func:`review_calendar.intake.inbox.scan_inbox`) and reports what lies loose in
their cycle's year folder (:func:`~review_calendar.intake.inbox.stray_entries`).
Everything else under the inbox is found here, so no file is left silently:

- a file directly in the inbox root or in a programme's folder, a folder that
  names no programme, a year folder that is no cycle of the programme (before its
  first year, after next year, or not a year at all);
- the loose entries of a cycle none of whose instances is swept;
- the files in the folder of an instance not open: sent before it opens (taken
  in once it opens) or after its window closed (for an operator to take in by hand).

Links are reported, never followed; upload tools' temporary files are left alone.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import TYPE_CHECKING

from review_calendar.domain.programmes import ad_hoc_instance, instances_for_year
from review_calendar.intake.inbox import (
    TEMPORARY_SUFFIXES,
    InboxScan,
    Unplaced,
    _rel,
    _report_all,
    instance_folders,
    stray_entries,
)

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping

    from review_calendar.domain.programmes import ObligationInstance, Programme
    from review_calendar.settings import Settings

__all__ = ["cycle_instances", "outside_entries"]

_LINK = "符号链接，不跟随、不读取"
_DIR_LINK = "收件目录是符号链接，不跟随、不读取"


def cycle_instances(programme: Programme, year: int) -> list[ObligationInstance]:
    """Every instance whose folder a cycle's year folder may hold: the dated ones and the ad-hoc reports."""
    return [*instances_for_year(programme, year), *(ad_hoc_instance(programme, year, o.id) for o in
                                                      programme.ad_hoc_obligations)]  # fmt: skip


def outside_entries(
    settings: Settings,
    programmes: Mapping[str, Programme],
    day: dt.date,
    covered: Collection[str],
    *,
    swept_years: Collection[tuple[str, int]] = (),
    root_level: bool = True,
) -> dict[str, list[Unplaced]]:
    """What lies under the programmes' inbox folders outside every covered instance, by programme.

    Args:
        settings: Where the inbox is.
        programmes: The programmes to look at, by id.
        day: The sweep's day (Beijing time): a cycle is one from the programme's
            first year to the year after ``day``'s.
        covered: Keys of the instances a sweep takes care of (swept now, or open on ``day``).
        swept_years: (programme, year) whose loose entries a swept instance reports already.
        root_level: Also look at the inbox root (entries naming no programme), under ``""``.

    Returns:
        Unplaced entries (paths relative to the inbox root) by programme id (``""``: none).
    """
    root = settings.inbox_dir
    out: dict[str, list[Unplaced]] = {}
    if root_level:
        for entry in _entries(root):
            if entry.name not in programmes:
                kind = "目录" if entry.is_dir(follow_symlinks=False) else "文件"
                reason = f"{kind}“{entry.name}”不属于任何已配置项目的收件目录，无法确定所属项目"
                out.setdefault("", []).extend(_all_files(root, Path(entry.path), reason))
    for pid, programme in sorted(programmes.items()):
        found = out.setdefault(pid, [])
        folder = root / pid
        if folder.is_symlink():
            found.append(Unplaced(_rel(root, folder), _DIR_LINK))
            continue
        for entry in _entries(folder):
            path = Path(entry.path)
            year = _year(entry.name)
            if entry.is_symlink():
                found.append(Unplaced(_rel(root, path), _DIR_LINK if path.is_dir() else _LINK))
            elif not entry.is_dir(follow_symlinks=False):
                reason = "文件直接放在项目目录中，未放入“年度/报送事项/地区代码”目录，无法确定所属报送事项"
                found.append(Unplaced(_rel(root, path), reason))
            elif year is None or not programme.first_year <= year <= day.year + 1:
                reason = (f"目录“{entry.name}”不是本项目的报送年度（{programme.first_year} 年至 "
                          f"{day.year + 1} 年），无法确定所属报送事项")  # fmt: skip
                found.extend(_all_files(root, path, reason))
            else:
                found.extend(_cycle(settings, programme, year, day, covered, (pid, year) in swept_years))
    return {pid: entries for pid, entries in out.items() if entries}


def _cycle(
    settings: Settings, programme: Programme, year: int, day: dt.date, covered: Collection[str], swept: bool
) -> list[Unplaced]:
    """A cycle's year folder: its loose entries (unless a swept instance reports them) and closed instances' files."""
    instances = cycle_instances(programme, year)
    found = [] if swept else stray_entries(settings, instances)
    for instance in instances:
        if instance.key in covered:
            continue
        reason = _closed_reason(programme, instance, day)
        for folder in instance_folders(settings, instance):
            found.extend(_all_files(settings.inbox_dir, folder, reason))
    return found


def _closed_reason(programme: Programme, instance: ObligationInstance, day: dt.date) -> str:
    """Why the files of an instance not swept on ``day`` wait (Chinese)."""
    obligation = programme.obligation(instance.obligation_id)
    name = f"{instance.cycle_year} 年“{obligation.title}”"
    if not obligation.dataset:
        return f"{name}不经收件箱接收，无法处理"
    if day < instance.opens_on:
        return f"{name}尚未开放收件（{instance.opens_on.isoformat()} 起接收），开放后巡检自动接收"
    stop = instance.effective_due + dt.timedelta(days=programme.reminders_for(obligation).stop_after_days)
    return f"{name}收件期已过（{stop.isoformat()} 止），巡检不再接收，请运维人员核实后用 review-calendar ingest 接收"


def _all_files(root: Path, path: Path, reason: str) -> list[Unplaced]:
    """Every file (and link) at or under ``path``, reported with ``reason``."""
    if path.is_symlink():
        return [Unplaced(_rel(root, path), _DIR_LINK if path.is_dir() else _LINK)]
    if not path.is_dir():
        name = path.name
        if name.startswith((".", "~$")) or name.lower().endswith(TEMPORARY_SUFFIXES):
            return []
        return [Unplaced(_rel(root, path), reason)]
    scan = InboxScan()
    _report_all(root, path, reason, scan)
    return scan.unplaced


def _entries(folder: Path) -> list[os.DirEntry[str]]:
    try:
        return sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return []


def _year(name: str) -> int | None:
    name = name.strip()
    return int(name) if len(name) == 4 and name.isdigit() and name.isascii() else None
