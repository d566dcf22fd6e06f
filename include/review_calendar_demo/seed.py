"""Load the demo province into the review database (idempotent)."""

from __future__ import annotations

import datetime as dt
import logging
from importlib import resources
from typing import TYPE_CHECKING, Any

import yaml

from review_calendar.domain.calendar import valid_until
from review_calendar.domain.regions import load_regions
from review_calendar.store.db import insert_ignore, session_scope, upsert
from review_calendar.store.regions import save_regions
from review_calendar.store.tables.registry import Cluster, Contact, Enrolment
from review_calendar.store.tables.review import Subsidy
from review_calendar_demo.regions import synthetic_national

if TYPE_CHECKING:
    from review_calendar.domain.programmes import Programme
    from review_calendar.domain.regions import Region

log = logging.getLogger(__name__)


def demo_data() -> dict[str, Any]:
    """The demo definition shipped with the package (``data/demo.yaml``)."""
    text = resources.files("review_calendar_demo").joinpath("data/demo.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


def enrolment_status(valid_to: dt.date, as_of: dt.date) -> str:
    """Status of an untouched enrolment on ``as_of``: active, or completed once its period has ended."""
    return "active" if valid_to >= as_of else "completed"


def _regions(demo: dict[str, Any]) -> list[Region]:
    """The demo province's real regions, plus the synthetic provinces the demo names."""
    regions = load_regions(demo["province_code"])
    wanted = set(demo.get("synthetic_provinces", []))
    if wanted:
        regions += [r for r in synthetic_national() if r.province_code in wanted]
    return regions


def _cluster_rows(demo: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows of the ``clusters`` table for the demo's clusters."""
    return [
        {
            "id": c["id"],
            "name": c["name"],
            "region_code": c["region_code"],
            "industry": c.get("industry", ""),
            "synthetic": bool(c.get("synthetic", False)),
        }
        for c in demo["clusters"]
    ]


def _enrolment_rows(
    demo: dict[str, Any], programmes: dict[str, Programme], as_of: dt.date
) -> list[dict[str, Any]]:
    """Rows of the ``enrolments`` table: validity from each programme's period, status on ``as_of``."""
    rows = []
    for programme_id, entries in demo["enrolments"].items():
        years = programmes[programme_id].validity.years
        for e in entries:
            recognised = e["recognised_on"]
            end = valid_until(recognised, years)
            rows.append(
                {
                    "programme_id": programme_id,
                    "cluster_id": e["cluster_id"],
                    "recognised_on": recognised,
                    "valid_until": end,
                    "status": enrolment_status(end, as_of),
                    "category": e.get("category", ""),
                }
            )
    return rows


def seed_demo(url: str, as_of: dt.date | None = None) -> dict[str, int]:
    """Upsert the demo regions, clusters and enrolments.

    Enrolments already in the database keep their status and validity (a
    re-review may have extended or revoked them); only new ones are added.

    Args:
        url: Review database URL (already migrated).
        as_of: Date that decides whether a new enrolment's period has ended
            (default: Jan 1 of the demo year).

    Returns:
        Counts of rows per table.
    """
    from review_calendar.domain.programmes import load_programmes
    from review_calendar.settings import get_settings

    demo = demo_data()
    as_of = as_of or dt.date(demo["default_year"], 1, 1)
    regions = _regions(demo)
    cluster_rows = _cluster_rows(demo)
    enrolment_rows = _enrolment_rows(demo, load_programmes(get_settings().programmes_dir), as_of)
    subsidy_rows = [
        {**s, "kind": "granted", "rule": "demo: 试点专项资金补贴（示例）"} for s in demo.get("subsidies", [])
    ]
    with session_scope(url) as session:
        save_regions(session, regions)
        upsert(session, Cluster, cluster_rows, ["id"])
        insert_ignore(session, Enrolment, enrolment_rows, ["programme_id", "cluster_id"])
        upsert(session, Subsidy, subsidy_rows, ["programme_id", "beneficiary", "cycle_year", "kind"])
        upsert(
            session, Contact, demo.get("contacts", []), ["programme_id", "cycle_year", "region_code", "role"]
        )
    log.info("Demo seeded: %d regions, %d clusters", len(regions), len(cluster_rows))
    return {
        "regions": len(regions),
        "clusters": len(cluster_rows),
        "enrolments": len(enrolment_rows),
        "subsidies": len(subsidy_rows),
    }
