"""``review-calendar ingest`` and ``review-calendar template``: files in, templates out."""

from __future__ import annotations

import datetime as dt
import gc
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from review_calendar.cli.common import EXIT_DOMAIN, EXIT_OK, UsageError, instance_named, iso_date
from review_calendar.settings import get_settings

if TYPE_CHECKING:
    import argparse

    from review_calendar.intake.ingest import IngestReport

#: Files an ``ingest`` takes in with the cyclic garbage collector paused (see :func:`cmd_ingest`).
_FEW_FILES = 10


#: The sub-commands :func:`register` adds (``review-calendar`` builds only the one asked for).
COMMANDS = ("ingest", "template")


def register(subparsers: Any) -> None:
    """Add ``ingest`` and ``template`` to the ``review-calendar`` parser.

    Args:
        subparsers: The object ``ArgumentParser.add_subparsers()`` returned.
    """
    p = subparsers.add_parser("ingest", help="take in submitted files (accept, or quarantine with reasons)")
    p.add_argument("files", nargs="+", metavar="FILE")
    said = " (default: what the first file's document properties say, for files on our .xlsx templates)"
    p.add_argument("--programme", help="programme" + said)
    p.add_argument("--year", type=int, help="cycle year" + said)
    p.add_argument("--obligation", help="obligation" + said)
    p.add_argument("--period", help="period (Q1..Q4, H1, H2) for obligations with several")
    p.add_argument(
        "--received-on",
        type=iso_date,
        help="date of receipt YYYY-MM-DD (default: when each file landed on this server, its ctime)",
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_ingest)

    p = subparsers.add_parser("template", help="write the official Excel template of an obligation")
    p.add_argument("obligation")
    p.add_argument("--programme", required=True)
    p.add_argument(
        "--year", type=int, default=dt.date.today().year, help="cycle year (for the deadline shown)"
    )
    p.add_argument("--period")
    p.add_argument("--out", required=True, help="output .xlsx path")
    p.set_defaults(func=cmd_template)


def cmd_ingest(args: argparse.Namespace) -> int:
    """Take in submitted files for one obligation instance.

    Args:
        args: ``files``, ``programme``, ``year``, ``obligation``, ``period``,
            ``received_on`` (a date or None), ``json``.

    Returns:
        0 when every file was accepted (or already known), 1 when any was rejected,
        vanished or could not be stored.

    Raises:
        UsageError: Unknown programme, obligation or period, a file that does not exist, or a
            receipt date after today (exit code 2).
    """
    # A county's file (or a few) is judged in about a second, most of it spent importing
    # SQLAlchemy, pydantic and the readers: tens of thousands of long-lived objects that the
    # cyclic garbage collector would walk again and again with nothing to free. It waits until
    # the command is over; a batch of many files keeps it.
    if len(args.files) > _FEW_FILES or not gc.isenabled():
        return _ingest(args)
    gc.disable()
    try:
        return _ingest(args)
    finally:
        gc.enable()


def _ingest(args: argparse.Namespace) -> int:
    """:func:`cmd_ingest` itself."""
    from review_calendar.domain.calendar import TZ
    from review_calendar.store.db import upgrade
    from review_calendar.store.queries import record_instances
    from review_calendar.tasks.intake import ingest_files

    today = dt.datetime.now(TZ).date()
    if args.received_on and args.received_on > today:
        # A typo in the year would put the file in force over every later correction.
        raise UsageError(f"--received-on {args.received_on} 晚于今天（{today}）：文件不能在将来收到")
    paths = [Path(f) for f in args.files]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise UsageError(f"文件不存在：{'、'.join(missing)}")
    _instance_from_file(args, paths[0])
    programme, instance = instance_named(args.programme, args.year, args.obligation, args.period)
    settings = get_settings()
    upgrade(settings.db_url)
    record_instances(settings.db_url, programme, instance.cycle_year)
    if sys.stderr.isatty() and not args.json and len(paths) > 1:
        from rich.progress import Progress

        with Progress(transient=True) as bar:
            job = bar.add_task("接收报送文件", total=len(paths))
            report = ingest_files(settings.db_url, settings, programme, instance, paths, received_on=args.received_on,
                                  progress=lambda n: bar.update(job, completed=n))  # fmt: skip
    else:
        # Row checks at intake are the dataset spec's own (no Great Expectations: the
        # provincial gate runs it before every aggregation); a county gets its answer in a second.
        report = ingest_files(
            settings.db_url, settings, programme, instance, paths, received_on=args.received_on
        )
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        _print_outcomes(report)
    return EXIT_DOMAIN if report.rejected or report.failed or report.vanished else EXIT_OK


