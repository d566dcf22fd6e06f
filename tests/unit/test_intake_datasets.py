"""Dataset specs and validate_rows: typed records and row-level issues."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
import yaml

from review_calendar.domain.programmes import load_programme, load_programme_file
from review_calendar.intake import (
    DATASETS,
    IntakeIssue,
    RawTable,
    RowContext,
    get_dataset,
    read_submission,
    validate_rows,
)
from review_calendar.intake import issues as E
from review_calendar.intake.columns import parse_cell
from review_calendar.intake.templates import example_value
from tests.unit.intake_cases import KNOWN_REGIONS, contact_rows, rejected, write_csv

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
CONTACT = get_dataset("contact_list")
PLAN = get_dataset("development_plan")
#: Programme A's pilot period (validity.max_pilot_years, 冀工信产业〔2016〕93号 三).
PILOT_YEARS = load_programme("hebei_smart_cluster").validity.max_pilot_years


def table_of(
    dataset_id: str, rows: list[dict[str, str | None]], *, first_row: int = 4, **kwargs: object
) -> RawTable:
    """A RawTable as read_table returns it: header row 3, data from ``first_row``."""
    dataset = get_dataset(dataset_id)
    return RawTable(
        file="名单.xlsx",
        sheet=dataset.sheet,
        header_row=3,
        columns=dataset.headers,
        rows=[(first_row + i, {h: row.get(h) for h in dataset.headers}) for i, row in enumerate(rows)],
        **kwargs,  # type: ignore[arg-type]
    )


def contact(**changes: str | None) -> dict[str, str | None]:
    row: dict[str, str | None] = {
        "行政区划代码": "130100",
        "地区名称": "石家庄市",
        "层级": "市",
        "角色": "主管领导",
        "姓名": "张三",
        "职务": "副局长",
        "办公电话": "0311-87803218",
        "手机": "138 1234 5678",
        "电子邮箱": "ZhangSan@Example.gov.cn",
    }
    row.update(changes)
    return row


def progress(**changes: str | None) -> dict[str, str | None]:
    row: dict[str, str | None] = {
        "行政区划代码": "131125",
        "产业集群名称": "安平丝网产业集群",
        "年度": "2025年",
        "报告期": "上半年",
        "年度计划投资(万元)": "5,000",
        "已完成投资(万元)": "２６００",
        "集群营业收入(亿元)": "86.5",
        "开工项目数(个)": "6",
        "竣工项目数(个)": "2",
        "进展情况": "平台一期已上线。",
    }
    row.update(changes)
    return row


def codes(issues: list[IntakeIssue]) -> list[tuple[str, int | None, str | None]]:
    return [(i.code, i.row, i.column) for i in issues]


# specs


def test_contact_list_has_exactly_the_template_columns_in_order() -> None:
    assert CONTACT.headers == (
        "行政区划代码",
        "地区名称",
        "层级",
        "角色",
        "姓名",
        "职务",
        "办公电话",
        "手机",
        "电子邮箱",
    )


def test_contact_list_choices() -> None:
    assert (CONTACT.column("level").choices, CONTACT.column("role").choices) == (
        ("市", "县"),
        ("主管领导", "责任处室负责同志"),
    )


@pytest.mark.parametrize("dataset", [pytest.param(d, id=d.id) for d in DATASETS.values()])
def test_dataset_keys_are_ascii_snake_case(dataset: object) -> None:
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", c.key) for c in dataset.columns)  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("dataset", "column"),
    [
        pytest.param(d, c, id=f"{d.id}.{c.key}")
        for d in DATASETS.values()
        for c in d.columns
        if example_value(c)
    ],
)
def test_every_example_in_the_instructions_is_valid(dataset: object, column: object) -> None:
    value = parse_cell(column, example_value(column))  # type: ignore[arg-type]

    assert value is not None


def test_datasets_named_by_programmes_exist() -> None:
    named = {
        o["dataset"]
        for f in sorted((ROOT / "programmes").glob("*.yaml"))
        for o in yaml.safe_load(f.read_text(encoding="utf-8"))["obligations"]
        if o.get("dataset")
    }

    assert named <= DATASETS.keys()


def test_programme_b_criteria_fields_are_columns_of_the_annual_info_table() -> None:
    programme = load_programme_file(ROOT / "programmes" / "miit_sme_cluster.yaml")
    keys = {c.key for c in get_dataset("annual_info_table").columns}

    assert {f for c in programme.criteria for f in c.series()} <= keys


def test_henan_bulletin_indicators_are_columns_of_the_quarterly_figures() -> None:
    programme = yaml.safe_load((ROOT / "programmes" / "henan_demo_base.yaml").read_text(encoding="utf-8"))
    keys = {c.key for c in get_dataset("henan_quarterly").columns}

    assert set(programme["bulletin_indicators"]) <= keys


def test_unknown_dataset_lists_the_known_ones() -> None:
    with pytest.raises(KeyError, match="contact_list"):
        get_dataset("nope")


# validate_rows


def test_records_are_typed_and_normalised() -> None:
    records, issues = validate_rows(table_of("contact_list", [contact()]), CONTACT)

    assert (records, issues) == (
        [
            {
                "_row": 4,
                "region_code": "130100",
                "region_name": "石家庄市",
                "level": "市",
                "role": "主管领导",
                "name": "张三",
                "post": "副局长",
                "office_phone": "0311-87803218",
                "mobile": "13812345678",
                "email": "ZhangSan@example.gov.cn",
            }
        ],
        [],
    )


def test_numbers_years_and_counts_are_typed() -> None:
    records, _ = validate_rows(table_of("progress_report", [progress()]), get_dataset("progress_report"))

    assert {
        k: records[0][k] for k in ("year", "planned_investment", "completed_investment", "projects_started")
    } == {
        "year": 2025,
        "planned_investment": 5000.0,
        "completed_investment": 2600.0,
        "projects_started": 6,
    }


def test_dates_are_typed() -> None:
    plan = get_dataset("development_plan")
    row = {c.header: example_value(c) for c in plan.columns} | {"批准日期": "2025年5月20日"}
    table = table_of("development_plan", [row])

    records, _ = validate_rows(table, plan)

    assert records[0]["approval_date"] == dt.date(2025, 5, 20)


def test_cell_issue_message_names_row_column_value_and_fix() -> None:
    _, issues = validate_rows(table_of("contact_list", [contact(手机="1381234567")], first_row=12), CONTACT)

    assert [i.to_dict() for i in issues] == [
        {
            "file": "名单.xlsx",
            "sheet": "联系人名单",
            "row": 12,
            "column": "手机",
            "value": "1381234567",
            "code": E.MOBILE_INVALID,
            "message": "第12行“手机”列的值“1381234567”不是11位手机号码，请填写以1开头的11位数字。",
            "severity": "error",
        }
    ]


def test_blank_required_cell() -> None:
    _, issues = validate_rows(table_of("contact_list", [contact(姓名=" ")]), CONTACT)

    assert [(i.code, i.row, i.column, i.message) for i in issues] == [
        (E.VALUE_REQUIRED, 4, "姓名", "第4行“姓名”列为必填项，未填写，请补充。")
    ]


def test_blank_optional_cell_is_none() -> None:
    scores = get_dataset("evaluation_scores")
    row = {c.header: example_value(c) for c in scores.columns} | {"集群编号": None}

    records, issues = validate_rows(table_of("evaluation_scores", [row]), scores)

    assert (records[0]["cluster_code"], issues) == (None, [])


def test_text_longer_than_the_column_allows() -> None:
    _, issues = validate_rows(table_of("contact_list", [contact(姓名="张" * 31)]), CONTACT)

    assert codes(issues) == [(E.VALUE_TOO_LONG, 4, "姓名")]


def test_score_above_100_is_out_of_range() -> None:
    scores = get_dataset("evaluation_scores")
    row = {c.header: example_value(c) for c in scores.columns} | {"评分": "105"}

    _, issues = validate_rows(table_of("evaluation_scores", [row]), scores)

    assert codes(issues) == [(E.NUMBER_OUT_OF_RANGE, 4, "评分")]


def test_negative_growth_is_allowed_but_negative_share_is_not() -> None:
    annual = get_dataset("annual_info_table")
    row = {c.header: example_value(c) for c in annual.columns} | {
        "产值增长率(%)": "-3.5%",
        "中小企业产值占比(%)": "-1%",
    }

    records, issues = validate_rows(table_of("annual_info_table", [row]), annual)

    assert (records[0]["output_growth"], codes(issues)) == (
        pytest.approx(-0.035),
        [(E.PERCENT_OUT_OF_RANGE, 4, "中小企业产值占比(%)")],
    )


def test_unknown_region_code() -> None:
    _, issues = validate_rows(
        table_of("contact_list", [contact(行政区划代码="139999")]),
        CONTACT,
        RowContext(known_region_codes=KNOWN_REGIONS),
    )

    assert codes(issues) == [(E.REGION_UNKNOWN, 4, "行政区划代码")]


def test_region_codes_are_not_checked_without_a_list() -> None:
    _, issues = validate_rows(table_of("contact_list", [contact(行政区划代码="139999")]), CONTACT)

    assert issues == []


def test_year_mismatch() -> None:
    _, issues = validate_rows(
        table_of("progress_report", [progress(年度="2024")]),
        get_dataset("progress_report"),
        RowContext(expected_year=2025),
    )

    assert [(i.code, i.row, i.column, i.value) for i in issues] == [(E.YEAR_MISMATCH, 4, "年度", "2024")]


def test_period_mismatch_is_an_obligation_mismatch() -> None:
    _, issues = validate_rows(
        table_of("progress_report", [progress(报告期="全年")]),
        get_dataset("progress_report"),
        RowContext(expected_period="上半年"),
    )

    assert codes(issues) == [(E.OBLIGATION_MISMATCH, 4, "报告期")]


@pytest.mark.parametrize(
    ("typed", "expected_period"),
    [
        pytest.param("第一季度", "Q1", id="di-yi-jidu-vs-Q1"),
        pytest.param("1季度", "一季度", id="digit"),
        pytest.param("一季度", "Q1", id="canonical"),
    ],
)
def test_quarter_spellings_match_the_obligation_period(typed: str, expected_period: str) -> None:
    henan = get_dataset("henan_quarterly")
    row = {c.header: example_value(c) for c in henan.columns} | {"季度": typed}

    records, issues = validate_rows(
        table_of("henan_quarterly", [row]), henan, RowContext(expected_period=expected_period)
    )

    assert (records[0]["quarter"], issues) == ("一季度", [])


def test_an_expected_period_that_is_no_choice_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="expected_period"):
        validate_rows(
            table_of("progress_report", [progress()]),
            get_dataset("progress_report"),
            RowContext(expected_period="Q3"),
        )


def test_duplicate_key_rows_name_the_first_occurrence() -> None:
    rows = [contact(), contact(角色="责任处室负责同志"), contact(姓名="张三丰")]

    _, issues = validate_rows(table_of("contact_list", rows), CONTACT)

    assert [(i.code, i.row, i.message) for i in issues] == [
        (
            E.ROW_DUPLICATE,
            6,
            "第6行与第4行重复（行政区划代码“130100”、角色“主管领导”相同），请删除重复行或更正。",
        )
    ]


def test_total_row_that_adds_up_is_not_a_record() -> None:
    projects = get_dataset("plan_projects")
    row = {c.header: example_value(c) for c in projects.columns}
    rows = [
        row | {"项目名称": "甲", "计划投资(万元)": "800"},
        row | {"项目名称": "乙", "计划投资(万元)": "1,200.5"},
    ]
    total = {"行政区划代码": "合 计", "计划投资(万元)": "2000.5"}

    records, issues = validate_rows(table_of("plan_projects", [*rows, total]), projects)

    assert ([r["_row"] for r in records], issues) == ([4, 5], [])


def test_total_row_that_does_not_add_up() -> None:
    projects = get_dataset("plan_projects")
    row = {c.header: example_value(c) for c in projects.columns}
    rows = [
        row | {"项目名称": "甲", "计划投资(万元)": "800"},
        row | {"项目名称": "乙", "计划投资(万元)": "1200"},
    ]
    total = {"行政区划代码": "合计", "计划投资(万元)": "2,500"}

    _, issues = validate_rows(table_of("plan_projects", [*rows, total]), projects)

    assert [(i.code, i.row, i.column, i.message) for i in issues] == [
        (
            E.TOTAL_MISMATCH,
            6,
            "计划投资(万元)",
            "第6行合计的“计划投资(万元)”为2,500，但上面各行相加为2,000，请核对合计数或明细。",
        )
    ]


def test_programme_a_allows_a_pilot_period_of_three_years() -> None:
    assert PILOT_YEARS == 3


def severities(issues: list[IntakeIssue]) -> list[tuple[str, str | None, str]]:
    return [(i.code, i.column, i.severity) for i in issues]


def test_a_five_year_plan_aligned_with_the_14th_five_year_plan_is_accepted() -> None:
    """冀工信产业〔2016〕93号 二 ties the plan to the local five-year plan; 三's 3 years is the pilot period."""
    row = {c.header: example_value(c) for c in PLAN.columns} | {
        "规划起始年份": "2021",
        "规划截止年份": "2025",
    }

    records, issues = validate_rows(
        table_of("development_plan", [row]), PLAN, RowContext(max_pilot_years=PILOT_YEARS)
    )

    assert issues == []
    assert (records[0]["period_start"], records[0]["period_end"]) == (2021, 2025)


