"""Declarative dataset specs and row-level validation of submitted tables.

One :class:`Dataset` per template: its sheet, its columns (Chinese header,
kind, required, choices) and the columns that identify a row. The same spec
drives the Excel template (``templates.py``), the reader's expected header and
:func:`validate_rows`, which turns a :class:`~review_calendar.intake.reader.RawTable`
into typed records plus issues.

Only rules that one row can decide live here (types, required values,
choices, ranges, duplicates within the file, a row's own consistency such as
a plan period of at most three years). Rules across files and regions
(one submission per region, totals against the province) belong to the
provincial Great Expectations gate.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from functools import cache, cached_property
from types import MappingProxyType
from typing import TYPE_CHECKING, Literal, NamedTuple

from review_calendar.intake import issues as E
from review_calendar.intake.issues import IntakeIssue, IntakeRejected, has_errors
from review_calendar.intake.normalize import (
    ValueProblem,
    check_choice,
    check_code,
    check_email,
    check_mobile,
    check_office_phone,
    check_range,
    check_region_code,
    to_date,
    to_int,
    to_number,
    to_percent,
    to_text,
    to_year,
)
from review_calendar.intake.reader import RawTable, ReadLimits, read_table

if TYPE_CHECKING:
    from pathlib import Path

__all__ = [
    "DATASETS",
    "Column",
    "Dataset",
    "Kind",
    "RowProblem",
    "Submission",
    "get_dataset",
    "other_layouts",
    "parse_cell",
    "read_submission",
    "validate_rows",
]

log = logging.getLogger(__name__)

Kind = Literal[
    "text",
    "code",
    "region_code",
    "date",
    "number",
    "percent",
    "phone",
    "mobile",
    "email",
    "choice",
    "year",
    "int",
]
Record = dict[str, object]


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a template.

    Attributes:
        key: ASCII field name used in records, the database and GX suites.
        header: The Chinese header of the template (with its unit).
        kind: How values are parsed and checked.
        required: Whether a blank cell is an error.
        choices: Allowed values of a ``choice`` column (the drop-down list).
        note: What to fill in, for the 填表说明 sheet.
        minimum: Smallest allowed value; None means the kind's default (0 for
            numbers, counts and percents). Percents are fractions (0.75).
        maximum: Largest allowed value; None means the kind's default
            (100 % for percents, unbounded otherwise).
        example: A valid example value for the 填表说明 sheet (and the
            round-trip test); empty means the kind's generic example.
        aliases: Extra spellings of choices, as (spelling, choice) pairs.
        max_length: Longest text accepted, None for Excel's own limit.
    """

    key: str
    header: str
    kind: Kind
    required: bool
    choices: tuple[str, ...] = ()
    note: str = ""
    minimum: float | None = None
    maximum: float | None = None
    example: str = ""
    aliases: tuple[tuple[str, str], ...] = ()
    max_length: int | None = None

    @property
    def bounds(self) -> tuple[float | None, float | None]:
        """The effective (minimum, maximum), defaults applied, None for unbounded."""
        low = 0.0 if self.minimum is None else self.minimum
        high = (1.0 if self.kind == "percent" else None) if self.maximum is None else self.maximum
        return (None if low == -math.inf else low, None if high == math.inf else high)


class RowProblem(NamedTuple):
    """A problem a row check found: the column it names, a code and a sentence."""

    column: str
    code: str
    message: str


RowCheck = Callable[[Mapping[str, object]], Iterable[RowProblem]]


