"""The reviewers' pages (审查日历) inside the Airflow UI.

A FastAPI app mounted by the api-server under :data:`URL_PREFIX` and a navigation
entry that shows it in the Airflow UI. Airflow serves plugin apps without
authentication; :mod:`review_calendar_airflow.ui.auth` checks every request
against Airflow's own auth manager.

This module is imported whenever Airflow loads plugins, which includes DAG
parsing and task processes. It therefore stays standard-library only: the
FastAPI app is built on the first request it receives (:class:`LazyApp`).
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

#: Where the api-server mounts the app (must not start with /api/v2, /ui, /auth...).
URL_PREFIX = "/review-calendar"


class LazyApp:
    """An ASGI app that imports and builds the real app on its first request.

    Keeps FastAPI, the templates and the review database's models out of
    every process that merely loads plugins (DAG parsing, task runners).
    """

    def __init__(self, factory: str) -> None:
        self.factory = factory

    @cached_property
    def app(self) -> Any:
        """The real ASGI app (built once per process)."""
        from importlib import import_module

        module_name, _, attr = self.factory.partition(":")
        return getattr(import_module(module_name), attr)()

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)

    def __repr__(self) -> str:
        return f"LazyApp({self.factory!r})"


FASTAPI_APP = {
    "name": "审查日历",
    "app": LazyApp("review_calendar_airflow.ui.app:create_app"),
    "url_prefix": URL_PREFIX,
}

#: The navigation entry; ``url_route`` embeds the page in the Airflow UI at /plugin/review-calendar,
#: ``href`` is relative (no leading slash) so it follows ``[api] base_url``.
NAV_VIEW = {
    "name": "审查日历",
    "href": URL_PREFIX.lstrip("/") + "/",
    "url_route": "review-calendar",
    "destination": "nav",
    "category": None,
}
