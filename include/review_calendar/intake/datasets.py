"""Declarative dataset specs: one per table of a template, and the registry of all of them.

The reporting tables are declared here, the tables that feed a decision in
:mod:`review_calendar.intake.decision_datasets`, the type in :mod:`review_calendar.intake.spec`.

One :class:`Dataset` per template sheet: its sheet, its columns (Chinese
header, kind, required, choices), the columns that identify a row and the
rules across the cells of one row. The same spec drives the Excel template
(``templates.py``), the reader's expected header and the row validation
(``rows.py``).

Only rules that one row can decide live here (types, required values,
choices, ranges, duplicates within the file, a row's own consistency such as
the pilot period of a plan, in ``row_rules.py``). Rules across files and regions (one submission
per region, totals against the province) belong to the provincial gate.

The bounds of numeric columns (``maximum``, the ``usual`` range that only
warns) are provincial configuration: the documents set none beyond a
share's 100 %. The template's 填表说明 shows them with the label 配置.
"""

from __future__ import annotations

from functools import cache
from types import MappingProxyType
from typing import TYPE_CHECKING

from review_calendar.intake import columns as col
from review_calendar.intake.columns import Column
from review_calendar.intake.decision_datasets import DECISION_DATASETS
from review_calendar.intake.row_rules import ColumnOrder, approval_date, pilot_period
from review_calendar.intake.spec import Dataset

if TYPE_CHECKING:
    from collections.abc import Mapping

__all__ = [
    "DATASETS",
    "Dataset",
    "TEMPLATE_DATASETS",
    "get_dataset",
    "other_layouts",
    "template_datasets",
]


