"""Proposing the decisions of an instance: evaluation outcomes and re-reviews.

:mod:`review_calendar.decide.rules` holds the pure rules; this module gathers
their inputs from our records (scores, submissions, reviewers' findings, the
subsidy ledger) and records every verdict once as a proposal (state
``proposed``, 待审定) with its rule and figures. Nothing is applied here: a
named reviewer answers each proposal in Airflow's Required Actions and only
then :mod:`review_calendar.decide.effects` changes a status, books a claw-back
or extends a validity. A proposal already answered is never overwritten by a
re-run. Programme C's bulletin and Programme D's subsidies are in
:mod:`.bulletin` and :mod:`.subsidies`.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from review_calendar.aggregate.states import ON_TIME_STATES, states_by_region
from review_calendar.decide.proposals import record_proposal
from review_calendar.decide.rules import (
    RECOMMENDATIONS,
    ReReviewInput,
    evaluation_verdict,
    re_review_verdict,
)
from review_calendar.domain.programmes import find_instance
from review_calendar.domain.verdicts import decision_state
from review_calendar.store.frames import load_instance_frame
from review_calendar.store.queries import accepted_regions
from review_calendar.store.tables.registry import Cluster, Enrolment, Evaluation
from review_calendar.store.tables.review import Finding, Subsidy

if TYPE_CHECKING:
    from collections.abc import Mapping

    import pandas as pd
    from sqlalchemy.orm import Session

    from review_calendar.domain.programmes import ObligationInstance, Programme

log = logging.getLogger(__name__)
ACTIVE = ("active", "extended")


def _enrolments_in_cycle(
    session: Session, programme: Programme, year: int
) -> list[tuple[Enrolment, Cluster]]:
    """Active or extended enrolments whose validity overlaps ``year``, by region and cluster."""
    start, end = dt.date(year, 1, 1), dt.date(year, 12, 31)
    stmt = (
        select(Enrolment, Cluster)
        .join(Cluster, Cluster.id == Enrolment.cluster_id)
        .where(
            Enrolment.programme_id == programme.id,
            Enrolment.recognised_on <= end,
            Enrolment.valid_until >= start,
        )
        .order_by(Cluster.region_code, Cluster.id)
    )
    return [(e, c) for e, c in session.execute(stmt) if e.status in ACTIVE]


def _granted_wan_yuan(session: Session, programme: Programme, beneficiary: str) -> float:
    """Subsidy granted to ``beneficiary`` so far, in 万元."""
    granted = session.scalar(
        select(func.coalesce(func.sum(Subsidy.amount_wan_yuan), 0.0)).where(
            Subsidy.programme_id == programme.id,
            Subsidy.beneficiary == beneficiary,
            Subsidy.kind == "granted",
        )
    )
    return float(granted or 0)


def decide_evaluations(
    session: Session, programme: Programme, instance: ObligationInstance, run_id: str, dry_run: bool
) -> dict[str, Any]:
    """Evaluation outcome of every enrolled cluster.

    冀工信产业〔2016〕93号 五 for the Hebei pilots: continued support under the
    configured bands, revocation and claw-back only for a violation in
    construction or use of funds. A monitoring evaluation (工信部企业〔2022〕119号
    第十六条) records each score for the report to MIIT and applies nothing.

    Args:
        session: Open session; the caller commits.
        programme: Programme with ``evaluation`` rules.
        instance: The evaluation instance (its cycle year selects the scores).
        run_id: The deciding run, kept with each decision.
        dry_run: Record the verdicts but change no enrolment and book no claw-back.

    Returns:
        ``{"kind": "evaluation", "outcomes": {outcome: count}, "dry_run": ...}``.
    """
    year = instance.cycle_year
    scores = {
        e.cluster_id: e
        for e in session.scalars(
            select(Evaluation).where(Evaluation.programme_id == programme.id, Evaluation.cycle_year == year)
        )
    }
    outcomes: dict[str, int] = {}
    for _enrolment, cluster in _enrolments_in_cycle(session, programme, year):
        score = scores.get(cluster.id)
        verdict = evaluation_verdict(
            programme,
            cluster.id,
            score.score if score else None,
            bool(score and score.violation),
            _granted_wan_yuan(session, programme, cluster.id),
        )
        verdict.figures.update(cluster=cluster.name, region_code=cluster.region_code)
        if decision_state(verdict.figures) == "decided":
            # The department's word needs a named reviewer: a proposal until answered (decide.answers).
            verdict.figures["state"] = "proposed"
        outcomes[verdict.outcome] = outcomes.get(verdict.outcome, 0) + 1
        if not dry_run:
            record_proposal(session, programme, year, "evaluation", verdict, run_id)
    return {"kind": "evaluation", "outcomes": outcomes, "dry_run": dry_run}


def _rows_by_region(frame: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """The rows of an instance frame keyed by region code (one row per region)."""
    if frame.empty:
        return {}
    return {r["region_code"]: r for r in frame.to_dict("records")}


@dataclass
class _ReReviewRecords:
    """What our records hold for the re-reviews of a year, keyed by region code."""

    materials: dict[str, dict[str, Any]] = field(default_factory=dict)
    tables: dict[str, dict[str, Any]] = field(default_factory=dict)
    history: dict[str, dict[int, dict[str, Any]]] = field(default_factory=dict)
    table_on_time: dict[str, bool] = field(default_factory=dict)
    year: int = 0


def _re_review_records(
    session: Session, programme: Programme, instance: ObligationInstance
) -> _ReReviewRecords:
    """The re-review materials, the year's annual tables, the two years before, and which table came on time."""
    year = instance.cycle_year
    records = _ReReviewRecords(
        materials=_rows_by_region(load_instance_frame(session, instance, "rereview_materials")), year=year
    )
    annual_ids = [o.id for o in programme.obligations if o.dataset == "annual_info_table"]
    if not annual_ids:
        return records
    annual = find_instance(programme, year, annual_ids[0])
    records.tables = _rows_by_region(load_instance_frame(session, annual))
    depth = max((n for c in programme.criteria for n in c.series().values()), default=1)
    for back in range(depth - 1, 0, -1):
        try:
            past = find_instance(programme, year - back, annual.obligation_id)
        except KeyError:
            continue
        for code, row in _rows_by_region(load_instance_frame(session, past)).items():
            records.history.setdefault(code, {})[year - back] = row
    # On time by the one submission-state rule: a table corrected after an on-time file stays on time.
    received = accepted_regions(session, annual)
    states = states_by_region(session, annual, dt.date.max, received)
    records.table_on_time = {code: states[code].state in ON_TIME_STATES for code in received}
    return records