@pytest.mark.parametrize(
    ("start", "end", "max_years", "expected"),
    [
        pytest.param("2025", "2027", PILOT_YEARS, [], id="three-years-of-programme-a"),
        pytest.param(
            "2025",
            "2028",
            PILOT_YEARS,
            [(E.VALUE_INCONSISTENT, "试点实施截止年份", "warning")],
            id="four-years",
        ),
        pytest.param(
            "2025",
            "2027",
            2,
            [(E.VALUE_INCONSISTENT, "试点实施截止年份", "warning")],
            id="over-a-shorter-limit",
        ),
        pytest.param("2025", "2040", None, [], id="no-limit-in-the-programme"),
        pytest.param(
            "2027",
            "2025",
            None,
            [(E.VALUE_INCONSISTENT, "试点实施截止年份", "error")],
            id="ends-before-it-starts",
        ),
    ],
)
def test_pilot_period_beyond_the_programmes_limit_is_a_warning(
    start: str, end: str, max_years: int | None, expected: list[tuple[str, str, str]]
) -> None:
    """冀工信产业〔2016〕93号 三: 试点实施时间原则上不超过3年: in principle, so a note, not a rejection."""
    row = {c.header: example_value(c) for c in PLAN.columns} | {
        "试点实施起始年份": start,
        "试点实施截止年份": end,
    }

    _, issues = validate_rows(
        table_of("development_plan", [row]), PLAN, RowContext(max_pilot_years=max_years)
    )

    assert severities(issues) == expected


