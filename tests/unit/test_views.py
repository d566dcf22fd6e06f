"""The reviewers' pages' read model (``review_calendar.reviewer_pages``) on a real SQLite review database.

The database is migrated and seeded with the demo province, then each test
upserts the submissions, gate runs, figures and decisions it reads, as the
intake and aggregation tasks would.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from review_calendar.domain.programmes import Programme, load_programmes
from review_calendar.reviewer_pages.calendar import calendar_view
from review_calendar.reviewer_pages.common import cycle_years
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
    decisions_view,
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
    assert table.labels == {"accepted": "accepted", "note": "note", "on_time_rate": "按时报送率"}
    assert [(r.region_name, r.level) for r in table.rows] == [
        ("河北省", "province"), ("保定市", "city"), ("高碑店市", "county"),
    ]  # fmt: skip
    assert table.rows[0].values == {"accepted": 3.0, "note": "两县未报", "on_time_rate": 0.4}
    assert is_ratio("on_time_rate") and not is_ratio("accepted")


def test_decisions_view_labels_outcomes_and_links_the_deciding_cycle(
    session: Session, programme: Programme
) -> None:
    row = {"programme_id": P, "cycle_year": YEAR, "kind": "evaluation", "rule": "r", "clause": "c",
           "run_id": "manual__x"}  # fmt: skip
    upsert(session, Decision, [
        {**row, "subject": "lixian_fur", "outcome": "revoke", "figures": {"score": 55}},
        {**row, "subject": "baigou_luggage", "outcome": "continue", "figures": {"score": 86, "state": "proposed"}},
    ], ["programme_id", "cycle_year", "kind", "subject"])  # fmt: skip

    decisions = decisions_view(session, programme, YEAR)

    assert [(d.subject_label, d.outcome_label, d.kind_label) for d in decisions] == [
        ("白沟箱包产业集群", "继续支持", "年度绩效评价"),
        ("蠡县毛皮产业集群", "取消建设试点资格", "年度绩效评价"),
    ]
    assert decisions[0].dag_id == "review_cycle__hebei_smart_cluster__performance_evaluation"
    assert decisions[1].figures == {"score": 55}
    assert [d.state_label for d in decisions] == ["待审定", "已决定"]  # a proposal says so


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
        pytest.param("p/data.xlsx", False, id="suffix-not-served"),
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
    (reports / "p" / "data.xlsx").write_bytes(b"x")
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


@pytest.mark.parametrize("module", ["calendar", "common", "matrix", "progress", "results"])
def test_the_read_model_imports_neither_airflow_nor_fastapi(module: str) -> None:
    assert _new_modules(f"review_calendar.reviewer_pages.{module}", {"airflow", "fastapi", "starlette"}) == []


def test_loading_the_plugin_does_not_import_the_web_app() -> None:
    # What Airflow itself loads (airflow.sdk) is the baseline, as in tests/dags.
    new = _new_modules(
        "review_calendar_plugin", {"fastapi", "starlette", "review_calendar"}, "import airflow.sdk\n"
    )

    assert new == []
