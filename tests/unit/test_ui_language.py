"""Airflow's UI in zh-CN by default: the root middleware that seeds the UI's language key.

A small Starlette app stands in for the api-server's routes (the UI's page for
every path, JSON under /api/v2, our own pages under /review-calendar); the real
api-server and a real browser are in ``tests/e2e/test_ui_browser.py``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from review_calendar_airflow.ui_language import (
    LANGUAGE_KEY,
    UI_LANGUAGE_DEFAULT,
    language_script,
    shipped_locales,
)
from starlette.applications import Starlette
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

pytestmark = pytest.mark.unit

INDEX = (
    '<!doctype html><html lang="en"><head><title>Airflow</title>'
    '<script type="module" src="./static/assets/index.js"></script>\n  </head><body><div id="root"></div></body></html>'
)
OURS = "<!doctype html><html><head><title>审查日历</title></head><body></body></html>"
OUR_POLICY = {"Content-Security-Policy": "default-src 'self'; script-src 'none'"}


def _app() -> Starlette:
    async def ui(request: object) -> HTMLResponse:
        return HTMLResponse(INDEX)

    async def api(request: object) -> JSONResponse:
        return JSONResponse({"html": "</head>"})

    async def ours(request: object) -> HTMLResponse:
        return HTMLResponse(OURS, headers=OUR_POLICY)

    async def missing(request: object) -> HTMLResponse:
        return HTMLResponse(INDEX, status_code=404)

    app = Starlette(
        routes=[
            Route("/api/v2/dags", api),
            Route("/review-calendar/{rest:path}", ours),
            Route("/gone", missing),
            Route("/{rest:path}", ui, methods=["GET", "POST"]),
        ]
    )
    app.add_middleware(UI_LANGUAGE_DEFAULT["middleware"], *UI_LANGUAGE_DEFAULT["args"])
    return app


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch) -> Iterator[TestClient]:
    monkeypatch.delenv("REVIEW_CALENDAR_UI_LANGUAGE", raising=False)
    with TestClient(_app()) as c:
        yield c


def test_the_installed_airflow_ships_the_chinese_locale_we_default_to() -> None:
    locales = shipped_locales()

    assert locales is not None and {"zh-CN", "en"} <= locales


@pytest.mark.parametrize("path", ["/", "/dags", "/dags/review_cycle__x/runs", "/required_actions"])
def test_the_ui_page_stores_zh_cn_only_when_no_language_is_stored(client: TestClient, path: str) -> None:
    r = client.get(path)

    assert r.status_code == 200
    script = language_script("zh-CN").decode()
    assert script in r.text
    assert r.text.index(script) < r.text.index('<script type="module"') < r.text.index("</head>")
    assert int(r.headers["content-length"]) == len(r.content)
    assert f'if(!window.localStorage.getItem("{LANGUAGE_KEY}"))' in script
    assert f'window.localStorage.setItem("{LANGUAGE_KEY}","zh-CN")' in script


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/api/v2/dags"), ("GET", "/review-calendar/"), ("GET", "/gone"), ("POST", "/dags")],
)
def test_api_our_pages_errors_and_writes_pass_unchanged(client: TestClient, method: str, path: str) -> None:
    r = client.request(method, path)

    assert "localStorage" not in r.text
    if path.startswith("/review-calendar"):
        assert r.text == OURS
        assert r.headers["content-security-policy"] == OUR_POLICY["Content-Security-Policy"]


def test_another_configured_language_is_stored_instead(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REVIEW_CALENDAR_UI_LANGUAGE", "zh-TW")
    with TestClient(_app()) as c:
        assert language_script("zh-TW").decode() in c.get("/").text


@pytest.mark.parametrize("value", ["browser", "xx-YY", "zh_CN"])
def test_browser_unknown_or_bad_language_leaves_the_ui_as_airflow_makes_it(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("REVIEW_CALENDAR_UI_LANGUAGE", value)
    with TestClient(_app()) as c:
        assert c.get("/").text == INDEX


def test_a_page_without_head_scripts_gets_the_script_before_its_head_ends(client: TestClient) -> None:
    from review_calendar_airflow.ui_language import _with_script

    assert _with_script(b"<head><title>t</title></head>", b"<script>x</script>") == (
        b"<head><title>t</title><script>x</script></head>"
    )
    assert _with_script(b"<p>no head</p>", b"<script>x</script>") == b"<p>no head</p>"


def test_the_language_cannot_break_out_of_the_script() -> None:
    script = language_script('x"</script><script>alert(1)//')

    assert script.count(b"</script>") == 1 and script.endswith(b"</script>")
