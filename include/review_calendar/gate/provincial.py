"""The provincial gate: run the suites and the structural checks of an instance, record the verdict.

:func:`run_gate` runs the provincial suite ``<dataset>__provincial.json`` on the
assembled provincial dataset plus the structural checks that need more than one
row or table (:mod:`review_calendar.gate.checks`), stores a ``GateRun`` row and
returns a :class:`GateResult`. :meth:`GateResult.raise_if_failed` raises
:class:`GateFailed` when a critical finding stops the aggregation. The
reviewers' HTML page of the run is written by the caller
(``review_calendar.report.gate_page``) at :attr:`GateResult.html_path`.

The checks of :func:`run_gate`, each with its severity:

- the provincial GX suite ``<dataset>__provincial.json`` (and that of a
  companion dataset, e.g. ``plan_projects`` with ``development_plan``),
  severity per expectation as in the suite;
- one accepted submission per region (critical), rows whose key repeats
  across submissions (critical, in the suite), region codes that are in
  ``known_region_codes`` (critical), values that are not numbers (critical);
- totals that reconcile: per region the project investments add up to the
  plan's total investment within 1 % (critical; a plan without projects is
  a warning), projects outside the plan period (warning), completed
  investment above 3 × planned (warning), subsidy claims above the
  investment (critical), both contact roles per region (warning);
- completeness: accepted expected submitters / expected. Severity policy:
  when the obligation keeps the default threshold 1.0, any gap is a
  WARNING, because a missing county is a fact for reviewers (reminders,
  revocation under 第十七条(三)) and the aggregation is what lists it.
  When the obligation sets a threshold below 1, falling below it is
  CRITICAL (the programme declared the aggregate meaningless then); gaps
  above it are warnings. Accepted submitters outside the expected list
  are warnings.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from review_calendar.gate.checks import (
    DATASET_CHECKS,
    check_completeness,
    check_plan_totals,
    check_regions,
    check_submissions,
)
from review_calendar.gate.errors import GateCheck, GateFinding, GateResult
from review_calendar.gate.frames import instance_frame, type_findings
from review_calendar.gate.suites import gated_datasets, load_provincial_suites, suite_findings
from review_calendar.intake.datasets import get_dataset

if TYPE_CHECKING:
    from pathlib import Path

    import pandas as pd
    from sqlalchemy.orm import Session

    from review_calendar.domain.programmes import Obligation, ObligationInstance, Programme
    from review_calendar.intake.expectations import SuiteRunner

__all__ = ["PROVINCIAL_GATE", "gate_report_path", "run_gate"]

log = logging.getLogger(__name__)

#: Name of the provincial gate in ``gate_runs.gate``.
PROVINCIAL_GATE = "provincial"


@dataclass
class _Run:
    """What a gate run has found so far."""

    findings: list[GateFinding] = field(default_factory=list)
    checks: list[GateCheck] = field(default_factory=list)
    frames: dict[str, pd.DataFrame] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)

    def add(self, findings: list[GateFinding], checks: GateCheck | list[GateCheck]) -> None:
        self.findings.extend(findings)
        self.checks.extend(checks if isinstance(checks, list) else [checks])


def gate_report_path(reports_dir: Path, instance: ObligationInstance, run_id: str) -> Path:
    """Where the reviewers' page of a gate run belongs.

    Args:
        reports_dir: Root of the reports (``Settings.reports_dir``).
        instance: The gated obligation instance.
        run_id: The Airflow run id (unsafe characters replaced, a hash added when any were).

    Returns:
        ``reports_dir/<programme>/<year>/gates/<obligation>_<period>_<safe run id>.html``.
    """
    return (
        reports_dir
        / instance.programme_id
        / str(instance.cycle_year)
        / "gates"
        / f"{instance.obligation_id}_{instance.period}_{_safe_run_id(run_id)}.html"
    )


def _safe_run_id(run_id: str) -> str:
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", run_id).strip("._")[:80] or "run"
    if safe != run_id:
        safe += "-" + hashlib.sha1(run_id.encode("utf-8")).hexdigest()[:8]
    return safe


def run_gate(
    session: Session,
    programme: Programme,
    instance: ObligationInstance,
    *,
    run_id: str,
    expectations_dir: Path,
    reports_dir: Path,
    known_region_codes: set[str],
) -> GateResult:
    """Run the provincial gate on the assembled dataset of one obligation instance.

    The checks and their severities are listed in the module docstring.
    Stores one ``GateRun`` row (upserted on programme, year, obligation,
    period, gate and ``run_id``: a retried task does not duplicate it); flushes
    but does not commit ``session``. The HTML page is not written here: the
    caller renders it at ``html_path`` (``report.gate_page.write_gate_page``).

    Args:
        session: Open session on the review database (caller commits).
        programme: The programme.
        instance: The obligation instance to gate.
        run_id: The Airflow run id (names the GateRun row and the HTML page).
        expectations_dir: Folder of the suites.
        reports_dir: Root of the reports (``Settings.reports_dir``).
        known_region_codes: Region codes that exist.

    Returns:
        The gate result; call :meth:`GateResult.raise_if_failed` to stop on
        critical findings.

    Raises:
        ValueError: The obligation has no dataset.
        SuiteError: A provincial suite file is missing or invalid.
    """
    obligation = programme.obligation(instance.obligation_id)
    if not obligation.dataset:
        raise ValueError(f"{instance.key}: obligation {obligation.id!r} has no dataset to gate")
    dataset_ids = gated_datasets(obligation.dataset)
    suites = load_provincial_suites(dataset_ids, expectations_dir)
    run = _Run()
    _run_suites(run, session, instance, suites, known_region_codes)
    by_region = _run_dataset_checks(run, session, instance, obligation.dataset)
    names = _region_names(session, {f.region_code for f in run.findings if f.region_code} | set(by_region))
    found, done, completeness = check_completeness(
        session, programme, instance, obligation, set(by_region), names
    )
    run.add(found, done)
    result = _result(
        run,
        instance,
        obligation,
        dataset_ids,
        completeness,
        names,
        gate_report_path(reports_dir, instance, run_id),
    )
    _record(session, instance, run_id, result)
    log.info(
        "gate: %s run %s: %s, %d critical, %d warning(s), rows %s",
        instance.key,
        run_id,
        "passed" if result.success else "FAILED",
        len(result.critical),
        len(result.warnings),
        run.rows,
    )
    return result


def _run_suites(
    run: _Run,
    session: Session,
    instance: ObligationInstance,
    suites: dict[str, dict[str, Any]],
    known_region_codes: set[str],
) -> None:
    """Type each gated dataset's stored rows, run its provincial suite, and check its region codes.

    One GX context serves every dataset of the run; it is created only when a
    dataset has rows.
    """
    from review_calendar.intake.expectations import SuiteRunner

    runner: SuiteRunner | None = None
    for dataset_id, suite in suites.items():
        spec = get_dataset(dataset_id)
        frame, problems = instance_frame(session, instance, dataset_id)
        run.frames[dataset_id], run.rows[dataset_id] = frame, len(frame)
        run.findings.extend(type_findings(dataset_id, frame, problems))
        if frame.empty:
            continue
        runner = runner or SuiteRunner()
        reported = {(pos, key) for pos, key, _ in problems}
        run.add(*suite_findings(spec, frame, runner.run(suite, frame), reported))
        run.add(*check_regions(dataset_id, frame, known_region_codes))


def _run_dataset_checks(
    run: _Run, session: Session, instance: ObligationInstance, dataset_id: str
) -> dict[str, list[int]]:
    """One accepted submission per region, plan totals, and the obligation dataset's own check.

    Returns:
        The ids of each region's accepted submissions.
    """
    found, check, by_region = check_submissions(session, instance, dataset_id)
    run.add(found, check)
    if dataset_id == "development_plan":
        run.add(*check_plan_totals(run.frames["development_plan"], run.frames["plan_projects"]))
    if dataset_id in DATASET_CHECKS and not run.frames[dataset_id].empty:
        run.add(*DATASET_CHECKS[dataset_id](run.frames[dataset_id]))
    return by_region


def _region_names(session: Session, codes: set[str]) -> dict[str, str]:
    """Names of the regions ``codes`` that exist in the ``regions`` table."""
    from sqlalchemy import select

    from review_calendar.store.tables.registry import Region

    return {r.code: r.name for r in session.scalars(select(Region).where(Region.code.in_(sorted(codes))))}


def _result(
    run: _Run,
    instance: ObligationInstance,
    obligation: Obligation,
    dataset_ids: tuple[str, ...],
    completeness: dict[str, Any],
    names: dict[str, str],
    path: Path,
) -> GateResult:
    """Sort the findings (dataset, region, row, field, code), split them by severity, and summarise."""
    order = {d: n for n, d in enumerate(dataset_ids)}
    run.findings.sort(
        key=lambda f: (order.get(f.dataset, 99), f.region_code or "", f.row or 0, f.field or "", f.code)
    )
    critical = [f for f in run.findings if f.severity == "critical"]
    warnings = [f for f in run.findings if f.severity == "warning"]
    summary: dict[str, Any] = {
        "gate": PROVINCIAL_GATE,
        "instance": instance.key,
        "dataset": obligation.dataset,
        "rows": run.rows,
        "success": not critical,
        "critical": len(critical),
        "warnings": len(warnings),
        "codes": dict(sorted(Counter(f.code for f in run.findings).items())),
        "checks": [c.to_dict() for c in run.checks],
        "completeness": completeness,
        "html_path": str(path),
    }
    return GateResult(not critical, critical, warnings, summary, str(path), names)


def _record(session: Session, instance: ObligationInstance, run_id: str, result: GateResult) -> None:
    """Upsert the ``GateRun`` row of this run (one per instance, gate and run id) and flush."""
    from review_calendar.store.db import upsert
    from review_calendar.store.tables.review import GateRun

    upsert(
        session,
        GateRun,
        [
            {
                "programme_id": instance.programme_id,
                "cycle_year": instance.cycle_year,
                "obligation_id": instance.obligation_id,
                "period": instance.period,
                "gate": PROVINCIAL_GATE,
                "run_id": run_id,
                "success": result.success,
                "critical_failures": len(result.critical),
                "warnings": len(result.warnings),
                "summary": result.summary,
                "html_path": result.html_path,
            }
        ],
        ["programme_id", "cycle_year", "obligation_id", "period", "gate", "run_id"],
    )
    session.flush()
