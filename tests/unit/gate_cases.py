"""Shared builders for the row-check and gate tests: clean records, stored submissions, one gate run.

Records are built from the official template's example values, so a clean
record passes every suite; stored submissions go into the review database
directly (accepted, with their dataset rows), as intake would leave them.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from review_calendar.domain.programmes import find_instance
from review_calendar.gate.provincial import run_gate
from review_calendar.intake import get_dataset
from review_calendar.intake.columns import parse_cell
from review_calendar.intake.templates import example_value
from review_calendar.store.db import session_scope
from review_calendar.store.models import DatasetRow, Region, Submission

if TYPE_CHECKING:
    from review_calendar.domain.programmes import ObligationInstance, Programme
    from review_calendar.gate.errors import GateFinding, GateResult

ROOT = Path(__file__).resolve().parents[2]
EXPECTATIONS = ROOT / "expectations"
YEAR = 2025
#: Expected submitters of the 2025 half-year report in the demo (pilots enrolled 2024 and 2025).
EXPECTED = {
    "130109": "藁城宫灯产业集群",
    "130229": "玉田印刷包装产业集群",
    "130322": "昌黎葡萄酒产业集群",
    "130635": "蠡县毛皮产业集群",
    "130684": "白沟箱包产业集群",
}


def clean_record(dataset_id: str, **changes: object) -> dict[str, object]:
    """One valid record as intake produces it (typed values), from the template's examples."""
    spec = get_dataset(dataset_id)
    record: dict[str, object] = {}
    for column in spec.columns:
        text = example_value(column)
        record[column.key] = parse_cell(column, text) if text else None
    record.update(changes)
    return record


def with_threshold(programme: Programme, obligation_id: str, threshold: float) -> Programme:
    """The programme with one obligation's completeness threshold changed."""
    obligations = [
        o.model_copy(update={"completeness_threshold": threshold}) if o.id == obligation_id else o
        for o in programme.obligations
    ]
    return programme.model_copy(update={"obligations": obligations})


def _json_ready(record: dict[str, object]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in record.items()}


def add_submission(
    url: str,
    instance: ObligationInstance,
    region: str,
    rows: dict[str, list[dict[str, object]]],
    *,
    first_row: int = 4,
) -> int:
    """Insert an accepted submission of ``region`` with rows per dataset; returns its id."""
    with session_scope(url) as session:
        count = session.scalar(select(func.count()).select_from(Submission)) or 0
        sub = Submission(
            programme_id=instance.programme_id,
            cycle_year=instance.cycle_year,
            obligation_id=instance.obligation_id,
            period=instance.period,
            region_code=region,
            file_name=f"{region}.xlsx",
            stored_path=f"/accepted/{region}-{count}.xlsx",
            content_hash=f"{count:064d}",
            received_on=dt.date(YEAR, 7, 10),
            status="accepted",
        )
        session.add(sub)
        session.flush()
        for dataset_id, records in rows.items():
            for n, record in enumerate(records):
                session.add(
                    DatasetRow(
                        submission_id=sub.id,
                        dataset=dataset_id,
                        sheet=get_dataset(dataset_id).sheet,
                        row_no=first_row + n,
                        region_code=str(record.get("region_code") or region),
                        data=_json_ready(record),
                    )
                )
        return sub.id


def progress_row(region: str, **changes: object) -> dict[str, object]:
    """A clean half-year progress report row of ``region``."""
    values: dict[str, object] = {
        "region_code": region,
        "cluster_name": EXPECTED.get(region, "某产业集群"),
        "year": YEAR,
        "period": "上半年",
    }
    return clean_record("progress_report", **{**values, **changes})


def half_year(programme: Programme) -> ObligationInstance:
    """The 2025 half-year progress report instance."""
    return find_instance(programme, YEAR, "half_year_report", "Y")


def submit_all_progress(url: str, instance: ObligationInstance, skip: tuple[str, ...] = ()) -> None:
    """A clean progress report from every expected submitter except ``skip``."""
    for region in EXPECTED:
        if region not in skip:
            add_submission(url, instance, region, {"progress_report": [progress_row(region)]})


def gate(
    url: str, programme: Programme, instance: ObligationInstance, tmp_path: Path, run_id: str = "r1"
) -> GateResult:
    """Run the provincial gate in one session, reports under ``tmp_path / "reports"``."""
    with session_scope(url) as session:
        known = set(session.scalars(select(Region.code)))
        return run_gate(
            session,
            programme,
            instance,
            run_id=run_id,
            expectations_dir=EXPECTATIONS,
            reports_dir=tmp_path / "reports",
            known_region_codes=known,
        )


def codes_of(findings: list[GateFinding]) -> list[str]:
    """The distinct codes of ``findings``, sorted."""
    return sorted({f.code for f in findings})
