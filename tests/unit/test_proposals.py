"""第十七条 proposals every year, B re-review recommendations, and what is (not) applied or mailed.

工信部企业〔2022〕119号: recognition, re-review and revocation are MIIT's (第十四条,
第十五条, 第十七条); the province proposes and recommends, a reviewer decides.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from review_calendar.decide.apply import decide_evaluations
from review_calendar.decide.proposals import propose_article17, propose_for_finding
from review_calendar.domain.programmes import find_instance, load_programme_file
from review_calendar.store.db import session_scope
from review_calendar.store.models import Decision, Enrolment, Evaluation, Finding, Submission
from review_calendar_demo.seed import seed_demo

pytestmark = pytest.mark.unit
PROGRAMMES = Path(__file__).resolve().parents[2] / "programmes"
B = load_programme_file(PROGRAMMES / "miit_sme_cluster.yaml")
A = load_programme_file(PROGRAMMES / "hebei_smart_cluster.yaml")
#: Demo clusters recognised 2022-11-30 and their counties.
XINJI, BOTOU, PINGXIANG, ANPING = "130181", "130981", "130532", "131125"


def _file(region: str, day: dt.date, status: str, late: bool, n: int, year: int = 2023) -> Submission:
    return Submission(
        programme_id=B.id, cycle_year=year, obligation_id="annual_info_table", period="Y", region_code=region,
        file_name=f"{region}-{n}.xlsx", stored_path="x", content_hash=f"h{n}".ljust(64, "0"),
        received_on=day, status=status, is_late=late,
    )  # fmt: skip


@pytest.fixture
def tables_2023(migrated_url: str) -> str:
    """The 2023 annual tables (due 2023-04-30, moved to 2023-05-04): on time, late, rejected, missing."""
    seed_demo(migrated_url)
    with session_scope(migrated_url) as s:
        s.add_all(
            [
                _file(XINJI, dt.date(2023, 5, 4), "accepted", False, 1),  # on the moved due date: on time
                _file(BOTOU, dt.date(2023, 5, 5), "accepted", True, 2),
                _file(PINGXIANG, dt.date(2023, 4, 20), "rejected", False, 3),  # never corrected
            ]
        )
    return migrated_url


def _proposals(url: str, year: int = 2023) -> dict[str, Decision]:
    with session_scope(url) as s:
        rows = s.scalars(
            select(Decision).where(Decision.kind == "article17", Decision.cycle_year == year)
        ).all()
        s.expunge_all()
    return {r.subject: r for r in rows}


def test_annual_table_not_on_time_is_an_article_17_3_proposal_every_year(tables_2023: str) -> None:
    """第十七条（三） and 第十六条's Apr 30 table: in 2023, not only in the expiry year 2025."""
    instance = find_instance(B, 2023, "annual_info_table")
    assert instance.effective_due == dt.date(2023, 5, 4)
    with session_scope(tables_2023) as s:
        result = propose_article17(s, B, instance, "run-1", dry_run=False)

    proposals = _proposals(tables_2023)
    states = {k.split("/")[0]: v.figures["evidence"]["submission_state"] for k, v in proposals.items()}
    assert "xinji_leather" not in states
    assert (states["botou_casting"], states["pingxiang_bicycle"], states["anping_wire_mesh"]) == (
        "late",
        "rejected",
        "missing",
    )
    botou = proposals["botou_casting/annual_table_missing"]
    assert (botou.outcome, botou.figures["state"], botou.figures["answer"]) == (
        "propose_report",
        "proposed",
        None,
    )
    assert botou.figures["evidence"]["effective_due"] == "2023-05-04"
    assert "第十七条（三）" in botou.clause and "第十七条（三）" in botou.figures["basis"]
    assert result["by_ground"] == {"annual_table_missing": len(proposals)}


def test_a_cluster_recognised_after_the_due_date_owes_no_table(tables_2023: str) -> None:
    with session_scope(tables_2023) as s:
        propose_article17(s, B, find_instance(B, 2023, "annual_info_table"), "run-1", dry_run=False)

    clusters = {k.split("/")[0] for k in _proposals(tables_2023)}
    assert "xianghe_furniture" not in clusters  # recognised 2023-12-20


def test_proposals_change_no_enrolment(tables_2023: str) -> None:
    with session_scope(tables_2023) as s:
        propose_article17(s, B, find_instance(B, 2023, "annual_info_table"), "run-1", dry_run=False)
    with session_scope(tables_2023) as s:
        statuses = {e.status for e in s.scalars(select(Enrolment).where(Enrolment.programme_id == B.id))}
    assert "revoked" not in statuses


