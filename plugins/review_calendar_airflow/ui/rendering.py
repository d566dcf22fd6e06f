"""Server-rendered pages: the Jinja environment, its filters and the headers every page carries."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from review_calendar_airflow.ui import URL_PREFIX

if TYPE_CHECKING:
    from fastapi import Request

    from review_calendar_airflow.ui.auth import Caller

HERE = Path(__file__).resolve().parent

#: Our pages run no script and load nothing from elsewhere; gate reports are sandboxed further.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def format_number(value: Any, metric: str = "") -> str:
    """A figure for a table cell: shares as percentages, whole numbers with separators, else two decimals."""
    from review_calendar.reviewer_pages.results import is_ratio

    if value is None:
        return "—"
    if isinstance(value, int | float) and is_ratio(metric):
        return f"{value:.1%}"
    if isinstance(value, str):
        from review_calendar.domain.labels import OUTCOMES, SUBMISSION_STATES

        return SUBMISSION_STATES.get(value) or OUTCOMES.get(value) or value
    if isinstance(value, float):
        if value.is_integer():
            return f"{int(value):,}"
        return f"{value:,.2f}"
    return str(value)


def beijing(at: dt.datetime) -> dt.datetime:
    """A stored time in Beijing time; a naive one (as SQLite returns it) is UTC, never the server's zone."""
    from review_calendar.domain.calendar import TZ

    return (at if at.tzinfo else at.replace(tzinfo=dt.UTC)).astimezone(TZ)


def _environment() -> Environment:
    from review_calendar.domain.labels import GATES, PERIODS
    from review_calendar.reviewer_pages.deciders import cycle_run_words, cycle_words

    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["svg"] = Markup  # charts are built and escaped in review_calendar.report.charts
    env.filters["q"] = lambda value: quote(str(value), safe="")
    env.filters["date"] = lambda d: d.isoformat() if d else ""
    env.filters["datetime"] = lambda d: beijing(d).strftime("%Y-%m-%d %H:%M") if d else ""
    env.filters["number"] = format_number
    env.filters["period"] = lambda code: PERIODS.get(code, code)
    env.filters["gate"] = lambda name: GATES.get(name, name)
    # A cycle and its run in words, worded once for the pages and the decision cards alike.
    env.globals["cycle_words"] = cycle_words
    env.globals["cycle_run_words"] = cycle_run_words
    return env


class Pages:
    """Renders templates with what every page shows (user, links, the state legend)."""

    def __init__(self) -> None:
        self.env = _environment()

    def render(self, request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        """The page ``template`` rendered with ``context``, with :data:`PAGE_HEADERS`."""
        from review_calendar.domain.labels import (
            GATES,
            PERIODS,
            PHASES,
            ROLES,
            SUBMISSION_STATE_HINTS,
            SUBMISSION_STATES,
        )

        prefix = request.scope.get("root_path", "").rstrip("/")
        caller: Caller | None = getattr(request.state, "caller", None)
        html = self.env.get_template(template).render(
            request=request,
            prefix=prefix,
            airflow=prefix.removesuffix(URL_PREFIX) + "/",
            caller=caller,
            role_label=ROLES.get(caller.role.lower(), caller.role) if caller else "",
            state_labels=SUBMISSION_STATES,
            state_hints=SUBMISSION_STATE_HINTS,
            phase_labels=PHASES,
            period_labels=PERIODS,
            gate_labels=GATES,
            operator=bool(caller and caller.is_operator),
            **context,
        )
        return HTMLResponse(html, status_code=status_code, headers=PAGE_HEADERS)
