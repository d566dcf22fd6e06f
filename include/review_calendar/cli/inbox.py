"""``review-calendar inbox sweep``: take in what waits in the inboxes now, as the 10-minute sweep does."""

from __future__ import annotations

import argparse
import datetime as dt
import json
from typing import Any

from review_calendar.cli.common import (
    EXIT_DOMAIN,
    EXIT_OK,
    ChineseParser,
    UsageError,
    iso_date,
    programme_named,
)


def _day(text: str) -> dt.date:
    try:
        return iso_date(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(f"应为日期 YYYY-MM-DD，收到 {text!r}") from None


def _year(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"应为年度（如 2025），收到 {text!r}") from None


#: The sub-commands :func:`register` adds (``review-calendar`` builds only the one asked for).
COMMANDS = ("inbox",)


def register(subparsers: Any) -> None:
    """Add ``inbox sweep`` to the ``review-calendar`` parser.

    Args:
        subparsers: The object ``ArgumentParser.add_subparsers()`` returned.
    """
    group = subparsers.add_parser("inbox", help="the folder inbox").add_subparsers(
        dest="inbox_command", required=True, parser_class=ChineseParser
    )
    p = group.add_parser(
        "sweep", help="take in the files waiting in the inboxes (as the inbox_sweep DAG does)"
    )
    p.add_argument("--programme", required=True)
    p.add_argument(
        "--year", type=_year, help="every obligation of this cycle year (default: those open today)"
    )
    p.add_argument("--as-of", type=_day, help="the sweep's day YYYY-MM-DD (default: today, Beijing time)")
    p.add_argument("--dry-run", action="store_true", help="only list what would be taken in; take nothing")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_sweep)


def cmd_sweep(args: argparse.Namespace) -> int:
    """Sweep one programme's inboxes and print, in Chinese, what was taken in, rejected and not placed.

    Rejection notices and the operators' alert are queued in the outbox; the
    next ``inbox_sweep`` run (or ``remind --send``) delivers them.

    Args:
        args: ``programme``, ``year`` (or None), ``as_of`` (or None), ``dry_run``, ``json``.

    Returns:
        0, or 1 when a file was rejected or could not be placed.

    Raises:
        UsageError: Unknown programme, or a year without a cycle of it (exit code 2).
    """
    from review_calendar.domain.calendar import TZ
    from review_calendar.settings import get_settings
    from review_calendar.store.db import upgrade
    from review_calendar.store.queries import record_instances
    from review_calendar.tasks.inbox import sweep_keys, sweep_now

    programme = programme_named(args.programme)
    now = dt.datetime.now(TZ)
    day = args.as_of or now.date()
    if args.year is not None and not programme.first_year <= args.year <= now.year + 1:
        raise UsageError(
            f"项目 {programme.id} 在 {args.year} 年没有报送周期（报送周期自 {programme.first_year} 年起，"
            f"至多到 {now.year + 1} 年），未巡检任何收件箱"
        )
    if not args.dry_run:
        url = get_settings().db_url
        upgrade(url)
        for cycle in sorted({int(k.split("/")[1]) for k in sweep_keys(day, programme.id, args.year)}):
            record_instances(url, programme, cycle)
    result = sweep_now(args.as_of or now, programme.id, year=args.year, dry_run=args.dry_run)
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        print_sweep(result, dry_run=args.dry_run)
    totals = result["totals"]
    return EXIT_DOMAIN if totals["rejected"] or totals["unplaced"] else EXIT_OK


def print_sweep(result: dict[str, Any], *, dry_run: bool = False) -> None:
    """The sweep in Chinese: per instance the files taken in, rejected and waiting; then the unplaced ones."""
    print(
        f"收件箱巡检（{result['as_of']}{'，试运行' if dry_run else ''}）：检查 {result['swept']} 个报送事项"
    )
    unplaced: dict[str, str] = {}
    for r in result["instances"]:
        print(f"{r['key']}：")
        for name in r.get("would_take", []):
            print(f"  将接收 {name}")
        for f in r.get("accepted_files", []):
            print(f"  已接收 {f['file']}（{f['region_code']}{'，逾期' if f['late'] else ''}）")
        for f in r.get("rejected_files", []):
            print(
                f"  已退回 {f['file']}（{'、'.join(f['codes'])}），退回通知已登记（地区无有效联系人时不发送，见日志）"
            )
        for name in r.get("duplicate_files", []):
            print(f"  已存在 {name}（相同文件已接收过）")
        for name in r.get("waiting", []):
            print(f"  仍在上传 {name}（下次巡检再接收）")
        for name in r.get("too_large", []):
            print(f"  过大 {name}（已退回过，文件仍在原处；换成符合大小限制的文件后再处理）")
        for f in r.get("later", []):
            print(f"  晚于本次巡检时刻到达 {f['file']}（{f['received_at'][:19].replace('T', ' ')}），"
                  "本次不接收，由下次实时巡检按实际到达时间接收")  # fmt: skip
        for u in [*r.get("unplaced", []), *r.get("stray", [])]:
            unplaced.setdefault(u["path"], u["reason"])
    for u in result.get("outside", []):
        unplaced.setdefault(u["path"], u["reason"])
    if unplaced:
        print(f"无法归位 {len(unplaced)} 个（未接收，文件仍在原处）：")
        for path, reason in sorted(unplaced.items()):
            print(f"  {path}：{reason}")
    totals = result["totals"]
    print(f"合计：接收 {totals['accepted']} 个，退回 {totals['rejected']} 个，已存在 {totals['duplicates']} 个，"
          f"无法归位 {totals['unplaced']} 个")  # fmt: skip
    if result.get("alerted"):
        print(f"已提醒运维人员：{len(result['alerted'])} 个新发现的无法归位文件")
