"""``review-calendar enrol``: record a recognition decided outside this system.

The deciding body (Programme A: the province after review and public notice;
Programme B: MIIT after the province's first review and recommendation) decides;
this command records its decision: the enrolment, valid for the programme's
``validity.years``, and a ``enrolment`` entry in the decision log. Idempotent.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from review_calendar.cli.common import (
    EXIT_DOMAIN,
    EXIT_OK,
    UsageError,
    iso_date,
    print_error,
    programme_named,
)
from review_calendar.settings import get_settings

if TYPE_CHECKING:
    import argparse


#: The sub-commands :func:`register` adds (``review-calendar`` builds only the one asked for).
COMMANDS = ("enrol",)


def register(subparsers: Any) -> None:
    """Add ``enrol`` to the ``review-calendar`` parser.

    Args:
        subparsers: The object ``ArgumentParser.add_subparsers()`` returned.
    """
    p = subparsers.add_parser("enrol", help="record a recognition decided outside (creates the enrolment)")
    p.add_argument("--programme", required=True)
    p.add_argument("--region", required=True, help="6-digit code of the cluster's county")
    p.add_argument("--cluster", required=True, help="cluster id or name (a new name creates the cluster)")
    p.add_argument(
        "--from", dest="recognised_on", required=True, type=iso_date, help="recognised on (YYYY-MM-DD)"
    )
    p.add_argument("--by", default="", help="who records it")
    p.add_argument("--json", action="store_true", help="print the result as JSON")
    p.set_defaults(func=cmd_enrol)


def cmd_enrol(args: argparse.Namespace) -> int:
    """Record the recognition of a cluster in a programme (the same recognition again changes nothing).

    Args:
        args: ``programme``, ``region``, ``cluster``, ``recognised_on``, ``by``, ``json``.

    Returns:
        0 (created or unchanged); 1 when the cluster is enrolled with another date.

    Raises:
        UsageError: Unknown programme, or a region outside the programme's province (exit code 2).
    """
    from review_calendar.decide.recognition import record_enrolment
    from review_calendar.store.db import session_scope, upgrade
    from review_calendar.store.tables.registry import Region

    programme = programme_named(args.programme)
    settings = get_settings()
    upgrade(settings.db_url)
    with session_scope(settings.db_url) as session:
        region = session.get(Region, args.region)
        if region is None or not region.code.startswith(programme.region_prefix):
            raise UsageError(f"行政区划代码“{args.region}”不在{programme.name}的范围内")
        try:
            result = record_enrolment(
                session, programme, region.code, args.cluster, args.recognised_on, recorded_by=args.by
            )
        except ValueError as exc:
            print_error(str(exc))
            return EXIT_DOMAIN
    out = {
        "programme": programme.id,
        "cluster_id": result.cluster_id,
        "status": result.status,
        "recognised_on": result.recognised_on.isoformat(),
        "valid_until": result.valid_until.isoformat(),
    }
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
    else:
        done = {"created": "已登记认定", "unchanged": "认定已登记，未重复处理"}.get(
            result.status, result.status
        )
        print(f"{done}：{programme.name} {result.cluster_id} {out['recognised_on']}至{out['valid_until']}")
    return EXIT_OK