def _expiring_enrolments(
    session: Session, programme: Programme, year: int
) -> list[tuple[Enrolment, Cluster]]:
    """Active or extended enrolments whose validity ends in ``year``, by cluster id."""
    stmt = (
        select(Enrolment, Cluster)
        .join(Cluster, Cluster.id == Enrolment.cluster_id)
        .where(Enrolment.programme_id == programme.id)
    )
    expiring = [(e, c) for e, c in session.execute(stmt) if e.valid_until.year == year and e.status in ACTIVE]
    return sorted(expiring, key=lambda ec: ec[1].id)


def _indicators(
    materials: Mapping[str, Any],
    table: Mapping[str, Any],
    past: Mapping[int, dict[str, Any]],
    series: Mapping[str, int],
    year: int,
) -> dict[str, Any]:
    """Criterion indicators of one cluster: this year's table, with yearly series where a criterion needs them.

    A series is the earlier years' annual tables then this year's, oldest first;
    a year without a table gives None (so the criterion is undeterminable). The
    re-review materials' three yearly outputs replace the tables' output levels
    when the tables lack any of those years.
    """
    indicators = {k: v for k, v in table.items() if k != "region_code"}
    for key, length in series.items():
        if length < 2:
            continue
        earlier = [past.get(y, {}).get(key) for y in range(year - length + 1, year)]
        indicators[key] = [*earlier, table.get(key) if table else None]
    outputs = [materials.get(f"output_year{i}_yi") for i in (1, 2, 3)] if materials else []
    levels = indicators.get("output_yi")
    if (
        outputs
        and all(v is not None for v in outputs)
        and (not isinstance(levels, list) or any(v is None for v in levels[-3:]))
    ):
        indicators["output_yi"] = outputs
    return indicators


