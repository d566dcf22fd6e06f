"""The reviewers' HTML page of a provincial gate run (Jinja template ``gate.html.j2``, autoescaped).

The page states the verdict, the run by the cycle year and period it served (the
Airflow run id only as a small note for operators), the gated datasets and
completeness, every check with its outcome, and the findings (at most
:data:`FINDINGS_LIMIT`; the rest stay in ``gate_runs``) by their kind in Chinese,
with a legend of what each kind means. Every value comes from submissions or
programme files and is escaped by the template; contact data in the findings is
already masked.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from review_calendar.domain.calendar import TZ
from review_calendar.domain.labels import (
    GATE_FINDING_HINTS,
    GATE_FINDINGS,
    OUTCOMES,
    RUN_KINDS,
    SEVERITIES,
    label,
    period_label,
)
from review_calendar.intake.datasets import DATASETS
from review_calendar.intake.expectations import header_of
from review_calendar.report.pages import page_environment

if TYPE_CHECKING:
    from collections.abc import Mapping

    from review_calendar.domain.programmes import ObligationInstance, Programme
    from review_calendar.gate.errors import GateFinding, GateResult

__all__ = ["FINDINGS_LIMIT", "render_gate_page", "run_words", "write_gate_page"]

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
    codes = sorted({f.code for f in shown}, key=_code_order)
    context = {
        "programme": programme,
        "instance": instance,
        "run_id": run_id,
        "run_words": run_words(instance, run_id),
        "critical": summary["critical"],
        "warnings": summary["warnings"],
        "period": period_label(instance.period),
        "datasets": "、".join(f"{_title(d)}（{n}行）" for d, n in summary["rows"].items()),
        "completeness": _completeness(summary["completeness"]),
        "checks": [_check_row(c) for c in summary["checks"]],
        "findings": [_finding_row(f, result.region_names) for f in shown],
        "hidden": len(findings) - len(shown),
        "kinds": [
            {"label": label(GATE_FINDINGS, c), "hint": GATE_FINDING_HINTS.get(c, ""), "code": c}
            for c in codes
        ],
    }
    return page_environment().get_template("gate.html.j2").render(**context)


def run_words(instance: ObligationInstance, run_id: str) -> str:
    """The run as reviewers read it: ``2025年度 上半年 · 2026-07-16 08:00（北京时间）按计划运行``.

    The cycle year and period are the gated instance's; the moment and how the run
    started come from the Airflow run id (``scheduled__2025_H1__<run_after>``,
    ``manual__<moment>``...), and are left out when the id does not carry them.

    Args:
        instance: The gated obligation instance.
        run_id: The Airflow run id.
    """
    cycle = " ".join(p for p in (f"{instance.cycle_year}年度", period_label(instance.period)) if p)
    kind, _, rest = run_id.partition("__")
    started = RUN_KINDS.get(kind, "") if rest else ""
    moment = _run_moment(rest.rpartition("__")[2]) if rest else None
    when = f"{moment:%Y-%m-%d %H:%M}（北京时间）" if moment else ""
    return f"{cycle} · {when}{started or '运行'}" if when or started else cycle


def _run_moment(text: str) -> dt.datetime | None:
    """The aware moment at the end of a run id, in Beijing time; None when it is no ISO moment with an offset."""
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.astimezone(TZ) if moment.tzinfo is not None else None


def _code_order(code: str) -> tuple[int, str]:
    """Finding kinds in the vocabulary's order (unknown codes last)."""
    order = list(GATE_FINDINGS)
    return (order.index(code) if code in order else len(order), code)


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
    """One row of the finding table: severity, dataset, region, row, column header, message, kind."""
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
        "kind": label(GATE_FINDINGS, finding.code),
    }
