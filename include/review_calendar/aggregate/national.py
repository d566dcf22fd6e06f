"""The national roll-up of Programme B: one row per province, for MIIT.

工信部企业〔2022〕119号 第十六条: clusters report their annual tables by Apr 30 and the
provincial departments forward them to MIIT. The roll-up sums region-level
results per province (the first two digits of the GB/T 2260 code) and over the
country, and recomputes the ratios from the sums.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import pandas as pd

from review_calendar.aggregate.compute import ProvinceAggregate, state_counts
from review_calendar.aggregate.figures import (
    STATE_COUNTS,
    STATE_FIGURES,
    Figure,
    add_ratios,
    figures_for,
)
from review_calendar.aggregate.write import NATIONAL_PREFIX, metric_value, upsert_aggregates
from review_calendar.domain.regions import PROVINCES

if TYPE_CHECKING:
    from collections.abc import Iterable

    from sqlalchemy.orm import Session

    from review_calendar.domain.programmes import Programme

__all__ = ["NATIONAL_CODE", "NATIONAL_PREFIX", "national_rollup"]

log = logging.getLogger(__name__)

#: Region code of the national total written by :func:`national_rollup` (全国).
NATIONAL_CODE = "100000"

Part = pd.DataFrame | ProvinceAggregate


def _region_frame(part: Part) -> pd.DataFrame:
    """A part as a per-region frame with the state counts (derived from ``state`` where absent)."""
    frame = part.regions if isinstance(part, ProvinceAggregate) else part
    if "region_code" not in frame:
        raise ValueError("a roll-up frame needs a region_code column")
    frame = frame.copy()
    if "state" in frame and not all(c in frame for c in ("expected", *STATE_COUNTS, "submitted")):
        derived = state_counts(frame[["state"]].copy())
        for column in ("expected", *STATE_COUNTS, "submitted"):
            if column not in frame:
                frame[column] = derived[column]
    return frame


def _figures(programme: Programme, obligation_id: str, frame: pd.DataFrame) -> list[Figure]:
    """The figures of the obligation's catalogue that the frame carries (or can compute)."""
    catalogue = [*STATE_FIGURES, *figures_for(programme, programme.obligation(obligation_id).dataset)]
    return [f for f in catalogue if f.metric in frame or (f.ratio_of and f.ratio_of[0] in frame)]


def _per_province(frame: pd.DataFrame, figures: list[Figure]) -> pd.DataFrame:
    """Sum counts and additive figures per province, name it, recompute the ratios."""
    additive = [f.metric for f in figures if f.ratio_of is None]
    counts = [m for m in additive if m in {f.metric for f in STATE_FIGURES}]
    others = [m for m in additive if m not in counts]
    grouped = frame.groupby("province_code", sort=True)
    out = grouped[counts].sum() if counts else pd.DataFrame(index=grouped.size().index)
    if others:
        out = out.join(grouped[others].sum(min_count=1))
    out = add_ratios(out.reset_index(), figures)
    out.insert(1, "province_name", out["province_code"].map(dict(PROVINCES)).fillna("").astype(object))
    return out


def _stored_rows(
    programme: Programme,
    cycle_year: int,
    obligation_id: str,
    period: str,
    frame: pd.DataFrame,
    out: pd.DataFrame,
    figures: list[Figure],
) -> list[dict[str, Any]]:
    """The ``aggregates`` rows of the roll-up: each province and the national total (全国)."""
    base = {"programme_id": programme.id, "cycle_year": cycle_year, "obligation_id": obligation_id,
            "period": period}  # fmt: skip
    additive = [f.metric for f in figures if f.ratio_of is None]
    total = add_ratios(pd.DataFrame([{m: frame[m].sum(min_count=1) for m in additive}]), figures)
    national = {"province_code": NATIONAL_CODE, "province_name": "全国", **total.iloc[0].to_dict()}
    rows: list[dict[str, Any]] = []
    for record in [*out.to_dict("records"), national]:
        code = record["province_code"]
        rows.append({**base, "region_code": code, "metric": f"{NATIONAL_PREFIX}name", "value": None,
                     "text": str(record["province_name"])})  # fmt: skip
        rows.extend(
            {**base, "region_code": code, "metric": f"{NATIONAL_PREFIX}{f.metric}",
             "value": metric_value(record.get(f.metric)), "text": ""}
            for f in figures
        )  # fmt: skip
    return rows


def national_rollup(
    session: Session | None,
    programme: Programme,
    cycle_year: int,
    parts: Part | Iterable[Part],
    *,
    obligation_id: str | None = None,
    period: str = "Y",
) -> pd.DataFrame:
    """Roll region-level results up to one row per province (GB/T 2260 prefix), for MIIT.

    Each part is a per-region frame (the ``regions`` of a
    :class:`~review_calendar.aggregate.compute.ProvinceAggregate`, or any frame
    with ``region_code`` and either ``state`` or the state counts, plus figure
    columns); the province of a region is its first two digits + ``0000``. State
    counts and additive figures are summed, ratios recomputed from the sums.

    Args:
        session: Open session to write the roll-up to ``aggregates`` (region = province
            code, national total under :data:`NATIONAL_CODE`, metrics prefixed
            :data:`~review_calendar.aggregate.write.NATIONAL_PREFIX`); None computes only.
        programme: The programme (Programme B).
        cycle_year: The cycle.
        parts: One frame or aggregate, or several (e.g. one per province).
        obligation_id: The obligation the rows belong to (default: the programme's
            first submission obligation).
        period: The period.

    Returns:
        One row per province, sorted by code: ``province_code``, ``province_name``,
        the state counts and rates, and every figure the parts carry.

    Raises:
        ValueError: A part has no ``region_code`` column.
    """
    if isinstance(parts, pd.DataFrame | ProvinceAggregate):
        parts = [parts]
    frames = [_region_frame(p) for p in parts]
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=["region_code"])
    if obligation_id is None:
        obligation_id = next(o.id for o in programme.obligations if o.kind == "submission")
    figures = _figures(programme, obligation_id, frame)
    frame = frame.assign(province_code=frame["region_code"].astype(str).str[:2] + "0000")
    for f in figures:
        if f.ratio_of is None:
            frame[f.metric] = pd.to_numeric(frame[f.metric], errors="coerce").astype("float64")
    out = _per_province(frame, figures)
    if session is not None:
        rows = _stored_rows(programme, cycle_year, obligation_id, period, frame, out, figures)
        upsert_aggregates(session, rows)
        log.info(
            "National roll-up of %s %d: %d provinces, %d rows", programme.id, cycle_year, len(out), len(rows)
        )
    return out
