"""Decision rules: evaluation (A configured bands, B monitoring), re-review recommendations, criteria; the log.

Programmes C and D: test_programmes_cd.py.
"""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from review_calendar.decide.rules import (
    ARTICLE_17,
    ReReviewInput,
    evaluation_verdict,
    re_review_verdict,
    revocation_outcome,
)
from review_calendar.domain.criteria import check_criteria
from review_calendar.domain.labels import OUTCOMES
from review_calendar.domain.programmes import load_programme_file
from review_calendar.domain.verdicts import Verdict, announceable, state_label
from review_calendar.store.db import session_scope
from review_calendar.store.decision_log import record_decision
from review_calendar.store.models import Decision

pytestmark = pytest.mark.unit
PROGRAMMES = Path(__file__).resolve().parents[2] / "programmes"
A = load_programme_file(PROGRAMMES / "hebei_smart_cluster.yaml")
B = load_programme_file(PROGRAMMES / "miit_sme_cluster.yaml")
D = load_programme_file(PROGRAMMES / "langfang_digital.yaml")

GOOD_INDICATORS = {
    "area_km2": 42.0,
    "output_yi": [45.0, 51.0, 58.0],
    "sme_output_share": 0.82,
    "leading_industry_share": 0.77,
    "output_growth": [0.12, 0.13, 0.14],
    "sme_rd_growth": [0.11, 0.15, 0.12],
    "invention_patent_growth": [0.2, 0.18, 0.16],
    "patents_per_10k": 18.0,
    "platform_adoption": 0.3,
    "champion_firms": 2,
    "specialised_smes": 15,
    "high_tech_firms": 23,
}


@pytest.mark.parametrize(
    ("score", "violation", "outcome"),
    [
        pytest.param(92.0, False, "continue", id="continue"),
        pytest.param(80.0, False, "continue", id="boundary-80-continues"),
        pytest.param(79.5, False, "rectify", id="rectify"),
        pytest.param(60.0, False, "rectify", id="boundary-60-rectifies"),
        pytest.param(59.9, False, "stop_support", id="below-60-no-further-support-never-revokes"),
        pytest.param(95.0, True, "revoke", id="violation-revokes"),
        pytest.param(None, False, "missing", id="no-score"),
    ],
)
def test_evaluation_bands(score: float | None, violation: bool, outcome: str) -> None:
    assert evaluation_verdict(A, "c1", score, violation).outcome == outcome


def test_a_low_score_is_not_a_ground_for_revocation_seed_000_5() -> None:
    """冀工信产业〔2016〕93号 五: revocation and recovery only for construction or use of funds, not for a score."""
    verdict = evaluation_verdict(A, "c1", 41.0, False, granted_wan_yuan=150.0)

    assert verdict.outcome == "stop_support"
    assert "clawback_wan_yuan" not in verdict.figures
    assert verdict.reason == "评分 41 分，不再继续支持"


def test_a_score_bands_are_shown_as_provincial_configuration_never_citing_seed_000() -> None:
    for score in (92.0, 70.0, 41.0):
        verdict = evaluation_verdict(A, "c1", score, False)

        assert verdict.clause.startswith("省级配置规则：")
        assert "93号" not in verdict.clause and "五、" not in verdict.clause
        assert verdict.figures["basis"] == verdict.clause
        assert verdict.figures["bands_configured"] is True
    assert A.evaluation is not None and A.evaluation.bands_configured


def test_a_violation_in_construction_or_funds_revokes_and_claws_back_citing_seed_000_5() -> None:
    verdict = evaluation_verdict(A, "c1", 95.0, True, granted_wan_yuan=150.0)

    assert verdict.outcome == "revoke"
    assert verdict.figures["clawback_wan_yuan"] == 150.0
    assert (
        verdict.reason
        == "项目建设或资金使用存在不符合试点要求的情形，取消建设试点资格，追回补贴资金 150 万元"
    )
    assert verdict.clause.startswith("冀工信产业〔2016〕93号 五、")
    assert "资金使用" in verdict.clause


def test_revocation_of_a_pilot_is_named_in_seed_000s_words() -> None:
    assert (revocation_outcome(A), OUTCOMES["revoke"]) == ("revoke", "取消建设试点资格")


