"""``review-calendar deadlines`` and ``review-calendar programmes check``: the programme files."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from review_calendar.cli.common import EXIT_DOMAIN, EXIT_OK, programme_named
from review_calendar.domain.labels import LEVELS
from review_calendar.settings import get_settings

if TYPE_CHECKING:
    import argparse

    from review_calendar.domain.programmes import ObligationInstance


def register(subparsers: Any) -> None:
    """Add ``deadlines`` and ``programmes check`` to the ``review-calendar`` parser.

    Args:
        subparsers: The object ``ArgumentParser.add_subparsers()`` returned.
    """
    p = subparsers.add_parser("deadlines", help="statutory and effective due dates of a programme's cycle")
    p.add_argument("--programme", required=True)
    p.add_argument("--year", required=True, type=int)
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_deadlines)

    p = subparsers.add_parser("programmes", help="programme configuration files")
    psub = p.add_subparsers(dest="action", required=True)
    c = psub.add_parser("check", help="validate every programme file")
    c.add_argument("--dir", help="folder of programme files (default: configured)")
    c.set_defaults(func=cmd_programmes_check)


def _instance_json(i: ObligationInstance) -> dict[str, Any]:
    return {
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


def cmd_deadlines(args: argparse.Namespace) -> int:
    """Print every obligation of a programme's cycle with statutory and effective due dates.

    Args:
        args: ``programme``, ``year``, ``json``.

    Returns:
        0.

    Raises:
        UsageError: Unknown programme (exit code 2).
    """
    from review_calendar.domain.calendar import default_calendar
    from review_calendar.domain.programmes import instances_for_year
    from review_calendar.domain.schedule import years_touched

    programme = programme_named(args.programme)
    calendar = default_calendar()
    instances = instances_for_year(programme, args.year, calendar)
    warnings = calendar.warnings(years_touched(instances))
    if args.json:
        document = {
            "programme": programme.id,
            "name": programme.name,
            "cycle_year": args.year,
            "warnings": warnings,
            "obligations": [_instance_json(i) for i in instances],
        }
        print(json.dumps(document, ensure_ascii=False, indent=2))
        return EXIT_OK
    print(f"{programme.name}（{programme.id}）{args.year} 年度审查日历")
    for w in warnings:
        print(f"警告：{w}")
    print(f"{'事项':<24}{'期次':<5}{'法定截止':<12}{'顺延后截止':<12}{'报送路径'}")
    for i in instances:
        route = " → ".join(LEVELS.get(x, x) for x in (i.submitter, i.via, i.recipient) if x)
        moved = "" if i.effective_due == i.statutory_due else " (顺延)"
        configured = " [配置日期]" if i.due_is_configured else ""
        print(
            f"{i.obligation_id:<24}{i.period:<5}{i.statutory_due.isoformat():<12}"
            f"{i.effective_due.isoformat():<12}{route}  {i.title}{moved}{configured}"
        )
    return EXIT_OK


def cmd_programmes_check(args: argparse.Namespace) -> int:
    """Validate every programme file; print one line per file.

    Args:
        args: ``dir`` (None: the configured programmes folder).

    Returns:
        0 when every file is valid, 1 when one is invalid or the folder has none.
    """
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
