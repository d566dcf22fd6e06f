"""Delivering the outbox through Airflow's SMTP connection (apache-airflow-providers-smtp)."""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

log = logging.getLogger(__name__)


def deliver_outbox(dry_run: bool = False, limit: int | None = None) -> dict[str, Any]:
    """Send every queued e-mail over one connection of the deployment's SMTP connection.

    The connection id and the send rate come from the deployment settings
    (``Settings.smtp_conn_id``, default ``smtp_default``; ``Settings.smtp_rate``),
    read when the task runs. The provider's hook opens (and authenticates, per
    the connection's TLS/SSL extras) one client for the whole batch;
    ``review_calendar`` builds each message and keeps the outbox ledger, so a
    retry or re-run sends nothing twice.

    Args:
        dry_run: Count what is queued without sending.
        limit: Send at most this many (rate limiting across runs).

    Returns:
        The delivery report as a dict (counts only: no addresses).

    Raises:
        SmtpUnavailable: The SMTP server could not be reached; what was not sent stays queued.
    """
    from review_calendar.notify.outbox import pending_count
    from review_calendar.settings import get_settings

    settings = get_settings()
    url = settings.db_url
    if dry_run:
        return {"dry_run": True, "queued": pending_count(url)}
    if not pending_count(url):
        return {"queued": 0, "sent": 0}
    return _send_batch(url, settings.smtp_conn_id, settings.smtp_rate, limit)


def _send_batch(url: str, conn_id: str, rate: float | None, limit: int | None) -> dict[str, Any]:
    """Open the hook's client once, deliver through it, close it; fail the task on an outage."""
    import smtplib

    from airflow.providers.smtp.hooks.smtp import SmtpHook
    from airflow.sdk.exceptions import AirflowException

    from review_calendar.notify.delivery import SmtpUnavailable, deliver
    from review_calendar.notify.outbox import pending_count
    from review_calendar.notify.smtp import send_on

    hook = SmtpHook(smtp_conn_id=conn_id)
    try:
        hook.__enter__()
    except (OSError, smtplib.SMTPException, AirflowException) as exc:
        # Unreachable before the first message: the same visible failure as mid-batch.
        raise SmtpUnavailable(
            f"SMTP 服务器无法连接，{pending_count(url)} 封邮件仍在发件箱中等待下次发送：{type(exc).__name__}"
        ) from exc
    try:
        # The hook keeps one authenticated smtplib client while the context is open; the
        # provider has no public accessor for it. We hand it our own EmailMessage (UTF-8
        # headers, stable Message-ID).
        client = hook._smtp_client
        report = deliver(url, partial(send_on, client), limit=limit, rate_per_second=rate)
        _alert_operators(hook, report.given_up)
    finally:
        hook.__exit__(None, None, None)
    summary = report.to_dict()
    log.info("Outbox delivery: %s", {k: v for k, v in summary.items() if isinstance(v, int | float | bool)})
    report.raise_for_outage()  # a red task; unsent e-mails stay queued for the next run
    return summary


def _alert_operators(hook: Any, given_up: list[dict[str, Any]]) -> None:
    """E-mail the operators (``REVIEW_CALENDAR_OPERATORS``, as the failure alerts) about recipients given up.

    Sent once, by the batch that gave them up, on the batch's own connection; a
    failure to send it is logged and does not fail the task (the outbox is saved).
    """
    from html import escape

    from review_calendar.notify.refusals import operator_alert
    from review_calendar.settings import get_settings

    alert = operator_alert(given_up)
    settings = get_settings()
    if alert is None or not settings.operators:
        return
    subject, text = alert
    try:
        hook.send_email_smtp(
            to=list(settings.operators),
            from_email=settings.alert_from,
            subject=subject,
            html_content=f"<pre>{escape(text)}</pre>",
        )
    except Exception:
        log.exception("Could not e-mail the operators about refused recipients")


def imap_settings(conn_id: str | None = None) -> Any:
    """The submissions mailbox from the Airflow connection of the imap provider's type.

    Host, port, login and password are the connection's; the extra ``use_ssl``
    (the provider's own, default true) chooses implicit TLS; the extras
    ``folder`` and ``processed_folder`` override the folders of the deployment
    settings (``INBOX``, ``Processed``).

    Args:
        conn_id: The connection (default ``Settings.imap_conn_id``, ``review_calendar_imap``).

    Returns:
        :class:`review_calendar.settings.ImapSettings`, or None when the connection does not exist.
    """
    from dataclasses import replace

    from airflow.sdk import BaseHook

    from review_calendar.settings import get_settings

    settings = get_settings()
    try:
        conn = BaseHook.get_connection(conn_id or settings.imap_conn_id)
    except Exception:  # AirflowNotFoundException: no mailbox configured
        return None
    extra = conn.extra_dejson
    use_ssl = str(extra.get("use_ssl", True)).lower() in ("1", "true", "yes", "on")
    return replace(
        settings.imap,
        host=conn.host or "",
        port=int(conn.port or (993 if use_ssl else 143)),
        user=conn.login or "",
        password=conn.password or "",
        ssl=use_ssl,
        folder=extra.get("folder") or settings.imap.folder,
        processed=extra.get("processed_folder") or settings.imap.processed,
    )
