"""Receipt time, order and receipts (受理编号, 回执) on real files, a real database and a real SMTP server.

A submitter controls a file's modification time, not its status-change time
or when the sweep first saw it: an old modification time does not make a late
file on time, a future one does not keep a file pending. The file received
last is in force, whatever the order intake reads them in; an earlier version
sent again is in force again. Every accepted file gets a 受理编号 and one 回执.
"""

from __future__ import annotations

import datetime as dt
import shutil
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from review_calendar.cli import main
from review_calendar.domain.calendar import TZ
from review_calendar.intake.inbox import inbox_dir, pending_files
from review_calendar.notify.delivery import deliver
from review_calendar.notify.smtp import smtp_sender
from review_calendar.settings import SmtpSettings, get_settings
from review_calendar.store.db import session_scope
from review_calendar.store.models import Contact, OutboxMessage, Receipt, Submission
from review_calendar.store.queries import expected_submitters
from review_calendar.store.receipts import aware
from review_calendar.tasks import ingest_inbox
from review_calendar.tasks.intake import ingest_files
from review_calendar.tasks.sightings import first_seen_at
from review_calendar_demo.local_smtp import LocalSmtpServer
from review_calendar_demo.synthetic import records_for, set_received, write_xlsx
from tests.faults import contact_list_instance

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

pytestmark = pytest.mark.faults

PROGRAMME, INSTANCE = contact_list_instance()  # due 2025-03-31


def _at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).astimezone(TZ)


def _city(url: str):
    with session_scope(url) as session:
        return expected_submitters(session, PROGRAMME, INSTANCE)[0]


def _write(path: Path, url: str, seed: int) -> Path:
    return write_xlsx(path, records_for(PROGRAMME, INSTANCE, _city(url), seed=seed), "联系人")


def _drop(url: str, name: str, seed: int) -> Path:
    city = _city(url)
    return _write(inbox_dir(get_settings(), INSTANCE) / city.region_code / name, url, seed)


def _submissions(url: str) -> list[Submission]:
    with session_scope(url) as session:
        return list(session.scalars(select(Submission).order_by(Submission.id)))


def _in_force(url: str) -> list[str]:
    return [s.file_name for s in _submissions(url) if s.status == "accepted"]


def test_an_old_modification_time_does_not_make_a_late_file_on_time(sweep_env: str) -> None:
    path = _drop(sweep_env, "联系人名单.xlsx", 1)
    set_received(path, dt.date(2025, 3, 1))  # the submitter's clock says March 1st

    result = ingest_inbox(INSTANCE.key, "2025-04-08T09:00:00+08:00")

    [sub] = _submissions(sweep_env)
    assert result["accepted"] == 1
    assert (sub.is_late, sub.received_on, aware(sub.received_at)) == (
        True,
        dt.date(2025, 4, 8),
        _at("2025-04-08T09:00:00+08:00"),
    )


def test_a_future_modification_time_does_not_keep_a_file_pending(sweep_env: str) -> None:
    path = _drop(sweep_env, "联系人名单.xlsx", 1)
    set_received(path, dt.date(2025, 12, 31))

    result = ingest_inbox(INSTANCE.key, "2025-03-20T10:00:00+08:00")

    [sub] = _submissions(sweep_env)
    assert result["accepted"] == 1 and pending_files(get_settings(), INSTANCE) == []
    assert (sub.is_late, sub.received_on) == (False, dt.date(2025, 3, 20))


def test_the_first_sighting_holds_and_a_back_fill_leaves_a_later_file_pending(sweep_env: str) -> None:
    settings = get_settings()
    path = _drop(sweep_env, "联系人名单.xlsx", 1)
    first_seen_at(settings, INSTANCE, [path], _at("2025-03-30T15:00:00+08:00"))  # seen, still uploading

    assert ingest_inbox(INSTANCE.key, "2025-03-29T10:00:00+08:00")["accepted"] == 0  # a back-fill
    assert pending_files(settings, INSTANCE) == [path]
    assert ingest_inbox(INSTANCE.key, "2025-04-02T10:00:00+08:00")["accepted"] == 1

    [sub] = _submissions(sweep_env)
    assert (aware(sub.received_at), sub.is_late) == (_at("2025-03-30T15:00:00+08:00"), False)


