"""Applications for a pilot: the conditions checked as a proposal, the recognition recorded with ``enrol``.

The conditions of a smart-cluster pilot application (all at once): annual
revenue 50亿元以上, 5家以上 firms over 1亿元, 3个以上 public service platforms and
a park or specialised market as carrier, 1个 provincial regional brand, 1个以上
China well-known trademark, 5个以上 Hebei famous-brand products or trademarks,
broadband access of the cluster's firms 70%以上. 以上 includes the figure (≥).
Selection (冀工信产业〔2016〕93号 序言): county applies → city recommends →
province reviews and inspects → online public notice. For Programme B
(工信部企业〔2022〕119号 第十二条至第十四条): county applies → province's first
review and recommendation → MIIT decides.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from review_calendar.cli import main
from review_calendar.decide.recognition import application_verdict, propose_recognitions
from review_calendar.domain.programmes import find_instance, load_programme
from review_calendar.intake.inbox import inbox_dir, pending_files
from review_calendar.settings import get_settings
from review_calendar.store.db import session_scope
from review_calendar.store.models import Decision, Enrolment
from review_calendar.store.queries import expected_submitters, record_instances
from review_calendar.tasks.intake import ingest_files
from review_calendar_demo.seed import seed_demo
from review_calendar_demo.synthetic import write_xlsx

pytestmark = pytest.mark.unit
A = load_programme("hebei_smart_cluster")
B = load_programme("miit_sme_cluster")
APPLICATION = find_instance(A, 2025, "pilot_application")

#: An application meeting every condition exactly at its threshold.
AT_THRESHOLDS = {
    "region_code": "131125", "cluster_name": "安平丝网产业集群", "year": 2024, "revenue_yi": 50.0,
    "firms_over_100m": 5, "public_platforms": 3, "has_carrier": "是", "regional_brands": 1,
    "well_known_marks": 1, "hebei_brands": 5, "broadband_share": 0.70, "city_recommended": "是",
}  # fmt: skip


def test_an_application_at_every_threshold_is_proposed_for_review() -> None:
    verdict = application_verdict(A, AT_THRESHOLDS)

    assert verdict.outcome == "propose_recognition"
    assert [c["result"] for c in verdict.figures["conditions"]] == ["met"] * 8
    assert verdict.figures["decided_by"] == "河北省工业和信息化厅"
    assert "评审" in verdict.reason


@pytest.mark.parametrize(
    ("field", "value", "condition"),
    [
        pytest.param("revenue_yi", 49.9, "revenue", id="revenue-below-50-yi"),
        pytest.param("firms_over_100m", 4, "big_firms", id="four-firms-over-1-yi"),
        pytest.param("public_platforms", 2, "platforms", id="two-platforms"),
        pytest.param("has_carrier", "否", "carrier", id="no-park-or-market"),
        pytest.param("regional_brands", 0, "regional_brand", id="no-regional-brand"),
        pytest.param("well_known_marks", 0, "well_known_mark", id="no-well-known-mark"),
        pytest.param("hebei_brands", 4, "hebei_brands", id="four-hebei-brands"),
        pytest.param("broadband_share", 0.699, "broadband", id="broadband-below-70-percent"),
    ],
)
def test_one_condition_not_met_makes_the_application_not_eligible(
    field: str, value: object, condition: str
) -> None:
    verdict = application_verdict(A, {**AT_THRESHOLDS, field: value})

    results = {c["id"]: c["result"] for c in verdict.figures["conditions"]}
    assert verdict.outcome == "not_eligible"
    assert [k for k, v in results.items() if v == "not_met"] == [condition]


def test_a_condition_left_blank_cannot_be_judged() -> None:
    verdict = application_verdict(A, {**AT_THRESHOLDS, "well_known_marks": None})

    assert verdict.outcome == "undetermined"
    assert "中国驰名商标" in verdict.reason


def test_the_application_is_an_open_call_with_a_configured_date() -> None:
    obligation = A.obligation("pilot_application")

    assert (obligation.kind, obligation.applies_to, obligation.due_is_configured) == (
        "application",
        "applicants",
        True,
    )
    assert APPLICATION.statutory_due == dt.date(2025, 10, 31)


def test_programme_b_recognition_is_miits_after_the_provinces_first_review() -> None:
    assert B.recognition is not None
    assert B.recognition.decided_by == "工业和信息化部"
    assert "第十三条" in B.recognition.steps[1] and "初审" in B.recognition.steps[1]
    assert "第十四条" in B.recognition.steps[2]


@pytest.fixture
def env(migrated_url: str, review_env: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("REVIEW_CALENDAR_DB_URL", migrated_url)
    seed_demo(migrated_url)
    record_instances(migrated_url, A, 2025)
    return migrated_url, get_settings()


def test_an_application_taken_in_becomes_a_proposal_and_enrols_nobody(env) -> None:
    url, settings = env
    folder = inbox_dir(settings, APPLICATION) / "131125"
    write_xlsx(folder / "安平申报表.xlsx", {"pilot_application": [AT_THRESHOLDS]}, "智慧集群建设试点申报表")
    with session_scope(url) as s:
        enrolled_before = len(s.scalars(select(Enrolment)).all())
        assert expected_submitters(s, A, APPLICATION) == []

    report = ingest_files(url, settings, A, APPLICATION, pending_files(settings, APPLICATION))
    with session_scope(url) as s:
        result = propose_recognitions(s, A, APPLICATION, run_id="t")
    with session_scope(url) as s:
        decision = s.scalars(select(Decision).where(Decision.kind == "recognition")).one()
        enrolled_after = len(s.scalars(select(Enrolment)).all())

    assert report.counts()["accepted"] == 1
    assert result["counts"] == {"propose_recognition": 1}
    assert (decision.subject, decision.outcome) == ("131125/安平丝网产业集群", "propose_recognition")
    assert decision.figures["state"] == "proposed"  # a reviewer decides; nothing is announced before
    assert enrolled_after == enrolled_before


def test_enrol_records_a_recognition_once(env, capsys: pytest.CaptureFixture[str]) -> None:
    url, _ = env
    args = ["enrol", "--programme", "hebei_smart_cluster", "--region", "131125", "--cluster", "新认定丝网产业集群",
            "--from", "2025-12-20", "--by", "li", "--json"]  # fmt: skip

    first = main(args)
    created = json.loads(capsys.readouterr().out)
    again = main(args)
    unchanged = json.loads(capsys.readouterr().out)

    assert (first, again) == (0, 0)
    assert (created["status"], unchanged["status"]) == ("created", "unchanged")
    assert created["valid_until"] == "2028-12-19"  # validity.years 3
    with session_scope(url) as s:
        enrolment = s.get(Enrolment, ("hebei_smart_cluster", created["cluster_id"]))
        decisions = s.scalars(select(Decision).where(Decision.kind == "enrolment")).all()
    assert (enrolment.recognised_on, enrolment.status) == (dt.date(2025, 12, 20), "active")
    assert [d.figures["recorded_by"] for d in decisions] == ["li"]


def test_enrol_with_another_date_for_an_enrolled_cluster_is_refused(
    env, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["enrol", "--programme", "hebei_smart_cluster", "--region", "130109",
                 "--cluster", "gaocheng_lanterns", "--from", "2025-06-01"]) == 1  # fmt: skip
    assert "认定日期不一致" in capsys.readouterr().err


def test_enrol_outside_the_programmes_province_is_a_usage_error(env) -> None:
    assert main(["enrol", "--programme", "hebei_smart_cluster", "--region", "410201",
                 "--cluster", "x", "--from", "2025-06-01"]) == 2  # fmt: skip


def test_a_new_pilot_owes_its_development_plan_in_its_first_year(env) -> None:
    url, _ = env
    main(["enrol", "--programme", "hebei_smart_cluster", "--region", "131125", "--cluster", "新认定丝网产业集群",
          "--from", "2026-01-10"])  # fmt: skip

    with session_scope(url) as s:
        owed = expected_submitters(s, A, find_instance(A, 2026, "development_plan"))

    assert "新认定丝网产业集群" in {x.cluster_name for x in owed}


def test_the_demo_applications_are_checked_against_the_conditions(env) -> None:
    from review_calendar_demo.scenario import place_submissions

    url, settings = env
    place_submissions(url, settings, A, APPLICATION)
    ingest_files(url, settings, A, APPLICATION, pending_files(settings, APPLICATION), move=True)

    with session_scope(url) as s:
        result = propose_recognitions(s, A, APPLICATION, run_id="demo")

    assert sorted((p["subject"], p["outcome"]) for p in result["proposals"]) == [
        ("130481/武安装备制造产业集群", "propose_recognition"),
        ("130629/容城服装产业集群", "not_eligible"),  # broadband 65% < 70%
    ]
