"""SMTP server down during a reminder run: the run fails visibly, nothing is lost, a restart delivers each once.

The unit tests of the outbox cover one ``deliver()`` call against a stopped
server and a server lost mid-batch. Here the day's reminder run goes through
the task entry points instead: ``tasks.plan_reminders`` (what the
reminders DAG's planning task calls) and a delivery through the plain SMTP
sender (CLI) or through Airflow's ``SmtpHook`` (the DAG's send task,
``review_calendar_airflow.mail.deliver_outbox``). The SMTP server is the real
aiosmtpd server, stopped and started again on the same port; the review
database is SQLite and PostgreSQL. Nothing is mocked.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from review_calendar.notify.delivery import DeliveryReport, SmtpUnavailable, deliver
from review_calendar.notify.outbox import pending_count
from review_calendar.notify.recipients import ROLE_DIVISION, ROLE_LEADER
from review_calendar.notify.smtp import smtp_sender
from review_calendar.settings import SmtpSettings
from review_calendar.store.db import session_scope
from review_calendar.store.models import OutboxMessage
from review_calendar.tasks import plan_reminders
from review_calendar_demo.local_smtp import LocalSmtpServer
from review_calendar_demo.seed import seed_demo
from tests.support.builders import contact_values, set_contacts

pytestmark = pytest.mark.faults

PROGRAMME = "hebei_smart_cluster"
#: A working day with notices of the half-year report and overdue reminders of the development plan.
AS_OF = "2025-07-08"
LAGGING = ("130109", "130229", "130322", "130635")
CITIES = ("130100", "130200", "130300", "130600")


@pytest.fixture
def url(migrated_url: str, review_env: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The demo province with contacts for the lagging pilot counties and their cities."""
    monkeypatch.setenv("REVIEW_CALENDAR_DB_URL", migrated_url)
    seed_demo(migrated_url)
    set_contacts(
        migrated_url,
        [
            contact_values(PROGRAMME, 2025, code, role, email=f"{prefix}.{code}@gx.example.cn")
            for code in (*LAGGING, *CITIES)
            for role, prefix in ((ROLE_DIVISION, "div"), (ROLE_LEADER, "lead"))
        ],
    )
    return migrated_url


@pytest.fixture
def smtp() -> Iterator[LocalSmtpServer]:
    server = LocalSmtpServer().start()
    yield server
    server.stop()


def send_all(url: str, server: LocalSmtpServer) -> DeliveryReport:
    """Deliver the outbox through the plain SMTP sender (``review-calendar remind --send``)."""
    with smtp_sender(SmtpSettings(host=server.host, port=server.port, timeout=5)) as send:
        return deliver(url, send)


def reminder_run(url: str, server: LocalSmtpServer) -> DeliveryReport:
    """One day's reminder run: plan (the DAG's task function), then deliver."""
    plan_reminders(PROGRAMME, AS_OF)
    return send_all(url, server)


def outbox(url: str) -> list[OutboxMessage]:
    with session_scope(url) as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def per_message_id(server: LocalSmtpServer) -> Counter[str]:
    return Counter(str(m["message-id"]) for m in server.messages)


def test_reminder_run_with_the_server_down_fails_visibly(url: str, smtp: LocalSmtpServer) -> None:
    smtp.stop()

    report = reminder_run(url, smtp)

    queued = len(outbox(url))
    assert queued == 12
    assert (report.server_unreachable, report.sent) == (True, 0)
    with pytest.raises(SmtpUnavailable, match=f"SMTP 服务器无法连接，{queued} 封邮件仍在发件箱中"):
        report.raise_for_outage()


def test_reminder_run_with_the_server_down_keeps_every_message_queued(
    url: str, smtp: LocalSmtpServer
) -> None:
    smtp.stop()

    reminder_run(url, smtp)
    reminder_run(url, smtp)  # the task's retry, still during the outage

    rows = outbox(url)
    assert {r.status for r in rows} == {"queued"}
    assert all(r.sent_at is None for r in rows)
    assert rows[0].attempts == 2 and "ConnectionRefusedError" in rows[0].last_error
    assert pending_count(url, PROGRAMME) == len(rows) == 12


def test_run_after_a_restart_on_the_same_port_delivers_each_email_once(
    url: str, smtp: LocalSmtpServer
) -> None:
    port = smtp.port
    smtp.stop()
    reminder_run(url, smtp)
    reminder_run(url, smtp)

    smtp.start()
    first = reminder_run(url, smtp)
    second = reminder_run(url, smtp)

    rows, received = outbox(url), per_message_id(smtp)
    assert smtp.port == port
    assert (first.sent, first.remaining, second.sent) == (12, 0, 0)
    assert set(received.values()) == {1}
    assert len(received) == len(rows) == 12
    assert {r.status for r in rows} == {"sent"}


# The DAG's send task: Airflow's SmtpHook over the smtp_default connection.


@pytest.fixture
def smtp_connection(smtp: LocalSmtpServer, monkeypatch: pytest.MonkeyPatch) -> LocalSmtpServer:
    """``smtp_default`` pointing at the local server (plain SMTP, as in docker-compose's mailpit)."""
    extra = {"disable_ssl": True, "disable_tls": True, "timeout": 5}
    conn = {"conn_type": "smtp", "host": smtp.host, "port": smtp.port, "extra": extra}
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", json.dumps(conn))
    return smtp


def test_send_task_with_the_server_down_fails_and_keeps_the_messages(
    url: str, smtp_connection: LocalSmtpServer
) -> None:
    from review_calendar_airflow.mail import deliver_outbox

    plan_reminders(PROGRAMME, AS_OF)
    smtp_connection.stop()

    with pytest.raises((OSError, SmtpUnavailable)):
        deliver_outbox()

    assert {r.status for r in outbox(url)} == {"queued"}


def test_send_task_with_the_server_down_raises_smtp_unavailable(
    url: str, smtp_connection: LocalSmtpServer
) -> None:
    from review_calendar_airflow.mail import deliver_outbox

    plan_reminders(PROGRAMME, AS_OF)
    smtp_connection.stop()

    with pytest.raises(SmtpUnavailable, match="12 封邮件仍在发件箱中"):
        deliver_outbox()


def test_send_task_after_a_restart_delivers_each_email_once(
    url: str, smtp_connection: LocalSmtpServer
) -> None:
    from review_calendar_airflow.mail import deliver_outbox

    plan_reminders(PROGRAMME, AS_OF)
    smtp_connection.stop()
    with pytest.raises((OSError, SmtpUnavailable)):
        deliver_outbox()

    smtp_connection.start()
    first = deliver_outbox()
    second = deliver_outbox()

    received = per_message_id(smtp_connection)
    assert (first["sent"], second["sent"]) == (12, 0)
    assert set(received.values()) == {1}
    assert len(received) == 12
