"""Publishing the quarterly bulletin of Programme C: rank, write the files, e-mail the cities.

Across stages on purpose (decide → report → notify), so it lives with the task
entry points. Every step is idempotent: ranks are upserted, files rewritten,
e-mails queued under natural keys.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

from review_calendar.settings import get_settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from review_calendar.domain.programmes import ObligationInstance, Programme

log = logging.getLogger(__name__)


def publish_bulletin(
    session: Session, programme: Programme, instance: ObligationInstance, as_of: str, *, dry_run: bool = False
) -> dict[str, Any]:
    """Rank the quarter, write the HTML and Excel bulletin to the reports folder, queue it to every city.

    A dry run writes the files (for a look) and queues no e-mail.

    Returns:
        The bulletin's counts, the file paths and the cities queued / unreachable.
    """
    from review_calendar.decide.bulletin import rank_bulletin
    from review_calendar.notify.bulletin import queue_bulletin
    from review_calendar.report.bulletin import bulletin_title, write_bulletin

    bulletin = rank_bulletin(session, programme, instance)
    paths = write_bulletin(get_settings().reports_dir, programme, instance, bulletin)
    mail: dict[str, list[str]] = {"queued": [], "unreachable": []}
    if not dry_run:
        commended = [r.get("base_name") or r["base"] for r in bulletin.ranking if r["commended"]]
        mail = queue_bulletin(session, programme, instance, title=bulletin_title(programme, instance),
                              commended=commended, attachments=[paths["xlsx"], paths["html"]],
                              created_on=dt.date.fromisoformat(as_of))  # fmt: skip
    log.info("Bulletin %s: %s, files %s, e-mails %s", instance.key, bulletin.summary(), paths, mail)
    return {**bulletin.summary(), "files": paths, "emailed_cities": len(mail["queued"]),
            "unreachable_cities": mail["unreachable"]}  # fmt: skip
