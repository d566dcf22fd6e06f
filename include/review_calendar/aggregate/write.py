"""The ``aggregates`` table: one row per (programme, year, obligation, period, region, metric).

:func:`aggregate_province` and :func:`aggregate_city` compute an instance
(:func:`~review_calendar.aggregate.compute.compute_province`) and upsert its rows,
so a re-run writes the same rows. County rows carry the region's ``state`` and
figures; city and province rows its ``name``, the state counts and the figures.
"""

from __future__ import annotations

import logging
import math
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import pandas as pd
from sqlalchemy import delete, select, tuple_

from review_calendar.aggregate.compute import ProvinceAggregate, compute_province
from review_calendar.aggregate.figures import STATE_COUNTS, STATE_FIGURES
from review_calendar.aggregate.states import region_names
from review_calendar.store.db import upsert
from review_calendar.store.expected import expected_at_close
from review_calendar.store.queries import instance_filter
from review_calendar.store.tables.review import Aggregate

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Sequence

    from sqlalchemy.orm import Session

    from review_calendar.domain.programmes import ObligationInstance, Programme
    from review_calendar.store.queries import Submitter

__all__ = ["NATIONAL_PREFIX", "aggregate_city", "aggregate_province", "metric_value", "upsert_aggregates"]

log = logging.getLogger(__name__)

#: Prefix of the metrics the national roll-up writes (they never collide with a province's own rows).
NATIONAL_PREFIX = "national_"
_KEYS = ["programme_id", "cycle_year", "obligation_id", "period", "region_code", "metric"]


def metric_value(value: Any) -> float | None:
    """A stored metric's value: a float, or None for missing (None, NA, NaN)."""
    if value is None or value is pd.NA:
        return None
    number = float(value)
    return None if math.isnan(number) else number


def upsert_aggregates(session: Session, rows: list[dict[str, Any]]) -> int:
    """Upsert ``aggregates`` rows keyed by (programme, year, obligation, period, region, metric).

    Returns:
        The number of rows written.
    """
    return upsert(session, Aggregate, rows, _KEYS)


def _rows(agg: ProvinceAggregate, *, city: str | None = None) -> list[dict[str, Any]]:
    """The ``aggregates`` rows of ``agg`` (county rows, city rows, the province row), deduplicated by key.

    County rows carry ``state`` (text: a state code) and the figures; city and
    province rows carry ``name`` (text: the region's name), the state counts and
    the figures. Criteria counts carry the criterion's title as text. Where a
    code is both (a city that submits itself, a city-wide programme) the higher
    level's row wins: the values agree. With ``city``, only that city's rows.
    """
    base = {"programme_id": agg.programme_id, "cycle_year": agg.cycle_year,
            "obligation_id": agg.obligation_id, "period": agg.period}  # fmt: skip
    figures = [f.metric for f in agg.figures]
    level_metrics = [f.metric for f in STATE_FIGURES] + figures
    labels = {f.metric: f.label for f in agg.figures if f.metric.startswith("criteri")}
    out: dict[tuple[str, str], dict[str, Any]] = {}

    def put(code: str, metric: str, value: Any, text: str = "") -> None:
        out[(code, metric)] = {
            **base, "region_code": code, "metric": metric, "value": metric_value(value), "text": text or labels.get(metric, ""),
        }  # fmt: skip

    regions = agg.regions if city is None else agg.regions[agg.regions["city_code"] == city]
    for record in regions[["region_code", "state", *figures]].to_dict("records"):
        put(record["region_code"], "state", None, record["state"])
        for metric in figures:
            put(record["region_code"], metric, record[metric])
    cities = agg.cities if city is None else agg.cities[agg.cities["city_code"] == city]
    for record in cities[["city_code", "city_name", *level_metrics]].to_dict("records"):
        put(record["city_code"], "name", None, str(record["city_name"]))
        for metric in level_metrics:
            put(record["city_code"], metric, record[metric])
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


def _prune(session: Session, instance: ObligationInstance, rows: list[dict[str, Any]], prefix: str) -> None:
    """Delete the instance's rows under ``prefix`` that ``rows`` no longer has.

    Pruning keeps the table equal to the last aggregation (a region no longer
    expected, e.g. after a revocation, must not stay on the lagging list), but
    never touches the national roll-up's rows.
    """
    where = instance_filter(Aggregate, instance)
    existing = session.execute(
        select(Aggregate.region_code, Aggregate.metric).where(
            *where,
            Aggregate.region_code.startswith(prefix, autoescape=True),
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
    state counts (:data:`~review_calendar.aggregate.figures.STATE_FIGURES`) and
    figures. Re-running writes the same rows; rows of regions no longer expected
    are removed.

    Args:
        session: Open session (the caller commits).
        programme: The programme.
        instance: The obligation instance.
        as_of: The day the states are computed for.
        submitters: Who must submit (default: those recorded at the close,
            :func:`~review_calendar.store.expected.expected_at_close`).

    Returns:
        The aggregate (its ``states`` feed the reports), with ``rows_written``.
    """
    if submitters is None:  # a finished cycle keeps whom it expected at its close (store.expected)
        submitters = expected_at_close(session, programme, instance, as_of)
    agg = compute_province(session, programme, instance, as_of, submitters)
    rows = _rows(agg)
    written = upsert_aggregates(session, rows)
    _prune(session, instance, rows, _scope_prefix(programme))
    log.info(
        "Aggregated %s as of %s: %d expected, %d on time, %d late, %d missing, %d rejected (%d rows)",
        f"{instance.programme_id}/{instance.cycle_year}/{instance.obligation_id}/{instance.period}", as_of,
        *(int(agg.totals.get(k) or 0) for k in ("expected", *STATE_COUNTS)), written,
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
        submitters: Who must submit (default: those recorded at the close).

    Returns:
        JSON-serialisable: ``city_code``, ``city_name``, ``expected`` and each state
        count, ``figures`` (metric → value or None), ``lagging`` (region codes) and
        ``rows_written``.
    """
    if submitters is None:  # a finished cycle keeps whom it expected at its close (store.expected)
        submitters = expected_at_close(session, programme, instance, as_of)
    agg = compute_province(session, programme, instance, as_of, submitters)
    written = upsert_aggregates(session, _rows(agg, city=city_code))
    match = agg.cities[agg.cities["city_code"] == city_code]
    record = match.iloc[0].to_dict() if len(match) else {}
    name = record.get("city_name") or region_names(session, [city_code]).get(city_code, city_code)
    return {
        "city_code": city_code,
        "city_name": str(name),
        **{k: int(record.get(k) or 0) for k in ("expected", *STATE_COUNTS)},
        "figures": {f.metric: metric_value(record.get(f.metric)) for f in agg.figures},
        "lagging": sorted(agg.lagging.loc[agg.lagging["city_code"] == city_code, "region_code"]),
        "rows_written": written,
    }
