"""The outbox end to end: plan on a real review database, deliver to a real local SMTP server.

Databases: SQLite and PostgreSQL (``migrated_url`` from conftest). SMTP: the
aiosmtpd server of ``review_calendar_demo.local_smtp`` on 127.0.0.1; nothing is mocked.
Two tests wrap the real ``send`` to stop the server or to crash right after
the server accepted a message; they say so.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from review_calendar.domain.programmes import Programme, find_instance, load_programme_file
from review_calendar.notify.delivery import DeliveryReport, SmtpUnavailable, deliver
from review_calendar.notify.notices import queue_decision, queue_rejection
from review_calendar.notify.recipients import ROLE_DIVISION, ROLE_LEADER
from review_calendar.notify.reminders import plan_reminders
from review_calendar.notify.render import DecisionNotice
from review_calendar.notify.smtp import smtp_sender
from review_calendar.settings import SmtpSettings, get_settings
from review_calendar.store.db import session_scope
from review_calendar.store.models import OutboxMessage
from review_calendar_demo.local_smtp import LocalSmtpServer, ReceivedMail
from review_calendar_demo.seed import seed_demo
from tests.support.builders import contact_values, set_contacts, submit

pytestmark = pytest.mark.unit

PROGRAMME = "hebei_smart_cluster"
OFFICE = "cyzc@gxt.hebei.example.cn"
# Lagging counties of the demo's 2025 half-year report and their cities; 高碑店市
# (130684, city 保定市 130600) has no contact of its own.
COUNTIES = {"130109": "130100", "130229": "130200", "130322": "130300", "130635": "130600"}
CITIES = sorted(set(COUNTIES.values()))
OPENS, BEFORE_7, OVERDUE_3, OVERDUE_12 = (
    dt.date(2025, 6, 25),
    dt.date(2025, 7, 8),
    dt.date(2025, 7, 18),
    dt.date(2025, 7, 31),
)


def div(code: str) -> str:
    return f"div.{code}@gx.example.cn"


def lead(code: str) -> str:
    return f"lead.{code}@gx.example.cn"


@pytest.fixture(scope="module")
def programme() -> Programme:
    """The Hebei pilots with one obligation, the half-year report due Tue 2025-07-15."""
    full = load_programme_file(get_settings().programmes_dir / f"{PROGRAMME}.yaml")
    return full.model_copy(update={"obligations": [full.obligation("half_year_report")]})


@pytest.fixture
def url(migrated_url: str) -> str:
    """The demo province with contacts for four lagging counties and their cities."""
    seed_demo(migrated_url)
    rows = []
    for code in [*COUNTIES, *CITIES]:
        rows += [
            contact_values(PROGRAMME, 2025, code, ROLE_DIVISION, email=div(code), name="张伟"),
            contact_values(PROGRAMME, 2025, code, ROLE_LEADER, email=lead(code), name="李强"),
        ]
    set_contacts(migrated_url, rows)
    return migrated_url


@pytest.fixture
def smtp() -> Iterator[LocalSmtpServer]:
    server = LocalSmtpServer().start()
    yield server
    server.stop()


def send_all(url: str, server: LocalSmtpServer, **kwargs: Any) -> DeliveryReport:
    with smtp_sender(SmtpSettings(host=server.host, port=server.port, timeout=5)) as send:
        return deliver(url, send, **kwargs)


def outbox(url: str) -> list[OutboxMessage]:
    with session_scope(url) as session:
        return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def mail_about(server: LocalSmtpServer, region_name: str) -> ReceivedMail:
    (mail,) = [m for m in server.received if m.message["subject"].endswith(f"— {region_name}")]
    return mail


def addresses(message: EmailMessage, header: str) -> list[str]:
    value = message[header]
    return [a.addr_spec for a in value.addresses] if value is not None else []


def test_reminder_before_the_deadline_goes_to_the_division_head_only(
    url: str, programme: Programme, smtp: LocalSmtpServer
) -> None:
    plan_reminders(url, programme, 2025, OPENS)
    send_all(url, smtp)
    smtp.clear()

    plan_reminders(url, programme, 2025, BEFORE_7)
    send_all(url, smtp)

    mail = mail_about(smtp, "藁城区")
    assert "距截止还有7天" in mail.message["subject"]
    assert addresses(mail.message, "to") == [div("130109")]
    assert mail.message["cc"] is None
    assert mail.rcpt_tos == (div("130109"),)


@pytest.mark.parametrize(
    ("as_of", "cc"),
    [
        pytest.param(OVERDUE_3, [lead("130100")], id="overdue-3-copies-city-leader"),
        pytest.param(OVERDUE_12, [lead("130100"), OFFICE], id="overdue-12-also-copies-province"),
    ],
)
def test_overdue_reminder_escalates(
    url: str, programme: Programme, smtp: LocalSmtpServer, as_of: dt.date, cc: list[str]
) -> None:
    plan_reminders(url, programme, 2025, as_of)

    send_all(url, smtp)

    mail = mail_about(smtp, "藁城区")
    assert addresses(mail.message, "to") == [div("130109")]
    assert addresses(mail.message, "cc") == cc
    assert set(mail.rcpt_tos) == {div("130109"), *cc}


def test_county_without_contact_is_reminded_through_its_city_and_the_gap_reported(
    url: str, programme: Programme, smtp: LocalSmtpServer
) -> None:
    plan_reminders(url, programme, 2025, OVERDUE_3)

    send_all(url, smtp)

    mail = mail_about(smtp, "高碑店市")
    (report,) = [m for m in smtp.messages if "缺少有效联系人" in m["subject"]]
    assert addresses(mail.message, "to") == [div("130600")]
    assert "本提醒发送至保定市工业和信息化局，请转告" in mail.message.get_body().get_content()
    assert addresses(report, "to") == [OFFICE]
    assert (
        "高碑店市（130684）：未报送主管领导及责任处室负责同志名单；已改发保定市联系人" in report.get_content()
    )


def test_reminder_states_deadlines_days_overdue_and_what_is_missing(
    url: str, programme: Programme, smtp: LocalSmtpServer
) -> None:
    plan_reminders(url, programme, 2025, OVERDUE_3)

    send_all(url, smtp)

    body = mail_about(smtp, "玉田县").message.get_content()
    assert "法定截止日期：2025年7月15日（星期二）" in body
    assert "实际截止日期：2025年7月15日（星期二）" in body
    assert "现已逾期 3 天（3 个工作日）" in body
    assert "尚缺材料：上半年试点建设进展情况" in body
    assert "本提醒已抄送唐山市工业和信息化局主管领导。" in body


def test_reminder_gives_the_reasons_the_last_file_was_rejected(
    url: str, programme: Programme, smtp: LocalSmtpServer
) -> None:
    submit(
        url,
        find_instance(programme, 2025, "half_year_report"),
        "130109",
        dt.date(2025, 7, 16),
        "藁城区上半年.xlsx",
        status="rejected",
        error_count=12,
        errors=[
            {
                "sheet": "进展情况",
                "row": 4 + i,
                "column": "本年完成投资（万元）",
                "code": "not_a_number",
                "message": f"第{i + 1}个问题：应为数字",
            }
            for i in range(12)
        ],
    )
    plan_reminders(url, programme, 2025, OVERDUE_3)

    send_all(url, smtp)

    body = mail_about(smtp, "藁城区").message.get_content()
    assert (
        "“藁城区上半年.xlsx”（2025年7月16日（星期三）收到）未通过审核，共发现 12 个问题，以下列出前 10 个"
        in body
    )
    assert "  1. 工作表“进展情况”第4行“本年完成投资（万元）”列：第1个问题：应为数字" in body
    assert "第10个问题" in body and "第11个问题" not in body


def test_region_with_an_accepted_submission_is_not_reminded(url: str, programme: Programme) -> None:
    submit(url, find_instance(programme, 2025, "half_year_report"), "130109", dt.date(2025, 7, 10), "ok.xlsx")

    plan_reminders(url, programme, 2025, OVERDUE_3)

    assert [r.region_code for r in outbox(url) if r.kind == "reminder"] == [
        "130229",
        "130322",
        "130635",
        "130684",
    ]


def test_plan_and_deliver_twice_sends_each_message_once(
    url: str, programme: Programme, smtp: LocalSmtpServer
) -> None:
    first = plan_reminders(url, programme, 2025, OVERDUE_3)
    sent = send_all(url, smtp)

    again = plan_reminders(url, programme, 2025, OVERDUE_3)
    resent = send_all(url, smtp)

    ids = [m["message-id"] for m in smtp.messages]
    assert (first.queued, again.queued, again.existing) == (6, 0, 6)
    assert (sent.sent, resent.sent) == (6, 0)
    assert len(ids) == len(set(ids)) == 6
    assert all(r.status == "sent" and r.attempts == 1 and r.sent_at for r in outbox(url))


def test_gap_report_is_sent_once_per_instance_and_day(url: str, programme: Programme) -> None:
    for day in (OVERDUE_3, OVERDUE_3, dt.date(2025, 7, 23)):
        plan_reminders(url, programme, 2025, day)

    assert [r.stage for r in outbox(url) if r.kind == "gap_report"] == ["gap_2025-07-18", "gap_2025-07-23"]


def test_smtp_outage_loses_nothing_and_the_next_run_delivers_each_once(
    url: str, programme: Programme, smtp: LocalSmtpServer
) -> None:
    plan_reminders(url, programme, 2025, OVERDUE_3)
    smtp.stop()

    down = send_all(url, smtp)
    queued = outbox(url)
    smtp.start()
    up = send_all(url, smtp)

    assert (down.server_unreachable, down.sent, down.remaining) == (True, 0, 6)
    assert "ConnectionRefusedError" in down.error
    assert [r.status for r in queued] == ["queued"] * 6
    assert (queued[0].attempts, queued[1].attempts) == (1, 0)
    assert "ConnectionRefusedError" in queued[0].last_error
    with pytest.raises(SmtpUnavailable, match="6 封邮件仍在发件箱中"):
        down.raise_for_outage()
    assert (up.server_unreachable, up.sent, up.remaining) == (False, 6, 0)
    assert len({m["message-id"] for m in smtp.messages}) == len(smtp.messages) == 6


def test_server_lost_mid_batch_stops_and_keeps_the_rest_queued(
    url: str, programme: Programme, smtp: LocalSmtpServer
) -> None:
    plan_reminders(url, programme, 2025, OVERDUE_3)
    settings = SmtpSettings(host=smtp.host, port=smtp.port, timeout=5)

    # Wraps the real send only to stop the real server after the second message.
    with smtp_sender(settings) as send:

        def send_then_fail(msg: EmailMessage) -> Any:
            result = send(msg)
            if len(smtp.received) == 2:
                smtp.stop()
            return result

        report = deliver(url, send_then_fail)

    assert (report.sent, report.server_unreachable, report.remaining) == (2, True, 4)
    assert [r.status for r in outbox(url)] == ["sent", "sent", "queued", "queued", "queued", "queued"]


class Crash(BaseException):
    """A process dying (not an ordinary error): nothing after it runs in that process."""


def deliver_until_crash(url: str, smtp: LocalSmtpServer, after: int, **options: Any) -> None:
    """Deliver through the real server; the process "dies" once the server has accepted ``after`` messages."""
    with smtp_sender(SmtpSettings(host=smtp.host, port=smtp.port, timeout=5)) as send:

        def send_then_crash(msg: EmailMessage) -> Any:
            result = send(msg)
            if len(smtp.received) == after:
                raise Crash
            return result

        with pytest.raises(Crash):
            deliver(url, send_then_crash, **options)


def test_crash_after_server_accept_resends_with_the_same_message_id(
    url: str, programme: Programme, smtp: LocalSmtpServer
) -> None:
    # The documented at-least-once window: the server accepted, the commit never happened.
    plan_reminders(url, programme, 2025, OVERDUE_3)
    deliver_until_crash(url, smtp, after=1, lease=dt.timedelta(seconds=1))

    while_leased = send_all(url, smtp)
    time.sleep(1.1)  # the crashed delivery's sending lease expires
    after_expiry = send_all(url, smtp)

    ids = [m["message-id"] for m in smtp.messages]
    assert (while_leased.sent, while_leased.skipped, after_expiry.sent) == (5, 1, 1)
    assert len(ids) == 7 and ids.count(ids[0]) == 2
    assert all(r.status == "sent" and r.lease_owner is None for r in outbox(url))


def test_crash_mid_batch_records_what_was_sent_and_leaves_only_the_last_send_leased(
    url: str, programme: Programme, smtp: LocalSmtpServer
) -> None:
    # Outcomes are recorded a hundred (or a second's worth) at a time: whatever ends the
    # batch, those of the messages sent before are recorded; the one in flight keeps its lease.
    plan_reminders(url, programme, 2025, OVERDUE_3)
    deliver_until_crash(url, smtp, after=3)

    rows = outbox(url)
    assert [r.status for r in rows] == ["sent", "sent", "queued", "queued", "queued", "queued"]
    assert [r.lease_owner is not None for r in rows] == [False, False, True, False, False, False]
    assert [r.attempts for r in rows] == [1, 1, 1, 0, 0, 0]
    assert rows[0].recipients and {v["state"] for v in rows[0].recipients.values()} == {"accepted"}


def test_long_chinese_subject_and_names_are_folded_and_decode_unchanged() -> None:
    import email
    import email.policy
    from types import SimpleNamespace

    from review_calendar.notify.message import build_message
    from review_calendar.notify.recipients import mailbox

    subject = "【智慧集群试点】催报提醒：上半年试点建设进展情况（已逾期3天）— 𠀀 Re: 藁城区" * 3
    names = ["欧阳" * 30, "张伟", ""]
    row = SimpleNamespace(
        to_addrs=[{"name": n, "addr": f"to{i}@gx.example.cn"} for i, n in enumerate(names)],
        cc_addrs=[{"name": "李强", "addr": "l" * 60 + "@gx.example.cn"}],
        subject=subject,
        body="正文\n",
        natural_key="reminder|x",
        kind="reminder",
        attachments=[],
    )

    raw = build_message(row, mailbox("河北省工业和信息化厅产业政策处", OFFICE)).as_bytes()
    parsed = email.message_from_bytes(raw, policy=email.policy.default)

    head = raw.split(b"\r\n\r\n")[0].split(b"\r\n")
    assert raw.isascii() and max(len(line) for line in head if b"@gx.example.cn>" not in line) <= 78
    assert parsed["subject"] == subject
    assert [(a.display_name.replace(" ", ""), a.addr_spec) for a in parsed["to"].addresses] == [
        (n, f"to{i}@gx.example.cn") for i, n in enumerate(names)
    ]
    assert parsed["cc"].addresses[0].display_name == "李强"
    assert parsed.get_content().splitlines() == ["正文"]


def test_contact_name_cannot_inject_a_header(url: str, programme: Programme, smtp: LocalSmtpServer) -> None:
    set_contacts(
        url,
        [
            contact_values(
                PROGRAMME,
                2025,
                "130109",
                ROLE_DIVISION,
                email=div("130109"),
                name="张伟\r\nBcc: spy@evil.example",
            )
        ],
    )
    plan_reminders(url, programme, 2025, OVERDUE_3)

    send_all(url, smtp)

    mail = mail_about(smtp, "藁城区")
    assert "bcc" not in {k.lower() for k in mail.message.keys()}
    assert not any(line.lower().startswith(b"bcc:") for line in mail.raw.splitlines())
    assert "spy@evil.example" not in mail.rcpt_tos
    assert mail.message["to"].addresses[0].display_name == "张伟 Bcc: spy@evil.example"


def test_injected_address_is_refused_and_the_region_reported(
    url: str, programme: Programme, smtp: LocalSmtpServer
) -> None:
    bad = f"{div('130229')}\r\nBcc: spy@evil.example"
    set_contacts(
        url,
        [
            contact_values(PROGRAMME, 2025, "130229", ROLE_DIVISION, email=bad, name="张伟"),
            contact_values(PROGRAMME, 2025, "130229", ROLE_LEADER, email="", name="李强"),
        ],
    )
    plan_reminders(url, programme, 2025, OVERDUE_3)

    send_all(url, smtp)

    assert all("spy@evil.example" not in m.rcpt_tos for m in smtp.received)
    assert addresses(mail_about(smtp, "玉田县").message, "to") == [div("130200")]
    (report,) = [m for m in smtp.messages if "缺少有效联系人" in m["subject"]]
    assert (
        "玉田县（130229）：联系人名单中的电子邮箱缺失或格式无效；已改发唐山市联系人" in report.get_content()
    )


def test_chinese_subject_and_names_arrive_encoded_and_decode(
    url: str, programme: Programme, smtp: LocalSmtpServer
) -> None:
    plan_reminders(url, programme, 2025, OVERDUE_3)

    send_all(url, smtp)

    mail = mail_about(smtp, "藁城区")
    (row,) = [r for r in outbox(url) if r.region_code == "130109"]
    assert mail.raw.isascii()
    assert b"Subject: =?utf-8?" in mail.raw
    assert (
        mail.message["subject"]
        == row.subject
        == "【智慧集群试点】催报提醒：上半年试点建设进展情况（已逾期3天）— 藁城区"
    )
    assert mail.message["from"].addresses[0].display_name == "河北省工业和信息化厅产业政策处"
    assert mail.message["to"].addresses[0].display_name == "张伟"


def test_rate_limit_spaces_the_messages(url: str, programme: Programme, smtp: LocalSmtpServer) -> None:
    plan_reminders(url, programme, 2025, OVERDUE_3)

    report = send_all(url, smtp, rate_per_second=20)

    assert report.sent == 6
    assert report.seconds >= 5 / 20


def test_limit_sends_the_oldest_first(url: str, programme: Programme, smtp: LocalSmtpServer) -> None:
    plan_reminders(url, programme, 2025, OVERDUE_3)

    report = send_all(url, smtp, limit=2)

    assert (report.sent, report.remaining) == (2, 4)
    assert [r.status for r in outbox(url)][:3] == ["sent", "sent", "queued"]


def test_window_opening_notice_carries_the_template(
    url: str, programme: Programme, smtp: LocalSmtpServer, tmp_path: Path
) -> None:
    template = tmp_path / "上半年试点建设进展情况报送模板.xlsx"
    template.write_bytes(b"PK\x03\x04 template")

    plan = plan_reminders(url, programme, 2025, OPENS, template_for=lambda _: template)
    again = plan_reminders(url, programme, 2025, dt.date(2025, 6, 26), template_for=lambda _: template)
    send_all(url, smtp)

    mail = mail_about(smtp, "藁城区").message
    (attachment,) = list(mail.iter_attachments())
    assert (plan.by_kind["notice"], again.queued) == (5, 0)
    assert "报送通知" in mail["subject"]
    assert attachment.get_filename() == template.name
    assert attachment.get_content() == template.read_bytes()


def test_missing_attachment_fails_that_message_and_the_batch_goes_on(
    url: str, programme: Programme, smtp: LocalSmtpServer, tmp_path: Path
) -> None:
    template = tmp_path / "模板.xlsx"
    plan_reminders(url, programme, 2025, OPENS, template_for=lambda _: template)

    report = send_all(url, smtp)

    rows = outbox(url)
    assert (report.failed, report.sent) == (5, 1)
    assert {r.last_error for r in rows if r.kind == "notice"} == {"附件无法读取：模板.xlsx"}
    assert [r.kind for r in rows if r.status == "sent"] == ["gap_report"]


def test_refused_recipients_fail_the_message_and_a_later_run_retries_it(
    url: str, programme: Programme, smtp: LocalSmtpServer
) -> None:
    plan_reminders(url, programme, 2025, OVERDUE_3)
    smtp.refuse = {div("130109"), lead("130100")}

    refused = send_all(url, smtp)
    smtp.refuse = set()
    retried = send_all(url, smtp)

    assert (refused.sent, refused.failed) == (5, 1)
    assert "550" in refused.failures[0]["error"] and "@" not in refused.failures[0]["error"]
    assert (retried.sent, retried.failed, retried.remaining) == (1, 0, 0)


def test_dry_run_writes_nothing_and_masks_addresses(url: str, programme: Programme) -> None:
    plan = plan_reminders(url, programme, 2025, OVERDUE_3, dry_run=True)

    line = next(x for x in plan.lines if "藁城区" in x)
    assert outbox(url) == []
    assert plan.queued == 6
    assert "d***@gx.example.cn" in line and "l***@gx.example.cn" in line
    assert not any(div("130109") in x or "0311" in x or "138" in x for x in plan.lines)


def test_nothing_is_planned_on_a_weekend(url: str, programme: Programme) -> None:
    plan = plan_reminders(url, programme, 2025, dt.date(2025, 7, 19))

    assert (plan.instances, plan.queued) == (0, 0)
    assert outbox(url) == []


def test_rejection_notice_is_queued_once_and_lists_the_problems(
    url: str, programme: Programme, smtp: LocalSmtpServer
) -> None:
    instance = find_instance(programme, 2025, "half_year_report")
    error = {
        "sheet": "进展情况",
        "row": 5,
        "column": "所属市",
        "code": "unknown_region",
        "message": "“秦皇岛”不是有效的市",
    }
    sub_id = submit(
        url,
        instance,
        "130322",
        dt.date(2025, 7, 9),
        "昌黎.xlsx",
        status="rejected",
        error_count=1,
        errors=[error],
    )
    with session_scope(url) as session:
        first = queue_rejection(session, programme, instance, sub_id, created_on=dt.date(2025, 7, 9))
        second = queue_rejection(session, programme, instance, sub_id, created_on=dt.date(2025, 7, 10))

    send_all(url, smtp)

    (mail,) = smtp.received
    assert (first, second) == (True, False)
    assert addresses(mail.message, "to") == [div("130322")]
    assert "  1. 工作表“进展情况”第5行“所属市”列：“秦皇岛”不是有效的市" in mail.message.get_content()


def test_decision_notice_copies_the_city_leader(
    url: str, programme: Programme, smtp: LocalSmtpServer
) -> None:
    decision = DecisionNotice(
        "evaluation",
        2025,
        "yutian_printing",
        "玉田印刷包装产业集群",
        "continue",
        "评分 86 分，继续支持",
        "冀工信产业〔2016〕93号 五",
    )
    with session_scope(url) as session:
        queued = queue_decision(
            session,
            programme,
            decision,
            instance_key="hebei_smart_cluster/2025/performance_evaluation/Y",
            region_code="130229",
            created_on=dt.date(2026, 4, 1),
        )

    send_all(url, smtp)

    (mail,) = smtp.received
    assert queued is True
    assert (addresses(mail.message, "to"), addresses(mail.message, "cc")) == (
        [div("130229")],
        [lead("130200")],
    )
    assert "结果：继续支持" in mail.message.get_content()


def test_sender_can_be_fixed_for_all_programmes(
    url: str, programme: Programme, smtp: LocalSmtpServer
) -> None:
    plan_reminders(url, programme, 2025, OVERDUE_3)

    send_all(url, smtp, sender="noreply@review.example.cn", sender_name="审查日历", limit=1)

    (mail,) = smtp.received
    assert mail.mail_from == "noreply@review.example.cn"
    assert mail.message["message-id"].endswith("@review.example.cn>")


@pytest.mark.parametrize("fast_commit", [pytest.param(True, id="fast"), pytest.param(False, id="durable")])
def test_commit_mode_delivers_the_same_and_leaves_the_connection_as_it_was(
    url: str, programme: Programme, smtp: LocalSmtpServer, fast_commit: bool
) -> None:
    from review_calendar.store.db import get_engine

    plan_reminders(url, programme, 2025, OVERDUE_3)

    report = send_all(url, smtp, fast_commit=fast_commit)

    assert (report.sent, report.remaining) == (6, 0)
    if url.startswith("sqlite"):
        with get_engine(url).connect() as conn:
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL, SQLite's default


def test_window_opening_tells_the_province_when_nobody_can_be_reached(
    migrated_url: str, programme: Programme
) -> None:
    seed_demo(migrated_url)  # no contact list at all

    opening = plan_reminders(migrated_url, programme, 2025, OPENS)
    next_day = plan_reminders(migrated_url, programme, 2025, dt.date(2025, 6, 26))

    assert [(r.kind, r.to_addrs[0]["addr"]) for r in outbox(migrated_url)] == [("gap_report", OFFICE)]
    assert (opening.without_recipient, opening.gaps) == (5, 5)
    assert (next_day.queued, next_day.without_recipient) == (0, 0)