@dataclass(frozen=True)
class Dataset:
    """A template's table: what officials fill in and how it is checked.

    Attributes:
        id: Dataset id, referenced by programme files (``dataset:``).
        title: Chinese title of the table.
        sheet: Name of the data sheet in the template.
        columns: The columns, in template order.
        key_columns: Column keys that identify one row (duplicates are errors).
        year_column: Key of the column holding the reporting year, checked
            against the cycle's year.
        period_column: Key of the column holding the reporting period
            (上半年/全年, 一季度…), checked against the obligation.
        row_checks: Rules across the cells of one row.
        total_row_labels: First-cell texts that mark a 合计 row: excluded
            from the records, its numbers checked against the column sums.
    """

    id: str
    title: str
    sheet: str
    columns: tuple[Column, ...]
    key_columns: tuple[str, ...]
    year_column: str | None = None
    period_column: str | None = None
    row_checks: tuple[RowCheck, ...] = ()
    total_row_labels: tuple[str, ...] = ("合计", "总计", "小计")

    def __post_init__(self) -> None:
        keys = [c.key for c in self.columns]
        if len(set(keys)) != len(keys) or len({c.header for c in self.columns}) != len(keys):
            raise ValueError(f"dataset {self.id!r}: column keys or headers repeat")
        for key in (*self.key_columns, self.year_column, self.period_column):
            if key is not None and key not in keys:
                raise ValueError(f"dataset {self.id!r}: unknown column {key!r}")

    @cached_property
    def headers(self) -> tuple[str, ...]:
        """The Chinese headers in template order (the reader's expected columns)."""
        return tuple(c.header for c in self.columns)

    def column(self, key: str) -> Column:
        """The column with that key.

        Raises:
            KeyError: No such column.
        """
        for c in self.columns:
            if c.key == key:
                return c
        raise KeyError(key)


# ---------------------------------------------------------------------------
# Column helpers: keep the specs below one line per column.
# ---------------------------------------------------------------------------

_YES_NO = ("是", "否")


def _region(
    note: str = "6位行政区划代码（GB/T 2260），如石家庄市为130100。", *, example: str = "130100"
) -> Column:
    return Column("region_code", "行政区划代码", "region_code", True, note=note, example=example)


def _text(
    key: str,
    header: str,
    *,
    required: bool = True,
    note: str = "",
    example: str = "",
    max_length: int | None = None,
) -> Column:
    return Column(key, header, "text", required, note=note, example=example, max_length=max_length)


def _money(key: str, header: str, *, required: bool = True, note: str = "", example: str = "") -> Column:
    return Column(key, header, "number", required, note=note, example=example)


def _count(key: str, header: str, *, required: bool = True, note: str = "", example: str = "") -> Column:
    return Column(key, header, "int", required, note=note, example=example)


def _share(key: str, header: str, *, note: str = "", example: str = "75%") -> Column:
    return Column(key, header, "percent", True, note=note, example=example)


def _growth(key: str, header: str, *, note: str = "", example: str = "12.5%") -> Column:
    # A growth rate can be negative and, rarely, above 100 %.
    return Column(key, header, "percent", True, note=note, minimum=-1.0, maximum=math.inf, example=example)


def _yes_no(key: str, header: str, *, note: str = "", example: str = "是") -> Column:
    return Column(key, header, "choice", True, choices=_YES_NO, note=note, example=example)


def _year(
    key: str = "year",
    header: str = "年度",
    *,
    note: str = "报送数据所属年度，4位数字。",
    example: str = "2025",
) -> Column:
    return Column(key, header, "year", True, note=note, example=example)


# ---------------------------------------------------------------------------
# Row checks
# ---------------------------------------------------------------------------


def _plan_period(record: Mapping[str, object]) -> Iterable[RowProblem]:
    start, end = record.get("period_start"), record.get("period_end")
    if isinstance(start, int) and isinstance(end, int):
        if end < start:
            yield RowProblem(
                "period_end", E.VALUE_INCONSISTENT, f"规划截止年份{end}早于起始年份{start}，请核对。"
            )
        elif end - start + 1 > 3:
            # 冀工信产业〔2016〕93号 三、试点实施时间原则上不超过3年.
            yield RowProblem(
                "period_end",
                E.VALUE_INCONSISTENT,
                f"规划期{start}—{end}年超过3年，试点期原则上不超过3年，请核对。",
            )


def _approval_date(record: Mapping[str, object]) -> Iterable[RowProblem]:
    if record.get("approved") == "是" and record.get("approval_date") is None:
        yield RowProblem(
            "approval_date", E.VALUE_REQUIRED, "已填写经县（市）政府批准，请同时填写“批准日期”。"
        )


def _violation_note(record: Mapping[str, object]) -> Iterable[RowProblem]:
    if record.get("violation") == "是" and not record.get("violation_note"):
        yield RowProblem("violation_note", E.VALUE_REQUIRED, "存在违规时必须填写“违规情况说明”。")


