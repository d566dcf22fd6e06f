"""Applying Programme C's rules (:mod:`review_calendar.decide.henan`) to the review database.

The quarterly bulletin ranks the bases that reported the quarter's figures,
commends the best (how many: provincial configuration), flags every enrolled
base or cultivation target without a counselling visit recorded by the
province in the quarter, and states whether the half-year's observation
meeting was held. A recorded re-review result becomes a proposal for a
reviewer; no status changes here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from review_calendar.decide.henan import bulletin_ranking, meeting_state, re_review_proposal, without_visit
from review_calendar.domain.facts import quarter_bounds
from review_calendar.store.db import upsert
from review_calendar.store.decision_log import record_decision
from review_calendar.store.facts import facts_of
from review_calendar.store.frames import load_instance_frame
from review_calendar.store.tables.registry import Cluster, Enrolment
from review_calendar.store.tables.review import Aggregate

if TYPE_CHECKING:
    import datetime as dt

    from sqlalchemy.orm import Session

    from review_calendar.domain.programmes import ObligationInstance, Programme
    from review_calendar.store.tables.review import RecordedFact

AGGREGATE_KEY = ["programme_id", "cycle_year", "obligation_id", "period", "region_code", "metric"]
ACTIVE = ("active", "extended")


@dataclass
class Bulletin:
    """One quarter's bulletin: the ranking, the bases without a visit, the half-year meeting."""

    programme_id: str
    cycle_year: int
    period: str
    ranking: list[dict[str, Any]] = field(default_factory=list)
    without_visit: list[dict[str, str]] = field(default_factory=list)
    visits: list[dict[str, Any]] = field(default_factory=list)
    meeting: dict[str, Any] = field(default_factory=dict)
    re_reviews: list[dict[str, str]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """Counts for XCom."""
        return {"kind": "bulletin", "ranked": len(self.ranking), "commended": sum(r["commended"] for r in self.ranking),
                "no_visit": len(self.without_visit), "meeting": self.meeting.get("state", "")}  # fmt: skip


def _enrolled(session: Session, programme: Programme, start: dt.date, end: dt.date) -> dict[str, Cluster]:
    """Bases and cultivation targets enrolled and not revoked during ``start``..``end``, by cluster id."""
    stmt = (
        select(Enrolment, Cluster)
        .join(Cluster, Cluster.id == Enrolment.cluster_id)
        .where(Enrolment.programme_id == programme.id, Enrolment.recognised_on <= end, Enrolment.valid_until >= start)
    )  # fmt: skip
    return {c.id: c for e, c in session.execute(stmt) if e.status in ACTIVE}


def half_year_meeting(session: Session, programme: Programme, year: int, half: str) -> dict[str, Any]:
    """The observation meeting of a half-year as recorded: state, date, who recorded it."""
    found = facts_of(session, programme.id, "meeting", year=year, period=half)
    fact = found[-1] if found else None
    return {
        "period": half,
        "state": meeting_state(fact.outcome if fact else None),
        "on_date": fact.on_date.isoformat() if fact and fact.on_date else "",
        "recorded_by": fact.recorded_by if fact else "",
    }


def first_batch_re_reviews(session: Session, programme: Programme, year: int) -> list[dict[str, str]]:
    """Each first-batch base (enrolment category ``首批``) with the re-review result recorded for ``year``.

    A failed result is a proposal to withdraw the title (三（一）三) for a reviewer; nothing is applied.
    """
    results = {f.subject: f for f in facts_of(session, programme.id, "re_review", year=year)}
    stmt = (
        select(Enrolment, Cluster)
        .join(Cluster, Cluster.id == Enrolment.cluster_id)
        .where(Enrolment.programme_id == programme.id, Enrolment.category == "首批")
        .order_by(Cluster.id)
    )
    out = []
    for _, cluster in session.execute(stmt):
        fact = results.get(cluster.id)
        verdict = re_review_proposal(
            programme, cluster.id, fact.outcome if fact else None, fact.reference if fact else ""
        )
        out.append(
            {
                "cluster_id": cluster.id,
                "name": cluster.name,
                "outcome": verdict.outcome,
                "text": verdict.reason,
            }
        )
    return out


def rank_bulletin(session: Session, programme: Programme, instance: ObligationInstance) -> Bulletin:
    """Rank the quarter's bases, flag missing visits, read the meeting; store ranks as aggregates."""
    year, period = instance.cycle_year, instance.period
    start, end = quarter_bounds(year, period)
    enrolled = _enrolled(session, programme, start, end)
    visits = facts_of(session, programme.id, "visit", year=year, period=period)
    visited = {v.subject for v in visits}
    frame = load_instance_frame(session, instance, "henan_quarterly")
    records = frame.to_dict("records") if len(frame) else []
    by_region = {c.region_code: c.id for c in enrolled.values()}
    for r in records:
        r["cluster_id"] = by_region.get(r["region_code"], r["region_code"])
    ranking = bulletin_ranking(records, programme.bulletin_indicators, key="cluster_id", visited=visited,
                               commend_top=programme.bulletin_commend_top)  # fmt: skip
    bulletin = Bulletin(programme.id, year, period, ranking=ranking)
    bulletin.without_visit = [
        {"cluster_id": cid, "name": enrolled[cid].name, "region_code": enrolled[cid].region_code}
        for cid in without_visit(enrolled, visited)
    ]
    bulletin.visits = [{"cluster_id": v.subject, "name": enrolled[v.subject].name if v.subject in enrolled else v.subject,
                        "on_date": v.on_date.isoformat() if v.on_date else "", "expert": v.details.get("expert", ""),
                        "recorded_by": v.recorded_by} for v in visits]  # fmt: skip
    bulletin.re_reviews = first_batch_re_reviews(session, programme, year)
    bulletin.meeting = half_year_meeting(session, programme, year, "H1" if period in ("Q1", "Q2") else "H2")
    base = {
        "programme_id": programme.id,
        "cycle_year": year,
        "obligation_id": instance.obligation_id,
        "period": period,
    }
    rows = [
        {**base, "region_code": r["region_code"], "metric": "bulletin_rank", "value": float(r["rank"]),
         "text": "；".join(t for t in ("通报表彰" if r["commended"] else "",
                                       "本季度无专家辅导记录" if r["no_counselling_visit"] else "") if t)}
        for r in ranking
    ]  # fmt: skip
    upsert(session, Aggregate, rows, AGGREGATE_KEY)
    return bulletin


def propose_re_review(session: Session, programme: Programme, fact: RecordedFact, run_id: str) -> str:
    """Record the proposal that follows a recorded re-review result (kind ``base_re_review``).

    Returns:
        The proposal's outcome code; the base's enrolment is left as it is.
    """
    verdict = re_review_proposal(programme, fact.subject, fact.outcome, fact.reference)
    cluster = session.get(Cluster, fact.subject)
    if cluster is not None:
        verdict.figures.update(cluster=cluster.name, region_code=cluster.region_code)
    record_decision(session, programme.id, fact.cycle_year, "base_re_review", verdict, run_id)
    return verdict.outcome
