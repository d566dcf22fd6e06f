"""Mail intake: the submissions mailbox taken in, each message once, each attachment through the inbox's intake.

The ``mail_intake`` DAG (every 10 minutes on working days), ``review-calendar
mail fetch`` and the demo year call :func:`fetch_mail`. For each message
waiting in the mailbox's folder, oldest first:

1. claim it in the ledger (:mod:`review_calendar.store.mail`) by UIDVALIDITY +
   UID and Message-ID: a message done before is only moved, a repeat of one
   (same Message-ID) is recorded and moved, a message a crashed run left
   half-done is taken again;
2. take it apart (:mod:`review_calendar.intake.mail_parts`); every kept
   attachment is written under ``<home>/mailbox/<ledger id>/`` (quarantined ones
   under ``quarantine/mail/<ledger id>/`` with the message's metadata);
3. place each attachment (:mod:`.mail_attribution`), then take the placed
   ones in with :func:`review_calendar.tasks.intake.ingest_files`, the inbox
   sweep's own code, received at the server's INTERNALDATE: stored, decided
   and answered (回执 or rejection notice) one file per transaction;
4. put those answers in the sender's thread, tell the sender what no answer
   covers (held, quarantined, already received), alert the operators about
   held attachments, record the attachments and mark the message done, in one
   transaction;
5. move it to the processed folder (never deleted).

Exactly once: a crash after step 3 leaves the message ``taking``; the re-run
finds its files already stored (by content: duplicates, nothing stored twice)
and its answers already queued (natural keys: nothing sent twice), and goes on
with step 4. A crash after step 4 leaves only the move to do.
"""

from __future__ import annotations

import email
import json
import logging
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from review_calendar.settings import get_settings

if TYPE_CHECKING:
    import datetime as dt
    from pathlib import Path

    from review_calendar.intake.mail_parts import Envelope, MailPart
    from review_calendar.intake.mailbox import Fetched
    from review_calendar.settings import ImapSettings, Settings

__all__ = ["ALERT_KIND", "fetch_mail", "held_list", "take_message"]

log = logging.getLogger(__name__)

#: The outbox kind of the operators' alert about held attachments (the inbox's alert kind).
ALERT_KIND = "inbox_alert"


def fetch_mail(
    imap: ImapSettings | None = None, *, run_id: str = "", dry_run: bool = False, limit: int | None = None
) -> dict[str, Any]:
    """Take in every message waiting in the submissions mailbox (module docstring).

    Args:
        imap: The mailbox (default: the deployment's, ``REVIEW_CALENDAR_IMAP_*``; the
            Airflow task passes its connection's).
        run_id: Recorded with each acceptance decision.
        dry_run: Only look: list the messages and their attachments, take and move nothing.
        limit: At most this many messages (the rest wait for the next run).

    Returns:
        ``mailbox``, ``messages`` (one summary each) and ``totals``.

    A message that cannot be taken in (an unexpected error) is logged, left in the
    folder for the next run and reported as ``failed``; the messages behind it go on.
    After three failed attempts it is no longer tried (``parked``) and the operators
    are alerted once (:mod:`.mail_failures`).

    Raises:
        MailboxError: The mailbox cannot be reached (what was not taken waits in it).
        DatabaseFault: The review database cannot be written.
    """
    from sqlalchemy.exc import OperationalError

    from review_calendar.intake.mailbox import MailboxError, SubmissionsMailbox
    from review_calendar.store.faults import DatabaseFault
    from review_calendar.tasks import mail_failures as failures

    settings = get_settings()
    imap = imap or settings.imap
    results = []
    with SubmissionsMailbox(imap) as box:
        for uid in box.uids()[:limit]:
            fetched = box.fetch(uid)
            if fetched is None:
                continue  # moved meanwhile by another run
            if dry_run:
                results.append(_look(fetched))
                continue
            if (given_up := failures.parked(settings, box.name, fetched)) is not None:
                results.append(given_up)  # failed three times: left in the folder for an operator
                continue
            try:
                result = take_message(settings, box.name, fetched, run_id=run_id)
            except (MailboxError, DatabaseFault, OperationalError):
                raise  # the mailbox or the database is gone: the run fails, the message waits
            except Exception as exc:  # one bad message never blocks the ones behind it
                log.exception("Mail intake: message UID %s not taken in; left in the folder", uid)
                results.append(failures.failed(settings, box.name, fetched, exc))
                continue
            failures.succeeded(settings, box.name, fetched)
            box.move_to_processed(uid)
            results.append(result)
    totals: dict[str, int] = defaultdict(int)
    for r in results:
        for k, v in r.get("counts", {}).items():
            totals[k] += v
    log.info("Mail intake of %s: %d message(s), %s", box.name, len(results), dict(totals))
    return {"mailbox": box.name, "messages": results, "totals": dict(totals), "dry_run": dry_run}


