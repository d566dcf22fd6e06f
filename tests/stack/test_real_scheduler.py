"""The DAGs on Airflow's real scheduler, as an operator runs them after the main job.

The path the main job prints: start ``scripts/airflow-ui.sh`` (here on a free,
non-default port), unpause the DAGs, trigger a cycle with its params through
the REST API without a logical date. Once per database, with several runs at
the same time:

- unpausing an upstream cycle (the full-year report; the annual information
  table in the weeks when the evaluation of the last full-year cycle is still
  open) runs its latest closed window at once: a timetable-scheduled run after
  its deadline, whose deadline wait starts and ends in the triggerer;
- its real completion publishes the Asset, and the downstream evaluation cycle
  runs from the Asset event (no logical date, no data interval) to success;
- the same evaluation triggered by hand through ``/api/v2`` with ``{"year": ...}``
  and no logical date runs to success, and one without a year fails at once,
  saying in Chinese what to fill in (and the operators get that by e-mail);
- unpausing the reminders DAG runs its last working-day 09:00 slot at once;
- the evaluation's proposals publish the programme's proposals Asset, whose decision
  DAG asks one Required Action per proposal and waits (no worker slot) until the
  programme's reviewer answers through ``/api/v2``; the answer is then applied.

Which cycle the scheduler picks depends on today's date, as in production; the
suite computes it with the same calendar rules and places that cycle's files.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import func, select

from review_calendar.domain.calendar import TZ
from tests.stack.airflow_stack import http, wait_for
from tests.stack.conftest import OPERATORS, Stack

pytestmark = [pytest.mark.e2e, pytest.mark.stack]

#: (programme, upstream obligation, downstream evaluation), in order of preference.
CHAINS = (
    ("hebei_smart_cluster", "full_year_report", "performance_evaluation"),
    ("miit_sme_cluster", "annual_info_table", "monitoring_evaluation"),
)
REMINDERS = "reminders"
#: Whole scenario on a busy two-core machine; about three minutes when it is idle.
RUNS_TIMEOUT = 1200


@dataclass
class Scenario:
    """What the scheduler ran, and the cycle it was expected to run."""

    stack: Stack
    programme_id: str
    upstream: str
    downstream: str
    year: int
    closes_at: dt.datetime
    unpaused_at: dt.datetime
    manual_run: str = ""
    no_year_run: str = ""
    runs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)

    def dag(self, obligation: str) -> str:
        return f"review_cycle__{self.programme_id}__{obligation}"

    def run(self, dag_id: str, run_type: str) -> dict[str, Any]:
        (found,) = [r for r in self.runs[dag_id] if r["run_type"] == run_type]
        return found


def choose_chain(now: dt.datetime) -> tuple[str, str, str, Any]:
    """The first chain whose upstream's latest closed window has a closed downstream window too.

    The scheduler runs the upstream's latest closed window when the DAG is unpaused;
    the downstream then runs to its end only if its own deadline has passed.
    """
    from review_calendar.domain.programmes import instances_for_year, load_programme
    from review_calendar.domain.runs import latest_deadline_run
    from review_calendar.domain.schedule import closes_at

    for programme_id, upstream, downstream in CHAINS:
        programme = load_programme(programme_id)
        latest = latest_deadline_run(programme, upstream, now)
        assert latest is not None
        (after,) = [
            i
            for i in instances_for_year(programme, latest.instance.cycle_year)
            if i.obligation_id == downstream
        ]
        # An hour of margin: the run must not reach its wait just before the window closes.
        if closes_at(after) <= now - dt.timedelta(hours=1):
            return programme_id, upstream, downstream, latest
    raise AssertionError(f"no chain has both windows closed on {now}")


@pytest.mark.parametrize(
    ("day", "programme_id", "year"),
    [
        pytest.param(
            dt.date(2026, 11, 30), "hebei_smart_cluster", 2025, id="after-the-evaluation-of-the-full-year"
        ),
        pytest.param(dt.date(2027, 2, 1), "miit_sme_cluster", 2026, id="while-that-evaluation-is-open"),
        pytest.param(dt.date(2027, 3, 20), "hebei_smart_cluster", 2026, id="once-it-closed"),
        pytest.param(dt.date(2027, 6, 1), "hebei_smart_cluster", 2026, id="while-the-monitoring-is-open"),
    ],
)
def test_a_chain_with_both_windows_closed_exists_on_any_day(
    day: dt.date, programme_id: str, year: int
) -> None:
    chosen = choose_chain(dt.datetime.combine(day, dt.time(12), tzinfo=TZ))

    assert (chosen[0], chosen[3].instance.cycle_year) == (programme_id, year)


def place_files(stack: Stack, programme_id: str, year: int, obligations: tuple[str, ...]) -> None:
    """The demo scenario's files for these instances, in the stack's inboxes (dated on their receipt days)."""
    from review_calendar.domain.programmes import instances_for_year, load_programme
    from review_calendar.settings import get_settings
    from review_calendar_demo.scenario import place_submissions

    settings = get_settings(
        {
            **os.environ,
            "REVIEW_CALENDAR_HOME": str(stack.review_home),
            "REVIEW_CALENDAR_DB_URL": stack.review_url,
        }
    )
    programme = load_programme(programme_id)
    for instance in instances_for_year(programme, year):
        if instance.obligation_id in obligations:
            assert place_submissions(stack.review_url, settings, programme, instance)


@pytest.fixture(scope="module")
def scenario(stack: Stack) -> Scenario:
    """Unpause and trigger as an operator would, then wait until every run has finished."""
    from review_calendar.domain.schedule import closes_at

    airflow = stack.airflow
    now = dt.datetime.now(dt.UTC)
    programme_id, upstream, downstream, latest = choose_chain(now)
    year = latest.instance.cycle_year
    place_files(stack, programme_id, year, (upstream, downstream))
    s = Scenario(stack, programme_id, upstream, downstream, year, closes_at(latest.instance), now)
    # The downstream first, so that the upstream's Asset event finds it unpaused.
    airflow.unpause(s.dag(downstream))
    airflow.unpause(f"decisions__{programme_id}")
    s.no_year_run = airflow.trigger(s.dag(downstream), {}, note="没有填写年度")
    s.manual_run = airflow.trigger(s.dag(downstream), {"year": year}, note="运维人员重跑")
    s.unpaused_at = dt.datetime.now(dt.UTC)
    airflow.unpause(s.dag(upstream))
    airflow.unpause(REMINDERS)

    def every_run_finished(dag_id: str, count: int) -> Any:
        return airflow.wait_for_runs(
            lambda runs: len(runs) >= count and all(r["state"] in ("success", "failed") for r in runs),
            dag_id, RUNS_TIMEOUT, f"{count} finished runs of {dag_id}",
        )  # fmt: skip

    s.runs[s.dag(upstream)] = every_run_finished(s.dag(upstream), 1)
    s.runs[s.dag(downstream)] = every_run_finished(s.dag(downstream), 3)
    s.runs[REMINDERS] = every_run_finished(REMINDERS, 1)
    return s


def _xcom(s: Scenario, dag_id: str, run: dict[str, Any], task_id: str = "open_instance") -> Any:
    return s.stack.airflow.xcom(dag_id, run["dag_run_id"], task_id)


def test_the_stack_serves_on_a_non_default_port_and_tasks_follow_it(scenario: Scenario) -> None:
    airflow = scenario.stack.airflow
    printed = airflow.output.read_text(encoding="utf-8")

    assert airflow.port != 8080
    assert f"execution API http://127.0.0.1:{airflow.port}/execution/" in printed
    # Every task reached the execution API on that port: the runs below finished.
    assert scenario.run(scenario.dag(scenario.upstream), "scheduled")["state"] == "success"


def test_unpaused_cycle_runs_its_latest_closed_window_after_the_deadline(scenario: Scenario) -> None:
    dag_id = scenario.dag(scenario.upstream)
    run = scenario.run(dag_id, "scheduled")
    opened = _xcom(scenario, dag_id, run)

    assert run["state"] == "success"
    assert dt.datetime.fromisoformat(run["data_interval_end"]) == scenario.closes_at
    assert (opened["source"], opened["cycle_year"]) == ("interval", scenario.year)
    assert opened["as_of"] == scenario.closes_at.astimezone(TZ).date().isoformat()


def test_deadline_wait_runs_on_the_triggerer_not_on_a_worker(scenario: Scenario) -> None:
    dag_id = scenario.dag(scenario.upstream)
    run = scenario.run(dag_id, "scheduled")
    (wait,) = [t for t in scenario.stack.airflow.task_instances(dag_id, run["dag_run_id"])
               if t["task_id"] == "wait_for_deadline"]  # fmt: skip
    log = scenario.stack.airflow.task_log(dag_id, run["dag_run_id"], "wait_for_deadline")

    assert (wait["state"], wait["try_number"]) == ("success", 1)
    assert (wait["queued_when"], wait["hostname"]) == (None, "")  # never sent to a worker
    assert ".trigger." in log and "Trigger fired event" in log


def test_upstream_completion_publishes_the_asset_with_its_cycle(scenario: Scenario) -> None:
    dag_id = scenario.dag(scenario.upstream)
    run = scenario.run(dag_id, "scheduled")

    events = scenario.stack.airflow.api("GET", f"/assets/events?source_dag_id={dag_id}").ok()["asset_events"]
    # The obligation's Asset (the cycle also publishes the programme's proposals Asset).
    events = [
        e for e in events if e["uri"] == f"review-calendar://{scenario.programme_id}/{scenario.upstream}"
    ]

    assert [(e["source_run_id"], e["extra"]) for e in events] == [
        (
            run["dag_run_id"],
            {"programme": scenario.programme_id, "obligation": scenario.upstream,
             "cycle_year": scenario.year, "period": "Y"},
        )
    ]  # fmt: skip
    assert [d["dag_id"] for d in events[0]["created_dagruns"]] == [scenario.dag(scenario.downstream)]


def test_downstream_cycle_started_by_the_asset_runs_to_success(scenario: Scenario) -> None:
    dag_id = scenario.dag(scenario.downstream)
    run = scenario.run(dag_id, "asset_triggered")
    opened = _xcom(scenario, dag_id, run)

    assert run["state"] == "success"
    assert run["logical_date"] is None and run["data_interval_end"] is None
    assert (opened["source"], opened["cycle_year"]) == ("asset", scenario.year)


def test_manual_run_without_a_logical_date_runs_to_success(scenario: Scenario) -> None:
    dag_id = scenario.dag(scenario.downstream)
    (run,) = [r for r in scenario.runs[dag_id] if r["dag_run_id"] == scenario.manual_run]
    opened = _xcom(scenario, dag_id, run)
    started = dt.datetime.fromisoformat(run["run_after"]).astimezone(TZ).date()

    assert (run["run_type"], run["state"], run["logical_date"]) == ("manual", "success", None)
    assert (opened["source"], opened["cycle_year"], opened["as_of"]) == (
        "params",
        scenario.year,
        started.isoformat(),
    )


def test_manual_run_without_a_year_fails_at_once_saying_what_to_fill_in(scenario: Scenario) -> None:
    airflow = scenario.stack.airflow
    dag_id = scenario.dag(scenario.downstream)
    (run,) = [r for r in scenario.runs[dag_id] if r["dag_run_id"] == scenario.no_year_run]
    states = {
        t["task_id"]: (t["state"], t["try_number"]) for t in airflow.task_instances(dag_id, run["dag_run_id"])
    }
    log = airflow.task_log(dag_id, run["dag_run_id"], "open_instance")

    assert run["state"] == "failed"
    assert states["open_instance"] == ("failed", 1)  # no retries
    assert "无法确定本次运行处理哪一期" in log and "year（年度）" in log


def test_operators_are_told_what_to_fill_in(scenario: Scenario) -> None:
    def alert() -> Any:
        return [m for m in scenario.stack.smtp.messages if "任务失败" in str(m["Subject"])]

    (mail,) = wait_for(alert, 60, "the operators' alert e-mail")
    body = mail.get_body(preferencelist=("html", "plain")).get_content()

    assert str(mail["Subject"]).endswith(f"{scenario.dag(scenario.downstream)}.open_instance")
    assert OPERATORS in str(mail["To"])
    assert "year（年度）" in body


def test_reminders_run_their_last_working_day_slot(scenario: Scenario) -> None:
    from review_calendar.domain.runs import previous_working_day_run

    run = scenario.run(REMINDERS, "scheduled")
    day = _xcom(scenario, REMINDERS, run, "resolve_day")
    run_after = dt.datetime.fromisoformat(run["run_after"])

    assert run["state"] == "success"
    assert run_after == previous_working_day_run(run_after, 9, 0)
    assert run_after <= scenario.unpaused_at
    assert day == run_after.astimezone(TZ).date().isoformat()


def test_the_cycles_left_their_results_in_the_review_database(scenario: Scenario) -> None:
    from review_calendar.store.db import session_scope
    from review_calendar.store.models import Decision, ObligationInstanceRow, Submission

    with session_scope(scenario.stack.review_url) as s:
        accepted = s.scalar(select(func.count()).select_from(Submission).where(
            Submission.programme_id == scenario.programme_id, Submission.cycle_year == scenario.year,
            Submission.obligation_id == scenario.upstream, Submission.status == "accepted"))  # fmt: skip
        aggregated = set(s.scalars(select(ObligationInstanceRow.obligation_id).where(
            ObligationInstanceRow.programme_id == scenario.programme_id,
            ObligationInstanceRow.cycle_year == scenario.year, ObligationInstanceRow.state == "aggregated")))  # fmt: skip
        evaluations = s.scalar(select(func.count()).select_from(Decision).where(
            Decision.programme_id == scenario.programme_id, Decision.cycle_year == scenario.year,
            Decision.kind == "evaluation"))  # fmt: skip

    assert accepted > 0
    assert {scenario.upstream, scenario.downstream} <= aggregated
    assert evaluations > 0


def test_no_other_run_failed(scenario: Scenario) -> None:
    airflow = scenario.stack.airflow
    dags = airflow.api("GET", "/dags?limit=100").ok()["dags"]
    failed = [
        (d["dag_id"], r["dag_run_id"])
        for d in dags
        for r in airflow.runs(d["dag_id"])
        if r["state"] != "success"
        # A decision run waits for its reviewer (awaiting input, no worker slot) until answered.
        and not (d["dag_id"].startswith("decisions__") and r["state"] == "running")
    ]

    assert failed == [(scenario.dag(scenario.downstream), scenario.no_year_run)]


def test_proposals_wait_in_required_actions_until_the_reviewer_answers(scenario: Scenario) -> None:
    """Asset-started decision run (no logical date): asked, parked, answered by the reviewer, applied."""
    from review_calendar.store.db import session_scope
    from review_calendar.store.models import Decision

    airflow = scenario.stack.airflow
    dag_id = f"decisions__{scenario.programme_id}"
    reviewer = "hebei_reviewer" if scenario.programme_id == "hebei_smart_cluster" else "miit_reviewer"

    def pending() -> list[dict[str, Any]]:
        body = airflow.api("GET", f"/dags/{dag_id}/dagRuns/~/hitlDetails?response_received=false",
                           user=reviewer).ok()  # fmt: skip
        return body["hitl_details"]

    def rounds() -> int:
        from review_calendar.store.models import DecisionReview

        with session_scope(scenario.stack.review_url) as s:
            return s.scalar(select(func.count()).select_from(DecisionReview))

    # Every proposal asked once (one round each), every Required Action parked.
    asked = wait_for(lambda: (found := pending()) and len(found) == rounds() and found, RUNS_TIMEOUT,
                     f"Required Actions of {dag_id}")  # fmt: skip
    with session_scope(scenario.stack.review_url) as s:
        proposed = s.scalar(select(func.count()).select_from(Decision).where(
            Decision.programme_id == scenario.programme_id, Decision.kind == "evaluation"))  # fmt: skip
    assert len(asked) == proposed
    assert all(d["task_instance"]["state"] == "awaiting_input" for d in asked)
    assert all(d["assigned_users"] and d["assigned_users"][0]["name"] == reviewer for d in asked)

    for detail in asked:
        ti = detail["task_instance"]
        from urllib.parse import quote

        path = (f"/dags/{dag_id}/dagRuns/{quote(ti['dag_run_id'], safe='')}/taskInstances/review/"
                f"{ti['map_index']}/hitlDetails")  # fmt: skip
        body = {
            "chosen_options": ["批准"],
            "params_input": {"outcome": None, "reason": "同意", "new_due": None},
        }
        assert airflow.api("PATCH", path, body, user="operator").status == 403  # assigned to the reviewer
        airflow.api("PATCH", path, body, user=reviewer).ok()
    runs = airflow.wait_for_runs(lambda rs: rs and all(r["state"] in ("success", "failed") for r in rs),
                                 dag_id, RUNS_TIMEOUT, f"finished runs of {dag_id}")  # fmt: skip

    assert {r["state"] for r in runs} == {"success"}
    assert all(r["logical_date"] is None for r in runs if r["run_type"] == "asset_triggered")
    with session_scope(scenario.stack.review_url) as s:
        states = {d.figures.get("state") for d in s.scalars(select(Decision).where(
            Decision.programme_id == scenario.programme_id, Decision.kind == "evaluation"))}  # fmt: skip
    assert states == {"approved"}


#: The operator's re-run and the manual sweep: a cycle and an inbox of their own, apart from the scenario's.
RERUN = ("hebei_smart_cluster", "development_plan")
SWEPT = ("miit_sme_cluster", "annual_info_table")
SWEEP = "inbox_sweep"


@dataclass
class ManualRuns:
    """The re-run the reviewers' page started and the manual sweep, both finished."""

    stack: Stack
    rerun: dict[str, Any]
    rerun_conf: dict[str, Any]
    sweep: dict[str, Any]
    swept_key: str


