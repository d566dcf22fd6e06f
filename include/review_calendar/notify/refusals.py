"""Each recipient's outcome of an outbox message: the refused ones are retried alone, then reported.

An SMTP server answers every ``RCPT TO`` on its own: a message may be accepted
for the city leader in Cc and refused for the county's division in To
(``smtplib``'s ``sendmail`` returns the refused ones; it raises
``SMTPRecipientsRefused`` when every one is refused). The ``outbox.recipients``
column keeps, per envelope address, ``{"state": "accepted" | "refused",
"code": <SMTP code>, "tries": <n>}``.

The next delivery run sends the message again to the refused recipients only
(same headers, same Message-ID: one who got it already is not sent it again),
until each has had :data:`TRIES` tries, as many as a review-calendar task gets
(the first run and its two retries). A recipient still refused then is given
up: the message's status becomes ``refused`` and the delivery report lists it
for the operators (:func:`operator_alert`), with the role, region and masked
address of each refused recipient, so the contact list can be corrected.

Statuses of a message: ``sent`` (every recipient accepted), ``partial`` (some
accepted, the refused ones wait for their next try), ``failed`` (nothing
accepted yet; retried), ``refused`` (given up, reported; final).

Pure: no database, no SMTP.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from review_calendar.domain.labels import MESSAGE_KINDS
from review_calendar.domain.privacy import mask_email
from review_calendar.notify.recipients import InvalidAddress, Mailbox

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

#: Tries of each recipient: the first delivery run and two more (the tasks' ``retries: 2``).
TRIES = 3
ACCEPTED, REFUSED = "accepted", "refused"


def to_try(recipients: Mapping[str, Any] | None, envelope: Iterable[str]) -> list[str]:
    """The envelope addresses to send to now.

    Args:
        recipients: The stored outcomes (None before the first try).
        envelope: Every envelope address of the message (To and Cc).

    Returns:
        Every address on the first try; then the refused ones with tries left.
    """
    if not recipients:
        return list(envelope)
    out = []
    for addr in envelope:
        seen = recipients.get(addr)
        if seen is None or (seen["state"] == REFUSED and seen["tries"] < TRIES):
            out.append(addr)
    return out


def record(
    recipients: Mapping[str, Any] | None, tried: Iterable[str], refused: Mapping[str, Any]
) -> dict[str, Any]:
    """The outcomes after one try.

    Args:
        recipients: The outcomes before (None before the first try).
        tried: The addresses of this try's envelope.
        refused: ``{address: (code, reply)}`` of the refused ones (``smtplib``'s form).

    Returns:
        A new mapping (JSON-ready).
    """
    out = {addr: dict(v) for addr, v in (recipients or {}).items()}
    for addr in tried:
        tries = out.get(addr, {}).get("tries", 0) + 1
        answer = refused.get(addr)
        if answer is None:
            out[addr] = {"state": ACCEPTED, "code": 250, "tries": tries}
        else:
            out[addr] = {"state": REFUSED, "code": int(answer[0]), "tries": tries}
    return out


def status(recipients: Mapping[str, Any]) -> str:
    """The message's status from its recipients' outcomes (module docstring)."""
    states = [v["state"] for v in recipients.values()]
    if all(s == ACCEPTED for s in states):
        return "sent"
    if any(v["state"] == REFUSED and v["tries"] < TRIES for v in recipients.values()):
        return "partial" if ACCEPTED in states else "failed"
    return "refused"


def refused_now(recipients: Mapping[str, Any]) -> dict[str, Any]:
    """The refused recipients, ``{address: outcome}``."""
    return {addr: v for addr, v in recipients.items() if v["state"] == REFUSED}


def note(recipients: Mapping[str, Any]) -> str:
    """The message's ``last_error`` after a try: the refused count and codes, no address."""
    refused = refused_now(recipients)
    if not refused:
        return ""
    codes = "/".join(sorted({str(v["code"]) for v in refused.values()}))
    accepted = len(recipients) - len(refused)
    text = f"{len(refused)} 个收件人被拒收（{codes}），{accepted} 个已接收"
    if status(recipients) == "refused":
        return f"{text}；已尝试 {TRIES} 次，不再重试，已报告运维人员"
    return f"{text}；下次发送时只重发被拒收的收件人"


def given_up(row: Any, recipients: Mapping[str, Any]) -> dict[str, Any]:
    """One entry of the operators' report: the message and its refused recipients (masked).

    Args:
        row: The outbox row (``id``, ``kind``, ``programme_id``, ``region_code``, ``to_addrs``, ``cc_addrs``).
        recipients: Its outcomes.
    """
    boxes: dict[str, Mailbox] = {}
    for value in [*(row.to_addrs or ()), *(row.cc_addrs or ())]:
        try:
            box = Mailbox.from_json(value)
        except InvalidAddress:
            continue
        boxes.setdefault(box.addr, box)
    refused = []
    for addr, outcome in sorted(refused_now(recipients).items()):
        box = boxes.get(addr)
        refused.append(
            {
                "role": box.role if box else "",
                "region_code": box.region_code if box else "",
                "address": mask_email(addr),
                "code": outcome["code"],
            }
        )
    return {
        "id": row.id,
        "kind": row.kind,
        "programme_id": row.programme_id,
        "region_code": row.region_code,
        "refused": refused,
    }


def operator_alert(entries: Iterable[Mapping[str, Any]]) -> tuple[str, str] | None:
    """The operators' e-mail about recipients given up in one delivery batch.

    Args:
        entries: :func:`given_up` entries.

    Returns:
        ``(subject, plain-text body)``, or None when there is nothing to report.
    """
    entries = list(entries)
    if not entries:
        return None
    count = sum(len(e["refused"]) for e in entries)
    subject = f"[审查日历] {len(entries)} 封邮件有 {count} 个收件人经 {TRIES} 次发送仍被拒收"
    lines = [
        f"以下邮件的部分或全部收件人经 {TRIES} 次发送仍被邮件服务器拒收，不再重试。",
        "请核对联系人名单中的地址后重新报送；其他收件人已收到邮件。",
        "",
    ]
    for e in entries:
        kind = MESSAGE_KINDS.get(e["kind"], e["kind"])
        lines.append(
            f"发件箱第 {e['id']} 封（{kind}，{e['programme_id']}，地区 {e['region_code'] or '—'}）："
        )
        for r in e["refused"]:
            role = r["role"] or "收件人"
            lines.append(f"  - {role} {r['address']}（地区 {r['region_code'] or '—'}）：{r['code']}")
    return subject, "\n".join(lines) + "\n"
