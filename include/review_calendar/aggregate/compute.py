"""Provincial aggregation of an obligation instance: who submitted, the key figures, who lags.

Counties (or cities, or the evaluator) submit; the province needs, per city and
for itself, how many submitted on time, late, not at all or only rejected
files, the key figures of the accepted data summed up, and the list of lagging
regions (issue 3, "Provincial aggregation"). For Programme B every cluster's
indicators are checked against the recognition criteria of the programme file
(工信部企业〔2022〕119号 附件), and the province's figures are rolled up across
provinces for MIIT (第十四条: the province forwards the annual tables).

Everything is computed with vectorised pandas over a handful of queries (no
query per region) and written to ``aggregates`` with an upsert keyed by
(programme, year, obligation, period, region, metric): a re-run writes the
same rows. Metric names are stable ASCII; the same name means the same thing
at county, city and province level.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import delete, select, tuple_

from review_calendar.domain.criteria import check_criteria
from review_calendar.domain.regions import PROVINCES
from review_calendar.intake.datasets import DATASETS
from review_calendar.store.db import upsert
from review_calendar.store.frames import load_instance_frame
from review_calendar.store.models import Aggregate, Region, Submission
from review_calendar.store.queries import Submitter, expected_submitters, find_instance

if TYPE_CHECKING:
    import datetime as dt

    from sqlalchemy.orm import Session

    from review_calendar.domain.programmes import ObligationInstance, Programme

__all__ = [
    "LAGGING_STATES",
    "NATIONAL_CODE",
    "NATIONAL_PREFIX",
    "STATES",
    "STATE_FIGURES",
    "STATE_LABELS",
    "Figure",
    "ProvinceAggregate",
    "aggregate_city",
    "aggregate_province",
    "criteria_figures",
    "dataset_figures",
    "national_rollup",
    "submission_states",
]

log = logging.getLogger(__name__)

#: Submission states, in report order.
STATES = ("on_time", "late", "missing", "rejected")
STATE_LABELS = {"on_time": "按时报送", "late": "逾期报送", "missing": "未报送", "rejected": "退回未通过"}
LAGGING_STATES = ("late", "missing", "rejected")
#: Region code of the national total written by :func:`national_rollup` (全国).
NATIONAL_CODE = "100000"
#: Prefix of the metrics :func:`national_rollup` writes (they never collide with a province's own rows).
NATIONAL_PREFIX = "national_"
_KEYS = ["programme_id", "cycle_year", "obligation_id", "period", "region_code", "metric"]
_ACCEPTED = ("accepted", "superseded")


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


@dataclass(frozen=True, slots=True)
class ProvinceAggregate:
    """The aggregation of one obligation instance as of a day.

    Attributes:
        programme_id, cycle_year, obligation_id, period: The instance.
        region_code: The programme's region (the province row of ``aggregates``).
        region_name: Its name.
        title: The obligation's title.
        as_of: The day the states are computed for.
        effective_due: The effective due date.
        window_open: ``as_of`` is on or before the due date: missing regions may still submit.
        dataset: The obligation's dataset (None when nothing is submitted).
        figures: The dataset's key figures (display order, see :func:`dataset_figures`).
        regions: One row per submitting region: identity, ``state``, file, 0/1 state counts, figures.
        cities: One row per city: ``city_code``, ``city_name``, state counts, figures.
        totals: The province row: state counts and figures (None where nothing was reported).
        lagging: Regions late, missing or rejected, by city.
        clusters: Programme B: one row per cluster with each criterion (True/False/None) and ``met_all``.
        criteria: Programme B: one row per criterion: ``id``, ``title``, ``met``, ``not_met``, ``unknown``.
        rows_written: Rows upserted into ``aggregates``.
    """

    programme_id: str
    cycle_year: int
    obligation_id: str
    period: str
    region_code: str
    region_name: str
    title: str
    as_of: dt.date
    effective_due: dt.date
    window_open: bool
    dataset: str | None
    figures: tuple[Figure, ...]
    regions: pd.DataFrame
    cities: pd.DataFrame
    totals: dict[str, float | None]
    lagging: pd.DataFrame
    clusters: pd.DataFrame
    criteria: pd.DataFrame
    rows_written: int = 0

    def summary(self) -> dict[str, Any]:
        """A small JSON-serialisable summary (for XCom and logs): counts, figures, lagging codes."""
        return {
            "key": f"{self.programme_id}/{self.cycle_year}/{self.obligation_id}/{self.period}",
            "cycle_year": self.cycle_year,
            "period": self.period,
            "as_of": self.as_of.isoformat(),
            "window_open": self.window_open,
            **{s: int(self.totals.get(s) or 0) for s in ("expected", *STATES)},
            "figures": {f.metric: self.totals.get(f.metric) for f in self.figures},
            "lagging": sorted(set(self.lagging["region_code"])) if len(self.lagging) else [],
            "rows_written": self.rows_written,
        }


# ---------------------------------------------------------------------------
# Key figures per dataset
# ---------------------------------------------------------------------------

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
    visits = _numbers(f, "counselling_visits")
    return _per_submission(
        f,
        {
            "bases": pd.Series(1.0, index=f.index),
            "output_yi": _numbers(f, "output_yi"),
            "investment_wan": _numbers(f, "investment_wan"),
            "counselling_visits": visits,
            # 豫工信办〔2012〕7号 三: experts visit every base at least once a quarter.
            "bases_without_visit": (visits.fillna(0) < 1).astype("float64"),
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
            Figure("counselling_visits", "专家指导", "次"),
            Figure("bases_without_visit", "本季度无专家指导的基地", "个"),
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


def _percent_ratio(figure: Figure) -> bool:
    """Ratios of money or counts are shown as percentages; the mean score is a plain number."""
    return figure.ratio_of is not None and figure.unit == ""


def dataset_figures(dataset: str | None) -> tuple[Figure, ...]:
    """The key figures aggregated for a dataset (empty for unknown datasets or none)."""
    return _FIGURES[dataset][0] if dataset in _FIGURES else ()


def _criteria_apply(programme: Programme, dataset: str | None) -> bool:
    """Criteria are checked when the dataset reports every criterion's indicator."""
    if not programme.criteria or dataset not in DATASETS:
        return False
    keys = {c.key for c in DATASETS[dataset].columns}
    return all(c.field in keys for c in programme.criteria)


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


