"""Official templates: their layout, and that a filled template reads back without issues."""

from __future__ import annotations

import csv
from typing import TYPE_CHECKING

import pytest
from openpyxl import load_workbook

from review_calendar.domain.labels import period_label
from review_calendar.domain.programmes import find_instance, load_programme
from review_calendar.intake import (
    DATASETS,
    RowContext,
    get_dataset,
    read_submission,
    read_table,
    validate_rows,
)
from review_calendar.intake.templates import (
    DATA_FIRST_ROW,
    HEADER_ROW,
    TEMPLATE_DATASETS,
    header_label,
    template_datasets,
    template_for,
    template_name,
    write_template,
)
from tests.unit.intake_cases import example_row, fill_template, rejected

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.unit

TEMPLATE_IDS = [d for d in DATASETS if not any(d in extra[1:] for extra in TEMPLATE_DATASETS.values())]


def template(tmp_path: Path, dataset_id: str = "contact_list") -> Path:
    return write_template(
        dataset_id,
        tmp_path / f"{dataset_id}.xlsx",
        programme_title="河北省智慧集群建设试点",
        obligation_title="主管领导及责任处室负责同志名单",
        due="2025年3月31日",
    )


@pytest.mark.parametrize("dataset_id", [pytest.param(d, id=d) for d in TEMPLATE_IDS])
def test_filled_template_reads_back_without_issues(tmp_path: Path, dataset_id: str) -> None:
    path = fill_template(dataset_id, tmp_path / f"{dataset_id}.xlsx")

    submissions = [read_submission(path, d) for d in template_datasets(dataset_id)]

    assert [(s.header_row, len(s.records), s.warnings) for s in submissions] == [(HEADER_ROW, 1, [])] * len(
        submissions
    )


def test_filled_template_values_come_back_typed(tmp_path: Path) -> None:
    path = fill_template("annual_info_table", tmp_path / "annual.xlsx")

    record = read_submission(path, "annual_info_table").records[0]

    assert {
        k: record[k] for k in ("_row", "year", "sme_output_share", "champion_firms", "major_incident")
    } == {
        "_row": DATA_FIRST_ROW,
        "year": 2025,
        "sme_output_share": 0.78,
        "champion_firms": 2,
        "major_incident": "否",
    }


def test_contact_template_with_both_roles_of_two_regions(tmp_path: Path) -> None:
    dataset = get_dataset("contact_list")
    base = example_row(dataset)
    rows = [
        base | {"行政区划代码": code, "角色": role, "层级": level}
        for code, level in (("130100", "市"), ("131125", "县"))
        for role in ("主管领导", "责任处室负责同志")
    ]
    path = fill_template("contact_list", tmp_path / "contacts.xlsx", {"联系人名单": rows})

    submission = read_submission(
        path, "contact_list", context=RowContext(known_region_codes={"130100", "131125"})
    )

    assert [(r["region_code"], r["role"]) for r in submission.records] == [
        ("130100", "主管领导"),
        ("130100", "责任处室负责同志"),
        ("131125", "主管领导"),
        ("131125", "责任处室负责同志"),
    ]


def test_filled_template_saved_as_csv_reads_back(tmp_path: Path) -> None:
    # What an office gets from Excel's "CSV UTF-8" export of the data sheet.
    dataset = get_dataset("contact_list")
    workbook = load_workbook(fill_template("contact_list", tmp_path / "contacts.xlsx"))
    path = tmp_path / "contacts.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows(workbook[dataset.sheet].iter_rows(values_only=True))

    submission = read_submission(path, "contact_list")

    assert (submission.format, submission.records[0]["_row"]) == ("csv", DATA_FIRST_ROW)


def test_development_plan_template_carries_the_project_sheet(tmp_path: Path) -> None:
    workbook = load_workbook(template(tmp_path, "development_plan"))

    assert workbook.sheetnames == ["专项发展规划", "项目清单", "填表说明"]


def test_title_row_names_programme_and_obligation(tmp_path: Path) -> None:
    sheet = load_workbook(template(tmp_path))["联系人名单"]

    assert (
        sheet["A1"].value
        == "河北省智慧集群建设试点——主管领导及责任处室负责同志名单（主管领导及责任处室负责同志名单）"
    )
    assert "A1:I1" in {str(r) for r in sheet.merged_cells.ranges}


def test_header_row_is_bold_and_marks_required_columns(tmp_path: Path) -> None:
    sheet = load_workbook(template(tmp_path))["联系人名单"]
    dataset = get_dataset("contact_list")

    cells = [sheet.cell(row=HEADER_ROW, column=i + 1) for i in range(len(dataset.columns))]

    assert [c.value for c in cells] == [header_label(c) for c in dataset.columns]
    assert all(c.font.b for c in cells)
    assert all(str(c.value).endswith("*") for c in cells)


def test_optional_columns_are_not_marked(tmp_path: Path) -> None:
    sheet = load_workbook(template(tmp_path, "evaluation_scores"))["评估评分"]

    assert sheet.cell(row=HEADER_ROW, column=1).value == "集群编号"


def test_choice_columns_have_drop_downs(tmp_path: Path) -> None:
    sheet = load_workbook(template(tmp_path))["联系人名单"]

    lists = {str(v.sqref).split(":")[0]: v.formula1 for v in sheet.data_validations.dataValidation}

    assert lists == {f"C{DATA_FIRST_ROW}": '"市,县"', f"D{DATA_FIRST_ROW}": '"主管领导,责任处室负责同志"'}


