"""Who may do what, on Airflow's real stack with the FAB auth manager and the project's roles.

One stack per database for the whole module: ``scripts/airflow-ui.sh`` with the
project's DAGs plus a second DAG bundle holding ``decisions__test`` (one
Required Action), its provisioning run with ``--extra-programme test`` (the
generic reviewer answers ``decisions__test``). Tokens come from FAB's
``POST /auth/token`` with the passwords in ``$AIRFLOW_HOME/passwords.json``.

- anonymous: 401;
- a reviewer reads DAGs, runs, Required Actions and the plugin list, but may not
  trigger, clear or pause a review cycle, nor trigger or clear a decision DAG;
- the operator triggers, clears and pauses, but may not answer an action that is
  assigned to someone else;
- the assigned reviewer answers (200) and the task resumes; another programme's
  reviewer may not (no edit on that decision DAG);
- a reviewer may not pause the decision DAG it answers either: FAB would allow
  it (answering needs edit on that DAG), the plugin's pause guard refuses it.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.stack.airflow_stack import AirflowStack, free_port, wait_for
from tests.stack.conftest import OUTPUT

pytestmark = [pytest.mark.e2e, pytest.mark.stack]

HITL_DAGS = Path(__file__).resolve().parent / "dags_hitl"
CYCLE = "review_cycle__hebei_smart_cluster__full_year_report"
DECISIONS = "decisions__test"
BUNDLES = [
    {"name": "dags-folder", "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle", "kwargs": {}},
    {
        "name": "hitl-tests",
        "classpath": "airflow.dag_processing.bundles.local.LocalDagBundle",
        "kwargs": {"path": str(HITL_DAGS)},
    },
]


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def airflow(request: pytest.FixtureRequest) -> Iterator[AirflowStack]:
    """The stack with the project's DAGs and ``decisions__test``, both DAGs parsed."""
    from review_calendar.store.db import upgrade

    tmp = Path(tempfile.mkdtemp(prefix=f"rc-access-{request.param}-"))
    home, review_home = tmp / "airflow", tmp / "review"
    if request.param == "sqlite":
        metadata, review_url = f"sqlite:///{home / 'airflow.db'}", f"sqlite:///{review_home / 'review.db'}"
    else:
        server = request.getfixturevalue("pg_server")
        metadata = server.create_database("airflow").replace("postgresql://", "postgresql+psycopg2://", 1)
        review_url = server.create_database("review")
    review_home.mkdir(parents=True)
    upgrade(review_url)
    env = AirflowStack.environment(
        home, metadata, free_port(),
        {
            "REVIEW_CALENDAR_HOME": str(review_home),
            "REVIEW_CALENDAR_DB_URL": review_url,
            "REVIEW_CALENDAR_EXTRA_DECISION_DAGS": "test",
            "AIRFLOW__DAG_PROCESSOR__DAG_BUNDLE_CONFIG_LIST": json.dumps(BUNDLES),
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "600",
        },
    )  # fmt: skip
    stack = AirflowStack(home=home, env=env, port=int(env["AIRFLOW__API__PORT"]))
    try:
        stack.start()
        wait_for(
            lambda: all(_dag(stack, d).status == 200 for d in (CYCLE, DECISIONS)), 300, "both DAGs parsed"
        )
        yield stack
    finally:
        stack.stop()
        keep = OUTPUT / f"access-{request.param}"
        shutil.rmtree(keep, ignore_errors=True)
        if home.exists():
            shutil.copytree(
                home, keep, ignore=shutil.ignore_patterns("*.db", "*.db-*", "passwords.json", "*.cfg")
            )
        shutil.rmtree(tmp, ignore_errors=True)


def _dag(stack: AirflowStack, dag_id: str) -> Any:
    return stack.api("GET", f"/dags/{quote(dag_id)}", user="admin")


def _trigger(stack: AirflowStack, dag_id: str, user: str, conf: dict[str, Any]) -> Any:
    return stack.api(
        "POST", f"/dags/{quote(dag_id)}/dagRuns", {"logical_date": None, "conf": conf}, user=user
    )


def _clear(stack: AirflowStack, dag_id: str, user: str, *, dry_run: bool = True) -> Any:
    body = {"dry_run": dry_run, "only_failed": False}
    return stack.api("POST", f"/dags/{quote(dag_id)}/clearTaskInstances", body, user=user)


def _pause(stack: AirflowStack, dag_id: str, user: str, paused: bool) -> Any:
    return stack.api("PATCH", f"/dags/{quote(dag_id)}", {"is_paused": paused}, user=user)


