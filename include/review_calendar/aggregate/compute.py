"""Provincial aggregation of an obligation instance: who submitted, the key figures, who lags.

Counties (or cities, or the evaluator) submit; the province needs, per city and
for itself, how many submitted on time, late, not at all or only rejected
files, the key figures of the accepted data summed up, and the list of lagging
regions. For Programme B every cluster's indicators are checked against the
recognition criteria of the programme file (工信部企业〔2022〕119号 附件).

:func:`compute_province` computes the region, city and province frames once
with vectorised pandas over a handful of queries (no query per region); a city's
rows are slices of them. Writing them to ``aggregates`` is
:mod:`review_calendar.aggregate.write`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from review_calendar.aggregate.criteria import check_clusters, criteria_counts, criteria_summary
from review_calendar.aggregate.figures import (
    STATE_COUNTS,
    STATE_FIGURES,
    Figure,
    add_ratios,
    additive,
    criteria_apply,
    dataset_values,
    figures_for,
)
from review_calendar.aggregate.states import (
    COUNTED_AS,
    LAGGING_STATES,
    region_names,
    submission_states,
)
from review_calendar.domain.labels import SUBMISSION_STATES
from review_calendar.store.frames import load_instance_frame

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Sequence

    from sqlalchemy.orm import Session

    from review_calendar.aggregate.figures import Loader
    from review_calendar.domain.programmes import ObligationInstance, Programme
    from review_calendar.store.queries import Submitter

__all__ = ["ProvinceAggregate", "compute_province", "state_counts"]

#: Columns of the lagging list, in order.
_LAGGING_COLUMNS = ["city_code", "city_name", "region_code", "region_name", "cluster", "state", "received_on",
                    "file_name", "error_count"]  # fmt: skip


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
        window_open: ``as_of`` is on or before the due date: regions may still submit.
        dataset: The obligation's dataset (None when nothing is submitted).
        figures: The dataset's key figures (display order, see
            :func:`~review_calendar.aggregate.figures.dataset_figures`).
        states: One row per expected submitter (per cluster), as
            :func:`~review_calendar.aggregate.states.submission_states` returns it.
        regions: One row per submitting region: identity, ``state``, file, 0/1 state counts, figures.
        cities: One row per city: ``city_code``, ``city_name``, state counts, figures.
        totals: The province row: state counts and figures (None where nothing was reported).
        lagging: Regions late, rejected, missing or not yet submitted, by city.
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
    states: pd.DataFrame
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
            **{s: int(self.totals.get(s) or 0) for s in ("expected", *STATE_COUNTS)},
            "figures": {f.metric: self.totals.get(f.metric) for f in self.figures},
            "lagging": sorted(set(self.lagging["region_code"])) if len(self.lagging) else [],
            "rows_written": self.rows_written,
        }


def state_counts(frame: pd.DataFrame) -> pd.DataFrame:
    """Add the 0/1 state counts to a frame with one ``state`` per region (in place).

    The columns are ``expected``, each metric of
    :data:`~review_calendar.aggregate.figures.STATE_COUNTS` (a state counts where
    :data:`~review_calendar.aggregate.states.COUNTED_AS` says) and ``submitted``.

    Returns:
        ``frame``, for chaining.
    """
    counted = frame["state"].map(COUNTED_AS)
    frame["expected"] = 1
    for metric in STATE_COUNTS:
        frame[metric] = (counted == metric).astype(int)
    frame["submitted"] = frame["on_time"] + frame["late"]
    return frame


def _region_rows(states: pd.DataFrame) -> pd.DataFrame:
    """One row per submitting region (a county with two clusters submits one file), with state counts."""
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
    return state_counts(regions)


def _loader(session: Session, instance: ObligationInstance, regions: pd.DataFrame) -> Loader:
    """Reads a dataset of the instance once, keeping only the rows of the files whose data counts."""
    counted = regions["state"].map(COUNTED_AS).isin(("on_time", "late"))
    current_ids = set(regions.loc[counted, "submission_id"].astype(int))
    cache: dict[str, pd.DataFrame] = {}

    def load(name: str) -> pd.DataFrame:
        if name not in cache:
            frame = load_instance_frame(session, instance, name)
            cache[name] = frame[frame["submission_id"].isin(current_ids)].reset_index(drop=True)
        return cache[name]

    return load


def _city_rows(regions: pd.DataFrame, figures: Sequence[Figure]) -> pd.DataFrame:
    """One row per city: state counts and additive figures summed, ratios recomputed from the sums."""
    counts = additive(STATE_FIGURES)
    cities = regions.groupby("city_code", sort=True).agg(
        city_name=("city_name", "first"), **{c: (c, "sum") for c in counts}
    )
    summed = additive(figures)
    if summed:
        cities = cities.join(regions.groupby("city_code")[summed].sum(min_count=1))
    cities = add_ratios(add_ratios(cities.reset_index(), STATE_FIGURES), figures)
    return cities[["city_code", "city_name", *(f.metric for f in (*STATE_FIGURES, *figures))]]


def _province_totals(regions: pd.DataFrame, figures: Sequence[Figure]) -> dict[str, float | None]:
    """The province row: counts and figures summed over every region, ratios from the sums."""
    row: dict[str, Any] = {c: int(regions[c].sum()) for c in additive(STATE_FIGURES)}
    for metric in additive(figures):
        value = regions[metric].sum(min_count=1)
        row[metric] = None if pd.isna(value) else float(value)
    totals = add_ratios(pd.DataFrame([row]), (*STATE_FIGURES, *figures)).iloc[0].to_dict()
    return {k: (None if pd.isna(v) else float(v)) for k, v in totals.items()}


def _lagging(regions: pd.DataFrame) -> pd.DataFrame:
    """Regions in a lagging state, by city, then in the vocabulary's order of states, then by code."""
    order = {s: i for i, s in enumerate(SUBMISSION_STATES)}
    lagging = regions[regions["state"].isin(LAGGING_STATES)].copy()
    lagging["_order"] = lagging["state"].map(order)
    lagging = lagging.sort_values(["city_code", "_order", "region_code"])
    return lagging[_LAGGING_COLUMNS].reset_index(drop=True)


