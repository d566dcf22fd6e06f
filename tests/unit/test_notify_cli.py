"""``review-calendar remind``: dry run, queue and send, outage exit code (real database and SMTP server)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from review_calendar.cli.remind import register
from review_calendar.notify.recipients import ROLE_DIVISION, ROLE_LEADER
from review_calendar.store.db import session_scope, upgrade
from review_calendar.store.models import OutboxMessage
from review_calendar_demo.local_smtp import LocalSmtpServer
from review_calendar_demo.seed import seed_demo
from tests.support.builders import contact_values, set_contacts

pytestmark = pytest.mark.unit

REGIONS = ["130109", "130229", "130322", "130635", "130100", "130200", "130300", "130600"]
REMIND = ["remind", "--programme", "hebei_smart_cluster", "--year", "2025", "--as-of", "2025-07-18"]


def run(argv: list[str]) -> int:
    """Parse and run like ``review-calendar`` does once ``register`` is wired into its parser."""
    parser = argparse.ArgumentParser(prog="review-calendar")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


@pytest.fixture
def smtp() -> Iterator[LocalSmtpServer]:
    server = LocalSmtpServer().start()
    yield server
    server.stop()


@pytest.fixture
def url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smtp: LocalSmtpServer) -> str:
    """A demo review database with contacts, and the SMTP settings of the local server."""
    db = f"sqlite:///{tmp_path / 'review.db'}"
    monkeypatch.setenv("REVIEW_CALENDAR_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("REVIEW_CALENDAR_DB_URL", db)
    monkeypatch.setenv("REVIEW_CALENDAR_SMTP_HOST", smtp.host)
    monkeypatch.setenv("REVIEW_CALENDAR_SMTP_PORT", str(smtp.port))
    monkeypatch.setenv("REVIEW_CALENDAR_SMTP_TIMEOUT", "5")
    upgrade(db)
    seed_demo(db)
    set_contacts(
        db,
        [
            contact_values("hebei_smart_cluster", 2025, code, role, email=f"{prefix}.{code}@gx.example.cn")
            for code in REGIONS
            for role, prefix in ((ROLE_DIVISION, "div"), (ROLE_LEADER, "lead"))
        ],
    )
    return db


def statuses(url: str) -> list[str]:
    with session_scope(url) as session:
        return list(session.scalars(select(OutboxMessage.status).order_by(OutboxMessage.id)))


def test_dry_run_shows_who_would_get_what_and_writes_nothing(
    url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run([*REMIND, "--dry-run"])

    out = capsys.readouterr().out
    assert code == 0
    assert "试运行" in out and "新增 6 封" in out
    line = next(x for x in out.splitlines() if "藁城区" in x)
    assert "催报提醒 overdue_3 藁城区（130109） → 责任处室负责同志 d***@gx.example.cn" in line
    assert "抄送 主管领导 l***@gx.example.cn" in line
    assert "div.130109@" not in out
    assert statuses(url) == []


def test_send_delivers_with_the_template_and_a_second_run_sends_nothing(
    url: str, smtp: LocalSmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    first = run([*REMIND, "--send"])
    second = run([*REMIND, "--send"])

    out = capsys.readouterr().out
    reminder = next(m for m in smtp.messages if m["subject"].endswith("— 藁城区"))
    (attachment,) = list(reminder.iter_attachments())
    assert (first, second) == (0, 0)
    assert "已发送 6 封" in out and "新增 0 封，已在发件箱 6 封" in out and "已发送 0 封" in out
    assert len(smtp.messages) == 6
    assert attachment.get_filename() == "上半年试点建设进展情况报送模板.xlsx"


def test_unreachable_server_exits_1_and_keeps_the_messages(
    url: str, smtp: LocalSmtpServer, capsys: pytest.CaptureFixture[str]
) -> None:
    smtp.stop()

    code = run([*REMIND, "--send", "--json"])

    captured = capsys.readouterr()
    delivery = json.loads(captured.out)["delivery"]
    assert code == 1
    assert "SMTP 服务器无法连接" in captured.err
    assert (delivery["server_unreachable"], delivery["remaining"]) == (True, 6)
    assert statuses(url) == ["queued"] * 6


def test_default_years_cover_the_previous_cycle(url: str, capsys: pytest.CaptureFixture[str]) -> None:
    # The full-year report of cycle 2024 is due 2025-01-15: planning on 2025-01-10 must see it.
    code = run(
        ["remind", "--programme", "hebei_smart_cluster", "--as-of", "2025-01-10", "--dry-run", "--json"]
    )

    plans = json.loads(capsys.readouterr().out)["plans"]
    assert code == 0
    assert [p["cycle_year"] for p in plans] == [2024, 2025]
    assert plans[0]["instances"] == 1


def test_as_of_must_be_a_date() -> None:
    with pytest.raises(SystemExit) as exit_info:
        run(["remind", "--programme", "hebei_smart_cluster", "--as-of", "18.07.2025"])
    assert exit_info.value.code == 2


def test_as_of_is_parsed_as_a_date() -> None:
    parser = argparse.ArgumentParser()
    register(parser.add_subparsers())

    args = parser.parse_args(["remind", "--programme", "p", "--as-of", "2025-07-18"])

    assert args.as_of == dt.date(2025, 7, 18)