def _answer(stack: AirflowStack, run_id: str, user: str) -> Any:
    path = f"/dags/{DECISIONS}/dagRuns/{quote(run_id)}/taskInstances/decide/-1/hitlDetails"
    return stack.api("PATCH", path, {"chosen_options": ["同意"], "params_input": {}}, user=user)


def test_anonymous_requests_get_401(airflow: AirflowStack) -> None:
    assert airflow.api("GET", "/dags", user=None).status == 401
    assert _trigger(airflow, CYCLE, None, {"year": 2025}).status == 401  # type: ignore[arg-type]


def test_a_reviewer_reads_dags_runs_required_actions_and_plugins(airflow: AirflowStack) -> None:
    dags = {d["dag_id"] for d in airflow.api("GET", "/dags?limit=200", user="reviewer").ok()["dags"]}
    plugins = airflow.api("GET", "/plugins", user="reviewer").ok()["plugins"]

    assert {CYCLE, DECISIONS} <= dags
    assert airflow.api("GET", f"/dags/{CYCLE}/dagRuns", user="reviewer").status == 200
    assert airflow.api("GET", "/dags/~/dagRuns/~/hitlDetails", user="reviewer").status == 200
    assert "review_calendar" in {p["name"] for p in plugins}


@pytest.mark.parametrize("dag_id", [CYCLE, DECISIONS])
def test_a_reviewer_cannot_trigger_or_clear(airflow: AirflowStack, dag_id: str) -> None:
    assert _trigger(airflow, dag_id, "reviewer", {"year": 2025}).status == 403
    assert _clear(airflow, dag_id, "reviewer").status == 403
    assert _clear(airflow, dag_id, "hebei_reviewer").status == 403


def test_a_reviewer_cannot_pause_or_unpause_a_review_cycle(airflow: AirflowStack) -> None:
    assert _pause(airflow, CYCLE, "reviewer", False).status == 403
    assert _pause(airflow, CYCLE, "hebei_reviewer", False).status == 403
    assert _dag(airflow, CYCLE).ok()["is_paused"] is True


def test_the_operator_triggers_clears_and_pauses(airflow: AirflowStack) -> None:
    run = _trigger(airflow, CYCLE, "operator", {"year": 2025})
    clear = _clear(airflow, CYCLE, "operator", dry_run=False)

    assert run.status in (200, 201), run.body
    assert clear.status == 200, clear.body
    assert _pause(airflow, CYCLE, "operator", True).status == 200


def test_only_the_assigned_reviewer_answers_a_required_action(airflow: AirflowStack) -> None:
    assert _pause(airflow, DECISIONS, "operator", False).status == 200
    run_id = _trigger(airflow, DECISIONS, "operator", {"assigned": ["reviewer"]}).ok()["dag_run_id"]

    def awaiting() -> bool:
        (ti,) = airflow.task_instances(DECISIONS, run_id)
        return ti["state"] in ("awaiting_input", "deferred")

    wait_for(awaiting, 300, "decisions__test to await input")
    pending = airflow.api(
        "GET", f"/dags/{DECISIONS}/dagRuns/{quote(run_id)}/hitlDetails", user="reviewer"
    ).ok()
    operator, other_programme = (
        _answer(airflow, run_id, "operator"),
        _answer(airflow, run_id, "hebei_reviewer"),
    )
    answer = _answer(airflow, run_id, "reviewer")

    assert pending["total_entries"] == 1
    assert pending["hitl_details"][0]["assigned_users"] == [
        {"id": airflow.user_id("reviewer"), "name": "reviewer"}
    ]
    assert operator.status == 403, operator.body  # Op may answer, but not an action assigned to someone else
    assert other_programme.status == 403, other_programme.body  # no edit on DAG:decisions__test
    assert answer.status == 200, answer.body
    assert answer.body["responded_by"]["name"] == "reviewer"
    assert airflow.wait_finished(DECISIONS, run_id, 300)["state"] == "success"


def test_a_reviewer_cannot_pause_the_decision_dag_it_answers(airflow: AirflowStack) -> None:
    """FAB's edit on a DAG (needed to answer its actions) includes pausing: the plugin's guard refuses it."""
    bulk = airflow.api("PATCH", f"/dags?dag_id_pattern={DECISIONS}", {"is_paused": True}, user="reviewer")

    assert _pause(airflow, DECISIONS, "reviewer", True).status == 403
    assert _pause(airflow, DECISIONS, "hebei_reviewer", True).status == 403
    assert bulk.status == 403
    assert _dag(airflow, DECISIONS).ok()["is_paused"] is False
    assert _pause(airflow, DECISIONS, "operator", True).status == 200
    assert _pause(airflow, DECISIONS, "admin", False).status == 200
    assert _pause(airflow, DECISIONS, None, True).status == 401  # type: ignore[arg-type]
