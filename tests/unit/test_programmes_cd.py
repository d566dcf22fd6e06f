"""Programmes C (豫工信办〔2012〕7号, Henan bases) and D (廊坊推进方案, 2023), and recorded facts.

Every expected value comes from the documents: the Langfang shares, caps and
stage targets (三、主要目标; 四、加大资金支持), the Henan quarterly commendation,
quarterly counselling by the expert group, half-year meetings and the
re-review of first-batch bases (三（一）（二）（五）).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from review_calendar.cli import main
from review_calendar.decide.henan import bulletin_ranking, re_review_proposal, without_visit
from review_calendar.decide.langfang import recognised_counts, stage_target_progress, subsidy_for_claim
from review_calendar.domain.calendar import OPEN_ENDED
from review_calendar.domain.facts import Fact, FactError, checked, natural_key
from review_calendar.domain.programmes import find_instance, load_programme_file
from review_calendar.domain.verdicts import announceable
from review_calendar.intake import get_dataset
from review_calendar.store.db import session_scope
from review_calendar.store.facts import save_fact
from review_calendar.store.models import Decision, Enrolment, RecordedFact
from review_calendar.store.queries import expected_submitters
from review_calendar_demo.seed import seed_demo

pytestmark = pytest.mark.unit
PROGRAMMES = Path(__file__).resolve().parents[2] / "programmes"
C = load_programme_file(PROGRAMMES / "henan_demo_base.yaml")
D = load_programme_file(PROGRAMMES / "langfang_digital.yaml")


# Programme D ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("category", "eligible", "claimed", "granted_for_this_recognition", "amount"),
    [
        pytest.param("试点", 500.0, 120.0, False, 100.0, id="pilot-20-percent"),
        pytest.param("示范", 2000.0, 400.0, False, 200.0, id="demonstration-capped-2m"),
        pytest.param("平台", 1000.0, 400.0, False, 300.0, id="platform-30-percent"),
        pytest.param("平台", 5000.0, 1500.0, False, 500.0, id="platform-capped-5m"),
        pytest.param("平台", 1000.0, 300.0, True, 0.0, id="platform-once-per-recognition"),
        pytest.param("试点", 500.0, 50.0, False, 50.0, id="claim-below-ceiling"),
        pytest.param("其他", 500.0, 50.0, False, 0.0, id="unknown-category"),
    ],
)
def test_langfang_subsidy_shares_and_caps_of_section_four(
    category: str, eligible: float, claimed: float, granted_for_this_recognition: bool, amount: float
) -> None:
    assert (
        subsidy_for_claim(D.subsidy_rules, category, eligible, claimed, granted_for_this_recognition)[0]
        == amount
    )


def test_stage_targets_2023_are_one_platform_ten_demonstration_twenty_pilot_firms() -> None:
    targets = {(t.metric, t.minimum) for t in D.stage_targets if t.year == 2023}

    assert targets == {("platforms", 1), ("demonstration_firms", 10), ("pilot_firms", 20)}


def test_stage_targets_2024_are_two_platforms_and_sixty_pilot_or_demonstration_firms() -> None:
    targets = {(t.metric, t.minimum) for t in D.stage_targets if t.year == 2024}

    assert targets == {("platforms", 2), ("pilot_or_demonstration_firms", 60)}


def test_stage_counts_are_distinct_firms_cumulated_over_the_years() -> None:
    # 30 pilot firms claim in 2023 and claim again in 2024; 30 new demonstration firms in 2024.
    rows = [(f"试点企业{i}", "试点", y) for i in range(30) for y in (2023, 2024)]
    rows += [(f"示范企业{i}", "示范", 2024) for i in range(30)]
    rows += [("平台甲", "平台", 2023), ("平台甲", "平台", 2024), ("平台乙", "平台", 2024)]

    counts = recognised_counts(rows, 2024)

    assert counts == {
        "platforms": 2,
        "demonstration_firms": 30,
        "pilot_firms": 30,
        "pilot_or_demonstration_firms": 60,
    }
    assert all(p["met"] for p in stage_target_progress(D.stage_targets, 2024, counts))


def test_a_pilot_firm_that_becomes_a_demonstration_firm_counts_once() -> None:
    counts = recognised_counts([("甲", "试点", 2023), ("甲", "示范", 2024)], 2024)

    assert counts["pilot_or_demonstration_firms"] == 1


def test_later_recognitions_do_not_count_towards_an_earlier_stage() -> None:
    assert recognised_counts([("甲", "平台", 2024)], 2023)["platforms"] == 0


@pytest.mark.parametrize("programme", [C, D], ids=["henan", "langfang"])
def test_documents_without_a_validity_give_no_expiry(programme) -> None:
    assert programme.validity.years is None


# Programme C ---------------------------------------------------------------------------------


def test_bulletin_commends_the_best_and_flags_bases_without_a_recorded_visit() -> None:
    rows = [
        {"base": "甲", "output_yi": 300, "investment_wan": 10},
        {"base": "乙", "output_yi": 700, "investment_wan": 50},
        {"base": "丙", "output_yi": 100, "investment_wan": 30},
    ]

    ranking = bulletin_ranking(
        rows, C.bulletin_indicators, visited={"甲", "丙"}, commend_top=C.bulletin_commend_top
    )

    assert [(r["base"], r["rank"], r["commended"]) for r in ranking] == [
        ("乙", 1, True),
        ("丙", 2, True),
        ("甲", 3, False),
    ]
    assert [r["base"] for r in ranking if r["no_counselling_visit"]] == ["乙"]


def test_the_quarterly_template_no_longer_asks_bases_to_count_their_own_visits() -> None:
    keys = {c.key for c in get_dataset("henan_quarterly").columns}

    assert "counselling_visits" not in keys
    assert "counselling_visits" not in C.bulletin_indicators


def test_every_enrolled_base_or_target_without_a_visit_is_flagged_even_if_it_did_not_report() -> None:
    assert without_visit({"a", "b", "c"}, {"b"}) == ["a", "c"]


@pytest.mark.parametrize(
    ("result", "outcome"),
    [
        pytest.param("failed", "propose_revoke_title", id="fail-proposes-losing-the-title"),
        pytest.param("passed", "keep_title", id="pass-keeps-it"),
        pytest.param(None, "awaiting_re_review", id="no-result-yet"),
    ],
)
def test_re_review_of_a_base_is_a_proposal(result: str | None, outcome: str) -> None:
    verdict = re_review_proposal(C, "hn_base_food", result, "豫工信〔2025〕1号")

    assert verdict.outcome == outcome
    assert verdict.figures["state"] == "proposed"
    assert not announceable(verdict.figures)
    assert "三（一）" in verdict.clause


def test_the_december_meeting_is_not_moved_into_the_next_half_year() -> None:
    # 2028-12-31 is a Sunday: a deadline would move to 2029-01-02; a half-year's meeting stays in it.
    h2 = find_instance(C, 2028, "observation_meeting", "H2")

    assert h2.effective_due == dt.date(2028, 12, 31)


# Recorded facts ------------------------------------------------------------------------------


def test_a_meeting_dated_outside_its_half_year_is_refused() -> None:
    fact = Fact("henan_demo_base", "meeting", 2025, "H1", on_date=dt.date(2025, 7, 3), outcome="held")

    with pytest.raises(FactError, match="上半年"):
        checked(fact)


def test_a_visit_takes_its_year_and_quarter_from_its_date() -> None:
    fact = checked(Fact("henan_demo_base", "visit", subject="hn_base_food", on_date=dt.date(2025, 8, 12),
                        details={"expert": "王专家"}))  # fmt: skip

    assert (fact.cycle_year, fact.period, natural_key(fact)) == (2025, "Q3", "hn_base_food/2025-08-12")


def test_a_visit_needs_its_expert() -> None:
    with pytest.raises(FactError, match="专家"):
        checked(Fact("henan_demo_base", "visit", subject="hn_base_food", on_date=dt.date(2025, 8, 12)))


def test_recording_the_same_fact_twice_keeps_one_row_with_the_latest_recorder(migrated_url: str) -> None:
    fact = Fact("henan_demo_base", "meeting", 2025, "H1", on_date=dt.date(2025, 6, 18), outcome="held")
    with session_scope(migrated_url) as s:
        save_fact(s, fact, recorded_by="张三", source="cli")
    with session_scope(migrated_url) as s:
        _, new = save_fact(s, fact, recorded_by="李四", source="airflow")

    with session_scope(migrated_url) as s:
        rows = s.scalars(select(RecordedFact)).all()
        assert (new, len(rows), rows[0].recorded_by, rows[0].source) == (False, 1, "李四", "airflow")
        assert rows[0].recorded_at is not None


def test_a_fact_without_a_recorder_is_refused(migrated_url: str) -> None:
    fact = Fact("henan_demo_base", "meeting", 2025, "H2", outcome="not_held")

    with session_scope(migrated_url) as s, pytest.raises(FactError, match="记录人"):
        save_fact(s, fact, recorded_by=" ", source="cli")


@pytest.fixture
def seeded(db_url: str, review_env: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The demo database (Henan bases, Langfang clusters) the command line writes to."""
    from review_calendar.store.db import upgrade

    monkeypatch.setenv("REVIEW_CALENDAR_DB_URL", db_url)
    upgrade(db_url)
    seed_demo(db_url)
    return db_url


