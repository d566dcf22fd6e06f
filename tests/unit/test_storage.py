"""The review database on SQLite and on a real PostgreSQL server started by the tests."""

from __future__ import annotations

import datetime as dt

import pytest
from review_calendar_demo.seed import seed_demo
from sqlalchemy import func, select

from review_calendar.store.db import current_revision, session_scope, table_names, upgrade, upsert
from review_calendar.store.models import Aggregate, Base, Cluster, Enrolment, Region

pytestmark = pytest.mark.unit


def test_migrations_create_every_model_table(migrated_url: str) -> None:
    assert current_revision(migrated_url) is not None
    assert set(Base.metadata.tables) <= set(table_names(migrated_url))


def test_migrations_match_the_models(migrated_url: str) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from review_calendar.store.db import get_engine

    with get_engine(migrated_url).connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)

    assert diff == []


def test_upgrade_twice_is_a_no_op(migrated_url: str) -> None:
    before = current_revision(migrated_url)

    upgrade(migrated_url)

    assert current_revision(migrated_url) == before


def test_upsert_updates_instead_of_duplicating(migrated_url: str) -> None:
    key = {
        "programme_id": "p",
        "cycle_year": 2025,
        "obligation_id": "o",
        "period": "Y",
        "region_code": "130000",
    }
    with session_scope(migrated_url) as s:
        upsert(s, Aggregate, [{**key, "metric": "m", "value": 1.0}], list(key) + ["metric"])
    with session_scope(migrated_url) as s:
        upsert(s, Aggregate, [{**key, "metric": "m", "value": 2.0}], list(key) + ["metric"])

    with session_scope(migrated_url) as s:
        values = s.scalars(select(Aggregate.value)).all()
    assert values == [2.0]


def test_seed_demo_is_idempotent(migrated_url: str) -> None:
    seed_demo(migrated_url)
    seed_demo(migrated_url)

    with session_scope(migrated_url) as s:
        regions = s.scalar(select(func.count()).select_from(Region))
        clusters = s.scalar(select(func.count()).select_from(Cluster))
        enrolments = s.scalar(select(func.count()).select_from(Enrolment))
    assert (regions, clusters, enrolments) == (179 + 124, 24, 25)  # Hebei real + Henan synthetic


def test_seed_keeps_a_decided_enrolment(migrated_url: str) -> None:
    seed_demo(migrated_url)
    with session_scope(migrated_url) as s:
        e = s.get(Enrolment, ("miit_sme_cluster", "botou_casting"))
        e.status, e.valid_until = "extended", dt.date(2028, 11, 29)

    seed_demo(migrated_url)

    with session_scope(migrated_url) as s:
        e = s.get(Enrolment, ("miit_sme_cluster", "botou_casting"))
        assert (e.status, e.valid_until) == ("extended", dt.date(2028, 11, 29))


def test_demo_pilots_of_2016_completed_their_three_year_period(migrated_url: str) -> None:
    seed_demo(migrated_url)

    with session_scope(migrated_url) as s:
        e = s.get(Enrolment, ("hebei_smart_cluster", "anguo_tcm"))
    assert (e.recognised_on, e.valid_until, e.status) == (
        dt.date(2016, 3, 10),
        dt.date(2019, 3, 9),
        "completed",
    )


def test_insert_ignore_counts_only_new_rows(migrated_url: str) -> None:
    from review_calendar.store.db import insert_ignore
    from review_calendar.store.models import Region as R

    row = {
        "code": "990000",
        "name": "测试",
        "level": "province",
        "parent_code": None,
        "province_code": "990000",
    }
    with session_scope(migrated_url) as s:
        first = insert_ignore(s, R, [row], ["code"])
    with session_scope(migrated_url) as s:
        second = insert_ignore(s, R, [row, {**row, "code": "990100", "level": "city"}], ["code"])

    assert (first, second) == (1, 1)