def take_message(settings: Settings, mailbox: str, fetched: Fetched, *, run_id: str = "") -> dict[str, Any]:
    """Take one message in (steps 1-4 of the module docstring); the caller moves it.

    Returns:
        A summary: ``mail_id``, ``uid``, ``action`` (``taken``, ``move``, ``repeat``),
        ``received_at``, ``items`` (name, status, reason, instance, region, outcome) and ``counts``.
    """
    from review_calendar.intake.mail_parts import parse_envelope, split_message
    from review_calendar.store.db import session_scope
    from review_calendar.store.mail import MessageIdentity, claim_message

    if fetched.whole:
        envelope, parts = split_message(fetched.raw)
    else:
        envelope, parts = parse_envelope(email.message_from_bytes(fetched.raw)), [_too_big(fetched)]
    with session_scope(settings.db_url) as session:
        row, action = claim_message(session, MessageIdentity(
            mailbox, fetched.uidvalidity, fetched.uid, envelope.message_id, envelope.sender, envelope.subject,
            fetched.received_at,
        ))  # fmt: skip
        mail_id = row.id
    base = {"mail_id": mail_id, "uid": fetched.uid, "received_at": fetched.received_at.isoformat()}
    if action != "take":
        return {**base, "action": action, "items": [], "counts": {}}
    items = _take(settings, mail_id, envelope, parts, fetched.received_at, run_id)
    counts: dict[str, int] = defaultdict(int)
    for item in items:
        counts[(item.get("outcome") or {}).get("status") or item["status"]] += 1
    return {**base, "action": "taken", "items": [_shown(i) for i in items], "counts": dict(counts)}


def _take(
    settings: Settings,
    mail_id: int,
    envelope: Envelope,
    parts: list[MailPart],
    moment: dt.datetime,
    run_id: str,
) -> list[dict[str, Any]]:
    from review_calendar.store.db import session_scope
    from review_calendar.tasks.mail_attribution import Place, load_context, place_sheet

    folder = settings.home / "mailbox" / str(mail_id)
    with session_scope(settings.db_url) as session:
        ctx = load_context(session, envelope)
    items: dict[int, dict[str, Any]] = {}
    placed: dict[str, list[tuple[Path, MailPart, str | None]]] = defaultdict(list)
    first: Place | None = None
    for part in parts:
        item = items[part.position] = _item(part)
        if part.kind == "quarantine":
            item.update(
                status="quarantined", stored_path=_quarantine(settings, mail_id, envelope, part, moment)
            )
        elif part.kind == "skipped":
            item["status"] = "skipped"
        elif part.kind == "sheet":
            path = _save(folder, part)
            place = place_sheet(ctx, path, _given_name(part), part.data or b"", moment)
            item.update(stored_path=str(path), instance_key=place.key, region_code=place.hint)
            if place.key is None:
                item.update(status="held", reason=place.reason)
            else:
                item.update(status="taken", reason=f"归属依据：{_VIA[place.via]}")
                placed[place.key].append((path, part, place.hint))
                first = first or place
    for part in parts:
        if part.kind != "document":
            continue
        path = _save(folder, part)
        item = items[part.position]
        item["stored_path"] = str(path)
        place = first or (Place(ctx.thread_key, ctx.thread_region, "thread") if ctx.thread_key else None)
        if place is None or place.key is None:
            item.update(status="held", reason="单独发送的文件无法确定所属报送事项和地区，需人工核对")
        else:
            item.update(status="taken", instance_key=place.key, region_code=place.hint)
            placed[place.key].append((path, part, place.hint))
    thread = _thread(envelope)
    answered: set[int] = set()
    for key, entries in placed.items():
        answered |= _ingest(settings, key, entries, items, moment, run_id, thread, envelope.sender)
    _finish(settings, mail_id, envelope, list(items.values()), answered, thread, moment)
    return list(items.values())


