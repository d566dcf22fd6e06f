"""Every file under an inbox is taken in or reported: none is left silently, wherever it lies.

Real files on disk, the real sweep (``tasks.inbox.sweep_now``) and its outbox:
a file loose in a cycle's year folder, in the programme folder itself, in a year
folder that is no cycle of the programme, or in the folder of an obligation that
is not open is reported to the operators with its reason, once, and listed on
the reviewers' page while it is there.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from review_calendar.intake.inbox import inbox_dir
from review_calendar.reviewer_pages.inbox import unplaced_files
from review_calendar.settings import get_settings
from review_calendar.store.db import session_scope
from review_calendar.store.models import OutboxMessage
from review_calendar.tasks.inbox import ALERT_KIND, sweep_now
from tests.faults import PROGRAMME_ID, contact_list_instance
from tests.security.inbox_cases import a_contact_list, city_code

pytestmark = pytest.mark.faults
DAY = dt.date(2025, 3, 31)


def _alert_bodies(url: str) -> list[str]:
    with session_scope(url) as session:
        return list(session.scalars(select(OutboxMessage.body).where(OutboxMessage.kind == ALERT_KIND)))


def _programme_dir():
    return get_settings().inbox_dir / PROGRAMME_ID


@pytest.mark.parametrize(
    ("where", "reason"),
    [
        ("2025/名单.xlsx", "不属于本年度任何报送事项"),  # loose in the cycle's year folder
        ("名单.xlsx", "直接放在项目目录中"),  # loose in the programme folder
        ("2031/contact_list/130100/名单.xlsx", "不是本项目的报送年度"),  # a year with no cycle
        ("1999/contact_list/名单.xlsx", "不是本项目的报送年度"),  # before the programme's first year
        ("contact_list/130100/名单.xlsx", "不是本项目的报送年度"),  # no year folder at all
        ("2024/contact_list/130100/名单.xlsx", "收件期已过"),  # an instance long closed
    ],
)
def test_a_file_anywhere_under_the_inbox_is_alerted_once_and_listed(
    sweep_env: str, operators: str, where: str, reason: str
) -> None:
    path = a_contact_list(sweep_env, _programme_dir() / where)

    first = sweep_now(DAY, PROGRAMME_ID)
    again = [sweep_now(DAY, PROGRAMME_ID) for _ in range(2)]  # the next 10-minute sweeps

    rel = str(path.relative_to(get_settings().inbox_dir))
    assert [(u["path"], reason in u["reason"]) for u in first["alerted"]] == [(rel, True)]
    assert first["totals"]["unplaced"] == 1 and path.exists()
    assert all(r["alerted"] == [] and r["totals"]["unplaced"] == 1 for r in again)
    (body,) = _alert_bodies(sweep_env)
    assert rel in body and reason in body
    assert [(u.programme_id, u.path) for u in unplaced_files(get_settings().reports_dir)] == [
        (PROGRAMME_ID, rel)
    ]

    path.unlink()
    sweep_now(DAY, PROGRAMME_ID)
    assert unplaced_files(get_settings().reports_dir) == []


def test_a_file_sent_before_its_obligation_opens_is_reported_and_taken_in_once_open(
    sweep_env: str, operators: str
) -> None:
    _, instance = contact_list_instance()
    early = instance.opens_on - dt.timedelta(days=3)
    path = a_contact_list(sweep_env, inbox_dir(get_settings(), instance) / city_code(sweep_env) / "名单.xlsx")

    before = sweep_now(early, PROGRAMME_ID)
    opened = sweep_now(DAY, PROGRAMME_ID)

    assert [("尚未开放" in u["reason"]) for u in before["alerted"]] == [True]
    assert opened["totals"]["accepted"] == 1 and not path.exists()


def test_an_ad_hoc_report_folder_is_no_stray_folder(sweep_env: str, operators: str) -> None:
    (_programme_dir() / "2025" / "major_progress").mkdir(parents=True)

    swept = sweep_now(DAY, PROGRAMME_ID)

    assert swept["alerted"] == [] and swept["totals"]["unplaced"] == 0


def test_a_whole_sweep_reports_a_file_outside_every_programme(sweep_env: str, operators: str) -> None:
    from review_calendar.domain.programmes import load_programmes
    from review_calendar.intake.inbox_outside import outside_entries

    root = get_settings().inbox_dir
    a_contact_list(sweep_env, root / "名单.xlsx")
    a_contact_list(sweep_env, root / "某项目" / "2025" / "名单.xlsx")

    found = outside_entries(get_settings(), load_programmes(get_settings().programmes_dir), DAY, set())

    assert sorted((pid, u.path) for pid, entries in found.items() for u in entries) == [
        ("", "名单.xlsx"),
        ("", "某项目/2025/名单.xlsx"),
    ]


def test_a_sweep_of_every_programme_alerts_a_file_in_the_inbox_root_once(
    sweep_env: str, operators: str
) -> None:
    path = a_contact_list(sweep_env, get_settings().inbox_dir / "名单.xlsx")

    first = sweep_now(DAY)
    again = sweep_now(DAY)

    assert [(u["path"], u["programme_id"]) for u in first["alerted"]] == [("名单.xlsx", "")]
    assert again["alerted"] == [] and path.exists()
    assert [u.path for u in unplaced_files(get_settings().reports_dir)] == ["名单.xlsx"]
    (body,) = _alert_bodies(sweep_env)
    assert "名单.xlsx" in body and "不属于任何已配置项目" in body
