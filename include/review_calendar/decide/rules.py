"""Decision rules: evaluations, re-reviews and 第十七条 proposals.

Programme C's rules are in :mod:`.henan`, Programme D's in :mod:`.langfang`.

The rules are pure functions over typed inputs (no database, no files); every
threshold comes from the programme file, and every verdict carries the rule it
applied, the clause of the source document (or 省级配置规则 when no document
states the rule) and the figures it used, so a reviewer can read why.

Who decides shapes the outcome. A Hebei smart-cluster pilot is the province's
own (冀工信产业〔2016〕93号 五): the evaluation decides continued support under
configured score bands, and only a violation in construction or use of funds
revokes the pilot status (取消建设试点资格) and recovers the subsidy. An
MIIT-recognised cluster (工信部企业〔2022〕119号) is MIIT's: the province records
the monitoring score for its report, recommends at the re-review (建议复核通过 /
建议撤销认定, 第十五条, 第十七条), and turns each 第十七条 ground it sees into a
proposal (待审定) for a reviewer; nothing here revokes a recognition.
:mod:`review_calendar.decide.apply` gathers the inputs and records the verdicts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from review_calendar.domain.calendar import extend_validity
from review_calendar.domain.criteria import check_criteria
from review_calendar.domain.labels import CONFIGURED_RULE, CRITERION_RESULTS, OUTCOMES, SUBMISSION_STATES
from review_calendar.domain.verdicts import Verdict

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Mapping

    from review_calendar.domain.programme_rules import EvaluationRules, ReReviewRules
    from review_calendar.domain.programmes import Programme

#: 工信部企业〔2022〕119号 第十七条: the five grounds for revoking a recognition, in our own paraphrase.
ARTICLE_17 = {
    "no_application": "（一）有效期满未申请复核或复核未通过",
    "failed_re_review": "（一）有效期满未申请复核或复核未通过",
    "false_declaration": "（二）虚假申报或存在违法违规行为",
    "annual_table_missing": "（三）未按时报送年度培育情况信息表，或不接受、不配合监测",
    "unreported_change": "（四）主导产业、空间范围、运营管理机构等重大变化未及时更新报备",
    "major_incident": "（五）发生较大及以上安全、质量、环境污染事故，重大及以上网络安全和数据安全事件，"
    "或偷漏税、违法违规、严重失信等行为",
}
#: Grounds that only a reviewer's finding can establish (our records cannot).
FINDING_CONDITIONS = ("false_declaration", "unreported_change", "major_incident")
#: Outcome codes that end a cluster's status when applied (the province's own pilots only).
REVOCATIONS = ("revoke", "revoke_recognition")
#: Outcome codes that are recommendations to the ministry, which decides.
RECOMMENDATIONS = ("recommend_pass", "recommend_revoke")


def revocation_outcome(programme: Programme) -> str:
    """The outcome code of a revocation the province itself applies in ``programme``.

    A pilot programme (its validity sets a pilot period, 冀工信产业〔2016〕93号 三)
    revokes the pilot status: ``revoke``, 取消建设试点资格 (五). Any other
    programme the province decides itself revokes a recognition:
    ``revoke_recognition``. A programme whose re-review the ministry decides never
    reaches this: it recommends (:data:`RECOMMENDATIONS`).
    """
    return "revoke" if programme.validity.max_pilot_years is not None else "revoke_recognition"


def _rules(programme: Programme) -> EvaluationRules:
    if programme.evaluation is None:
        raise ValueError(f"programme {programme.id} has no evaluation rules")
    return programme.evaluation


def bands_basis(rules: EvaluationRules, rectify_days: int | None = None) -> str:
    """The configured score bands as a basis text: 省级配置规则, never a seed's clause."""
    below = OUTCOMES[rules.below_rectify]
    days = rectify_days or rules.rectify_days
    return (
        f"{CONFIGURED_RULE}：评分不低于{rules.continue_min_score:g}分{OUTCOMES['continue']}，"
        f"{rules.rectify_min_score:g}分至{rules.continue_min_score:g}分限期{days}天整改，"
        f"低于{rules.rectify_min_score:g}分{below}（评分分档为本省配置，来源文件未规定）"
    )


