"""The ``record_fact`` DAG: a manual entry form whose params cover every fact the CLI records."""

from __future__ import annotations

from pathlib import Path

import pytest

from review_calendar.domain.facts import KINDS, MEETING_OUTCOMES, MIIT_DECISIONS, RE_REVIEW_RESULTS

pytestmark = pytest.mark.dagbag
DAG_FILE = Path(__file__).resolve().parents[2] / "dags" / "record_fact.py"


@pytest.fixture(scope="module")
def dag():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAG_FILE))
    assert not bag.import_errors
    return bag.dags["record_fact"]


def test_the_form_is_triggered_by_hand_only(dag) -> None:
    assert type(dag.timetable).__name__ == "NullTimetable"


def test_the_form_offers_every_kind_and_outcome(dag) -> None:
    params = dag.params.dump()
    schema = {k: dag.params.get_param(k).schema for k in params}

    assert schema["kind"]["enum"] == list(KINDS)
    assert set(MEETING_OUTCOMES) | set(MIIT_DECISIONS) | set(RE_REVIEW_RESULTS) | {
        "平台",
        "示范",
        "试点",
    } <= set(schema["outcome"]["enum"])
    assert schema["date"]["format"] == "date"
    assert all(dag.params.get_param(k).schema.get("title") for k in params)
