"""Tables fed by accepted submissions: one projection per dataset that feeds one.

An accepted contact list is also the table of reminder recipients
(``contacts``); accepted evaluation scores are the evaluation of each enrolled
cluster (``evaluations``). Each projection upserts by its natural key, so a
corrected resubmission replaces what the earlier file projected.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from review_calendar.store.db import upsert
from review_calendar.store.tables.registry import Cluster, Contact, Enrolment, Evaluation

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from review_calendar.domain.programmes import ObligationInstance, Programme

__all__ = ["PROJECTIONS", "Projection", "project"]

Record = Mapping[str, Any]
#: (session, programme, instance, submission id, records of the dataset) → None.
Projection = Callable[["Session", "Programme", "ObligationInstance", int, Sequence[Record]], None]


def _contacts(
    session: Session,
    programme: Programme,
    instance: ObligationInstance,
    submission_id: int,
    records: Sequence[Record],
) -> None:
    """Contact list → ``contacts``, one row per (region, role) of the cycle."""
    rows = [
        {
            "programme_id": programme.id,
            "cycle_year": instance.cycle_year,
            "region_code": r["region_code"],
            "role": r["role"],
            "name": r.get("name") or "",
            "post": r.get("post") or "",
            "office_phone": r.get("office_phone") or "",
            "mobile": r.get("mobile") or "",
            "email": r.get("email") or "",
            "submission_id": submission_id,
        }
        for r in records
    ]
    upsert(session, Contact, rows, ["programme_id", "cycle_year", "region_code", "role"])


def _evaluations(
    session: Session,
    programme: Programme,
    instance: ObligationInstance,
    submission_id: int,
    records: Sequence[Record],
) -> None:
    """Evaluation scores → ``evaluations``, one row per enrolled cluster of the cycle.

    A row names its cluster by region and name; a region with a single
    enrolled cluster needs no exact name. Rows of no enrolled cluster are skipped.
    """
    clusters = {
        (c.region_code, c.name): c.id
        for c in session.scalars(
            select(Cluster)
            .join(Enrolment, Enrolment.cluster_id == Cluster.id)
            .where(Enrolment.programme_id == programme.id)
        )
    }
    by_region: dict[str, list[str]] = {}
    for (region, _name), cluster_id in clusters.items():
        by_region.setdefault(region, []).append(cluster_id)
    rows = []
    for r in records:
        cluster_id = clusters.get((r.get("region_code"), r.get("cluster_name")))
        if cluster_id is None and len(by_region.get(r.get("region_code"), [])) == 1:
            cluster_id = by_region[r["region_code"]][0]
        if cluster_id is None:
            continue
        rows.append(
            {
                "programme_id": programme.id,
                "cycle_year": instance.cycle_year,
                "cluster_id": cluster_id,
                "evaluator": r.get("evaluator") or "",
                "score": float(r["score"]),
                "violation": r.get("violation") == "是",
                "note": r.get("violation_note") or "",
                "submission_id": submission_id,
            }
        )
    upsert(session, Evaluation, rows, ["programme_id", "cycle_year", "cluster_id"])


#: The projection of each dataset that feeds another table.
PROJECTIONS: dict[str, Projection] = {"contact_list": _contacts, "evaluation_scores": _evaluations}


def project(
    session: Session,
    programme: Programme,
    instance: ObligationInstance,
    submission_id: int,
    records: Mapping[str, Sequence[Record]],
) -> None:
    """Update the tables fed by an accepted submission of the instance's dataset, if any.

    Args:
        session: The file's transaction.
        programme: The programme.
        instance: The obligation instance.
        submission_id: The accepted submission.
        records: Its records by dataset id.
    """
    dataset = programme.obligation(instance.obligation_id).dataset
    projection = PROJECTIONS.get(dataset or "")
    if projection is not None:
        projection(session, programme, instance, submission_id, records.get(dataset or "", []))