def evaluation_verdict(
    programme: Programme, cluster_id: str, score: float | None, violation: bool, granted_wan_yuan: float = 0.0
) -> Verdict:
    """Decide (or, for a monitoring evaluation, record) the outcome of a yearly evaluation.

    ``decides: support`` (冀工信产业〔2016〕93号 五): the evaluation is the basis for
    continued support; the configured bands give ``continue``, ``rectify`` or the
    configured outcome below the lower band (``stop_support`` or ``rectify``),
    with 省级配置规则 as their basis; only a recorded violation in construction or
    use of funds revokes the pilot status and recovers the subsidy (五).
    ``decides: monitor`` (工信部企业〔2022〕119号 第十六条): the score is recorded
    for the report to MIIT (``monitored``); a score is none of 第十七条's grounds.

    Args:
        programme: Programme with ``evaluation`` rules.
        cluster_id: The evaluated cluster.
        score: The evaluator's score, 0-100 (None: no score submitted).
        violation: A violation in construction or use of funds recorded by the evaluator.
        granted_wan_yuan: Subsidy granted so far, in 万元 (recovered on revocation).

    Returns:
        ``continue``, ``rectify``, ``stop_support``, ``missing``, ``monitored`` or ``revoke``.

    Raises:
        ValueError: The programme has no evaluation rules.
    """
    rules = _rules(programme)
    figures: dict[str, Any] = {"score": score, "violation": violation}
    rule_file = f"programmes/{programme.id}.yaml: evaluation"
    if score is None and not violation:
        reason = "第三方评估机构未报送该集群的评分"
        return Verdict(cluster_id, "missing", reason, f"{rule_file} (无评分)", rules.clause, figures)
    if rules.decides == "monitor":
        return _monitored(rules, cluster_id, score, violation, rule_file, figures)
    if violation and rules.revoke_on_violation:
        return _revocation(programme, rules, cluster_id, granted_wan_yuan, figures)
    if score is None:
        reason = "第三方评估机构未报送该集群的评分（报告了违规情形，请审阅人核实）"
        return Verdict(cluster_id, "missing", reason, f"{rule_file} (无评分)", rules.clause, figures)
    assert rules.continue_min_score is not None and rules.rectify_min_score is not None
    figures.update(
        continue_min_score=rules.continue_min_score,
        rectify_min_score=rules.rectify_min_score,
        bands_configured=rules.bands_configured,
    )
    rule = f"{rule_file}.continue_min_score / rectify_min_score / below_rectify"
    basis = bands_basis(rules) if rules.bands_configured else rules.clause
    figures["basis"] = basis
    if score >= rules.continue_min_score:
        outcome, reason = "continue", f"评分 {score:g} 分，{OUTCOMES['continue']}"
    elif score >= rules.rectify_min_score or rules.below_rectify == "rectify":
        figures["rectify_days"] = rules.rectify_days
        outcome, reason = "rectify", f"评分 {score:g} 分，限期 {rules.rectify_days} 天整改"
    else:
        outcome, reason = "stop_support", f"评分 {score:g} 分，{OUTCOMES['stop_support']}"
    if violation:
        reason += "（评估机构报告的违规情形未按本方案撤销资格，请审阅人核实）"
    return Verdict(cluster_id, outcome, reason, rule, basis, figures)


def _monitored(
    rules: EvaluationRules,
    cluster_id: str,
    score: float | None,
    violation: bool,
    rule_file: str,
    figures: dict[str, Any],
) -> Verdict:
    """A monitoring score, recorded for the report to the ministry; it decides nothing."""
    figures["state"] = "for_report"
    reason = f"监测评分 {score:g} 分" if score is not None else "无监测评分"
    reason += "，记入年度监测情况报工业和信息化部（监测评分不属于第十七条撤销认定情形）"
    if violation:
        figures["needs_finding"] = "false_declaration"
        reason += "；评估机构报告违法违规情形，请审阅人核实，属实的按第十七条（二）记录并提出建议"
    return Verdict(cluster_id, "monitored", reason, rule_file, rules.clause, figures)


