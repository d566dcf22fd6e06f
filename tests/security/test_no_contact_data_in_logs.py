"""Contact data (phones, e-mail addresses) never appears in logs or task results.

The contacts are the real flow's: cities submit their contact lists (with
their pilot counties' officials) through the inbox, one list is rejected for a
bad mobile and a bad address, and the half-year report's reminders then go
to the counties' officials through a real local SMTP server. Two views:

- in process, every record of the ``review_calendar`` and
  ``review_calendar_airflow`` loggers at DEBUG, and the task functions'
  return values (what Airflow stores as XCom and shows in the UI);
- end to end, the output of two ``dag.test()`` runs of ``dags/reminders.py``
  (the contact lists' window, then the half-year report's) in a child
  process at Airflow's production log level (INFO): the task logs.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.security import ROOT, migrated_airflow_home

pytestmark = pytest.mark.security

PROGRAMME = "hebei_smart_cluster"
LIST_DAY, REMINDER_DAY = "2025-03-28", "2025-07-08"
#: Cities that send their list and the pilot counties each list covers (demo enrolments).
CITIES = {"130100": ["130109"], "130200": ["130229"], "130300": ["130322"], "130600": ["130635", "130684"]}
BROKEN_CITY = "130400"  # its list has a malformed mobile and address: rejected


def submit_contact_lists(url: str) -> list[str]:
    """Put the cities' contact lists in the inbox (dated a week before the list is due).

    Returns:
        Every phone number and e-mail address in them, as written.
    """
    from review_calendar.domain.programmes import find_instance, load_programme
    from review_calendar.intake.inbox import inbox_dir
    from review_calendar.settings import get_settings
    from review_calendar.store.db import session_scope
    from review_calendar.store.models import Region
    from review_calendar.store.queries import expected_submitters
    from review_calendar_demo.synthetic import records_for, set_received, write_xlsx

    programme = load_programme(PROGRAMME)
    instance = find_instance(programme, 2025, "contact_list")
    with session_scope(url) as session:
        cities = {s.region_code: s for s in expected_submitters(session, programme, instance)}
        names = {r.code: r.name for r in session.query(Region).filter(Region.code.like("13%"))}
    values: list[str] = []
    for code, counties in [*CITIES.items(), (BROKEN_CITY, [])]:
        records = records_for(programme, instance, cities[code], counties=[(c, names[c]) for c in counties])
        rows = records["contact_list"]
        if code == BROKEN_CITY:
            rows[0]["mobile"], rows[1]["email"] = "1391234567", "chu.zhang@@gxj.example.gov.cn"
        values += [r[k] for r in rows for k in ("office_phone", "mobile", "email")]
        path = write_xlsx(
            inbox_dir(get_settings(), instance) / code / f"{names[code]}联系人名单.xlsx", records, "联系人"
        )
        set_received(path, dt.date(2025, 3, 21))
    return values


def leaks(text: str, values: list[str]) -> list[str]:
    """The contact values found in ``text``: as written, and phones also as bare digits."""
    found = []
    lowered = text.lower()
    for value in values:
        forms = {value.lower()}
        if "@" not in value:
            forms.add(re.sub(r"\D", "", value))
        if any(form and form in lowered for form in forms):
            found.append(value)
    return found


# In process: the review_calendar loggers at DEBUG.


class Flow:
    def __init__(self, url: str, values: list[str], smtp: Any) -> None:
        self.url, self.values, self.smtp = url, values, smtp


@pytest.fixture
def flow(migrated_url: str, review_env: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Flow]:
    from review_calendar_demo.local_smtp import LocalSmtpServer
    from review_calendar_demo.seed import seed_demo

    monkeypatch.setenv("REVIEW_CALENDAR_DB_URL", migrated_url)
    seed_demo(migrated_url)
    values = submit_contact_lists(migrated_url)
    smtp = LocalSmtpServer().start()
    yield Flow(migrated_url, values, smtp)
    smtp.stop()


@pytest.fixture
def debug_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    for name in ("review_calendar", "review_calendar_airflow"):
        caplog.set_level(logging.DEBUG, logger=name)
    return caplog


def logged_text(caplog: pytest.LogCaptureFixture) -> str:
    return "\n".join(f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records)


def take_in_lists() -> dict[str, Any]:
    from review_calendar.tasks import ingest_inbox

    return ingest_inbox(f"{PROGRAMME}/2025/contact_list/Y", LIST_DAY, run_id="logs-test")


def remind_and_send(flow: Flow, *, dry_run: bool = False) -> tuple[dict[str, Any], dict[str, Any]]:
    from review_calendar.notify.delivery import deliver
    from review_calendar.notify.smtp import smtp_sender
    from review_calendar.settings import SmtpSettings
    from review_calendar.tasks import plan_reminders

    planned = plan_reminders(PROGRAMME, REMINDER_DAY, dry_run=dry_run)
    with smtp_sender(SmtpSettings(host=flow.smtp.host, port=flow.smtp.port, timeout=5)) as send:
        delivered = deliver(flow.url, send).to_dict()
    return planned, delivered


def test_intake_of_contact_lists_logs_no_contact_data(
    flow: Flow, debug_log: pytest.LogCaptureFixture
) -> None:
    result = take_in_lists()

    assert (result["accepted"], result["rejected"]) == (4, 1)
    assert debug_log.records, "the intake logs something"
    assert leaks(logged_text(debug_log), flow.values) == []


def test_reminders_to_the_submitted_contacts_log_no_contact_data(
    flow: Flow, debug_log: pytest.LogCaptureFixture
) -> None:
    take_in_lists()
    debug_log.clear()

    _, delivered = remind_and_send(flow)

    sent_to = {a for m in flow.smtp.received for a in m.rcpt_tos}
    assert delivered["sent"] > 0 and set(leaks(" ".join(sent_to), flow.values)), "the e-mails used the lists"
    assert leaks(logged_text(debug_log), flow.values) == []


@pytest.mark.parametrize(
    "dry_run", [pytest.param(True, id="dry-run"), pytest.param(False, id="queue-and-send")]
)
def test_task_results_carry_no_contact_data(flow: Flow, dry_run: bool) -> None:
    taken = take_in_lists()

    planned, delivered = remind_and_send(flow, dry_run=dry_run)

    results = json.dumps([taken, planned, delivered], ensure_ascii=False)
    assert planned["queued"] > 0
    assert leaks(results, flow.values) == []


# End to end: the reminders DAG's task logs.


def child(workdir: Path) -> None:
    """Run the reminders DAG on the list's window, then on the half-year report's; write a summary."""
    home = workdir / "home"
    url = f"sqlite:///{home / 'review.db'}"
    os.environ.update(REVIEW_CALENDAR_HOME=str(home), REVIEW_CALENDAR_DB_URL=url)
    from airflow.dag_processing.dagbag import DagBag

    from review_calendar.store.db import upgrade
    from review_calendar_demo.local_smtp import LocalSmtpServer
    from review_calendar_demo.seed import seed_demo

    upgrade(url)
    seed_demo(url)
    values = submit_contact_lists(url)
    (workdir / "values.json").write_text(json.dumps(values), encoding="utf-8")
    with LocalSmtpServer() as smtp:
        conn = {"conn_type": "smtp", "host": smtp.host, "port": smtp.port,
                "extra": {"disable_ssl": True, "disable_tls": True, "timeout": 10}}  # fmt: skip
        os.environ["AIRFLOW_CONN_SMTP_DEFAULT"] = json.dumps(conn)
        dag = DagBag(dag_folder=str(ROOT / "dags" / "reminders.py")).dags["reminders"]
        states = [
            str(dag.test(run_conf={"as_of": day, "programme": PROGRAMME}).state)
            .removeprefix("DagRunState.")
            .lower()
            for day in (LIST_DAY, REMINDER_DAY)
        ]
        recipients = sorted({a for m in smtp.received for a in m.rcpt_tos})
    (workdir / "summary.json").write_text(
        json.dumps({"states": states, "recipients": recipients}), encoding="utf-8"
    )


@pytest.fixture(scope="session")
def airflow_metadata_db() -> Path:
    return migrated_airflow_home()


@pytest.mark.e2e
def test_reminders_dag_task_logs_carry_no_contact_data(airflow_metadata_db: Path, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",  # the production default, not the tests' WARNING
        "REVIEW_CALENDAR_SIMULATED_YEAR": "true",  # files written now, swept on 2025's days
        "PYTHONPATH": os.pathsep.join([str(ROOT / "include"), str(ROOT / "plugins"), str(ROOT)]),
    }

    run = subprocess.run(
        [sys.executable, "-m", "tests.security.test_no_contact_data_in_logs", str(tmp_path)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=180,
    )  # fmt: skip

    log = run.stdout + run.stderr
    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    values = json.loads((tmp_path / "values.json").read_text(encoding="utf-8"))
    assert run.returncode == 0, log[-3000:]
    assert summary["states"] == ["success", "success"]
    assert leaks(" ".join(summary["recipients"]), values), "the reminders went to the submitted contacts"
    assert "Outbox delivery" in log, "the task log was captured"
    assert leaks(log, values) == []


if __name__ == "__main__":
    child(Path(sys.argv[1]))
