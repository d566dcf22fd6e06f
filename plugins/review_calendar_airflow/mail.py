"""Delivering the outbox through Airflow's SMTP connection (apache-airflow-providers-smtp)."""

from __future__ import annotations

import logging
import os
from typing import Any

log = logging.getLogger(__name__)

SMTP_CONN_ID = os.environ.get("REVIEW_CALENDAR_SMTP_CONN_ID", "smtp_default")


def deliver_outbox(dry_run: bool = False, limit: int | None = None) -> dict[str, Any]:
    """Send every queued e-mail over one connection of the SMTP connection ``smtp_default``.

    The provider's hook opens (and authenticates, per the connection's TLS/SSL
    extras) one client for the whole batch; ``review_calendar`` builds each
    message and keeps the outbox ledger, so a retry or re-run sends nothing twice.

    Args:
        dry_run: Count what is queued without sending.
        limit: Send at most this many (rate limiting across runs).

    Returns:
        The delivery report as a dict (counts only: no addresses).

    Raises:
        RuntimeError: The SMTP server could not be reached; what was not sent stays queued.
    """
    from review_calendar.settings import get_settings
    from review_calendar.notify.outbox import deliver, pending_count

    url = get_settings().db_url
    if dry_run:
        return {"dry_run": True, "queued": pending_count(url)}
    import smtplib

    from airflow.providers.smtp.hooks.smtp import SmtpHook
    from airflow.sdk.exceptions import AirflowException

    from review_calendar.notify.outbox import SmtpUnavailable

    rate = float(os.environ.get("REVIEW_CALENDAR_SMTP_RATE", "0") or 0) or None
    if not pending_count(url):
        return {"queued": 0, "sent": 0}
    hook = SmtpHook(smtp_conn_id=SMTP_CONN_ID)
    try:
        hook.__enter__()
    except (OSError, smtplib.SMTPException, AirflowException) as exc:
        # Unreachable before the first message: the same visible failure as mid-batch.
        raise SmtpUnavailable(
            f"SMTP 服务器无法连接，{pending_count(url)} 封邮件仍在发件箱中等待下次发送：{type(exc).__name__}"
        ) from exc
    try:
        # The hook keeps one authenticated smtplib client while the context is open;
        # we hand it our own EmailMessage (UTF-8 headers, stable Message-ID).
        client = hook._smtp_client  # noqa: SLF001 - the provider exposes no public accessor
        report = deliver(url, client.send_message, limit=limit, rate_per_second=rate)
    finally:
        hook.__exit__(None, None, None)
    summary = report.to_dict()
    log.info("Outbox delivery: %s", {k: v for k, v in summary.items() if isinstance(v, int | float | bool)})
    report.raise_for_outage()  # a red task; unsent e-mails stay queued for the next run
    return summary