def _revocation(
    programme: Programme,
    rules: EvaluationRules,
    cluster_id: str,
    granted_wan_yuan: float,
    figures: dict[str, Any],
) -> Verdict:
    """Revocation for a violation in construction or use of funds, with the subsidy to recover."""
    outcome = revocation_outcome(programme)
    clawback = granted_wan_yuan if rules.claw_back_subsidy else 0.0
    figures["clawback_wan_yuan"] = clawback
    figures["basis"] = rules.violation_clause
    extra = f"，{OUTCOMES['clawback']} {clawback:g} 万元" if clawback else ""
    reason = f"项目建设或资金使用存在不符合试点要求的情形，{OUTCOMES[outcome]}{extra}"
    rule = f"programmes/{programme.id}.yaml: evaluation.revoke_on_violation"
    return Verdict(cluster_id, outcome, reason, rule, rules.violation_clause, figures)


@dataclass(frozen=True, slots=True)
class ReReviewInput:
    """What the re-review of one cluster knows (our records plus reviewers' findings).

    Attributes:
        cluster_id: The cluster.
        applied: The cluster applied for the re-review.
        targets_total: Number of targets in its three-year development plan (None: not reported).
        targets_completed: Number of those targets completed (None: not reported).
        indicators: Indicator values by criterion field; multi-year fields take lists, oldest first.
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
    elif completion is not None and completion < rules.min_target_completion or failed_criteria:
        conditions.append("failed_re_review")
    if not data.annual_table_on_time:
        conditions.append("annual_table_missing")
    return conditions + [f for f in FINDING_CONDITIONS if f in data.findings]


def _re_review_detail(
    rules: ReReviewRules, conditions: list[str], completion: float | None, failed: list[str]
) -> str:
    """The grounds in words, with the failed criteria and a completion below the configured share."""
    reasons = "；".join(dict.fromkeys(ARTICLE_17[c] for c in conditions))
    detail = f"（{CRITERION_RESULTS['not_met']}：{'、'.join(failed)}）" if failed else ""
    if (
        "failed_re_review" in conditions
        and completion is not None
        and completion < rules.min_target_completion
    ):
        configured = f"，{CONFIGURED_RULE}" if rules.completion_configured else ""
        detail += f"（三年目标完成率 {completion:.0%}，低于 {rules.min_target_completion:.0%}{configured}）"
    return f"第十七条{reasons}{detail}"


def re_review_verdict(programme: Programme, data: ReReviewInput, valid_until: dt.date) -> Verdict:
    """The re-review at expiry: a recommendation to the ministry, or the province's own decision.

    工信部企业〔2022〕119号 第十五条: at expiry MIIT re-reviews, including completion
    of the three-year development plan targets, and extends a passing cluster by
    three years; 第十七条 lists the grounds on which MIIT revokes. With
    ``decided_by: ministry`` the province's review ends in ``recommend_pass`` or
    ``recommend_revoke`` (with the 第十七条 items), a proposal for a reviewer
    (``state: proposed``) with room for MIIT's decision (``ministry_decision``).
    A criterion or the plan completion that cannot be determined (values or years
    missing) never passes: ``undeterminable`` (暂无法判定), for a reviewer.
    With ``decided_by: province`` the outcomes are ``extend`` or a revocation.

    Args:
        programme: Programme with ``re_review`` rules and its recognition criteria.
        data: What the re-review knows about the cluster.
        valid_until: Last day of the current recognition.

    Returns:
        The verdict; its figures carry ``conditions``, ``unknown_criteria`` and
        ``new_valid_until`` (the date passing would give) as they apply.

    Raises:
        ValueError: The programme has no re-review rules.
    """
    rules = programme.re_review
    if rules is None:
        raise ValueError(f"programme {programme.id} has no re_review rules")
    completion = _target_completion(data)
    criteria = check_criteria(programme.criteria, data.indicators) if rules.require_criteria else []
    failed = [c.title for c in criteria if c.met is False]
    unknown = [c.title for c in criteria if c.met is None]
    if data.applied and completion is None:
        unknown.append("三年发展规划目标完成情况")
    conditions = _revocation_grounds(rules, data, completion, failed)
    ministry = rules.decided_by == "ministry"
    new_end = extend_validity(valid_until, programme.validity.extension_years)
    figures: dict[str, Any] = {
        "applied": data.applied,
        "target_completion": None if completion is None else round(completion, 4),
        "min_target_completion": rules.min_target_completion,
        "criteria": {c.id: c.met for c in criteria},
        "criteria_values": {c.id: c.value for c in criteria},
        "failed_criteria": failed,
        "unknown_criteria": unknown,
        "annual_table_on_time": data.annual_table_on_time,
        "findings": list(data.findings),
        "valid_until": valid_until.isoformat(),
        "state": "proposed" if ministry else "decided",
    }
    if ministry:
        figures["ministry_decision"] = None
    rule_file = f"programmes/{programme.id}.yaml: re_review"
    clause = rules.clause
    if conditions:
        figures["conditions"] = conditions
        clause = f"{rules.clause}；{rules.grounds_clause}" if rules.grounds_clause else rules.clause
        detail = _re_review_detail(rules, conditions, completion, failed)
        outcome = "recommend_revoke" if ministry else revocation_outcome(programme)
        return Verdict(data.cluster_id, outcome, f"{OUTCOMES[outcome]}：{detail}", rule_file, clause, figures)
    if unknown:
        reason = f"{OUTCOMES['undeterminable']}：{'、'.join(unknown)}缺少数据或年份，不能据此通过复核"
        return Verdict(data.cluster_id, "undeterminable", reason, rule_file, clause, figures)
    figures["new_valid_until"] = new_end.isoformat()
    if ministry:
        reason = f"{OUTCOMES['recommend_pass']}：各项指标达标，通过后有效期至 {new_end.isoformat()}"
        return Verdict(data.cluster_id, "recommend_pass", reason, rule_file, clause, figures)
    reason = f"复核通过，有效期延长至 {new_end.isoformat()}"
    return Verdict(data.cluster_id, "extend", reason, rule_file, clause, figures)


def article17_proposal(
    programme: Programme,
    cluster_id: str,
    ground: str,
    evidence: Mapping[str, Any],
    explanation: str,
) -> Verdict:
    """A 第十七条 ground seen in our records or a reviewer's finding, as a proposal to report to MIIT.

    工信部企业〔2022〕119号 第十七条: MIIT revokes a recognition on any of five
    grounds. The province does not revoke; it proposes (``propose_report``, state
    ``proposed``, 待审定) and a reviewer decides whether to report it. The record
    keeps the proposal, its evidence and basis, and room for the reviewer's
    answer and MIIT's decision. The subject is ``<cluster>/<ground>``.

    Args:
        programme: The programme (its first source is the document cited).
        cluster_id: The cluster.
        ground: A key of :data:`ARTICLE_17`.
        evidence: What shows the ground (submission state and due date, the finding...).
        explanation: One line in Chinese on what was seen.
    """
    number = programme.sources[0].number if programme.sources else ""
    item = ARTICLE_17[ground]
    basis = f"{number} 第十七条{item}（由工业和信息化部决定）".strip()
    figures: dict[str, Any] = {
        "ground": ground,
        "evidence": dict(evidence),
        "basis": basis,
        "state": "proposed",
        "answer": None,
        "ministry_decision": None,
    }
    reason = f"{OUTCOMES['propose_report']}：{explanation}；第十七条{item}"
    rule = f"programmes/{programme.id}.yaml: re_review.annual_table / findings"
    return Verdict(f"{cluster_id}/{ground}", "propose_report", reason, rule, basis, figures)


def annual_table_proposal(
    programme: Programme, cluster_id: str, state: str, effective_due: dt.date
) -> Verdict:
    """The 第十七条（三） proposal for a yearly table missing, rejected and never corrected, or late.

    The caller passes only a table that is not on time (``aggregate.states.NOT_ON_TIME_STATES``,
    judged against the effective, moved due date).
    """
    words = SUBMISSION_STATES[state]
    evidence = {"submission_state": state, "effective_due": effective_due.isoformat()}
    explanation = f"年度培育情况信息表{words}（截止日 {effective_due.isoformat()}，含顺延）"
    return article17_proposal(programme, cluster_id, "annual_table_missing", evidence, explanation)