def _targets(record: Mapping[str, object]) -> Iterable[RowProblem]:
    total, done = record.get("targets_total"), record.get("targets_completed")
    if isinstance(total, int) and isinstance(done, int) and done > total:
        yield RowProblem(
            "targets_completed", E.VALUE_INCONSISTENT, f"已完成目标数{done}大于目标总数{total}，请核对。"
        )


def _investment_progress(record: Mapping[str, object]) -> Iterable[RowProblem]:
    started, completed = record.get("projects_started"), record.get("projects_completed")
    if isinstance(started, int) and isinstance(completed, int) and completed > started:
        yield RowProblem(
            "projects_completed",
            E.VALUE_INCONSISTENT,
            f"竣工项目数{completed}大于开工项目数{started}，请核对。",
        )


# ---------------------------------------------------------------------------
# The datasets
# ---------------------------------------------------------------------------

_CLUSTER = _text(
    "cluster_name",
    "产业集群名称",
    note="集群全称，与认定或试点文件一致。",
    example="安平丝网产业集群",
    max_length=100,
)

_DATASET_LIST: tuple[Dataset, ...] = (
    Dataset(
        id="contact_list",
        title="主管领导及责任处室负责同志名单",
        sheet="联系人名单",
        columns=(
            _region("本市或试点县（市）的6位行政区划代码。"),
            _text("region_name", "地区名称", example="石家庄市", max_length=50),
            Column(
                "level",
                "层级",
                "choice",
                True,
                choices=("市", "县"),
                note="市本级填“市”，试点县（市、区）填“县”。",
                example="市",
            ),
            Column(
                "role",
                "角色",
                "choice",
                True,
                choices=("主管领导", "责任处室负责同志"),
                note="每个市和试点县各填两行：主管领导一行、责任处室负责同志一行。",
                example="主管领导",
            ),
            _text("name", "姓名", example="张三", max_length=30),
            _text("post", "职务", example="副局长", max_length=50),
            Column(
                "office_phone",
                "办公电话",
                "phone",
                True,
                note="带区号的固定电话，可带分机号。",
                example="0311-87803218",
            ),
            Column("mobile", "手机", "mobile", True, note="11位手机号码。", example="13812345678"),
            Column("email", "电子邮箱", "email", True, example="zhangsan@example.gov.cn"),
        ),
        key_columns=("region_code", "role"),
    ),
    Dataset(
        id="development_plan",
        title="智慧集群专项发展规划（摘要）",
        sheet="专项发展规划",
        columns=(
            _region(),
            _CLUSTER,
            _year("period_start", "规划起始年份", note="规划期第一年。", example="2025"),
            _year(
                "period_end", "规划截止年份", note="规划期最后一年；试点期原则上不超过3年。", example="2027"
            ),
            _text("overall_approach", "总体思路", example="以数字化改造提升集群整体竞争力……"),
            _text("goals", "建设目标", example="到2027年建成集群工业互联网平台……"),
            _text("main_tasks", "主要任务", example="一是……二是……"),
            _text("safeguards", "保障措施", example="成立工作专班……"),
            _yes_no("approved", "是否经县(市)政府批准", note="规划须经县（市）政府批准。"),
            Column(
                "approval_date",
                "批准日期",
                "date",
                False,
                note="已批准的填写批准日期。",
                example="2025-05-20",
            ),
            _money("total_investment", "计划总投资(万元)", note="单位：万元，只填数字。", example="12,500"),
        ),
        key_columns=("region_code", "cluster_name"),
        row_checks=(_plan_period, _approval_date),
    ),
    Dataset(
        id="plan_projects",
        title="实施方案项目清单",
        sheet="项目清单",
        columns=(
            _region(),
            _text("project_name", "项目名称", example="集群工业互联网平台建设项目", max_length=200),
            _text("content", "建设内容", example="建设面向丝网企业的云平台……"),
            _text("investor", "投资主体", example="某某科技有限公司", max_length=200),
            _text("targets", "预期目标", example="服务企业200家以上"),
            _year(
                "year", "投资年度", note="该笔投资安排的年度；分年度安排的，每个年度填一行。", example="2025"
            ),
            _money("investment", "计划投资(万元)", note="单位：万元。", example="800"),
            _text("funding_source", "资金来源", example="企业自筹、省级专项资金", max_length=200),
        ),
        key_columns=("region_code", "project_name", "year"),
    ),
    Dataset(
        id="progress_report",
        title="智慧集群试点建设进展情况",
        sheet="建设进展",
        columns=(
            _region(),
            _CLUSTER,
            _year(),
            Column(
                "period",
                "报告期",
                "choice",
                True,
                choices=("上半年", "全年"),
                note="7月15日前报送的填“上半年”，次年1月15日前报送的填“全年”。",
                example="上半年",
                aliases=(
                    ("上半年度", "上半年"),
                    ("1-6月", "上半年"),
                    ("H1", "上半年"),
                    ("全年度", "全年"),
                    ("1-12月", "全年"),
                    ("FY", "全年"),
                ),
            ),
            _money("planned_investment", "年度计划投资(万元)", example="5,000"),
            _money("completed_investment", "已完成投资(万元)", example="2,600"),
            _money("revenue_yi", "集群营业收入(亿元)", example="86.5"),
            _count("projects_started", "开工项目数(个)", example="6"),
            _count("projects_completed", "竣工项目数(个)", example="2"),
            _text(
                "progress",
                "进展情况",
                note="对照年度进度计划说明建设进展、存在问题和下一步安排。",
                example="平台一期已上线……",
            ),
        ),
        key_columns=("region_code", "cluster_name", "year", "period"),
        year_column="year",
        period_column="period",
        row_checks=(_investment_progress,),
    ),
    Dataset(
        id="annual_info_table",
        title="中小企业特色产业集群年度培育情况信息表",
        sheet="年度培育情况信息表",
        columns=(
            _region(),
            _text("cluster_name", "集群名称", example="安平丝网产业集群", max_length=100),
            _year(note="填报上一年度的数据，如2026年4月报送填“2025”。"),
            Column("area_km2", "集群面积(平方公里)", "number", True, note="集群规划面积。", example="85.6"),
            _money("output_yi", "集群产值(亿元)", example="120.3"),
            _share("sme_output_share", "中小企业产值占比(%)", example="78%"),
            _share("leading_industry_share", "主导产业产值占比(%)", example="82%"),
            _growth("output_growth", "产值增长率(%)", example="11.2%"),
            _count("champion_firms", "单项冠军和专精特新“小巨人”企业数(家)", example="2"),
            _count("specialised_smes", "专精特新中小企业数(家)", example="15"),
            _count("high_tech_firms", "高新技术企业数(家)", example="23"),
            _growth("sme_rd_growth", "中小企业研发经费增长率(%)", example="10.5%"),
            _count("invention_patents", "有效发明专利数(件)", example="460"),
            Column("patents_per_10k", "每万人有效发明专利拥有量(件)", "number", True, example="16.2"),
            _growth("invention_patent_growth", "有效发明专利增长率(%)", example="15.4%"),
            _share("platform_adoption", "工业互联网平台普及率(%)", example="18%"),
            _yes_no(
                "major_incident",
                "近三年是否发生重大事故",
                note="重大安全、质量、环境污染、网络和数据安全事故，偷税漏税或严重失信等（工信部企业〔2022〕119号第十七条）。",
                example="否",
            ),
            _yes_no("has_three_year_plan", "是否制定三年发展规划", note="有可考核目标的集群三年发展规划。"),
        ),
        key_columns=("region_code", "cluster_name", "year"),
        year_column="year",
    ),
    Dataset(
        id="evaluation_scores",
        title="年度绩效评价评分表",
        sheet="评估评分",
        columns=(
            Column(
                "cluster_code",
                "集群编号",
                "code",
                False,
                note="省厅或工信部公布的编号，没有的留空。",
                example="HB-2016-01",
            ),
            _region(),
            _CLUSTER,
            _year(),
            _text("evaluator", "评估机构", example="某某评估中心", max_length=100),
            Column("score", "评分", "number", True, note="百分制，0～100分。", maximum=100.0, example="86.5"),
            _yes_no(
                "violation", "是否存在违规", note="建设或资金使用中存在不符合规定的情况填“是”。", example="否"
            ),
            _text("violation_note", "违规情况说明", required=False, note="存在违规时必填。", example=""),
        ),
        key_columns=("region_code", "cluster_name", "year"),
        year_column="year",
        row_checks=(_violation_note,),
    ),
    Dataset(
        id="rereview_materials",
        title="中小企业特色产业集群期满复核材料",
        sheet="复核材料",
        columns=(
            _region(),
            _text("cluster_name", "集群名称", example="安平丝网产业集群", max_length=100),
            _year(
                "validity_end_year", "认定有效期截止年份", note="认定有效期3年，填届满年份。", example="2025"
            ),
            _yes_no("applies", "是否申请复核", note="有效期届满未申请复核的将被撤销认定（第十七条）。"),
            _count("targets_total", "三年发展规划目标数(项)", example="8"),
            _count("targets_completed", "已完成目标数(项)", example="7"),
            _money("output_year1_yi", "有效期第一年产值(亿元)", example="105.2"),
            _money("output_year2_yi", "有效期第二年产值(亿元)", example="112.8"),
            _money("output_year3_yi", "有效期第三年产值(亿元)", example="120.3"),
            _text(
                "explanation", "未完成目标说明", required=False, note="有未完成目标的说明原因。", example=""
            ),
        ),
        key_columns=("region_code", "cluster_name"),
        row_checks=(_targets,),
    ),
    Dataset(
        id="henan_quarterly",
        title="新型工业化产业示范基地季度创建进展",
        sheet="季度进展",
        columns=(
            Column("base_code", "基地编号", "code", True, note="省厅公布的基地编号。", example="HN-2012-05"),
            _region("基地所在县（市、区）的6位行政区划代码。", example="410100"),
            _text("base_name", "基地名称", example="某某新型工业化产业示范基地", max_length=100),
            _year(),
            Column(
                "quarter",
                "季度",
                "choice",
                True,
                choices=("一季度", "二季度", "三季度", "四季度"),
                example="一季度",
                aliases=tuple(
                    pair
                    for n, name in enumerate(("一季度", "二季度", "三季度", "四季度"), start=1)
                    for pair in (
                        (f"第{name}", name),
                        (f"{n}季度", name),
                        (f"第{n}季度", name),
                        (f"Q{n}", name),
                        (f"q{n}", name),
                    )
                ),
            ),
            _money("output_yi", "季度产值(亿元)", example="35.2"),
            _money("investment_wan", "完成投资(万元)", example="18,000"),
            _count(
                "counselling_visits",
                "专家指导次数(次)",
                note="本季度专家深入基地指导次数，每季度至少1次。",
                example="1",
            ),
            _text("progress", "主要进展", required=False, example="新引进项目3个……"),
        ),
        key_columns=("base_code", "year", "quarter"),
        year_column="year",
        period_column="quarter",
    ),
    Dataset(
        id="subsidy_claims",
        title="产业集群数字化转型奖补申报表",
        sheet="奖补申报",
        columns=(
            _text("firm_name", "企业名称", example="文安某某木业有限公司", max_length=200),
            _region("企业所在县（市、区）的6位行政区划代码。", example="131026"),
            Column(
                "category",
                "申报类别",
                "choice",
                True,
                choices=("试点", "示范", "平台"),
                note="试点企业（“三个一”）、示范企业（“四个一”）或工业互联网平台（“五个一”）。",
                example="试点",
                aliases=(("试点企业", "试点"), ("示范企业", "示范"), ("工业互联网平台", "平台")),
            ),
            _money("equipment_wan", "设备投资(万元)", example="500"),
            _money("software_wan", "软件投资(万元)", example="100"),
            _money(
                "claimed_wan",
                "申请奖补金额(万元)",
                note="试点、示范不超过投资的20%且最高200万元；平台不超过30%且最高500万元。",
                example="100",
            ),
        ),
        key_columns=("region_code", "firm_name", "category"),
    ),
)

