"""The gate's structural checks: what needs more than one row or more than one table.

Region codes that exist, one accepted submission per region, plan totals that
reconcile with their projects, completed investment and subsidy claims that are
plausible, both contact roles per region, and completeness against the expected
submitters. Each check returns its findings and a :class:`GateCheck` for the
summary.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from review_calendar.gate.errors import (
    GATE_CLAIM_EXCEEDS_INVESTMENT,
    GATE_DUPLICATE_SUBMISSION,
    GATE_INCOMPLETE,
    GATE_PROJECT_OUTSIDE_PERIOD,
    GATE_PROJECTS_MISSING,
    GATE_REGION_UNKNOWN,
    GATE_ROLE_MISSING,
    GATE_TOTAL_MISMATCH,
    GATE_UNEXPECTED_SUBMITTER,
    GATE_VALUE_IMPLAUSIBLE,
    GateCheck,
    GateFinding,
)
from review_calendar.gate.frames import region_and_row
from review_calendar.intake.datasets import get_dataset
from review_calendar.intake.expectations import as_int, is_blank, show_value

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    import pandas as pd
    from sqlalchemy.orm import Session

    from review_calendar.domain.programmes import Obligation, ObligationInstance, Programme
    from review_calendar.intake.expectations import Severity
    from review_calendar.store.queries import Submitter

__all__ = [
    "COMPLETION_FACTOR",
    "DATASET_CHECKS",
    "TOTAL_TOLERANCE",
    "check_claims",
    "check_completeness",
    "check_completion",
    "check_contact_roles",
    "check_plan_totals",
    "check_regions",
    "check_submissions",
    "completeness_severity",
]

#: Relative tolerance when project investments are reconciled with a plan's total.
TOTAL_TOLERANCE = 0.01
#: Completed investment above this multiple of the planned one is a warning.
COMPLETION_FACTOR = 3.0
#: Regions named one by one in the completeness finding; the summary lists more.
_LISTED_MISSING = 20
_SUMMARY_MISSING = 50


def check_regions(
    dataset_id: str, frame: pd.DataFrame, known: set[str]
) -> tuple[list[GateFinding], GateCheck]:
    """Region codes that do not exist (GB/T 2260 as loaded into ``regions``).

    Args:
        dataset_id: The dataset of ``frame``.
        frame: A typed frame of the instance's rows.
        known: Region codes that exist.

    Returns:
        A critical ``GATE_REGION_UNKNOWN`` finding per row with an unknown code, and the check.
    """
    findings = []
    for pos, code in enumerate(frame["region_code"].tolist()):
        if is_blank(code) or str(code) in known:
            continue
        _, row = region_and_row(frame, pos)
        findings.append(
            GateFinding(
                dataset_id,
                str(code),
                row,
                "region_code",
                GATE_REGION_UNKNOWN,
                f"行政区划代码“{show_value(code)}”不在本省行政区划表中，请核对（如区划调整，请更新区划表）。",
                "critical",
            )
        )
    check = GateCheck(dataset_id, "行政区划代码存在", "critical", GATE_REGION_UNKNOWN, failures=len(findings))
    return findings, check


def check_plan_totals(
    plans: pd.DataFrame, projects: pd.DataFrame
) -> tuple[list[GateFinding], list[GateCheck]]:
    """Project investments per region equal the plans' declared total.

    冀工信产业〔2016〕93号 二、三: the implementation plan lists each project's investment by
    year, and the plan declares the total.

    Args:
        plans: Typed ``development_plan`` rows.
        projects: Typed ``plan_projects`` rows.

    Returns:
        Findings and three checks: totals within :data:`TOTAL_TOLERANCE`
        (critical), a project list for every plan (warning), project years
        inside the plan period (warning).
    """
    mismatch = GateCheck(
        "development_plan",
        "项目计划投资之和与规划计划总投资一致（误差1%以内）",
        "critical",
        GATE_TOTAL_MISMATCH,
    )
    missing = GateCheck("development_plan", "每个规划都有实施方案项目清单", "warning", GATE_PROJECTS_MISSING)
    outside = GateCheck("plan_projects", "项目投资年度在规划期内", "warning", GATE_PROJECT_OUTSIDE_PERIOD)
    if plans.empty:
        return [], [mismatch, missing, outside]
    findings = _plan_total_findings(plans, projects, mismatch, missing)
    if not projects.empty:
        findings.extend(_outside_period_findings(plans, projects, outside))
    return findings, [mismatch, missing, outside]


def _plan_total_findings(
    plans: pd.DataFrame, projects: pd.DataFrame, mismatch: GateCheck, missing: GateCheck
) -> list[GateFinding]:
    """Per region: no project list (warning), or projects that do not add up to the total (critical)."""
    project_sums = (
        projects.groupby("region_code")["investment"].sum(min_count=1) if not projects.empty else None
    )
    declared = plans.groupby("region_code")["total_investment"].sum(min_count=1)
    first_rows = plans.groupby("region_code")["row_no"].min()
    findings: list[GateFinding] = []
    for region, total in declared.items():
        row = as_int(first_rows.get(region))
        summed = None if project_sums is None else project_sums.get(region)
        if summed is None or is_blank(summed):
            findings.append(
                GateFinding(
                    "development_plan",
                    str(region),
                    row,
                    "total_investment",
                    GATE_PROJECTS_MISSING,
                    "未报送实施方案项目清单，无法核对计划总投资。",
                    "warning",
                )
            )
            missing.failures += 1
            continue
        if is_blank(total):
            continue
        if abs(float(summed) - float(total)) > TOTAL_TOLERANCE * max(abs(float(total)), 1e-9):
            findings.append(
                GateFinding(
                    "development_plan",
                    str(region),
                    row,
                    "total_investment",
                    GATE_TOTAL_MISMATCH,
                    f"计划总投资为{show_value(total)}万元，但项目清单各项目计划投资之和为{show_value(summed)}万元，"
                    f"相差超过1%，请核对。",
                    "critical",
                )
            )
            mismatch.failures += 1
    return findings


def _outside_period_findings(
    plans: pd.DataFrame, projects: pd.DataFrame, outside: GateCheck
) -> list[GateFinding]:
    """Projects whose investment year is outside their region's plan period (warnings)."""
    periods = plans.groupby("region_code").agg(start=("period_start", "min"), end=("period_end", "max"))
    findings = []
    for pos, (region, year) in enumerate(zip(projects["region_code"], projects["year"], strict=True)):
        if region not in periods.index or is_blank(year):
            continue
        start, end = periods.at[region, "start"], periods.at[region, "end"]
        if is_blank(start) or is_blank(end) or start <= year <= end:
            continue
        _, row = region_and_row(projects, pos)
        findings.append(
            GateFinding(
                "plan_projects",
                str(region),
                row,
                "year",
                GATE_PROJECT_OUTSIDE_PERIOD,
                f"投资年度{show_value(year)}不在规划期{show_value(start)}—{show_value(end)}年内。",
                "warning",
            )
        )
        outside.failures += 1
    return findings


