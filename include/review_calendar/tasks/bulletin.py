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
    """Rank the quarter, write the HTML and Excel bulletin to the reports folder, propose to send it.

    The bulletin goes out in the department's name, so sending it to the cities is
    a proposal (kind ``bulletin``, 待审定) a reviewer approves; :func:`send_approved_bulletin`
    queues it then. A dry run writes the files (for a look) and proposes nothing.

    Returns:
        The bulletin's counts and the file paths.
    """
    from review_calendar.decide.bulletin import rank_bulletin
    from review_calendar.decide.proposals import record_proposal
    from review_calendar.domain.verdicts import Verdict
    from review_calendar.report.bulletin import bulletin_title, write_bulletin

    bulletin = rank_bulletin(session, programme, instance)
    paths = write_bulletin(get_settings().reports_dir, programme, instance, bulletin)
    commended = [r.get("base_name") or r["base"] for r in bulletin.ranking if r["commended"]]
    title = bulletin_title(programme, instance)
    obligation = programme.obligation(instance.obligation_id)
    verdict = Verdict(
        subject=f"{instance.obligation_id}/{instance.period}",
        outcome="commended" if commended else "not_commended",
        reason=f"{title}：拟通报表彰 {len(commended)} 个（{'、'.join(commended) or '无'}），发送各市工业和信息化局",
        rule=f"programmes/{programme.id}.yaml: bulletin_indicators, bulletin_commend_top",
        clause=obligation.clause,
        figures={"state": "proposed", "title": title, "commended_names": commended, "files": paths,
                 "obligation_id": instance.obligation_id, "period": instance.period, "as_of": as_of,
                 **bulletin.summary()},
    )  # fmt: skip
    if not dry_run:
        record_proposal(
            session, programme, instance.cycle_year, "bulletin", verdict, f"bulletin:{instance.key}"
        )
    log.info("Bulletin %s: %s, files %s (proposed)", instance.key, bulletin.summary(), paths)
    return {**bulletin.summary(), "files": paths, "proposed": not dry_run}


def send_approved_bulletin(
    session: Session, programme: Programme, decision: Any, outcome: str, by: str
) -> None:
    """Queue an approved bulletin to every city bureau (the effect of a ``bulletin`` proposal)."""
    from review_calendar.domain.programmes import find_instance
    from review_calendar.notify.bulletin import queue_bulletin

    figures = decision.figures
    instance = find_instance(programme, decision.cycle_year, figures["obligation_id"], figures["period"])
    commended = figures.get("commended_names", []) if outcome == "commended" else []
    queue_bulletin(session, programme, instance, title=figures["title"], commended=commended,
                   attachments=[figures["files"]["xlsx"], figures["files"]["html"]],
                   created_on=dt.datetime.now(dt.UTC).date())  # fmt: skip


def _register() -> None:
    from review_calendar.decide.effects import register

    register("bulletin", send_approved_bulletin)


_register()
