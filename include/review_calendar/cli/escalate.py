"""``review-calendar escalate``: the day's escalations of unanswered proposals and rectification follow-ups.

The same entry points as the ``reminders`` DAG
(:mod:`review_calendar.tasks.escalation`): unanswered proposals are e-mailed to
the division head after the configured working days (nothing is decided), and
every rectification follow-up is checked and reminded. ``--dry-run`` shows what
would be queued; otherwise the messages wait in the outbox for
``review-calendar remind --send`` or the DAG's send step.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from review_calendar.cli.common import EXIT_OK, UsageError, iso_date, programme_named

if TYPE_CHECKING:
    import argparse


#: The sub-commands :func:`register` adds (``review-calendar`` builds only the one asked for).
COMMANDS = ("escalate",)


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add the ``escalate`` sub-command to the ``review-calendar`` parser.

    Args:
        subparsers: The object ``ArgumentParser.add_subparsers()`` returned.

    Returns:
        The ``escalate`` parser.
    """
    p = subparsers.add_parser(
        "escalate", help="queue the day's escalations of unanswered proposals and rectification follow-ups"
    )
    p.add_argument("--programme", help="only this programme (default: every programme)")
    p.add_argument("--as-of", required=True, type=iso_date, dest="as_of", help="planning day, YYYY-MM-DD")
    p.add_argument("--dry-run", action="store_true", help="show what would be queued; queue nothing")
    p.add_argument("--json", action="store_true", help="print a JSON summary")
    p.set_defaults(func=cmd_escalate)
    return p


def cmd_escalate(args: argparse.Namespace) -> int:
    """Queue (or, in a dry run, describe) the day's escalations and follow-up reminders.

    Args:
        args: ``programme`` (or None), ``as_of``, ``dry_run``, ``json``.

    Returns:
        0.

    Raises:
        UsageError: Unknown programme or invalid settings (exit code 2).
    """
    from review_calendar.tasks.escalation import escalate_proposals, follow_up_rectifications

    if args.programme:
        programme_named(args.programme)
    day = args.as_of.isoformat()
    try:
        escalations = escalate_proposals(day, args.programme, dry_run=args.dry_run)
        follow_ups = follow_up_rectifications(day, args.programme, dry_run=args.dry_run)
    except ValueError as exc:  # settings
        raise UsageError(str(exc)) from None
    if args.json:
        print(
            json.dumps({"escalations": escalations, "follow_ups": follow_ups}, ensure_ascii=False, indent=2)
        )
        return EXIT_OK
    mode = "（试运行：不排队）" if args.dry_run else ""
    print(f"{day} 待审定事项督办和整改报告跟踪{mode}")
    for pid, plan in escalations["programmes"].items():
        print(
            f"{pid}：待审定 {plan['open_rounds']} 项，新增督办 {plan['queued']} 封，已在发件箱 {plan['existing']} 封"
        )
        for line in plan["lines"]:
            print(f"  {line}")
    for pid, plan in follow_ups["programmes"].items():
        print(f"{pid}：整改报告跟踪 {len(plan['states'])} 项，新增通知和催报 {plan['queued']} 封")
    return EXIT_OK
