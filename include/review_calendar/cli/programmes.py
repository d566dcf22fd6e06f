"""``review-calendar deadlines`` and ``review-calendar programmes check``: the programme files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from review_calendar.cli.common import EXIT_DOMAIN, EXIT_OK, UsageError, print_error, programme_named
from review_calendar.domain.labels import LEVELS, due_label, recurrence_label
from review_calendar.settings import get_settings

if TYPE_CHECKING:
    import argparse

    from review_calendar.domain.programmes import Obligation, ObligationInstance


#: The sub-commands :func:`register` adds (``review-calendar`` builds only the one asked for).
COMMANDS = ("deadlines", "programmes")


def register(subparsers: Any) -> None:
    """Add ``deadlines`` and ``programmes check`` to the ``review-calendar`` parser.

    Args:
        subparsers: The object ``ArgumentParser.add_subparsers()`` returned.
    """
    p = subparsers.add_parser(
        "deadlines",
        help="statutory and effective due dates of a programme's cycle; "
        "'recompute' moves recorded ones after the holiday table changed",
    )
    p.add_argument("action", nargs="?", choices=("show", "recompute"), default="show")
    p.add_argument("--programme", required=True)
    p.add_argument("--year", required=True, type=int)
    p.add_argument("--json", action="store_true")
    p.add_argument("--as-of", help="planning day of the e-mails (YYYY-MM-DD, default: today in Beijing)")
    p.add_argument("--no-notify", action="store_true", help="recompute without e-mailing the counties")
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
        "due_label": due_label(i.due_is_configured),
        "recurrence": i.recurrence,
        "recurrence_is_configured": i.recurrence_is_configured,
        "recurrence_label": recurrence_label(i.recurrence, i.recurrence_is_configured),
        "clause": i.clause,
    }


def _ad_hoc_json(o: Obligation) -> dict[str, Any]:
    """An obligation without a due date: listed, never due, never missing, never reminded."""
    return {
        "id": o.id,
        "period": None,
        "title": o.title,
        "kind": o.kind,
        "statutory_due": None,
        "effective_due": None,
        "opens_on": None,
        "submitter": o.submitter,
        "via": o.via,
        "recipient": o.recipient,
        "due_is_configured": False,
        "due_label": recurrence_label(o.recurrence),
        "recurrence": o.recurrence,
        "recurrence_is_configured": o.recurrence_is_configured,
        "recurrence_label": recurrence_label(o.recurrence, o.recurrence_is_configured),
        "clause": o.clause,
    }


def cmd_deadlines(args: argparse.Namespace) -> int:
    """Print every obligation of a programme's cycle with statutory and effective due dates.

    ``recompute`` first moves the recorded (announced) deadlines of the cycle to what
    the holiday table now gives (never earlier), re-judges late files in the
    county's favour and queues the e-mails (see ``review_calendar.tasks.deadlines``).

    Args:
        args: ``action``, ``programme``, ``year``, ``json``, ``as_of``, ``no_notify``.

    Returns:
        0.

    Raises:
        UsageError: Unknown programme or bad ``--as-of`` (exit code 2).
    """
    from review_calendar.domain.calendar import default_calendar
    from review_calendar.domain.programmes import instances_for_year
    from review_calendar.domain.schedule import years_touched

    programme = programme_named(args.programme)
    calendar = default_calendar()
    recomputed = _recompute(programme, args) if args.action == "recompute" else None
    instances = instances_for_year(programme, args.year, calendar)
    warnings = calendar.warnings(years_touched(instances))
    if args.json:
        document = {
            "programme": programme.id,
            "name": programme.name,
            "cycle_year": args.year,
            "warnings": warnings,
            "obligations": [_instance_json(i) for i in instances]
            + [_ad_hoc_json(o) for o in programme.ad_hoc_obligations],
        }
        if recomputed is not None:
            document["recomputed"] = recomputed
        print(json.dumps(document, ensure_ascii=False, indent=2))
        return EXIT_OK
    print(f"{programme.name}（{programme.id}）{args.year} 年度审查日历")
    for w in warnings:
        print(f"警告：{w}")
    if recomputed is not None:
        for m in recomputed["moved"]:
            print(f"截止日期调整：{m['key']} {m['announced']} → {m['effective_due']}")
        print(f"重新认定为按时 {recomputed['rejudged']} 份，新排队通知 {recomputed['queued']} 封")
    print(f"{'事项':<24}{'期次':<5}{'截止日期':<12}{'顺延后截止':<12}{'报送路径'}")
    for i in instances:
        route = " → ".join(LEVELS.get(x, x) for x in (i.submitter, i.via, i.recipient) if x)
        moved_mark = "" if i.effective_due == i.statutory_due else " (顺延)"
        basis = f" [{due_label(i.due_is_configured)}]"
        recurrence = f" [{recurrence_label(i.recurrence, True)}]" if i.recurrence_is_configured else ""
        print(
            f"{i.obligation_id:<24}{i.period:<5}{i.statutory_due.isoformat():<12}"
            f"{i.effective_due.isoformat():<12}{route}  {i.title}{moved_mark}{basis}{recurrence}"
        )
    for o in programme.ad_hoc_obligations:
        route = " → ".join(LEVELS.get(x, x) for x in (o.submitter, o.via, o.recipient) if x)
        print(f"{o.id:<24}{'':<5}{'—':<12}{'—':<12}{route}  {o.title} [{recurrence_label(o.recurrence)}]")
    return EXIT_OK


def _recompute(programme: Any, args: argparse.Namespace) -> dict[str, Any]:
    import datetime as dt

    from review_calendar.domain.calendar import TZ
    from review_calendar.store.db import upgrade
    from review_calendar.tasks.deadlines import recompute_deadlines

    try:
        as_of = dt.date.fromisoformat(args.as_of) if args.as_of else dt.datetime.now(TZ).date()
    except ValueError:
        raise UsageError(f"--as-of 应为日期 YYYY-MM-DD，收到 {args.as_of!r}") from None
    url = get_settings().db_url
    upgrade(url)
    result = recompute_deadlines(url, programme, args.year, as_of=as_of, notify=not args.no_notify)
    return {
        "moved": [
            {
                "key": m.instance.key,
                "announced": m.announced.isoformat(),
                "effective_due": m.effective.isoformat(),
            }
            for m in result.moved
        ],
        "rejudged": result.rejudged,
        "queued": result.queued,
    }


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
        print_error(f"{directory} 中没有项目配置文件")
        return EXIT_DOMAIN
    failed = 0
    for path in files:
        try:
            p = load_programme_file(path)
            print(f"有效  {path.name}：{p.name}，{len(p.obligations)} 项报送事项")
        except ProgrammeError as exc:
            failed += 1
            print(f"无效  {exc}")
    return EXIT_DOMAIN if failed else EXIT_OK
