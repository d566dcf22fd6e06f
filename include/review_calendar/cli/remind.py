"""``review-calendar remind``: the day's notices and reminders from the command line.

``--dry-run`` shows who would get what (roles and masked addresses) without
queueing or sending; without it the messages are queued in the outbox, and
``--send`` also delivers them through the SMTP server of the deployment
settings (``get_settings().smtp``, :class:`review_calendar.settings.SmtpSettings`).
"""

from __future__ import annotations

import json
import logging
import sys
from functools import partial
from typing import TYPE_CHECKING, Any

from review_calendar.cli.common import (
    ERROR_PREFIX,
    EXIT_DOMAIN,
    EXIT_OK,
    UsageError,
    iso_date,
    programme_named,
)

if TYPE_CHECKING:
    import argparse

    from review_calendar.domain.programmes import Programme
    from review_calendar.notify.delivery import DeliveryReport
    from review_calendar.notify.reminders import ReminderPlan
    from review_calendar.settings import Settings

log = logging.getLogger(__name__)


#: The sub-commands :func:`register` adds (``review-calendar`` builds only the one asked for).
COMMANDS = ("remind",)


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``remind`` sub-command to the ``review-calendar`` parser.

    Args:
        subparsers: The object ``ArgumentParser.add_subparsers()`` returned.

    Returns:
        The ``remind`` parser.
    """
    p = subparsers.add_parser("remind", help="queue (and send) the day's notices and reminders")
    p.add_argument("--programme", required=True, help="programme id (file stem in programmes/)")
    p.add_argument(
        "--year",
        type=int,
        action="append",
        help="cycle year, repeatable (default: the as-of year and the one before)",
    )
    p.add_argument("--as-of", required=True, type=iso_date, dest="as_of", help="planning day, YYYY-MM-DD")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument(
        "--dry-run", action="store_true", help="show who would get what; queue and send nothing"
    )
    mode.add_argument("--send", action="store_true", help="also deliver the programme's queued messages")
    p.add_argument("--limit", type=int, help="send at most this many messages")
    p.add_argument(
        "--rate", type=float, help="messages per second (default: REVIEW_CALENDAR_SMTP_RATE, else unlimited)"
    )
    p.add_argument("--json", action="store_true", help="print a JSON summary")
    p.set_defaults(func=cmd_remind)
    return p


def cmd_remind(args: argparse.Namespace) -> int:
    """Plan the day's notices and reminders of a programme; optionally send them.

    Args:
        args: ``programme``, ``year`` (list or None), ``as_of``, ``dry_run``,
            ``send``, ``limit``, ``rate``, ``json``.

    Returns:
        0 on success; 1 when sending stopped on an unreachable server or a message failed.

    Raises:
        UsageError: Unknown programme or invalid SMTP settings (exit code 2).
    """
    from review_calendar.intake.templates import template_for
    from review_calendar.notify.reminders import plan_reminders
    from review_calendar.settings import get_settings
    from review_calendar.store.db import upgrade

    try:
        settings = get_settings()
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    programme = programme_named(args.programme)
    url = settings.db_url
    upgrade(url)
    years = sorted(set(args.year)) if args.year else [args.as_of.year - 1, args.as_of.year]
    attachment = (
        None if args.dry_run else partial(template_for, programme, folder=settings.home / "templates")
    )
    plans = [
        plan_reminders(url, programme, year, args.as_of, dry_run=args.dry_run, template_for=attachment)
        for year in years
    ]
    report = _send(settings, programme, args) if args.send else None
    if args.json:
        document = {
            "programme": programme.id,
            "as_of": args.as_of.isoformat(),
            "dry_run": args.dry_run,
            "plans": [p.to_dict() for p in plans],
            "delivery": report.to_dict() if report else None,
        }
        print(json.dumps(document, ensure_ascii=False, indent=2))
    else:
        _print_summary(programme, args, plans, report)
    if report is not None and report.server_unreachable:
        print(f"{ERROR_PREFIX}SMTP 服务器无法连接，邮件仍在发件箱中：{report.error}", file=sys.stderr)
    if report is not None and report.given_up:
        from review_calendar.notify.refusals import operator_alert

        alert = operator_alert(report.given_up)
        print(
            f"{ERROR_PREFIX}{alert[0] if alert else ''}\n{alert[1] if alert else ''}",
            file=sys.stderr,
        )
    if report is not None and (report.server_unreachable or report.failed or report.given_up):
        return EXIT_DOMAIN
    return EXIT_OK


def _send(settings: Settings, programme: Programme, args: argparse.Namespace) -> DeliveryReport:
    """Deliver the programme's queued messages through the SMTP server of the deployment settings."""
    from review_calendar.notify.delivery import deliver
    from review_calendar.notify.smtp import smtp_sender

    rate = args.rate or settings.smtp_rate
    with smtp_sender(settings.smtp) as send:
        return deliver(
            settings.db_url, send, programme_id=programme.id, limit=args.limit, rate_per_second=rate
        )


def _print_summary(
    programme: Programme, args: argparse.Namespace, plans: list[ReminderPlan], report: DeliveryReport | None
) -> None:
    """One line per cycle year (and, in a dry run, who would get what); one line about sending."""
    mode = "（试运行：不排队、不发送）" if args.dry_run else ""
    print(f"{programme.short_name}（{programme.id}）{args.as_of.isoformat()} 通知和催报{mode}")
    for p in plans:
        print(
            f"{p.cycle_year} 年度：{p.instances} 个事项，新增 {p.queued} 封，已在发件箱 {p.existing} 封，"
            f"无法送达 {p.without_recipient} 个地区，联系人缺失 {p.gaps} 处"
        )
        if args.dry_run:
            for line in p.lines:
                print(f"  {line}")
    if report is not None:
        print(
            f"发送：已发送 {report.sent} 封，部分收件人拒收 {report.partial} 封，失败 {report.failed} 封，"
            f"放弃 {len(report.given_up)} 封，仍待发送 {report.remaining} 封，"
            f"用时 {report.seconds:.1f} 秒"
        )
