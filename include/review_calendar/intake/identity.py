"""What a file says it is: the programme, obligation, cycle year and period in its document properties.

Every template we write carries them as custom document properties
(:func:`template_properties`), which Excel, WPS and LibreOffice keep when an
official fills and saves the workbook. A file forwarded by e-mail, renamed or
dropped into the wrong folder therefore still says what it is:

- intake compares them with the folder (the obligation instance) it was
  submitted under, and a contradiction rejects the file with a message
  naming the file and both values (:func:`identity_issue`);
- a caller that has no folder (a file given on the command line alone) can
  take them from the file (:func:`file_identity`).

Only .xlsx properties are read (:func:`~review_calendar.intake.xlsx.custom_properties`):
a CSV cannot carry them, and .xls / .ods files, which templates never are,
are judged by their folder alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from review_calendar.domain.labels import PERIODS
from review_calendar.intake import issues as E
from review_calendar.intake.issues import IntakeIssue, issue
from review_calendar.intake.magic import content_kind
from review_calendar.intake.xlsx import custom_properties

if TYPE_CHECKING:
    from collections.abc import Mapping

    from review_calendar.domain.programmes import ObligationInstance

__all__ = ["PROPERTY_NAMES", "FileIdentity", "file_identity", "identity_issue", "template_properties"]

#: The custom document property of each field (stable: files in circulation carry them).
PROPERTY_NAMES = {
    "programme": "review_calendar.programme",
    "obligation": "review_calendar.obligation",
    "cycle_year": "review_calendar.cycle_year",
    "period": "review_calendar.period",
}
_FIELD_LABELS = {
    "programme": "专项",
    "obligation": "报送事项",
    "cycle_year": "周期年度",
    "period": "报送期次",
}


@dataclass(frozen=True)
class FileIdentity:
    """What a file's properties say; None for what they do not say."""

    programme: str | None = None
    obligation: str | None = None
    cycle_year: int | None = None
    period: str | None = None

    @classmethod
    def from_properties(cls, properties: Mapping[str, str]) -> FileIdentity | None:
        """The identity in a workbook's custom properties; None when they say nothing of it."""
        values = {f: (properties.get(p) or "").strip() or None for f, p in PROPERTY_NAMES.items()}
        if not any(values.values()):
            return None
        year = values["cycle_year"]
        return cls(
            programme=values["programme"],
            obligation=values["obligation"],
            cycle_year=int(year) if year and year.isdecimal() else None,
            period=values["period"],
        )

    def differences(self, instance: ObligationInstance) -> list[tuple[str, str, str]]:
        """(field label, the file's value, the folder's value) of each field the instance contradicts."""
        folder = {
            "programme": instance.programme_id,
            "obligation": instance.obligation_id,
            "cycle_year": instance.cycle_year,
            "period": instance.period,
        }
        return [
            (_FIELD_LABELS[f], _shown(f, mine), _shown(f, folder[f]))
            for f in PROPERTY_NAMES
            if (mine := getattr(self, f)) is not None and mine != folder[f]
        ]


def _shown(field: str, value: object) -> str:
    if field == "period":
        return PERIODS.get(str(value), str(value))
    if field == "cycle_year":
        return f"{value}年度"
    return str(value)


def template_properties(instance: ObligationInstance) -> dict[str, str]:
    """The custom document properties a template of ``instance`` carries (property name → text)."""
    return {
        PROPERTY_NAMES["programme"]: instance.programme_id,
        PROPERTY_NAMES["obligation"]: instance.obligation_id,
        PROPERTY_NAMES["cycle_year"]: str(instance.cycle_year),
        PROPERTY_NAMES["period"]: instance.period,
    }


def file_identity(data: bytes | None) -> FileIdentity | None:
    """What a submitted file's bytes say it is; None for a file without our properties (or not an .xlsx)."""
    if not data or content_kind(data) != "zip":
        return None
    return FileIdentity.from_properties(custom_properties(data))


def identity_issue(
    label: str, identity: FileIdentity | None, instance: ObligationInstance
) -> IntakeIssue | None:
    """FILE_IDENTITY_MISMATCH when the file's properties contradict the folder it was submitted under.

    Args:
        label: Safe display name of the file.
        identity: What the file says (None: nothing, no issue).
        instance: The obligation instance of the folder.
    """
    differences = identity.differences(instance) if identity is not None else []
    if not differences:
        return None
    said = "；".join(
        f"{what}：文件属性为“{mine}”，报送目录为“{folder}”" for what, mine, folder in differences
    )
    message = (
        f"文件“{label}”的文档属性表明它是另一项报送的模板（{said}），与所在报送目录不符。"
        "请确认报送事项，使用本期下发的模板填写，或放入对应的报送目录。"
    )
    value = "；".join(f"{mine} ≠ {folder}" for _, mine, folder in differences)
    return issue(label, E.FILE_IDENTITY_MISMATCH, message, value=value)
