"""The header every review-calendar DAG shares (doc, tags, start date, retries, alerts), checked by tests/dags.

Light on purpose: imported at DAG parse time, so only the standard library,
pendulum and the programme loader.
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any

import pendulum

from review_calendar.domain import TIMEZONE

TZ = pendulum.timezone(TIMEZONE)

#: Tags a DAG may carry besides its programme's own tags (programme files list those).
APPROVED_TAGS = frozenset(
    {
        "review_calendar",
        "cycle",
        "reminders",
        "calendar",
        "evaluation",
        "re_review",
        "bulletin",
        "record",
        "decisions",
        "inbox",
    }
)


def alert_operators(context: Any) -> None:
    """Failure callback: e-mail the platform operators through the SMTP connection (SmtpNotifier).

    Separate from the county e-mails (those go through the outbox). Addresses come
    from the deployment settings (``REVIEW_CALENDAR_OPERATORS``), read when a task fails,
    never at parse time. The message names the DAG, task, run and the error.
    """
    from airflow.providers.smtp.notifications.smtp import SmtpNotifier

    from review_calendar.settings import get_settings

    settings = get_settings()
    if not settings.operators:
        return
    notifier = SmtpNotifier(
        to=list(settings.operators),
        from_email=settings.alert_from,
        smtp_conn_id=settings.smtp_conn_id,
        subject="[审查日历] 任务失败：{{ ti.dag_id }}.{{ ti.task_id }}",
        html_content=(
            "<p>DAG <b>{{ ti.dag_id }}</b> 的任务 <b>{{ ti.task_id }}</b> 运行失败（运行 {{ run_id }}，"
            "第 {{ ti.try_number }} 次尝试）。</p><p>{{ exception | e }}</p>"
        ),
    )
    notifier(context)


DEFAULT_ARGS: dict[str, Any] = {
    "owner": "review-calendar",
    "on_failure_callback": alert_operators,
    "retries": 2,
    "retry_delay": dt.timedelta(minutes=5),
    "retry_exponential_backoff": True,
}

START_DATE = pendulum.datetime(2024, 1, 1, tz=TZ)


@cache
def programmes() -> dict[str, Any]:
    """Every programme, loaded once per parsing process, sorted by id."""
    from review_calendar.domain.programmes import load_programmes
    from review_calendar.settings import get_settings

    # Settings read only environment variables: no database, connection or Variable at parse time.
    return load_programmes(get_settings().programmes_dir)


def wanted(dag_id: str) -> bool:
    """Whether the current parse needs ``dag_id`` (only one DAG when a task runs)."""
    from airflow.sdk import get_parsing_context

    current = get_parsing_context().dag_id
    return current is None or current == dag_id