def _ingest(
    settings: Settings,
    key: str,
    entries: list[tuple[Path, MailPart, str | None]],
    items: dict[int, dict[str, Any]],
    moment: dt.datetime,
    run_id: str,
    thread: dict[str, Any] | None,
    sender: str,
) -> set[int]:
    """Take one instance's attachments in through the inbox's intake; thread the answers; record outcomes."""
    from sqlalchemy import select

    from review_calendar.intake.templates import template_for
    from review_calendar.notify.mail_answers import thread_answers
    from review_calendar.notify.outbox import MailAnswer, answering
    from review_calendar.notify.recipients import mailbox
    from review_calendar.store.db import session_scope
    from review_calendar.store.queries import instance_filter, record_instances
    from review_calendar.store.receipts import aware
    from review_calendar.store.tables.intake import Submission
    from review_calendar.tasks import instance_of
    from review_calendar.tasks.intake import ingest_files

    programme, instance = instance_of(key)
    record_instances(settings.db_url, programme, instance.cycle_year)
    template = template_for(programme, instance, settings.home / "templates")
    paths = [p for p, _, _ in entries]
    box = mailbox("", sender) if sender else None
    answer = None
    if (
        thread is not None
    ):  # the answers queued by intake go in the sender's thread, in the file's transaction
        answer = MailAnswer(thread, (box,) if box else (), (str(template),) if template else ())
    with answering(answer):
        report = ingest_files(
            settings.db_url, settings, programme, instance, paths, names=[_given_name(part) for _, part, _ in entries],
            received_at=dict.fromkeys(paths, moment), hints={p: h for p, _, h in entries},
            notify_on=moment.date(), run_id=run_id,
        )  # fmt: skip
    duplicates = {o.file for o in report.duplicates}
    with session_scope(settings.db_url) as session:
        subs = [
            s
            for s in session.scalars(select(Submission).where(*instance_filter(Submission, instance)))
            if aware(s.received_at) == moment
        ]
        by_name: dict[str, list[Any]] = defaultdict(list)
        for s in subs:
            by_name[s.file_name].append(s)
        for _, part, _ in entries:
            item = items[part.position]
            mine = by_name.get(part.file_name, [])
            if mine:
                item["outcome"] = {
                    "status": "accepted" if any(s.status != "rejected" for s in mine) else "rejected",
                    "submissions": [
                        {
                            "id": s.id,
                            "region_code": s.region_code,
                            "status": s.status,
                            "receipt_no": s.receipt_no,
                            "errors": s.error_count,
                        }
                        for s in mine
                    ],  # fmt: skip
                }
            elif part.file_name in duplicates:
                item["outcome"] = {"status": "duplicate"}
            elif part.kind == "document":
                item["outcome"] = {"status": "document"}
        if thread is None:
            return {s.id for s in subs}
        return thread_answers(
            session, subs, received_at=moment, thread=thread, sender=sender,
            templates=dict.fromkeys((s.id for s in subs), template),
        )  # fmt: skip


