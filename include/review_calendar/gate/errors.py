"""What the provincial gate reports: stable GATE_* codes, findings, checks, the result and its failure.

Row checks at intake (the dataset spec's, no Great Expectations) use the intake
codes of ``review_calendar.intake.issues``; the provincial gate has its own
codes, kept stable because the database and the reports store them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from review_calendar.domain.labels import GATE_FINDINGS
from review_calendar.domain.privacy import mask_text
from review_calendar.intake.datasets import DATASETS
from review_calendar.intake.expectations import header_of

if TYPE_CHECKING:
    from review_calendar.intake.expectations import Severity

__all__ = [
    "GATE_CODES",
    "GateCheck",
    "GateFailed",
    "GateFinding",
    "GateResult",
    "describe_finding",
]

GATE_VALUE_MISSING = "GATE_VALUE_MISSING"
GATE_FORMAT_INVALID = "GATE_FORMAT_INVALID"
GATE_CHOICE_INVALID = "GATE_CHOICE_INVALID"
GATE_TYPE_INVALID = "GATE_TYPE_INVALID"
GATE_VALUE_OUT_OF_RANGE = "GATE_VALUE_OUT_OF_RANGE"
GATE_SHARE_OUT_OF_RANGE = "GATE_SHARE_OUT_OF_RANGE"
GATE_VALUE_IMPLAUSIBLE = "GATE_VALUE_IMPLAUSIBLE"
GATE_VALUE_INCONSISTENT = "GATE_VALUE_INCONSISTENT"
GATE_DUPLICATE_ROW = "GATE_DUPLICATE_ROW"
GATE_DUPLICATE_SUBMISSION = "GATE_DUPLICATE_SUBMISSION"
GATE_REGION_UNKNOWN = "GATE_REGION_UNKNOWN"
GATE_UNEXPECTED_SUBMITTER = "GATE_UNEXPECTED_SUBMITTER"
GATE_TOTAL_MISMATCH = "GATE_TOTAL_MISMATCH"
GATE_PROJECTS_MISSING = "GATE_PROJECTS_MISSING"
GATE_PROJECT_OUTSIDE_PERIOD = "GATE_PROJECT_OUTSIDE_PERIOD"
GATE_CLAIM_EXCEEDS_INVESTMENT = "GATE_CLAIM_EXCEEDS_INVESTMENT"
GATE_ROLE_MISSING = "GATE_ROLE_MISSING"
GATE_NOT_APPROVED = "GATE_NOT_APPROVED"
GATE_BELOW_REQUIREMENT = "GATE_BELOW_REQUIREMENT"
GATE_VIOLATION_REPORTED = "GATE_VIOLATION_REPORTED"
GATE_INCOMPLETE = "GATE_INCOMPLETE"
GATE_CHECK_ERROR = "GATE_CHECK_ERROR"

#: One line per gate code, in Chinese, for reports and README tables (the one vocabulary's).
GATE_CODES: dict[str, str] = GATE_FINDINGS


@dataclass(frozen=True, slots=True)
class GateFinding:
    """One problem the provincial gate found.

    Attributes:
        dataset: Dataset id.
        region_code: Region of the row (None for a finding about the whole instance).
        row: Spreadsheet row in the region's submitted file, if any.
        field: Column key, if one column is at fault.
        code: Stable gate code (:data:`GATE_CODES`).
        message_zh: What is wrong, in Chinese; contact data masked.
        severity: ``critical`` stops the aggregation, ``warning`` does not.
    """

    dataset: str
    region_code: str | None
    row: int | None
    field: str | None
    code: str
    message_zh: str
    severity: Severity

    def to_dict(self) -> dict[str, object]:
        """The finding as a JSON-ready dict."""
        return {
            "dataset": self.dataset,
            "region_code": self.region_code,
            "row": self.row,
            "field": self.field,
            "code": self.code,
            "message_zh": self.message_zh,
            "severity": self.severity,
        }


@dataclass
class GateCheck:
    """One check of the gate and how many rows or regions failed it, for the summary and the page.

    Attributes:
        dataset: Dataset id the check is about.
        name: What is checked, in Chinese (``“已完成投资(万元)”不为空``).
        severity: Severity of a failure.
        code: Gate code of its findings.
        failures: Failing rows or regions.
        error: The check could not run.
    """

    dataset: str
    name: str
    severity: Severity
    code: str
    failures: int = 0
    error: bool = False

    def to_dict(self) -> dict[str, object]:
        """The check as a JSON-ready dict (``success`` when nothing failed and it ran)."""
        return {
            "dataset": self.dataset,
            "check": self.name,
            "severity": self.severity,
            "code": self.code,
            "success": self.failures == 0 and not self.error,
            "failures": self.failures,
        }


@dataclass(frozen=True)
class GateResult:
    """The verdict of one provincial gate run.

    Attributes:
        success: No critical finding: the aggregation may run.
        critical: Findings that stop the aggregation.
        warnings: Findings reported for reviewers.
        summary: Small JSON-ready dict (counts, per-check outcome): safe for XCom.
        html_path: Where the reviewers' HTML page of this run belongs.
        region_names: Names of the regions the findings and submissions name, by code.
    """

    success: bool
    critical: list[GateFinding]
    warnings: list[GateFinding]
    summary: dict[str, Any]
    html_path: str
    region_names: dict[str, str] = field(default_factory=dict)

    @property
    def findings(self) -> list[GateFinding]:
        """Critical findings first, then warnings."""
        return self.critical + self.warnings

    def raise_if_failed(self) -> None:
        """Raise :class:`GateFailed` when a critical finding stops the aggregation.

        Raises:
            GateFailed: ``success`` is false.
        """
        if not self.success:
            raise GateFailed.from_result(self)


class GateFailed(Exception):
    """The provincial gate found critical problems; the aggregation must not run.

    The message is Chinese and names dataset, region, row and field of the
    first critical findings and the HTML page with all of them; it never
    contains phone numbers or e-mail addresses (task logs keep it).

    Attributes:
        result: The gate result (None after unpickling).
    """

    def __init__(self, message: str, result: GateResult | None = None) -> None:
        super().__init__(message)
        self.result = result

    def __reduce__(self) -> tuple[Any, ...]:
        return (self.__class__, (str(self),))

    @classmethod
    def from_result(cls, result: GateResult, *, shown: int = 3) -> GateFailed:
        """The failure of ``result`` with its first ``shown`` critical findings spelled out.

        Args:
            result: A failed gate result.
            shown: How many critical findings the message names.

        Returns:
            The exception, holding ``result``; contact data in the findings is masked.
        """
        parts = [describe_finding(f) for f in result.critical[:shown]]
        more = "；…" if len(result.critical) > shown else ""
        findings = mask_text(f"{'；'.join(parts)}{more}")
        message = (
            f"数据质量闸门未通过：{findings}；共{len(result.critical)}项严重问题，详见 {result.html_path}"
        )
        return cls(message, result)


def describe_finding(finding: GateFinding) -> str:
    """A finding in one line: ``进展情况 地区130683 第5行 “已完成投资(万元)”：…`` (the parts that are known).

    Args:
        finding: The finding.

    Returns:
        Dataset title, region, row and column header, then the message.
    """
    spec = DATASETS.get(finding.dataset)
    parts = [spec.title if spec else finding.dataset]
    if finding.region_code:
        parts.append(f"地区{finding.region_code}")
    if finding.row is not None:
        parts.append(f"第{finding.row}行")
    if finding.field:
        parts.append(f"“{header_of(spec, finding.field) if spec else finding.field}”")
    return f"{' '.join(parts)}：{finding.message_zh}"