def test_an_answered_proposal_is_not_overwritten_by_a_re_run(tables_2023: str) -> None:
    instance = find_instance(B, 2023, "annual_info_table")
    with session_scope(tables_2023) as s:
        propose_article17(s, B, instance, "run-1", dry_run=False)
    with session_scope(tables_2023) as s:
        row = s.scalars(
            select(Decision).where(Decision.subject == "botou_casting/annual_table_missing")
        ).one()
        row.figures = {**row.figures, "state": "approved", "answer": "报部", "decided_by": "reviewer"}
        s.add(_file(BOTOU, dt.date(2023, 5, 6), "accepted", True, 4))
    with session_scope(tables_2023) as s:
        propose_article17(s, B, instance, "run-2", dry_run=False)

    row = _proposals(tables_2023)["botou_casting/annual_table_missing"]
    assert (row.figures["state"], row.run_id) == ("approved", "run-1")


@pytest.mark.parametrize("condition", ["false_declaration", "unreported_change", "major_incident"])
def test_a_finding_becomes_a_proposal_in_the_year_it_is_recorded(migrated_url: str, condition: str) -> None:
    """第十七条（二）（四）（五） whenever recorded: a 2024 finding for a cluster whose recognition ends in 2025."""
    seed_demo(migrated_url)
    with session_scope(migrated_url) as s:
        finding = Finding(programme_id=B.id, cluster_id="botou_casting", cycle_year=2024, condition=condition,
                          note="核查发现", recorded_by="reviewer")  # fmt: skip
        s.add(finding)
        s.flush()
        assert propose_for_finding(s, B, finding)

    row = _proposals(migrated_url, 2024)[f"botou_casting/{condition}"]
    assert (row.outcome, row.figures["state"]) == ("propose_report", "proposed")
    assert row.figures["evidence"]["recorded_by"] == "reviewer"


def test_b_monitoring_evaluation_applies_nothing(migrated_url: str) -> None:
    """A score of 52 (the demo's pingxiang_bicycle) is no 第十七条 ground: recorded for the report, status kept."""
    seed_demo(migrated_url)
    instance = find_instance(B, 2025, "monitoring_evaluation")
    with session_scope(migrated_url) as s:
        s.add(Evaluation(programme_id=B.id, cycle_year=2025, cluster_id="pingxiang_bicycle", evaluator="x",
                         score=52.0, violation=False))  # fmt: skip
    with session_scope(migrated_url) as s:
        decide_evaluations(s, B, instance, "run-1", dry_run=False)
    with session_scope(migrated_url) as s:
        row = s.scalars(select(Decision).where(Decision.subject == "pingxiang_bicycle")).one()
        enrolment = s.scalars(select(Enrolment).where(Enrolment.cluster_id == "pingxiang_bicycle",
                                                      Enrolment.programme_id == B.id)).one()  # fmt: skip
        assert (row.outcome, row.figures["state"]) == ("monitored", "for_report")
        assert enrolment.status != "revoked"


def test_findings_add_records_the_proposal_at_once(
    review_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`review-calendar findings add` in 2024 (not an expiry year): a 第十七条（四） proposal, 待审定."""
    from review_calendar.cli import main
    from review_calendar.settings import get_settings
    from review_calendar.store.db import upgrade

    url = get_settings().db_url
    upgrade(url)
    seed_demo(url)
    code = main(["findings", "add", "--programme", B.id, "--cluster", "xinji_leather", "--year", "2024",
                 "--condition", "unreported_change", "--note", "运营管理机构变更未报备", "--by", "reviewer"])  # fmt: skip

    assert code == 0
    assert "待审定" in capsys.readouterr().out
    row = _proposals(url, 2024)["xinji_leather/unreported_change"]
    assert row.figures["evidence"]["note"] == "运营管理机构变更未报备"
    assert "第十七条（四）" in row.clause


@pytest.mark.parametrize(("state", "kept"), [("decided", False), ("proposed", False), ("approved", True)])
def test_only_an_answered_record_is_kept_on_a_re_run(migrated_url: str, state: str, kept: bool) -> None:
    from review_calendar.decide.proposals import record_proposal
    from review_calendar.domain.verdicts import Verdict

    first = Verdict("x", "extend", "r", "rule", "第十五条", {"state": state})
    again = Verdict("x", "revoke_recognition", "r2", "rule", "第十五条", {"state": "decided"})
    with session_scope(migrated_url) as s:
        record_proposal(s, B, 2025, "re_review", first, "run-1")
    with session_scope(migrated_url) as s:
        record_proposal(s, B, 2025, "re_review", again, "run-2")
    with session_scope(migrated_url) as s:
        outcome = s.scalars(select(Decision.outcome)).one()

    assert outcome == ("extend" if kept else "revoke_recognition")
