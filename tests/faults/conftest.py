"""Fixtures of the fault suite (the security suite uses them too, through ``tests/security/conftest.py``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from review_calendar.store.queries import record_instances
from review_calendar_demo.seed import seed_demo
from tests.faults import contact_list_instance

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture
def sweep_env(migrated_url: str, review_env: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The demo province with its 2025 instances recorded; the review database URL."""
    monkeypatch.setenv("REVIEW_CALENDAR_DB_URL", migrated_url)
    seed_demo(migrated_url)
    programme, _ = contact_list_instance()
    record_instances(migrated_url, programme, 2025)
    return migrated_url


@pytest.fixture
def operators(monkeypatch: pytest.MonkeyPatch) -> str:
    """The operators' alert address (REVIEW_CALENDAR_OPERATORS)."""
    monkeypatch.setenv("REVIEW_CALENDAR_OPERATORS", "ops@example.org")
    return "ops@example.org"
