"""Counties answer by e-mail: a real Dovecot mailbox, the real intake, a real SMTP server for the answers.

The test command installs Dovecot (``scripts/apt-install.sh dovecot-imapd``); each test
gets its own mailbox on one server started for the module
(:mod:`tests.imap_server`). Messages are appended with the arrival time
(INTERNALDATE) the test wants and a Date header that lies; nothing of IMAP
is mocked. A crash is a real SIGKILL of a child process at a chosen step.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import select

from review_calendar.cli import main
from review_calendar.intake.mailbox import SubmissionsMailbox
from review_calendar.notify.delivery import deliver
from review_calendar.notify.outbox import message_id, natural_key, queue
from review_calendar.notify.smtp import smtp_sender
from review_calendar.settings import ImapSettings, SmtpSettings, get_settings
from review_calendar.store.db import session_scope
from review_calendar.store.models import MailItem, MailMessage, OutboxMessage, Submission
from review_calendar.store.receipts import aware
from review_calendar.tasks.mail import fetch_mail, held_list
from review_calendar_demo.local_smtp import LocalSmtpServer
from tests.faults import mail_cases as M
from tests.imap_server import ImapServer

if TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.faults

ROOT = Path(__file__).resolve().parents[2]
ARRIVED = "2025-07-10T16:05:07+08:00"


@pytest.fixture(scope="module")
def imap_server() -> Iterator[ImapServer]:
    if not ImapServer.available():
        if os.environ.get("CI"):
            pytest.fail("Dovecot (dovecot-imapd) is required in CI: scripts/apt-install.sh dovecot-imapd")
        pytest.skip("Dovecot not installed (scripts/apt-install.sh dovecot-imapd)")
    server = ImapServer()
    # Every mailbox of the module is made before the start (Dovecot reads its passwd-file once).
    server.users = [f"sub-{n:02d}-{uuid.uuid4().hex[:6]}@hebei-gxt.example.cn" for n in range(60)]
    for user in server.users:
        server.add_user(user, "secret")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def imap(imap_server: ImapServer, sweep_env: str, monkeypatch: pytest.MonkeyPatch) -> ImapSettings:
    """A fresh mailbox of the submissions address, configured as the deployment's; contacts in the database."""
    user = imap_server.users.pop()
    env = {
        "HOST": imap_server.host,
        "PORT": str(imap_server.port),
        "USER": user,
        "PASSWORD": "secret",
        "SSL": "false",
    }
    for k, v in env.items():
        monkeypatch.setenv(f"REVIEW_CALENDAR_IMAP_{k}", v)
    monkeypatch.setenv("REVIEW_CALENDAR_SUBMISSIONS_ADDRESS", M.MAILBOX)
    M.add_contacts(sweep_env)
    return get_settings().imap


@pytest.fixture
def smtp() -> Iterator[LocalSmtpServer]:
    server = LocalSmtpServer().start()
    yield server
    server.stop()


def _append(imap: ImapSettings, raw: bytes, when: str = ARRIVED) -> None:
    with SubmissionsMailbox(imap) as box:
        box.append(raw, M.at(when))


def _folder(imap: ImapSettings, folder: str) -> int:
    from dataclasses import replace

    with SubmissionsMailbox(replace(imap, folder=folder)) as box:
        return len(box.uids())


def _subs(url: str) -> list[Submission]:
    with session_scope(url) as session:
        return list(session.scalars(select(Submission).order_by(Submission.id)))


def _outbox(url: str, kind: str | None = None) -> list[OutboxMessage]:
    with session_scope(url) as session:
        stmt = select(OutboxMessage).order_by(OutboxMessage.id)
        if kind:
            stmt = stmt.where(OutboxMessage.kind == kind)
        rows = list(session.scalars(stmt))
        session.expunge_all()
        return rows


def _reminder_id(url: str) -> str:
    """Queue our reminder to the county for the half-year report; its Message-ID."""
    with session_scope(url) as session:
        queue(session, kind="reminder", programme_id=M.PROGRAMME.id, instance_key=M.HALF_YEAR.key,
              region_code=M.COUNTY, stage="before_3", to=[M.COUNTY_ADDR], subject="催报", body="请报送",
              created_on=M.at(ARRIVED).date())  # fmt: skip
    key = natural_key("reminder", M.HALF_YEAR.key, M.COUNTY, "before_3", [M.COUNTY_ADDR])
    return message_id(key, "hebei-gxt.example.cn")


def _text(mail: Any) -> str:
    return mail.get_body(("plain",)).get_content()