def _instance_from_file(args: argparse.Namespace, path: Path) -> None:
    """Fill ``--programme``, ``--year``, ``--obligation`` and ``--period`` not given from the file's properties.

    Raises:
        UsageError: One of the first three is missing and the file does not say it.
    """
    if args.programme and args.year and args.obligation:
        return
    from review_calendar.intake.identity import file_identity
    from review_calendar.intake.reader import read_file

    try:
        said = file_identity(read_file(path).data)
    except OSError:
        said = None
    args.programme = args.programme or (said and said.programme)
    args.year = args.year or (said and said.cycle_year)
    args.obligation = args.obligation or (said and said.obligation)
    args.period = args.period or (said and said.period)
    if not (args.programme and args.year and args.obligation):
        raise UsageError(
            f"需要 --programme、--year 和 --obligation：{path.name} 未写明报送的项目、年度和事项"
            "（只有本系统 .xlsx 模板在文档属性中写明）"
        )


def _print_issue(prefix: str, e: dict) -> None:
    where = "".join(f"{x} " for x in (e.get("sheet"), f"第{e['row']}行" if e.get("row") else None) if x)
    print(f"  {prefix}[{e['code']}] {where}{e['message']}")


def _print_outcomes(report: IngestReport) -> None:
    """One line per accepted or known file with its warnings; every error of a rejected file, with sheet and row."""
    for o in report.accepted:
        number = f"，受理编号 {o.receipt_no}" if o.receipt_no else ""
        print(f"已接收 {o.file}（{o.region_code}{'，逾期' if o.is_late else ''}{number}）")
        for e in o.warnings:
            _print_issue("提示", e)
    for o in report.duplicates:
        number = f"，受理编号 {o.receipt_no}" if o.receipt_no else ""
        print(f"已存在 {o.file}（相同文件已接收过且仍有效，未重复处理{number}）")
    for o in [*report.vanished, *report.failed]:
        for e in o.errors:
            print(e["message"])
    for o in report.rejected:
        print(f"已退回 {o.file}：")
        for e in o.errors:
            _print_issue("", e)
        for e in o.warnings:
            _print_issue("提示", e)
        if o.stored_path:
            print(f"  原文件已保存在 {o.stored_path}")
        else:  # a link or a file that could not be opened is never read or copied
            print("  原文件未读取、未复制，仍在原处")


def cmd_template(args: argparse.Namespace) -> int:
    """Write the official Excel template of an obligation, with its 填表说明 sheet.

    Args:
        args: ``obligation``, ``programme``, ``year``, ``period``, ``out``.

    Returns:
        0.

    Raises:
        UsageError: Unknown programme, obligation or period, or an obligation
            with nothing to submit (exit code 2).
    """
    from review_calendar.intake.templates import due_text, write_template

    programme, instance = instance_named(args.programme, args.year, args.obligation, args.period)
    obligation = programme.obligation(args.obligation)
    if not obligation.template:
        raise UsageError(f"报送事项“{obligation.id}”没有模板（无需报送文件）")
    path = write_template(obligation.template, Path(args.out), programme_title=programme.name,
                          obligation_title=obligation.title, due=due_text(instance), instance=instance)  # fmt: skip
    print(f"template written: {path}")
    return EXIT_OK