@pytest.fixture(scope="module")
def manual_runs(stack: Stack) -> ManualRuns:
    """As an operator: the page's re-run button (试运行 on a day) and a sweep triggered by hand, no logical dates."""
    from review_calendar.domain.programmes import load_programme
    from review_calendar.domain.runs import latest_deadline_run
    from review_calendar.domain.schedule import closes_at

    airflow = stack.airflow
    now = dt.datetime.now(dt.UTC)
    programme_id, obligation_id = RERUN
    latest = latest_deadline_run(load_programme(programme_id), obligation_id, now)
    assert latest is not None
    instance = latest.instance
    dag_id = f"review_cycle__{programme_id}__{obligation_id}"
    airflow.unpause(dag_id)
    # The same call as the page's form: POST .../rerun with the operator's token (the api-server
    # triggers the DAG through Airflow's REST API as the caller).
    as_of = closes_at(instance).astimezone(TZ).date().isoformat()
    page = f"{airflow.url}/review-calendar/programmes/{programme_id}/{instance.cycle_year}/{obligation_id}"
    answer = http(
        "POST", f"{page}/{instance.period}/rerun", body={"dry_run": True, "as_of": as_of},
        token=airflow.token("operator"),
    )  # fmt: skip
    assert answer.status == 201, answer.body
    rerun_id = answer.ok()["dag_run_id"]

    swept_programme, swept_obligation = SWEPT
    swept = latest_deadline_run(load_programme(swept_programme), swept_obligation, now)
    assert swept is not None
    place_files(stack, swept_programme, swept.instance.cycle_year, (swept_obligation,))
    airflow.unpause(SWEEP)
    sweep_id = airflow.trigger(
        SWEEP, {"as_of": swept.instance.effective_due.isoformat(), "programme": swept_programme},
        note="运维人员手动巡检",
    )  # fmt: skip
    sweep = airflow.wait_finished(SWEEP, sweep_id, RUNS_TIMEOUT)
    rerun = airflow.wait_finished(dag_id, rerun_id, RUNS_TIMEOUT)
    # Paused again once every run has ended (the scheduled slots unpausing started too), so the
    # module's other tests see finished runs only, whatever the order.
    for paused in (SWEEP, dag_id):
        airflow.api("PATCH", f"/dags/{paused}", {"is_paused": True}).ok()
        airflow.wait_for_runs(lambda runs: all(r["state"] in ("success", "failed") for r in runs),
                              paused, RUNS_TIMEOUT, f"every run of {paused} to end")  # fmt: skip
    return ManualRuns(stack, rerun, answer.body["conf"], sweep, swept.instance.key)


