"""Decision rules: evaluations, three-year re-reviews, recognition criteria, subsidies, bulletins.

The rules are pure functions over typed inputs; every threshold comes from the
programme file, and every verdict carries the rule it applied, the clause of
the source document and the figures it used, so a reviewer can read why.
:func:`record_decision` stores a verdict once: a re-run that reaches the same
verdict does not record it twice.
"""

from __future__ import annotations

import datetime as dt
import operator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from review_calendar.store.models import Decision

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from sqlalchemy.orm import Session

    from review_calendar.domain.programmes import (
        Criterion,
        EvaluationRules,
        Programme,
        StageTarget,
        SubsidyRule,
    )

OPS = {">=": operator.ge, ">": operator.gt, "<=": operator.le, "<": operator.lt, "==": operator.eq}

#: Seed 002 第十七条: the five revocation conditions, in the words of the measure.
ARTICLE_17 = {
    "no_application": "（一）期满未申请复核或复核不通过",
    "failed_re_review": "（一）期满未申请复核或复核不通过",
    "false_declaration": "（二）弄虚作假、违规申报",
    "annual_table_missing": "（三）未按时报送年度培育情况信息表或拒不接受监测",
    "unreported_change": "（四）主导产业、空间范围、运营主体等发生重大变化未及时报告",
    "major_incident": "（五）发生重大安全、质量、环境污染、网络和数据安全事故，偷漏税或严重失信行为",
}
FINDING_CONDITIONS = ("false_declaration", "unreported_change", "major_incident")


@dataclass(frozen=True, slots=True)
class Verdict:
    """A decision about one subject, with its reason in Chinese and its audit data."""

    subject: str
    outcome: str
    reason: str
    rule: str
    clause: str
    figures: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CriterionResult:
    """Whether one numeric recognition criterion is met."""

    id: str
    title: str
    met: bool | None
    value: Any
    threshold: float
    clause: str


def check_criteria(criteria: Sequence[Criterion], indicators: Mapping[str, Any]) -> list[CriterionResult]:
    """Mark each criterion met / not met / unknown (None: the indicator was not reported).

    Args:
        criteria: The programme's criteria.
        indicators: Indicator values by field; a criterion with ``years > 1`` takes a
            list of the last ``years`` yearly values and must hold in every one.
    """
    results = []
    for c in criteria:
        value = indicators.get(c.field)
        values = value if isinstance(value, list | tuple) else [value]
        if c.years > 1 and len(values) < c.years or any(v is None for v in values):
            met = None
        else:
            met = all(OPS[c.op](float(v), c.threshold) for v in values[-c.years :])
        results.append(CriterionResult(c.id, c.title, met, value, c.threshold, c.clause))
    return results


def evaluation_verdict(
    programme: Programme, cluster_id: str, score: float | None, violation: bool, granted_wan_yuan: float = 0.0
) -> Verdict:
    """Decide the outcome of a yearly performance evaluation.

    Seed 000 五: the evaluation is the basis for continued support; a pilot
    that does not meet the requirements in construction or use of funds loses
    its status and the subsidy is clawed back. Bands come from the programme file.

    Args:
        programme: Programme with ``evaluation`` rules.
        cluster_id: The evaluated cluster.
        score: The evaluator's score (None: no score submitted).
        violation: A violation recorded by the evaluator or a reviewer.
        granted_wan_yuan: Subsidy granted so far (clawed back on revocation).

    Raises:
        ValueError: The programme has no evaluation rules.
    """
    rules: EvaluationRules | None = programme.evaluation
    if rules is None:
        raise ValueError(f"programme {programme.id} has no evaluation rules")
    figures = {
        "score": score,
        "violation": violation,
        "continue_min_score": rules.continue_min_score,
        "rectify_min_score": rules.rectify_min_score,
    }
    rule_file = f"programmes/{programme.id}.yaml: evaluation"
    if score is None and not violation:
        return Verdict(
            cluster_id,
            "missing",
            "第三方评估机构未报送该集群的评分",
            f"{rule_file} (无评分)",
            rules.clause,
            figures,
        )
    if violation and rules.revoke_on_violation or score is not None and score < rules.rectify_min_score:
        clawback = granted_wan_yuan if rules.claw_back_subsidy else 0.0
        figures["clawback_wan_yuan"] = clawback
        why = "存在违规情形" if violation else f"评分 {score:g} 低于 {rules.rectify_min_score:g} 分"
        extra = f"，追回补贴资金 {clawback:g} 万元" if clawback else ""
        return Verdict(
            cluster_id, "revoke", f"{why}，取消试点资格{extra}", f"{rule_file}.rectify_min_score / revoke_on_violation",
            rules.clause, figures,
        )  # fmt: skip
    assert score is not None
    if score < rules.continue_min_score:
        figures["rectify_days"] = rules.rectify_days
        return Verdict(
            cluster_id, "rectify", f"评分 {score:g} 分，限期 {rules.rectify_days} 天整改",
            f"{rule_file}.continue_min_score", rules.clause, figures,
        )  # fmt: skip
    return Verdict(
        cluster_id,
        "continue",
        f"评分 {score:g} 分，继续支持",
        f"{rule_file}.continue_min_score",
        rules.clause,
        figures,
    )


