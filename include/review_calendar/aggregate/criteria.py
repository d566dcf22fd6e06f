"""Programme B's recognition criteria, checked for every cluster in the annual tables.

工信部企业〔2022〕119号 附件 lists the criteria a recognised cluster must keep
meeting (area, output, shares, growth, firms, patents...). The aggregation
checks each expected cluster against them with
:func:`~review_calendar.domain.criteria.check_criteria`, counts per region how many
clusters met each one, and summarises per criterion for the reports.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import pandas as pd

from review_calendar.domain.criteria import check_criteria
from review_calendar.domain.programmes import find_instance
from review_calendar.store.frames import load_instance_frame

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from review_calendar.domain.programmes import ObligationInstance, Programme

__all__ = ["check_clusters", "criteria_counts", "criteria_summary"]

#: Identity columns of a cluster's row.
_IDENTITY = ["region_code", "region_name", "city_code", "city_name", "cluster_id", "cluster", "state"]


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


def _history(
    session: Session, programme: Programme, instance: ObligationInstance, dataset: str, current: pd.DataFrame
) -> pd.DataFrame:
    """This cycle's accepted rows and those of as many earlier cycles as the longest criterion needs."""
    year = instance.cycle_year
    history = [current.assign(_cycle=year)]
    depth = max((n for c in programme.criteria for n in c.series().values()), default=1)
    for back in range(1, depth):
        try:
            earlier = find_instance(programme, year - back, instance.obligation_id, instance.period)
        except KeyError:
            break
        frame = load_instance_frame(session, earlier, dataset)
        if len(frame):
            history.append(frame.assign(_cycle=earlier.cycle_year))
    return pd.concat(history, ignore_index=True)


def _rows_by_cluster(
    rows: pd.DataFrame, states: pd.DataFrame, clusters: pd.DataFrame
) -> dict[str, dict[int, dict[str, Any]]]:
    """Each cluster's reported row per cycle (the last one of a cycle wins)."""
    by_cluster: dict[str, dict[int, dict[str, Any]]] = {}
    if not len(rows):
        return by_cluster
    filed = states[states["submission_id"].notna()]
    region_of = dict(zip(filed["submission_id"].astype(int), filed["region_code"], strict=True))
    rows["_region"] = rows["submission_id"].map(region_of).fillna(rows["region_code"])
    rows["_cluster"] = _cluster_key(rows, clusters)
    for record in rows.sort_values(["_cycle", "submission_id", "row_no"]).to_dict("records"):
        by_cluster.setdefault(record["_cluster"], {})[int(record["_cycle"])] = record
    return by_cluster


def _listed_clusters(
    states: pd.DataFrame, clusters: pd.DataFrame, by_cluster: dict[str, dict[int, dict[str, Any]]], year: int
) -> list[dict[str, Any]]:
    """The expected clusters, then any cluster reported this cycle that matches none of them."""
    listed = clusters[_IDENTITY].to_dict("records")
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
    return listed


def _judge(
    programme: Programme, entry: dict[str, Any], cycles: dict[int, dict[str, Any]], year: int
) -> dict[str, Any]:
    """One cluster's row: each criterion met (True), not met (False) or unknown (None), and ``met_all``."""
    now = cycles.get(year)
    indicators: dict[str, Any] = {}
    if now is not None:
        for c in programme.criteria:
            for field, length in c.series().items():
                if length > 1:
                    indicators[field] = [
                        _number_or_none(cycles.get(y, {}).get(field))
                        for y in range(year - length + 1, year + 1)
                    ]
                else:
                    indicators[field] = _number_or_none(now.get(field))
    results = check_criteria(programme.criteria, indicators) if now is not None else []
    record = {**entry, "reported": now is not None}
    for c in programme.criteria:
        record[c.id] = None
        record[f"{c.id}_value"] = None
    for r in results:
        record[r.id] = r.met
        record[f"{r.id}_value"] = r.value
    record["met_all"] = now is not None and all(r.met is True for r in results)
    return record


def check_clusters(
    session: Session,
    programme: Programme,
    instance: ObligationInstance,
    dataset: str,
    states: pd.DataFrame,
    current: pd.DataFrame,
) -> pd.DataFrame:
    """Every expected cluster (and any unmatched reported one) with each criterion met / not met / unknown.

    Criteria over several years (e.g. output ≥ 4 bn yuan in each of the last 3
    years, 附件 一; the average annual growth over 3 years) take the values of this
    and the previous cycles' accepted tables, a missing year as None; a cluster
    without all those years is "unknown" for them, never "met".

    Args:
        session: Open session (earlier cycles' tables are read from it).
        programme: The programme and its criteria.
        instance: The obligation instance.
        dataset: The dataset that reports the indicators.
        states: The submission states (:func:`~review_calendar.aggregate.states.submission_states`).
        current: The accepted rows of this cycle whose data counts.

    Returns:
        One row per cluster: identity and state, ``reported``, per criterion ``<id>``
        (True/False/None) and ``<id>_value``, and ``met_all``.
    """
    clusters = states[states["cluster_id"].notna()].drop_duplicates("cluster_id")
    rows = _history(session, programme, instance, dataset, current)
    by_cluster = _rows_by_cluster(rows, states, clusters)
    listed = _listed_clusters(states, clusters, by_cluster, instance.cycle_year)
    records = [
        _judge(programme, entry, by_cluster.get(entry["cluster_id"], {}), instance.cycle_year)
        for entry in listed
    ]
    columns = [
        *_IDENTITY,
        "reported",
        *(x for c in programme.criteria for x in (c.id, f"{c.id}_value")),
        "met_all",
    ]
    return pd.DataFrame.from_records(records, columns=columns)


def criteria_counts(programme: Programme, clusters: pd.DataFrame) -> pd.DataFrame:
    """Per region, the reporting clusters meeting every criterion and meeting / not meeting each one.

    Returns:
        Indexed by region code: ``criteria_met_all``, ``criterion_<id>_met`` and
        ``criterion_<id>_not_met`` (floats, to be summed like every additive figure).
    """
    counts = pd.DataFrame({"region_code": clusters["region_code"], "criteria_met_all": clusters["met_all"]})
    for c in programme.criteria:
        counts[f"criterion_{c.id}_met"] = clusters[c.id].eq(True)
        counts[f"criterion_{c.id}_not_met"] = clusters[c.id].eq(False)
    reported = clusters["reported"].astype(bool)
    return counts[reported].groupby("region_code").sum().astype("float64")


def criteria_summary(programme: Programme, clusters: pd.DataFrame) -> pd.DataFrame:
    """One row per criterion: its definition and how many clusters met it, did not, or are unknown."""
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
                "met": int(column.eq(True).sum()),
                "not_met": int(column.eq(False).sum()),
                "unknown": int(column.isna().sum()),
            }
        )
    return pd.DataFrame(
        rows,
        columns=["id", "title", "op", "threshold", "unit", "years", "clause", "met", "not_met", "unknown"],
    )