def test_pilot_period_warning_names_the_programmes_limit() -> None:
    row = {c.header: example_value(c) for c in PLAN.columns} | {"试点实施截止年份": "2028"}

    records, issues = validate_rows(table_of("development_plan", [row]), PLAN, RowContext(max_pilot_years=3))

    assert "超过3年（试点实施时间原则上不超过3年）" in issues[0].message
    assert records[0]["pilot_end"] == 2028


def test_plan_ending_before_it_starts_is_an_error() -> None:
    row = {c.header: example_value(c) for c in PLAN.columns} | {
        "规划起始年份": "2027",
        "规划截止年份": "2025",
    }

    _, issues = validate_rows(table_of("development_plan", [row]), PLAN, RowContext(max_pilot_years=3))

    assert severities(issues) == [(E.VALUE_INCONSISTENT, "规划截止年份", "error")]


@pytest.mark.parametrize(
    ("changes", "column"),
    [
        pytest.param({"批准日期": None}, "批准日期", id="no-date"),
        pytest.param({"批复文号": None}, "批复文号", id="no-number"),
        pytest.param(
            {"是否经县(市)政府批准": "否", "批准日期": None, "批复文号": None},
            "是否经县(市)政府批准",
            id="not-approved",
        ),
    ],
)
def test_plan_without_the_county_approval_is_received_awaiting_it(changes: dict, column: str) -> None:
    """冀工信产业〔2016〕93号 二: the plan is approved by the county government; without it: 待补批复."""
    row = {c.header: example_value(c) for c in PLAN.columns} | changes

    records, issues = validate_rows(table_of("development_plan", [row]), PLAN)

    assert severities(issues) == [(E.VALUE_REQUIRED, column, "warning")]
    assert "待补批复" in issues[0].message
    assert len(records) == 1