@pytest.mark.parametrize(
    ("score", "violation"),
    [
        pytest.param(52.0, False, id="score-52-demo-case"),
        pytest.param(30.0, False, id="very-low-score"),
        pytest.param(95.0, True, id="violation-reported"),
    ],
)
def test_b_monitoring_score_never_revokes_article_16_17(score: float, violation: bool) -> None:
    """工信部企业〔2022〕119号: revocation is MIIT's (第十七条) and a monitoring score is none of its grounds."""
    verdict = evaluation_verdict(B, "pingxiang_bicycle", score, violation)

    assert verdict.outcome == "monitored"
    assert verdict.figures["state"] == "for_report"
    assert "撤销" not in OUTCOMES[verdict.outcome] and "取消" not in verdict.reason
    assert "第十六条" in verdict.clause
    assert not announceable(verdict.figures)


def test_b_has_no_score_bands_and_no_pilot_wording() -> None:
    assert B.evaluation is not None
    assert (B.evaluation.decides, B.evaluation.continue_min_score, B.evaluation.revoke_on_violation) == (
        "monitor",
        None,
        False,
    )
    text = (PROGRAMMES / "miit_sme_cluster.yaml").read_text(encoding="utf-8")
    assert "取消试点资格" not in text and "试点资格" not in text


def test_a_violation_without_score_under_a_programme_that_does_not_revoke_is_missing() -> None:
    rules = A.evaluation.model_copy(update={"revoke_on_violation": False})
    programme = A.model_copy(update={"evaluation": rules})

    assert evaluation_verdict(programme, "c1", None, True).outcome == "missing"


def test_rectify_names_the_deadline() -> None:
    assert evaluation_verdict(A, "c1", 70.0, False).reason == "评分 70 分，限期 30 天整改"


def test_criteria_three_year_output_must_hold_every_year() -> None:
    indicators = {**GOOD_INDICATORS, "output_yi": [39.0, 51.0, 58.0]}

    results = {r.id: r.met for r in check_criteria(B.criteria, indicators)}

    assert results["output"] is False
    assert results["area"] is True


def test_criteria_unknown_when_not_reported() -> None:
    results = {r.id: r.met for r in check_criteria(B.criteria, {"area_km2": 20})}

    assert results["area"] is True and results["sme_share"] is None


def _input(**changes: Any) -> ReReviewInput:
    base = dict(
        cluster_id="botou_casting", applied=True, targets_total=10, targets_completed=9,
        indicators=GOOD_INDICATORS, annual_table_on_time=True, findings=(),
    )  # fmt: skip
    base.update(changes)
    return ReReviewInput(**base)


def test_b_passed_re_review_is_a_recommendation_to_miit_article_15() -> None:
    verdict = re_review_verdict(B, _input(), dt.date(2025, 11, 29))

    assert verdict.outcome == "recommend_pass"
    assert OUTCOMES["recommend_pass"].startswith("建议复核通过")
    assert verdict.figures["new_valid_until"] == "2028-11-29"
    assert (verdict.figures["state"], verdict.figures["ministry_decision"]) == ("proposed", None)
    assert "第十五条" in verdict.clause
    assert not announceable(verdict.figures)


@pytest.mark.parametrize(
    ("changes", "condition", "words"),
    [
        pytest.param({"applied": False}, "no_application", "（一）有效期满未申请复核", id="cond-1-no-application"),
        pytest.param({"targets_completed": 5}, "failed_re_review", "三年目标完成率 50%", id="cond-1-targets"),
        pytest.param({"indicators": {**GOOD_INDICATORS, "platform_adoption": 0.05}}, "failed_re_review",
                     "工业互联网平台应用普及率", id="cond-1-criterion"),
        pytest.param({"findings": ("false_declaration",)}, "false_declaration", "（二）虚假申报", id="cond-2"),
        pytest.param({"annual_table_on_time": False}, "annual_table_missing", "（三）未按时报送", id="cond-3"),
        pytest.param({"findings": ("unreported_change",)}, "unreported_change", "（四）主导产业", id="cond-4"),
        pytest.param({"findings": ("major_incident",)}, "major_incident", "（五）发生较大及以上", id="cond-5"),
    ],
)  # fmt: skip
def test_b_article_17_grounds_make_a_recommendation_never_a_revocation(
    changes: dict, condition: str, words: str
) -> None:
    verdict = re_review_verdict(B, _input(**changes), dt.date(2025, 11, 29))

    assert verdict.outcome == "recommend_revoke"
    assert verdict.reason.startswith("建议撤销认定（报工业和信息化部决定）：第十七条")
    assert condition in verdict.figures["conditions"]
    assert words in verdict.reason
    assert "第十七条" in verdict.clause
    assert verdict.figures["state"] == "proposed"


