"""The inbox: where submitted files wait for intake, one folder per obligation instance.

``<inbox>/<programme>/<year>/<obligation>[_<period>]/`` holds the files of one
instance, directly or in a sub-folder named by the submitting region's 6-digit
code (an upload portal per region). A file's modification time is the day it
was received.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from review_calendar.domain.calendar import TZ

if TYPE_CHECKING:
    from pathlib import Path

    from review_calendar.domain.programmes import ObligationInstance
    from review_calendar.settings import Settings

__all__ = ["inbox_dir", "pending_files", "received_on", "region_hint"]


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


def pending_files(settings: Settings, instance: ObligationInstance) -> list[Path]:
    """Files waiting in the instance's inbox, oldest first (hidden and partial uploads skipped).

    Files may sit directly in the inbox or in a sub-folder named by the submitting
    region's 6-digit code (an upload portal per region); the folder then tells who
    sent a file that is too broken to say it itself.

    Args:
        settings: Where the inbox is.
        instance: The obligation instance.

    Returns:
        The files by modification time, then name.
    """
    folder = inbox_dir(settings, instance)
    if not folder.exists():
        return []
    sub_folders = [d for d in folder.iterdir() if d.is_dir() and _is_region_code(d.name)]
    candidates = [*folder.iterdir(), *(q for d in sub_folders for q in d.iterdir())]
    files = [
        p
        for p in candidates
        if p.is_file() and not p.name.startswith((".", "~$")) and not p.name.endswith(".part")
    ]
    return sorted(files, key=lambda p: (p.stat().st_mtime, p.name))


def region_hint(path: Path) -> str | None:
    """The region code of the inbox sub-folder a file was uploaded to, if any."""
    parent = path.parent.name
    return parent if _is_region_code(parent) else None


def received_on(path: Path) -> dt.date:
    """The day a file was received: its modification date in Asia/Shanghai.

    Raises:
        OSError: The file is gone.
    """
    return dt.datetime.fromtimestamp(path.stat().st_mtime, tz=TZ).date()


def _is_region_code(name: str) -> bool:
    return len(name) == 6 and name.isdigit()