def _series(programme: Programme) -> dict[str, int]:
    """Every indicator field the criteria read, with the longest yearly series any of them needs."""
    out: dict[str, int] = {}
    for c in programme.criteria:
        for key, length in c.series().items():
            out[key] = max(out.get(key, 1), length)
    return out


def _re_review_input(
    session: Session, programme: Programme, records: _ReReviewRecords, enrolment: Enrolment, cluster: Cluster
) -> ReReviewInput:
    """What the re-review of one cluster knows: materials, indicators, table on time, findings."""
    code = cluster.region_code
    materials, table = records.materials.get(code, {}), records.tables.get(code, {})
    found = session.scalars(
        select(Finding.condition).where(
            Finding.programme_id == programme.id,
            Finding.cluster_id == cluster.id,
            Finding.cycle_year >= enrolment.recognised_on.year,
        )
    )
    incident = ("major_incident",) if table.get("major_incident") == "是" else ()
    return ReReviewInput(
        cluster_id=cluster.id,
        applied=materials.get("applies") == "是",
        targets_total=materials.get("targets_total"),
        targets_completed=materials.get("targets_completed"),
        indicators=_indicators(
            materials, table, records.history.get(code, {}), _series(programme), records.year
        ),
        annual_table_on_time=records.table_on_time.get(code, False),
        findings=tuple(found) + incident,
    )


def decide_re_reviews(
    session: Session, programme: Programme, instance: ObligationInstance, run_id: str, dry_run: bool
) -> dict[str, Any]:
    """Re-review of every expiring recognition.

    工信部企业〔2022〕119号 第十五条 (MIIT re-reviews at expiry, +3 years on passing)
    and 第十七条 (the grounds on which MIIT revokes): where the ministry decides,
    each verdict is the province's recommendation (a proposal for a reviewer,
    then MIIT's decision) and no enrolment changes; an undeterminable cluster
    is never extended.

    Args:
        session: Open session; the caller commits.
        programme: Programme with ``re_review`` rules.
        instance: The re-review instance (its cycle year selects the expiring recognitions).
        run_id: The deciding run, kept with each decision.
        dry_run: Record the verdicts but change no enrolment.

    Returns:
        ``{"kind": "re_review", "outcomes": {outcome: count}, "expiring": n, "dry_run": ...}``.
    """
    year = instance.cycle_year
    records = _re_review_records(session, programme, instance)
    expiring = _expiring_enrolments(session, programme, year)
    outcomes: dict[str, int] = {}
    for enrolment, cluster in expiring:
        data = _re_review_input(session, programme, records, enrolment, cluster)
        verdict = re_review_verdict(programme, data, enrolment.valid_until)
        verdict.figures.update(cluster=cluster.name, region_code=cluster.region_code)
        if decision_state(verdict.figures) == "decided":
            verdict.figures["state"] = "proposed"
        outcomes[verdict.outcome] = outcomes.get(verdict.outcome, 0) + 1
        if not dry_run:
            record_proposal(session, programme, year, "re_review", verdict, run_id)
            if verdict.outcome in RECOMMENDATIONS:
                enrolment.status_reason = f"期满复核：{verdict.reason}（待审定后报工业和信息化部决定）"
    return {"kind": "re_review", "outcomes": outcomes, "expiring": len(expiring), "dry_run": dry_run}
