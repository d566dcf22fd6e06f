"""The key figures of each dataset: what the aggregation sums per region, city and province.

A :class:`Figure` is additive (summed from county to city to province) or the
ratio of two additive ones, recomputed from the sums at every level (never a
mean of rates). Metric names are stable ASCII; the same name means the same
thing at county, city and province level. Each dataset has a function that
turns its accepted rows into one row of values per submission.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pandas as pd

from review_calendar.intake.datasets import DATASETS

if TYPE_CHECKING:
    from review_calendar.domain.programmes import ObligationInstance, Programme

__all__ = [
    "STATE_COUNTS",
    "STATE_FIGURES",
    "Figure",
    "Loader",
    "add_ratios",
    "additive",
    "criteria_apply",
    "criteria_figures",
    "dataset_figures",
    "dataset_values",
    "figures_for",
]


@dataclass(frozen=True, slots=True)
class Figure:
    """A key figure: additive (summed from county to city to province) or a ratio of two additive ones.

    Attributes:
        metric: Stable ASCII metric name in ``aggregates``.
        label: Chinese label for the reports.
        unit: Unit for the reports (万元, 亿元, 个...); ratios are shown as percentages.
        ratio_of: ``(numerator, denominator)`` metrics when the figure is a ratio.
        show: Whether the reports show it (helpers of a ratio are stored but not shown).
    """

    metric: str
    label: str
    unit: str = ""
    ratio_of: tuple[str, str] | None = None
    show: bool = True

    @property
    def title(self) -> str:
        """A column title: the label, with the unit in brackets when there is one (年度计划投资（万元）)."""
        return f"{self.label}（{self.unit}）" if self.unit else self.label


#: The count metrics of submission states, in report order (应报 = 按时 + 逾期 + 未报 + 退回);
#: :data:`~review_calendar.aggregate.states.COUNTED_AS` says which states each one counts.
STATE_COUNTS = ("on_time", "late", "missing", "rejected")

#: Submission counts, written for every city and the province.
STATE_FIGURES: tuple[Figure, ...] = (
    Figure("expected", "应报", "个"),
    Figure("on_time", "按时", "个"),
    Figure("late", "逾期", "个"),
    Figure("missing", "未报", "个"),
    Figure("rejected", "退回", "个"),
    Figure("submitted", "已报", "个"),
    Figure("on_time_rate", "按时报送率", ratio_of=("on_time", "expected")),
)

#: Reads the accepted rows of one dataset of the instance (only the files whose data counts).
Loader = Callable[[str], pd.DataFrame]


def _numbers(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame:
        return pd.Series(math.nan, index=frame.index, dtype="float64")
    return pd.to_numeric(frame[column], errors="coerce").astype("float64")


def _per_submission(frame: pd.DataFrame, columns: Mapping[str, pd.Series]) -> pd.DataFrame:
    """Sum per submission; a sum over only missing values stays missing."""
    data = pd.DataFrame({"submission_id": frame["submission_id"], **columns}, index=frame.index)
    return data.groupby("submission_id").sum(min_count=1)


def _progress(load: Loader, instance: ObligationInstance) -> pd.DataFrame:
    f = load("progress_report")
    cols = (
        "planned_investment",
        "completed_investment",
        "revenue_yi",
        "projects_started",
        "projects_completed",
    )
    return _per_submission(f, {c: _numbers(f, c) for c in cols})


def _plan(load: Loader, instance: ObligationInstance) -> pd.DataFrame:
    plans, projects = load("development_plan"), load("plan_projects")
    left = _per_submission(plans, {"total_investment": _numbers(plans, "total_investment")})
    investment = _numbers(projects, "investment")
    this_year = investment.where(_numbers(projects, "year") == instance.cycle_year)
    names = projects["project_name"] if "project_name" in projects else pd.Series(dtype=object)
    first = ~pd.DataFrame({"s": projects["submission_id"], "n": names}).duplicated()
    right = _per_submission(
        projects,
        {
            "project_investment": investment,
            "project_investment_current_year": this_year,
            "projects": first.astype("float64"),
        },
    )
    return left.join(right, how="outer")


def _annual_table(load: Loader, instance: ObligationInstance) -> pd.DataFrame:
    f = load("annual_info_table")
    cols = ("output_yi", "champion_firms", "specialised_smes", "high_tech_firms", "invention_patents")
    return _per_submission(
        f, {"clusters_reported": pd.Series(1.0, index=f.index), **{c: _numbers(f, c) for c in cols}}
    )


def _henan(load: Loader, instance: ObligationInstance) -> pd.DataFrame:
    f = load("henan_quarterly")
    return _per_submission(
        f,
        {
            "bases": pd.Series(1.0, index=f.index),
            "output_yi": _numbers(f, "output_yi"),
            "investment_wan": _numbers(f, "investment_wan"),
        },
    )


def _claims(load: Loader, instance: ObligationInstance) -> pd.DataFrame:
    f = load("subsidy_claims")
    equipment, software = _numbers(f, "equipment_wan"), _numbers(f, "software_wan")
    category = f["category"] if "category" in f else pd.Series("", index=f.index)
    return _per_submission(
        f,
        {
            "claims": pd.Series(1.0, index=f.index),
            "claims_pilot": (category == "试点").astype("float64"),
            "claims_demonstration": (category == "示范").astype("float64"),
            "claims_platform": (category == "平台").astype("float64"),
            "equipment_wan": equipment,
            "software_wan": software,
            "eligible_investment_wan": equipment.add(software, fill_value=0),
            "claimed_wan": _numbers(f, "claimed_wan"),
        },
    )


def _scores(load: Loader, instance: ObligationInstance) -> pd.DataFrame:
    f = load("evaluation_scores")
    violation = f["violation"] if "violation" in f else pd.Series("", index=f.index)
    return _per_submission(
        f,
        {
            "clusters_scored": pd.Series(1.0, index=f.index),
            "score_total": _numbers(f, "score"),
            "violations": (violation == "是").astype("float64"),
        },
    )


def _contacts(load: Loader, instance: ObligationInstance) -> pd.DataFrame:
    f = load("contact_list")
    region = f["region_code"] if "region_code" in f else pd.Series("", index=f.index)
    first = ~pd.DataFrame({"s": f["submission_id"], "r": region}).duplicated()
    return _per_submission(
        f, {"contacts": pd.Series(1.0, index=f.index), "contact_regions": first.astype("float64")}
    )


def _rereview(load: Loader, instance: ObligationInstance) -> pd.DataFrame:
    f = load("rereview_materials")
    applies = f["applies"] if "applies" in f else pd.Series("", index=f.index)
    return _per_submission(
        f,
        {
            "applications": (applies == "是").astype("float64"),
            "targets_total": _numbers(f, "targets_total"),
            "targets_completed": _numbers(f, "targets_completed"),
        },
    )


_FIGURES: dict[str, tuple[tuple[Figure, ...], Callable[[Loader, ObligationInstance], pd.DataFrame]]] = {
    "progress_report": (
        (
            Figure("planned_investment", "年度计划投资", "万元"),
            Figure("completed_investment", "已完成投资", "万元"),
            Figure("completion_rate", "投资完成率", ratio_of=("completed_investment", "planned_investment")),
            Figure("revenue_yi", "集群营业收入", "亿元"),
            Figure("projects_started", "开工项目", "个"),
            Figure("projects_completed", "竣工项目", "个"),
        ),
        _progress,
    ),
    "development_plan": (
        (
            Figure("total_investment", "规划计划总投资", "万元"),
            Figure("project_investment", "实施方案项目投资", "万元"),
            Figure(
                "project_share", "项目投资占计划总投资", ratio_of=("project_investment", "total_investment")
            ),
            Figure("project_investment_current_year", "本年度安排投资", "万元"),
            Figure("projects", "实施方案项目", "个"),
        ),
        _plan,
    ),
    "annual_info_table": (
        (
            Figure("clusters_reported", "报送集群", "个"),
            Figure("output_yi", "集群产值", "亿元"),
            Figure("champion_firms", "单项冠军和小巨人企业", "家"),
            Figure("specialised_smes", "专精特新中小企业", "家"),
            Figure("high_tech_firms", "高新技术企业", "家"),
            Figure("invention_patents", "有效发明专利", "件"),
        ),
        _annual_table,
    ),
    "henan_quarterly": (
        (
            Figure("bases", "报送基地", "个"),
            Figure("output_yi", "季度产值", "亿元"),
            Figure("investment_wan", "完成投资", "万元"),
        ),
        _henan,
    ),
    "subsidy_claims": (
        (
            Figure("claims", "申报", "项"),
            Figure("claims_pilot", "试点企业申报", "项"),
            Figure("claims_demonstration", "示范企业申报", "项"),
            Figure("claims_platform", "平台申报", "项"),
            Figure("equipment_wan", "设备投资", "万元"),
            Figure("software_wan", "软件投资", "万元"),
            Figure("eligible_investment_wan", "设备和软件投资", "万元", show=False),
            Figure("claimed_wan", "申请奖补", "万元"),
            Figure(
                "claimed_share", "申请奖补占投资比例", ratio_of=("claimed_wan", "eligible_investment_wan")
            ),
        ),
        _claims,
    ),
    "evaluation_scores": (
        (
            Figure("clusters_scored", "评分集群", "个"),
            Figure("score_total", "评分合计", "分", show=False),
            Figure("score_mean", "平均评分", "分", ratio_of=("score_total", "clusters_scored")),
            Figure("violations", "存在违规", "个"),
        ),
        _scores,
    ),
    "contact_list": (
        (Figure("contacts", "联系人", "人"), Figure("contact_regions", "覆盖地区", "个")),
        _contacts,
    ),
    "rereview_materials": (
        (
            Figure("applications", "申请复核", "个"),
            Figure("targets_total", "三年规划目标", "项"),
            Figure("targets_completed", "已完成目标", "项"),
            Figure("target_completion_rate", "目标完成率", ratio_of=("targets_completed", "targets_total")),
        ),
        _rereview,
    ),
}


def dataset_figures(dataset: str | None) -> tuple[Figure, ...]:
    """The key figures aggregated for a dataset (empty for unknown datasets or none)."""
    return _FIGURES[dataset][0] if dataset in _FIGURES else ()


def dataset_values(dataset: str, load: Loader, instance: ObligationInstance) -> pd.DataFrame | None:
    """The additive figures of each accepted submission of ``dataset``.

    Args:
        dataset: The obligation's dataset id.
        load: Reads the accepted rows of a dataset of the instance.
        instance: The obligation instance (the plan's current-year investment needs its year).

    Returns:
        One row per submission id (the index) and one column per additive figure;
        None when the dataset has no figures.
    """
    if dataset not in _FIGURES:
        return None
    return _FIGURES[dataset][1](load, instance)


def criteria_apply(programme: Programme, dataset: str | None) -> bool:
    """Whether the recognition criteria are checked: the dataset reports every criterion's indicator."""
    if not programme.criteria or dataset not in DATASETS:
        return False
    keys = {c.key for c in DATASETS[dataset].columns}
    return all(f in keys for c in programme.criteria for f in c.series())


def criteria_figures(programme: Programme) -> tuple[Figure, ...]:
    """Counts of clusters meeting each recognition criterion (工信部企业〔2022〕119号 附件).

    ``criteria_met_all`` counts clusters meeting every criterion; per criterion
    ``criterion_<id>_met`` and ``criterion_<id>_not_met`` (a cluster that did not
    report the indicator, or lacks the years a criterion needs, is in neither).
    """
    out = [Figure("criteria_met_all", "全部达标集群", "个")]
    for c in programme.criteria:
        out.append(Figure(f"criterion_{c.id}_met", f"{c.title}：达标", "个", show=False))
        out.append(Figure(f"criterion_{c.id}_not_met", f"{c.title}：未达标", "个", show=False))
    return tuple(out)


def figures_for(programme: Programme, dataset: str | None) -> tuple[Figure, ...]:
    """The key figures an aggregation of ``dataset`` writes, in display order.

    The dataset's figures, then the criteria counts when the programme's
    recognition criteria apply (see :func:`criteria_apply`).
    """
    figures = dataset_figures(dataset)
    if criteria_apply(programme, dataset):
        figures = figures + criteria_figures(programme)
    return figures


def add_ratios(frame: pd.DataFrame, figures: Iterable[Figure]) -> pd.DataFrame:
    """Set every ratio figure's column from its numerator and denominator columns (in place).

    A ratio over a missing or non-positive denominator is NaN.

    Returns:
        ``frame``, for chaining.
    """
    for f in figures:
        if f.ratio_of is None:
            continue
        num, den = (frame[c] if c in frame else pd.Series(math.nan, index=frame.index) for c in f.ratio_of)
        den = pd.to_numeric(den, errors="coerce")
        frame[f.metric] = (pd.to_numeric(num, errors="coerce") / den.where(den > 0)).astype("float64")
    return frame


def additive(figures: Iterable[Figure]) -> list[str]:
    """The metrics of the additive figures (summed across regions), in order."""
    return [f.metric for f in figures if f.ratio_of is None]