DATASETS: dict[str, Dataset] = {d.id: d for d in _DATASET_LIST}


def get_dataset(dataset_id: str) -> Dataset:
    """The dataset spec with that id.

    Args:
        dataset_id: e.g. ``"contact_list"``.

    Returns:
        The spec.

    Raises:
        KeyError: Unknown dataset, with the known ids in the message.
    """
    try:
        return DATASETS[dataset_id]
    except KeyError:
        raise KeyError(f"unknown dataset {dataset_id!r}; known: {', '.join(sorted(DATASETS))}") from None


@cache
def other_layouts(dataset_id: str) -> Mapping[str, tuple[str, ...]]:
    """Headers of every other template, by title, for ``read_table(other_layouts=...)``.

    Args:
        dataset_id: The dataset being read.

    Returns:
        ``{title: headers}`` of the other datasets (cached; do not modify).
    """
    return MappingProxyType({d.title: d.headers for d in _DATASET_LIST if d.id != dataset_id})


# ---------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------

Parser = Callable[[str], object]


def _parser(column: Column) -> Parser:
    low, high = column.bounds
    kind = column.kind
    if kind == "text":
        return lambda text: text
    if kind == "number":
        return lambda text: check_range(to_number(text), low, high)
    if kind == "int":
        return lambda text: int(check_range(to_int(text), low, high))
    if kind == "percent":
        return lambda text: to_percent(text, minimum=low, maximum=high)
    if kind == "year":
        return to_year
    if kind == "date":
        return to_date
    if kind == "phone":
        return check_office_phone
    if kind == "mobile":
        return check_mobile
    if kind == "email":
        return check_email
    if kind == "region_code":
        return check_region_code
    if kind == "code":
        return check_code
    if kind == "choice":
        choices, aliases = column.choices, dict(column.aliases)
        return lambda text: check_choice(text, choices, aliases)
    raise ValueError(f"unknown column kind {kind!r}")


