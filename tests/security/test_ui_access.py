"""The reviewers' pages refuse anonymous and under-privileged callers (fast, in process).

``tests/e2e/test_ui_browser.py`` checks the same through the real api-server
and a browser. Here the plugin's FastAPI app is called with Starlette's test
client against Airflow's real SimpleAuthManager (initialised as the
api-server does; tokens are validated against the test Airflow home's
metadata database). Nothing is mocked.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.security import migrated_airflow_home

pytestmark = pytest.mark.security

ROUTES = [
    pytest.param("GET", "/", id="calendar"),
    pytest.param("GET", "/programmes/hebei_smart_cluster/2025", id="status-matrix"),
    pytest.param("GET", "/mail", id="mail-waiting"),
    pytest.param("GET", "/programmes/hebei_smart_cluster/2025/contact_list/Y", id="instance-page"),
    pytest.param("GET", "/api/matrix/hebei_smart_cluster/2025", id="matrix-json"),
    pytest.param("GET", "/reports/hebei_smart_cluster/2025/contact_list/Y/gate.html", id="gate-report"),
    pytest.param("POST", "/programmes/hebei_smart_cluster/2025/contact_list/Y/rerun", id="rerun"),
]
RERUN = "/programmes/hebei_smart_cluster/2025/contact_list/Y/rerun"
JSON = {"accept": "application/json"}


@pytest.fixture(scope="module")
def airflow_auth() -> Iterator[Any]:
    """SimpleAuthManager with the project's users, a fixed JWT secret, as the api-server initialises it."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(
            "AIRFLOW__CORE__AUTH_MANAGER",
            "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        )
        mp.setenv("AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS", "admin:admin,operator:op,reviewer:viewer")
        mp.setenv("AIRFLOW__API_AUTH__JWT_SECRET", "test-only-jwt-secret-" + "x" * 48)
        migrated_airflow_home()
        from airflow.api_fastapi.app import init_auth_manager

        yield init_auth_manager()


@pytest.fixture
def client(airflow_auth: Any, review_env: Path) -> Any:
    from fastapi.testclient import TestClient
    from review_calendar_airflow.ui.app import create_app

    return TestClient(create_app())


def token_for(auth: Any, username: str, role: str) -> str:
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

    return auth.generate_jwt(SimpleAuthManagerUser(username=username, role=role))


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_anonymous_caller_is_refused_with_401(client: Any, method: str, path: str) -> None:
    response = client.request(method, f"{path}", headers=JSON, follow_redirects=False)

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_anonymous_browser_is_sent_to_the_login_page(client: Any) -> None:
    response = client.get(
        "/programmes/hebei_smart_cluster/2025", headers={"accept": "text/html"}, follow_redirects=False
    )

    assert response.status_code == 303
    assert response.headers["location"].startswith("/auth/login?next=")


def test_malformed_token_is_refused_with_401(client: Any) -> None:
    response = client.get(
        "/api/matrix/hebei_smart_cluster/2025", headers={**JSON, "authorization": "Bearer garbage"}
    )

    assert response.status_code == 401


def test_token_signed_with_another_secret_is_refused_with_401(client: Any) -> None:
    import jwt

    now = dt.datetime.now(dt.UTC)
    claims = {"sub": "admin", "role": "admin", "iat": now, "nbf": now, "exp": now + dt.timedelta(hours=1)}
    forged = jwt.encode(claims, "not-the-api-servers-secret-" + "y" * 48, algorithm="HS512")

    response = client.get(
        "/api/matrix/hebei_smart_cluster/2025", headers={**JSON, "authorization": f"Bearer {forged}"}
    )

    assert response.status_code == 401


def test_read_only_reviewer_cannot_rerun_a_cycle(client: Any, airflow_auth: Any) -> None:
    token = token_for(airflow_auth, "reviewer", "viewer")

    response = client.post(RERUN, headers={**JSON, "authorization": f"Bearer {token}"})

    assert response.status_code == 403
    assert "只能查看，不能重跑" in response.json()["detail"]


def test_cookie_caller_from_a_foreign_page_cannot_rerun_a_cycle(client: Any, airflow_auth: Any) -> None:
    token = token_for(airflow_auth, "operator", "op")
    client.cookies.set("_token", token)

    response = client.post(RERUN, headers={**JSON, "origin": "https://evil.example"})

    assert response.status_code == 403
    assert "跨站" in response.json()["detail"]
