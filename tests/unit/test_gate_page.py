"""The reviewers' page of a gate run: verdict, checks and findings, every submitted value escaped."""

from __future__ import annotations

import dataclasses
import re
from typing import TYPE_CHECKING, Any

import pytest

from review_calendar.domain.programmes import Programme, load_programme_file
from review_calendar.gate.errors import GateFinding, GateResult
from review_calendar.report import gate_page
from review_calendar.report.gate_page import render_gate_page, write_gate_page
from review_calendar.settings import get_settings
from review_calendar_demo.seed import seed_demo
from tests.unit.gate_cases import add_submission, gate, half_year, progress_row, submit_all_progress

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def programme() -> Programme:
    return load_programme_file(get_settings().programmes_dir / "hebei_smart_cluster.yaml")


def finding(severity: str, region: str | None = "130635", **changes: Any) -> GateFinding:
    values: dict[str, Any] = {
        "dataset": "progress_report",
        "region_code": region,
        "row": 4,
        "field": "period",
        "code": "GATE_CHOICE_INVALID",
        "message_zh": "值“Q3”不在可选范围内。",
        "severity": severity,
    }
    return GateFinding(**{**values, **changes})


def result_of(findings: list[GateFinding], path: str = "/reports/gate.html") -> GateResult:
    critical = [f for f in findings if f.severity == "critical"]
    warnings = [f for f in findings if f.severity == "warning"]
    summary = {
        "rows": {"progress_report": 5},
        "critical": len(critical),
        "warnings": len(warnings),
        "completeness": {"accepted": 4, "expected": 5, "ratio": 0.8, "threshold": 1.0, "severity": "warning"},
        "checks": [
            {"dataset": "progress_report", "check": "“报告期”在可选范围内", "severity": "critical",
             "code": "GATE_CHOICE_INVALID", "success": not critical, "failures": len(critical)},
        ],
    }  # fmt: skip
    return GateResult(not critical, critical, warnings, summary, path, {"130635": "蠡县"})


@pytest.mark.parametrize(
    ("severities", "verdict"),
    [
        pytest.param(["critical", "warning"], "未通过：1项严重问题，省级汇总已停止。", id="critical-stops"),
        pytest.param(["warning"], "通过（有1项警告）：汇总继续进行", id="warnings-proceed"),
        pytest.param([], "通过：未发现问题，汇总继续进行。", id="clean"),
    ],
)
def test_the_page_states_the_verdict(programme: Programme, severities: list[str], verdict: str) -> None:
    instance = half_year(programme)

    page = render_gate_page(programme, instance, "r1", result_of([finding(s) for s in severities]))

    assert verdict in page


def test_findings_are_listed_with_region_name_header_and_chinese_severity(programme: Programme) -> None:
    instance = half_year(programme)

    page = render_gate_page(
        programme, instance, "r1", result_of([finding("critical"), finding("warning", None)])
    )

    assert (
        '<tr><td class="critical">严重</td><td>智慧集群试点建设进展情况</td><td>130635 蠡县</td>'
        '<td class="n">4</td><td>报告期</td><td>值“Q3”不在可选范围内。</td><td>不在可选范围内</td></tr>'
    ) in page
    assert '<td class="warning">警告</td><td>智慧集群试点建设进展情况</td><td>全省</td>' in page
    assert '<td class="critical">严重</td><td class="critical">未通过</td><td class="n">1</td>' in page
    assert "4/5（80%），要求100%，低于要求时为警告" in page


def test_finding_kinds_are_named_and_explained_in_chinese_the_code_only_aside(programme: Programme) -> None:
    page = render_gate_page(programme, half_year(programme), "r1", result_of([finding("critical")]))

    legend = page.split("<h2>问题类型说明</h2>", 1)[1]
    assert "<dt>不在可选范围内</dt><dd>所填内容不是模板列出的选项之一" in legend
    assert '<span class="secondary"> 代码 GATE_CHOICE_INVALID</span>' in legend
    assert page.count("GATE_CHOICE_INVALID") == 1  # the legend's aside, never a column of codes


