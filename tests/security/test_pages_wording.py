"""What the reviewers' pages say, as a reviewer and as an operator sees them (in process, real auth).

Meetings are events, not columns of submissions; 查看日期 is a true as-of view;
a year without a cycle is said to be one; times are Beijing time; codes are
shown by their Chinese labels; operators' hints are for operators only.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.security.test_region_routes import COUNTY, HTML, P, client
from tests.security.test_ui_access import airflow_auth, token_for

pytestmark = pytest.mark.security
__all__ = ["airflow_auth", "client"]


def test_a_meeting_is_no_column_of_the_matrix(client: Any) -> None:
    matrix = client.get("/api/matrix/henan_demo_base/2025", headers={"accept": "application/json"}).json()
    page = client.get("/programmes/henan_demo_base/2025", headers=HTML).text

    assert matrix["columns"] and not any(c.startswith("observation_meeting/") for c in matrix["columns"])
    assert "会议：由省厅记录召开情况" in page


def test_the_as_of_view_hides_files_received_later(client: Any) -> None:
    cells = client.get(
        f"/api/matrix/{P}/2025?today=2025-07-05", headers={"accept": "application/json"}
    ).json()
    later = client.get(
        f"/api/matrix/{P}/2025?today=2025-08-01", headers={"accept": "application/json"}
    ).json()

    assert cells["cells"][COUNTY]["half_year_report/Y"] == "rejected"
    assert later["cells"][COUNTY]["half_year_report/Y"] == "late"


def test_a_year_without_a_cycle_is_labelled_not_painted_missing(client: Any) -> None:
    page = client.get(f"/programmes/{P}/2024", headers=HTML).text

    assert "2024 年度尚无审查周期" in page
    assert 'data-state="missing"' not in page


def test_periods_gates_and_runs_in_chinese_and_beijing_time(client: Any) -> None:
    from review_calendar.settings import get_settings
    from review_calendar.store.db import session_scope
    from review_calendar.store.models import GateRun

    with session_scope(get_settings().db_url) as session:
        session.add(GateRun(programme_id=P, cycle_year=2025, obligation_id="half_year_report", period="Y",
                            gate="provincial", run_id="manual__2026-11-30T20:01:02+00:00", success=True,
                            created_at=dt.datetime(2025, 7, 16, 2, 0)))  # fmt: skip

    page = client.get(f"/programmes/{P}/2025/half_year_report/Y", headers=HTML).text

    assert "2025 年度（全年）" in page and "（Y）" not in page
    assert "省级数据质量闸门" in page and ">provincial<" not in page
    assert "2025-07-16 10:00" in page  # stored in UTC, shown in Beijing time
    assert "2025 年度审查运行" in page and "年度全年" not in page and ">manual__" not in page


@pytest.mark.parametrize(("user", "role", "shown"), [("reviewer", "viewer", False), ("operator", "op", True)])
def test_operator_hints_are_for_operators_only(client: Any, airflow_auth: Any, user: str, role: str,
                                               shown: bool) -> None:  # fmt: skip
    client.cookies.set("_token", token_for(airflow_auth, user, role))

    page = client.get("/?year=2030", headers=HTML).text

    assert "节假日安排尚未发布或未配置" in page
    assert ("config/holidays.yaml" in page) is shown


def test_who_decided_by_name_and_decision_runs_in_words(client: Any) -> None:
    from review_calendar.settings import get_settings
    from review_calendar.store.db import session_scope
    from review_calendar.store.models import Decision, DecisionReview
    from review_calendar.store.reviews import AskedIn, ask

    asked_at = "asset_triggered__2026-03-01T01:00:00.123456+00:00"
    with session_scope(get_settings().db_url) as session:
        decided = Decision(programme_id=P, cycle_year=2025, kind="evaluation", subject="baigou_luggage",
                           outcome="continue", rule="r", clause="冀工信产业〔2016〕93号 五", run_id="scheduled__2025_Y__x",
                           figures={"reason": "得分86分", "state": "approved", "decided_by": "hebei_reviewer",
                                    "decided_at": "2026-03-02T02:00:00+00:00", "region_code": COUNTY})  # fmt: skip
        waiting = Decision(programme_id=P, cycle_year=2025, kind="evaluation", subject="lixian_fur",
                           outcome="revoke", rule="r", clause="冀工信产业〔2016〕93号 五", run_id="scheduled__2025_Y__x",
                           figures={"reason": "违规使用资金", "state": "proposed", "region_code": COUNTY})  # fmt: skip
        session.add_all([decided, waiting])
        session.flush()
        ask(session, decided, AskedIn(f"decisions__{P}", asked_at, "review", 0))
        session.query(DecisionReview).filter_by(decision_id=decided.id).update({"answer": "approve"})
        ask(session, waiting, AskedIn(f"decisions__{P}", asked_at, "review", 1))

    page = client.get(f"/programmes/{P}/2025", headers=HTML).text
    region = client.get(f"/regions/{COUNTY}", headers=HTML).text

    # The login alone becomes the roster's 姓名（处室）, with the login beside it.
    assert (
        '张伟（河北省工业和信息化厅产业集群处） <span class="muted login">账号 hebei_reviewer</span>' in page
    )
    assert "张伟（河北省工业和信息化厅产业集群处）" in region
    # Decision runs and the cycle run are named by year and round; the id is only in the link.
    assert "2025 年度审定 · 第 1 次询问" in page and "2025 年度审查运行" in page
    assert (
        f"/runs/{asked_at.replace(':', '%3A').replace('+', '%2B')}/tasks/review/mapped/1/required_actions"
        in page
    )
    assert ">asset_triggered__" not in page and ">scheduled__" not in page