def _deliver(url: str, smtp: LocalSmtpServer) -> list[Any]:
    with smtp_sender(SmtpSettings(host=smtp.host, port=smtp.port, timeout=5)) as send:
        deliver(url, send)
    return smtp.messages


def test_a_reply_to_a_reminder_is_taken_in_at_its_arrival_and_answered_in_its_thread(
    imap: ImapSettings, sweep_env: str, tmp_path: Path, smtp: LocalSmtpServer
) -> None:
    reminder = _reminder_id(sweep_env)
    data = M.filled(tmp_path, M.HALF_YEAR, M.COUNTY, properties=False)  # the thread alone places it
    _append(imap, M.message(M.COUNTY_ADDR, [("半年报.xlsx", data)], in_reply_to=reminder))

    result = fetch_mail(run_id="t")

    [sub] = _subs(sweep_env)
    assert (sub.status, sub.region_code, sub.file_name) == ("accepted", M.COUNTY, "半年报.xlsx")
    assert aware(sub.received_at) == M.at(ARRIVED)  # INTERNALDATE, not the Date header of 2024
    assert result["messages"][0]["items"][0]["reason"] == "归属依据：回复的催报/通知邮件"
    assert _folder(imap, "INBOX") == 0 and _folder(imap, "Processed") == 1  # moved, never deleted
    mails = _deliver(sweep_env, smtp)
    [receipt] = [m for m in mails if "已受理" in str(m["subject"])]
    assert receipt["In-Reply-To"] == "<county-1@gaocheng.example.cn>"
    assert reminder in str(receipt["References"]) and M.COUNTY_ADDR in str(receipt["To"])
    assert sub.receipt_no in _text(receipt)
    [sent_reminder] = [m for m in mails if str(m["subject"]) == "催报"]
    assert str(sent_reminder["Reply-To"]) == M.MAILBOX


def test_document_properties_place_a_file_sent_without_a_thread(
    imap: ImapSettings, sweep_env: str, tmp_path: Path
) -> None:
    _append(imap, M.message(M.COUNTY_ADDR, [("表.xlsx", M.filled(tmp_path, M.HALF_YEAR, M.COUNTY))]))

    result = fetch_mail()

    [sub] = _subs(sweep_env)
    assert (sub.status, sub.region_code) == ("accepted", M.COUNTY)
    assert result["messages"][0]["items"][0]["instance_key"] == M.HALF_YEAR.key
    [answer] = _outbox(sweep_env, "receipt")
    assert answer.thread["in_reply_to"] == "<county-1@gaocheng.example.cn>"


def test_a_city_contact_may_send_for_its_county(imap: ImapSettings, sweep_env: str, tmp_path: Path) -> None:
    data = M.filled(tmp_path, M.HALF_YEAR, M.COUNTY)
    _append(imap, M.message(M.CITY_ADDR, [("县报表.xlsx", data)], message_id="<city-1@sjz.example.cn>"))

    fetch_mail()

    [sub] = _subs(sweep_env)
    assert (sub.status, sub.region_code) == ("accepted", M.COUNTY)
    [answer] = _outbox(sweep_env, "receipt")
    assert M.CITY_ADDR in {a["addr"] for a in [*answer.to_addrs, *answer.cc_addrs]}  # the sender is answered