# ---------------------------------------------------------------------------
# Submission states
# ---------------------------------------------------------------------------


def _submitters_frame(submitters: Sequence[Submitter]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "region_code": [s.region_code for s in submitters],
            "region_name": [s.region_name for s in submitters],
            "city_code": [s.city_code for s in submitters],
            "cluster_id": [s.cluster_id for s in submitters],
            "cluster": [s.cluster_name or "" for s in submitters],
        },
        dtype=object,
    )


def _names(session: Session, codes: Iterable[str]) -> dict[str, str]:
    wanted = sorted(set(codes))
    names: dict[str, str] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        names.update(
            dict(session.execute(select(Region.code, Region.name).where(Region.code.in_(chunk))).all())
        )
    return names


def _submissions(session: Session, instance: ObligationInstance, as_of: dt.date) -> pd.DataFrame:
    stmt = select(
        Submission.id,
        Submission.region_code,
        Submission.file_name,
        Submission.status,
        Submission.is_late,
        Submission.received_on,
        Submission.error_count,
    ).where(
        Submission.programme_id == instance.programme_id,
        Submission.cycle_year == instance.cycle_year,
        Submission.obligation_id == instance.obligation_id,
        Submission.period == instance.period,
        Submission.region_code.is_not(None),
        Submission.received_on <= as_of,
    )
    rows = session.execute(stmt).all()
    columns = ["submission_id", "region_code", "file_name", "status", "is_late", "received_on", "error_count"]
    return pd.DataFrame([tuple(r) for r in rows], columns=columns, dtype=object)


