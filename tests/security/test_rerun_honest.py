"""The re-run panel tells the operator the truth: paused DAG, the run's state until it ends, no duplicates.

The app runs in process with Airflow's real SimpleAuthManager (as ``test_ui_access.py``);
only the calls to Airflow's REST API (which needs the api-server this process is not)
are replaced by what Airflow would answer. ``tests/e2e/test_ui_browser.py`` re-runs
through the real api-server.
"""

from __future__ import annotations

from typing import Any

import pytest
from review_calendar_airflow.ui import airflow_api
from review_calendar_airflow.ui.airflow_api import DagStatus, RunInfo, TriggerResult

from tests.security.test_region_routes import HTML, P, client
from tests.security.test_ui_access import airflow_auth, token_for

pytestmark = pytest.mark.security
__all__ = ["airflow_auth", "client"]

RERUN = f"/programmes/{P}/2025/half_year_report/Y/rerun"
PAGE = f"/programmes/{P}/2025/half_year_report/Y"


class FakeAirflow:
    """What Airflow answers: the DAG's pause flag, its active runs, and the runs triggered."""

    def __init__(self, paused: bool = False, active: tuple[RunInfo, ...] = ()) -> None:
        self.status = DagStatus(paused, active)
        self.triggered: list[dict[str, Any]] = []
        self.runs: dict[str, RunInfo] = {}

    async def dag_status(self, token: str, dag_id: str) -> DagStatus:
        return self.status

    async def trigger_dag_run(
        self, token: str, dag_id: str, conf: dict[str, Any], note: str
    ) -> TriggerResult:
        self.triggered.append(conf)
        return TriggerResult(201, "manual__2026-11-30T20:00:00+00:00", "")

    async def run_info(self, token: str, dag_id: str, run_id: str) -> RunInfo | None:
        return self.runs.get(run_id)


@pytest.fixture
def airflow(monkeypatch: pytest.MonkeyPatch) -> FakeAirflow:
    fake = FakeAirflow()
    for name in ("dag_status", "trigger_dag_run", "run_info"):
        monkeypatch.setattr(airflow_api, name, getattr(fake, name))
    return fake


@pytest.fixture
def operator(client: Any, airflow_auth: Any) -> Any:
    client.cookies.clear()
    client.headers["authorization"] = f"Bearer {token_for(airflow_auth, 'operator', 'op')}"
    return client


JSON = {"accept": "application/json"}


def test_dry_run_and_as_of_go_into_the_runs_conf(operator: Any, airflow: FakeAirflow) -> None:
    response = operator.post(RERUN, headers=JSON, json={"dry_run": True, "as_of": "2025-08-01"})

    assert response.status_code == 201, response.text
    assert airflow.triggered == [
        {"programme": P, "year": 2025, "period": "Y", "dry_run": True, "as_of": "2025-08-01"}
    ]


def test_a_plain_rerun_keeps_the_plain_conf(operator: Any, airflow: FakeAirflow) -> None:
    assert operator.post(RERUN, headers=JSON).status_code == 201
    assert airflow.triggered == [{"programme": P, "year": 2025, "period": "Y"}]


def test_a_duplicate_is_refused_while_one_is_queued(operator: Any, airflow: FakeAirflow) -> None:
    airflow.status = DagStatus(True, (RunInfo("manual__1", "queued", 2025, "Y", False, None),))

    response = operator.post(RERUN, headers=JSON)
    page = operator.get(PAGE, headers=HTML).text

    assert response.status_code == 409
    assert "排队中" in response.json()["detail"]
    assert airflow.triggered == []
    assert "处于暂停状态" in page
    assert "结束前不能再次重跑" in page and 'action="/programmes' not in page


def test_another_periods_run_does_not_block(operator: Any, airflow: FakeAirflow) -> None:
    airflow.status = DagStatus(False, (RunInfo("manual__1", "running", 2024, "Y", False, None),))

    assert operator.post(RERUN, headers=JSON).status_code == 201


def test_a_malformed_as_of_or_a_meeting_is_refused(operator: Any, airflow: FakeAirflow) -> None:
    bad = operator.post(RERUN, headers=JSON, json={"as_of": "1.8.2025"})
    meeting = operator.post("/programmes/henan_demo_base/2025/observation_meeting/H1/rerun", headers=JSON)

    assert bad.status_code == 400
    assert meeting.status_code == 404
    assert airflow.triggered == []


def test_the_page_follows_the_run_until_it_ends(operator: Any, airflow: FakeAirflow) -> None:
    airflow.runs["r1"] = RunInfo("r1", "running", 2025, "Y", True, "2025-08-01")
    airflow.runs["r2"] = RunInfo("r2", "success", 2025, "Y", False, None)

    running = operator.get(f"{PAGE}?rerun=r1", headers=HTML).text
    done = operator.get(f"{PAGE}?rerun=r2", headers=HTML).text
    state = operator.get(f"{RERUN}/r1", headers=JSON).json()

    assert '<meta http-equiv="refresh" content="5">' in running
    assert "运行中" in running and "试运行" in running and "2025 年度审查运行" in running
    assert "refresh" not in done and "已成功" in done
    assert state["state"] == "running" and state["active"] and state["dry_run"]
    assert "试运行（不发邮件" in done and 'type="date" name="as_of"' in done
    # The whole year is "2025 年度" in the operator's form and warnings too, never "2025 年度全年".
    assert "启动2025 年度“" in done and "年度全年" not in running + done


def test_a_rerun_is_named_by_the_cycle_it_serves() -> None:
    import datetime as dt

    moment = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))

    run_id = airflow_api.rerun_id({"year": 2025, "period": "H1"}, moment)

    assert run_id == "manual__2025_H1__2026-12-01T04:00:00+00:00"
