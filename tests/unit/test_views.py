"""The reviewers' pages' read model (``review_calendar.reviewer_pages``) on a real SQLite review database.

The database is migrated and seeded with the demo province, then each test
upserts the submissions, gate runs, figures and decisions it reads, as the
intake and aggregation tasks would.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from review_calendar.domain.programmes import Programme, load_programmes
from review_calendar.reviewer_pages.calendar import calendar_view
from review_calendar.reviewer_pages.common import cycle_years
from review_calendar.reviewer_pages.decisions import (
    acceptances_view,
    decision_dag_id,
    decision_groups,
    decisions_view,
    pending_view,
)
from review_calendar.reviewer_pages.lagging import LaggingFilter
from review_calendar.reviewer_pages.matrix import status_matrix
from review_calendar.reviewer_pages.progress import (
    CityShare,
    ProgressPoint,
    ProgressSeries,
    on_time_share_by_city,
    progress_series,
)
from review_calendar.reviewer_pages.results import (
    aggregates_view,
    gate_results,
    is_ratio,
    report_relpath,
)
from review_calendar.store.db import session_scope, upgrade, upsert
from review_calendar.store.models import (
    Aggregate,
    Decision,
    GateRun,
)
from tests.support.builders import Key, add_cluster, add_enrolment, add_submission

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[2]
P = "hebei_smart_cluster"
YEAR = 2025
AFTER_ALL = dt.date(2026, 11, 23)  # every 2025 window has closed
D = dt.date


@pytest.fixture(scope="module")
def programme() -> Programme:
    return load_programmes(ROOT / "programmes")[P]


@pytest.fixture
def url(tmp_path: Path) -> str:
    from review_calendar_demo.seed import seed_demo

    url = f"sqlite:///{tmp_path / 'review.db'}"
    upgrade(url)
    seed_demo(url)
    return url


@pytest.fixture
def session(url: str) -> Iterator[Session]:
    with session_scope(url) as s:
        yield s


def add_files(session: Session, *files: tuple[str, str, dt.date, str, bool, int]) -> None:
    """Add submissions: (obligation, region, received_on, status, is_late, error_count)."""
    for n, (o, region, received, status, late, errors) in enumerate(files):
        add_submission(session, Key(P, YEAR, o), region, received, f"{region}-{o}-{n}.xlsx", status=status,
                       is_late=late, error_count=errors, stored_path="x", size_bytes=1, row_count=1)  # fmt: skip


# status matrix


def test_matrix_columns_are_the_cycle_instances_by_due_date(session: Session, programme: Programme) -> None:
    matrix = status_matrix(session, programme, YEAR, AFTER_ALL)

    assert [c.key for c in matrix.columns] == [
        "contact_list/Y", "development_plan/Y", "half_year_report/Y", "pilot_application/Y",
        "full_year_report/Y", "performance_evaluation/Y",
    ]  # fmt: skip
    assert matrix.columns[-1].effective_due == D(2026, 3, 16)  # 2026-03-15 is a Sunday


def test_matrix_rows_are_expected_submitters_grouped_by_city(session: Session, programme: Programme) -> None:
    matrix = status_matrix(session, programme, YEAR, AFTER_ALL)

    groups = {g.city_name: [r.region_name for r in g.rows] for g in matrix.groups}
    assert groups["保定市"] == ["保定市", "蠡县", "高碑店市"]
    assert groups["石家庄市"] == ["石家庄市", "藁城区"]
    assert groups["河北省"] == ["河北省"]  # the evaluator reports for the province
    assert len(groups) == 14  # 13 cities (incl. 定州, 辛集) and the province
    assert [g.city_code for g in matrix.groups] == sorted(g.city_code for g in matrix.groups)


def test_matrix_shows_each_state_after_the_windows_closed(session: Session, programme: Programme) -> None:
    add_files(
        session,
        ("contact_list", "130100", D(2025, 3, 20), "accepted", False, 0),
        ("contact_list", "130200", D(2025, 4, 8), "accepted", True, 0),
        ("contact_list", "130300", D(2025, 3, 28), "rejected", False, 3),
        ("development_plan", "130635", D(2025, 6, 28), "rejected", False, 5),
    )

    matrix = status_matrix(session, programme, YEAR, AFTER_ALL)

    assert matrix.cell("130100", "contact_list").state == "on_time"
    assert matrix.cell("130200", "contact_list").label == "逾期提交"
    rejected = matrix.cell("130300", "contact_list")
    assert (rejected.label, rejected.error_count) == ("已退回", 3)
    assert "3 处错误" in rejected.title
    assert matrix.cell("130400", "contact_list").label == "未提交"
    assert matrix.cell("130635", "development_plan").state == "rejected"
    assert matrix.cell("130635", "contact_list").state == "not_applicable"  # a county owes no contact list
    assert matrix.counts == {"on_time": 1, "late": 1, "rejected": 2, "missing": 29 - 4}


def test_matrix_inside_a_window_shows_open_and_not_due(session: Session, programme: Programme) -> None:
    add_files(session, ("development_plan", "130684", D(2025, 6, 2), "accepted", False, 0))

    matrix = status_matrix(session, programme, YEAR, D(2025, 6, 10))

    assert matrix.cell("130684", "development_plan").state == "on_time"
    assert matrix.cell("130229", "development_plan").state == "open"
    assert matrix.cell("130229", "half_year_report").state == "not_due"  # opens 2025-06-25
    assert matrix.cell("130400", "contact_list").state == "missing"  # closed on 2025-03-31
    assert [c.phase for c in matrix.columns][:3] == ["closed", "open", "upcoming"]


def test_a_county_with_two_clusters_is_one_row_naming_both(session: Session, programme: Programme) -> None:
    add_cluster(session, "gbd_second", "高碑店第二集群", "130684")
    add_enrolment(session, P, "gbd_second", D(2025, 1, 2), D(2028, 1, 1))

    matrix = status_matrix(session, programme, YEAR, AFTER_ALL)

    rows = [r for r in matrix.rows if r.region_code == "130684"]
    assert len(rows) == 1
    assert rows[0].clusters == ("白沟箱包产业集群", "高碑店第二集群")


# calendar


def test_calendar_splits_past_and_upcoming_deadlines(session: Session, programme: Programme) -> None:
    add_files(
        session,
        ("development_plan", "130684", D(2025, 6, 20), "accepted", False, 0),
        ("development_plan", "130229", D(2025, 7, 3), "accepted", True, 0),
        ("development_plan", "130635", D(2025, 6, 28), "rejected", False, 5),
    )

    (calendar,) = calendar_view(session, {P: programme}, YEAR, D(2025, 7, 5))

    assert [e.obligation_id for e in calendar.past] == ["contact_list", "development_plan"]
    assert [e.phase for e in calendar.upcoming] == ["open", "upcoming", "upcoming", "upcoming"]
    plan = calendar.entries[1]
    assert (plan.expected, plan.accepted, plan.late, plan.rejected) == (5, 2, 1, 1)
    assert plan.dag_id == "review_cycle__hebei_smart_cluster__development_plan"
    half_year = calendar.entries[2]
    assert (half_year.phase_label, half_year.days_left) == ("报送中", 10)
    evaluation = calendar.entries[-1]
    assert evaluation.shifted and evaluation.due_is_configured
    assert calendar.dag_id == "programme_calendar__hebei_smart_cluster"


def test_calendar_labels_configured_dates_and_recurrences(session: Session, programme: Programme) -> None:
    """93号 七 dates the contact list (法定截止日期) but asks only 2016 for it: yearly is 配置.

    93号 五 gives the yearly evaluation no date: its date is 配置日期.
    """
    (calendar,) = calendar_view(session, {P: programme}, YEAR, D(2025, 7, 5))
    entries = {e.obligation_id: e for e in calendar.entries}

    contact, evaluation = entries["contact_list"], entries["performance_evaluation"]
    assert (contact.due_label, contact.recurrence_label, contact.recurrence_is_configured) == (
        "法定截止日期",
        "每年（配置）",
        True,
    )
    assert (evaluation.due_label, evaluation.recurrence_is_configured) == ("配置日期", False)


def test_calendar_lists_ad_hoc_reports_without_a_deadline(session: Session, programme: Programme) -> None:
    """93号 五: major progress is reported at any time (随时上报): listed, never an entry with a due date."""
    (calendar,) = calendar_view(session, {P: programme}, YEAR, D(2025, 7, 5))

    assert [(a.obligation_id, a.recurrence_label) for a in calendar.ad_hoc] == [
        ("major_progress", "随时报送（无固定日期）"),
        ("rectification_report", "随时报送（无固定日期）"),
    ]
    assert "major_progress" not in {e.obligation_id for e in calendar.entries}


def test_calendar_view_covers_every_programme_sorted(session: Session) -> None:
    programmes = load_programmes(ROOT / "programmes")

    calendars = calendar_view(session, programmes, YEAR, AFTER_ALL)

    assert [c.programme_id for c in calendars] == sorted(programmes)
    assert all(e.phase == "closed" for c in calendars for e in c.entries if e.effective_due < AFTER_ALL)


# charts' data


def test_on_time_share_by_city_counts_only_due_cells(session: Session, programme: Programme) -> None:
    add_files(
        session,
        ("contact_list", "130600", D(2025, 3, 20), "accepted", False, 0),
        ("development_plan", "130684", D(2025, 6, 20), "accepted", False, 0),
        ("development_plan", "130635", D(2025, 7, 2), "accepted", True, 0),
    )

    shares = {s.city_name: s for s in on_time_share_by_city(session, programme, YEAR, D(2025, 7, 5))}

    baoding = shares["保定市"]  # contact list, two development plans; half-year still open, not counted
    assert (baoding.due, baoding.on_time, baoding.late, baoding.missing) == (3, 2, 1, 0)
    assert baoding.share == pytest.approx(2 / 3)
    assert shares["河北省"].due == 0 and shares["河北省"].share is None
    assert shares["邯郸市"].missing == 1


def test_progress_series_counts_each_region_once_per_instance(session: Session, programme: Programme) -> None:
    add_files(
        session,
        ("development_plan", "130684", D(2025, 6, 20), "accepted", False, 0),
        ("development_plan", "130684", D(2025, 6, 22), "accepted", False, 0),  # a correction
        ("development_plan", "130229", D(2025, 6, 20), "accepted", False, 0),
        ("development_plan", "130635", D(2025, 6, 25), "rejected", False, 2),
        ("development_plan", "130322", D(2025, 7, 3), "accepted", True, 0),
        ("contact_list", "130100", D(2025, 3, 20), "accepted", False, 0),
    )

    series = progress_series(session, programme, YEAR, "development_plan", "Y")

    assert [(p.day, p.accepted, p.cumulative) for p in series.points] == [
        (D(2025, 6, 20), 2, 2),
        (D(2025, 7, 3), 1, 3),
    ]
    assert (series.expected, series.due_dates, series.opens_on) == (5, (D(2025, 6, 30),), D(2025, 5, 1))
    whole_year = progress_series(session, programme, YEAR)
    assert whole_year.points[-1].cumulative == 4
    assert whole_year.expected == 13 + 5 * 3 + 1


# gates, aggregates, decisions


def test_gate_results_newest_first_with_report_links(session: Session, tmp_path: Path) -> None:
    reports = tmp_path / "reports"
    base = {"programme_id": P, "cycle_year": YEAR, "obligation_id": "development_plan", "period": "Y",
            "gate": "development_plan", "warnings": 0, "summary": {"rows": 5}}  # fmt: skip
    upsert(session, GateRun, [
        {**base, "run_id": "scheduled__a", "success": False, "critical_failures": 2,
         "html_path": str(reports / "p" / "gate.html"), "created_at": dt.datetime(2025, 7, 1, tzinfo=dt.UTC)},
        {**base, "run_id": "manual__b", "success": True, "critical_failures": 0,
         "html_path": "/elsewhere/gate.html", "created_at": dt.datetime(2025, 7, 5, tzinfo=dt.UTC)},
    ], ["programme_id", "cycle_year", "obligation_id", "period", "gate", "run_id"])  # fmt: skip

    results = gate_results(session, P, YEAR, "development_plan", "Y", reports_dir=reports)

    assert [(g.run_id, g.success, g.report) for g in results] == [
        ("manual__b", True, None),  # outside the reports folder: no link
        ("scheduled__a", False, "p/gate.html"),
    ]
    assert results[0].dag_id == "review_cycle__hebei_smart_cluster__development_plan"
    assert gate_results(session, P, YEAR, "contact_list") == []


def test_aggregates_view_lists_province_then_cities_then_counties(
    session: Session, programme: Programme
) -> None:
    key = {"programme_id": P, "cycle_year": YEAR, "obligation_id": "development_plan", "period": "Y"}
    upsert(session, Aggregate, [
        {**key, "region_code": "130684", "metric": "accepted", "value": 1.0, "text": ""},
        {**key, "region_code": "130600", "metric": "accepted", "value": 2.0, "text": ""},
        {**key, "region_code": "130000", "metric": "accepted", "value": 3.0, "text": ""},
        {**key, "region_code": "130000", "metric": "note", "value": None, "text": "两县未报"},
        {**key, "region_code": "130000", "metric": "on_time_rate", "value": 0.4, "text": ""},
    ], ["programme_id", "cycle_year", "obligation_id", "period", "region_code", "metric"])  # fmt: skip

    table = aggregates_view(session, programme, YEAR, "development_plan", "Y")

    assert table.metrics == ("accepted", "note", "on_time_rate")
    assert table.labels == {
        "accepted": "已受理（个）",
        "on_time_rate": "按时报送率",
    }  # no Chinese title: no column
    assert table.columns == ("accepted", "on_time_rate")
    assert [(r.region_name, r.level) for r in table.rows] == [
        ("河北省", "province"), ("保定市", "city"), ("高碑店市", "county"),
    ]  # fmt: skip
    assert table.rows[0].values == {"accepted": 3.0, "note": "两县未报", "on_time_rate": 0.4}
    assert is_ratio("on_time_rate") and not is_ratio("accepted")


def test_aggregates_view_never_shows_a_criteria_label_as_a_value(session: Session) -> None:
    """The rows the aggregation writes for Programme B: a criteria count carries its label as text.

    A county without a cluster that reported has no number; its cell is missing, not the label.
    """
    miit = load_programmes(ROOT / "programmes")["miit_sme_cluster"]
    key = {"programme_id": miit.id, "cycle_year": YEAR, "obligation_id": "annual_info_table", "period": "Y"}
    met, area = "全部达标集群", "集群占地面积一般不超过100平方公里：达标"
    upsert(session, Aggregate, [
        {**key, "region_code": "130000", "metric": "name", "value": None, "text": "河北省"},
        {**key, "region_code": "130000", "metric": "criteria_met_all", "value": 4.0, "text": met},
        {**key, "region_code": "130000", "metric": "criterion_area_met", "value": 7.0, "text": area},
        {**key, "region_code": "131024", "metric": "state", "value": None, "text": "missing"},
        {**key, "region_code": "131024", "metric": "criteria_met_all", "value": None, "text": met},
        {**key, "region_code": "131024", "metric": "criterion_area_met", "value": None, "text": area},
    ], ["programme_id", "cycle_year", "obligation_id", "period", "region_code", "metric"])  # fmt: skip

    table = aggregates_view(session, miit, YEAR, "annual_info_table", "Y")

    assert [r.region_code for r in table.rows] == ["130000", "131024"]
    assert table.rows[0].values == {"name": "河北省", "criteria_met_all": 4.0, "criterion_area_met": 7.0}
    assert table.rows[1].values == {"state": "missing", "criteria_met_all": None, "criterion_area_met": None}
    assert table.labels["criteria_met_all"] == "全部达标集群（个）"


EVAL = {"programme_id": P, "cycle_year": YEAR, "kind": "evaluation", "clause": "冀工信产业〔2016〕93号 五",
        "rule": f"programmes/{P}.yaml: evaluation.continue_min_score / rectify_min_score / below_rectify",
        "run_id": "manual__x", "decided_at": dt.datetime(2026, 3, 17, 1, 0)}  # fmt: skip
ANSWERED_AT = "2026-11-30T17:00:00+00:00"  # 2026-12-01 01:00 in Beijing


def add_decisions(session: Session) -> None:
    """A proposal, an approved and a changed evaluation, a claw-back, a 第十七条 case, two acceptances, a gate."""
    bands = {"continue_min_score": 80, "rectify_min_score": 60, "bands_configured": True,
             "basis": "省级配置规则：评分不低于80分继续支持"}  # fmt: skip
    upsert(session, Decision, [
        {**EVAL, "subject": "baigou_luggage", "outcome": "continue",
         "figures": {"score": 86.0, **bands, "state": "proposed", "reason": "评分 86 分，继续支持",
                     "region_code": "130684", "obligation_id": "performance_evaluation", "period": "Y"}},
        {**EVAL, "subject": "yutian_printing", "outcome": "rectify",
         "figures": {"score": 72.0, **bands, "rectify_days": 30, "state": "approved", "reason": "评分 72 分，限期 30 天整改",
                     "proposed_outcome": "rectify", "decided_by": "hebei_reviewer", "decided_at": ANSWERED_AT,
                     "answer_reason": "同意", "review_round": 1}},
        {**EVAL, "subject": "lixian_fur", "outcome": "rectify", "rule": f"programmes/{P}.yaml: evaluation.revoke_on_violation",
         "figures": {"score": 55.0, "violation": True, "clawback_wan_yuan": 150.0, "state": "changed",
                     "reason": "审阅人改定：违规已于年内整改完毕", "proposed_outcome": "revoke",
                     "decided_by": "hebei_reviewer", "decided_at": ANSWERED_AT, "answer_reason": "违规已于年内整改完毕",
                     "review_round": 1, "files": ["/srv/review/accepted/x.xlsx"], "criteria": {"a": "met"}}},
        {**EVAL, "kind": "clawback", "subject": "anping_wire_mesh", "outcome": "clawback", "rule": "decide.effects",
         "figures": {"amount_wan_yuan": 80.0, "reason": "追回补贴资金 80 万元", "state": "approved",
                     "decided_by": "hebei_reviewer", "decided_at": ANSWERED_AT}},
        {**EVAL, "kind": "article17", "subject": "baigou_luggage/late_table", "outcome": "propose_report",
         "rule": f"programmes/{P}.yaml: re_review.annual_table / findings",
         "figures": {"reason": "年度信息表逾期报送", "state": "ministry_decided",
                     "ministry_decision": {"decision": "keep", "reference": "工信厅企业函〔2026〕1号",
                                           "date": "2026-10-09", "recorded_by": "ops"}}},
        {**EVAL, "kind": "acceptance", "subject": "development_plan/Y/130684/abcdef123456", "outcome": "accepted",
         "rule": "intake: dataset x", "decided_at": dt.datetime(2025, 6, 30, 17, 0),
         "figures": {"file": "/srv/review/accepted/130684_plan.xlsx", "received_on": "2025-06-30", "errors": 0,
                     "is_late": False, "reason": "按时提交，予以接收"}},
        {**EVAL, "kind": "acceptance", "subject": "development_plan/Y/130684/0123456789ab", "outcome": "rejected",
         "rule": "intake: dataset x", "decided_at": dt.datetime(2025, 6, 29, 2, 0),
         "figures": {"file": "130684_plan_v1.xlsx", "received_on": "2025-06-29", "errors": 3,
                     "reason": "退回：3 处问题（missing）"}},
        {**EVAL, "kind": "gate", "subject": "development_plan/Y", "outcome": "failed", "rule": "expectations/x.json",
         "figures": {"critical": 2, "html": "/srv/review/reports/gate.html", "reason": "严重问题 2 项"}},
    ], ["programme_id", "cycle_year", "kind", "subject"])  # fmt: skip


def test_decisions_are_grouped_by_kind_without_acceptances_or_gate_runs(
    session: Session, programme: Programme
) -> None:
    add_decisions(session)

    groups = decision_groups(decisions_view(session, programme, YEAR))

    assert [(g.kind, g.label, len(g.items)) for g in groups] == [
        ("evaluation", "年度绩效评价", 3),
        ("clawback", "撤销资格与追回补贴", 1),
        ("article17", "第十七条情形建议及工业和信息化部决定", 1),
    ]
    pending, *answered = groups[0].items
    assert (pending.subject_label, pending.state_label, pending.pending) == (
        "白沟箱包产业集群",
        "待审定",
        True,
    )
    assert pending.reason == "评分 86 分，继续支持" and pending.decided_by == "" and pending.decided_at == ""
    assert pending.rule == "省级配置规则：评分不低于80分继续支持"  # the configured basis, in words
    assert pending.dag_id == "review_cycle__hebei_smart_cluster__performance_evaluation"
    approved, changed = sorted(answered, key=lambda d: d.state)
    assert (approved.state_label, approved.outcome_label, approved.proposed_outcome_label) == (
        "已审定",
        "限期整改",
        "",
    )
    assert (approved.decided_by, approved.decided_at) == ("hebei_reviewer", "2026-12-01 01:00（北京时间）")
    assert (changed.state_label, changed.outcome_label, changed.proposed_outcome_label) == (
        "已改定",
        "限期整改",
        "取消建设试点资格",
    )
    assert changed.answer_reason == "违规已于年内整改完毕"
    assert changed.rule == "项目建设或资金使用存在违规的，取消资格并追回已拨付补贴"
    assert [(f.label, f.value) for f in changed.figures] == [
        ("评价得分", "55"),
        ("项目建设或资金使用存在违规", "是"),
        ("拟追回补贴资金（万元）", "150"),
    ]  # no stored path, no dict keyed by codes
    (clawback,) = groups[1].items
    assert [(f.label, f.value) for f in clawback.figures] == [("追回补贴资金（万元）", "80")]
    (case,) = groups[2].items
    assert case.subject_label == "白沟箱包产业集群" and case.state_label == "工业和信息化部已决定"
    assert case.ministry == "工业和信息化部决定：维持认定（工信厅企业函〔2026〕1号，2026-10-09）"


def test_decisions_speak_chinese_only(session: Session, programme: Programme) -> None:
    add_decisions(session)

    for d in decisions_view(session, programme, YEAR):
        shown = [
            d.kind_label,
            d.subject_label,
            d.reason,
            d.outcome_label,
            d.proposed_outcome_label,
            d.state_label,
            d.rule,
            d.clause,
            d.answer_reason,
            d.ministry,
            d.decided_at,
        ]
        shown += [f"{f.label}{f.value}" for f in d.figures]  # fmt: skip
        text = "".join(shown)
        assert "{" not in text and "/srv" not in text and ".yaml" not in text, d
        assert not re.search(r"[a-z]{3,}_[a-z]+", text), d  # no English keys (score, clawback_wan_yuan...)


def test_files_requests_and_grounds_are_named_in_words(session: Session, programme: Programme) -> None:
    upsert(session, Decision, [
        {**EVAL, "kind": "submission_review", "subject": "development_plan/Y/130684/45",
         "outcome": "submission_returned", "rule": f"programmes/{P}.yaml: obligations.development_plan.needs_reading",
         "figures": {"state": "returned", "region_name": "高碑店市", "obligation_title": "专项发展规划",
                     "period": "Y", "file_name": "高碑店市_规划.xlsx", "submission_id": 45, "new_due": "2025-07-31",
                     "link": "/review-calendar/x", "reason": "保障措施空泛", "answer_reason": "请补充保障措施"}},
        {**EVAL, "kind": "re_review", "subject": "lixian_fur", "outcome": "recommend_revoke",
         "rule": f"programmes/{P}.yaml: re_review",
         "figures": {"state": "proposed", "conditions": ["no_application", {"x": 1}], "min_target_completion": 0.8,
                     "result": "failed", "reason": "建议撤销认定"}},
    ], ["programme_id", "cycle_year", "kind", "subject"])  # fmt: skip

    review, returned = decisions_view(session, programme, YEAR)

    assert (returned.subject_label, returned.outcome_label, returned.state_label) == (
        "高碑店市·专项发展规划“高碑店市_规划.xlsx”", "退回修改", "已退回"
    )  # fmt: skip
    assert returned.rule.startswith("需审阅内容的报送材料")
    assert [(f.label, f.value) for f in returned.figures] == [
        ("文件名", "高碑店市_规划.xlsx"), ("新的截止日期", "2025-07-31")
    ]  # fmt: skip
    assert review.subject_label == "蠡县毛皮产业集群"
    assert [(f.label, f.value) for f in review.figures] == [
        ("第十七条情形", "第十七条（一）有效期满未申请复核或复核未通过"),
        ("目标任务完成率要求", "80%"),
        ("复核结果", "未通过"),
    ]


def test_pending_proposals_count_working_days_since_asked(session: Session, programme: Programme) -> None:
    from review_calendar.store.reviews import AskedIn, ask

    add_decisions(session)
    proposal = session.scalars(select(Decision).where(Decision.subject == "baigou_luggage",
                                                      Decision.kind == "evaluation")).one()  # fmt: skip
    review = ask(session, proposal, AskedIn(decision_dag_id(P), "manual__r", "review", 0))
    review.asked_at = dt.datetime(2026, 11, 26, 1, 0)  # Thursday, UTC as SQLite returns it
    session.flush()

    (item,) = pending_view(session, [programme], D(2026, 11, 30))

    assert (item.subject_label, item.outcome_label, item.kind_label) == (
        "白沟箱包产业集群",
        "继续支持",
        "年度绩效评价",
    )
    assert (item.asked_on, item.working_days_open) == (D(2026, 11, 26), 2)  # Friday and Monday
    assert item.decision_dag_id == "decisions__hebei_smart_cluster"
    assert pending_view(session, [programme], D(2026, 11, 30), year=YEAR - 1) == []


def test_acceptances_are_the_instance_record_of_files(session: Session, programme: Programme) -> None:
    from review_calendar.domain.programmes import find_instance

    add_decisions(session)

    rows = acceptances_view(session, find_instance(programme, YEAR, "development_plan", "Y"))

    assert [(a.region_name, a.file_name, a.received_on, a.outcome_label, a.errors) for a in rows] == [
        ("高碑店市", "130684_plan.xlsx", "2025-06-30", "受理", 0),  # the file's name, never its stored path
        ("高碑店市", "130684_plan_v1.xlsx", "2025-06-29", "退回", 3),
    ]
    assert rows[0].recorded_at == "2025-07-01 01:00（北京时间）"
    assert acceptances_view(session, find_instance(programme, YEAR, "contact_list", "Y")) == []


def test_the_obligation_page_lists_its_acceptances_and_the_index_what_waits(
    session: Session, programme: Programme
) -> None:
    from review_calendar_airflow.ui.rendering import Pages

    from review_calendar.domain.programmes import find_instance
    from review_calendar.reviewer_pages.results import AggregateTable

    add_decisions(session)
    instance = find_instance(programme, YEAR, "development_plan", "Y")
    env = Pages().env
    html = env.get_template("obligation.html").render(
        programme=programme, instance=instance, obligation=programme.obligation("development_plan"), year=YEAR,
        prefix="", q="", airflow="/", dag_id="d", may_rerun=False, caller=None, gates=[], progress_svg="",
        matrix=status_matrix(session, programme, YEAR, AFTER_ALL, instances=[instance]),
        aggregates=AggregateTable((), ()), state_labels={}, state_hints={}, documents=[],
        acceptances=acceptances_view(session, instance),
    )  # fmt: skip
    record = html[html.index("受理记录") :]
    assert "130684_plan_v1.xlsx" in record and "退回：3 处问题" in record and "/srv" not in html

    index = env.get_template("index.html").render(
        year=YEAR, years=[YEAR], calendars=[], prefix="/review-calendar", airflow="/", caller=None,
        pending=pending_view(session, [programme], D(2026, 11, 30)), lagging=[], lagging_total=0,
        filters=LaggingFilter(), choices={"programmes": [], "cities": [], "states": [], "obligations": []},
    )  # fmt: skip
    assert "待审定（1）" in index and "白沟箱包产业集群" in index
    assert 'href="/review-calendar/programmes/hebei_smart_cluster/2025#decisions"' in index


def test_the_programme_page_shows_pending_first_and_decisions_by_kind(
    session: Session, programme: Programme
) -> None:
    from review_calendar_airflow.ui.page_routes import _programme_data
    from review_calendar_airflow.ui.rendering import Pages

    add_decisions(session)
    data = _programme_data(session, programme, YEAR, AFTER_ALL)
    html = Pages().env.get_template("programme.html").render(
        programme=programme, year=YEAR, today=AFTER_ALL, prefix="/review-calendar", airflow="/", q="",
        caller=None, state_labels={}, state_hints={}, **data,
    )  # fmt: skip

    assert html.index("待审定（1）") < html.index("报送状态") < html.index("决定（按类别）")
    assert 'href="/dags/decisions__hebei_smart_cluster/required_actions"' in html
    assert 'href="/required_actions?response_received=false"' in html
    assert "2026-12-01 01:00（北京时间）" in html and "原拟定：取消建设试点资格" in html
    assert "违规已于年内整改完毕" in html and "工信厅企业函〔2026〕1号" in html
    decisions = html[html.index("决定（按类别）") :]
    assert "130684_plan" not in decisions and "严重问题 2 项" not in decisions  # acceptances, gate runs
    assert not any(raw in decisions for raw in ("{", "/srv", ".yaml", "None")), decisions
    text = re.sub(r"<[^>]*>", " ", decisions)  # what a reader sees: no code, no English key
    assert not re.search(r"(score|clawback|decided|proposed|approved|changed|continue|rectify|revoke)", text)


def test_cycle_years_are_the_years_with_data(session: Session, programme: Programme) -> None:
    add_files(session, ("contact_list", "130100", D(2025, 3, 20), "accepted", False, 0))

    assert cycle_years(session, P) == [2025]
    assert cycle_years(session, "langfang_digital") == []


# gate report paths


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        pytest.param("{reports}/hebei/2025/gate.html", "hebei/2025/gate.html", id="absolute-inside"),
        pytest.param("hebei/2025/gate.html", "hebei/2025/gate.html", id="relative"),
        pytest.param("hebei/../gate.html", "gate.html", id="relative-normalised"),
        pytest.param("../secrets.html", None, id="relative-escape"),
        pytest.param("/etc/passwd", None, id="absolute-outside"),
        pytest.param("", None, id="empty"),
    ],
)
def test_report_relpath(tmp_path: Path, stored: str, expected: str | None) -> None:
    reports = tmp_path / "reports"

    assert report_relpath(stored.format(reports=reports), reports) == expected


@pytest.mark.parametrize(
    ("relpath", "served"),
    [
        pytest.param("p/gate.html", True, id="report"),
        pytest.param("p/../p/gate.html", True, id="dot-dot-inside"),
        pytest.param("../review.db", False, id="dot-dot-outside"),
        pytest.param("p/../../review.db", False, id="dot-dot-deep"),
        pytest.param("/etc/passwd", False, id="absolute"),
        pytest.param("p/link.html", False, id="symlink-outside"),
        pytest.param("p/data.db", False, id="suffix-not-served"),
        pytest.param("p/absent.html", False, id="missing"),
        pytest.param("p", False, id="folder"),
        pytest.param("p/gate.html\x00.png", False, id="nul"),
    ],
)
def test_resolve_report_stays_inside_the_reports_folder(tmp_path: Path, relpath: str, served: bool) -> None:
    from review_calendar_airflow.ui.reports import resolve_report

    reports = tmp_path / "reports"
    (reports / "p").mkdir(parents=True)
    (reports / "p" / "gate.html").write_text("<h1>ok</h1>", encoding="utf-8")
    (reports / "p" / "data.db").write_bytes(b"x")
    (tmp_path / "review.db").write_bytes(b"secret")
    (tmp_path / "outside.html").write_text("secret", encoding="utf-8")
    (reports / "p" / "link.html").symlink_to(tmp_path / "outside.html")

    resolved = resolve_report(reports, relpath)

    assert (resolved == (reports / "p" / "gate.html").resolve()) if served else resolved is None


def test_the_obligation_page_finds_the_summary_the_aggregation_wrote(tmp_path: Path) -> None:
    from review_calendar_airflow.ui.reports import summary_report

    from review_calendar.domain.programmes import find_instance, load_programme_file
    from review_calendar.report.publish import report_paths

    programme = load_programme_file(
        Path(__file__).resolve().parents[2] / "programmes" / "hebei_smart_cluster.yaml"
    )
    instance = find_instance(programme, 2025, "half_year_report")
    written = report_paths(tmp_path, instance)["html"]
    written.parent.mkdir(parents=True)
    written.write_text("<h1>汇总</h1>", encoding="utf-8")

    assert summary_report(tmp_path, instance) == written.relative_to(tmp_path).as_posix()


# charts


def test_charts_are_self_contained_svg_with_escaped_labels() -> None:
    from review_calendar_airflow.ui.page_charts import progress_chart, share_chart

    series = ProgressSeries(
        points=(ProgressPoint(D(2025, 6, 20), 2, 2), ProgressPoint(D(2025, 7, 3), 1, 3)),
        expected=5,
        due_dates=(D(2025, 6, 30),),
        opens_on=D(2025, 5, 1),
    )
    shares = [CityShare("130600", "<保定>", due=3, on_time=2, late=1, rejected=0, missing=0)]

    progress, share = progress_chart(series), share_chart(shares)

    assert progress.startswith("<svg") and "截止 06-30" in progress and "应报 5" in progress
    assert "&lt;保定&gt;" in share and "<保定>" not in share and "按时 67%" in share
    assert "http" not in (progress + share).replace("http://www.w3.org/2000/svg", "")
    assert "暂无" in share_chart([]) and "暂无" in progress_chart(ProgressSeries((), 0, (), None))


def test_the_progress_chart_draws_a_dot_where_the_count_changes() -> None:
    from review_calendar_airflow.ui.page_charts import progress_chart

    series = ProgressSeries((ProgressPoint(D(2025, 6, 20), 2, 2),), 5, (D(2025, 6, 30),), D(2025, 5, 1))

    svg = progress_chart(series)

    # 累计受理: the first day, 06-20 and the last day; 应报: its first and last day.
    assert svg.count("<circle") == 3 + 2
    assert "累计受理 2025-06-20：2" in svg


# import hygiene

PROBE = r"""
import json, sys
before = set(sys.modules)
import {module}
print(json.dumps(sorted(m for m in set(sys.modules) - before if m.split(".")[0] in {roots!r})))
"""


def _new_modules(module: str, roots: set[str], baseline: str = "") -> list[str]:
    code = baseline + PROBE.format(module=module, roots=roots)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "include"), str(ROOT / "plugins")])}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("module", ["calendar", "common", "matrix", "progress", "results", "mail"])
def test_the_read_model_imports_neither_airflow_nor_fastapi(module: str) -> None:
    assert _new_modules(f"review_calendar.reviewer_pages.{module}", {"airflow", "fastapi", "starlette"}) == []


def test_loading_the_plugin_does_not_import_the_web_app() -> None:
    # What Airflow itself loads (airflow.sdk) is the baseline, as in tests/dags.
    new = _new_modules(
        "review_calendar_plugin", {"fastapi", "starlette", "review_calendar"}, "import airflow.sdk\n"
    )

    assert new == []


def add_waiting_mail(session: Session) -> None:
    """A message with a held, a placed-but-held and a quarantined attachment; a message given up after 3 tries."""
    from review_calendar.store.mail_failures import MailFailure
    from review_calendar.store.models import MailItem, MailMessage

    arrived = dt.datetime(2025, 7, 10, 8, 5, 7, tzinfo=dt.UTC)  # 16:05:07 in Beijing
    mail = MailMessage(mailbox="INBOX", uidvalidity=1, uid=7, message_id="<m7@gaocheng.example.cn>",
                       sender="wang.fang@gaocheng.example.cn", subject="半年报", received_at=arrived, status="done")  # fmt: skip
    session.add(mail)
    session.flush()
    common = {
        "mail_id": mail.id,
        "sha256": "0" * 64,
        "size_bytes": 10,
        "stored_path": "/srv/rc/mailbox/1/01/表.xlsx",
    }
    session.add_all([
        MailItem(**common, position=1, name="表.xlsx", status="held",
                 reason="发件人不在各地报送的联系人名单中，无法确认报送单位，需人工核对"),
        MailItem(**common, position=2, name="别县的表.xlsx", status="held", instance_key=f"{P}/2025/half_year_report/H1",
                 region_code="130109", reason="发件人是130182的联系人，无权报送130109的数据，需人工核对"),
        MailItem(**common, position=3, name="宏.xlsm", status="quarantined", reason="含宏的工作簿，不予接收"),
        MailItem(**common, position=4, name="表.xlsx", status="taken", instance_key=f"{P}/2025/half_year_report/H1"),
    ])  # fmt: skip
    session.add(MailFailure(mailbox="INBOX", uidvalidity=1, uid=9, message_id="<m9@x.example.cn>",
                            sender="li@luannan.example.cn", subject="年报", attempts=3, rounds=1, status="failed",
                            error="ValueError: invalid literal", received_at=arrived + dt.timedelta(hours=1)))  # fmt: skip
    session.commit()


def test_the_mail_page_lists_what_waits_for_an_operator_masked_with_the_command(session: Session) -> None:
    from review_calendar_airflow.ui.page_routes import _calendar_data
    from review_calendar_airflow.ui.rendering import Pages

    from review_calendar.reviewer_pages.mail import waiting_mail

    add_waiting_mail(session)
    waiting = waiting_mail(session)
    env = Pages().env
    html = env.get_template("mail.html").render(waiting=waiting, prefix="/review-calendar", airflow="/", q="",
                                                 caller=None, title="提交邮箱待处理")  # fmt: skip

    assert [(w.status_label, w.name) for w in waiting] == [
        ("待人工核对", "表.xlsx"), ("待人工核对", "别县的表.xlsx"), ("已隔离", "宏.xlsm"), ("连续处理失败", "")
    ]  # fmt: skip
    assert "提交邮箱待处理（4）" in html and "2025-07-10 16:05:07（北京时间）" in html
    assert "w***@gaocheng.example.cn" in html and "l***@luannan.example.cn" in html
    assert "wang.fang@" not in html and "li@" not in html and "/srv" not in html  # masked, no server path
    assert "半年报" in html and "无权报送130109" in html and "含宏的工作簿" in html
    assert (f"review-calendar mail release {waiting[0].number} --programme &lt;项目&gt; --year &lt;年度&gt; "
            "--obligation &lt;报送事项&gt; --region &lt;地区代码&gt;") in html  # fmt: skip
    assert (f"review-calendar mail release {waiting[1].number} --programme {P} --year 2025 "
            "--obligation half_year_report --period H1 --region 130109") in html  # fmt: skip
    assert (
        f"review-calendar mail retry {waiting[3].number}" in html
        and "连续 3 次处理失败（ValueError）" in html
    )
    assert "隔离文件不会被接收" in html
    text = re.sub(r"<[^>]*>|<code>.*?</code>", " ", html.split("</thead>")[1])
    assert not re.search(r"\b(held|quarantined|failed|None)\b", text)

    data = _calendar_data(session, YEAR, AFTER_ALL)
    index = env.get_template("index.html").render(
        **data, prefix="/review-calendar", airflow="/", caller=None, lagging=[], lagging_total=0,
        filters=LaggingFilter(), choices={"programmes": [], "cities": [], "states": [], "obligations": []},
    )  # fmt: skip
    assert data["mail_waiting"] == 4
    assert "提交邮箱待处理（4）" in index and 'href="/review-calendar/mail"' in index


def test_the_landing_page_says_nothing_of_the_mailbox_when_nothing_waits(session: Session) -> None:
    from review_calendar_airflow.ui.page_routes import _calendar_data

    assert _calendar_data(session, YEAR, AFTER_ALL)["mail_waiting"] == 0


def test_the_decisions_page_gives_each_rule_in_words_with_its_configured_thresholds(
    session: Session, programme: Programme
) -> None:
    from review_calendar_airflow.ui.page_routes import _programme_data
    from review_calendar_airflow.ui.rendering import Pages

    upsert(session, Decision, [
        {**EVAL, "subject": "baigou_luggage", "outcome": "continue",  # bands, no Chinese basis stored
         "figures": {"score": 86.0, "state": "approved", "reason": "评分 86 分，继续支持"}},
        {**EVAL, "kind": "rectification_report", "subject": "yutian_printing", "outcome": "awaiting",
         "rule": f"programmes/{P}.yaml: evaluation.rectify_days（年度绩效评价，省级配置）",
         "figures": {"state": "approved", "reason": "整改报告待报送"}},
        {**EVAL, "kind": "extension", "subject": "lixian_fur", "outcome": "extension_granted",
         "rule": "省政府专题会议纪要确定的延期安排", "figures": {"state": "approved", "reason": "同意延期"}},
        {**EVAL, "kind": "subsidy", "subject": "anping_wire_mesh", "outcome": "granted",
         "rule": "decide.unknown_setting", "figures": {"state": "approved", "reason": "核定补贴"}},
    ], ["programme_id", "cycle_year", "kind", "subject"])  # fmt: skip
    data = _programme_data(session, programme, YEAR, AFTER_ALL)
    html = Pages().env.get_template("programme.html").render(
        programme=programme, year=YEAR, today=AFTER_ALL, prefix="/review-calendar", airflow="/", q="",
        caller=None, state_labels={}, state_hints={}, **data,
    )  # fmt: skip

    decisions = html[html.index("决定（按类别）") :]
    assert (
        "评分不低于80分继续支持，60分至80分限期30天整改，低于60分不再继续支持（评分分档为本省配置）"
        in decisions
    )
    assert "在30天内报送整改报告（整改期限为本省配置）" in decisions
    assert "省政府专题会议纪要确定的延期安排" in decisions  # a rule already in Chinese is kept
    assert "省级配置规则（本省配置，来源文件未规定）" in decisions  # never a document's
    assert "本项目配置规则" not in decisions and ".yaml" not in decisions


def test_the_communication_log_explains_a_refusal_before_the_servers_text(session: Session) -> None:
    from review_calendar_airflow.ui.rendering import Pages

    from review_calendar.domain.labels import GATES, PERIODS, PHASES, SUBMISSION_STATES
    from review_calendar.reviewer_pages.region import region_view
    from review_calendar.store.models import OutboxMessage

    session.add(OutboxMessage(
        natural_key="k1", kind="reminder", programme_id=P, instance_key=f"{P}/{YEAR}/half_year_report/Y",
        region_code="130684", stage="overdue_3", to_addrs=["lisi@gx.example.cn"], subject="催报", body="催报",
        status="failed", attempts=3, created_on=D(2025, 7, 18), last_error="SMTPDataError: 550 mailbox unavailable",
    ))  # fmt: skip
    session.flush()
    page = region_view(session, load_programmes(ROOT / "programmes"), "130684", D(2025, 8, 1))
    html = Pages().env.get_template("region.html").render(
        page=page, today=D(2025, 8, 1), as_of=None, q="", prefix="/review-calendar", airflow="/", caller=None,
        operator=False, state_labels=SUBMISSION_STATES, state_hints={}, phase_labels=PHASES, period_labels=PERIODS,
        gate_labels=GATES, role_label="", title=page.name,
    )  # fmt: skip

    meaning, server = html.index("对方邮箱不存在或拒收"), html.index("550 mailbox unavailable")
    assert meaning < server and "<small>服务器返回：SMTPDataError: 550 mailbox unavailable</small>" in html


CJK = re.compile(r"[\u4e00-\u9fff]")


def test_every_aggregate_column_title_is_chinese(session: Session, programme: Programme) -> None:
    from review_calendar_airflow.ui.rendering import Pages

    from review_calendar.aggregate.figures import STATE_FIGURES, figures_for
    from review_calendar.domain.programmes import find_instance
    from review_calendar.reviewer_pages.results import AggregateTable

    base = {"programme_id": P, "cycle_year": YEAR, "obligation_id": "development_plan", "period": "Y"}
    metrics = {"name": None, "state": None, "on_time": 3.0, "accepted": 5.0, "investment_wan_yuan": 120.5,
               "national_on_time": 9.0, "internal_debug_id": 1.0}  # fmt: skip
    upsert(session, Aggregate, [
        {**base, "region_code": "130000", "metric": m, "value": v, "text": "河北省" if m == "name" else ""}
        for m, v in metrics.items()
    ], ["programme_id", "cycle_year", "obligation_id", "period", "region_code", "metric"])  # fmt: skip
    instance = find_instance(programme, YEAR, "development_plan", "Y")
    table = aggregates_view(session, programme, YEAR, "development_plan", "Y")
    html = Pages().env.get_template("obligation.html").render(
        programme=programme, instance=instance, obligation=programme.obligation("development_plan"), year=YEAR,
        prefix="", q="", airflow="/", dag_id="review_cycle__x__development_plan", may_rerun=False, caller=None,
        gates=[], progress_svg="", matrix=status_matrix(session, programme, YEAR, AFTER_ALL, instances=[instance]),
        aggregates=table, state_labels={}, state_hints={}, documents=[], acceptances=[], has_flow=True,
    )  # fmt: skip

    head = html[html.index('<table class="aggregates">') :]
    titles = re.findall(r"<th>([^<]*)</th>", head[: head.index("</thead>")])
    assert titles[0] == "地区" and len(titles) == 7  # the internal id has no column
    assert all(CJK.search(t) for t in titles), titles
    assert "投资额（万元）" in titles and "按时（个）（全国汇总）" in titles
    assert "internal_debug_id" not in html and "investment_wan_yuan" not in html
    link = re.search(r'<a class="dag"[^>]*>([^<]*)</a>', html)
    assert (
        link and link.group(1) == f"{programme.short_name}：{programme.obligation('development_plan').title}"
    )
    assert "review_cycle__x" not in link.group(0).split('">', 1)[1]  # only in the address
    # every figure any programme defines has a Chinese title
    for p in load_programmes(ROOT / "programmes").values():
        for o in p.obligations:
            if o.dataset:
                figures = (*STATE_FIGURES, *figures_for(p, o.dataset))
                shown = AggregateTable(
                    tuple(f.metric for f in figures), (), {f.metric: f.title for f in figures}
                )
                assert all(CJK.search(t) for t in shown.labels.values()) and len(shown.columns) == len(
                    figures
                )


def test_unplaced_files_name_the_programme_and_keep_operator_steps_from_reviewers(
    tmp_path: Path, programme: Programme
) -> None:
    from review_calendar_airflow.ui.rendering import Pages

    from review_calendar.reviewer_pages.inbox import unplaced_files

    (tmp_path / "inbox").mkdir()
    (tmp_path / "inbox" / "x.json").write_text(json.dumps({
        "instance": f"{P}/{YEAR}/development_plan/Y", "as_of": "2025-07-01",
        "unplaced": [{"path": f"{P}/2025/计划.xlsx", "reason": "文件夹中没有地区代码"}],
    }), encoding="utf-8")  # fmt: skip
    unplaced = unplaced_files(tmp_path, {P: programme})
    context = dict(year=YEAR, years=[YEAR], calendars=[], prefix="", airflow="/", caller=None, pending=[],
                   lagging=[], lagging_total=0, filters=LaggingFilter(), unplaced=unplaced,
                   choices={"programmes": [], "cities": [], "states": [], "obligations": []})  # fmt: skip
    env = Pages().env

    reviewer = env.get_template("index.html").render(**context, operator=False)
    block = reviewer[reviewer.index('id="unplaced"') :]
    row = block[block.index("<tbody>") : block.index("</tbody>")]
    assert f"<td>{programme.short_name}</td>" in row and f"<td>{P}</td>" not in row
    assert "已邮件提醒运维人员处理" in block and "上传文件夹" not in block
    operator = env.get_template("index.html").render(**context, operator=True)
    assert "移入正确的上传文件夹" in operator


def test_the_required_action_gives_the_rule_and_the_choices_in_chinese(
    session: Session, programme: Programme
) -> None:
    from review_calendar.tasks.reviews import proposal_body

    upsert(session, Decision, [
        {**EVAL, "subject": "yutian_printing", "outcome": "rectify",
         "figures": {"score": 72.0, "state": "proposed", "reason": "评分 72 分，限期 30 天整改", "region_code": "130229"}},
    ], ["programme_id", "cycle_year", "kind", "subject"])  # fmt: skip
    decision = session.scalars(select(Decision).where(Decision.subject == "yutian_printing")).one()

    body = proposal_body(programme, decision)

    rule = next(line for line in body.splitlines() if line.startswith("- **规则**"))
    assert "评分不低于80分继续支持，60分至80分限期30天整改" in rule and "本省配置" in rule
    assert "- **依据**：冀工信产业〔2016〕93号 五" in body  # the clause beside the rule
    assert ".yaml" not in body and "`" not in body
    assert not re.search(r"\b(rectify|stop_support|revoke|continue)\b", body), body
    assert "“继续支持”" in body
