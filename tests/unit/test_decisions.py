"""Decision rules: evaluation bands, re-review under 第十七条, criteria; the decision log (C and D: test_programmes_cd.py)."""

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
    ReReviewInput,
    evaluation_verdict,
    re_review_verdict,
    revocation_outcome,
)
from review_calendar.domain.criteria import check_criteria
from review_calendar.domain.labels import OUTCOMES
from review_calendar.domain.programmes import Programme, load_programme_file
from review_calendar.domain.verdicts import Verdict
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
    "invention_patent_growth": 0.2,
    "patents_per_10k": 18.0,
    "platform_adoption": 0.3,
}


@pytest.mark.parametrize(
    ("score", "violation", "outcome"),
    [
        pytest.param(92.0, False, "continue", id="continue"),
        pytest.param(80.0, False, "continue", id="boundary-80-continues"),
        pytest.param(79.5, False, "rectify", id="rectify"),
        pytest.param(60.0, False, "rectify", id="boundary-60-rectifies"),
        pytest.param(59.9, False, "revoke", id="below-60-revokes"),
        pytest.param(95.0, True, "revoke", id="violation-revokes"),
        pytest.param(None, False, "missing", id="no-score"),
    ],
)
def test_evaluation_bands(score: float | None, violation: bool, outcome: str) -> None:
    assert evaluation_verdict(A, "c1", score, violation).outcome == outcome


def test_revocation_claws_back_granted_subsidy() -> None:
    verdict = evaluation_verdict(A, "c1", 41.0, False, granted_wan_yuan=150.0)

    assert verdict.figures["clawback_wan_yuan"] == 150.0
    assert verdict.reason == "评分 41 低于 60 分，取消建设试点资格，追回补贴资金 150 万元"
    assert verdict.clause.startswith("冀工信产业〔2016〕93号")


@pytest.mark.parametrize(
    ("programme", "outcome", "words"),
    [
        pytest.param(A, "revoke", "取消建设试点资格", id="A-pilot-status-seed-000-5"),
        pytest.param(B, "revoke_recognition", "撤销认定", id="B-recognition-article-17"),
    ],
)
def test_revocation_is_named_in_the_documents_words(programme: Programme, outcome: str, words: str) -> None:
    verdict = evaluation_verdict(programme, "c1", None, True)

    assert (revocation_outcome(programme), verdict.outcome, OUTCOMES[outcome]) == (outcome, outcome, words)
    assert verdict.reason == f"存在违规情形，{words}"


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


def test_passed_re_review_extends_three_years() -> None:
    verdict = re_review_verdict(B, _input(), dt.date(2025, 11, 29))

    assert verdict.outcome == "extend"
    assert verdict.figures["new_valid_until"] == "2028-11-29"


@pytest.mark.parametrize(
    ("changes", "condition", "words"),
    [
        pytest.param({"applied": False}, "no_application", "（一）期满未申请复核", id="cond-1-no-application"),
        pytest.param({"targets_completed": 5}, "failed_re_review", "三年目标完成率 50%", id="cond-1-targets"),
        pytest.param({"indicators": {**GOOD_INDICATORS, "platform_adoption": 0.05}}, "failed_re_review",
                     "工业互联网平台普及率", id="cond-1-criterion"),
        pytest.param({"findings": ("false_declaration",)}, "false_declaration", "（二）弄虚作假", id="cond-2"),
        pytest.param({"annual_table_on_time": False}, "annual_table_missing", "（三）未按时报送", id="cond-3"),
        pytest.param({"findings": ("unreported_change",)}, "unreported_change", "（四）", id="cond-4"),
        pytest.param({"findings": ("major_incident",)}, "major_incident", "（五）", id="cond-5"),
    ],
)  # fmt: skip
def test_article_17_conditions_revoke_the_recognition(changes: dict, condition: str, words: str) -> None:
    verdict = re_review_verdict(B, _input(**changes), dt.date(2025, 11, 29))

    assert verdict.outcome == "revoke_recognition"
    assert verdict.reason.startswith("撤销认定：")
    assert condition in verdict.figures["conditions"]
    assert words in verdict.reason


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
    assert (row.outcome, row.figures["previous_outcome"], row.run_id) == ("revoke", "continue", "r2")


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
