"""Dataset specs of the tables that feed a decision: evaluation scores, re-review materials,
pilot applications and subsidy claims.

The same :class:`~review_calendar.intake.spec.Dataset` type as the reporting tables
in :mod:`review_calendar.intake.datasets`, which registers these beside its own.
"""

from __future__ import annotations

from review_calendar.intake import columns as col
from review_calendar.intake.columns import Column
from review_calendar.intake.row_rules import ColumnOrder, violation_note
from review_calendar.intake.spec import Dataset

__all__ = ["DECISION_DATASETS"]

#: The tables whose rows a decision rule reads.
DECISION_DATASETS: tuple[Dataset, ...] = (
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
            col.region(),
            col.cluster(),
            col.year(),
            col.text("evaluator", "评估机构", example="某某评估中心", max_length=100),
            Column("score", "评分", "number", True, note="百分制，0～100分。", maximum=100.0, example="86.5"),
            col.yes_no(
                "violation", "是否存在违规", note="建设或资金使用中存在不符合规定的情况填“是”。", example="否"
            ),
            col.text("violation_note", "违规情况说明", required=False, note="存在违规时必填。", example=""),
        ),
        key_columns=("region_code", "cluster_name", "year"),
        year_column="year",
        row_checks=(violation_note,),
    ),
    Dataset(
        id="rereview_materials",
        title="中小企业特色产业集群期满复核材料",
        sheet="复核材料",
        columns=(
            col.region(),
            col.text("cluster_name", "集群名称", example="安平丝网产业集群", max_length=100),
            col.year(
                "validity_end_year", "认定有效期截止年份", note="认定有效期3年，填届满年份。", example="2025"
            ),
            col.yes_no(
                "applies",
                "是否申请复核",
                note="有效期届满未申请复核的属第十七条（一）情形，由工业和信息化部撤销认定。",
            ),
            col.count("targets_total", "三年发展规划目标数(项)", maximum=1_000, usual=50, example="8"),
            col.count("targets_completed", "已完成目标数(项)", maximum=1_000, usual=50, example="7"),
            col.money(
                "output_year1_yi", "有效期第一年产值(亿元)", maximum=10_000, usual=2_000, example="105.2"
            ),
            col.money(
                "output_year2_yi", "有效期第二年产值(亿元)", maximum=10_000, usual=2_000, example="112.8"
            ),
            col.money(
                "output_year3_yi", "有效期第三年产值(亿元)", maximum=10_000, usual=2_000, example="120.3"
            ),
            col.text(
                "explanation", "未完成目标说明", required=False, note="有未完成目标的说明原因。", example=""
            ),
        ),
        key_columns=("region_code", "cluster_name"),
        column_orders=(
            ColumnOrder(
                "targets_total",
                "targets_completed",
                "targets_completed",
                "已完成目标数{smaller}大于目标总数{larger}",
            ),
        ),
    ),
    Dataset(
        id="pilot_application",
        title="智慧集群建设试点申报表",
        sheet="试点申报",
        columns=(
            col.region("申报集群所在县（市）的6位行政区划代码。", example="131125"),
            col.cluster(),
            col.year(note="填报上一年度的数据，如2025年申报填“2024”。", example="2024"),
            col.money(
                "revenue_yi",
                "集群年营业收入(亿元)",
                maximum=10_000,
                usual=2_000,
                note="申报条件：50亿元以上。",
                example="86.5",
            ),
            col.count(
                "firms_over_100m",
                "年营业收入超亿元企业数(家)",
                maximum=10_000,
                usual=500,
                note="申报条件：5家以上。",
                example="7",
            ),
            col.count(
                "public_platforms",
                "公共服务平台数(个)",
                maximum=1_000,
                usual=50,
                note="申报条件：3个以上。",
                example="4",
            ),
            col.yes_no("has_carrier", "是否有产业园区或专业市场为载体"),
            col.count(
                "regional_brands",
                "省级以上区域品牌数(个)",
                maximum=1_000,
                usual=20,
                note="申报条件：1个以上。",
                example="1",
            ),
            col.count(
                "well_known_marks",
                "中国驰名商标数(件)",
                maximum=1_000,
                usual=50,
                note="申报条件：1件以上。",
                example="2",
            ),
            col.count(
                "hebei_brands",
                "河北省名牌产品、著名商标或中小企业名牌产品数(个)",
                maximum=10_000,
                usual=200,
                note="申报条件：5个以上。",
                example="9",
            ),
            col.share("broadband_share", "集群企业宽带接入率(%)", example="82%"),
            col.yes_no("city_recommended", "市工业和信息化局是否推荐", note="经市局组织推荐后报送省厅。"),
        ),
        key_columns=("region_code", "cluster_name"),
        year_column="year",
    ),
    Dataset(
        id="subsidy_claims",
        title="产业集群数字化转型奖补申报表",
        sheet="奖补申报",
        columns=(
            col.text("firm_name", "企业名称", example="文安某某木业有限公司", max_length=200),
            col.region("企业所在县（市、区）的6位行政区划代码。", example="131026"),
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
            col.money("equipment_wan", "设备投资(万元)", maximum=1_000_000, usual=50_000, example="500"),
            col.money("software_wan", "软件投资(万元)", maximum=1_000_000, usual=20_000, example="100"),
            col.money(
                "claimed_wan",
                "申请奖补金额(万元)",
                maximum=100_000,
                usual=500,
                note="试点、示范不超过投资的20%且最高200万元；平台不超过30%且最高500万元。",
                example="100",
            ),
        ),
        key_columns=("region_code", "firm_name", "category"),
    ),
)
