"""The review database on SQLite and on a real PostgreSQL server started by the tests."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select

from review_calendar.store.db import current_revision, session_scope, table_names, upgrade, upsert
from review_calendar.store.models import Aggregate, Base, Cluster, Enrolment, Region
from review_calendar_demo.seed import seed_demo
from tests.support.builders import region_values

if TYPE_CHECKING:
    from pathlib import Path

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

    row = region_values("990000", "测试", "province")
    with session_scope(migrated_url) as s:
        first = insert_ignore(s, R, [row], ["code"])
    with session_scope(migrated_url) as s:
        second = insert_ignore(s, R, [row, {**row, "code": "990100", "level": "city"}], ["code"])

    assert (first, second) == (1, 1)


def test_save_regions_counts_added_changed_unchanged_and_kept(migrated_url: str) -> None:
    from dataclasses import replace

    from review_calendar.domain.regions import load_regions
    from review_calendar.store.regions import SavedRegions, save_regions

    hebei = load_regions("130000")
    renamed = [
        replace(r, name="安国市（新）") if r.code == "130683" else r for r in hebei if r.code != "131182"
    ]
    with session_scope(migrated_url) as s:
        first = save_regions(s, hebei)
    with session_scope(migrated_url) as s:
        second = save_regions(s, hebei)
    with session_scope(migrated_url) as s:
        third = save_regions(s, renamed)
        names = dict(s.execute(select(Region.code, Region.name)).tuples().all())

    assert first == SavedRegions(added=179, changed=0, unchanged=0, kept=0)
    assert second == SavedRegions(added=0, changed=0, unchanged=179, kept=0)
    assert third == SavedRegions(added=0, changed=1, unchanged=177, kept=1)
    assert (names["130683"], names["131182"], len(names)) == ("安国市（新）", "深州市", 179)


def test_partial_index_has_its_where_on_each_database(migrated_url: str) -> None:
    # Submissions without a region are unique by content among themselves only: the WHERE must
    # be in the DDL for SQLite and PostgreSQL alike, though it is attached when the engine is made.
    from sqlalchemy.schema import CreateIndex

    from review_calendar.store.db import get_engine
    from review_calendar.store.models import Submission

    engine = get_engine(migrated_url)
    (index,) = [i for i in Submission.__table__.indexes if i.name == "uq_submissions_content_no_region"]

    ddl = str(CreateIndex(index).compile(dialect=engine.dialect))

    assert "UNIQUE INDEX" in ddl and ddl.rstrip().endswith("WHERE region_code IS NULL")


def test_an_sqlite_command_does_not_load_the_postgresql_dialect(tmp_path: Path) -> None:
    from tests.support.fresh import run_fresh

    url = f"sqlite:///{tmp_path}/review.db"
    # Migrating loads Alembic, whose scripts name both dialects; a command finds its database migrated.
    upgrade(url)
    script = (
        "import json, sys\n"
        "from sqlalchemy import select\n"
        "from review_calendar.store.db import session_scope, upgrade\n"
        "from review_calendar.store.models import Submission\n"
        f"upgrade({url!r})\n"
        f"with session_scope({url!r}) as session:\n"
        "    session.scalars(select(Submission)).all()\n"
        "print(json.dumps('sqlalchemy.dialects.postgresql' in sys.modules))"
    )

    loaded, _ = run_fresh(script)

    assert loaded is False


STANDS_ALONE = """
import json, sys
from sqlalchemy.orm import configure_mappers
from review_calendar.store.tables.base import Base
__import__("review_calendar.store.tables." + sys.argv[1])
configure_mappers()
unresolved = []
for table in Base.metadata.tables.values():
    for key in table.foreign_keys:
        try:
            key.column
        except Exception as exc:
            unresolved.append(f"{table.name}: {exc}")
print(json.dumps(unresolved))
"""


@pytest.mark.parametrize("area", ["registry", "intake", "review", "decisions", "mail"])
def test_each_area_of_tables_can_be_imported_alone(area: str) -> None:
    # A command imports only the areas it uses: every foreign key and relationship must resolve.
    from tests.support.fresh import run_fresh

    unresolved, _ = run_fresh(STANDS_ALONE, area)

    assert unresolved == []
