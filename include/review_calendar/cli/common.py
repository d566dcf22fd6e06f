"""What every sub-command of ``review-calendar`` shares: exit codes, usage errors, lookups.

Exit codes: 0 success, 1 a domain failure (invalid programme or region file,
rejected submission, failed gate, SMTP unreachable), 2 a usage error (unknown
programme, obligation or file, bad argument).
"""

from __future__ import annotations

import argparse
import datetime as dt
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from review_calendar.domain.programmes import ObligationInstance, Programme

EXIT_OK, EXIT_DOMAIN, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """The operator asked for something that does not exist (exit code 2)."""


def iso_date(text: str) -> dt.date:
    """An ``argparse`` type for dates written ``YYYY-MM-DD``.

    Raises:
        argparse.ArgumentTypeError: ``text`` is not such a date (argparse exits with code 2).
    """
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def programme_named(programme_id: str) -> Programme:
    """Load a programme of the configured folder by its id.

    Args:
        programme_id: The file stem in the programmes folder, e.g. ``"hebei_smart_cluster"``.

    Returns:
        The validated programme.

    Raises:
        UsageError: No such programme file (the message lists the known ids), or the
            file is invalid.
    """
    from review_calendar.domain.programmes import ProgrammeError, load_programme

    try:
        return load_programme(programme_id)
    except ProgrammeError as exc:
        raise UsageError(str(exc)) from None


def instance_named(
    programme_id: str, year: int, obligation_id: str, period: str | None
) -> tuple[Programme, ObligationInstance]:
    """Find one obligation instance of a programme's cycle.

    Args:
        programme_id: Programme id (file stem).
        year: Cycle year.
        obligation_id: Obligation id within the programme.
        period: ``Q1``..``Q4``, ``H1``, ``H2`` or ``Y``; None for the obligation's first period.

    Returns:
        The programme and the instance.

    Raises:
        UsageError: Unknown programme, obligation or period (the message lists the known ones).
    """
    from review_calendar.domain.programmes import find_instance

    programme = programme_named(programme_id)
    try:
        obligation = programme.obligation(obligation_id)
    except KeyError:
        known = ", ".join(o.id for o in programme.obligations)
        raise UsageError(
            f"programme {programme.id} has no obligation {obligation_id!r}; known: {known}"
        ) from None
    try:
        first = obligation.due[0].period if obligation.due else "Y"
        return programme, find_instance(programme, year, obligation_id, period or first)
    except KeyError as exc:
        raise UsageError(str(exc).strip("'\"")) from None
