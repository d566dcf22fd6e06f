"""Decision rules: evaluations and three-year re-reviews (Programme C: :mod:`.henan`, D: :mod:`.langfang`).

The rules are pure functions over typed inputs (no database, no files); every
threshold comes from the programme file, and every verdict carries the rule it
applied, the clause of the source document and the figures it used, so a
reviewer can read why. Outcomes are named in the documents' words
(``domain.labels.OUTCOMES``): a Hebei smart-cluster pilot loses its pilot status
(取消建设试点资格, 冀工信产业〔2016〕93号 五), an MIIT-recognised cluster its
recognition (撤销认定, 工信部企业〔2022〕119号 第十七条).
:mod:`review_calendar.decide.apply` gathers the inputs and applies the verdicts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from review_calendar.domain.calendar import extend_validity
from review_calendar.domain.criteria import check_criteria
from review_calendar.domain.labels import CRITERION_RESULTS, OUTCOMES
from review_calendar.domain.verdicts import Verdict

if TYPE_CHECKING:
    import datetime as dt

    from review_calendar.domain.programmes import (
        EvaluationRules,
        Programme,
        ReReviewRules,
    )

#: 工信部企业〔2022〕119号 第十七条: the five grounds for revoking a recognition, paraphrased.
ARTICLE_17 = {
    "no_application": "（一）期满未申请复核或复核不通过",
    "failed_re_review": "（一）期满未申请复核或复核不通过",
    "false_declaration": "（二）弄虚作假、违规申报",
    "annual_table_missing": "（三）未按时报送年度培育情况信息表或拒不接受监测",
    "unreported_change": "（四）主导产业、空间范围、运营主体等发生重大变化未及时报告",
    "major_incident": "（五）发生较大及以上安全、质量、环境污染事故或重大及以上网络和数据安全事件，"
    "偷漏税或严重失信行为",
}
#: Grounds that only a reviewer's finding can establish (our records cannot).
FINDING_CONDITIONS = ("false_declaration", "unreported_change", "major_incident")
#: Outcome codes that end a cluster's status.
REVOCATIONS = ("revoke", "revoke_recognition")


def revocation_outcome(programme: Programme) -> str:
    """The outcome code of a revocation in ``programme``, named as its document names it.

    A pilot programme (its validity sets a pilot period, 冀工信产业〔2016〕93号 三)
    revokes the pilot status: ``revoke``, 取消建设试点资格 (五). A recognition that
    is re-reviewed at expiry (工信部企业〔2022〕119号 第十五条) is revoked by MIIT:
    ``revoke_recognition``, 撤销认定 (第十七条).

    Args:
        programme: The programme.

    Returns:
        ``revoke`` or ``revoke_recognition``.
    """
    return "revoke" if programme.validity.max_pilot_years is not None else "revoke_recognition"


def evaluation_verdict(
    programme: Programme, cluster_id: str, score: float | None, violation: bool, granted_wan_yuan: float = 0.0
) -> Verdict:
    """Decide the outcome of a yearly performance evaluation.

    冀工信产业〔2016〕93号 五: the evaluation is the basis for continued support; a
    pilot that does not meet the requirements in construction or use of funds
    loses its pilot status and the subsidy is recovered. No document sets score
    bands: they come from the programme file (provincial configuration).

    Args:
        programme: Programme with ``evaluation`` rules.
        cluster_id: The evaluated cluster.
        score: The evaluator's score, 0-100 (None: no score submitted).
        violation: A violation recorded by the evaluator or a reviewer.
        granted_wan_yuan: Subsidy granted so far, in 万元 (recovered on revocation
            when the programme claws back).

    Returns:
        ``continue``, ``rectify``, ``missing`` or the programme's revocation outcome.

    Raises:
        ValueError: The programme has no evaluation rules.
    """
    rules: EvaluationRules | None = programme.evaluation
    if rules is None:
        raise ValueError(f"programme {programme.id} has no evaluation rules")
    figures: dict[str, Any] = {
        "score": score,
        "violation": violation,
        "continue_min_score": rules.continue_min_score,
        "rectify_min_score": rules.rectify_min_score,
    }
    rule_file = f"programmes/{programme.id}.yaml: evaluation"
    if score is None and not violation:
        reason = "第三方评估机构未报送该集群的评分"
        return Verdict(cluster_id, "missing", reason, f"{rule_file} (无评分)", rules.clause, figures)
    if violation and rules.revoke_on_violation or score is not None and score < rules.rectify_min_score:
        return _revocation(programme, rules, cluster_id, score, violation, granted_wan_yuan, figures)
    assert score is not None
    rule = f"{rule_file}.continue_min_score"
    if score < rules.continue_min_score:
        figures["rectify_days"] = rules.rectify_days
        reason = f"评分 {score:g} 分，限期 {rules.rectify_days} 天整改"
        return Verdict(cluster_id, "rectify", reason, rule, rules.clause, figures)
    reason = f"评分 {score:g} 分，{OUTCOMES['continue']}"
    return Verdict(cluster_id, "continue", reason, rule, rules.clause, figures)


def _revocation(
    programme: Programme,
    rules: EvaluationRules,
    cluster_id: str,
    score: float | None,
    violation: bool,
    granted_wan_yuan: float,
    figures: dict[str, Any],
) -> Verdict:
    """The revocation verdict of an evaluation, with the subsidy to recover if the programme claws back."""
    outcome = revocation_outcome(programme)
    clawback = granted_wan_yuan if rules.claw_back_subsidy else 0.0
    figures["clawback_wan_yuan"] = clawback
    why = "存在违规情形" if violation else f"评分 {score:g} 低于 {rules.rectify_min_score:g} 分"
    extra = f"，{OUTCOMES['clawback']} {clawback:g} 万元" if clawback else ""
    rule = f"programmes/{programme.id}.yaml: evaluation.rectify_min_score / revoke_on_violation"
    return Verdict(cluster_id, outcome, f"{why}，{OUTCOMES[outcome]}{extra}", rule, rules.clause, figures)


@dataclass(frozen=True, slots=True)
class ReReviewInput:
    """What the re-review of one cluster knows (our records plus reviewers' findings).

    Attributes:
        cluster_id: The cluster.
        applied: The cluster applied for the re-review.
        targets_total: Number of targets in its three-year development plan (None: not reported).
        targets_completed: Number of those targets completed (None: not reported).
        indicators: Indicator values by criterion field; multi-year criteria take lists.
        annual_table_on_time: The year's 年度培育情况信息表 arrived on time.
        findings: Grounds of 第十七条 established by reviewers (keys of :data:`ARTICLE_17`).
    """

    cluster_id: str
    applied: bool
    targets_total: float | None
    targets_completed: float | None
    indicators: dict[str, Any]
    annual_table_on_time: bool
    findings: tuple[str, ...] = ()


def _target_completion(data: ReReviewInput) -> float | None:
    """Share of the three-year plan's targets completed (None when not reported)."""
    if data.targets_total and data.targets_completed is not None:
        return data.targets_completed / data.targets_total
    return None


def _revocation_grounds(
    rules: ReReviewRules, data: ReReviewInput, completion: float | None, failed_criteria: list[str]
) -> list[str]:
    """The grounds of 第十七条 that hold: (一) and (三) from our records, (二), (四), (五) from findings."""
    conditions: list[str] = []
    if not data.applied:
        conditions.append("no_application")
    elif completion is None or completion < rules.min_target_completion or failed_criteria:
        conditions.append("failed_re_review")
    if not data.annual_table_on_time:
        conditions.append("annual_table_missing")
    return conditions + [f for f in FINDING_CONDITIONS if f in data.findings]


def re_review_verdict(programme: Programme, data: ReReviewInput, valid_until: dt.date) -> Verdict:
    """Extend the recognition by the programme's extension years, or revoke it under 第十七条.

    工信部企业〔2022〕119号 第十五条: at expiry the cluster is re-reviewed, including
    completion of its three-year development plan targets; passing extends the
    recognition by three years. 第十七条: any of its five grounds revokes the
    recognition (撤销认定, MIIT's decision). The completion threshold is the
    programme file's configuration; the document sets none.

    Args:
        programme: Programme with ``re_review`` rules and its recognition criteria.
        data: What the re-review knows about the cluster.
        valid_until: Last day of the current recognition.

    Returns:
        ``extend`` (figures carry ``new_valid_until``) or ``revoke_recognition``
        (figures carry the ``conditions`` that hold).

    Raises:
        ValueError: The programme has no re-review rules.
    """
    rules = programme.re_review
    if rules is None:
        raise ValueError(f"programme {programme.id} has no re_review rules")
    completion = _target_completion(data)
    criteria = check_criteria(programme.criteria, data.indicators) if rules.require_criteria else []
    failed_criteria = [c.title for c in criteria if c.met is False]
    conditions = _revocation_grounds(rules, data, completion, failed_criteria)
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
        detail = (
            f"（{CRITERION_RESULTS['not_met']}：{'、'.join(failed_criteria)}）" if failed_criteria else ""
        )
        low = completion is not None and completion < rules.min_target_completion
        if "failed_re_review" in conditions and low:
            detail += f"（三年目标完成率 {completion:.0%}，低于 {rules.min_target_completion:.0%}）"
        reason = f"{OUTCOMES['revoke_recognition']}：{reasons}{detail}"
        return Verdict(data.cluster_id, "revoke_recognition", reason, rule_file, rules.clause, figures)
    new_end = extend_validity(valid_until, programme.validity.extension_years)
    figures["new_valid_until"] = new_end.isoformat()
    reason = f"复核通过，有效期延长至 {new_end.isoformat()}"
    return Verdict(data.cluster_id, "extend", reason, rule_file, rules.clause, figures)
