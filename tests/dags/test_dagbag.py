"""DagBag suite: every DAG imports, follows the house header, and parses without side effects."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.dagbag
ROOT = Path(__file__).resolve().parents[2]
DAG_FILES = sorted(p for p in (ROOT / "dags").glob("*.py") if not p.name.startswith("_"))
HEAVY = ("pandas", "great_expectations", "sqlalchemy", "openpyxl", "python_calamine", "numpy")


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(ROOT / "dags"))


@pytest.fixture(scope="module")
def programme_tags() -> set[str]:
    from review_calendar.domain.programmes import load_programmes

    return {t for p in load_programmes(ROOT / "programmes").values() for t in p.tags}


def test_no_import_errors(dagbag) -> None:
    assert dagbag.import_errors == {}
    assert len(dagbag.dags) >= 4


def test_one_calendar_dag_per_programme_file(dagbag) -> None:
    stems = sorted(p.stem for p in (ROOT / "programmes").glob("*.yaml"))
    assert [d for d in sorted(dagbag.dags) if d.startswith("programme_calendar__")] == [
        f"programme_calendar__{s}" for s in stems
    ]


def test_every_dag_has_the_house_header(dagbag, programme_tags: set[str]) -> None:
    from review_calendar_airflow.dag_defaults import APPROVED_TAGS

    problems = []
    for dag_id, dag in sorted(dagbag.dags.items()):
        stem = Path(dag.fileloc).stem
        checks = {
            "dag_id is the file stem (+ __suffix)": dag_id == stem or dag_id.startswith(f"{stem}__"),
            "doc_md for reviewers": bool(dag.doc_md and len(dag.doc_md) > 80),
            "description": bool(dag.description),
            "Chinese display name": dag.dag_display_name != dag_id and not dag.dag_display_name.isascii(),
            "approved tags": bool(dag.tags) and set(dag.tags) <= APPROVED_TAGS | programme_tags,
            "start_date in Asia/Shanghai": dag.start_date is not None
            and str(dag.timezone) == "Asia/Shanghai",
            # A decision run only holds parked Required Actions (no worker slot) until answered.
            "max_active_runs set": dag.max_active_runs <= (16 if dag_id.startswith("decisions__") else 4),
            "dagrun_timeout": dag.dagrun_timeout is not None,
            "retries >= 2 on every task": all(t.retries >= 2 for t in dag.tasks),
            "task ids ASCII snake_case": all(re.fullmatch(r"[a-z][a-z0-9_.]*", t.task_id) for t in dag.tasks),
            "task docs": all(
                t.doc_md or t.doc for t in dag.tasks if t.task_type.endswith("DecoratedOperator")
            ),
        }
        problems += [f"{dag_id}: {name}" for name, ok in checks.items() if not ok]
    assert problems == []


@pytest.mark.parametrize("path", [pytest.param(p, id=p.stem) for p in DAG_FILES])
def test_dag_call_states_schedule_and_catchup(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    calls = [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and getattr(n.func, "id", getattr(n.func, "attr", None)) in ("dag", "DAG")
    ]
    assert calls, "no @dag(...) call"
    for call in calls:
        assert {"schedule", "catchup", "start_date", "dagrun_timeout"} <= {k.arg for k in call.keywords}


PARSE_PROBE = r"""
import json, sys, importlib.util
events = []
def hook(event, args):
    if event in ("socket.connect", "sqlite3.connect", "socket.getaddrinfo"):
        events.append(event)
sys.addaudithook(hook)
import airflow.sdk  # baseline: what Airflow itself loads is not the DAG file's doing
baseline = set(sys.modules)
path = sys.argv[1]
spec = importlib.util.spec_from_file_location("dag_under_test", path)
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
heavy = [m for m in %r if m in sys.modules and m not in baseline]
print(json.dumps({"events": events, "heavy": heavy}))
"""


@pytest.mark.parametrize("path", [pytest.param(p, id=p.stem) for p in DAG_FILES])
def test_parsing_has_no_side_effects_and_no_heavy_imports(path: Path, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{tmp_path / 'absent' / 'airflow.db'}",
        "REVIEW_CALENDAR_DB_URL": "postgresql://nobody@203.0.113.1:1/none",
    }
    result = subprocess.run(
        [sys.executable, "-c", PARSE_PROBE % (HEAVY,), str(path)],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report == {"events": [], "heavy": []}


def test_every_dag_serialises_and_round_trips(dagbag) -> None:
    from airflow.serialization.serialized_objects import DagSerialization

    for dag_id, dag in dagbag.dags.items():
        data = DagSerialization.to_dict(dag)
        restored = DagSerialization.from_dict(data)
        assert restored.dag_id == dag_id
        assert type(restored.timetable).__name__ == type(dag.timetable).__name__


def test_every_task_has_a_chinese_name_and_doc_for_reviewers(dagbag) -> None:
    untranslated = [
        f"{dag_id}.{task.task_id}"
        for dag_id, dag in sorted(dagbag.dags.items())
        for task in dag.tasks
        if task.task_display_name.isascii() or not task.doc_md or task.doc_md.isascii()
    ]

    assert untranslated == []


def test_deadline_wait_starts_and_ends_in_the_triggerer(dagbag) -> None:
    waits = [
        d.get_task("wait_for_deadline") for i, d in dagbag.dags.items() if i.startswith("review_cycle__")
    ]

    assert waits
    assert all(w.start_from_trigger and w.end_from_trigger for w in waits)
    assert all("map_indexes=-1" in w.target_time for w in waits)  # the triggerer answers single pulls only