def test_article_17_item_5_threshold_is_larger_and_above_for_safety_major_for_data() -> None:
    """第十七条（五）: 较大及以上 safety, quality, pollution incidents; 重大及以上 network and data security."""
    item = ARTICLE_17["major_incident"]

    assert "较大及以上安全、质量、环境污染事故" in item
    assert "重大及以上网络安全和数据安全事件" in item


@pytest.mark.parametrize(
    ("changes", "unknown"),
    [
        pytest.param({"indicators": {**GOOD_INDICATORS, "output_yi": [45.0, 51.0]}}, "近三年产值均不低于40亿元",
                     id="two-years-of-output"),
        pytest.param({"indicators": {**GOOD_INDICATORS, "sme_rd_growth": [0.11, None, 0.12]}},
                     "近三年中小企业研发经费年均增长高于10%（几何平均）", id="a-year-missing"),
        pytest.param({"targets_total": None, "targets_completed": None}, "三年发展规划目标完成情况",
                     id="targets-not-reported"),
    ],
)  # fmt: skip
def test_undeterminable_criterion_never_passes_the_re_review(changes: dict, unknown: str) -> None:
    verdict = re_review_verdict(B, _input(**changes), dt.date(2025, 11, 29))

    assert verdict.outcome == "undeterminable"
    assert OUTCOMES["undeterminable"].startswith("暂无法判定")
    assert unknown in verdict.figures["unknown_criteria"]
    assert "new_valid_until" not in verdict.figures


def test_b_yaml_never_lets_the_province_revoke() -> None:
    assert B.re_review is not None
    assert (B.re_review.decided_by, B.re_review.annual_table) == ("ministry", "annual_info_table")


def test_same_decision_is_recorded_once(migrated_url: str) -> None:
    verdict = evaluation_verdict(A, "anguo_tcm", 85.0, False)
    with session_scope(migrated_url) as s:
        first = record_decision(s, "hebei_smart_cluster", 2025, "evaluation", verdict, "run-1")
    with session_scope(migrated_url) as s:
        second = record_decision(s, "hebei_smart_cluster", 2025, "evaluation", verdict, "run-2")

    with session_scope(migrated_url) as s:
        rows = s.scalars(select(Decision)).all()
    assert (first, second) == (True, False)
    assert [(r.outcome, r.run_id) for r in rows] == [("continue", "run-1")]


def test_changed_decision_replaces_and_keeps_previous_outcome(migrated_url: str) -> None:
    with session_scope(migrated_url) as s:
        record_decision(
            s, "hebei_smart_cluster", 2025, "evaluation", evaluation_verdict(A, "x", 85.0, False), "r1"
        )
    with session_scope(migrated_url) as s:
        record_decision(
            s, "hebei_smart_cluster", 2025, "evaluation", evaluation_verdict(A, "x", 50.0, False), "r2"
        )

    with session_scope(migrated_url) as s:
        count = s.scalar(select(func.count()).select_from(Decision))
        row = s.scalars(select(Decision)).one()
    assert count == 1
    assert (row.outcome, row.figures["previous_outcome"], row.run_id) == ("stop_support", "continue", "r2")


def test_a_verdict_from_any_stage_is_logged_with_its_reason(migrated_url: str) -> None:
    verdict = Verdict(
        "half_year_report/Y", "passed", "严重问题 0 项，提示 2 项", "expectations", "五", {"warnings": 2}
    )

    with session_scope(migrated_url) as s:
        written = record_decision(s, "hebei_smart_cluster", 2025, "gate", verdict, "run-1")
    with session_scope(migrated_url) as s:
        row = s.scalars(select(Decision)).one()

    assert written
    assert (row.kind, row.subject, row.outcome) == ("gate", "half_year_report/Y", "passed")
    assert row.figures == {"warnings": 2, "reason": "严重问题 0 项，提示 2 项"}


def test_rules_are_pure_and_load_no_database_library() -> None:
    code = (
        "import sys, review_calendar.decide.rules; print(sorted({'sqlalchemy', 'pandas'} & set(sys.modules)))"
    )

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}

    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)

    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("figures", "words"),
    [
        pytest.param({"state": "proposed"}, "待审定", id="proposal-waits-for-a-reviewer"),
        pytest.param({"state": "awaiting_ministry"}, "已报工业和信息化部，待部里决定", id="awaiting-miit"),
        pytest.param({"state": "ministry_decided"}, "工业和信息化部已决定", id="miit-decided"),
        pytest.param({}, "已决定", id="a-decision-without-state-was-decided"),
    ],
)
def test_decision_record_shows_its_state(figures: dict, words: str) -> None:
    assert state_label(figures) == words