def check_completion(frame: pd.DataFrame) -> tuple[list[GateFinding], GateCheck]:
    """Completed investment far above the plan: usually a unit typed wrong (元 for 万元).

    Args:
        frame: Typed ``progress_report`` rows.

    Returns:
        A warning per row whose completed investment exceeds
        :data:`COMPLETION_FACTOR` × the planned one, and the check.
    """
    check = GateCheck(
        "progress_report",
        f"已完成投资不超过年度计划投资的{COMPLETION_FACTOR:g}倍",
        "warning",
        GATE_VALUE_IMPLAUSIBLE,
    )
    findings = []
    planned, completed = frame["planned_investment"], frame["completed_investment"]
    suspicious = (
        completed.notna() & planned.notna() & (completed > COMPLETION_FACTOR * planned) & (completed > 0)
    )
    for pos in suspicious[suspicious].index:
        region, row = region_and_row(frame, int(pos))
        findings.append(
            GateFinding(
                "progress_report",
                region,
                row,
                "completed_investment",
                GATE_VALUE_IMPLAUSIBLE,
                f"已完成投资{show_value(completed[pos])}万元超过年度计划投资{show_value(planned[pos])}万元的"
                f"{COMPLETION_FACTOR:g}倍，请核实单位和数值。",
                "warning",
            )
        )
    check.failures = len(findings)
    return findings, check


