"""Arrange helpers of the inbox safety tests: the demo province and its 2025 contact list instance."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from review_calendar.settings import get_settings
from review_calendar.store.db import session_scope
from review_calendar.store.models import Submission
from review_calendar.store.queries import expected_submitters
from review_calendar_demo.synthetic import records_for, set_received, write_xlsx
from tests.faults import RECEIVED, contact_list_instance

if TYPE_CHECKING:
    from pathlib import Path


def a_contact_list(url: str, path: Path, city_index: int = 0) -> Path:
    """A valid contact list of the ``city_index``-th expected city, dated ``RECEIVED``."""
    programme, instance = contact_list_instance()
    with session_scope(url) as session:
        city = expected_submitters(session, programme, instance)[city_index]
    write_xlsx(path, records_for(programme, instance, city), "联系人")
    set_received(path, RECEIVED)
    return path


def city_code(url: str, city_index: int = 0) -> str:
    programme, instance = contact_list_instance()
    with session_scope(url) as session:
        return expected_submitters(session, programme, instance)[city_index].region_code


def submissions(url: str) -> list[Submission]:
    with session_scope(url) as session:
        rows = session.scalars(select(Submission).order_by(Submission.id)).all()
        session.expunge_all()
        return list(rows)


def submission_count(url: str) -> int:
    with session_scope(url) as session:
        return int(session.scalar(select(func.count()).select_from(Submission)) or 0)


def stored_files() -> list[Path]:
    """Every file in the accepted and quarantine folders."""
    settings = get_settings()
    folders = (settings.accepted_dir, settings.quarantine_dir)
    return sorted(p for d in folders if d.exists() for p in d.rglob("*") if p.is_file())


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