def test_the_pages_rerun_runs_to_success_on_the_scheduler(manual_runs: ManualRuns) -> None:
    airflow = manual_runs.stack.airflow
    run = manual_runs.rerun
    dag_id = f"review_cycle__{RERUN[0]}__{RERUN[1]}"
    opened = airflow.xcom(dag_id, run["dag_run_id"], "open_instance")

    assert (run["run_type"], run["state"], run["logical_date"]) == ("manual", "success", None)
    assert run["triggering_user_name"] == "operator"
    assert run["conf"] == manual_runs.rerun_conf and run["conf"]["dry_run"] is True
    assert (opened["source"], opened["cycle_year"], opened["as_of"]) == (
        "params",
        run["conf"]["year"],
        run["conf"]["as_of"],
    )


def test_a_manual_sweep_without_a_logical_date_takes_in_the_inbox(manual_runs: ManualRuns) -> None:
    from review_calendar.store.db import session_scope
    from review_calendar.store.models import Submission

    airflow = manual_runs.stack.airflow
    run = manual_runs.sweep
    swept = airflow.xcom(SWEEP, run["dag_run_id"], "sweep")
    programme_id, year, obligation_id, period = manual_runs.swept_key.split("/")
    with session_scope(manual_runs.stack.review_url) as s:
        accepted = s.scalar(select(func.count()).select_from(Submission).where(
            Submission.programme_id == programme_id, Submission.cycle_year == int(year),
            Submission.obligation_id == obligation_id, Submission.status == "accepted"))  # fmt: skip

    assert (run["run_type"], run["state"], run["logical_date"]) == ("manual", "success", None)
    assert swept["swept"] >= 1 and swept["accepted"] > 0
    assert accepted == swept["accepted"]
