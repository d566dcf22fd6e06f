"""A real SMTP server refusing one recipient: each recipient's outcome is recorded, the refused one retried, then reported.

The day's reminder run goes through the task entry points (``tasks.plan_reminders``)
and the plain SMTP sender (CLI) or Airflow's ``SmtpHook`` (the DAG's send task,
``review_calendar_airflow.mail.deliver_outbox``). The server is the real
aiosmtpd server answering ``550 5.1.1`` to the ``RCPT TO`` of one county's
division (the reminder's To) while it accepts the city leader in Cc. Nothing
is mocked; the database is SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from review_calendar.notify.delivery import DeliveryReport, deliver
from review_calendar.notify.outbox import pending_count
from review_calendar.notify.recipients import ROLE_DIVISION, ROLE_LEADER
from review_calendar.notify.refusals import TRIES
from review_calendar.notify.smtp import smtp_sender
from review_calendar.settings import SmtpSettings
from review_calendar.store.db import session_scope
from review_calendar.store.models import OutboxMessage
from review_calendar.tasks import plan_reminders
from review_calendar_demo.local_smtp import LocalSmtpServer, ReceivedMail
from review_calendar_demo.seed import seed_demo
from tests.support.builders import contact_values, set_contacts

pytestmark = pytest.mark.faults

PROGRAMME = "hebei_smart_cluster"
AS_OF = "2025-07-08"
COUNTY, CITY = "130109", "130100"
REFUSED = f"div.{COUNTY}@gx.example.cn"
OPERATOR = "ops@gx.example.cn"


@pytest.fixture
def url(migrated_url: str, review_env: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The demo province with contacts for one lagging county and its city; the day's reminders queued."""
    monkeypatch.setenv("REVIEW_CALENDAR_DB_URL", migrated_url)
    monkeypatch.setenv("REVIEW_CALENDAR_OPERATORS", OPERATOR)
    seed_demo(migrated_url)
    set_contacts(
        migrated_url,
        [
            contact_values(PROGRAMME, 2025, code, role, email=f"{prefix}.{code}@gx.example.cn")
            for code in (COUNTY, CITY)
            for role, prefix in ((ROLE_DIVISION, "div"), (ROLE_LEADER, "lead"))
        ],
    )
    plan_reminders(PROGRAMME, AS_OF)
    return migrated_url


@pytest.fixture
def smtp() -> Iterator[LocalSmtpServer]:
    server = LocalSmtpServer().start()
    server.refuse = {REFUSED}
    yield server
    server.stop()


def send_all(server: LocalSmtpServer, url: str) -> DeliveryReport:
    with smtp_sender(SmtpSettings(host=server.host, port=server.port, timeout=5)) as send:
        return deliver(url, send)


def county_message(url: str) -> OutboxMessage:
    """The reminder whose To is the refused county division (its city leader in Cc)."""
    with session_scope(url) as session:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "reminder")).all()
    (row,) = [r for r in rows if REFUSED in [a["addr"] for a in r.to_addrs]]
    return row


def county_mails(server: LocalSmtpServer, message_id: str) -> list[ReceivedMail]:
    return [m for m in server.received if m.message["message-id"] == message_id]


def message_id_of(server: LocalSmtpServer, row: OutboxMessage) -> str:
    """The Message-ID the server saw on the reminder (its To is the refused county division)."""
    ids = {
        str(m.message["message-id"])
        for m in server.received
        if REFUSED in str(m.message["to"]) and m.message["cc"]
    }
    (found,) = ids
    return found


def test_refused_main_recipient_is_recorded_and_the_message_is_not_marked_sent(
    url: str, smtp: LocalSmtpServer
) -> None:
    report = send_all(smtp, url)

    row = county_message(url)
    (mail,) = [m for m in smtp.received if m.message["message-id"] == message_id_of(smtp, row)]
    assert row.cc_addrs, "the reminder copies the city leader"
    assert row.status == "partial" and report.partial == 1
    assert row.recipients[REFUSED] == {"state": "refused", "code": 550, "tries": 1}
    assert {v["state"] for a, v in row.recipients.items() if a != REFUSED} == {"accepted"}
    assert REFUSED not in mail.rcpt_tos and mail.rcpt_tos  # the Cc got it
    assert "1 个收件人被拒收（550）" in row.last_error and "@" not in row.last_error
    assert pending_count(url, PROGRAMME) == 2  # and the window notice, sent to the county alone: failed