def test_an_approved_plan_names_number_and_date_without_a_note() -> None:
    row = {c.header: example_value(c) for c in PLAN.columns}

    records, issues = validate_rows(table_of("development_plan", [row]), PLAN)

    assert issues == []
    assert records[0]["approval_number"] == "安政字〔2025〕18号"


def test_a_bad_cell_is_not_reported_again_by_a_row_rule() -> None:
    plan = get_dataset("development_plan")
    row = {c.header: example_value(c) for c in plan.columns} | {"批准日期": "2025-02-30"}

    _, issues = validate_rows(table_of("development_plan", [row]), plan)

    assert codes(issues) == [(E.DATE_INVALID, 4, "批准日期")]


def test_violation_needs_its_note() -> None:
    scores = get_dataset("evaluation_scores")
    row = {c.header: example_value(c) for c in scores.columns} | {"是否存在违规": "是", "违规情况说明": None}

    _, issues = validate_rows(table_of("evaluation_scores", [row]), scores)

    assert codes(issues) == [(E.VALUE_REQUIRED, 4, "违规情况说明")]


def test_more_targets_completed_than_planned() -> None:
    rereview = get_dataset("rereview_materials")
    row = {c.header: example_value(c) for c in rereview.columns} | {"已完成目标数(项)": "9"}

    _, issues = validate_rows(table_of("rereview_materials", [row]), rereview)

    assert codes(issues) == [(E.VALUE_INCONSISTENT, 4, "已完成目标数(项)")]


