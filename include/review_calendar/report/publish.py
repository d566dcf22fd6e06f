"""Where the reports of an aggregation go, and writing both of them.

Files go to ``<out_dir>/<programme>/<year>/<obligation>_<period>.xlsx|.html``
and each is replaced atomically, so a re-run never leaves half a report.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from review_calendar.report.html import write_html
from review_calendar.report.workbook import write_workbook

if TYPE_CHECKING:
    from pathlib import Path

    import pandas as pd

    from review_calendar.aggregate.compute import ProvinceAggregate
    from review_calendar.domain.programmes import ObligationInstance, Programme

__all__ = ["report_paths", "write_reports"]

log = logging.getLogger(__name__)


def report_paths(out_dir: Path, instance: ObligationInstance) -> dict[str, Path]:
    """Where the reports of ``instance`` go: ``{"xlsx": ..., "html": ...}``.

    Args:
        out_dir: The reports folder.
        instance: The obligation instance.
    """
    folder = out_dir / instance.programme_id / str(instance.cycle_year)
    stem = f"{instance.obligation_id}_{instance.period}"
    return {"xlsx": folder / f"{stem}.xlsx", "html": folder / f"{stem}.html"}


def write_reports(
    out_dir: Path,
    programme: Programme,
    instance: ObligationInstance,
    aggregate: ProvinceAggregate,
    states: pd.DataFrame,
    gate_html: str | None,
) -> dict[str, str]:
    """Write the Excel workbook and the HTML summary of an aggregation.

    The workbook has the sheets 汇总 (per city: counts by state and the key
    figures, with the province total), 明细 (per expected submitter), 滞后地区
    (late, missing and rejected regions) and, when the programme's recognition
    criteria were checked, 认定标准 (each cluster, each criterion). The page
    shows the same tables with charts and links the gate page.

    Args:
        out_dir: Reports folder (e.g. ``get_settings().reports_dir``).
        programme: The programme.
        instance: The obligation instance.
        aggregate: What the provincial aggregation returned.
        states: The submission state of every expected submitter.
        gate_html: Path (or http(s) URL) of the gate's HTML page to link, if any.

    Returns:
        ``{"xlsx": path, "html": path}`` as strings.
    """
    paths = report_paths(out_dir, instance)
    paths["xlsx"].parent.mkdir(parents=True, exist_ok=True)
    write_workbook(paths["xlsx"], programme, aggregate, states)
    write_html(
        paths["html"],
        programme,
        instance,
        aggregate,
        states,
        gate_html=gate_html,
        xlsx_name=paths["xlsx"].name,
    )
    log.info("Reports of %s written to %s", instance.key, paths["xlsx"].parent)
    return {kind: str(p) for kind, p in paths.items()}
