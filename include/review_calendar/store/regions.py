"""The region table of the review database: save a province's regions (idempotent)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select

from review_calendar.store.db import upsert
from review_calendar.store.tables.registry import Region as RegionRow

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy.orm import Session

    from review_calendar.domain.regions import Region

_COLUMNS = ("name", "level", "parent_code", "province_code")


@dataclass(frozen=True, slots=True)
class SavedRegions:
    """What :func:`save_regions` did.

    Attributes:
        added: Regions that were not in the database.
        changed: Regions whose name, level or parent differed and were updated.
        unchanged: Regions already stored exactly so.
        kept: Regions of the same provinces in the database that the given
            regions do not list; left as they are (clusters may still refer to them).
    """

    added: int
    changed: int
    unchanged: int
    kept: int


def save_regions(session: Session, regions: Sequence[Region]) -> SavedRegions:
    """Insert new regions and update changed ones, keyed by code.

    Saving the same table twice changes nothing the second time.

    Args:
        session: Open session of the review database (migrated).
        regions: Regions with unique codes, e.g. from
            :func:`review_calendar.domain.regions.load_regions_file`.

    Returns:
        Counts of added, changed, unchanged and kept regions.
    """
    rows = [
        {"code": r.code, "name": r.name, "level": r.level, "parent_code": r.parent_code,
         "province_code": r.province_code}
        for r in regions
    ]  # fmt: skip
    provinces = {r.province_code for r in regions}
    stored = {
        row.code: tuple(getattr(row, c) for c in _COLUMNS)
        for row in session.scalars(select(RegionRow).where(RegionRow.province_code.in_(provinces)))
    }
    added = sum(row["code"] not in stored for row in rows)
    unchanged = sum(stored.get(row["code"]) == tuple(row[c] for c in _COLUMNS) for row in rows)
    upsert(session, RegionRow, rows, ["code"])
    given = {row["code"] for row in rows}
    return SavedRegions(
        added=added,
        changed=len(rows) - added - unchanged,
        unchanged=unchanged,
        kept=sum(code not in given for code in stored),
    )
