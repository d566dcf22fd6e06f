"""The ``reminders`` DAG: escalations and rectification follow-ups ride the daily run and its send step."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.dagbag
DAG_FILE = Path(__file__).resolve().parents[2] / "dags" / "reminders.py"


@pytest.fixture(scope="module")
def dag():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(DAG_FILE))
    assert not bag.import_errors
    return bag.dags["reminders"]


def test_escalations_are_sent_by_the_send_step(dag) -> None:
    escalate = dag.get_task("escalate_proposals")

    assert escalate.upstream_task_ids == {"resolve_day"}
    assert escalate.downstream_task_ids == {"send_emails"}


def test_follow_ups_are_checked_after_the_sweep_and_sent(dag) -> None:
    follow_up = dag.get_task("follow_up_rectifications")

    assert follow_up.upstream_task_ids == {"resolve_day", "sweep_inboxes"}
    assert follow_up.downstream_task_ids == {"send_emails"}


def test_a_day_without_an_open_instance_still_sends(dag) -> None:
    """No reminder task is mapped on such a day (skipped): the escalations must still go out."""
    send = dag.get_task("send_emails")

    assert send.trigger_rule == "none_failed"
    assert {"plan_reminders", "escalate_proposals", "follow_up_rectifications"} <= send.upstream_task_ids