def _states(submitters: pd.DataFrame, subs: pd.DataFrame) -> pd.DataFrame:
    """Attach each submitter's state and the file that decides it (pure; see :func:`submission_states`)."""
    subs = subs.assign(
        _accepted=subs["status"].isin(_ACCEPTED),
        _current=(subs["status"] == "accepted").astype(int),
        _on_time=~subs["is_late"].astype(bool),
    ).sort_values(["region_code", "received_on", "_current", "submission_id"], kind="stable")
    accepted = subs[subs["_accepted"]]
    chosen = accepted.groupby("region_code", sort=False).tail(1).set_index("region_code")
    chosen["state"] = "late"
    # A region that met the deadline with an accepted file stays on time when it
    # later sends a correction (the correction supersedes the data, not the date).
    on_time = accepted.groupby("region_code")["_on_time"].any()
    chosen.loc[on_time[on_time].index.intersection(chosen.index), "state"] = "on_time"
    rejected = subs[(subs["status"] == "rejected") & ~subs["region_code"].isin(chosen.index)]
    last_rejected = rejected.groupby("region_code", sort=False).tail(1).set_index("region_code")
    last_rejected["state"] = "rejected"
    decided = pd.concat([chosen, last_rejected])[
        ["state", "submission_id", "received_on", "file_name", "error_count"]
    ]
    out = submitters.merge(decided, how="left", left_on="region_code", right_index=True)
    out["state"] = out["state"].fillna("missing").astype(object)
    out["error_count"] = pd.to_numeric(out["error_count"]).fillna(0).astype(int)
    out["file_name"] = out["file_name"].astype(object).where(out["file_name"].notna(), "")
    out["received_on"] = out["received_on"].astype(object).where(out["received_on"].notna(), None)
    out["submission_id"] = pd.to_numeric(out["submission_id"]).astype("Int64")
    return out.reset_index(drop=True)


def submission_states(
    session: Session,
    programme: Programme,
    instance: ObligationInstance,
    as_of: dt.date,
    *,
    submitters: Sequence[Submitter] | None = None,
) -> pd.DataFrame:
    """The submission state of every expected submitter of ``instance`` on ``as_of``.

    Only files received on or before ``as_of`` count, so a report re-run for an
    earlier day shows what was known then. States:

    - ``on_time``: an accepted file, at least one received by the effective due
      date (lateness as recorded at intake);
    - ``late``: accepted files, all received after it;
    - ``rejected``: files received, but every one rejected;
    - ``missing``: nothing received. While the window is still open (``as_of`` on
      or before the due date) such a region is missing too: it may still submit.

    Args:
        session: Open session on the review database.
        programme: The programme.
        instance: The obligation instance.
        as_of: The day the states are computed for.
        submitters: Who must submit; default :func:`~review_calendar.store.queries.expected_submitters`
            (pass a list for a national set or a test).

    Returns:
        One row per expected submitter, sorted by region code: ``region_code``,
        ``region_name``, ``city_code``, ``city_name``, ``cluster_id``, ``cluster``,
        ``state``, ``received_on`` (date or None), ``file_name`` ("" when none),
        ``error_count`` (of the deciding file) and ``submission_id`` (the accepted file
        whose data counts, or the last rejected one; <NA> when missing).
    """
    if submitters is None:
        submitters = expected_submitters(session, programme, instance)
    frame = _states(_submitters_frame(submitters), _submissions(session, instance, as_of))
    names = _names(session, frame["city_code"])
    frame.insert(3, "city_name", frame["city_code"].map(names).fillna(frame["city_code"]).astype(object))
    return frame.sort_values(["region_code", "cluster_id"], kind="stable", na_position="first").reset_index(
        drop=True
    )


# ---------------------------------------------------------------------------
# Aggregation
# ---------------------------------------------------------------------------


def _add_ratios(frame: pd.DataFrame, figures: Iterable[Figure]) -> pd.DataFrame:
    for f in figures:
        if f.ratio_of is None:
            continue
        num, den = (frame[c] if c in frame else pd.Series(math.nan, index=frame.index) for c in f.ratio_of)
        den = pd.to_numeric(den, errors="coerce")
        frame[f.metric] = (pd.to_numeric(num, errors="coerce") / den.where(den > 0)).astype("float64")
    return frame


def _additive(figures: Iterable[Figure]) -> list[str]:
    return [f.metric for f in figures if f.ratio_of is None]


