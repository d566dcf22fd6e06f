"""The header every review-calendar DAG shares (STYLE.md point 8), checked by tests/dags.

Light on purpose: imported at DAG parse time, so only the standard library,
pendulum and the programme loader.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from pathlib import Path
from typing import Any

import pendulum

TZ = pendulum.timezone("Asia/Shanghai")

#: Tags a DAG may carry besides its programme's own tags (programme files list those).
APPROVED_TAGS = frozenset(
    {"review_calendar", "cycle", "reminders", "calendar", "evaluation", "re_review", "bulletin"}
)

DEFAULT_ARGS: dict[str, Any] = {
    "owner": "review-calendar",
    "retries": 2,
    "retry_delay": dt.timedelta(minutes=5),
    "retry_exponential_backoff": True,
}

START_DATE = pendulum.datetime(2024, 1, 1, tz=TZ)


def local_date(moment: dt.datetime) -> dt.date:
    """The Asia/Shanghai calendar date of an aware datetime (run_after, data interval bounds)."""
    return moment.astimezone(TZ).date()


def programmes_dir() -> Path:
    """Folder of programme files: the configured one, else the repository's ``programmes/``.

    Reads only an environment variable: no database, connection or Variable at parse time.
    """
    import os

    configured = os.environ.get("REVIEW_CALENDAR_PROGRAMMES")
    return Path(configured) if configured else Path(__file__).resolve().parents[2] / "programmes"


@cache
def programmes() -> dict[str, Any]:
    """Every programme, loaded once per parsing process, sorted by id."""
    from review_calendar.programmes import load_programmes

    return load_programmes(programmes_dir())


def wanted(dag_id: str) -> bool:
    """Whether the current parse needs ``dag_id`` (only one DAG when a task runs)."""
    from airflow.sdk import get_parsing_context

    current = get_parsing_context().dag_id
    return current is None or current == dag_id
