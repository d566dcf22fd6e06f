"""A verdict: what was decided about one subject, why, under which rule and clause.

The rules of ``decide`` return verdicts, intake and the gate produce them too, and
``store.decision_log`` records them. The type lives here, below every stage, so
each of them can build or store a verdict without importing a later stage.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from review_calendar.domain.labels import DECISION_STATES, label, period_label

if TYPE_CHECKING:
    from collections.abc import Mapping


@dataclass(frozen=True, slots=True)
class Verdict:
    """A decision about one subject, with its reason in Chinese and its audit data.

    Attributes:
        subject: What the decision is about (a cluster id, a firm, a file, ``obligation/period``).
        outcome: The outcome code; its Chinese label is ``domain.labels.OUTCOMES[outcome]``.
        reason: Why, in Chinese, with the figures that decided it.
        rule: Where the rule is configured (``programmes/<id>.yaml: evaluation``...).
        clause: The clause of the source document the rule applies.
        figures: The figures the rule used (scores, shares, amounts in 万元, dates as ISO text).
    """

    subject: str
    outcome: str
    reason: str
    rule: str
    clause: str
    figures: dict[str, Any] = field(default_factory=dict)


#: States in which a recorded decision is not (yet) the department's word: nothing is mailed or applied.
PENDING_STATES = ("proposed", "for_report", "awaiting_ministry")
#: States a person (a reviewer, or MIIT through a recorded fact) put a decision in: a re-run keeps them.
ANSWERED_STATES = ("approved", "changed", "returned", "awaiting_ministry", "ministry_decided")


def decision_state(figures: dict[str, Any] | None) -> str:
    """The state of a recorded decision (``figures["state"]``); a verdict without one was decided."""
    return str((figures or {}).get("state") or "decided")


def announceable(figures: dict[str, Any] | None) -> bool:
    """A decision may be announced to its cluster: it is decided, not a proposal or a figure for a report."""
    return decision_state(figures) not in PENDING_STATES


def state_label(figures: dict[str, Any] | None) -> str:
    """The state of a recorded decision in Chinese (待审定, 已报工业和信息化部，待部里决定...)."""
    return label(DECISION_STATES, decision_state(figures))


def subject_label(
    subject: str,
    figures: Mapping[str, Any] | None,
    obligation_titles: Mapping[str, str] | None = None,
    cluster_names: Mapping[str, str] | None = None,
) -> str:
    """What a decision is about, in words: the one naming rule of the Required Action, e-mails and pages.

    A cluster's decision is named by the cluster (``cluster_names`` by id first, then the
    ``cluster_name`` / ``cluster`` the rule recorded). A file, request or bulletin is named by
    its region and obligation: ``蠡县·发展规划（第一季度）“规划.pdf”``. The raw subject
    (``development_plan/Y/130109/49``) is the last resort.

    Args:
        subject: The decision's subject (``cluster``, ``cluster/ground`` or ``obligation/period/region/id``).
        figures: The decision's figures (``cluster``, ``region_name``, ``obligation_title``, ``period``, ``file_name``, ``title``).
        obligation_titles: Obligation titles by id (the programme's), for subjects that start with one.
        cluster_names: Cluster names by id, when the caller has them from the store.
    """
    f = figures or {}
    parts = subject.split("/")
    name = (cluster_names or {}).get(parts[0]) or f.get("cluster_name") or f.get("cluster")
    if name:
        return str(name)
    title = f.get("obligation_title") or (obligation_titles or {}).get(parts[0])
    region = str(f.get("region_name") or "")
    if not title:
        detail = str(f.get("file_name") or f.get("title") or "")
        if region and detail:
            return f"{region}（{detail}）"
        return region or detail or subject
    period = period_label(str(f.get("period") or (parts[1] if len(parts) > 1 else "Y")))
    file_name = f.get("file_name")
    return "".join(
        (
            region,
            "·" if region else "",
            str(title),
            f"（{period}）" if period else "",
            f"“{file_name}”" if file_name else "",
        )
    )