def _finish(
    settings: Settings,
    mail_id: int,
    envelope: Envelope,
    items: list[dict[str, Any]],
    answered: set[int],
    thread: dict[str, Any] | None,
    moment: dt.datetime,
) -> None:
    """Tell the sender what no 回执 or rejection covers, alert the operators, record the items, mark it done."""
    from review_calendar.notify.mail_answers import queue_mail_reply
    from review_calendar.notify.outbox import queue
    from review_calendar.store.db import session_scope
    from review_calendar.store.mail import finish_message

    lines = _reply_lines(items, answered)
    held = [i for i in items if i["status"] in ("held", "quarantined")]
    programme_id = next((i["instance_key"].split("/")[0] for i in items if i.get("instance_key")), "mail")
    with session_scope(settings.db_url) as session:
        if lines:
            queue_mail_reply(
                session, mail_id=mail_id, programme_id=programme_id, sender=envelope.sender,
                subject=envelope.subject, lines=lines, thread=thread or {}, created_on=moment.date(),
            )  # fmt: skip
        if held and settings.operators:
            body = "\n".join(
                [f"提交邮箱 {moment:%Y-%m-%d %H:%M:%S} 收到的邮件（编号 {mail_id}）中有附件需人工核对：", ""]
                + [f"- {i['name']}：{i['reason']}（已保存：{i['stored_path'] or '未保存'}）" for i in held]
                + ["", "运行 review-calendar mail held 查看全部待核对附件。"]
            )
            queue(
                session, kind=ALERT_KIND, programme_id=programme_id, instance_key=f"mail/{mail_id}",
                region_code=None, stage=f"mail_held_{mail_id}", to=list(settings.operators),
                subject=f"[审查日历] 提交邮箱有 {len(held)} 个附件需人工核对", body=body, created_on=moment.date(),
            )  # fmt: skip
        columns = ("position", "name", "sha256", "size_bytes", "stored_path", "status", "reason",
                   "instance_key", "region_code", "outcome")  # fmt: skip
        summary = {"items": len(items), "held": len(held), "replied": bool(lines)}
        finish_message(session, mail_id, [{k: i.get(k) for k in columns} for i in items], summary)


def _reply_lines(items: list[dict[str, Any]], answered: set[int]) -> list[str]:
    """What the sender is told in the reply: everything no 回执 or rejection notice answers."""
    lines = []
    for i in items:
        outcome = i.get("outcome") or {}
        if i["status"] == "held":
            lines.append(f"附件“{i['name']}”正在人工核对：{i['reason']}。")
        elif i["status"] == "quarantined":
            lines.append(f"附件“{i['name']}”未接收：{i['reason']}。")
        elif outcome.get("status") == "duplicate":
            lines.append(f"附件“{i['name']}”与已受理的文件完全相同，已存在，无需重复报送。")
        for s in outcome.get("submissions", []):
            if s["id"] in answered:
                continue
            if s["status"] == "rejected":
                lines.append(f"附件“{i['name']}”未通过审核（{s['errors']} 个问题），省厅将另行通知。")
            else:
                lines.append(f"附件“{i['name']}”已受理（受理编号 {s['receipt_no']}）。")
    if not any(i["status"] not in ("skipped",) for i in items):
        lines.append(
            "邮件中没有可接收的附件（报送请附上填好的模板：xlsx、xls、ods、csv，或 pdf、docx、ofd 文件）。"
        )
    return lines


_VIA = {"thread": "回复的催报/通知邮件", "properties": "模板文档属性", "sender": "发件人联系人身份"}


def _thread(envelope: Envelope) -> dict[str, Any] | None:
    if not envelope.message_id:
        return None
    return {"in_reply_to": envelope.message_id, "references": list(reversed(envelope.in_reply_to))[-10:]}


def _item(part: MailPart) -> dict[str, Any]:
    return {"position": part.position, "name": part.name, "sha256": part.sha256, "size_bytes": part.size,
            "stored_path": "", "status": part.kind, "reason": part.reason, "instance_key": None,
            "region_code": None, "outcome": None}  # fmt: skip


def _given_name(part: MailPart) -> str:
    """The name intake judges (the sender's, last component; a zip member's own name)."""
    return part.name.rsplit("/", 1)[-1] or part.file_name


def _save(folder: Path, part: MailPart) -> Path:
    """Write a kept attachment under ``<folder>/<position>/<its name>`` (the same bytes on a re-run)."""
    target = folder / f"{part.position:02d}" / part.file_name
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists() or target.stat().st_size != len(part.data or b""):
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_bytes(part.data or b"")
        tmp.replace(target)
    return target


