"""Provincial reports: the workbook (formula injection neutralised), the HTML summary and its SVG charts."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from review_calendar.aggregate.write import aggregate_province
from review_calendar.domain.labels import SUBMISSION_STATES
from review_calendar.domain.programmes import (
    ObligationInstance,
    Programme,
    find_instance,
    load_programme_file,
)
from review_calendar.report.charts import line_svg, stacked_bars_svg
from review_calendar.report.publish import write_reports
from review_calendar.report.workbook import neutralise
from review_calendar.store.db import session_scope
from review_calendar_demo.seed import seed_demo
from tests.support.builders import submit

pytestmark = pytest.mark.unit
PROGRAMMES = Path(__file__).resolve().parents[2] / "programmes"
A = load_programme_file(PROGRAMMES / "hebei_smart_cluster.yaml")
B = load_programme_file(PROGRAMMES / "miit_sme_cluster.yaml")
HALF_YEAR = find_instance(A, 2025, "half_year_report")
AS_OF = dt.date(2025, 7, 31)
PAYLOADS = ['=HYPERLINK("http://x","y")', "+1", "@SUM(A1)", "-2+3"]
SCRIPT = "<script>alert(1)</script>.xlsx"


def report(url: str, out: Path, programme: Programme, instance: ObligationInstance, as_of: dt.date,
           gate: str | None = None) -> dict[str, str]:  # fmt: skip
    with session_scope(url) as s:
        agg = aggregate_province(s, programme, instance, as_of)
    return write_reports(out, programme, instance, agg, agg.states, gate)


@pytest.fixture
def paths(migrated_url: str, tmp_path: Path) -> dict[str, str]:
    """Reports of the 2025 half-year progress: hostile file names, one rejected file, one missing region."""
    seed_demo(migrated_url)
    rows = {"progress_report": [{"planned_investment": 2500.0, "completed_investment": 1000.0, "revenue_yi": 12.5,
                                 "projects_started": 3, "projects_completed": 1}]}  # fmt: skip
    for region, name in zip(("130109", "130229", "130322", "130684"), PAYLOADS, strict=True):
        submit(migrated_url, HALF_YEAR, region, dt.date(2025, 7, 10), name, rows=rows)
    submit(migrated_url, HALF_YEAR, "130635", dt.date(2025, 7, 10), SCRIPT, status="rejected")
    return report(
        migrated_url, tmp_path / "reports", A, HALF_YEAR, AS_OF, str(tmp_path / "gates" / "run 1.html")
    )


def cells(path: str, sheet: str) -> list[list[Any]]:
    ws = load_workbook(path)[sheet]
    return [[c for c in row] for row in ws.iter_rows()]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param('=HYPERLINK("http://x","y")', '\'=HYPERLINK("http://x","y")', id="equals"),
        pytest.param("+1", "'+1", id="plus"),
        pytest.param("-2+3", "'-2+3", id="minus"),
        pytest.param("@SUM(A1)", "'@SUM(A1)", id="at"),
        pytest.param("\t=1", "'\t=1", id="tab"),
        pytest.param("\r=1", "'\r=1", id="carriage-return"),
        pytest.param("  =1+1", "'  =1+1", id="after-leading-spaces"),
        pytest.param("＝1+1", "'＝1+1", id="full-width-equals"),
        pytest.param("安平丝网产业集群", "安平丝网产业集群", id="plain-text-unchanged"),
        pytest.param("2025-07-15", "2025-07-15", id="inner-minus-unchanged"),
        pytest.param("", "", id="empty"),
        pytest.param("a\x00b\x07", "ab", id="control-characters-removed"),
        pytest.param(-2.5, -2.5, id="negative-number-unchanged"),
        pytest.param(7, 7, id="integer-unchanged"),
        pytest.param(None, None, id="none-unchanged"),
    ],
)
def test_neutralise(value: Any, expected: Any) -> None:
    assert neutralise(value) == expected


def test_reports_go_under_programme_year_and_instance(paths: dict[str, str], tmp_path: Path) -> None:
    folder = tmp_path / "reports" / "hebei_smart_cluster" / "2025"

    assert paths == {
        "xlsx": str(folder / "half_year_report_Y.xlsx"),
        "html": str(folder / "half_year_report_Y.html"),
    }
    assert all(Path(p).is_file() for p in paths.values())


def test_workbook_has_the_chinese_sheets(paths: dict[str, str]) -> None:
    assert load_workbook(paths["xlsx"]).sheetnames == ["汇总", "明细", "滞后地区"]


def test_every_sheet_freezes_its_header_row(paths: dict[str, str]) -> None:
    wb = load_workbook(paths["xlsx"])

    assert [ws.freeze_panes for ws in wb] == ["A2"] * len(wb.sheetnames)
    assert [c.value for c in wb["汇总"][1]][:7] == ["市代码", "市", "应报", "按时", "逾期", "未报", "退回"]


def test_columns_are_sized_to_their_content(paths: dict[str, str]) -> None:
    ws = load_workbook(paths["xlsx"])["明细"]

    assert ws.column_dimensions["A"].width >= len("行政区划代码") * 2
    assert ws.column_dimensions["G"].width > ws.column_dimensions["H"].width


@pytest.mark.parametrize("payload", [pytest.param(p, id=p) for p in PAYLOADS])
def test_submitted_formula_is_stored_as_text(paths: dict[str, str], payload: str) -> None:
    found = [
        c
        for row in cells(paths["xlsx"], "明细")
        for c in row
        if isinstance(c.value, str) and payload in c.value
    ]

    assert [(c.data_type, c.value) for c in found] == [("s", "'" + payload)]


def test_no_cell_is_a_formula(paths: dict[str, str]) -> None:
    wb = load_workbook(paths["xlsx"])

    formulas = [c.coordinate for ws in wb for row in ws.iter_rows() for c in row if c.data_type == "f"]

    assert formulas == []


def test_numbers_remain_numeric(paths: dict[str, str]) -> None:
    total = cells(paths["xlsx"], "汇总")[-1]

    assert [c.value for c in total[:7]] == ["130000", "河北省合计", 5, 4, 0, 0, 1]
    assert (total[8].value, total[8].data_type) == (10000, "n")
    assert (total[10].value, total[10].number_format) == (0.4, "0.0%")


def test_lagging_sheet_lists_the_rejected_region(paths: dict[str, str]) -> None:
    rows = [[c.value for c in row] for row in cells(paths["xlsx"], "滞后地区")[1:]]

    assert [(r[0], r[1], r[4], r[6]) for r in rows] == [("保定市", "130635", "已退回", SCRIPT)]


def test_criteria_sheet_marks_each_criterion(migrated_url: str, tmp_path: Path) -> None:
    seed_demo(migrated_url)
    instance = find_instance(B, 2025, "annual_info_table")
    weak = {
        "cluster_name": "泊头铸造产业集群",
        "area_km2": 150.0,
        "platform_adoption": 0.3,
        "output_yi": 50.0,
    }
    submit(
        migrated_url, instance, "130981", instance.effective_due, "a.xlsx", rows={"annual_info_table": [weak]}
    )

    paths = report(migrated_url, tmp_path, B, instance, instance.effective_due)

    ws = load_workbook(paths["xlsx"])["认定标准"]
    headers = [c.value for c in ws[1]]
    botou = next(row for row in ws.iter_rows(values_only=True) if row[0] == "130981")
    marks = dict(zip(headers, botou, strict=True))
    assert (marks["集群占地面积一般不超过100平方公里"], marks["工业互联网平台应用普及率不低于15%"]) == (
        "未达标",
        "达标",
    )
    assert marks["全部达标"] == "否"
    html = Path(paths["html"]).read_text(encoding="utf-8")
    assert '<td class="no">未达标</td>' in html and '<td class="yes">达标</td>' in html


def test_both_reports_name_states_in_the_one_vocabulary(paths: dict[str, str]) -> None:
    detail = [row[4].value for row in cells(paths["xlsx"], "明细")[1:]]
    html = Path(paths["html"]).read_text(encoding="utf-8")

    assert set(detail) <= set(SUBMISSION_STATES.values())
    assert {"按时提交", "已退回"} <= set(detail)
    assert '<span class="tag rejected">已退回</span>' in html
    assert "滞后地区（逾期提交、未提交、已退回）" in html


def test_html_contains_the_svg_chart(paths: dict[str, str]) -> None:
    html = Path(paths["html"]).read_text(encoding="utf-8")

    assert '<svg xmlns="http://www.w3.org/2000/svg"' in html
    assert "各市报送情况" in html and "保定市" in html


def test_html_escapes_submitted_text(paths: dict[str, str]) -> None:
    html = Path(paths["html"]).read_text(encoding="utf-8")

    assert "&lt;script&gt;alert(1)&lt;/script&gt;.xlsx" in html
    assert "<script" not in html


def test_html_loads_nothing_from_the_network(paths: dict[str, str]) -> None:
    html = Path(paths["html"]).read_text(encoding="utf-8")

    assert re.findall(r'(?:src|href)="(?:https?:)?//', html) == []
    assert "<link" not in html


def test_html_links_the_gate_page_relative_to_the_report(paths: dict[str, str]) -> None:
    html = Path(paths["html"]).read_text(encoding="utf-8")

    assert 'href="../../../gates/run%201.html"' in html


def test_gate_link_cannot_be_a_script_url(migrated_url: str, tmp_path: Path) -> None:
    seed_demo(migrated_url)

    paths = report(migrated_url, tmp_path, A, HALF_YEAR, AS_OF, gate="javascript:alert(1)")

    html = Path(paths["html"]).read_text(encoding="utf-8")
    assert 'href="./javascript%3Aalert%281%29"' in html


def test_html_says_when_the_window_is_still_open(migrated_url: str, tmp_path: Path) -> None:
    seed_demo(migrated_url)

    paths = report(migrated_url, tmp_path, A, HALF_YEAR, dt.date(2025, 7, 1))

    assert "报送期尚未结束" in Path(paths["html"]).read_text(encoding="utf-8")


COLOURS = {"按时": "#2e7d32", "逾期": "#f9a825"}


def test_stacked_bars_draw_one_segment_per_nonzero_value() -> None:
    svg = stacked_bars_svg(["甲市", "乙市"], {"按时": [2, 0], "逾期": [1, 3]}, COLOURS, "报送")

    assert svg.count("<rect") == 2 + 3  # two legend swatches, three segments
    assert "甲市 逾期：1" in svg


def test_chart_labels_are_escaped() -> None:
    svg = stacked_bars_svg(['<script>"x"</script>'], {"按时": [1]}, COLOURS, "<b>")

    assert "<script" not in svg and "<b>" not in svg
    assert "&lt;script&gt;&quot;x&quot;" in svg


@pytest.mark.parametrize(
    ("series", "colours"),
    [
        pytest.param({"按时": [1, 2, 3]}, COLOURS, id="wrong-length"),
        pytest.param({"按时": [-1, 2]}, COLOURS, id="negative"),
        pytest.param({"按时": [1, 2]}, {"按时": 'red" onload="x'}, id="colour-injection"),
    ],
)
def test_stacked_bars_reject_bad_input(series: dict, colours: dict) -> None:
    with pytest.raises(ValueError):
        stacked_bars_svg(["甲", "乙"], series, colours, "t")


def test_line_leaves_a_gap_for_missing_values() -> None:
    svg = line_svg(["1日", "2日", "3日", "4日"], {"已报": [1, 2, None, 4]}, {"已报": "#2e7d32"}, "进度")

    assert svg.count("<polyline") == 1  # 1日–2日; 4日 alone is only a point
    assert svg.count("<circle") == 3


def test_line_marks_the_due_date() -> None:
    svg = line_svg(["7-14", "7-15", "7-16"], {"已报": [1, 2, 3]}, {}, "进度", markers={"7-15": "截止日"})

    assert "stroke-dasharray" in svg and "截止日" in svg
