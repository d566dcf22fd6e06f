"""The operators' command line: ``review-calendar``.

Exit codes: 0 success, 1 a domain failure (invalid programme file, rejected
submission, failed gate), 2 a usage error (unknown programme, bad argument).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from review_calendar.settings import get_settings

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

log = logging.getLogger("review_calendar.cli")

EXIT_OK, EXIT_DOMAIN, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """The operator asked for something that does not exist (exit code 2)."""


def _programme(programme_id: str):  # noqa: ANN202 - returns Programme
    from review_calendar.domain.programmes import ProgrammeError, load_programme_file

    settings = get_settings()
    path = settings.programmes_dir / f"{programme_id}.yaml"
    if not path.exists():
        known = ", ".join(p.stem for p in sorted(settings.programmes_dir.glob("*.yaml")))
        raise UsageError(f"unknown programme {programme_id!r}; known: {known}")
    try:
        return load_programme_file(path)
    except ProgrammeError as exc:
        raise UsageError(str(exc)) from None


def cmd_deadlines(args: argparse.Namespace) -> int:
    """Print every obligation of a programme's cycle with statutory and effective due dates."""
    from review_calendar.domain.calendar import default_calendar
    from review_calendar.domain.programmes import instances_for_year

    programme = _programme(args.programme)
    calendar = default_calendar()
    instances = instances_for_year(programme, args.year, calendar)
    warnings = calendar.warnings({args.year, args.year + 1})
    if args.json:
        print(
            json.dumps(
                {
                    "programme": programme.id,
                    "name": programme.name,
                    "cycle_year": args.year,
                    "warnings": warnings,
                    "obligations": [
                        {
                            "id": i.obligation_id,
                            "period": i.period,
                            "title": i.title,
                            "kind": i.kind,
                            "statutory_due": i.statutory_due.isoformat(),
                            "effective_due": i.effective_due.isoformat(),
                            "opens_on": i.opens_on.isoformat(),
                            "submitter": i.submitter,
                            "via": i.via,
                            "recipient": i.recipient,
                            "due_is_configured": i.due_is_configured,
                            "clause": i.clause,
                        }
                        for i in instances
                    ],
                },
                ensure_ascii=False,
                indent=2,
            )
        )
        return EXIT_OK
    print(f"{programme.name}（{programme.id}）{args.year} 年度审查日历")
    for w in warnings:
        print(f"警告：{w}")
    print(f"{'事项':<24}{'期次':<5}{'法定截止':<12}{'顺延后截止':<12}{'报送路径'}")
    for i in instances:
        route = " → ".join(x for x in (i.submitter, i.via, i.recipient) if x)
        moved = "" if i.effective_due == i.statutory_due else " (顺延)"
        configured = " [配置日期]" if i.due_is_configured else ""
        print(
            f"{i.obligation_id:<24}{i.period:<5}{i.statutory_due.isoformat():<12}"
            f"{i.effective_due.isoformat():<12}{route}  {i.title}{moved}{configured}"
        )
    return EXIT_OK


def cmd_programmes_check(args: argparse.Namespace) -> int:
    """Validate every programme file; print one line per file."""
    from review_calendar.domain.programmes import ProgrammeError, load_programme_file, programme_files

    directory = Path(args.dir) if args.dir else get_settings().programmes_dir
    files = programme_files(directory)
    if not files:
        print(f"no programme files in {directory}", file=sys.stderr)
        return EXIT_DOMAIN
    failed = 0
    for path in files:
        try:
            p = load_programme_file(path)
            print(f"ok      {path.name}: {p.name}, {len(p.obligations)} obligations")
        except ProgrammeError as exc:
            failed += 1
            print(f"INVALID {exc}")
    return EXIT_DOMAIN if failed else EXIT_OK


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    """Create or migrate the review database."""
    from review_calendar.store.db import current_revision, redact, upgrade

    url = get_settings().db_url
    upgrade(url)
    print(f"review database {redact(url)} at revision {current_revision(url)}")
    return EXIT_OK


