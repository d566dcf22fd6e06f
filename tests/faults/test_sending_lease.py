"""A slow SMTP server and a concurrent inbox sweep on SQLite; a delivery process killed between send and mark.

No transaction stays open while the SMTP server is talked to: a delivery
claims a message (a sending lease, committed), sends it, then marks it in a
new short transaction. The faults are real:

- the aiosmtpd server takes 2 s to answer each message's DATA, and the inbox
  sweep (the DAG's ``tasks.ingest_inbox``) runs meanwhile on the same SQLite
  file. The product waits 15 s for SQLite's write lock; the test shortens that
  to 0.3 s (an extra ``PRAGMA busy_timeout`` on connect), so a delivery that
  held the lock across a 2 s send would make the sweep fail with "database is
  locked" without a 15 s wait;
- a delivery process exits (``os._exit``) right after the server accepted a
  message, before marking it: the message is resent, with the same
  Message-ID, once its lease has expired, and not before.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, select

from review_calendar.notify.delivery import DeliveryReport, deliver
from review_calendar.notify.recipients import ROLE_DIVISION, ROLE_LEADER
from review_calendar.notify.smtp import smtp_sender
from review_calendar.settings import SmtpSettings, get_settings
from review_calendar.store.db import get_engine, session_scope, upgrade
from review_calendar.store.models import OutboxMessage
from review_calendar.store.queries import record_instances
from review_calendar.tasks import ingest_inbox, plan_reminders
from review_calendar_demo.local_smtp import LocalSmtpServer
from review_calendar_demo.seed import seed_demo
from tests.faults import AS_OF, contact_list_instance, fill_inbox, ledger
from tests.support.builders import contact_values, set_contacts

pytestmark = pytest.mark.faults

PROGRAMME = "hebei_smart_cluster"
REMINDERS_ON = "2025-07-08"
COUNTIES, CITIES = ("130109", "130229"), ("130100", "130200")
FILES = 3
SLOW = 2.0


def _short_busy_timeout(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.execute("PRAGMA busy_timeout=300")


@pytest.fixture
def url(tmp_path: Path, review_env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A SQLite review database with the demo province, its 2025 calendar and the day's reminders queued."""
    url = f"sqlite:///{tmp_path / 'review.db'}"
    monkeypatch.setenv("REVIEW_CALENDAR_DB_URL", url)
    upgrade(url)
    seed_demo(url)
    programme, _ = contact_list_instance()
    record_instances(url, programme, 2025)
    set_contacts(
        url,
        [
            contact_values(PROGRAMME, 2025, code, role, email=f"{prefix}.{code}@gx.example.cn")
            for code in (*COUNTIES, *CITIES)
            for role, prefix in ((ROLE_DIVISION, "div"), (ROLE_LEADER, "lead"))
        ],
    )
    plan_reminders(PROGRAMME, REMINDERS_ON)
    engine = get_engine(url)
    event.listen(engine, "connect", _short_busy_timeout)
    engine.dispose()
    yield url
    event.remove(engine, "connect", _short_busy_timeout)
    engine.dispose()


@pytest.fixture
def smtp() -> Iterator[LocalSmtpServer]:
    server = LocalSmtpServer().start()
    yield server
    server.stop()


def send_all(url: str, server: LocalSmtpServer, **kwargs: Any) -> DeliveryReport:
    with smtp_sender(SmtpSettings(host=server.host, port=server.port, timeout=10)) as send:
        return deliver(url, send, **kwargs)


def outbox(url: str) -> list[OutboxMessage]:
    with session_scope(url) as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_inbox_sweep_during_a_slow_send_is_not_locked_out(url: str, smtp: LocalSmtpServer) -> None:
    _, instance = contact_list_instance()
    fill_inbox(url, get_settings(), instance, FILES)
    smtp.delay = SLOW
    outcome: dict[str, Any] = {}

    def delivery() -> None:
        try:
            outcome["report"] = send_all(url, smtp, limit=4)
        except Exception as exc:  # reported below
            outcome["error"] = exc

    sender = threading.Thread(target=delivery)
    sender.start()
    assert smtp.data_started.wait(10), "the delivery never reached the server"
    started = time.monotonic()
    result = ingest_inbox(instance.key, AS_OF, run_id="lease-test")
    swept_in = time.monotonic() - started
    still_sending = sender.is_alive()
    sender.join(30)

    found = ledger(url, get_settings(), instance)
    assert still_sending, f"the sweep ({swept_in:.1f} s) did not overlap the slow delivery"
    assert result["accepted"] + result["rejected"] == FILES and found.pending == set()
    assert "error" not in outcome, outcome.get("error")
    assert outcome["report"].sent == 4
    assert all(r.lease_owner is None for r in outbox(url))


CRASHING_DELIVERY = """
import os, sys, datetime as dt
from review_calendar.notify.delivery import deliver
from review_calendar.notify.smtp import smtp_sender
from review_calendar.settings import SmtpSettings

url, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
with smtp_sender(SmtpSettings(host=host, port=port, timeout=5)) as send:
    def send_then_die(msg):
        send(msg)
        os._exit(9)  # the process dies after the server accepted, before the mark commits
    deliver(url, send_then_die, lease=dt.timedelta(seconds=2))
"""


def test_a_delivery_killed_after_the_send_resends_with_the_same_message_id_once_the_lease_expires(
    url: str, smtp: LocalSmtpServer
) -> None:
    queued = len(outbox(url))
    died = subprocess.run(
        [sys.executable, "-c", CRASHING_DELIVERY, url, smtp.host, str(smtp.port)],
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    (first,) = smtp.wait_for(1)
    leased = [r for r in outbox(url) if r.lease_owner]

    during_lease = send_all(url, smtp)
    time.sleep(2.1)
    after_lease = send_all(url, smtp)

    ids = Counter(str(m["message-id"]) for m in smtp.messages)
    assert died.returncode == 9, died.stderr
    assert len(leased) == 1 and leased[0].status == "queued"
    assert (during_lease.sent, during_lease.skipped) == (queued - 1, 1)
    assert (after_lease.sent, after_lease.remaining) == (1, 0)
    assert ids[str(first["message-id"])] == 2 and set(ids.values()) - {2} == {1}
    assert len(ids) == queued
    assert {r.status for r in outbox(url)} == {"sent"}
