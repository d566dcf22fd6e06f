"""Airflow's UI in the reviewers' language: zh-CN unless the user picked another.

Airflow 3.3 has no server setting for the UI's language: its React UI asks
i18next's browser detector, in this order, for the key ``i18nextLng`` in the
browser's localStorage (written when a user picks a language in the UI's
language menu, and after every detection), then the browser's languages, then
the page's ``lang`` attribute. A reviewer whose browser says English would get
English.

:class:`UiLanguageDefault`, a root middleware of the api-server registered by
the plugin, adds to the UI's HTML page (the single-page app's ``index.html``,
which the api-server returns for every UI path) one inline script that stores
the configured language (``REVIEW_CALENDAR_UI_LANGUAGE``, default ``zh-CN``)
under that key when the key is absent, before the UI's own script reads it.
A language the user picked in the menu stays theirs; so does one their browser
cached before the middleware was deployed (nothing tells the two apart).

Only ``200 text/html`` answers to ``GET`` requests outside the REST and
execution APIs, the auth manager's pages, the static files, the API docs and
the review calendar's own pages are touched; JSON, files and our pages (with
their ``script-src 'none'`` policy) pass unchanged, and so does any page that
carries a Content-Security-Policy of its own (Airflow 3.3 sets none on the
UI's page). A language the installed Airflow ships no locale for is refused
with a warning in the api-server's log, and the UI is left as Airflow makes it.

Standard library only at import: Airflow imports plugins in every process.
"""

from __future__ import annotations

import json
import logging
from functools import cached_property
from pathlib import Path
from typing import Any

from review_calendar_airflow.ui import URL_PREFIX

log = logging.getLogger(__name__)

#: The localStorage key of i18next's language detector, which Airflow's UI uses unchanged.
LANGUAGE_KEY = "i18nextLng"

#: Paths (below the api-server's root path) whose HTML is not the UI's page.
_NOT_THE_UI = ("/api/", "/execution", "/auth/", "/static/", "/pluginsv2", "/docs", "/redoc", URL_PREFIX)


def language_script(language: str) -> bytes:
    """The inline script that stores ``language`` as the UI's language unless one is stored."""
    key, value = (json.dumps(text).replace("<", "\\u003c") for text in (LANGUAGE_KEY, language))
    return (
        f"<script>try{{if(!window.localStorage.getItem({key}))"
        f"window.localStorage.setItem({key},{value})}}catch(e){{}}</script>"
    ).encode()


def shipped_locales() -> set[str] | None:
    """The UI locales of the installed Airflow (None when its UI files are not found)."""
    from importlib.util import find_spec

    spec = find_spec("airflow")
    for root in (spec.submodule_search_locations or []) if spec else []:
        folder = Path(root) / "ui" / "dist" / "i18n" / "locales"
        if folder.is_dir():
            return {p.name for p in folder.iterdir() if p.is_dir()}
    return None


def _configured_language() -> str | None:
    """The language to default to, checked against the installed UI's locales (None: leave the UI alone)."""
    from review_calendar.settings import SettingsError, get_settings

    try:
        language = get_settings().ui_language
    except SettingsError as exc:
        log.error("Airflow UI language left to the browser: %s", exc)
        return None
    if language is None:
        return None
    locales = shipped_locales()
    if locales is not None and language not in locales:
        log.warning(
            "REVIEW_CALENDAR_UI_LANGUAGE=%s: the installed Airflow UI has no such locale (it has %s); "
            "the UI language is left to the browser",
            language,
            ", ".join(sorted(locales)),
        )
        return None
    return language


class UiLanguageDefault:
    """ASGI middleware: the UI's HTML page gets :func:`language_script` before its own scripts."""

    def __init__(self, app: Any) -> None:
        self.app = app

    @cached_property
    def script(self) -> bytes | None:
        """The script to add (None: the UI is left as Airflow makes it); read on the first UI page."""
        language = _configured_language()
        return None if language is None else language_script(language)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if not self._may_be_ui_page(scope) or self.script is None:
            await self.app(scope, receive, send)
            return
        script = self.script
        start: dict[str, Any] | None = None
        chunks: list[bytes] = []

        async def patch(message: dict[str, Any]) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                if _is_plain_html_page(message):
                    start = message
                    return
                await send(message)
                return
            if start is None or message["type"] != "http.response.body":
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = _with_script(b"".join(chunks), script)
            headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await self.app(scope, receive, patch)

    @staticmethod
    def _may_be_ui_page(scope: dict[str, Any]) -> bool:
        if scope.get("type") != "http" or scope.get("method") != "GET":
            return False
        path = str(scope.get("path", ""))
        root = str(scope.get("root_path", ""))
        path = path[len(root) :] if root and path.startswith(root) else path
        return not any(path == p.rstrip("/") or path.startswith(p) for p in _NOT_THE_UI)


def _with_script(body: bytes, script: bytes) -> bytes:
    """``body`` with ``script`` before its first script in the head (else before ``</head>``; none: as is)."""
    head_end = body.find(b"</head>")
    if head_end < 0:
        return body
    first = body.find(b"<script", 0, head_end)
    at = first if first >= 0 else head_end
    return body[:at] + script + body[at:]


def _is_plain_html_page(start: dict[str, Any]) -> bool:
    """A 200 ``text/html`` answer, not compressed, without a Content-Security-Policy of its own."""
    if start.get("status") != 200:
        return False
    headers = {k.lower(): v for k, v in start.get("headers", [])}
    return (
        headers.get(b"content-type", b"").lower().startswith(b"text/html")
        and b"content-encoding" not in headers
        and b"content-security-policy" not in headers
    )


#: The middleware as Airflow's plugin manager takes it (``fastapi_root_middlewares``).
UI_LANGUAGE_DEFAULT = {
    "middleware": UiLanguageDefault,
    "args": [],
    "kwargs": {},
    "name": "review_calendar_ui_language",
}