def cmd_seed_demo(args: argparse.Namespace) -> int:
    """Load the demo province: regions, clusters and programme enrolments."""
    from review_calendar_demo.seed import seed_demo

    from review_calendar.store.db import upgrade

    url = get_settings().db_url
    upgrade(url)
    counts = seed_demo(url)
    print("demo data loaded: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return EXIT_OK


def _instance(args: argparse.Namespace):  # noqa: ANN202 - (Programme, ObligationInstance)
    from review_calendar.store.queries import find_instance

    programme = _programme(args.programme)
    try:
        programme.obligation(args.obligation)
    except KeyError:
        known = ", ".join(o.id for o in programme.obligations)
        raise UsageError(
            f"programme {programme.id} has no obligation {args.obligation!r}; known: {known}"
        ) from None
    try:
        return programme, find_instance(
            programme,
            args.year,
            args.obligation,
            args.period or programme.obligation(args.obligation).due[0].period,
        )
    except KeyError as exc:
        raise UsageError(str(exc).strip("'\"")) from None


def cmd_ingest(args: argparse.Namespace) -> int:
    """Take in submitted files for one obligation instance; exit 1 when any file is rejected."""
    from review_calendar.store.db import upgrade
    from review_calendar.store.queries import record_instances
    from review_calendar.tasks import ingest_files

    programme, instance = _instance(args)
    paths = [Path(f) for f in args.files]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        raise UsageError(f"no such file: {', '.join(missing)}")
    settings = get_settings()
    upgrade(settings.db_url)
    record_instances(settings.db_url, programme, instance.cycle_year)
    received = dt.date.fromisoformat(args.received_on) if args.received_on else None
    if sys.stderr.isatty() and not args.json and len(paths) > 1:
        from rich.progress import Progress

        with Progress(transient=True) as bar:
            job = bar.add_task("接收报送文件", total=len(paths))
            report = ingest_files(settings.db_url, settings, programme, instance, paths, received_on=received,
                                  progress=lambda n: bar.update(job, completed=n))  # fmt: skip
    else:
        report = ingest_files(settings.db_url, settings, programme, instance, paths, received_on=received)
    if args.json:
        print(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
    else:
        for o in report.accepted:
            print(f"已接收 {o.file}（{o.region_code}{'，逾期' if o.is_late else ''}）")
        for o in report.duplicates:
            print(f"已存在 {o.file}（相同文件已接收过，未重复处理）")
        for o in report.rejected:
            print(f"已退回 {o.file}：")
            for e in o.errors:
                where = "".join(
                    f"{x} " for x in (e.get("sheet"), f"第{e['row']}行" if e.get("row") else None) if x
                )
                print(f"  [{e['code']}] {where}{e['message']}")
            print(f"  原文件已保存在 {o.stored_path}")
    return EXIT_DOMAIN if report.rejected else EXIT_OK


def cmd_template(args: argparse.Namespace) -> int:
    """Write the official Excel template of an obligation, with its 填表说明 sheet."""
    from review_calendar.intake.templates import write_template

    programme, instance = _instance(args)
    obligation = programme.obligation(args.obligation)
    if not obligation.template:
        raise UsageError(f"obligation {obligation.id!r} has no template (nothing is submitted)")
    due = instance.effective_due
    path = write_template(obligation.template, Path(args.out), programme_title=programme.name,
                          obligation_title=obligation.title, due=f"{due.year}年{due.month}月{due.day}日")  # fmt: skip
    print(f"template written: {path}")
    return EXIT_OK


FINDING_CHOICES = ("false_declaration", "unreported_change", "major_incident")


def cmd_findings_add(args: argparse.Namespace) -> int:
    """Record a reviewer's finding (seed 002 第十七条 conditions 2, 4, 5) for the re-review."""
    from review_calendar.store.db import session_scope, upgrade, upsert
    from review_calendar.store.models import Cluster, Finding

    programme = _programme(args.programme)
    settings = get_settings()
    upgrade(settings.db_url)
    with session_scope(settings.db_url) as session:
        if session.get(Cluster, args.cluster) is None:
            raise UsageError(f"unknown cluster {args.cluster!r}")
        upsert(session, Finding, [{"programme_id": programme.id, "cluster_id": args.cluster, "cycle_year": args.year,
                                   "condition": args.condition, "note": args.note, "recorded_by": args.by}],
               ["programme_id", "cluster_id", "cycle_year", "condition"])  # fmt: skip
    print(f"finding recorded: {programme.id} {args.cluster} {args.year} {args.condition}")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with every sub-command."""
    parser = argparse.ArgumentParser(prog="review-calendar", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("deadlines", help="statutory and effective due dates of a programme's cycle")
    p.add_argument("--programme", required=True)
    p.add_argument("--year", required=True, type=int)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_deadlines)

    p = sub.add_parser("programmes", help="programme configuration files")
    psub = p.add_subparsers(dest="action", required=True)
    c = psub.add_parser("check", help="validate every programme file")
    c.add_argument("--dir", help="folder of programme files (default: configured)")
    c.set_defaults(func=cmd_programmes_check)

    p = sub.add_parser("db", help="the review database")
    dsub = p.add_subparsers(dest="action", required=True)
    dsub.add_parser("upgrade", help="create or migrate the schema").set_defaults(func=cmd_db_upgrade)

    p = sub.add_parser("ingest", help="take in submitted files (accept, or quarantine with reasons)")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--programme", required=True)
    p.add_argument("--year", required=True, type=int, help="cycle year")
    p.add_argument("--obligation", required=True)
    p.add_argument("--period", help="period (Q1..Q4, H1, H2) for obligations with several")
    p.add_argument(
        "--received-on", help="date of receipt YYYY-MM-DD (default: each file's modification date)"
    )
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("template", help="write the official Excel template of an obligation")
    p.add_argument("obligation")
    p.add_argument("--programme", required=True)
    p.add_argument(
        "--year", type=int, default=dt.date.today().year, help="cycle year (for the deadline shown)"
    )
    p.add_argument("--period")
    p.add_argument("--out", required=True, help="output .xlsx path")
    p.set_defaults(func=cmd_template)

    p = sub.add_parser("findings", help="reviewers' findings for the re-review (article 17 (2), (4), (5))")
    fsub = p.add_subparsers(dest="action", required=True)
    f = fsub.add_parser("add", help="record a finding")
    f.add_argument("--programme", required=True)
    f.add_argument("--cluster", required=True)
    f.add_argument("--year", required=True, type=int)
    f.add_argument("--condition", required=True, choices=FINDING_CHOICES)
    f.add_argument("--note", default="")
    f.add_argument("--by", default="", help="reviewer recording it")
    f.set_defaults(func=cmd_findings_add)

    from review_calendar.cli.remind import register as register_remind

    register_remind(sub)

    p = sub.add_parser("seed", help="load data")
    ssub = p.add_subparsers(dest="action", required=True)
    ssub.add_parser("demo", help="the demo province").set_defaults(func=cmd_seed_demo)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line and return its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s"
    )
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except UsageError as exc:
        print(f"review-calendar: error: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