def parse_cell(column: Column, text: str) -> object:
    """One cell's typed value, as :func:`validate_rows` computes it.

    Args:
        column: The column.
        text: The cell text (not blank).

    Returns:
        The typed value (str, int, float or date).

    Raises:
        ValueProblem: The value does not fit the column.
    """
    return _parser(column)(text)


def _quote(value: str, limit: int = 50) -> str:
    return value if len(value) <= limit else value[:limit] + "…"


def _show(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".")
    return str(value)


def validate_rows(
    table: RawTable,
    dataset: Dataset,
    *,
    known_region_codes: Collection[str] | None = None,
    expected_year: int | None = None,
    expected_period: str | None = None,
) -> tuple[list[Record], list[IntakeIssue]]:
    """Typed, normalised records of a table and every row-level issue.

    Args:
        table: What :func:`~review_calendar.intake.reader.read_table` read.
        dataset: The dataset spec the table should follow.
        known_region_codes: Region codes that exist (e.g. the province's
            table); a well-formed code outside it is REGION_UNKNOWN. None
            skips the check.
        expected_year: The cycle's year; a different value in the dataset's
            year column is YEAR_MISMATCH.
        expected_period: The obligation's period (``上半年``, ``全年``,
            ``一季度`` or an alias such as ``Q1``); a different value in the
            period column is OBLIGATION_MISMATCH.

    Returns:
        ``(records, issues)``: one record per data row (keys = column keys,
        plus ``_row``, the spreadsheet row number; cells with an issue are
        None; 合计 rows are not records), and the table's own cell issues
        followed by the row issues in row order. Any issue with severity
        ``"error"`` means the file must be rejected.
    """
    file, sheet = table.file, table.sheet
    issues: list[IntakeIssue] = list(table.issues)
    flagged = {(i.row, i.column) for i in table.issues}
    present = [c for c in dataset.columns if c.header in table.columns]
    for c in dataset.columns:
        if c.header not in table.columns:
            issues.append(
                IntakeIssue(
                    file,
                    sheet,
                    table.header_row,
                    c.header,
                    None,
                    E.COLUMN_MISSING,
                    f"缺少“{c.header}”列，请使用下发的模板，补上该列后重新提交。",
                )
            )
    plan = [(c, c.header, c.key, _parser(c)) for c in present]
    known = set(known_region_codes) if known_region_codes is not None else None
    by_key = {c.key: c for c in dataset.columns}
    period_value: object = None
    if expected_period is not None and dataset.period_column is not None:
        period_col = by_key[dataset.period_column]
        try:
            period_value = check_choice(expected_period, period_col.choices, dict(period_col.aliases))
        except ValueProblem:
            raise ValueError(
                f"expected_period {expected_period!r} is not one of {period_col.choices}"
            ) from None

    records: list[Record] = []
    bad_cells: set[str] = set()  # columns with at least one invalid cell (totals cannot be checked)
    totals: list[tuple[int, dict[str, str | None]]] = []
    seen: dict[tuple[object, ...], int] = {}
    total_labels = set(dataset.total_row_labels)

    for number, raw in table.rows:
        first = next((v for v in raw.values() if v), None)
        if first is not None and first.replace(" ", "").replace("\u3000", "") in total_labels:
            totals.append((number, raw))
            continue
        record: Record = {"_row": number}
        row_issues: list[IntakeIssue] = []
        row_bad: set[str] = set()
        for column, header, key, parse in plan:
            raw_value = raw.get(header)
            if (number, header) in flagged:
                record[key] = None
                bad_cells.add(key)
                row_bad.add(key)
                continue
            text = to_text(raw_value)
            if text is None:
                record[key] = None
                if column.required:
                    bad_cells.add(key)
                    row_bad.add(key)
                    row_issues.append(
                        IntakeIssue(
                            file,
                            sheet,
                            number,
                            header,
                            None,
                            E.VALUE_REQUIRED,
                            f"第{number}行“{header}”列为必填项，未填写，请补充。",
                        )
                    )
                continue
            try:
                value = parse(text)
                if (
                    column.max_length is not None
                    and isinstance(value, str)
                    and len(value) > column.max_length
                ):
                    raise ValueProblem(E.VALUE_TOO_LONG, f"超过{column.max_length}个字，请精简。")
            except ValueProblem as problem:
                record[key] = None
                bad_cells.add(key)
                row_bad.add(key)
                row_issues.append(
                    IntakeIssue(
                        file,
                        sheet,
                        number,
                        header,
                        raw_value,
                        problem.code,
                        f"第{number}行“{header}”列的值“{_quote(raw_value or '')}”{problem.fragment}",
                    )
                )
                continue
            record[key] = value
            if known is not None and column.kind == "region_code" and value not in known:
                row_issues.append(
                    IntakeIssue(
                        file,
                        sheet,
                        number,
                        header,
                        raw_value,
                        E.REGION_UNKNOWN,
                        f"第{number}行“{header}”列的值“{value}”不是本次报送范围内的行政区划代码，请核对（如区划调整，请联系省厅）。",
                    )
                )
        if expected_year is not None and dataset.year_column is not None:
            year = record.get(dataset.year_column)
            if isinstance(year, int) and year != expected_year:
                header = by_key[dataset.year_column].header
                row_issues.append(
                    IntakeIssue(
                        file,
                        sheet,
                        number,
                        header,
                        str(year),
                        E.YEAR_MISMATCH,
                        f"第{number}行“{header}”填写的是{year}年，与本次报送的{expected_year}年度不符，请核对。",
                    )
                )
        if period_value is not None and dataset.period_column is not None:
            period = record.get(dataset.period_column)
            if isinstance(period, str) and period != period_value:
                header = by_key[dataset.period_column].header
                row_issues.append(
                    IntakeIssue(
                        file,
                        sheet,
                        number,
                        header,
                        period,
                        E.OBLIGATION_MISMATCH,
                        f"第{number}行“{header}”填写的是“{period}”，本次报送的是“{period_value}”，请核对报告期或报送事项。",
                    )
                )
        for check in dataset.row_checks:
            for problem in check(record):
                if problem.column in row_bad:
                    continue  # the cell itself is already reported
                header = by_key[problem.column].header
                value = record.get(problem.column)
                row_issues.append(
                    IntakeIssue(
                        file,
                        sheet,
                        number,
                        header,
                        None if value is None else str(value),
                        problem.code,
                        f"第{number}行：{problem.message}",
                    )
                )
        key_values = tuple(record.get(k) for k in dataset.key_columns)
        if dataset.key_columns and all(v is not None for v in key_values):
            earlier = seen.get(key_values)
            if earlier is None:
                seen[key_values] = number
            else:
                described = "、".join(
                    f"{by_key[k].header}“{v}”" for k, v in zip(dataset.key_columns, key_values, strict=True)
                )
                row_issues.append(
                    IntakeIssue(
                        file,
                        sheet,
                        number,
                        None,
                        " / ".join(str(v) for v in key_values),
                        E.ROW_DUPLICATE,
                        f"第{number}行与第{earlier}行重复（{described}相同），请删除重复行或更正。",
                    )
                )
        issues.extend(row_issues)
        records.append(record)

    issues.extend(_check_totals(table, dataset, records, totals, bad_cells))
    log.debug(
        "intake: validated %s/%s: %d records, %d issues", dataset.id, table.file, len(records), len(issues)
    )
    return records, issues