def test_phone_and_code_columns_are_formatted_as_text(tmp_path: Path) -> None:
    sheet = load_workbook(template(tmp_path))["联系人名单"]

    assert [sheet.column_dimensions[c].number_format for c in "AGH"] == ["@", "@", "@"]


def test_columns_have_widths(tmp_path: Path) -> None:
    sheet = load_workbook(template(tmp_path))["联系人名单"]

    assert all((sheet.column_dimensions[c].width or 0) >= 10 for c in "ABCDEFGHI")


def test_header_is_frozen(tmp_path: Path) -> None:
    sheet = load_workbook(template(tmp_path))["联系人名单"]

    assert sheet.freeze_panes == f"A{DATA_FIRST_ROW}"


def test_instruction_sheet_explains_every_column_and_the_deadline(tmp_path: Path) -> None:
    sheet = load_workbook(template(tmp_path))["填表说明"]
    text = "\n".join(str(v) for row in sheet.iter_rows(values_only=True) for v in row if v is not None)

    assert "2025年3月31日" in text
    assert all(h in text for h in get_dataset("contact_list").headers)
    assert "0311-87803218" in text and "11位数字" in text


def test_empty_template_is_header_only(tmp_path: Path) -> None:
    path = template(tmp_path)
    dataset = get_dataset("contact_list")

    error = rejected(
        lambda: validate_rows(
            read_table(path, sheet=dataset.sheet, expected_columns=dataset.headers), dataset
        )
    )

    assert [(i.code, i.row) for i in error.issues] == [("NO_DATA_ROWS", HEADER_ROW)]


def test_unknown_dataset_has_no_template(tmp_path: Path) -> None:
    with pytest.raises(KeyError):
        template(tmp_path, "nope")


# the template attached to notices


def test_template_name_of_a_yearly_obligation() -> None:
    programme = load_programme("hebei_smart_cluster")
    instance = find_instance(programme, 2025, "half_year_report")

    assert template_name(instance) == "上半年试点建设进展情况报送模板.xlsx"


def test_template_name_of_a_periodic_obligation_names_the_period_in_chinese() -> None:
    programme = load_programme("henan_demo_base")
    obligation = next(o for o in programme.obligations if len(o.due) > 1)
    instance = find_instance(programme, 2025, obligation.id, obligation.due[0].period)

    assert template_name(instance) == f"{obligation.title}（{period_label(instance.period)}）报送模板.xlsx"


def test_template_for_writes_the_template_once_and_reuses_it(tmp_path: Path) -> None:
    programme = load_programme("hebei_smart_cluster")
    instance = find_instance(programme, 2025, "half_year_report")
    first = template_for(programme, instance, tmp_path)
    assert first is not None
    written = first.stat().st_mtime_ns

    again = template_for(programme, instance, tmp_path)

    assert again == first == tmp_path / "hebei_smart_cluster" / "2025" / template_name(instance)
    assert again.stat().st_mtime_ns == written
    assert load_workbook(again).sheetnames[0] == get_dataset("progress_report").sheet


def test_instruction_sheet_states_the_bounds_of_every_numeric_column(tmp_path: Path) -> None:
    """Hard and soft bounds are declared once, on the column, and shown to officials (配置)."""
    sheet = load_workbook(template(tmp_path, "annual_info_table"))["填表说明"]
    rows = {row[0]: row for row in sheet.iter_rows(values_only=True) if row and row[0]}

    assert "0亿元～10,000亿元" in rows["集群产值(亿元)"][3]
    assert "超过2,000亿元时提示审核人员核对（配置）" in rows["集群产值(亿元)"][3]
    assert "取值范围：0%～100%" in rows["中小企业产值占比(%)"][3]
    assert "-100%～10000%" in rows["产值增长率(%)"][3]


def test_every_numeric_column_has_a_finite_upper_bound() -> None:
    """No numeric cell of any template can hold 1e30: provincial totals stay finite."""
    for dataset in DATASETS.values():
        for column in dataset.columns:
            if column.kind in ("number", "int", "percent"):
                _, high = column.bounds
                assert high is not None and high < 1e13, (dataset.id, column.key)


@pytest.mark.parametrize(
    ("obligation", "year", "text"),
    [
        pytest.param("major_progress", 2025, "随时报送（无固定截止日期）", id="ad-hoc-has-no-deadline"),
        pytest.param("contact_list", 2024, "2024年4月1日（法定截止日期，已按周末和法定节假日顺延）", id="93-seven-moved"),
        pytest.param("pilot_application", 2025, "2025年10月31日（配置日期，遇周末或法定节假日顺延至下一个工作日）",
                     id="configured-date"),
    ],
)  # fmt: skip
def test_template_states_the_deadline_with_its_basis(obligation: str, year: int, text: str) -> None:
    """A template says 法定截止日期 or 配置日期 and whether the date already moved (Mar 31, 2024 was a Sunday)."""
    from review_calendar.domain.programmes import find_instance, load_programme
    from review_calendar.intake.templates import due_text

    programme = load_programme("hebei_smart_cluster")
    instance = (
        find_instance(programme, year, obligation)
        if obligation != "major_progress"
        else _ad_hoc(programme, year, obligation)
    )

    assert due_text(instance) == text


def _ad_hoc(programme, year, obligation):
    from review_calendar.domain.programmes import ad_hoc_instance

    return ad_hoc_instance(programme, year, obligation)
