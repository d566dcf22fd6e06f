"""A verdict: what was decided about one subject, why, under which rule and clause.

The rules of ``decide`` return verdicts, intake and the gate produce them too, and
``store.decision_log`` records them. The type lives here, below every stage, so
each of them can build or store a verdict without importing a later stage.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from review_calendar.domain.labels import DECISION_STATES, label


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
