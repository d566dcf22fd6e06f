"""Fault tests: SMTP outage, review database unavailable or locked, killed and concurrent intake.

Shared arrange helpers live here: a batch of realistic contact lists dropped
in an instance's inbox, and a consistency check of what intake left behind.
Nothing in the product code is mocked; faults are real (a stopped SMTP
server, a locked SQLite file, a PostgreSQL database that refuses connections,
a SIGKILLed process, two intake runs at once).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from review_calendar.domain.programmes import ObligationInstance, Programme, find_instance, load_programme
from review_calendar.intake.inbox import inbox_dir, pending_files
from review_calendar.settings import Settings
from review_calendar.store.db import session_scope
from review_calendar.store.models import DatasetRow, Submission, SubmissionError
from review_calendar.store.queries import expected_submitters
from review_calendar_demo.synthetic import break_records, records_for, set_received, write_xlsx

PROGRAMME_ID = "hebei_smart_cluster"
RECEIVED = dt.date(2025, 3, 20)
AS_OF = "2025-03-31"


def contact_list_instance() -> tuple[Programme, ObligationInstance]:
    """The Hebei pilots' 2025 contact list (cities submit; due 2025-03-31)."""
    programme = load_programme(PROGRAMME_ID)
    return programme, find_instance(programme, 2025, "contact_list")


def fill_inbox(url: str, settings: Settings, instance: ObligationInstance, count: int) -> list[Path]:
    """Drop ``count`` distinct contact lists in the instance's inbox (every 5th one has a bad mobile).

    Files go to the per-city sub-folders, are all dated ``RECEIVED`` and sort by
    name in the order written, so every run takes them in the same order.

    Returns:
        The files, in that order.
    """
    programme = load_programme(instance.programme_id)
    with session_scope(url) as session:
        cities = expected_submitters(session, programme, instance)
    folder = inbox_dir(settings, instance)
    files = []
    for n in range(count):
        city = cities[n % len(cities)]
        records = records_for(programme, instance, city, seed=n)
        if n % 5 == 4:
            records = break_records(records, "bad_mobile", instance.cycle_year)
        path = write_xlsx(
            folder / city.region_code / f"{n:03d}_{city.region_name}联系人名单.xlsx", records, "联系人"
        )
        set_received(path, RECEIVED)
        files.append(path)
    return files


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass(frozen=True)
class Ledger:
    """What the review database and the folders hold after intake runs."""

    hashes: Counter[str]
    statuses: Counter[str]
    stored: set[Path]
    orphan_rows: int  # accepted submissions whose dataset rows do not add up to row_count
    rejected_without_errors: int
    pending: set[str]
    kept: set[Path]  # files in accepted/ and quarantine/ (no error sidecars)
    partial: set[Path]  # leftover ``.part`` files


def ledger(url: str, settings: Settings, instance: ObligationInstance) -> Ledger:
    """Read submissions, dataset rows, errors, the inbox and the accepted/quarantine folders."""
    with session_scope(url) as session:
        subs = session.scalars(select(Submission)).all()
        rows = dict(
            session.execute(
                select(DatasetRow.submission_id, func.count()).group_by(DatasetRow.submission_id)
            ).all()
        )
        errors = dict(
            session.execute(
                select(SubmissionError.submission_id, func.count()).group_by(SubmissionError.submission_id)
            ).all()
        )
    files = [p for d in (settings.accepted_dir, settings.quarantine_dir) if d.exists() for p in d.rglob("*")]
    return Ledger(
        hashes=Counter(s.content_hash for s in subs),
        statuses=Counter(s.status for s in subs),
        stored={Path(s.stored_path) for s in subs},
        orphan_rows=sum(
            1 for s in subs if s.status in ("accepted", "superseded") and rows.get(s.id, 0) != s.row_count
        ),
        rejected_without_errors=sum(1 for s in subs if s.status == "rejected" and not errors.get(s.id)),
        pending={sha256(p) for p in pending_files(settings, instance)},
        kept={p for p in files if p.is_file() and not p.name.endswith((".errors.json", ".part"))},
        partial={p for p in files if p.name.endswith(".part")},
    )