_DATASET_LIST: tuple[Dataset, ...] = (
    Dataset(
        id="contact_list",
        title="主管领导及责任处室负责同志名单",
        sheet="联系人名单",
        columns=(
            col.region("本市或试点县（市）的6位行政区划代码。"),
            col.text("region_name", "地区名称", example="石家庄市", max_length=50),
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
            col.text("name", "姓名", example="张三", max_length=30),
            col.text("post", "职务", example="副局长", max_length=50),
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
            col.region(),
            col.cluster(),
            col.year("period_start", "规划起始年份", note="规划期第一年。", example="2025"),
            col.year(
                "period_end",
                "规划截止年份",
                note="规划期最后一年；规划期可与本地五年规划一致，不受试点期限制。",
                example="2029",
            ),
            Column(
                "pilot_start",
                "试点实施起始年份",
                "year",
                False,
                note="实施方案的试点实施期第一年。",
                example="2025",
            ),
            Column(
                "pilot_end",
                "试点实施截止年份",
                "year",
                False,
                note="试点实施期最后一年；试点实施时间原则上不超过3年，超过的予以提示。",
                example="2027",
            ),
            col.text("overall_approach", "总体思路", example="以数字化改造提升集群整体竞争力……"),
            col.text("goals", "建设目标", example="到2027年建成集群工业互联网平台……"),
            col.text("main_tasks", "主要任务", example="一是……二是……"),
            col.text("safeguards", "保障措施", example="成立工作专班……"),
            col.yes_no("approved", "是否经县(市)政府批准", note="规划须经县（市）政府批准。"),
            Column(
                "approval_date",
                "批准日期",
                "date",
                False,
                note="已批准的填写批准日期。",
                example="2025-05-20",
            ),
            Column(
                "approval_number",
                "批复文号",
                "text",
                False,
                note="县（市）政府批复的文号；批复文件（PDF、Word或OFD，文件名含“批复”）与本表一同上传。"
                "未填写文号、日期或未附批复文件的，状态为“待补批复”。",
                example="安政字〔2025〕18号",
                max_length=100,
            ),
            col.money(
                "total_investment",
                "计划总投资(万元)",
                maximum=10_000_000,
                usual=1_000_000,
                note="单位：万元，只填数字。",
                example="12,500",
            ),
        ),
        key_columns=("region_code", "cluster_name"),
        # The plan's horizon is not limited: 冀工信产业〔2016〕93号 二 ties it to the
        # county's five-year plan; the 3-year limit of 三 is the pilot's (pilot_period).
        column_orders=(
            ColumnOrder(
                "period_end", "period_start", "period_end", "规划截止年份{larger}早于起始年份{smaller}"
            ),
        ),
        row_checks=(pilot_period, approval_date),
        needs_approval=True,
    ),
    Dataset(
        id="plan_projects",
        title="实施方案项目清单",
        sheet="项目清单",
        columns=(
            col.region(),
            col.text("project_name", "项目名称", example="集群工业互联网平台建设项目", max_length=200),
            col.text("content", "建设内容", example="建设面向丝网企业的云平台……"),
            col.text("investor", "投资主体", example="某某科技有限公司", max_length=200),
            col.text("targets", "预期目标", example="服务企业200家以上"),
            col.year(
                "year", "投资年度", note="该笔投资安排的年度；分年度安排的，每个年度填一行。", example="2025"
            ),
            col.money(
                "investment",
                "计划投资(万元)",
                maximum=10_000_000,
                usual=500_000,
                note="单位：万元。",
                example="800",
            ),
            col.text("funding_source", "资金来源", example="企业自筹、省级专项资金", max_length=200),
        ),
        key_columns=("region_code", "project_name", "year"),
    ),
    Dataset(
        id="progress_report",
        title="智慧集群试点建设进展情况",
        sheet="建设进展",
        columns=(
            col.region(),
            col.cluster(),
            col.year(),
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
            col.money(
                "planned_investment",
                "年度计划投资(万元)",
                maximum=10_000_000,
                usual=1_000_000,
                example="5,000",
            ),
            col.money(
                "completed_investment",
                "已完成投资(万元)",
                maximum=10_000_000,
                usual=1_000_000,
                example="2,600",
            ),
            col.money("revenue_yi", "集群营业收入(亿元)", maximum=10_000, usual=2_000, example="86.5"),
            col.count("projects_started", "开工项目数(个)", maximum=10_000, usual=200, example="6"),
            col.count("projects_completed", "竣工项目数(个)", maximum=10_000, usual=200, example="2"),
            col.text(
                "progress",
                "进展情况",
                note="对照年度进度计划说明建设进展、存在问题和下一步安排。",
                example="平台一期已上线……",
            ),
        ),
        key_columns=("region_code", "cluster_name", "year", "period"),
        year_column="year",
        period_column="period",
        column_orders=(
            ColumnOrder(
                "projects_started",
                "projects_completed",
                "projects_completed",
                "竣工项目数{smaller}大于开工项目数{larger}",
            ),
        ),
    ),
    Dataset(
        id="annual_info_table",
        title="中小企业特色产业集群年度培育情况信息表",
        sheet="年度培育情况信息表",
        columns=(
            col.region(),
            col.text("cluster_name", "集群名称", example="安平丝网产业集群", max_length=100),
            col.year(note="填报上一年度的数据，如2026年4月报送填“2025”。"),
            Column(
                "area_km2",
                "集群面积(平方公里)",
                "number",
                True,
                note="集群规划面积。",
                example="85.6",
                maximum=50_000,
                usual=(None, 2_000),
            ),
            col.money("output_yi", "集群产值(亿元)", maximum=10_000, usual=2_000, example="120.3"),
            col.share("sme_output_share", "中小企业产值占比(%)", example="78%"),
            col.share("leading_industry_share", "主导产业产值占比(%)", example="82%"),
            col.growth("output_growth", "产值增长率(%)", example="11.2%"),
            col.count(
                "champion_firms",
                "单项冠军和专精特新“小巨人”企业数(家)",
                maximum=10_000,
                usual=100,
                example="2",
            ),
            col.count(
                "specialised_smes", "专精特新中小企业数(家)", maximum=100_000, usual=1_000, example="15"
            ),
            col.count("high_tech_firms", "高新技术企业数(家)", maximum=100_000, usual=2_000, example="23"),
            col.growth("sme_rd_growth", "中小企业研发经费增长率(%)", example="10.5%"),
            col.count(
                "invention_patents", "有效发明专利数(件)", maximum=1_000_000, usual=20_000, example="460"
            ),
            Column(
                "patents_per_10k",
                "每万人有效发明专利拥有量(件)",
                "number",
                True,
                example="16.2",
                maximum=10_000,
                usual=(None, 500),
            ),
            col.growth("invention_patent_growth", "有效发明专利增长率(%)", example="15.4%"),
            col.share("platform_adoption", "工业互联网平台普及率(%)", example="18%"),
            col.yes_no(
                "major_incident",
                "近三年是否发生重大事故",
                note="较大及以上安全、质量、环境污染事故，重大及以上网络安全和数据安全事件，偷税漏税或严重失信等（工信部企业〔2022〕119号第十七条（五））。",
                example="否",
            ),
            col.yes_no(
                "has_three_year_plan", "是否制定三年发展规划", note="有可考核目标的集群三年发展规划。"
            ),
        ),
        key_columns=("region_code", "cluster_name", "year"),
        year_column="year",
    ),
    Dataset(
        id="henan_quarterly",
        title="新型工业化产业示范基地季度创建进展",
        sheet="季度进展",
        columns=(
            Column("base_code", "基地编号", "code", True, note="省厅公布的基地编号。", example="HN-2012-05"),
            col.region("基地所在县（市、区）的6位行政区划代码。", example="410100"),
            col.text("base_name", "基地名称", example="某某新型工业化产业示范基地", max_length=100),
            col.year(),
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
            col.money("output_yi", "季度产值(亿元)", maximum=10_000, usual=500, example="35.2"),
            col.money(
                "investment_wan", "完成投资(万元)", maximum=10_000_000, usual=1_000_000, example="18,000"
            ),
            col.text("progress", "主要进展", required=False, example="新引进项目3个……"),
        ),
        key_columns=("base_code", "year", "quarter"),
        year_column="year",
        period_column="quarter",
    ),
    Dataset(
        id="ad_hoc_report",
        title="重大事项报告",
        sheet="重大事项",
        columns=(
            col.region(),
            col.cluster(),
            Column(
                "event_date", "发生日期", "date", True, note="事项发生或决定的日期。", example="2025-09-18"
            ),
            Column(
                "category",
                "事项类别",
                "choice",
                True,
                choices=("重大进展", "主导产业变化", "空间范围变化", "运营管理机构变化", "其他重大变化"),
                note="试点建设的重大进展，或集群主导产业、空间范围、运营管理机构的变化。",
                example="重大进展",
            ),
            col.text("description", "情况说明", example="集群工业互联网平台上线运行……"),
        ),
        key_columns=("region_code", "cluster_name", "event_date", "category"),
    ),
)

_DATASET_LIST = (*_DATASET_LIST, *DECISION_DATASETS)
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


#: The companion sheets a template holds after its main dataset's (intake reads them too).
TEMPLATE_DATASETS: dict[str, tuple[str, ...]] = {"development_plan": ("development_plan", "plan_projects")}


def template_datasets(dataset_id: str) -> tuple[Dataset, ...]:
    """The datasets whose sheets the template of ``dataset_id`` holds, in sheet order.

    Args:
        dataset_id: A key of ``DATASETS``.

    Returns:
        The main dataset first, then its companions.

    Raises:
        KeyError: Unknown dataset.
    """
    return tuple(get_dataset(i) for i in TEMPLATE_DATASETS.get(dataset_id, (dataset_id,)))


@cache
def other_layouts(dataset_id: str) -> Mapping[str, tuple[str, ...]]:
    """Headers of every other template, by title, for ``read_table(other_layouts=...)``.

    Args:
        dataset_id: The dataset being read.

    Returns:
        ``{title: headers}`` of the other datasets (cached; do not modify).
    """
    return MappingProxyType({d.title: d.headers for d in _DATASET_LIST if d.id != dataset_id})