def _check_totals(
    table: RawTable,
    dataset: Dataset,
    records: list[Record],
    totals: list[tuple[int, dict[str, str | None]]],
    bad_cells: set[str],
) -> list[IntakeIssue]:
    """Compare each 合计 row with the sum of the records above it."""
    issues: list[IntakeIssue] = []
    for number, raw in totals:
        for column in dataset.columns:
            if column.kind not in ("number", "int") or column.key in bad_cells:
                continue
            text = to_text(raw.get(column.header))
            if text is None:
                continue
            try:
                stated = to_number(text)
            except ValueProblem as problem:
                issues.append(
                    IntakeIssue(
                        table.file,
                        table.sheet,
                        number,
                        column.header,
                        text,
                        problem.code,
                        f"第{number}行（合计）“{column.header}”列的值“{_quote(text)}”{problem.fragment}",
                    )
                )
                continue
            summed = math.fsum(
                float(v)
                for r in records
                if r["_row"] < number and isinstance(v := r.get(column.key), int | float)
            )
            if abs(stated - summed) > max(0.011, 1e-9 * abs(summed)):
                issues.append(
                    IntakeIssue(
                        table.file,
                        table.sheet,
                        number,
                        column.header,
                        text,
                        E.TOTAL_MISMATCH,
                        f"第{number}行合计的“{column.header}”为{_show(stated)}，但上面各行相加为{_show(summed)}，请核对合计数或明细。",
                    )
                )
    return issues