def check_claims(frame: pd.DataFrame) -> tuple[list[GateFinding], GateCheck]:
    """A subsidy claim above the equipment and software investment it is a share of (《廊坊市产业集群数字化智能化转型工作的推进方案（试行）》 （四））.

    Args:
        frame: Typed ``subsidy_claims`` rows.

    Returns:
        A critical finding per claim above ``equipment_wan + software_wan``, and the check.
    """
    check = GateCheck(
        "subsidy_claims", "申请奖补金额不超过设备和软件投资之和", "critical", GATE_CLAIM_EXCEEDS_INVESTMENT
    )
    findings = []
    invested = frame["equipment_wan"].fillna(0) + frame["software_wan"].fillna(0)
    claimed = frame["claimed_wan"]
    over = claimed.notna() & (claimed > invested)
    for pos in over[over].index:
        region, row = region_and_row(frame, int(pos))
        findings.append(
            GateFinding(
                "subsidy_claims",
                region,
                row,
                "claimed_wan",
                GATE_CLAIM_EXCEEDS_INVESTMENT,
                f"申请奖补金额{show_value(claimed[pos])}万元超过设备和软件投资之和{show_value(invested[pos])}万元。",
                "critical",
            )
        )
    check.failures = len(findings)
    return findings, check


def check_contact_roles(frame: pd.DataFrame) -> tuple[list[GateFinding], GateCheck]:
    """Every city and pilot county names both roles (冀工信产业〔2016〕93号 七).

    Args:
        frame: Typed ``contact_list`` rows.

    Returns:
        A warning per region and missing role, and the check.
    """
    roles = get_dataset("contact_list").column("role").choices
    check = GateCheck(
        "contact_list", "每个地区都填报了主管领导和责任处室负责同志", "warning", GATE_ROLE_MISSING
    )
    findings = []
    present = (
        frame.dropna(subset=["region_code"]).groupby("region_code")["role"].agg(lambda s: set(s.dropna()))
    )
    for region, have in present.items():
        for role in roles:
            if role not in have:
                findings.append(
                    GateFinding(
                        "contact_list",
                        str(region),
                        None,
                        "role",
                        GATE_ROLE_MISSING,
                        f"缺少“{role}”一行。",
                        "warning",
                    )
                )
    check.failures = len(findings)
    return findings, check


#: Checks that apply to one dataset's rows, by dataset id.
DATASET_CHECKS: dict[str, Callable[[pd.DataFrame], tuple[list[GateFinding], GateCheck]]] = {
    "progress_report": check_completion,
    "subsidy_claims": check_claims,
    "contact_list": check_contact_roles,
}


def check_submissions(
    session: Session, instance: ObligationInstance, dataset_id: str
) -> tuple[list[GateFinding], GateCheck, dict[str, list[int]]]:
    """At most one accepted submission per region and instance (a resubmission supersedes).

    Args:
        session: Open session on the review database.
        instance: The obligation instance.
        dataset_id: The obligation's dataset (findings are filed under it).

    Returns:
        ``(findings, check, accepted)``: a critical finding per region with more
        than one accepted submission; ``accepted`` maps each region to the ids of
        its accepted submissions.
    """
    from sqlalchemy import select

    from review_calendar.store.queries import instance_filter
    from review_calendar.store.tables.intake import Submission

    check = GateCheck(dataset_id, "每个地区只有一份有效报送", "critical", GATE_DUPLICATE_SUBMISSION)
    stmt = (
        select(Submission.region_code, Submission.id)
        .where(*instance_filter(Submission, instance), Submission.status == "accepted")
        .order_by(Submission.region_code, Submission.id)
    )
    by_region: dict[str, list[int]] = {}
    for region, sub_id in session.execute(stmt):
        if region:
            by_region.setdefault(region, []).append(sub_id)
    findings = [
        GateFinding(
            dataset_id,
            region,
            None,
            None,
            GATE_DUPLICATE_SUBMISSION,
            f"该地区有{len(ids)}份有效报送（编号{'、'.join(str(i) for i in ids)}），"
            "应只保留最新一份，其余标记为已被替代。",
            "critical",
        )
        for region, ids in by_region.items()
        if len(ids) > 1
    ]
    check.failures = len(findings)
    return findings, check, by_region