def test_reader_cell_issues_come_first_and_are_not_reported_twice() -> None:
    formula = IntakeIssue("名单.xlsx", "联系人名单", 4, "手机", "=1+1", E.FORMULA_NOT_ALLOWED, "公式")
    table = table_of("contact_list", [contact(手机=None)], issues=(formula,))

    _, issues = validate_rows(table, CONTACT)

    assert issues == [formula]


def test_column_the_table_lacks_is_reported() -> None:
    table = table_of("contact_list", [contact()])
    narrowed = RawTable(
        table.file,
        table.sheet,
        table.header_row,
        table.columns[:-1],
        [(n, {k: v for k, v in r.items() if k != "电子邮箱"}) for n, r in table.rows],
    )

    _, issues = validate_rows(narrowed, CONTACT)

    assert codes(issues) == [(E.COLUMN_MISSING, 3, "电子邮箱")]


# read_submission


def test_read_submission_accepts_a_clean_file(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "名单.csv", contact_rows(), encoding="gbk")

    submission = read_submission(path, "contact_list", context=RowContext(known_region_codes=KNOWN_REGIONS))

    assert (submission.dataset_id, len(submission.records), submission.warnings, submission.encoding) == (
        "contact_list",
        4,
        [],
        "gbk",
    )


def test_read_submission_reports_every_row_problem_at_once(tmp_path: Path) -> None:
    rows = contact_rows((0, "手机", "123"), (2, "电子邮箱", "x"), (3, "层级", "省"))
    path = write_csv(tmp_path / "名单.csv", rows)

    error = rejected(lambda: read_submission(path, "contact_list"))

    assert codes(error.issues) == [
        (E.MOBILE_INVALID, 3, "手机"),
        (E.EMAIL_INVALID, 5, "电子邮箱"),
        (E.CHOICE_INVALID, 6, "层级"),
    ]
    assert error.sha256 is not None