def test_cli_records_a_visit_once_however_often_it_is_entered(
    seeded: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["record", "visit", "--programme", "henan_demo_base", "--cluster", "hn_base_food",
            "--date", "2025-08-12", "--expert", "王专家", "--by", "省厅张三"]  # fmt: skip

    assert main(argv) == 0
    assert main(argv) == 0

    outputs = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [o["new"] for o in outputs] == [True, False]
    with session_scope(seeded) as s:
        assert s.scalar(select(func.count()).select_from(RecordedFact)) == 1


def test_cli_refuses_a_visit_to_an_unknown_base(seeded: str, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["record", "visit", "--programme", "henan_demo_base", "--cluster", "nope", "--date", "2025-08-12",
                 "--expert", "王专家", "--by", "张三"])  # fmt: skip

    assert code == 1
    assert "nope" in capsys.readouterr().err


def test_a_failed_re_review_is_proposed_and_the_base_keeps_its_status(seeded: str) -> None:
    code = main(["record", "re-review", "--programme", "henan_demo_base", "--cluster", "hn_base_food",
                 "--year", "2025", "--result", "failed", "--by", "省厅张三"])  # fmt: skip

    assert code == 0
    with session_scope(seeded) as s:
        decision = s.scalar(select(Decision).where(Decision.kind == "base_re_review"))
        enrolment = s.get(Enrolment, ("henan_demo_base", "hn_base_food"))
        assert (decision.subject, decision.outcome) == ("hn_base_food", "propose_revoke_title")
        assert enrolment.status == "active"


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        pytest.param(["miit-decision", "--programme", "hebei_smart_cluster", "--cluster", "anguo_tcm",
                      "--decision", "extend"], "不记录", id="miit-decides-nothing-of-a-provincial-pilot"),
        pytest.param(["miit-decision", "--programme", "miit_sme_cluster", "--cluster", "anguo_tcm",
                      "--decision", "extend"], "不是中小企业特色产业集群的认定对象", id="not-recognised-by-miit"),
        pytest.param(["re-review", "--programme", "miit_sme_cluster", "--cluster", "xinji_leather",
                      "--result", "failed"], "不记录", id="base-re-review-is-henan-only"),
        pytest.param(["visit", "--programme", "henan_demo_base", "--cluster", "anguo_tcm", "--date", "2025-08-12",
                      "--expert", "王专家"], "不是河南省新型工业化产业示范基地的认定对象", id="visit-to-a-hebei-cluster"),
    ],
)  # fmt: skip
def test_record_refuses_a_fact_the_programme_has_no_step_for(
    seeded: str, argv: list[str], words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A fact lands only on a programme whose documents have that step, for one of its own clusters."""
    extra = [] if "visit" in argv else ["--year", "2025"]
    if argv[0] == "miit-decision":
        extra += ["--reference", "工信部企业函〔2025〕9号"]
    code = main(["record", *argv, *extra, "--by", "张三"])

    assert code != 0
    assert words in capsys.readouterr().err
    with session_scope(seeded) as s:
        assert s.scalar(select(func.count()).select_from(RecordedFact)) == 0
        assert s.get(Enrolment, ("hebei_smart_cluster", "anguo_tcm")).status != "extended"


def test_findings_apply_to_miit_recognitions_only(seeded: str, capsys: pytest.CaptureFixture[str]) -> None:
    """第十七条 is MIIT's: a finding under a provincial programme, or on a cluster MIIT did not recognise, is refused."""
    base = ["findings", "add", "--year", "2025", "--condition", "major_incident"]

    assert main([*base, "--programme", "henan_demo_base", "--cluster", "hn_base_food"]) != 0
    assert main([*base, "--programme", "miit_sme_cluster", "--cluster", "anguo_tcm"]) != 0
    assert "不适用第十七条" in capsys.readouterr().err
    with session_scope(seeded) as s:
        assert s.scalar(select(func.count()).select_from(Decision)) == 0


def test_cli_records_miit_decision_with_its_number(seeded: str) -> None:
    code = main(["record", "miit-decision", "--programme", "miit_sme_cluster", "--cluster", "botou_casting",
                 "--year", "2025", "--decision", "keep", "--reference", "工信部企业函〔2025〕1号", "--by", "张三"])  # fmt: skip

    assert code == 0
    with session_scope(seeded) as s:
        row = s.scalar(select(RecordedFact))
        assert (row.kind, row.outcome, row.reference, row.recorded_by) == (
            "miit_decision", "keep", "工信部企业函〔2025〕1号", "张三")  # fmt: skip


@pytest.mark.parametrize(
    ("decision", "status", "years_added"),
    [
        pytest.param("extend", "extended", 3, id="extend-3-years-once"),
        pytest.param("revoke_recognition", "revoked", 0, id="revoke"),
        pytest.param("keep", "active", 0, id="keep"),
    ],
)
def test_miit_decision_closes_the_recommendation_and_moves_the_status(
    seeded: str, decision: str, status: str, years_added: int
) -> None:
    """第十五条 / 第十七条: MIIT decides; its recorded answer closes our recommendation and is applied once."""
    from review_calendar.domain.programmes import load_programme
    from review_calendar.domain.verdicts import Verdict, announceable
    from review_calendar.store.decision_log import record_decision

    b = load_programme("miit_sme_cluster")
    with session_scope(seeded) as s:
        before = s.get(Enrolment, ("miit_sme_cluster", "botou_casting")).valid_until
        verdict = Verdict("botou_casting", "recommend_revoke", "建议撤销认定", "r", "第十七条",
                          {"state": "proposed", "ministry_decision": None})  # fmt: skip
        record_decision(s, b.id, 2025, "re_review", verdict, "t")
    argv = ["record", "miit-decision", "--programme", "miit_sme_cluster", "--cluster", "botou_casting",
            "--year", "2025", "--decision", decision, "--reference", "工信部企业函〔2025〕9号", "--by", "张三"]  # fmt: skip

    assert main(argv) == 0
    assert main(argv) == 0  # recorded twice: applied once
    with session_scope(seeded) as s:
        row = s.scalar(
            select(Decision).where(Decision.kind == "re_review", Decision.subject == "botou_casting")
        )
        enrolment = s.get(Enrolment, ("miit_sme_cluster", "botou_casting"))
        assert row.figures["state"] == "ministry_decided"
        assert row.figures["ministry_decision"]["decision"] == decision
        assert row.figures["ministry_decision"]["reference"] == "工信部企业函〔2025〕9号"
        assert announceable(row.figures)
        assert enrolment.status == status
        assert enrolment.valid_until.year == before.year + years_added


def test_no_city_owes_anything_for_an_observation_meeting(seeded: str) -> None:
    instance = find_instance(C, 2025, "observation_meeting", "H1")

    with session_scope(seeded) as s:
        assert expected_submitters(s, C, instance) == []


@pytest.mark.parametrize(
    ("programme", "obligation", "period", "year"),
    [
        pytest.param(C, "quarterly_figures", "Q4", 2031, id="henan-bases-years-later"),
        pytest.param(D, "subsidy_claims", "Y", 2027, id="langfang-clusters-after-three-years"),
    ],
)
def test_no_invented_expiry_stops_enrolled_regions_from_being_expected(
    seeded: str, programme, obligation, period, year
) -> None:
    instance = find_instance(programme, year, obligation, period)

    with session_scope(seeded) as s:
        enrolments = s.scalars(select(Enrolment).where(Enrolment.programme_id == programme.id)).all()
        submitters = expected_submitters(s, programme, instance)
    assert {e.valid_until for e in enrolments} == {OPEN_ENDED}
    assert len(submitters) == len(enrolments)


def test_after_the_last_stage_the_count_is_measured_against_the_2024_targets() -> None:
    progress = stage_target_progress(
        D.stage_targets, 2025, {"platforms": 3, "pilot_or_demonstration_firms": 12}
    )

    assert [(p["stage_year"], p["metric"], p["minimum"], p["met"]) for p in progress] == [
        (2024, "platforms", 2, True),
        (2024, "pilot_or_demonstration_firms", 60, False),
    ]


def test_no_stage_before_the_first_target_year() -> None:
    assert stage_target_progress(D.stage_targets, 2022, {"platforms": 5}) == []


def test_bulletin_is_written_and_mailed_to_every_city_once(seeded: str, review_env: Path) -> None:
    """三（五）之三: the bulletin is published (HTML, Excel) and, once a reviewer approves, sent to the 14 city bureaus, once."""
    from review_calendar.store.models import OutboxMessage
    from review_calendar.tasks.bulletin import publish_bulletin
    from tests.support.reviews import answer

    instance = find_instance(C, 2025, "quarterly_figures", "Q3")
    main(["record", "visit", "--programme", "henan_demo_base", "--cluster", "hn_base_food", "--date", "2025-08-12",
          "--expert", "王专家", "--by", "张三"])  # fmt: skip
    main(["record", "meeting", "--programme", "henan_demo_base", "--year", "2025", "--period", "H2",
          "--outcome", "not_held", "--by", "张三"])  # fmt: skip
    main(["record", "re-review", "--programme", "henan_demo_base", "--cluster", "hn_base_food", "--year", "2025",
          "--result", "failed", "--by", "张三"])  # fmt: skip

    for _ in range(2):
        with session_scope(seeded) as s:
            result = publish_bulletin(s, C, instance, "2025-10-20")

    html = Path(result["files"]["html"]).read_text(encoding="utf-8")
    assert Path(result["files"]["xlsx"]).exists()
    assert "下半年观摩会：未召开" in html
    assert "合成装备制造示范基地" in html and "尚无专家辅导记录" in html  # no visit recorded for it in Q3
    assert "建议取消示范基地称号（待审核）" in html  # first batch, failed re-review: a proposal
    with session_scope(seeded) as s:  # goes out in the department's name: nothing before a reviewer approves
        assert s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "bulletin")).all() == []
    answer(seeded, "henan_demo_base", "bulletin", "quarterly_figures/Q3", by="henan_reviewer")
    with session_scope(seeded) as s:
        publish_bulletin(s, C, instance, "2025-10-20")  # a re-run proposes nothing new and sends nothing
    with session_scope(seeded) as s:
        messages = s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "bulletin")).all()
        assert len(messages) == 14
        assert sorted(Path(a).suffix for a in messages[0].attachments) == [".html", ".xlsx"]
        assert "三（五）之三" in messages[0].body and "创建工作通报" in messages[0].subject