def test_ingest_new_old_leaves_the_file_received_last_in_force(sweep_env: str, tmp_path: Path) -> None:
    old = _write(tmp_path / "旧版.xlsx", sweep_env, 1)
    set_received(old, dt.date(2025, 3, 25))  # modification times play no part
    new = _write(tmp_path / "新版.xlsx", sweep_env, 2)  # arrived on the server after the old one
    set_received(new, dt.date(2025, 3, 10))
    args = ["ingest", str(new), str(old), "--programme", PROGRAMME.id, "--year", "2025", "--obligation"]

    assert main([*args, "contact_list"]) == 0

    assert _in_force(sweep_env) == ["新版.xlsx"]


def test_an_earlier_version_sent_again_is_in_force_again(sweep_env: str, tmp_path: Path) -> None:
    v1 = _drop(sweep_env, "联系人名单.xlsx", 1)
    kept = shutil.copy(v1, tmp_path / "v1.xlsx")
    ingest_inbox(INSTANCE.key, "2025-03-20T10:00:00+08:00")
    _drop(sweep_env, "联系人名单（更正）.xlsx", 2)
    ingest_inbox(INSTANCE.key, "2025-03-25T10:00:00+08:00")
    again = shutil.copy(kept, v1.parent / "联系人名单（以此为准）.xlsx")

    result = ingest_inbox(INSTANCE.key, "2025-03-28T10:00:00+08:00")

    assert (result["accepted"], result["duplicates"]) == (1, 0)
    subs = _submissions(sweep_env)
    assert [(s.status, s.received_on) for s in subs] == [
        ("accepted", dt.date(2025, 3, 28)),
        ("superseded", dt.date(2025, 3, 25)),
    ]
    assert _in_force(sweep_env) == ["联系人名单（以此为准）.xlsx"]
    with session_scope(sweep_env) as session:
        receipts = session.scalars(select(Receipt).order_by(Receipt.id)).all()
        assert [r.submission_id for r in receipts] == [subs[0].id, subs[1].id, subs[0].id]
        assert subs[0].receipt_no == receipts[2].receipt_no == "HSC-2025-CL-0003"
        # The data in force is the re-sent version's.
        owners = set(
            session.scalars(select(Contact.submission_id).where(Contact.region_code == subs[0].region_code))
        )
        assert owners == {subs[0].id}
    # The same receipt taken in again (a re-run over the same bytes) changes nothing.
    again = shutil.copy(kept, v1.parent / "联系人名单（以此为准）.xlsx")
    report = ingest_files(
        sweep_env, get_settings(), PROGRAMME, INSTANCE, [again],
        received_at={again: _at("2025-03-28T10:00:00+08:00")},
    )  # fmt: skip
    assert len(report.duplicates) == 1 and len(_submissions(sweep_env)) == 2


@pytest.fixture
def smtp() -> Iterator[LocalSmtpServer]:
    server = LocalSmtpServer().start()
    yield server
    server.stop()


def _send(url: str, server: LocalSmtpServer) -> None:
    with smtp_sender(SmtpSettings(host=server.host, port=server.port, timeout=5)) as send:
        deliver(url, send)


def test_the_receipt_reaches_the_region_once_with_its_number(sweep_env: str, smtp: LocalSmtpServer) -> None:
    path = _drop(sweep_env, "联系人名单.xlsx", 1)
    kept = path.read_bytes()
    ingest_inbox(INSTANCE.key, "2025-03-20T10:05:12+08:00")
    _send(sweep_env, smtp)
    # A re-run of the same receipt (the file put back, the sighting it had) queues nothing new.
    path.write_bytes(kept)
    ingest_files(
        sweep_env, get_settings(), PROGRAMME, INSTANCE, [path], move=True, notify_on=dt.date(2025, 3, 20),
        received_at={path: _at("2025-03-20T10:05:12+08:00")},
    )  # fmt: skip
    _send(sweep_env, smtp)

    [sub] = _submissions(sweep_env)
    mails = [m for m in smtp.messages if "已受理" in str(m["subject"])]
    assert len(mails) == 1
    body = mails[0].get_content()
    assert (
        sub.receipt_no == "HSC-2025-CL-0001"
        and sub.receipt_no in body
        and sub.receipt_no in str(mails[0]["subject"])
    )
    assert "联系人名单.xlsx" in body and "2025年3月20日 10:05:12（北京时间）" in body
    assert f"受理数据：{sub.row_count} 行" in body
    with session_scope(sweep_env) as session:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "receipt")).all()
        assert [r.status for r in rows] == ["sent"]