def test_next_run_sends_to_the_refused_recipient_only_with_the_same_message_id(
    url: str, smtp: LocalSmtpServer
) -> None:
    send_all(smtp, url)
    smtp.refuse = set()  # the mailbox is fixed

    retry = send_all(smtp, url)

    row = county_message(url)
    first, second = county_mails(smtp, message_id_of(smtp, row))
    assert first.message["message-id"] == second.message["message-id"]
    assert second.rcpt_tos == (REFUSED,) and REFUSED not in first.rcpt_tos
    assert (retry.sent, retry.remaining) == (2, 0)
    assert row.status == "sent" and row.recipients[REFUSED]["tries"] == 2
    assert row.lease_owner is None and row.lease_until is None


def test_recipient_still_refused_after_the_last_try_is_given_up_and_reported(
    url: str, smtp: LocalSmtpServer
) -> None:
    reports = [send_all(smtp, url) for _ in range(TRIES + 1)]

    row = county_message(url)
    (given_up,) = [e for e in reports[TRIES - 1].given_up if e["id"] == row.id]
    assert [len(r.given_up) for r in reports] == [0] * (TRIES - 1) + [2, 0]  # the reminder and the notice
    assert row.status == "refused" and row.recipients[REFUSED]["tries"] == TRIES
    assert given_up["id"] == row.id and given_up["region_code"] == COUNTY
    assert given_up["refused"] == [
        {"role": "责任处室负责同志", "region_code": COUNTY, "address": "d***@gx.example.cn", "code": 550}
    ]
    assert reports[-1].attempted == 0 and pending_count(url, PROGRAMME) == 0
    assert "不再重试" in row.last_error


def test_every_recipient_refused_fails_the_message_and_it_is_retried(url: str, smtp: LocalSmtpServer) -> None:
    smtp.refuse = {REFUSED, *(a["addr"] for a in county_message(url).cc_addrs)}

    first = send_all(smtp, url)
    smtp.refuse = set()
    second = send_all(smtp, url)

    row = county_message(url)
    assert row.id in [f["id"] for f in first.failures]
    assert all("550" in f["error"] for f in first.failures)
    assert row.status == "sent" and {v["tries"] for v in row.recipients.values()} == {2}
    assert len(county_mails(smtp, message_id_of(smtp, row))) == 1
    assert second.remaining == 0


# The DAG's send task: the operators are e-mailed about recipients given up.


@pytest.fixture
def smtp_connection(smtp: LocalSmtpServer, monkeypatch: pytest.MonkeyPatch) -> LocalSmtpServer:
    extra = {"disable_ssl": True, "disable_tls": True, "timeout": 5}
    conn = {"conn_type": "smtp", "host": smtp.host, "port": smtp.port, "extra": extra}
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_DEFAULT", json.dumps(conn))
    return smtp


def test_send_task_retries_the_refused_recipient_and_then_alerts_the_operators_once(
    url: str, smtp_connection: LocalSmtpServer
) -> None:
    from review_calendar_airflow.mail import deliver_outbox

    summaries = [deliver_outbox() for _ in range(TRIES + 1)]

    alerts = [m for m in smtp_connection.received if m.rcpt_tos == (OPERATOR,)]
    row = county_message(url)
    county = county_mails(smtp_connection, message_id_of(smtp_connection, row))
    (alert,) = alerts
    body = alert.message.get_body().get_content()
    assert [s.get("partial", 0) for s in summaries[: TRIES - 1]] == [1] * (TRIES - 1)
    assert len(county) == 1  # the Cc's copy; every retry was refused
    assert "经 3 次发送仍被拒收" in alert.message["subject"]
    assert "责任处室负责同志 d***@gx.example.cn" in body and COUNTY in body
    assert REFUSED not in body
    assert row.status == "refused"
