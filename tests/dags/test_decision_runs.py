"""Decision-DAG runs say which cycle they serve wherever Airflow 3.3 lets us name them.

An incomplete answer starts a new run of ``decisions__<programme>`` that asks
again: we name it (``ask_again__2025__decision17_round1__<answered at>``) and give
it the year in its conf and note. Runs an Asset event starts are named by
Airflow's scheduler itself (``asset_triggered__<moment>``): the pages name them by
the review ledger instead (year, period, round).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.dagbag
ROOT = Path(__file__).resolve().parents[2]
SITE = Path(__import__("airflow").__file__).parent


def _review(programme_id: str = "hebei_smart_cluster") -> Any:
    from review_calendar_airflow.review import ProposalReview

    return ProposalReview(
        task_id="review", subject="2025年 绩效评价：白沟箱包产业集群 → 撤销", body="…", programme_id=programme_id,
        decision_id=17, outcomes=["rectify"],
    )  # fmt: skip


class _TI:
    dag_id, run_id, map_index = (
        "decisions__hebei_smart_cluster",
        "asset_triggered__2026-03-01T01:00:00+00:00",
        3,
    )


def _event(option: str) -> dict[str, Any]:
    return {
        "chosen_options": [option],
        "params_input": {"outcome": "rectify", "reason": None, "new_due": None},
        "responded_at": dt.datetime(2026, 3, 2, 2, 0, tzinfo=dt.UTC),
        "responded_by_user": {"id": "7", "name": "hebei_reviewer"},
    }


@pytest.fixture
def taken(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The answer-taking step replaced: records what it was given, answers "incomplete, ask again"."""
    import review_calendar_airflow.access as access
    import review_calendar_airflow.mail as mail

    import review_calendar.tasks.reviews as reviews

    calls: list[dict[str, Any]] = []

    def take(programme_id, dag_id, run_id, map_index, payload, accounts=None):
        calls.append({"where": (dag_id, run_id, map_index), "payload": payload, "accounts": accounts})
        return {"decision_id": 17, "state": "proposed", "outcome": "revoke", "ask_again": "选择了“改变结论”，但没有填写理由",
                "round": 1, "cycle_year": 2025, "period": "", "answered_at": payload["responded_at"]}  # fmt: skip

    monkeypatch.setattr(reviews, "take_review_answer", take)
    monkeypatch.setattr(mail, "deliver_outbox", lambda: {})
    monkeypatch.setattr(access, "account_names", lambda: {"li": "李静 中小企业处"})
    return calls


def test_a_run_that_asks_again_is_named_by_the_cycle_and_round(taken: list[dict[str, Any]]) -> None:
    from airflow.sdk.exceptions import DagRunTriggerException

    with pytest.raises(DagRunTriggerException) as raised:
        _review().execute_complete({"ti": _TI()}, _event("改变结论"))

    run = raised.value
    assert run.trigger_dag_id == "decisions__hebei_smart_cluster"
    assert run.dag_run_id == "ask_again__2025__decision17_round1__2026-03-02T02:00:00+00:00"
    assert re.fullmatch(r"^[A-Za-z0-9_.~:+-]+$", run.dag_run_id)  # [scheduler] allowed_run_id_pattern
    assert run.conf == {"year": 2025, "decision_ids": [17]}
    assert run.note.startswith("2025年度拟定决定第2次请审定：")
    assert run.skip_when_already_exists  # a retry of this task starts the same run once
    assert taken[0]["where"] == (_TI.dag_id, _TI.run_id, 3)
    assert taken[0]["accounts"] == {"li": "李静 中小企业处"}  # names of accounts outside the roster
    assert taken[0]["payload"]["responded_by_user"] == {"id": "7", "name": "hebei_reviewer"}


def test_the_run_id_the_ask_again_form_takes_is_valid_for_the_decision_dag() -> None:
    from airflow.dag_processing.dagbag import DagBag

    dag = DagBag(dag_folder=str(ROOT / "dags" / "decisions.py")).dags["decisions__hebei_smart_cluster"]

    dag.params.validate()  # the year the conf carries is one of the DAG's params
    assert {"year", "decision_ids"} <= set(dag.params)


def test_airflow_names_asset_triggered_runs_without_asking_the_timetable() -> None:
    """The fact the pages rely on: 3.3's scheduler calls ``DagRun.generate_run_id`` for Asset runs.

    Should a later Airflow ask the timetable (as it does for scheduled runs), decision runs
    started by a cycle's Asset can be named by cycle there too.
    """
    source = (SITE / "jobs" / "scheduler_job_runner.py").read_text(encoding="utf-8")
    calls = re.findall(
        r"run_id=(\w+(?:\.\w+)*)\.generate_run_id\(\s*run_type=DagRunType\.ASSET_TRIGGERED", source
    )

    assert calls and set(calls) == {"DagRun"}