def _add_figures(
    session: Session,
    programme: Programme,
    instance: ObligationInstance,
    states: pd.DataFrame,
    regions: pd.DataFrame,
    figures: Sequence[Figure],
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Join each region's key figures (and, for Programme B, its criteria counts).

    Returns:
        The regions with a float column per figure (ratios computed), the clusters
        checked against the criteria and the per-criterion summary (both empty when
        the criteria do not apply).
    """
    dataset = programme.obligation(instance.obligation_id).dataset
    load = _loader(session, instance, regions)
    clusters = criteria = pd.DataFrame()
    values = dataset_values(dataset, load, instance) if dataset else None
    if values is not None:
        regions = regions.merge(values, how="left", left_on="submission_id", right_index=True)
    if dataset is not None and criteria_apply(programme, dataset):
        clusters = check_clusters(session, programme, instance, dataset, states, load(dataset))
        criteria = criteria_summary(programme, clusters)
        counts = criteria_counts(programme, clusters)
        regions = regions.merge(counts, how="left", left_on="region_code", right_index=True)
    for metric in additive(figures):
        if metric not in regions:
            regions[metric] = math.nan
        regions[metric] = regions[metric].astype("float64")
    return add_ratios(regions, figures), clusters, criteria


def compute_province(
    session: Session,
    programme: Programme,
    instance: ObligationInstance,
    as_of: dt.date,
    submitters: Sequence[Submitter] | None = None,
) -> ProvinceAggregate:
    """Aggregate an instance over the whole programme region, without writing anything.

    Args:
        session: Open session on the review database.
        programme: The programme.
        instance: The obligation instance.
        as_of: The day the states are computed for (files received later are ignored).
        submitters: Who must submit (default: the expected submitters).

    Returns:
        The states, region, city and province frames, the lagging list and, for
        Programme B, the criteria per cluster.
    """
    dataset = programme.obligation(instance.obligation_id).dataset
    figures = figures_for(programme, dataset)
    states = submission_states(session, programme, instance, as_of, submitters=submitters)
    regions, clusters, criteria = _add_figures(
        session, programme, instance, states, _region_rows(states), figures
    )
    names = region_names(session, [programme.region_code])
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
        states=states,
        regions=regions,
        cities=_city_rows(regions, figures),
        totals=_province_totals(regions, figures),
        lagging=_lagging(regions),
        clusters=clusters,
        criteria=criteria,
    )
