"""Files under the inboxes that the sweep could not place, for the reviewers' landing page.

The sweep keeps each instance's list in ``reports/inbox/<instance>.json``
(replaced at every sweep, so a file put right disappears from the page) and
the day each file was first reported to the operators in ``reports/inbox/alerted.json``.
Reads files only: no session, no clock.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from review_calendar.domain.programmes import Programme

#: The operators' alert ledger beside the per-instance lists (not a list itself).
LEDGER = "alerted.json"


@dataclass(frozen=True, slots=True)
class UnplacedFile:
    """A file (or folder, or link) under an inbox that was not taken in.

    Attributes:
        programme_id: The programme whose inbox holds it.
        path: Where it is, relative to the inbox root.
        reason: Why it could not be placed (Chinese).
        seen_on: The day of the sweep that last found it (ISO date).
        alerted_on: The day the operators were e-mailed about it ("" when not yet).
        programme_name: The programme's Chinese title (its id when the programme is not known).
    """

    programme_id: str
    path: str
    reason: str
    seen_on: str
    alerted_on: str
    programme_name: str = ""


def unplaced_files(
    reports_dir: Path, programmes: Mapping[str, Programme] | None = None
) -> list[UnplacedFile]:
    """Every file the latest sweeps could not place, once each, by programme and path.

    ``programmes`` gives each file its programme's Chinese title (``short_name``).
    """
    known = programmes or {}
    folder = reports_dir / "inbox"
    alerted = _load(folder / LEDGER)
    out: dict[str, UnplacedFile] = {}
    for listing in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        if listing.name == LEDGER:
            continue
        body = _load(listing)
        programme_id = str(body.get("instance", "")).split("/")[0]
        for u in body.get("unplaced") or []:
            path, reason = str(u.get("path", "")), str(u.get("reason", ""))
            if path and path not in out:
                when = str(alerted.get(f"{path}\t{reason}", ""))
                name = known[programme_id].short_name if programme_id in known else programme_id
                out[path] = UnplacedFile(programme_id, path, reason, str(body.get("as_of", "")), when, name)
    return sorted(out.values(), key=lambda u: (u.programme_id, u.path))


def _load(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}