@dataclass(frozen=True, slots=True)
class ReReviewInput:
    """What the re-review of one cluster knows (our records plus reviewers' findings)."""

    cluster_id: str
    applied: bool
    targets_total: float | None
    targets_completed: float | None
    indicators: dict[str, Any]
    annual_table_on_time: bool
    findings: tuple[str, ...] = ()


def re_review_verdict(programme: Programme, data: ReReviewInput, valid_until: dt.date) -> Verdict:
    """Extend by the programme's extension years, or revoke under article 17.

    Seed 002 第十六条: at expiry the cluster is re-reviewed, including completion
    of its three-year plan targets; passing extends recognition by three years.
    第十七条: conditions (1) and (3) come from our records, (2), (4), (5) from findings.

    Raises:
        ValueError: The programme has no re-review rules.
    """
    from review_calendar.domain.calendar import extend_validity

    rules = programme.re_review
    if rules is None:
        raise ValueError(f"programme {programme.id} has no re_review rules")
    conditions: list[str] = []
    completion = (
        data.targets_completed / data.targets_total
        if data.targets_total and data.targets_completed is not None
        else None
    )
    criteria = check_criteria(programme.criteria, data.indicators) if rules.require_criteria else []
    failed_criteria = [c.title for c in criteria if c.met is False]
    if not data.applied:
        conditions.append("no_application")
    else:
        if completion is None or completion < rules.min_target_completion or failed_criteria:
            conditions.append("failed_re_review")
    if not data.annual_table_on_time:
        conditions.append("annual_table_missing")
    conditions += [f for f in FINDING_CONDITIONS if f in data.findings]
    figures: dict[str, Any] = {
        "applied": data.applied,
        "target_completion": None if completion is None else round(completion, 4),
        "min_target_completion": rules.min_target_completion,
        "criteria": {c.id: c.met for c in criteria},
        "failed_criteria": failed_criteria,
        "annual_table_on_time": data.annual_table_on_time,
        "findings": list(data.findings),
        "valid_until": valid_until.isoformat(),
    }
    rule_file = f"programmes/{programme.id}.yaml: re_review"
    if conditions:
        figures["conditions"] = conditions
        reasons = "；".join(dict.fromkeys(ARTICLE_17[c] for c in conditions))
        detail = f"（未达标：{'、'.join(failed_criteria)}）" if failed_criteria else ""
        if (
            "failed_re_review" in conditions
            and completion is not None
            and completion < rules.min_target_completion
        ):
            detail += f"（三年目标完成率 {completion:.0%}，低于 {rules.min_target_completion:.0%}）"
        return Verdict(
            data.cluster_id, "revoke", f"取消认定：{reasons}{detail}", rule_file, rules.clause, figures
        )
    new_end = extend_validity(valid_until, programme.validity.extension_years)
    figures["new_valid_until"] = new_end.isoformat()
    return Verdict(
        data.cluster_id,
        "extend",
        f"复核通过，有效期延长至 {new_end.isoformat()}",
        rule_file,
        rules.clause,
        figures,
    )


