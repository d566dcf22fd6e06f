"""Files that cannot be placed are e-mailed to the operators once, not at every 10-minute sweep.

Real folders, the real sweep (``tasks.inbox.sweep_now``), the real outbox and
its delivery (the send function collects the messages instead of an SMTP server).
"""

from __future__ import annotations

import datetime as dt
import shutil
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from review_calendar.intake.inbox import inbox_dir
from review_calendar.notify.delivery import deliver
from review_calendar.settings import get_settings
from review_calendar.store.db import session_scope
from review_calendar.store.models import OutboxMessage
from review_calendar.tasks.inbox import ALERT_KIND, sweep_now
from tests.faults import PROGRAMME_ID, contact_list_instance
from tests.security.inbox_cases import a_contact_list, city_code

if TYPE_CHECKING:
    from email.message import EmailMessage

pytestmark = pytest.mark.faults
DAY = dt.date(2025, 3, 31)


def _alerts(url: str) -> list[OutboxMessage]:
    with session_scope(url) as session:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == ALERT_KIND)).all()
        session.expunge_all()
    return list(rows)


def test_an_unplaced_file_is_alerted_once_and_listed_with_its_reason(sweep_env: str, operators: str) -> None:
    _, instance = contact_list_instance()
    inbox = inbox_dir(get_settings(), instance)
    a_contact_list(sweep_env, inbox / "石家庄市" / "名单.xlsx")  # a city name instead of a code
    a_contact_list(sweep_env, inbox / city_code(sweep_env, 1) / "名单.xlsx", 1)  # well placed

    first = sweep_now(DAY, PROGRAMME_ID)
    again = [sweep_now(DAY, PROGRAMME_ID) for _ in range(3)]  # the next 10-minute sweeps
    sent: list[EmailMessage] = []
    deliver(sweep_env, sent.append)

    assert first["totals"]["accepted"] == 1
    assert [u["path"].split("/")[-2] for u in first["alerted"]] == ["石家庄市"]
    assert all(r["alerted"] == [] and r["totals"]["unplaced"] == 1 for r in again)
    assert len(_alerts(sweep_env)) == 1
    (mail,) = [m for m in sent if m["To"] == operators]
    body = mail.get_content()
    assert "石家庄市/名单.xlsx" in body and "不是6位行政区划代码" in body


def test_a_new_unplaced_file_is_alerted_alone(sweep_env: str, operators: str) -> None:
    _, instance = contact_list_instance()
    inbox = inbox_dir(get_settings(), instance)
    a_contact_list(sweep_env, inbox / "石家庄市" / "名单.xlsx")
    sweep_now(DAY, PROGRAMME_ID)

    a_contact_list(sweep_env, inbox / "2025-03-20" / "名单.xlsx", 1)  # a dated folder, later
    later = sweep_now(DAY, PROGRAMME_ID)

    assert [u["path"].split("/")[-2] for u in later["alerted"]] == ["2025-03-20"]
    bodies = [m.body for m in _alerts(sweep_env)]
    assert len(bodies) == 2 and "2025-03-20" in bodies[1] and "石家庄市" not in bodies[1]


def test_a_file_that_leaves_and_comes_back_is_alerted_again(sweep_env: str, operators: str) -> None:
    _, instance = contact_list_instance()
    folder = inbox_dir(get_settings(), instance) / "石家庄市"
    a_contact_list(sweep_env, folder / "名单.xlsx")
    sweep_now(DAY, PROGRAMME_ID)
    shutil.rmtree(folder)
    assert sweep_now(DAY, PROGRAMME_ID)["alerted"] == []

    a_contact_list(sweep_env, folder / "名单.xlsx")
    back = sweep_now(DAY, PROGRAMME_ID)

    assert len(back["alerted"]) == 1


def test_a_dry_run_takes_nothing_and_alerts_nobody(sweep_env: str, operators: str) -> None:
    _, instance = contact_list_instance()
    inbox = inbox_dir(get_settings(), instance)
    a_contact_list(sweep_env, inbox / "石家庄市" / "名单.xlsx")
    placed = a_contact_list(sweep_env, inbox / city_code(sweep_env) / "名单.xlsx")

    result = sweep_now(DAY, PROGRAMME_ID, dry_run=True)

    assert result["alerted"] == [] and _alerts(sweep_env) == []
    assert placed.exists()
    (only,) = result["instances"]
    assert only["would_take"] == [str(placed.relative_to(get_settings().inbox_dir))]


def test_the_landing_page_lists_the_unplaced_files_until_they_are_put_right(
    sweep_env: str, operators: str
) -> None:
    from review_calendar_airflow.ui.rendering import _environment

    from review_calendar.reviewer_pages.inbox import unplaced_files

    _, instance = contact_list_instance()
    folder = inbox_dir(get_settings(), instance) / "石家庄市"
    a_contact_list(sweep_env, folder / "名单.xlsx")
    sweep_now(DAY, PROGRAMME_ID)

    listed = unplaced_files(get_settings().reports_dir)
    html = _environment().get_template("_unplaced.html").render(unplaced=listed)
    shutil.rmtree(folder)
    sweep_now(DAY, PROGRAMME_ID)

    assert [(u.programme_id, u.path.split("/")[-2], u.alerted_on) for u in listed] == [
        (PROGRAMME_ID, "石家庄市", "2025-03-31")
    ]
    assert "无法归位的文件（1）" in html and "不是6位行政区划代码" in html
    assert unplaced_files(get_settings().reports_dir) == []
    assert _environment().get_template("_unplaced.html").render(unplaced=[]).strip() == ""


def test_without_an_operator_address_nothing_counts_as_alerted_and_the_first_address_gets_the_alert(
    sweep_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("REVIEW_CALENDAR_OPERATORS", raising=False)
    _, instance = contact_list_instance()
    a_contact_list(sweep_env, inbox_dir(get_settings(), instance) / "石家庄市" / "名单.xlsx")

    unheard = sweep_now(DAY, PROGRAMME_ID)
    monkeypatch.setenv("REVIEW_CALENDAR_OPERATORS", "ops@example.org")
    heard = sweep_now(DAY, PROGRAMME_ID)

    assert unheard["alerted"] == [] and unheard["totals"]["unplaced"] == 1
    assert [u["path"].split("/")[-2] for u in heard["alerted"]] == ["石家庄市"]
    assert len(_alerts(sweep_env)) == 1