# ---------------------------------------------------------------------------
# One call for a whole file
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Submission:
    """An accepted file: its records and anything worth a warning.

    Attributes:
        file: Safe display name.
        dataset_id: The dataset it was read as.
        sheet: Sheet read (None for CSV).
        header_row: 1-based row of the header.
        records: Typed records (see :func:`validate_rows`).
        warnings: Issues with severity ``"warning"``.
        sha256: Hex digest of the file's bytes (storage's content hash).
        size: File size in bytes.
        format: ``"xlsx"`` or ``"csv"``.
        encoding: CSV text encoding, else None.
    """

    file: str
    dataset_id: str
    sheet: str | None
    header_row: int
    records: list[Record]
    warnings: list[IntakeIssue]
    sha256: str
    size: int
    format: str
    encoding: str | None


def read_submission(
    path: Path,
    dataset: str | Dataset,
    *,
    name: str | None = None,
    limits: ReadLimits = ReadLimits(),  # noqa: B008 - frozen, immutable default
    known_region_codes: Collection[str] | None = None,
    expected_year: int | None = None,
    expected_period: str | None = None,
) -> Submission:
    """Read and row-validate one submitted file: accept it or reject it with every reason.

    Args:
        path: The file on disk.
        dataset: Dataset id or spec.
        name: The submitter's file name when it differs from ``path.name``.
        limits: Reader bounds.
        known_region_codes: See :func:`validate_rows`.
        expected_year: See :func:`validate_rows`.
        expected_period: See :func:`validate_rows`.

    Returns:
        The accepted submission.

    Raises:
        IntakeRejected: Any error-severity issue, from reading or from the
            rows; ``sha256`` is set whenever the bytes were read.
    """
    spec = get_dataset(dataset) if isinstance(dataset, str) else dataset
    table = read_table(
        path,
        sheet=spec.sheet,
        expected_columns=spec.headers,
        limits=limits,
        name=name,
        other_layouts=other_layouts(spec.id),
    )
    records, issues = validate_rows(
        table,
        spec,
        known_region_codes=known_region_codes,
        expected_year=expected_year,
        expected_period=expected_period,
    )
    if has_errors(issues):
        log.info(
            "intake: rejected %s as %s: %d issue(s), codes %s",
            table.file,
            spec.id,
            len(issues),
            ",".join(sorted({i.code for i in issues})),
        )
        raise IntakeRejected(issues, sha256=table.sha256)
    return Submission(
        file=table.file,
        dataset_id=spec.id,
        sheet=table.sheet,
        header_row=table.header_row,
        records=records,
        warnings=[i for i in issues if i.severity == "warning"],
        sha256=table.sha256,
        size=table.size,
        format=table.format,
        encoding=table.encoding,
    )
