"""Programme C rules (豫工信办〔2012〕7号, Henan demonstration bases): pure functions.

- 三（五）之三：实行季度通报制度: every quarter the province ranks the bases' progress
  and commends (通报表彰) the bases and cultivation targets that progress fast
  and well. How many are commended is provincial configuration
  (``bulletin_commend_top``), not the document's.
- 三（二）一: the provincial expert group counsels the key cultivation targets at
  least once a quarter. Visits are what the province records (recorded facts),
  never a count a base reports about itself; a base or target without a
  recorded visit in the quarter is flagged.
- 三（二）二: an observation meeting every half-year, an event the province holds:
  held, not held, or not yet recorded. Nobody else owes anything for it.
- 三（一）三: first-batch bases are re-reviewed; a base that fails loses its
  title. The machine proposes, a reviewer decides: nothing here changes a status.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from review_calendar.domain.labels import OUTCOMES
from review_calendar.domain.verdicts import Verdict

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from review_calendar.domain.programmes import Programme

CLAUSE_BULLETIN = (
    "豫工信办〔2012〕7号 三（五）之三：实行季度通报制度，对进展快、效果好的示范基地及培育对象通报表彰"
)
CLAUSE_VISITS = "豫工信办〔2012〕7号 三（二）之一：专家辅导组定期（至少每季度一次）到重点培育对象辅导"
CLAUSE_MEETING = "豫工信办〔2012〕7号 三（二）之二：每半年组织一次示范基地产业推进观摩会"
CLAUSE_RE_REVIEW = (
    "豫工信办〔2012〕7号 三（一）之三：对首批示范基地开展复核，达不到复核标准的取消示范基地称号"
)


def bulletin_ranking(
    rows: Sequence[Mapping[str, Any]],
    indicators: Sequence[str],
    *,
    key: str = "base",
    visited: Iterable[str] = (),
    commend_top: int = 0,
) -> list[dict[str, Any]]:
    """Rank bases for the quarterly bulletin; commend the first ``commend_top``; flag missing visits.

    Each indicator ranks the bases (higher is better); the bulletin orders them by
    the sum of ranks, ties by name.

    Args:
        rows: One row per base with the indicator values.
        indicators: The indicator columns that rank.
        key: The column naming the base.
        visited: The bases with a recorded counselling visit in the quarter.
        commend_top: How many of the best are commended (provincial configuration).

    Returns:
        The rows with ``rank_sum``, ``rank``, ``commended`` and ``no_counselling_visit``, best first.
    """
    seen = set(visited)
    ranked: dict[str, dict[str, Any]] = {str(r[key]): {"base": str(r[key]), "rank_sum": 0, **r} for r in rows}
    for ind in indicators:
        ordered = sorted(ranked.values(), key=lambda r: -(float(r.get(ind) or 0)))
        for position, r in enumerate(ordered, start=1):
            r["rank_sum"] += position
    out = sorted(ranked.values(), key=lambda r: (r["rank_sum"], r["base"]))
    for position, r in enumerate(out, start=1):
        r["rank"] = position
        r["commended"] = position <= commend_top
        r["no_counselling_visit"] = r["base"] not in seen
    return out


def without_visit(expected: Iterable[str], visited: Iterable[str]) -> list[str]:
    """The bases and targets of ``expected`` with no recorded visit (sorted): the quarter's flag."""
    return sorted(set(expected) - set(visited))


def meeting_state(outcome: str | None) -> str:
    """A half-year's observation meeting: ``held``, ``not_held`` or ``not_recorded`` (never a county's gap)."""
    return outcome if outcome in ("held", "not_held") else "not_recorded"


def re_review_proposal(
    programme: Programme, cluster_id: str, result: str | None, reference: str = ""
) -> Verdict:
    """What the re-review of one base proposes to a reviewer (never applied by the machine).

    Args:
        programme: Programme C.
        cluster_id: The base.
        result: The recorded re-review result (``passed``, ``failed``) or None.
        reference: The result's document number, if any.

    Returns:
        ``propose_revoke_title`` on a failed re-review, ``keep_title`` on a passed
        one, ``awaiting_re_review`` when no result is recorded; figures mark it a proposal.
    """
    outcome = {"failed": "propose_revoke_title", "passed": "keep_title"}.get(
        result or "", "awaiting_re_review"
    )
    figures = {"result": result, "reference": reference, "state": "proposed"}
    reason = OUTCOMES[outcome] + (f"（{reference}）" if reference else "")
    return Verdict(
        cluster_id, outcome, reason, f"programmes/{programme.id}.yaml: re_review", CLAUSE_RE_REVIEW, figures
    )
