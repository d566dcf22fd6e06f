"""E-mailing Programme C's quarterly bulletin to the city bureaus, with the bulletin attached.

One message per city (its best contact), queued under the natural key
``bulletin|instance|city|bulletin|address``: a re-run queues nothing twice.
Cities without a usable contact are returned, for the province to reach otherwise.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from review_calendar.notify.outbox import queue
from review_calendar.notify.recipients import ContactBook
from review_calendar.notify.render import environment, one_line

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Sequence

    from sqlalchemy.orm import Session

    from review_calendar.domain.programmes import ObligationInstance, Programme

log = logging.getLogger(__name__)


def queue_bulletin(
    session: Session,
    programme: Programme,
    instance: ObligationInstance,
    *,
    title: str,
    commended: Sequence[str],
    attachments: Sequence[str],
    created_on: dt.date,
) -> dict[str, list[str]]:
    """Queue the bulletin to every city bureau of the programme's province.

    Args:
        session: Open session; the caller commits.
        programme: Programme C.
        instance: The quarter's instance.
        title: The bulletin's title.
        commended: Names of the commended bases and targets.
        attachments: The bulletin files (Excel, HTML).
        created_on: The planning day.

    Returns:
        ``{"queued": [city codes], "unreachable": [city codes]}``.
    """
    book = ContactBook.load(session, programme, instance.cycle_year)
    cities = sorted(code for code, r in book.regions.items() if r.level == "city")
    out: dict[str, list[str]] = {"queued": [], "unreachable": []}
    for code in cities:
        to = book.best(code)
        if to is None:
            out["unreachable"].append(code)
            continue
        body = environment().get_template("bulletin.txt.j2").render(
            programme=programme, office=programme.office, title=title, addressee=book.region_name(code),
            commended=list(commended), clause=instance.clause,
        )  # fmt: skip
        if queue(session, kind="bulletin", programme_id=programme.id, instance_key=instance.key, region_code=code,
                 stage="bulletin", to=[to], subject=one_line(f"【{programme.short_name}】{title}"), body=body,
                 attachments=attachments, created_on=created_on):  # fmt: skip
            out["queued"].append(code)
    if out["unreachable"]:
        log.warning("Bulletin %s: no contact for cities %s", instance.key, out["unreachable"])
    return out
