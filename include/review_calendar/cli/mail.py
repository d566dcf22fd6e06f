"""``review-calendar mail fetch|held|release|retry``: the submissions mailbox, as the mail_intake DAG takes it in."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from review_calendar.cli.common import EXIT_DOMAIN, EXIT_OK, print_error

if TYPE_CHECKING:
    import argparse

_STATUS = {
    "taken": "已接收",
    "held": "待人工核对",
    "quarantined": "已隔离",
    "skipped": "跳过",
    "sheet": "报送表",
    "document": "文件",
    "quarantine": "将隔离",
}
_ACTIONS = {
    "move": "（已处理过，移入已处理文件夹）",
    "repeat": "（重复邮件，已处理过）",
    "parked": "（连续处理失败，已停止重试，留在邮箱中等待运维人员：mail retry）",
}
_OUTCOME = {"accepted": "已受理", "rejected": "已退回", "duplicate": "已存在", "document": "随表文件"}


#: The sub-commands :func:`register` adds (``review-calendar`` builds only the one asked for).
COMMANDS = ("mail",)


def register(subparsers: Any) -> None:
    """Add ``mail fetch``, ``held``, ``release`` and ``retry`` to the ``review-calendar`` parser."""
    group = subparsers.add_parser("mail", help="the submissions mailbox (IMAP)").add_subparsers(
        dest="mail_command", required=True
    )
    p = group.add_parser("fetch", help="take in the messages waiting in the submissions mailbox")
    p.add_argument(
        "--dry-run", action="store_true", help="only list the messages and attachments; take nothing"
    )
    p.add_argument("--limit", type=int, help="at most this many messages")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_fetch)
    p = group.add_parser("held", help="list the attachments held for an operator or quarantined")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_held)
    p = group.add_parser("release", help="take a held attachment in for an obligation and region")
    p.add_argument("item", type=int, help="the attachment's number (mail held)")
    p.add_argument("--programme", required=True)
    p.add_argument("--year", type=int, required=True)
    p.add_argument("--obligation", required=True)
    p.add_argument("--period", default="Y")
    p.add_argument("--region", required=True, help="the submitting region's 6-digit code")
    p.set_defaults(func=cmd_release)
    p = group.add_parser("retry", help="try again a message given up after three failed attempts")
    p.add_argument("failure", type=int, help="the message's failure number (mail held)")
    p.set_defaults(func=cmd_retry)


def cmd_fetch(args: argparse.Namespace) -> int:
    """Fetch and take in the mailbox (``REVIEW_CALENDAR_IMAP_*``); print what became of each attachment.

    Answers (回执, rejections, replies) are queued in the outbox; the next
    ``mail_intake`` run (or ``remind --send``) delivers them.

    Returns:
        0, or 1 when an attachment was held, quarantined or rejected.
    """
    from review_calendar.intake.mailbox import MailboxError
    from review_calendar.settings import get_settings
    from review_calendar.store.db import upgrade
    from review_calendar.tasks.mail import fetch_mail

    if not args.dry_run:
        upgrade(get_settings().db_url)
    try:
        result = fetch_mail(dry_run=args.dry_run, limit=args.limit)
    except MailboxError as exc:  # not configured, unreachable or refusing the login: one line
        print_error(str(exc))
        return EXIT_DOMAIN
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2, default=str))
    else:
        print_fetch(result)
    totals = result["totals"]
    return (
        EXIT_DOMAIN if any(totals.get(k) for k in ("held", "quarantined", "rejected", "failed")) else EXIT_OK
    )


def print_fetch(result: dict[str, Any]) -> None:
    """The fetch in Chinese: per message its attachments and what became of them."""
    dry = "，试运行" if result.get("dry_run") else ""
    print(f"提交邮箱 {result['mailbox']}{dry}：{len(result['messages'])} 封邮件")
    for m in result["messages"]:
        action = _ACTIONS.get(m.get("action"), "")
        if m.get("action") == "failed":
            action = f"（处理失败，第 {m.get('attempts', 1)} 次，{m.get('error', '')}；留在邮箱中"
            action += f"，已停止重试：mail retry {m['failure_id']}）" if m.get("given_up") else "，下次重试）"
        print(f"邮件 {m['uid']}（到达 {m['received_at']}）{action}{m.get('subject', '')}")
        for i in m["items"]:
            outcome = (i.get("outcome") or {}).get("status")
            status = _OUTCOME.get(outcome or "", _STATUS.get(i["status"], i["status"]))
            where = f"，{i['instance_key']}，{i['region_code']}" if i.get("instance_key") else ""
            reason = f"：{i['reason']}" if i.get("reason") else ""
            print(f"  {status} {i['name']}{where}{reason}")
    if result["totals"]:
        print(
            "合计："
            + "，".join(f"{_OUTCOME.get(k, _STATUS.get(k, k))} {v} 个" for k, v in result["totals"].items())
        )


def cmd_held(args: argparse.Namespace) -> int:
    """List held and quarantined attachments with their message's metadata (sender masked)."""
    from review_calendar.domain.privacy import mask_email
    from review_calendar.tasks.mail import held_list
    from review_calendar.tasks.mail_failures import failed_list

    rows = held_list()
    failed = failed_list()
    for r in [*rows, *failed]:
        r["sender"] = mask_email(r["sender"]) if r["sender"] else ""
    if args.json:
        print(json.dumps([*rows, *failed], ensure_ascii=False, indent=2, default=str))
        return EXIT_OK
    print(f"待人工核对或已隔离的附件：{len(rows)} 个")
    for r in rows:
        print(f"  {r['item_id']} [{_STATUS.get(r['status'], r['status'])}] {r['name']}（{r['received_at']}，{r['sender']}，"
              f"“{r['subject']}”）：{r['reason']}；保存于 {r['stored_path'] or '未保存'}")  # fmt: skip
    if failed:
        print(f"连续处理失败、已停止重试的邮件：{len(failed)} 封（仍在提交邮箱中）")
    for r in failed:
        print(f"  {r['failure_id']} 邮件 UID {r['uid']}（{r['received_at']}，{r['sender']}，“{r['subject']}”）："
              f"{r['attempts']} 次失败，{r['error']}；重试：review-calendar mail retry {r['failure_id']}")  # fmt: skip
    return EXIT_OK