def _number_or_none(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _cluster_key(rows: pd.DataFrame, clusters: pd.DataFrame) -> list[str]:
    """The cluster id of each data row: by (region, cluster name), else the region's only cluster."""
    by_name = {
        (r, n): c
        for r, n, c in zip(clusters["region_code"], clusters["cluster"], clusters["cluster_id"], strict=True)
    }
    per_region: dict[str, set[str]] = {}
    for r, c in zip(clusters["region_code"], clusters["cluster_id"], strict=True):
        per_region.setdefault(r, set()).add(c)
    only = {r: next(iter(ids)) for r, ids in per_region.items() if len(ids) == 1}
    names = rows["cluster_name"].fillna("") if "cluster_name" in rows else pd.Series("", index=rows.index)
    return [
        by_name.get((r, n)) or only.get(r) or f"{r}:{n}" for r, n in zip(rows["_region"], names, strict=True)
    ]


def _check_clusters(
    session: Session,
    programme: Programme,
    instance: ObligationInstance,
    dataset: str,
    states: pd.DataFrame,
    current: pd.DataFrame,
) -> pd.DataFrame:
    """Every expected cluster (and any unmatched reported one) with each criterion met / not met / unknown.

    Criteria over several years (e.g. output ≥ 4 bn yuan in each of the last 3
    years, 附件 一) take the values of this and the previous cycles' accepted
    tables; a cluster without all those years is "unknown" for them, never "met".
    """
    year = instance.cycle_year
    clusters = states[states["cluster_id"].notna()].drop_duplicates("cluster_id")
    history = [current.assign(_cycle=year)]
    for back in range(1, max(c.years for c in programme.criteria)):
        try:
            earlier = find_instance(programme, year - back, instance.obligation_id, instance.period)
        except KeyError:
            break
        frame = load_instance_frame(session, earlier, dataset)
        if len(frame):
            history.append(frame.assign(_cycle=earlier.cycle_year))
    rows = pd.concat(history, ignore_index=True)
    by_cluster: dict[str, dict[int, dict[str, Any]]] = {}
    if len(rows):
        filed = states[states["submission_id"].notna()]
        region_of = dict(zip(filed["submission_id"].astype(int), filed["region_code"], strict=True))
        rows["_region"] = rows["submission_id"].map(region_of).fillna(rows["region_code"])
        rows["_cluster"] = _cluster_key(rows, clusters)
        for record in rows.sort_values(["_cycle", "submission_id", "row_no"]).to_dict("records"):
            by_cluster.setdefault(record["_cluster"], {})[int(record["_cycle"])] = record
    columns = ["region_code", "region_name", "city_code", "city_name", "cluster_id", "cluster", "state"]
    listed = clusters[columns].to_dict("records")
    known = {e["cluster_id"] for e in listed}
    region_info = states.drop_duplicates("region_code").set_index("region_code")
    for key in sorted(k for k, cycles in by_cluster.items() if k not in known and year in cycles):
        now = by_cluster[key][year]
        region = now["_region"]
        info = region_info.loc[region] if region in region_info.index else None
        listed.append(
            {
                "region_code": region,
                "region_name": "" if info is None else info["region_name"],
                "city_code": "" if info is None else info["city_code"],
                "city_name": "" if info is None else info["city_name"],
                "cluster_id": key,
                "cluster": str(now.get("cluster_name") or ""),
                "state": "missing" if info is None else info["state"],
            }
        )
    records = []
    for entry in listed:
        cycles = by_cluster.get(entry["cluster_id"], {})
        now = cycles.get(year)
        indicators: dict[str, Any] = {}
        if now is not None:
            for c in programme.criteria:
                if c.years > 1:
                    values = [
                        _number_or_none(cycles[y].get(c.field))
                        for y in range(year - c.years + 1, year + 1)
                        if y in cycles
                    ]
                    indicators[c.field] = [v for v in values if v is not None]
                else:
                    indicators[c.field] = _number_or_none(now.get(c.field))
        results = check_criteria(programme.criteria, indicators) if now is not None else []
        record = {**entry, "reported": now is not None}
        for c in programme.criteria:
            record[c.id] = None
            record[f"{c.id}_value"] = None
        for r in results:
            record[r.id] = r.met
            record[f"{r.id}_value"] = r.value
        record["met_all"] = now is not None and all(r.met is True for r in results)
        records.append(record)
    return pd.DataFrame.from_records(
        records,
        columns=[
            *columns,
            "reported",
            *(x for c in programme.criteria for x in (c.id, f"{c.id}_value")),
            "met_all",
        ],
    )


def _criteria_summary(programme: Programme, clusters: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for c in programme.criteria:
        column = clusters[c.id] if c.id in clusters else pd.Series(dtype=object)
        rows.append(
            {
                "id": c.id,
                "title": c.title,
                "op": c.op,
                "threshold": c.threshold,
                "unit": c.unit,
                "years": c.years,
                "clause": c.clause,
                "met": int((column == True).sum()),  # noqa: E712 - the column holds True/False/None
                "not_met": int((column == False).sum()),  # noqa: E712
                "unknown": int(column.isna().sum()),
            }
        )
    return pd.DataFrame(
        rows,
        columns=["id", "title", "op", "threshold", "unit", "years", "clause", "met", "not_met", "unknown"],
    )


def _compute(
    session: Session,
    programme: Programme,
    instance: ObligationInstance,
    as_of: dt.date,
    submitters: Sequence[Submitter] | None,
) -> ProvinceAggregate:
    obligation = programme.obligation(instance.obligation_id)
    dataset = obligation.dataset
    states = submission_states(session, programme, instance, as_of, submitters=submitters)
    figures = dataset_figures(dataset)
    with_criteria = _criteria_apply(programme, dataset)
    if with_criteria:
        figures = figures + criteria_figures(programme)

    # One row per submitting region (a county with two clusters submits one file).
    regions = (
        states.groupby("region_code", sort=True)
        .agg(
            region_name=("region_name", "first"),
            city_code=("city_code", "first"),
            city_name=("city_name", "first"),
            cluster=("cluster", lambda s: "、".join(x for x in s if x)),
            state=("state", "first"),
            received_on=("received_on", "first"),
            file_name=("file_name", "first"),
            error_count=("error_count", "first"),
            submission_id=("submission_id", "first"),
        )
        .reset_index()
    )
    regions["expected"] = 1
    for s in STATES:
        regions[s] = (regions["state"] == s).astype(int)
    regions["submitted"] = regions["on_time"] + regions["late"]

    current_ids = set(regions.loc[regions["state"].isin(("on_time", "late")), "submission_id"].astype(int))
    cache: dict[str, pd.DataFrame] = {}

    def load(name: str) -> pd.DataFrame:
        if name not in cache:
            frame = load_instance_frame(session, instance, name)
            cache[name] = frame[frame["submission_id"].isin(current_ids)].reset_index(drop=True)
        return cache[name]

    clusters = pd.DataFrame()
    criteria = pd.DataFrame()
    if dataset in _FIGURES:
        values = _FIGURES[dataset][1](load, instance)
        regions = regions.merge(values, how="left", left_on="submission_id", right_index=True)
    if with_criteria and dataset is not None:
        clusters = _check_clusters(session, programme, instance, dataset, states, load(dataset))
        criteria = _criteria_summary(programme, clusters)
        counts = pd.DataFrame(
            {"region_code": clusters["region_code"], "criteria_met_all": clusters["met_all"]}
        )
        for c in programme.criteria:
            counts[f"criterion_{c.id}_met"] = clusters[c.id] == True  # noqa: E712
            counts[f"criterion_{c.id}_not_met"] = clusters[c.id] == False  # noqa: E712
        counts = counts[clusters["reported"].astype(bool)].groupby("region_code").sum().astype("float64")
        regions = regions.merge(counts, how="left", left_on="region_code", right_index=True)
    for metric in _additive(figures):
        if metric not in regions:
            regions[metric] = math.nan
        regions[metric] = regions[metric].astype("float64")
    regions = _add_ratios(regions, figures)

    counts_cols = _additive(STATE_FIGURES)
    cities = regions.groupby("city_code", sort=True).agg(
        city_name=("city_name", "first"), **{c: (c, "sum") for c in counts_cols}
    )
    additive = _additive(figures)
    if additive:
        cities = cities.join(regions.groupby("city_code")[additive].sum(min_count=1))
    cities = _add_ratios(_add_ratios(cities.reset_index(), STATE_FIGURES), figures)
    cities = cities[["city_code", "city_name", *(f.metric for f in (*STATE_FIGURES, *figures))]]

    totals_row: dict[str, Any] = {c: int(regions[c].sum()) for c in counts_cols}
    for metric in additive:
        value = regions[metric].sum(min_count=1)
        totals_row[metric] = None if pd.isna(value) else float(value)
    totals = _add_ratios(pd.DataFrame([totals_row]), (*STATE_FIGURES, *figures)).iloc[0].to_dict()
    totals = {k: (None if pd.isna(v) else float(v)) for k, v in totals.items()}

    lagging = regions[regions["state"].isin(LAGGING_STATES)].copy()
    lagging["_order"] = lagging["state"].map({s: i for i, s in enumerate(STATES)})
    lagging = lagging.sort_values(["city_code", "_order", "region_code"])[
        ["city_code", "city_name", "region_code", "region_name", "cluster", "state", "received_on", "file_name",
         "error_count"]
    ].reset_index(drop=True)  # fmt: skip

    names = _names(session, [programme.region_code])
    return ProvinceAggregate(
        programme_id=programme.id,
        cycle_year=instance.cycle_year,
        obligation_id=instance.obligation_id,
        period=instance.period,
        region_code=programme.region_code,
        region_name=names.get(programme.region_code, programme.authority),
        title=instance.title,
        as_of=as_of,
        effective_due=instance.effective_due,
        window_open=as_of <= instance.effective_due,
        dataset=dataset,
        figures=figures,
        regions=regions,
        cities=cities,
        totals=totals,
        lagging=lagging,
        clusters=clusters,
        criteria=criteria,
    )


# ---------------------------------------------------------------------------
# Writing aggregates
# ---------------------------------------------------------------------------


def _float(value: Any) -> float | None:
    if value is None or value is pd.NA:
        return None
    number = float(value)
    return None if math.isnan(number) else number


def _rows(agg: ProvinceAggregate, *, city: str | None = None) -> list[dict[str, Any]]:
    """The ``aggregates`` rows of ``agg`` (county rows, city rows, the province row), deduplicated by key.

    County rows carry ``state`` (text: on_time / late / missing / rejected) and the
    figures; city and province rows carry ``name`` (text: the region's name), the
    state counts and the figures. Criteria counts carry the criterion's title as
    text. Where a code is both (a city that submits itself, a city-wide
    programme) the higher level's row wins: the values agree.
    """
    base = {
        "programme_id": agg.programme_id,
        "cycle_year": agg.cycle_year,
        "obligation_id": agg.obligation_id,
        "period": agg.period,
    }
    figures = [f.metric for f in agg.figures]
    level_metrics = [f.metric for f in STATE_FIGURES] + figures
    labels = {f.metric: f.label for f in agg.figures if f.metric.startswith("criteri")}
    out: dict[tuple[str, str], dict[str, Any]] = {}

    def put(code: str, metric: str, value: Any, text: str = "") -> None:
        out[(code, metric)] = {
            **base, "region_code": code, "metric": metric, "value": _float(value), "text": text or labels.get(metric, ""),
        }  # fmt: skip

    regions = agg.regions if city is None else agg.regions[agg.regions["city_code"] == city]
    for record in regions[["region_code", "state", *figures]].to_dict("records"):
        code = record["region_code"]
        put(code, "state", None, record["state"])
        for metric in figures:
            put(code, metric, record[metric])
    cities = agg.cities if city is None else agg.cities[agg.cities["city_code"] == city]
    for record in cities[["city_code", "city_name", *level_metrics]].to_dict("records"):
        code = record["city_code"]
        put(code, "name", None, str(record["city_name"]))
        for metric in level_metrics:
            put(code, metric, record[metric])
    if city is None:
        put(agg.region_code, "name", None, agg.region_name)
        for metric in level_metrics:
            put(agg.region_code, metric, agg.totals.get(metric))
    return list(out.values())


def _scope_prefix(programme: Programme) -> str:
    """Region-code prefix of everything a programme's aggregation owns."""
    if programme.scope == "province":
        return programme.region_code[:2]
    if programme.scope == "city":
        return programme.region_code[:4]
    return ""


def _upsert_aggregates(session: Session, rows: list[dict[str, Any]]) -> int:
    """Upsert ``aggregates`` rows keyed by (programme, year, obligation, period, region, metric)."""
    return upsert(session, Aggregate, rows, _KEYS)


def _write(
    session: Session, instance_keys: Mapping[str, Any], rows: list[dict[str, Any]], prune_prefix: str | None
) -> int:
    """Upsert ``rows``; with ``prune_prefix``, delete the instance's other rows under that prefix.

    Pruning keeps the table equal to the last aggregation (a region no longer
    expected, e.g. after a revocation, must not stay on the lagging list), but
    never touches the national roll-up's rows.
    """
    written = _upsert_aggregates(session, rows)
    if prune_prefix is None:
        return written
    where = [getattr(Aggregate, k) == v for k, v in instance_keys.items()]
    existing = session.execute(
        select(Aggregate.region_code, Aggregate.metric).where(
            *where,
            Aggregate.region_code.startswith(prune_prefix, autoescape=True),
            ~Aggregate.metric.startswith(NATIONAL_PREFIX, autoescape=True),
        )
    ).all()
    stale = sorted({tuple(r) for r in existing} - {(r["region_code"], r["metric"]) for r in rows})
    for start in range(0, len(stale), 400):
        chunk = stale[start : start + 400]
        session.execute(
            delete(Aggregate).where(*where, tuple_(Aggregate.region_code, Aggregate.metric).in_(chunk))
        )
    if stale:
        log.info("Removed %d stale aggregate rows", len(stale))
    return written


def _instance_keys(instance: ObligationInstance) -> dict[str, Any]:
    return {
        "programme_id": instance.programme_id,
        "cycle_year": instance.cycle_year,
        "obligation_id": instance.obligation_id,
        "period": instance.period,
    }


def aggregate_province(
    session: Session,
    programme: Programme,
    instance: ObligationInstance,
    as_of: dt.date,
    *,
    submitters: Sequence[Submitter] | None = None,
) -> ProvinceAggregate:
    """Aggregate an instance for the whole programme region and write it to ``aggregates``.

    Writes one row per (region, metric): every submitting region's ``state`` and
    figures, every city's and the province's (``programme.region_code``) ``name``,
    state counts (:data:`STATE_FIGURES`) and figures (:func:`dataset_figures`, plus
    :func:`criteria_figures` when the dataset reports the recognition criteria).
    Re-running writes the same rows; rows of regions no longer expected are removed.

    Args:
        session: Open session (the caller commits).
        programme: The programme.
        instance: The obligation instance.
        as_of: The day the states are computed for.
        submitters: Who must submit (default: :func:`~review_calendar.store.queries.expected_submitters`).

    Returns:
        The aggregate, with ``rows_written``.
    """
    agg = _compute(session, programme, instance, as_of, submitters)
    written = _write(session, _instance_keys(instance), _rows(agg), _scope_prefix(programme))
    log.info(
        "Aggregated %s as of %s: %d expected, %d on time, %d late, %d missing, %d rejected (%d rows)",
        f"{instance.programme_id}/{instance.cycle_year}/{instance.obligation_id}/{instance.period}", as_of,
        *(int(agg.totals.get(k) or 0) for k in ("expected", *STATES)), written,
    )  # fmt: skip
    return replace(agg, rows_written=written)


def aggregate_city(
    session: Session,
    programme: Programme,
    instance: ObligationInstance,
    as_of: dt.date,
    city_code: str,
    *,
    submitters: Sequence[Submitter] | None = None,
) -> dict[str, Any]:
    """Aggregate one city's regions, write its county and city rows, and summarise.

    Args:
        session: Open session (the caller commits).
        programme: The programme.
        instance: The obligation instance.
        as_of: The day the states are computed for.
        city_code: The city (a city code as in ``Submitter.city_code``).
        submitters: Who must submit (default: the expected submitters).

    Returns:
        JSON-serialisable: ``city_code``, ``city_name``, ``expected`` and a count per
        state, ``figures`` (metric → value or None), ``lagging`` (region codes) and
        ``rows_written``.
    """
    agg = _compute(session, programme, instance, as_of, submitters)
    rows = _rows(agg, city=city_code)
    written = _write(session, _instance_keys(instance), rows, None)
    match = agg.cities[agg.cities["city_code"] == city_code]
    record = match.iloc[0].to_dict() if len(match) else {}
    name = record.get("city_name") or _names(session, [city_code]).get(city_code, city_code)
    return {
        "city_code": city_code,
        "city_name": str(name),
        **{k: int(record.get(k) or 0) for k in ("expected", *STATES)},
        "figures": {f.metric: _float(record.get(f.metric)) for f in agg.figures},
        "lagging": sorted(agg.lagging.loc[agg.lagging["city_code"] == city_code, "region_code"]),
        "rows_written": written,
    }


# ---------------------------------------------------------------------------
# National roll-up (Programme B: provinces forward to MIIT)
# ---------------------------------------------------------------------------


def _region_frame(part: pd.DataFrame | ProvinceAggregate) -> pd.DataFrame:
    frame = part.regions if isinstance(part, ProvinceAggregate) else part
    if "region_code" not in frame:
        raise ValueError("a roll-up frame needs a region_code column")
    frame = frame.copy()
    if "state" in frame:
        for s in STATES:
            if s not in frame:
                frame[s] = (frame["state"] == s).astype(int)
        if "expected" not in frame:
            frame["expected"] = 1
        if "submitted" not in frame:
            frame["submitted"] = frame["on_time"] + frame["late"]
    return frame


def national_rollup(
    session: Session | None,
    programme: Programme,
    cycle_year: int,
    parts: pd.DataFrame | ProvinceAggregate | Iterable[pd.DataFrame | ProvinceAggregate],
    *,
    obligation_id: str | None = None,
    period: str = "Y",
) -> pd.DataFrame:
    """Roll region-level results up to one row per province (GB/T 2260 prefix), for MIIT.

    Seed 002 第十四条: clusters report by Apr 30, the provincial departments
    forward to MIIT. Each part is a per-region frame (the ``regions`` of a
    :class:`ProvinceAggregate`, or any frame with ``region_code`` and either
    ``state`` or the state counts, plus figure columns); the province of a region
    is its first two digits + ``0000``. State counts and additive figures are
    summed, ratios recomputed from the sums.

    Args:
        session: Open session to write the roll-up to ``aggregates`` (region = province
            code, national total under :data:`NATIONAL_CODE`, metrics prefixed
            :data:`NATIONAL_PREFIX`); None computes only.
        programme: The programme (Programme B).
        cycle_year: The cycle.
        parts: One frame or aggregate, or several (e.g. one per province).
        obligation_id: The obligation the rows belong to (default: the programme's
            first submission obligation).
        period: The period.

    Returns:
        One row per province, sorted by code: ``province_code``, ``province_name``,
        the state counts and rates, and every figure the parts carry.
    """
    if isinstance(parts, pd.DataFrame | ProvinceAggregate):
        parts = [parts]
    frames = [_region_frame(p) for p in parts]
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["region_code"])
    if obligation_id is None:
        obligation_id = next(o.id for o in programme.obligations if o.kind == "submission")
    dataset = programme.obligation(obligation_id).dataset
    catalogue = [*STATE_FIGURES, *dataset_figures(dataset)]
    if _criteria_apply(programme, dataset):
        catalogue += criteria_figures(programme)
    figures = [f for f in catalogue if f.metric in frame or (f.ratio_of and f.ratio_of[0] in frame)]
    additive = [f.metric for f in figures if f.ratio_of is None]
    frame = frame.assign(province_code=frame["region_code"].astype(str).str[:2] + "0000")
    for metric in additive:
        frame[metric] = pd.to_numeric(frame[metric], errors="coerce").astype("float64")
    counts = [m for m in additive if m in {f.metric for f in STATE_FIGURES}]
    others = [m for m in additive if m not in counts]
    grouped = frame.groupby("province_code", sort=True)
    out = grouped[counts].sum() if counts else pd.DataFrame(index=grouped.size().index)
    if others:
        out = out.join(grouped[others].sum(min_count=1))
    out = _add_ratios(out.reset_index(), figures)
    names = dict(PROVINCES)
    out.insert(1, "province_name", out["province_code"].map(names).fillna("").astype(object))
    if session is not None:
        base = {"programme_id": programme.id, "cycle_year": cycle_year, "obligation_id": obligation_id,
                "period": period}  # fmt: skip
        metrics = [f.metric for f in figures]
        total = {m: frame[m].sum(min_count=1) for m in additive}
        total_frame = _add_ratios(pd.DataFrame([total]), figures)
        rows: list[dict[str, Any]] = []
        for record in [*out.to_dict("records"), {"province_code": NATIONAL_CODE, "province_name": "全国",
                                                  **total_frame.iloc[0].to_dict()}]:  # fmt: skip
            code = record["province_code"]
            rows.append({**base, "region_code": code, "metric": f"{NATIONAL_PREFIX}name", "value": None,
                         "text": str(record["province_name"])})  # fmt: skip
            rows.extend(
                {
                    **base,
                    "region_code": code,
                    "metric": f"{NATIONAL_PREFIX}{m}",
                    "value": _float(record.get(m)),
                    "text": "",
                }  # fmt: skip
                for m in metrics
            )
        _upsert_aggregates(session, rows)
        log.info(
            "National roll-up of %s %d: %d provinces, %d rows", programme.id, cycle_year, len(out), len(rows)
        )
    return out
