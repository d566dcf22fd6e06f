"""A county's file judged from a cold command line loads only what judging it needs.

``review-calendar ingest`` of one .xlsx must not import pandas, openpyxl,
Alembic, xlrd, Jinja2, Great Expectations, SQLAlchemy's PostgreSQL dialect, the
tables it does not write or the later stages (``scripts/bench_ingest.py``
measures the time), nor build the parsers of the other sub-commands; the database at its head revision is checked without
Alembic; the configuration YAML is read with LibYAML where present, with
PyYAML's own error messages.
"""

from __future__ import annotations

import argparse
import os
import textwrap
from typing import TYPE_CHECKING

import pytest
import yaml
from sqlalchemy import event

from review_calendar.domain.programmes import find_instance, load_programme
from review_calendar.domain.yaml_text import load_yaml
from review_calendar.settings import PROJECT_ROOT
from review_calendar.store import db
from review_calendar.store.queries import record_instances
from tests.support.fresh import run_fresh

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.unit

#: Modules one .xlsx file never needs on the command line.
NOT_NEEDED = (
    "pandas",
    "numpy",
    "openpyxl",
    "alembic",
    "xlrd",
    "jinja2",
    "great_expectations",
    "sqlalchemy.dialects.postgresql",
    # Only the tables a contact list is written to are mapped; nothing of the later stages.
    "review_calendar.store.models",
    "review_calendar.store.tables.review",
    "review_calendar.store.tables.mail",
    "review_calendar.decide",
    "review_calendar.gate",
    "review_calendar.notify",
)

PROBE = textwrap.dedent(
    """
    import json, sys
    from review_calendar.cli import main

    code = main(sys.argv[1:])
    print(json.dumps({"code": code, "loaded": sorted(m for m in NOT_NEEDED if m in sys.modules)}))
    """
).replace("NOT_NEEDED", repr(NOT_NEEDED))


def test_one_file_from_the_command_line_loads_nothing_it_does_not_need(tmp_path: Path) -> None:
    from review_calendar.store.queries import Submitter
    from review_calendar_demo.seed import seed_demo
    from review_calendar_demo.synthetic import records_for, write_xlsx

    home = tmp_path / "home"
    url = f"sqlite:///{home / 'review.db'}"
    db.upgrade(url)
    seed_demo(url)
    programme = load_programme("hebei_smart_cluster")
    record_instances(url, programme, 2025)
    instance = find_instance(programme, 2025, "contact_list")
    city = Submitter("130100", "石家庄市", "130100")
    path = write_xlsx(
        tmp_path / "石家庄市联系人名单.xlsx", records_for(programme, instance, city, seed=1), "联系人名单"
    )
    env = {**os.environ, "REVIEW_CALENDAR_HOME": str(home), "REVIEW_CALENDAR_DB_URL": url}
    argv = [
        "ingest",
        str(path),
        "--programme",
        programme.id,
        "--year",
        "2025",
        "--obligation",
        "contact_list",
    ]
    argv += ["--received-on", "2025-03-20"]

    result, done = run_fresh(PROBE, *argv, env=env)

    assert result == {"code": 0, "loaded": []}
    assert "已接收" in done.stdout


def test_the_scripts_head_is_alembics(tmp_path: Path) -> None:
    from alembic.script import ScriptDirectory

    heads = ScriptDirectory.from_config(db.alembic_config(f"sqlite:///{tmp_path / 'x.db'}")).get_heads()

    assert [db._script_head()] == heads


def test_a_database_at_head_is_recognised_and_one_behind_is_migrated(migrated_url: str) -> None:
    from alembic import command

    assert db._at_head(migrated_url)
    head = db.current_revision(migrated_url)
    command.downgrade(db.alembic_config(migrated_url), "-1")
    assert not db._at_head(migrated_url)

    db.upgrade(migrated_url)

    assert db.current_revision(migrated_url) == head
    assert db._at_head(migrated_url)


def test_a_new_database_is_not_at_head(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'new.db'}"

    assert not db._at_head(url)
    db.upgrade(url)
    assert db._at_head(url)


def test_recording_instances_again_writes_nothing(migrated_url: str) -> None:
    programme = load_programme("hebei_smart_cluster")
    first = record_instances(migrated_url, programme, 2025)
    writes: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if not statement.lstrip().upper().startswith("SELECT"):
            writes.append(statement)

    engine = db.get_engine(migrated_url)
    event.listen(engine, "before_cursor_execute", seen)
    try:
        again = record_instances(migrated_url, programme, 2025)
    finally:
        event.remove(engine, "before_cursor_execute", seen)

    assert again == first
    assert writes == []


@pytest.mark.parametrize(
    "path",
    [*sorted((PROJECT_ROOT / "programmes").glob("*.yaml")), PROJECT_ROOT / "config" / "holidays.yaml"],
    ids=lambda p: p.name,
)
def test_libyaml_reads_every_configuration_file_as_pyyaml_does(path: Path) -> None:
    text = path.read_text(encoding="utf-8")

    assert load_yaml(text) == yaml.safe_load(text)


@pytest.mark.parametrize(
    "text", ["id: broken\nobligations: [\n", "a: 1\n b: 2\n", "x: 2031-13-01\n", "\t- a"]
)
def test_a_text_libyaml_refuses_gets_pyyamls_own_error(text: str) -> None:
    with pytest.raises(Exception) as expected:  # whatever PyYAML raises
        yaml.safe_load(text)

    with pytest.raises(type(expected.value)) as got:
        load_yaml(text)

    assert str(got.value) == str(expected.value)


def _commands(parser: argparse.ArgumentParser) -> set[str]:
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return set(sub.choices)


def test_each_group_of_sub_commands_declares_what_it_registers() -> None:
    from review_calendar.cli import GROUPS, build_parser

    everything = _commands(build_parser())

    for group in GROUPS:
        assert _commands(build_parser([group.COMMANDS[0]])) == set(group.COMMANDS), group.__name__
    assert everything == {c for group in GROUPS for c in group.COMMANDS}


def test_a_command_line_builds_only_the_sub_command_it_names() -> None:
    from review_calendar.cli import build_parser

    assert _commands(build_parser(["-v", "ingest", "a.xlsx"])) == {"ingest", "template"}
    # No sub-command, or one misspelt: every sub-command, so that help and errors list them all.
    assert {"ingest", "remind", "decisions"} <= _commands(build_parser(["--help"]))
    assert {"ingest", "remind", "decisions"} <= _commands(build_parser(["ingets"]))
    assert {"ingest", "remind", "decisions"} <= _commands(build_parser(["-h", "ingest"]))
    assert _commands(build_parser(["ingest", "--help"])) == {"ingest", "template"}
