"""The demonstration's own command line, ``python -m review_calendar_demo``.

``seed`` creates or migrates the review database of ``REVIEW_CALENDAR_DB_URL``
and loads the demo province (real Hebei regions, clusters, enrolments,
subsidies; idempotent). The operators' ``review-calendar`` has no demo
command: production loads the official region table with ``review-calendar
regions load FILE``.
"""

from __future__ import annotations

import argparse
import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Sequence


def cmd_seed(args: argparse.Namespace) -> int:
    """Migrate the review database and load the demo province into it.

    Args:
        args: ``as_of`` (a date or None: Jan 1 of the demo year).

    Returns:
        0.
    """
    from review_calendar.settings import get_settings
    from review_calendar.store.db import upgrade
    from review_calendar_demo.seed import seed_demo

    url = get_settings().db_url
    upgrade(url)
    counts = seed_demo(url, args.as_of)
    print("demo data loaded: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``python -m review_calendar_demo``."""
    from review_calendar.cli.common import iso_date

    parser = argparse.ArgumentParser(
        prog="python -m review_calendar_demo", description=__doc__.splitlines()[0]
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("seed", help="load the demo province (idempotent)")
    p.add_argument(
        "--as-of",
        type=iso_date,
        help="date that decides which new enrolments have ended, YYYY-MM-DD (default: Jan 1 of the demo year)",
    )
    p.set_defaults(func=cmd_seed)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo's command line and return its exit code."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    return args.func(args)
