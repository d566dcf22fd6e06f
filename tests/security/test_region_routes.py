"""The region and cluster pages through the plugin's app: who may read them, what they show, what they hide.

As ``test_ui_access.py``: the FastAPI app with Airflow's real SimpleAuthManager,
in process; the review database is migrated, seeded with the demo province and
given one rejected file, one accepted correction and one message.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from tests.security.test_ui_access import airflow_auth, token_for

pytestmark = pytest.mark.security
__all__ = ["airflow_auth"]

P = "hebei_smart_cluster"
COUNTY = "130684"
HTML = {"accept": "text/html"}


@pytest.fixture
def client(airflow_auth: Any, review_env: Path) -> Any:
    from fastapi.testclient import TestClient
    from review_calendar_airflow.ui.app import create_app

    from review_calendar.settings import get_settings
    from review_calendar.store.db import session_scope, upgrade
    from review_calendar.store.models import OutboxMessage
    from review_calendar_demo.seed import seed_demo
    from tests.support.builders import Key, add_submission

    url = get_settings().db_url
    upgrade(url)
    seed_demo(url)
    with session_scope(url) as session:
        key = Key(P, 2025, "half_year_report")
        add_submission(session, key, COUNTY, dt.date(2025, 7, 1), "<b>半年报</b>.xlsx", status="rejected",
                       error_count=1, errors=[{"sheet": "集群", "row": 7, "column": "营业收入", "value": "abc",
                                               "code": "not_number", "message": "应为数值"}])  # fmt: skip
        add_submission(session, key, COUNTY, dt.date(2025, 7, 20), "半年报-更正.xlsx", status="accepted",
                       is_late=True)  # fmt: skip
        session.add(OutboxMessage(natural_key="k1", kind="reminder", programme_id=P,
                                  instance_key=f"{P}/2025/half_year_report/Y", region_code=COUNTY, stage="overdue_3",
                                  to_addrs=[{"name": "李四", "addr": "lisi@gx.example.cn", "role": "联系人"}],
                                  subject="催报", body="", status="failed", attempts=2, created_on=dt.date(2025, 7, 18),
                                  last_error="mailbox lisi@gx.example.cn full"))  # fmt: skip
    client = TestClient(create_app())
    client.cookies.set("_token", token_for(airflow_auth, "reviewer", "viewer"))
    return client


def test_anonymous_caller_gets_no_region_page(airflow_auth: Any, review_env: Path) -> None:
    from fastapi.testclient import TestClient
    from review_calendar_airflow.ui.app import create_app

    response = TestClient(create_app()).get(f"/regions/{COUNTY}", headers={"accept": "application/json"})

    assert response.status_code == 401


def test_region_page_shows_files_errors_and_messages_masked(client: Any) -> None:
    response = client.get(f"/regions/{COUNTY}", headers=HTML)

    assert response.status_code == 200
    page = response.text
    assert "高碑店市" in page
    assert "&lt;b&gt;半年报&lt;/b&gt;.xlsx" in page  # escaped
    assert "<b>半年报" not in page
    assert "营业收入" in page and "应为数值" in page  # row, column, message after one click (details)
    assert "逾期提交" in page
    assert "发送失败" in page and "逾期 3 个工作日" in page
    assert "lisi@gx.example.cn" not in page
    assert "l***@gx.example.cn" in page
    assert response.headers["content-security-policy"].startswith("default-src 'self'")


def test_region_page_is_as_of_the_day_asked_about(client: Any) -> None:
    page = client.get(f"/regions/{COUNTY}?today=2025-07-05", headers=HTML).text

    assert "半年报-更正.xlsx" not in page
    assert "尚无通知记录" in page  # the reminder was queued on 2025-07-18


def test_cluster_page_and_links_from_the_matrix(client: Any) -> None:
    cluster = client.get("/clusters/baigou_luggage", headers=HTML)
    matrix = client.get(f"/programmes/{P}/2025", headers=HTML)

    assert cluster.status_code == 200
    assert "白沟" in cluster.text
    assert f'href="/regions/{COUNTY}"' in matrix.text


@pytest.mark.parametrize("path", ["/regions/999999", "/regions/13068x", "/clusters/nope", "/clusters/a%2Fb"])
def test_unknown_region_or_cluster_is_404(client: Any, path: str) -> None:
    assert client.get(path, headers=HTML).status_code == 404
