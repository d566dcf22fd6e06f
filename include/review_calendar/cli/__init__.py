"""The operators' command line: ``review-calendar``.

One module per group of sub-commands, each with a ``register(subparsers)``:
:mod:`.programmes` (``deadlines``, ``programmes check``), :mod:`.database`
(``db upgrade``, ``regions load``), :mod:`.intake` (``ingest``, ``template``), :mod:`.inbox` (``inbox sweep``), :mod:`.mail` (``mail fetch``, ``mail held``),
:mod:`.findings` (``findings add``), :mod:`.remind` (``remind``), :mod:`.escalate` (``escalate``),
:mod:`.record` (``record visit|meeting|miit-decision|recognition|re-review``) and
:mod:`.enrol` (``enrol``: a recognition decided outside); what they
share (exit codes, usage errors, programme lookup) is in :mod:`.common`.

Exit codes: 0 success, 1 a domain failure (invalid programme or region file,
rejected submission, failed gate), 2 a usage error (unknown programme, bad argument).
"""

from __future__ import annotations

import logging
import os
import sys
from typing import TYPE_CHECKING

from review_calendar.cli import (
    database,
    decisions,
    enrol,
    escalate,
    findings,
    inbox,
    intake,
    mail,
    programmes,
    record,
    remind,
)
from review_calendar.cli.common import (
    EXIT_DOMAIN,
    EXIT_OK,
    EXIT_USAGE,
    ChineseParser,
    UsageError,
    print_error,
)

if TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Sequence


GROUPS = (programmes, database, intake, inbox, mail, findings, remind, record, enrol, decisions, escalate)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The argument parser with the sub-command ``argv`` asks for, or with every one.

    Building every sub-command's parser is a noticeable part of a county's answer to
    ``review-calendar ingest`` from a cold start; a command line that names a known
    sub-command gets only that group's parsers (its ``COMMANDS``). Anything else (no
    sub-command, ``--help``, a typo) gets them all, so help and errors list every one.

    Args:
        argv: The arguments that will be parsed (None: build every sub-command).

    Returns:
        The ``review-calendar`` parser; each sub-command sets ``func``, which
        takes the parsed arguments and returns the exit code.
    """
    parser = ChineseParser(prog="review-calendar", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress")
    sub = parser.add_subparsers(dest="command", required=True)
    args = list(argv or ())
    command = next((a for a in args if not a.startswith("-")), None)
    # ``-h ingest`` asks for the top-level help: every sub-command.
    top_help = command is None or any(a in ("-h", "--help") for a in args[: args.index(command)])
    asked = [] if top_help else [group for group in GROUPS if command in group.COMMANDS]
    for group in asked or GROUPS:
        group.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line.

    Args:
        argv: Arguments without the program name (default: ``sys.argv[1:]``).

    Returns:
        The exit code: 0 success, 1 domain failure, 2 usage error.
    """
    argv = sys.argv[1:] if argv is None else argv
    # pydantic looks for plugins among the entry points of every installed package when it builds
    # its first model (about 10 ms of a county's answer from a cold start); this project uses none.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
    args = build_parser(argv).parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s"
    )
    func: Callable[[argparse.Namespace], int] = args.func
    try:
        return func(args)
    except UsageError as exc:
        print_error(str(exc))
        return EXIT_USAGE
    except BrokenPipeError:
        # The reader of our output went away (``... --json | head``): stop quietly.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OK
    except Exception as exc:
        fault = _database_fault(exc)
        if fault is None:
            raise
        print_error(fault)
        return EXIT_DOMAIN


def _database_fault(exc: Exception) -> Exception | None:
    """A review database that cannot be read or written, as one line naming it (None: another error)."""
    from sqlalchemy.exc import OperationalError

    from review_calendar.store.faults import DatabaseFault, database_fault

    if isinstance(exc, DatabaseFault):
        return exc
    if isinstance(exc, OperationalError):
        from review_calendar.settings import get_settings

        return database_fault(exc, get_settings().db_url)
    return None
