"""Programme D rules (廊坊市产业集群数字化智能化转型推进方案, 2023): pure functions.

- 四、保障措施（加大资金支持）: pilot and demonstration projects up to 20 % of
  equipment and software investment, at most 2 m yuan; a firm recognised as an
  industrial-internet platform up to 30 %, at most 5 m yuan, once (一次性): once
  per platform recognition, whatever the firm received as a pilot or
  demonstration firm before.
- 三、主要目标: stage targets are counts of recognised firms and platforms reached
  by a year (2023: 1 platform, ≥ 10 demonstration, ≥ 20 pilot firms; 2024:
  ≥ 2 platforms, ≥ 60 pilot or demonstration firms): each firm counts once,
  cumulatively over the years, however many claims it files.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from review_calendar.domain.programme_rules import StageTarget, SubsidyRule

#: Claim categories and the stage-target metric each counts towards.
CATEGORY_METRICS = {"平台": "platforms", "示范": "demonstration_firms", "试点": "pilot_firms"}
#: Metrics that count firms of several categories (a firm once, whatever its categories).
UNION_METRICS = {"pilot_or_demonstration_firms": ("pilot_firms", "demonstration_firms")}


def subsidy_for_claim(
    rules: Sequence[SubsidyRule],
    category: str,
    eligible_wan_yuan: float,
    claimed_wan_yuan: float,
    granted_for_this_recognition: bool,
) -> tuple[float, str]:
    """Subsidy for one claim: share of eligible investment, capped; a once-only band once per recognition.

    Args:
        rules: The programme's subsidy bands.
        category: The claim's category (试点, 示范, 平台).
        eligible_wan_yuan: Equipment and software investment, in 万元.
        claimed_wan_yuan: The amount claimed, in 万元.
        granted_for_this_recognition: The same recognition (this firm as a platform)
            already had its once-only grant. Grants in other categories do not count.

    Returns:
        (amount in 万元, explanation in Chinese).
    """
    rule = next((r for r in rules if r.category == category), None)
    if rule is None:
        return 0.0, f"类别“{category}”不在奖补范围内"
    if rule.once and granted_for_this_recognition:
        return 0.0, f"{category}奖补为一次性，本次认定已享受过"
    ceiling = min(eligible_wan_yuan * rule.share, rule.cap_wan_yuan)
    amount = round(min(claimed_wan_yuan, ceiling), 2)
    return (
        amount,
        f"按设备和软件投资 {eligible_wan_yuan:g} 万元的 {rule.share:.0%} 计，上限 {rule.cap_wan_yuan:g} 万元",
    )


def recognised_counts(recognitions: Iterable[tuple[str, str, int]], year: int) -> dict[str, int]:
    """Distinct recognised firms per metric, cumulatively up to and including ``year``.

    Args:
        recognitions: (firm, category, year recognised or first claimed) triples,
            from every year's claims and the recorded recognitions; repeats are fine.
        year: The stage year.

    Returns:
        ``{"platforms": n, "demonstration_firms": n, "pilot_firms": n, "pilot_or_demonstration_firms": n}``.
    """
    firms: dict[str, set[str]] = {m: set() for m in CATEGORY_METRICS.values()}
    for firm, category, since in recognitions:
        metric = CATEGORY_METRICS.get(category)
        if metric and since <= year and firm.strip():
            firms[metric].add(firm.strip())
    counts = {m: len(s) for m, s in firms.items()}
    for union, parts in UNION_METRICS.items():
        counts[union] = len(set().union(*(firms[p] for p in parts)))
    return counts


def stage_target_progress(
    targets: Iterable[StageTarget], year: int, counts: Mapping[str, float]
) -> list[dict[str, Any]]:
    """Progress against the stage targets of ``year`` (met when the cumulative count reaches the minimum).

    After the last stage (the plan's stages end in 2024) a year is measured against
    the last stage's targets, so the line goes on showing where the programme stands.

    Args:
        targets: The programme's stage targets.
        year: The year whose counts are given.
        counts: Cumulative distinct counts up to ``year`` by metric (:func:`recognised_counts`).

    Returns:
        One dict per target: stage_year, metric, title, minimum, actual, met.
    """
    targets = list(targets)
    stages = [t.year for t in targets if t.year <= year]
    if not stages:
        return []
    stage = year if year in stages else max(stages)
    return [
        {"stage_year": stage, "metric": t.metric, "title": t.title, "minimum": t.minimum,
         "actual": counts.get(t.metric, 0), "met": counts.get(t.metric, 0) >= t.minimum}
        for t in targets
        if t.year == stage
    ]  # fmt: skip
