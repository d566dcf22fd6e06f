"""Recording a fact only the province or MIIT knows: the one way in for the form DAG and the CLI.

``review-calendar record ...`` and the ``record_fact`` DAG's entry form both call
:func:`record_fact`, so a fact is checked, keyed and stored the same way
whoever enters it, with who (the CLI's ``--by`` or the Airflow user who
triggered the form) and when. A recorded re-review result of a base becomes a
proposal for a reviewer at once (never applied); MIIT's recorded decision on a
cluster closes its pending recommendation and proposals and is applied to the
enrolment, since MIIT decided it. A county's request for more time
(``extension_request``) becomes a proposal to grant it (never applied before
a reviewer answers).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

from review_calendar.settings import get_settings

if TYPE_CHECKING:
    from collections.abc import Mapping

log = logging.getLogger(__name__)

#: Kinds whose subject must be a cluster (base) of our records.
CLUSTER_SUBJECTS = ("visit", "miit_decision", "re_review")


def _date(value: Any) -> dt.date | None:
    if value in (None, ""):
        return None
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def record_fact(
    programme_id: str, kind: str, values: Mapping[str, Any], *, by: str, source: str, run_id: str = ""
) -> dict[str, Any]:
    """Check and store one fact; the same fact again updates it.

    Args:
        programme_id: The programme.
        kind: ``visit``, ``meeting``, ``miit_decision``, ``recognition``, ``re_review`` or
            ``extension_request``.
        values: ``year``, ``period``, ``subject``, ``date`` (ISO), ``outcome``, ``reference``,
            ``expert``, ``note``, ``obligation``, ``reason`` (the ones the kind needs; empty
            values are ignored). A request for more time: ``subject`` is the region code,
            ``date`` the date asked for.
        by: Who records it.
        source: ``cli`` or ``airflow``.
        run_id: The Airflow run (or CLI run name) kept with a re-review proposal.

    Returns:
        ``{"id", "kind", "key", "new", "recorded_by", "recorded_at", "proposal", "ministry"}``.

    Raises:
        review_calendar.domain.facts.FactError: The fact is incomplete or inconsistent,
            or its base is not in our records (message in Chinese).
        review_calendar.domain.programmes.UnknownProgramme: No such programme.
    """
    from review_calendar.decide.bulletin import propose_re_review
    from review_calendar.decide.extensions import propose_extension
    from review_calendar.decide.proposals import record_ministry_decision
    from review_calendar.domain.facts import Fact, FactError
    from review_calendar.domain.labels import FACT_KINDS
    from review_calendar.domain.programmes import load_programme
    from review_calendar.store.db import session_scope, upgrade
    from review_calendar.store.facts import save_fact
    from review_calendar.store.tables.registry import Cluster, Enrolment

    programme = load_programme(programme_id)
    if kind not in programme.recorded_facts:
        allowed = "、".join(FACT_KINDS[k] for k in programme.recorded_facts) or "无"
        raise FactError(
            f"{programme.name}不记录“{FACT_KINDS.get(kind, kind)}”（本项目可记录：{allowed}），请检查项目是否选对"
        )
    details = {
        k: str(values[k]).strip()
        for k in ("expert", "note", "place", "obligation", "reason")
        if values.get(k)
    }
    year = values.get("year")
    fact = Fact(
        programme_id=programme.id, kind=kind, cycle_year=int(year) if year not in (None, "") else None,
        period=str(values.get("period") or ""), subject=str(values.get("subject") or "").strip(),
        on_date=_date(values.get("date")), outcome=str(values.get("outcome") or ""),
        reference=str(values.get("reference") or "").strip(), details=details,
    )  # fmt: skip
    settings = get_settings()
    upgrade(settings.db_url)
    with session_scope(settings.db_url) as session:
        if kind in CLUSTER_SUBJECTS and fact.subject:
            if session.get(Cluster, fact.subject) is None:
                raise FactError(f"审查库中没有集群或基地“{fact.subject}”")
            if session.get(Enrolment, (programme.id, fact.subject)) is None:
                raise FactError(f"“{fact.subject}”不是{programme.name}的认定对象，请检查项目和编号")
        if kind == "extension_request":
            check_extension_request(session, programme, fact)
        row, new = save_fact(session, fact, recorded_by=by, source=source)
        proposal: Any = ""
        if kind == "re_review":
            proposal = propose_re_review(session, programme, row, run_id or f"{source}:{by}")
        elif kind == "extension_request":
            proposal = propose_extension(session, programme, row, run_id or f"{source}:{by}")
        ministry = record_ministry_decision(session, programme, row) if kind == "miit_decision" else None
        result = {"id": row.id, "kind": kind, "key": row.natural_key, "new": new, "recorded_by": row.recorded_by,
                  "recorded_at": row.recorded_at.isoformat(), "proposal": proposal,
                  "ministry": ministry}  # fmt: skip
    log.info(
        "Recorded %s %s of %s by %s (%s)", kind, result["key"], programme_id, by, "new" if new else "updated"
    )
    return result


def check_extension_request(session: Any, programme: Any, fact: Any) -> None:
    """A request for more time names a real instance and region, and a date after the current due date.

    Raises:
        review_calendar.domain.facts.FactError: It does not (message in Chinese).
    """
    from review_calendar.decide.extensions import current_due
    from review_calendar.domain.facts import FactError, checked
    from review_calendar.domain.programmes import find_instance
    from review_calendar.store.tables.registry import Region

    fact = checked(fact)
    obligation = fact.details["obligation"]
    try:
        instance = find_instance(programme, fact.cycle_year, obligation, fact.period)
    except KeyError:
        raise FactError(
            f"{programme.name}{fact.cycle_year}年度没有报送事项“{obligation}”（{fact.period}），请检查事项和期次"
        ) from None
    if instance.kind == "ad_hoc":
        raise FactError(f"“{instance.title}”随时报送，没有截止日期，无需申请延期")
    if session.get(Region, fact.subject) is None:
        raise FactError(f"审查库中没有行政区划代码“{fact.subject}”")
    due = current_due(session, instance, fact.subject)
    if fact.on_date <= due:
        raise FactError(f"申请延至的日期 {fact.on_date} 不晚于现在的截止日期 {due}，无需延期")