def subsidy_for_claim(
    rules: Sequence[SubsidyRule],
    category: str,
    eligible_wan_yuan: float,
    claimed_wan_yuan: float,
    already_granted_once: bool,
) -> tuple[float, str]:
    """Subsidy for one Langfang claim: share of eligible investment, capped, platforms once only.

    Seed 004: pilot and demonstration projects up to 20 % of equipment and software
    investment, at most 2 m yuan; recognised platforms up to 30 %, at most 5 m yuan, once.

    Returns:
        (amount in 万元, explanation in Chinese).
    """
    rule = next((r for r in rules if r.category == category), None)
    if rule is None:
        return 0.0, f"类别“{category}”不在奖补范围内"
    if rule.once and already_granted_once:
        return 0.0, f"{category}奖补为一次性，已享受过"
    ceiling = min(eligible_wan_yuan * rule.share, rule.cap_wan_yuan)
    amount = round(min(claimed_wan_yuan, ceiling), 2)
    return (
        amount,
        f"按设备和软件投资 {eligible_wan_yuan:g} 万元的 {rule.share:.0%} 计，上限 {rule.cap_wan_yuan:g} 万元",
    )


def stage_target_progress(
    targets: Iterable[StageTarget], year: int, counts: Mapping[str, float]
) -> list[dict[str, Any]]:
    """Progress against the stage targets of ``year`` (met when the count reaches the minimum)."""
    return [
        {"metric": t.metric, "title": t.title, "minimum": t.minimum, "actual": counts.get(t.metric, 0),
         "met": counts.get(t.metric, 0) >= t.minimum}
        for t in targets
        if t.year == year
    ]  # fmt: skip


def bulletin_ranking(
    rows: Sequence[Mapping[str, Any]], indicators: Sequence[str], key: str = "base"
) -> list[dict[str, Any]]:
    """Rank bases for the quarterly bulletin (seed 001: 每季度通报).

    Each indicator ranks the bases (higher is better); the bulletin orders them by
    the sum of ranks, ties by name. Bases with no counselling visit in the quarter
    are flagged (seed 001: experts visit every base at least once a quarter).
    """
    ranked: dict[str, dict[str, Any]] = {str(r[key]): {"base": str(r[key]), "rank_sum": 0, **r} for r in rows}
    for ind in indicators:
        ordered = sorted(ranked.values(), key=lambda r: -(float(r.get(ind) or 0)))
        for position, r in enumerate(ordered, start=1):
            r["rank_sum"] += position
    out = sorted(ranked.values(), key=lambda r: (r["rank_sum"], r["base"]))
    for position, r in enumerate(out, start=1):
        r["rank"] = position
        r["no_counselling_visit"] = not float(r.get("counselling_visits") or 0)
    return out


def record_decision(
    session: Session, programme_id: str, cycle_year: int, kind: str, verdict: Verdict, run_id: str
) -> bool:
    """Store ``verdict`` keyed by (programme, year, kind, subject).

    A re-run that reaches the same outcome keeps the first record (its run and
    time stay those of the run that decided); a different outcome replaces it and
    keeps the previous outcome in the figures.

    Returns:
        True when something was written.
    """
    existing = session.scalar(
        select(Decision).where(
            Decision.programme_id == programme_id,
            Decision.cycle_year == cycle_year,
            Decision.kind == kind,
            Decision.subject == verdict.subject,
        )
    )
    figures = {**verdict.figures, "reason": verdict.reason}
    if existing is not None:
        if existing.outcome == verdict.outcome and existing.figures == figures:
            return False
        figures["previous_outcome"] = existing.outcome
        existing.outcome, existing.rule, existing.clause = verdict.outcome, verdict.rule, verdict.clause
        existing.figures, existing.run_id = figures, run_id
        existing.decided_at = dt.datetime.now(dt.UTC)
        return True
    session.add(
        Decision(
            programme_id=programme_id, cycle_year=cycle_year, kind=kind, subject=verdict.subject,
            outcome=verdict.outcome, rule=verdict.rule, clause=verdict.clause, figures=figures, run_id=run_id,
        )
    )  # fmt: skip
    session.flush()
    return True
