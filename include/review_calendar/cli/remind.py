"""``review-calendar remind``: the day's notices and reminders from the command line.

``--dry-run`` shows who would get what (roles and masked addresses) without
queueing or sending; without it the messages are queued in the outbox, and
``--send`` also delivers them through the SMTP server of the
``REVIEW_CALENDAR_SMTP_*`` environment variables
(:class:`review_calendar.notify.smtp.SmtpSettings`).
"""

from __future__ import annotations

import json
import logging
import os
import sys
from typing import TYPE_CHECKING, Any

from review_calendar.cli.common import EXIT_DOMAIN, EXIT_OK, UsageError, iso_date, programme_named

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable
    from pathlib import Path

    from review_calendar.domain.programmes import ObligationInstance, Programme
    from review_calendar.notify.outbox import DeliveryReport, ReminderPlan

log = logging.getLogger(__name__)


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


def template_writer(folder: Path, programme: Programme) -> Callable[[ObligationInstance], Path | None]:
    """Attachments for notices and reminders: the official template of each instance.

    The template is written once per instance under ``folder`` (intake's
    :func:`~review_calendar.intake.templates.write_template`) and reused.

    Args:
        folder: Where templates are kept (``<home>/templates``).
        programme: The programme.

    Returns:
        A function giving the template path of an instance, or None when its
        obligation has no dataset template.
    """

    def template_for(instance: ObligationInstance) -> Path | None:
        from review_calendar.intake.templates import write_template
        from review_calendar.notify.render import cn_date

        dataset = programme.obligation(instance.obligation_id).dataset
        if not dataset:
            return None
        period = "" if instance.period == "Y" else f"（{instance.period}）"
        path = folder / programme.id / str(instance.cycle_year) / f"{instance.title}{period}报送模板.xlsx"
        if path.exists():
            return path
        try:
            return write_template(
                dataset,
                path,
                programme_title=programme.name,
                obligation_title=instance.title,
                due=cn_date(instance.effective_due, weekday=False),
            )
        except KeyError:
            log.warning("No template for dataset %s: %s notices go without attachment", dataset, instance.key)
            return None

    return template_for


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
    from review_calendar.notify.outbox import plan_reminders
    from review_calendar.settings import get_settings
    from review_calendar.store.db import upgrade

    programme = programme_named(args.programme)
    settings = get_settings()
    url = settings.db_url
    upgrade(url)
    years = sorted(set(args.year)) if args.year else [args.as_of.year - 1, args.as_of.year]
    template_for = None if args.dry_run else template_writer(settings.home / "templates", programme)
    plans = [
        plan_reminders(url, programme, year, args.as_of, dry_run=args.dry_run, template_for=template_for)
        for year in years
    ]
    report = _send(url, programme, args) if args.send else None
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
        print(
            f"review-calendar: error: SMTP 服务器无法连接，邮件仍在发件箱中：{report.error}", file=sys.stderr
        )
    if report is not None and (report.server_unreachable or report.failed):
        return EXIT_DOMAIN
    return EXIT_OK


def _send(url: str, programme: Programme, args: argparse.Namespace) -> DeliveryReport:
    """Deliver the programme's queued messages through the SMTP server of the environment.

    Raises:
        UsageError: The SMTP settings or the rate are invalid (exit code 2).
    """
    from review_calendar.notify.outbox import deliver
    from review_calendar.notify.smtp import SmtpSettings, smtp_sender

    try:
        smtp = SmtpSettings.from_env()
        rate = args.rate or float(os.environ.get("REVIEW_CALENDAR_SMTP_RATE") or 0) or None
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    with smtp_sender(smtp) as send:
        return deliver(url, send, programme_id=programme.id, limit=args.limit, rate_per_second=rate)


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
            f"发送：已发送 {report.sent} 封，失败 {report.failed} 封，仍待发送 {report.remaining} 封，"
            f"用时 {report.seconds:.1f} 秒"
        )