def test_every_gate_code_has_a_chinese_name_and_an_explanation() -> None:
    from review_calendar.domain.labels import GATE_FINDING_HINTS, GATE_FINDINGS
    from review_calendar.gate import errors

    codes = {v for k, v in vars(errors).items() if k.startswith("GATE_") and isinstance(v, str)}
    assert codes == set(GATE_FINDINGS) == set(GATE_FINDING_HINTS)
    assert all(
        re.search(r"[\u4e00-\u9fff]", t) for t in [*GATE_FINDINGS.values(), *GATE_FINDING_HINTS.values()]
    )
    assert errors.GATE_CODES is GATE_FINDINGS


@pytest.mark.parametrize(
    ("run_id", "words"),
    [
        pytest.param("scheduled__2025_H1__2026-07-16T00:00:00+00:00",
                     "2025年度 上半年 · 2026-07-16 08:00（北京时间）按计划运行", id="scheduled-by-cycle"),
        pytest.param("manual__2025_H1__2026-07-20T01:30:00.123456+00:00",
                     "2025年度 上半年 · 2026-07-20 09:30（北京时间）手动运行", id="rerun-from-the-pages"),
        pytest.param("scheduled__2025-06-30T16:00:00+00:00",
                     "2025年度 上半年 · 2025-07-01 00:00（北京时间）按计划运行", id="airflow-default-id"),
        pytest.param("asset_triggered__2025-07-16T00:00:00+00:00_abc",
                     "2025年度 上半年 · 由上游数据更新触发", id="moment-unreadable"),
        pytest.param("r1", "2025年度 上半年", id="no-kind-no-moment"),
    ],
)  # fmt: skip
def test_the_run_is_named_by_its_cycle_and_beijing_time(
    programme: Programme, run_id: str, words: str
) -> None:
    instance = dataclasses.replace(half_year(programme), period="H1")

    assert gate_page.run_words(instance, run_id) == words
    page = render_gate_page(programme, instance, run_id, result_of([]))
    assert f'<td class="run">{words}<div class="secondary">' in page
    assert "年度 上半年）" in page and "H1" not in page.replace(run_id, "")


def test_a_page_without_findings_says_so(programme: Programme) -> None:
    page = render_gate_page(programme, half_year(programme), "r1", result_of([]))

    assert '<tr><td colspan="7">未发现问题。</td></tr>' in page


def test_findings_beyond_the_limit_are_counted_not_listed(
    programme: Programme, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gate_page, "FINDINGS_LIMIT", 2)
    findings = [finding("critical", row=n) for n in range(5)]

    page = render_gate_page(programme, half_year(programme), "r1", result_of(findings))

    assert page.count('<td class="critical">严重</td><td>智慧集群') == 2
    assert "另有3项问题未在本页列出" in page


def test_submitted_values_and_the_run_id_are_escaped(programme: Programme) -> None:
    evil = finding("critical", message_zh="值“<script>alert(1)</script>”不在可选范围内。")

    page = render_gate_page(programme, half_year(programme), "manual__<b>&1", result_of([evil]))

    assert "<script>" not in page and "<b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "manual__&lt;b&gt;&amp;1" in page


def test_the_page_is_written_where_the_gate_named_it(
    migrated_url: str, programme: Programme, tmp_path: Path
) -> None:
    seed_demo(migrated_url)
    instance = half_year(programme)
    submit_all_progress(migrated_url, instance, skip=("130635",))
    add_submission(
        migrated_url,
        instance,
        "130635",
        {"progress_report": [progress_row("130635", period="<script>alert(1)</script>")]},
    )
    run_id = "manual__2025-07-16T08:00:00+00:00"
    result = gate(migrated_url, programme, instance, tmp_path, run_id=run_id)

    path = write_gate_page(programme, instance, run_id, result)

    page = path.read_text(encoding="utf-8")
    assert str(path) == result.html_path
    assert path.parent == tmp_path / "reports" / "hebei_smart_cluster" / "2025" / "gates"
    assert re.fullmatch(r"half_year_report_Y_manual__2025-07-16T08_00_00_00_00-[0-9a-f]{8}\.html", path.name)
    assert [p.name for p in path.parent.iterdir()] == [path.name]
    assert "<script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "130635 蠡县" in page
    assert "未通过" in page and "报告期" in page
    assert 'lang="zh-CN"' in page and "http" not in page