def cmd_release(args: argparse.Namespace) -> int:
    """Take a held attachment in for the given obligation instance and region; print its outcome.

    Returns:
        0 when accepted, 1 otherwise.

    Raises:
        UsageError: Unknown programme, obligation or period, or no such held attachment (exit code 2).
    """
    from review_calendar.cli.common import UsageError, instance_named
    from review_calendar.tasks.mail import release_held

    _, instance = instance_named(args.programme, args.year, args.obligation, args.period)
    try:
        result = release_held(args.item, instance.key, args.region)
    except LookupError as exc:
        raise UsageError(str(exc)) from None
    status = (result["outcome"] or {}).get("status", "")
    print(f"{result['name']}：{_OUTCOME.get(status, status or '未接收')}（{instance.key}，{args.region}）")
    return EXIT_OK if status == "accepted" else EXIT_DOMAIN


def cmd_retry(args: argparse.Namespace) -> int:
    """Have a message given up after three failed attempts tried again by the next intake run.

    Raises:
        UsageError: No given-up message with this number (exit code 2).
    """
    from review_calendar.cli.common import UsageError
    from review_calendar.tasks.mail_failures import retry_message

    try:
        result = retry_message(args.failure)
    except LookupError as exc:
        raise UsageError(str(exc)) from None
    print(f"邮件 UID {result['uid']}（“{result['subject']}”）将在下次接收时重新处理"
          "（mail_intake 工作日每 10 分钟，或 review-calendar mail fetch），再失败 3 次则再次停止并提醒")  # fmt: skip
    return EXIT_OK
