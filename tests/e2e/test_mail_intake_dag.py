"""The demo's e-mailed submission through the real ``mail_intake`` DAG (dag.test), Dovecot and an SMTP server.

A county's file of the demo year is sent by e-mail as the demo does it
(``review_calendar_demo.by_mail``, called from ``year_run._arrive``): taken out
of the inbox, APPENDed to the mailbox with the day's arrival time, then the
DAG takes it in and its send step delivers the 回执 in the county's thread.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.e2e
DAY = dt.date(2025, 7, 10)


def test_a_county_answers_by_mail_and_gets_its_receipt_in_the_thread(
    airflow_db: Path, sweep_env_e2e: str, tmp_path: Path
) -> None:
    from review_calendar.domain.calendar import TZ
    from review_calendar.intake.inbox import inbox_dir
    from review_calendar.settings import get_settings
    from review_calendar.store.db import session_scope
    from review_calendar.store.models import MailMessage, Submission
    from review_calendar.store.queries import expected_submitters
    from review_calendar.store.receipts import aware
    from review_calendar_demo import by_mail
    from review_calendar_demo.local_imap import ImapServer
    from review_calendar_demo.local_smtp import LocalSmtpServer
    from review_calendar_demo.scenario import Placed
    from review_calendar_demo.synthetic import records_for, write_xlsx
    from review_calendar_demo.year_run import DagRunner, _arrive
    from tests.faults import mail_cases as M

    if not ImapServer.available():
        pytest.skip("Dovecot not installed (scripts/apt-install.sh dovecot-imapd)")
    imap = ImapServer()
    user = "tianbao@gxt.hebei.example.cn"
    imap.add_user(user, "pw")
    imap.start()
    smtp = LocalSmtpServer().start()
    env = {
        "REVIEW_CALENDAR_SUBMISSIONS_ADDRESS": user,
        "REVIEW_CALENDAR_IMAP_HOST": imap.host,
        "REVIEW_CALENDAR_IMAP_PORT": str(imap.port),
        "REVIEW_CALENDAR_IMAP_USER": user,
        "REVIEW_CALENDAR_IMAP_PASSWORD": "pw",
        "REVIEW_CALENDAR_IMAP_SSL": "false",
        "AIRFLOW_CONN_REVIEW_CALENDAR_IMAP": json.dumps(
            {"conn_type": "imap", "host": imap.host, "port": imap.port, "login": user, "password": "pw",
             "extra": {"use_ssl": False}}
        ),
        "AIRFLOW_CONN_SMTP_DEFAULT": json.dumps(
            {"conn_type": "smtp", "host": "127.0.0.1", "port": smtp.port,
             "extra": {"disable_ssl": True, "disable_tls": True, "timeout": 10}}
        ),
    }  # fmt: skip
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        settings = get_settings()
        M.add_contacts(sweep_env_e2e)
        with session_scope(sweep_env_e2e) as session:
            county = next(
                s for s in expected_submitters(session, M.PROGRAMME, M.HALF_YEAR) if s.region_code == M.COUNTY
            )
        path = inbox_dir(settings, M.HALF_YEAR) / M.COUNTY / "藁城区上半年进展.xlsx"
        write_xlsx(path, records_for(M.PROGRAMME, M.HALF_YEAR, county), M.HALF_YEAR.title)
        placed = [Placed(path, M.COUNTY, DAY, "on_time")]
        mailed = by_mail.choose(settings, M.PROGRAMME, M.HALF_YEAR, placed)
        assert mailed == placed

        runner = DagRunner(tmp_path / "dag-runs.log")
        assert _arrive(settings, M.HALF_YEAR, placed, runner, None, mailed) == 1

        assert [r[:3] for r in runner.log.runs] == [("mail_intake", "邮件报送 1 封 07-10 10:00", "success")]
        with session_scope(sweep_env_e2e) as session:
            [sub] = session.scalars(select(Submission)).all()
            [mail] = session.scalars(select(MailMessage)).all()
            assert (sub.status, sub.region_code, mail.status) == ("accepted", M.COUNTY, "done")
            assert aware(sub.received_at) == dt.datetime.combine(DAY, dt.time(10), tzinfo=TZ)
        [receipt] = [m for m in smtp.messages if "已受理" in str(m["Subject"])]
        assert receipt["In-Reply-To"] == mail.message_id
        assert not path.exists()  # it came by e-mail, not through the inbox
    finally:
        smtp.stop()
        imap.stop()
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@pytest.fixture
def sweep_env_e2e(migrated_url: str, review_env: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The demo province with its 2025 instances recorded; the review database URL."""
    from review_calendar.store.queries import record_instances
    from review_calendar_demo.seed import seed_demo
    from tests.faults import mail_cases as M

    monkeypatch.setenv("REVIEW_CALENDAR_DB_URL", migrated_url)
    seed_demo(migrated_url)
    record_instances(migrated_url, M.PROGRAMME, 2025)
    return migrated_url
