"""``review-calendar record visit|meeting|miit-decision|recognition|re-review|extension-request``: recorded facts.

Facts only the province or MIIT knows, and a county's request for more time
(延期申请), which becomes a proposal a reviewer grants or refuses.

Each goes through :func:`review_calendar.tasks.facts.record_fact`, the same way
in as the ``record_fact`` DAG's entry form, stored with ``--by`` and the time;
recording the same fact again updates it.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from review_calendar.cli.common import EXIT_DOMAIN, EXIT_OK, iso_date, print_error, programme_named
from review_calendar.domain.facts import MEETING_OUTCOMES, MIIT_DECISIONS, RE_REVIEW_RESULTS

if TYPE_CHECKING:
    import argparse


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--programme", required=True)
    p.add_argument("--by", required=True, help="who records the fact")
    p.add_argument("--note", default="")


#: The sub-commands :func:`register` adds (``review-calendar`` builds only the one asked for).
COMMANDS = ("record",)


def register(subparsers: Any) -> None:
    """Add ``record ...`` to the ``review-calendar`` parser.

    Args:
        subparsers: The object ``ArgumentParser.add_subparsers()`` returned.
    """
    p = subparsers.add_parser("record", help="record a fact only the province or MIIT knows")
    rsub = p.add_subparsers(dest="fact", required=True)
    visit = rsub.add_parser("visit", help="an expert counselling visit to a base or cultivation target")
    _common(visit)
    visit.add_argument("--cluster", required=True, help="the base (cluster id)")
    visit.add_argument("--date", required=True, type=iso_date)
    visit.add_argument("--expert", required=True)
    visit.set_defaults(func=cmd_record, kind="visit")
    meeting = rsub.add_parser("meeting", help="a half-year observation meeting held or not held")
    _common(meeting)
    meeting.add_argument("--year", required=True, type=int)
    meeting.add_argument("--period", required=True, choices=("H1", "H2"))
    meeting.add_argument("--outcome", required=True, choices=MEETING_OUTCOMES)
    meeting.add_argument("--date", type=iso_date, help="the day it was held")
    meeting.add_argument("--place", default="")
    meeting.set_defaults(func=cmd_record, kind="meeting")
    miit = rsub.add_parser("miit-decision", help="MIIT's decision on a cluster")
    _common(miit)
    miit.add_argument("--cluster", required=True)
    miit.add_argument("--year", required=True, type=int)
    miit.add_argument("--decision", required=True, choices=MIIT_DECISIONS, dest="outcome")
    miit.add_argument("--reference", required=True, help="the decision's 文号")
    miit.add_argument("--date", type=iso_date)
    miit.set_defaults(func=cmd_record, kind="miit_decision")
    rec = rsub.add_parser("recognition", help="a recognition decided outside our records")
    _common(rec)
    rec.add_argument("--subject", required=True, help="the firm, platform or base recognised")
    rec.add_argument("--category", required=True, dest="outcome", help="e.g. 试点, 示范, 平台")
    rec.add_argument("--date", required=True, type=iso_date)
    rec.add_argument("--reference", default="")
    rec.set_defaults(func=cmd_record, kind="recognition")
    rr = rsub.add_parser("re-review", help="the re-review result of a base (a failure becomes a proposal)")
    _common(rr)
    rr.add_argument("--cluster", required=True)
    rr.add_argument("--year", required=True, type=int)
    rr.add_argument("--result", required=True, choices=RE_REVIEW_RESULTS, dest="outcome")
    rr.add_argument("--reference", default="")
    rr.set_defaults(func=cmd_record, kind="re_review")
    ext = rsub.add_parser(
        "extension-request", help="a county's request for more time (a proposal for a reviewer)"
    )
    _common(ext)
    ext.add_argument("--year", required=True, type=int)
    ext.add_argument("--obligation", required=True, help="the obligation id (e.g. development_plan)")
    ext.add_argument("--period", default="Y", help="the period (Y, H1, Q1...; default Y)")
    ext.add_argument("--region", required=True, dest="subject", help="the county's region code")
    ext.add_argument("--until", required=True, type=iso_date, dest="date", help="the date asked for")
    ext.add_argument("--reason", required=True)
    ext.set_defaults(func=cmd_record, kind="extension_request")


def cmd_record(args: argparse.Namespace) -> int:
    """Record one fact and print what was stored (JSON).

    Returns:
        0, or 1 when the fact is incomplete or inconsistent (the reason in Chinese on stderr).

    Raises:
        UsageError: Unknown programme (exit code 2).
    """

    from review_calendar.domain.facts import FactError
    from review_calendar.tasks.facts import record_fact

    programme = programme_named(args.programme)
    values = {
        k: getattr(args, k, None)
        for k in ("year", "period", "outcome", "reference", "expert", "note", "place", "obligation", "reason")
    }
    values["subject"] = getattr(args, "cluster", None) or getattr(args, "subject", None)
    values["date"] = args.date.isoformat() if getattr(args, "date", None) else None
    try:
        result = record_fact(programme.id, args.kind, values, by=args.by, source="cli")
    except FactError as exc:
        print_error(str(exc))
        return EXIT_DOMAIN
    print(json.dumps(result, ensure_ascii=False))
    return EXIT_OK
