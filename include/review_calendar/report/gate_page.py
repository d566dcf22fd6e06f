"""The reviewers' HTML page of a provincial gate run (Jinja template ``gate.html.j2``, autoescaped).

The page states the verdict, the gated datasets and completeness, every check
with its outcome, and the findings (at most :data:`FINDINGS_LIMIT`; the rest stay
in ``gate_runs``). Every value comes from submissions or programme files and is
escaped by the template; contact data in the findings is already masked.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from review_calendar.domain.labels import OUTCOMES, SEVERITIES, label
from review_calendar.intake.datasets import DATASETS
from review_calendar.intake.expectations import header_of
from review_calendar.report.pages import page_environment

if TYPE_CHECKING:
    from collections.abc import Mapping

    from review_calendar.domain.programmes import ObligationInstance, Programme
    from review_calendar.gate.errors import GateFinding, GateResult

__all__ = ["FINDINGS_LIMIT", "render_gate_page", "write_gate_page"]

#: Findings listed on the page; further ones are counted and left to the ``gate_runs`` table.
FINDINGS_LIMIT = 2000


def write_gate_page(
    programme: Programme, instance: ObligationInstance, run_id: str, result: GateResult
) -> Path:
    """Write the page of a gate run at ``result.html_path``, atomically.

    Args:
        programme: The programme.
        instance: The gated obligation instance.
        run_id: The Airflow run id of the gate run.
        result: What ``gate.provincial.run_gate`` returned.

    Returns:
        The path of the page.

    Raises:
        OSError: The reports folder cannot be written.
    """
    path = Path(result.html_path)
    page = render_gate_page(programme, instance, run_id, result)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(page, encoding="utf-8")
    os.replace(tmp, path)
    return path


def render_gate_page(
    programme: Programme, instance: ObligationInstance, run_id: str, result: GateResult
) -> str:
    """The page of a gate run as HTML text.

    Args:
        programme: The programme.
        instance: The gated obligation instance.
        run_id: The Airflow run id of the gate run.
        result: The gate result (its summary, findings and region names).

    Returns:
        A self-contained HTML document in Chinese.
    """
    summary = result.summary
    findings = result.findings
    shown = findings[:FINDINGS_LIMIT]
    context = {
        "programme": programme,
        "instance": instance,
        "run_id": run_id,
        "critical": summary["critical"],
        "warnings": summary["warnings"],
        "period": "" if instance.period == "Y" else "，" + instance.period,
        "datasets": "、".join(f"{_title(d)}（{n}行）" for d, n in summary["rows"].items()),
        "completeness": _completeness(summary["completeness"]),
        "checks": [_check_row(c) for c in summary["checks"]],
        "findings": [_finding_row(f, result.region_names) for f in shown],
        "hidden": len(findings) - len(shown),
    }
    return page_environment().get_template("gate.html.j2").render(**context)


def _title(dataset_id: str) -> str:
    """The dataset's Chinese title (its id if it is not a known dataset)."""
    return DATASETS[dataset_id].title if dataset_id in DATASETS else dataset_id


def _completeness(completeness: Mapping[str, Any]) -> str:
    """``4/5（80%），要求100%，低于要求时为警告``."""
    return (
        f"{completeness['accepted']}/{completeness['expected']}（{completeness['ratio']:.0%}），"
        f"要求{completeness['threshold']:.0%}，低于要求时为{label(SEVERITIES, completeness['severity'])}"
    )


def _check_row(check: Mapping[str, Any]) -> dict[str, Any]:
    """One row of the check table: dataset, check, severity, result and failures."""
    severity = str(check["severity"])
    return {
        "dataset": _title(str(check["dataset"])),
        "check": str(check["check"]),
        "severity": severity,
        "severity_label": label(SEVERITIES, severity),
        "result_class": "ok" if check["success"] else severity,
        "result": label(OUTCOMES, "pass" if check["success"] else "fail"),
        "failures": check["failures"],
    }


def _finding_row(finding: GateFinding, names: Mapping[str, str]) -> dict[str, Any]:
    """One row of the finding table: severity, dataset, region, row, column header, message, code."""
    region = finding.region_code or "全省"
    if finding.region_code in names:
        region += " " + names[finding.region_code]
    spec = DATASETS.get(finding.dataset)
    return {
        "severity": finding.severity,
        "severity_label": label(SEVERITIES, finding.severity),
        "dataset": _title(finding.dataset),
        "region": region,
        "row": "" if finding.row is None else finding.row,
        "field": header_of(spec, finding.field) if spec and finding.field else (finding.field or ""),
        "message": finding.message_zh,
        "code": finding.code,
    }
