"""The rule a decision applied, in words a reviewer reads, with the programme's configured thresholds.

A decision stores its rule as the setting of the programme file it applied
(``programmes/<id>.yaml: evaluation.continue_min_score / …``). Reviewers read
it in words instead: a basis the decision already states in Chinese is kept as
it is; a known setting is told with the thresholds the programme configures
(score bands, rectification days, subsidy share and cap, commended places);
and a rule no source document states is marked 本省配置, never cited as a
document's. Used by the decisions page and by the Required Action's text.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from review_calendar.domain.labels import CONFIGURED_RULE, OUTCOMES, RULE_WORDS

if TYPE_CHECKING:
    from collections.abc import Callable

    from review_calendar.domain.programmes import Programme
    from review_calendar.store.tables.decisions import Decision

__all__ = ["PROVINCIAL", "rule_in_words", "rule_setting"]

#: The mark of a rule the source documents do not state.
PROVINCIAL = "本省配置"
_CJK = re.compile(r"[\u4e00-\u9fff]")


def rule_setting(rule: str) -> str:
    """The programme file's setting a stored rule names: ``evaluation.rectify_days``, ``subsidy_rules``…"""
    setting = rule.split(".yaml:", 1)[1].strip() if ".yaml:" in rule else rule.strip()
    setting = setting.split(" ", 1)[0].split("[", 1)[0].split(",", 1)[0].split("（", 1)[0]
    return "review-calendar enrol" if setting.startswith("review-calendar") else setting


def _bands(p: Programme, _: str) -> str | None:
    e = p.evaluation
    if e is None or e.continue_min_score is None or e.rectify_min_score is None:
        return None
    return (
        f"评分不低于{e.continue_min_score:g}分{OUTCOMES['continue']}，{e.rectify_min_score:g}分至"
        f"{e.continue_min_score:g}分限期{e.rectify_days}天整改，低于{e.rectify_min_score:g}分"
        f"{OUTCOMES[e.below_rectify]}" + ("（评分分档为本省配置）" if e.bands_configured else "")
    )


def _rectify_days(p: Programme, _: str) -> str | None:
    e = p.evaluation
    return f"限期整改的，在{e.rectify_days}天内报送整改报告（整改期限为本省配置）" if e else None


def _violation(p: Programme, _: str) -> str | None:
    e = p.evaluation
    if e is None:
        return None
    back = "并追回已拨付补贴" if e.claw_back_subsidy else ""
    return f"项目建设或资金使用存在违规的，取消资格{back}"


def _subsidy(p: Programme, rule: str) -> str | None:
    category = rule.split("[", 1)[1].split("]", 1)[0] if "[" in rule else ""
    chosen = [r for r in p.subsidy_rules if not category or r.category == category]
    if not chosen:
        return None
    return "；".join(
        f"{r.category}：按可奖补投资的{r.share:.0%}核定，最高{r.cap_wan_yuan:g}万元"
        + ("（一次性）" if r.once else "")
        for r in chosen
    )


def _bulletin(p: Programme, _: str) -> str | None:
    if not p.bulletin_commend_top:
        return None
    return f"季度通报：按通报指标排序，前{p.bulletin_commend_top}名通报表彰"


def _re_review(p: Programme, _: str) -> str | None:
    r = p.re_review
    if r is None:
        return None
    who = "由工业和信息化部决定，省级提出建议" if r.decided_by == "ministry" else "由省级审定"
    done = f"，三年目标完成率不低于{r.min_target_completion:.0%}" if r.min_target_completion else ""
    own = "（完成率门槛为本省配置）" if done and r.completion_configured else ""
    return f"期满复核：{who}{done}{own}"


def _recognition(p: Programme, _: str) -> str | None:
    r = p.recognition
    if r is None or not r.criteria:
        return None
    return f"认定条件：{len(r.criteria)}项申报条件均达到要求的，建议提交{r.decided_by}评审"


#: Settings told with the programme's configured thresholds (None: not configured, use the plain words).
_CONFIGURED: dict[str, Callable[[Programme, str], str | None]] = {
    "evaluation.continue_min_score": _bands,
    "evaluation.rectify_days": _rectify_days,
    "evaluation.revoke_on_violation": _violation,
    "subsidy_rules": _subsidy,
    "bulletin_indicators": _bulletin,
    "re_review": _re_review,
    "recognition.criteria": _recognition,
}


def rule_in_words(decision: Decision, programme: Programme | None = None) -> str:
    """The rule a decision applied, in words, with the thresholds ``programme`` configures.

    A Chinese basis (or a rule written in Chinese) is kept; a known setting gets its
    configured thresholds; any other rule is 本省配置, never a document's.
    """
    figures: dict[str, Any] = decision.figures or {}
    basis = str(figures.get("basis") or "")
    if basis and basis != decision.clause and _CJK.search(basis):
        return basis
    rule = decision.rule or ""
    if _CJK.search(rule) and ".yaml:" not in rule and "/" not in rule:
        return rule
    setting = rule_setting(rule)
    parts = setting.split(".")
    for n in range(len(parts), 0, -1):
        key = ".".join(parts[:n])
        told = _CONFIGURED.get(key)
        words = (told(programme, rule) if told and programme is not None else None) or RULE_WORDS.get(key)
        if words:
            return words
    return f"{CONFIGURED_RULE}（{PROVINCIAL}，来源文件未规定）"
