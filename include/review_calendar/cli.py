"""The operators' command line: ``review-calendar``.

Exit codes: 0 success, 1 a domain failure (invalid programme file, rejected
submission, failed gate), 2 a usage error (unknown programme, bad argument).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from review_calendar.config import get_settings

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

log = logging.getLogger("review_calendar.cli")

EXIT_OK, EXIT_DOMAIN, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """The operator asked for something that does not exist (exit code 2)."""


def _programme(programme_id: str):  # noqa: ANN202 - returns Programme
    from review_calendar.programmes import ProgrammeError, load_programme_file

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
    from review_calendar.calendar import default_calendar
    from review_calendar.programmes import instances_for_year

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
    from review_calendar.programmes import ProgrammeError, load_programme_file, programme_files

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
    from review_calendar.storage.db import current_revision, redact, upgrade

    url = get_settings().db_url
    upgrade(url)
    print(f"review database {redact(url)} at revision {current_revision(url)}")
    return EXIT_OK


def cmd_seed_demo(args: argparse.Namespace) -> int:
    """Load the demo province: regions, clusters and programme enrolments."""
    from review_calendar.seed import seed_demo
    from review_calendar.storage.db import upgrade

    url = get_settings().db_url
    upgrade(url)
    counts = seed_demo(url)
    print("demo data loaded: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
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