def completeness_severity(obligation: Obligation) -> Severity:
    """Below the threshold is critical only when the obligation sets a threshold below 1.

    With the default threshold 1.0 every missing submitter would block the
    province: but a missing county is a fact reviewers act on (reminders,
    第十七条(三) for an info table not submitted on time), and the aggregation
    is what lists it, so it must run. A programme that configures a lower
    threshold declares that below it the aggregate is not meaningful.

    Args:
        obligation: The obligation (its ``completeness_threshold``).
    """
    return "critical" if obligation.completeness_threshold < 1.0 else "warning"


def check_completeness(
    session: Session,
    programme: Programme,
    instance: ObligationInstance,
    obligation: Obligation,
    accepted_regions: set[str],
    names: Mapping[str, str],
) -> tuple[list[GateFinding], list[GateCheck], dict[str, Any]]:
    """Accepted expected submitters against the obligation's completeness threshold.

    Args:
        session: Open session on the review database.
        programme: The programme.
        instance: The obligation instance.
        obligation: Its obligation (dataset, threshold).
        accepted_regions: Regions with an accepted submission.
        names: Region names by code, for the unexpected-submitter finding.

    Returns:
        ``(findings, checks, summary)``: one ``GATE_INCOMPLETE`` finding listing
        the missing submitters (critical only below a configured threshold, see
        :func:`completeness_severity`), a warning per accepted region outside the
        expected list, the two checks, and a JSON-ready summary (expected,
        accepted, ratio, threshold, severity, missing).
    """
    from review_calendar.store.queries import expected_submitters

    dataset = obligation.dataset or ""
    threshold = obligation.completeness_threshold
    severity = completeness_severity(obligation)
    expected = expected_submitters(session, programme, instance)
    done = [s for s in expected if s.region_code in accepted_regions]
    missing = [s for s in expected if s.region_code not in accepted_regions]
    ratio = len(done) / len(expected) if expected else 1.0
    check = GateCheck(dataset, f"应报送单位报送率不低于{threshold:.0%}", severity, GATE_INCOMPLETE)
    findings: list[GateFinding] = []
    if missing:
        findings.append(_incomplete_finding(dataset, len(done), len(expected), missing, threshold, severity))
        check.failures = len(missing)
    unexpected_findings, unexpected = _unexpected_submitters(dataset, expected, accepted_regions, names)
    findings.extend(unexpected_findings)
    summary = {
        "expected": len(expected),
        "accepted": len(done),
        "ratio": round(ratio, 4),
        "threshold": threshold,
        "severity": severity,
        "missing": [s.region_code for s in missing[:_SUMMARY_MISSING]],
    }
    return findings, [check, unexpected], summary


def _incomplete_finding(
    dataset: str, done: int, expected: int, missing: Sequence[Submitter], threshold: float, severity: Severity
) -> GateFinding:
    """The one finding that lists the expected submitters without an accepted submission."""
    ratio = done / expected if expected else 1.0
    listed = "、".join(
        f"{s.region_code} {s.region_name}{'（' + s.cluster_name + '）' if s.cluster_name else ''}"
        for s in missing[:_LISTED_MISSING]
    )
    more = f"等{len(missing)}个" if len(missing) > _LISTED_MISSING else f"共{len(missing)}个"
    below = ratio < threshold
    return GateFinding(
        dataset,
        None,
        None,
        None,
        GATE_INCOMPLETE,
        f"已接收{done}/{expected}个应报送单位的有效报送（{ratio:.0%}）"
        f"{'，低于' if below else '，完整性要求为'}{threshold:.0%}；未报送：{listed}{more}。",
        "critical" if below and severity == "critical" else "warning",
    )


def _unexpected_submitters(
    dataset: str, expected: Sequence[Submitter], accepted_regions: set[str], names: Mapping[str, str]
) -> tuple[list[GateFinding], GateCheck]:
    """A warning per accepted region that is not on the expected list (not selected, or expired)."""
    check = GateCheck(dataset, "报送单位在应报送名单内", "warning", GATE_UNEXPECTED_SUBMITTER)
    expected_regions = {s.region_code for s in expected}
    findings = []
    if expected_regions:
        for region in sorted(accepted_regions - expected_regions):
            findings.append(
                GateFinding(
                    dataset,
                    region,
                    None,
                    None,
                    GATE_UNEXPECTED_SUBMITTER,
                    f"{names.get(region, '')}不在本期应报送名单内（未入选或已期满），请核实是否纳入汇总。".lstrip(),
                    "warning",
                )
            )
            check.failures += 1
    return findings, check