def _quarantine(
    settings: Settings, mail_id: int, envelope: Envelope, part: MailPart, moment: dt.datetime
) -> str:
    """Keep a quarantined attachment (its bytes when kept) beside the message's metadata."""
    folder = settings.quarantine_dir / "mail" / str(mail_id)
    folder.mkdir(parents=True, exist_ok=True)
    meta_path = folder / "message.json"
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        meta = {**envelope.to_dict(), "received_at": moment.isoformat(), "parts": {}}
    meta["parts"][str(part.position)] = {"name": part.name, "size": part.size, "sha256": part.sha256,
                                         "reason": part.reason}  # fmt: skip
    meta_path.write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
    if part.data is None:
        return str(meta_path)
    target = folder / f"{part.position:02d}_{part.file_name}"
    target.write_bytes(part.data)
    return str(target)


def _too_big(fetched: Fetched) -> MailPart:
    from review_calendar.intake.mail_parts import MailPart

    reason = f"邮件 {fetched.size / 1048576:.1f} MB，超过可接收的大小，未下载附件"
    return MailPart(1, "（整封邮件）", "quarantine", None, fetched.size, "", reason)


def _look(fetched: Fetched) -> dict[str, Any]:
    """A dry run's look at a message: its attachments and their kinds (nothing placed or stored)."""
    from review_calendar.intake.mail_parts import parse_envelope, split_message

    if fetched.whole:
        envelope, parts = split_message(fetched.raw)
    else:
        envelope, parts = parse_envelope(email.message_from_bytes(fetched.raw)), [_too_big(fetched)]
    return {
        "uid": fetched.uid,
        "received_at": fetched.received_at.isoformat(),
        "subject": envelope.subject,
        "items": [{"name": p.name, "status": p.kind, "reason": p.reason} for p in parts],
        "counts": {},
    }


def _shown(item: dict[str, Any]) -> dict[str, Any]:
    return {k: item.get(k) for k in ("name", "status", "reason", "instance_key", "region_code", "outcome")}


def held_list(settings: Settings | None = None) -> list[dict[str, Any]]:
    """Attachments held for an operator or quarantined, with their message's metadata (oldest first)."""
    from review_calendar.store.db import session_scope
    from review_calendar.store.mail import held_items

    settings = settings or get_settings()
    with session_scope(settings.db_url) as session:
        rows = held_items(session)
    from review_calendar.store.receipts import aware

    for r in rows:
        moment = aware(r["received_at"])
        r["received_at"] = moment.isoformat() if moment else None
    return rows


def release_held(item_id: int, key: str, region_code: str, *, run_id: str = "") -> dict[str, Any]:
    """An operator places a held attachment: taken in for ``key`` and ``region_code``, answered in its thread.

    The receipt time stays the e-mail's arrival (INTERNALDATE); the 回执 or the rejection goes to
    the region's contact and the sender, in the sender's thread, as for an attachment placed at once.

    Returns:
        The attachment's outcome (as in :func:`take_message`'s items).

    Raises:
        LookupError: No held attachment with this id.
    """
    from pathlib import Path

    from review_calendar.intake.mail_parts import MailPart, message_ids
    from review_calendar.store.db import session_scope
    from review_calendar.store.mail import release_item
    from review_calendar.store.receipts import aware
    from review_calendar.store.tables.mail import MailItem, MailMessage

    settings = get_settings()
    with session_scope(settings.db_url) as session:
        item = session.get(MailItem, item_id)
        if item is None or item.status != "held":
            raise LookupError(f"没有编号为 {item_id} 的待核对附件")
        mail = session.get(MailMessage, item.mail_id)
        assert mail is not None
        moment, sender, message_id = aware(mail.received_at), mail.sender, mail.message_id
        record = {"position": item.position, "name": item.name, "status": "taken", "outcome": None}
        path = Path(item.stored_path)
    assert moment is not None
    part = MailPart(record["position"], record["name"], "sheet", size=path.stat().st_size)
    thread = {"in_reply_to": message_id, "references": []} if message_ids(message_id) else None
    items = {part.position: record}
    _ingest(settings, key, [(path, part, region_code)], items, moment, run_id, thread, sender)
    with session_scope(settings.db_url) as session:
        release_item(
            session, item_id, {**(record["outcome"] or {}), "instance_key": key, "region_code": region_code}
        )
    return {
        "name": record["name"],
        "instance_key": key,
        "region_code": region_code,
        "outcome": record["outcome"],
    }