def test_a_sender_without_standing_is_held_for_an_operator_and_told(
    imap: ImapSettings, sweep_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REVIEW_CALENDAR_OPERATORS", "ops@hebei-gxt.example.cn")
    data = M.filled(tmp_path, M.HALF_YEAR, M.COUNTY)
    _append(imap, M.message(M.OTHER_ADDR, [("别县的表.xlsx", data)], message_id="<other@luannan.example.cn>"))
    _append(imap, M.message("stranger@example.com", [("表.xlsx", data)], message_id="<s@example.com>"))

    assert main(["mail", "fetch"]) == 1

    assert _subs(sweep_env) == []  # not accepted
    held = held_list()
    assert [h["status"] for h in held] == ["held", "held"]
    assert "无权报送130109" in held[0]["reason"] and "联系人名单" in held[1]["reason"]
    assert all(Path(h["stored_path"]).read_bytes() == data for h in held)  # not lost
    replies = _outbox(sweep_env, "mail_reply")
    assert [r.to_addrs[0]["addr"] for r in replies] == [M.OTHER_ADDR, "stranger@example.com"]
    assert all("人工核对" in r.body and r.thread["in_reply_to"] for r in replies)
    assert len(_outbox(sweep_env, "inbox_alert")) == 2
    assert main(["mail", "held"]) == 0


def test_a_rejection_lists_every_error_and_attaches_the_template_again(
    imap: ImapSettings, sweep_env: str, tmp_path: Path, smtp: LocalSmtpServer
) -> None:
    reminder = _reminder_id(sweep_env)
    data = M.filled(tmp_path, M.HALF_YEAR, M.COUNTY, broken="formula")
    _append(imap, M.message(M.COUNTY_ADDR, [("有错的表.xlsx", data)], in_reply_to=reminder))

    fetch_mail()

    [sub] = _subs(sweep_env)
    assert sub.status == "rejected" and sub.error_count >= 1
    [rejection] = [m for m in _deliver(sweep_env, smtp) if "未通过" in _text(m) and m["In-Reply-To"]]
    assert rejection["In-Reply-To"] == "<county-1@gaocheng.example.cn>"
    names = [p.get_filename() for p in rejection.iter_attachments()]
    assert any(n and n.endswith("报送模板.xlsx") for n in names)
    assert "直接回复本邮件" in _text(rejection)


@pytest.mark.parametrize("style", ["rfc2231-gbk", "rfc2047-gbk", "raw-gbk"])
def test_chinese_attachment_names_in_every_encoding(
    imap: ImapSettings, sweep_env: str, tmp_path: Path, style: str
) -> None:
    name = "藁城区2025年上半年试点建设进展情况.xlsx"
    _append(imap, M.raw_named(M.COUNTY_ADDR, name, M.filled(tmp_path, M.HALF_YEAR, M.COUNTY), style))

    fetch_mail()

    [sub] = _subs(sweep_env)
    assert (sub.file_name, sub.status) == (name, "accepted")


def test_an_attachment_inside_a_forwarded_message_and_a_gbk_zip(
    imap: ImapSettings, sweep_env: str, tmp_path: Path
) -> None:
    data = M.filled(tmp_path, M.HALF_YEAR, M.COUNTY)
    _append(imap, M.forwarded(M.CITY_ADDR, M.COUNTY_ADDR, "县报表.xlsx", data))
    archive = M.zipped({"上半年报表.xlsx": M.filled(tmp_path, M.HALF_YEAR, M.COUNTY, seed=2)})
    _append(imap, M.message(M.COUNTY_ADDR, [("报表.zip", archive)], message_id="<zip@gaocheng.example.cn>"))

    fetch_mail()

    subs = _subs(sweep_env)
    assert [s.file_name for s in subs] == ["县报表.xlsx", "上半年报表.xlsx"]
    assert subs[-1].status == "accepted" and subs[0].status == "superseded"


def test_several_attachments_for_several_obligations_in_one_message(
    imap: ImapSettings, sweep_env: str, tmp_path: Path
) -> None:
    contacts = M.filled(tmp_path, M.CONTACTS, M.CITY, name="联系人.xlsx")
    report = M.filled(tmp_path, M.HALF_YEAR, M.COUNTY, name="半年报.xlsx")
    raw = M.message(
        M.CITY_ADDR, [("联系人名单.xlsx", contacts), ("县半年报.xlsx", report)], message_id="<two@sjz>"
    )
    _append(imap, raw)

    fetch_mail()

    subs = {s.obligation_id: s for s in _subs(sweep_env)}
    assert subs["contact_list"].region_code == M.CITY and subs["half_year_report"].region_code == M.COUNTY
    assert {s.status for s in subs.values()} == {"accepted"}
    assert len(_outbox(sweep_env, "receipt")) == 2


def test_oversize_and_malicious_attachments_are_quarantined_with_the_message(
    imap: ImapSettings, sweep_env: str, tmp_path: Path
) -> None:
    good = M.filled(tmp_path, M.HALF_YEAR, M.COUNTY)
    attachments = [
        ("报表.xlsx", b"MZ\x90\x00" + b"\x00" * 500),  # an executable named .xlsx
        ("setup.exe", b"MZ\x90\x00"),
        ("大表.csv", b"a,b\n" * (21 * 1024 * 1024 // 4 + 10)),  # over the 20 MB limit
        ("好表.xlsx", good),
    ]
    _append(imap, M.message(M.COUNTY_ADDR, attachments, subject="报表和程序"))

    fetch_mail()

    [sub] = _subs(sweep_env)
    assert sub.file_name == "好表.xlsx" and sub.status == "accepted"
    quarantined = [h for h in held_list() if h["status"] == "quarantined"]
    assert [h["name"] for h in quarantined] == ["报表.xlsx", "setup.exe", "大表.csv"]
    assert "可执行程序" in quarantined[0]["reason"] and "类型" in quarantined[1]["reason"]
    assert "上限" in quarantined[2]["reason"]
    meta = Path(quarantined[2]["stored_path"])
    assert meta.name == "message.json" and "报表和程序" in meta.read_text(encoding="utf-8")
    [reply] = _outbox(sweep_env, "mail_reply")
    assert "setup.exe" in reply.body and "好表.xlsx" not in reply.body  # the 回执 answers that one


def test_a_repeated_message_id_and_a_dry_run_take_nothing_twice(
    imap: ImapSettings, sweep_env: str, tmp_path: Path
) -> None:
    raw = M.message(M.COUNTY_ADDR, [("表.xlsx", M.filled(tmp_path, M.HALF_YEAR, M.COUNTY))])
    _append(imap, raw)
    assert main(["mail", "fetch", "--dry-run"]) == 0
    assert _subs(sweep_env) == [] and _folder(imap, "INBOX") == 1
    fetch_mail()
    _append(imap, raw, "2025-07-11T09:00:00+08:00")  # delivered again

    again = fetch_mail()

    assert again["messages"][0]["action"] == "repeat"
    assert len(_subs(sweep_env)) == 1 and len(_outbox(sweep_env, "receipt")) == 1
    assert _folder(imap, "Processed") == 2


def child(step: str) -> None:
    """The mail-intake process, killed by SIGKILL at ``step``: ``after-intake`` (the file stored and
    answered, the message not yet done) or ``before-move`` (done, not yet moved)."""
    from review_calendar.intake import mailbox
    from review_calendar.store import mail as ledger
    from review_calendar.tasks import mail

    def die(*_: Any, **__: Any) -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    if step == "after-intake":
        ledger.finish_message = die  # type: ignore[assignment]
    else:
        mailbox.SubmissionsMailbox.move_to_processed = die  # type: ignore[method-assign]
    mail.fetch_mail()


@pytest.mark.parametrize("step", ["after-intake", "before-move"])
def test_a_crash_mid_message_neither_loses_nor_doubles(
    imap: ImapSettings, sweep_env: str, tmp_path: Path, step: str
) -> None:
    reminder = _reminder_id(sweep_env)
    files = [("a.xlsx", M.filled(tmp_path, M.HALF_YEAR, M.COUNTY)),
             ("b.xlsx", M.filled(tmp_path, M.HALF_YEAR, M.OTHER_COUNTY))]  # fmt: skip
    _append(imap, M.message(M.COUNTY_ADDR, files, in_reply_to=reminder))
    code = f"from tests.faults.test_mail_intake import child; child({step!r})"
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=os.environ.copy(), timeout=300)
    assert done.returncode == -signal.SIGKILL
    assert _folder(imap, "INBOX") == 1
    # The answers were queued in their files' transactions, already in the thread: no delivery
    # between the crash and the re-run could send them outside it.
    answers = [r for r in _outbox(sweep_env) if r.kind in ("receipt", "rejection")]
    assert len(answers) == 2 and all(r.thread for r in answers)

    fetch_mail()  # the next run

    subs = _subs(sweep_env)
    assert [(s.file_name, s.status) for s in subs] == [("a.xlsx", "accepted"), ("b.xlsx", "rejected")]
    assert len(_outbox(sweep_env, "receipt")) == 1 and len(_outbox(sweep_env, "rejection")) == 1
    assert all(r.thread for r in _outbox(sweep_env) if r.kind in ("receipt", "rejection"))
    with session_scope(sweep_env) as session:
        [row] = session.scalars(select(MailMessage)).all()
        assert row.status == "done" and len(session.scalars(select(MailItem)).all()) == 2
    assert _folder(imap, "INBOX") == 0 and _folder(imap, "Processed") == 1


def test_an_operator_releases_a_held_attachment_received_at_its_arrival(
    imap: ImapSettings, sweep_env: str, tmp_path: Path
) -> None:
    data = M.filled(tmp_path, M.HALF_YEAR, M.COUNTY, properties=False)
    _append(imap, M.message("stranger@example.com", [("表.xlsx", data)], message_id="<s2@example.com>"))
    fetch_mail()
    [held] = held_list()
    args = ["--programme", M.PROGRAMME.id, "--year", "2025", "--obligation", "half_year_report"]

    assert main(["mail", "release", str(held["item_id"]), *args, "--region", M.COUNTY]) == 0

    [sub] = _subs(sweep_env)
    assert (sub.status, sub.region_code, aware(sub.received_at)) == ("accepted", M.COUNTY, M.at(ARRIVED))
    [receipt] = _outbox(sweep_env, "receipt")
    assert receipt.thread["in_reply_to"] == "<s2@example.com>"
    assert "stranger@example.com" in {a["addr"] for a in receipt.cc_addrs}
    assert held_list() == []  # released, still in the ledger
    assert main(["mail", "release", str(held["item_id"]), *args, "--region", M.COUNTY]) == 2


def test_an_unreachable_mailbox_is_one_line_and_takes_nothing(
    imap: ImapSettings, sweep_env: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("REVIEW_CALENDAR_IMAP_PASSWORD", "wrong")

    assert main(["mail", "fetch"]) == 1

    err = capsys.readouterr().err
    assert err.startswith("review-calendar：错误：IMAP") and "wrong" not in err and err.count("\n") == 1


def _year_in_superscript(tmp_path: Path) -> bytes:
    """A filled template whose document properties give the cycle year as ``2025²``."""
    from openpyxl import load_workbook
    from openpyxl.packaging.custom import StringProperty

    from review_calendar.intake.identity import PROPERTY_NAMES, template_properties

    M.filled(tmp_path, M.HALF_YEAR, M.COUNTY, properties=False, name="上标.xlsx")
    [path] = tmp_path.glob("*上标.xlsx")
    wb = load_workbook(path)
    for key, value in template_properties(M.HALF_YEAR).items():
        wb.custom_doc_props.append(
            StringProperty(name=key, value=value + "²" if key == PROPERTY_NAMES["cycle_year"] else value)
        )
    wb.save(path)
    return path.read_bytes()


def test_a_message_that_keeps_failing_is_given_up_after_three_tries_and_retried_on_request(
    imap: ImapSettings, sweep_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """A message whose processing raises at every try: given up after three, retried on request.

    No real input is known to make processing raise any more (the last one, a
    cycle-year property ``2025²`` that ``str.isdigit`` let through to ``int``, is
    read as "no year" now: tests/unit/test_intake_identity.py). So the reading of a
    file's document properties is made to raise here, standing in for the next
    unforeseen bug; everything else (the mailbox, the ledger, the alert) is real.
    """
    from review_calendar.intake.identity import FileIdentity
    from review_calendar.reviewer_pages.mail import waiting_mail

    def unforeseen(cls: type, properties: object) -> None:
        raise ValueError("invalid literal for int() with base 10: '2025²'")

    monkeypatch.setattr(FileIdentity, "from_properties", classmethod(unforeseen))

    monkeypatch.setenv("REVIEW_CALENDAR_OPERATORS", "ops@hebei-gxt.example.cn")
    _append(imap, M.message(M.COUNTY_ADDR, [("半年报.xlsx", _year_in_superscript(tmp_path))]))

    runs = [fetch_mail()["messages"][0] for _ in range(3)]

    assert [(r["action"], r["attempts"], r["given_up"]) for r in runs] == [
        ("failed", 1, False), ("failed", 2, False), ("failed", 3, True)
    ]  # fmt: skip
    assert _folder(imap, "INBOX") == 1 and _folder(imap, "Processed") == 0  # left in the mailbox
    assert fetch_mail()["messages"][0]["action"] == "parked"  # no longer tried
    assert _subs(sweep_env) == []
    [alert] = _outbox(sweep_env, "inbox_alert")  # once, not at every run
    failure_id = runs[-1]["failure_id"]
    assert alert.to_addrs[0]["addr"] == "ops@hebei-gxt.example.cn"
    assert f"review-calendar mail retry {failure_id}" in alert.body and "连续 3 次处理失败" in alert.body
    assert M.COUNTY_ADDR not in alert.body and "ValueError" in alert.body
    with session_scope(sweep_env) as session:
        [shown] = waiting_mail(session)
    assert (shown.status, shown.command) == ("failed", f"review-calendar mail retry {failure_id}")
    assert shown.received == "2025-07-10 16:05:07（北京时间）" and shown.sender != M.COUNTY_ADDR

    assert main(["mail", "held"]) == 0
    assert f"review-calendar mail retry {failure_id}" in capsys.readouterr().out
    assert main(["mail", "retry", str(failure_id)]) == 0
    again = fetch_mail()["messages"][0]
    assert (again["action"], again["attempts"]) == ("failed", 1)  # a new round of three
    assert main(["mail", "retry", str(failure_id)]) == 2  # not given up now: nothing to retry
    assert _folder(imap, "INBOX") == 1
