"""Entry points the DAG tasks call: one function per task, settings resolved here.

Each function takes plain arguments (programme id, year, dates, run id),
returns a small JSON-serialisable summary for XCom (ids, counts, paths: never
rows), and does all I/O through the review database and the working folder.
"""

from __future__ import annotations

import logging
from typing import Any

from review_calendar.config import get_settings

log = logging.getLogger(__name__)


def load_programme(programme_id: str) -> Any:
    """The programme ``programme_id`` from the configured folder."""
    from review_calendar.programmes import load_programme_file

    return load_programme_file(get_settings().programmes_dir / f"{programme_id}.yaml")


def record_calendar(programme_id: str, year: int) -> dict[str, Any]:
    """Record the obligation instances of a cycle; warn about years without holiday data.

    Returns:
        ``{"programme", "year", "instances": [{"obligation", "period", "statutory_due", "effective_due"}], "warnings"}``
    """
    from review_calendar.calendar import default_calendar
    from review_calendar.cycle import record_instances
    from review_calendar.storage.db import upgrade

    settings = get_settings()
    upgrade(settings.db_url)
    programme = load_programme(programme_id)
    instances = record_instances(settings.db_url, programme, year)
    warnings = default_calendar().warnings({year, year + 1})
    for w in warnings:
        log.warning(w)
    return {
        "programme": programme_id,
        "year": year,
        "instances": [
            {
                "obligation": i.obligation_id,
                "period": i.period,
                "statutory_due": i.statutory_due.isoformat(),
                "effective_due": i.effective_due.isoformat(),
            }
            for i in instances
        ],
        "warnings": warnings,
    }
