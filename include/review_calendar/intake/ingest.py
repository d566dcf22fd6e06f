"""One intake batch: read every file of an instance, say who sent it, check its rows.

Pure intake: files on disk in, :class:`ParsedFile` records out, no database.
What the files are judged against (regions, expected submitters, content
hashes already taken in) comes in an :class:`IntakeScope`; storing the files,
recording the acceptance decisions and queueing rejection notices is done by
the caller, many files to a transaction and each file atomic
(``review_calendar.tasks.intake.ingest_files``, ``review_calendar.tasks.storing``).

Each file is read from disk once (:func:`~review_calendar.intake.reader.read_file`):
its content hash decides whether it is new, and every dataset of its template
is read from the same bytes and checked against its dataset spec (columns,
bounds, row rules) as it is read: intake never needs Great Expectations, which
stays the provincial gate before aggregation (``review_calendar.gate``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from review_calendar.domain.calendar import TZ
from review_calendar.intake import inbox
from review_calendar.intake import issues as E
from review_calendar.intake.city_files import is_city_folder, split_city_file
from review_calendar.intake.datasets import template_datasets
from review_calendar.intake.filenames import name_issue, safe_file_name
from review_calendar.intake.identity import file_identity, identity_issue
from review_calendar.intake.issues import IntakeIssue, IntakeRejected, has_errors, issue
from review_calendar.intake.reader import FileContent, file_digest, read_file
from review_calendar.intake.row_rules import RowContext
from review_calendar.intake.rows import read_submission

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable, Collection, Mapping, Sequence
    from pathlib import Path

    from review_calendar.domain.programmes import ObligationInstance, Programme
    from review_calendar.domain.regions import Region
    from review_calendar.intake.spec import Dataset

__all__ = [
    "FileOutcome",
    "IngestReport",
    "IntakeScope",
    "ParsedBatch",
    "ParsedFile",
    "attribute_region",
    "parse_batch",
    "parse_file",
]

log = logging.getLogger(__name__)


@dataclass
class FileOutcome:
    """What happened to one file: ``accepted``, ``rejected``, ``duplicate``, ``vanished`` or ``failed``.

    ``vanished``: the file was gone when it was to be read (deleted, or taken in
    by another run); ``failed``: it could not be stored (full disk, read-only
    folder) and stays in the inbox for the next run. Both carry one error whose
    message names the file.
    """

    file: str
    status: str
    sha256: str = ""
    submission_id: int | None = None
    region_code: str | None = None
    is_late: bool = False
    received_on: str = ""
    received_at: str = ""
    receipt_no: str = ""
    stored_path: str = ""
    superseded: int | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The outcome's set fields, JSON-ready."""
        return {k: v for k, v in self.__dict__.items() if v not in (None, "", [])}


@dataclass
class IngestReport:
    """Outcome of one intake batch (``ingest --json`` prints :meth:`to_json`)."""

    instance_key: str
    accepted: list[FileOutcome] = field(default_factory=list)
    rejected: list[FileOutcome] = field(default_factory=list)
    duplicates: list[FileOutcome] = field(default_factory=list)
    vanished: list[FileOutcome] = field(default_factory=list)
    failed: list[FileOutcome] = field(default_factory=list)

    def add(self, outcome: FileOutcome) -> None:
        """File ``outcome`` under its status."""
        {
            "accepted": self.accepted,
            "rejected": self.rejected,
            "duplicate": self.duplicates,
            "vanished": self.vanished,
            "failed": self.failed,
        }[outcome.status].append(outcome)

    def to_json(self) -> dict[str, Any]:
        """The report as ``ingest --json`` prints it (rejected files with every error)."""
        return {
            "instance": self.instance_key,
            "accepted": [o.to_dict() for o in self.accepted],
            "rejected": [
                {"file": o.file, "stored_path": o.stored_path, "errors": o.errors} for o in self.rejected
            ],
            "duplicates": [o.to_dict() for o in self.duplicates],
            **{k: [o.to_dict() for o in v] for k, v in self._faults().items() if v},
        }

    def _faults(self) -> dict[str, list[FileOutcome]]:
        return {"vanished": self.vanished, "failed": self.failed}

    def counts(self) -> dict[str, int]:
        """Number of files accepted, rejected and already known (and vanished or not stored, when any)."""
        return {
            "accepted": len(self.accepted),
            "rejected": len(self.rejected),
            "duplicates": len(self.duplicates),
            **{k: len(v) for k, v in self._faults().items() if v},
        }


@dataclass
class ParsedFile:
    """One file read and row-checked, ready to be stored.

    Attributes:
        path: Where the file is.
        name: Safe display name (of the name the submitter gave).
        sha256: Hex digest of its bytes.
        size: Size in bytes.
        received_on: Day of receipt.
        received_at: Moment of receipt, to the second (None: the start of ``received_on``).
        records: Typed records by dataset id (empty when rejected while reading).
        sheets: Sheet read by dataset id.
        issues: Every issue found; any error rejects the file.
        region_code: The region the file speaks for, when known.
        data: The bytes judged (None for a file over the size limit, never read):
            the stored copy is written from them, not read again from the inbox.
    """

    path: Path
    name: str
    sha256: str
    size: int
    received_on: dt.date
    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    sheets: dict[str, str] = field(default_factory=dict)
    issues: list[IntakeIssue] = field(default_factory=list)
    region_code: str | None = None
    data: bytes | None = field(default=None, repr=False)
    received_at: dt.datetime | None = None

    @property
    def rejected(self) -> bool:
        """Whether an error-severity issue rejects the file."""
        return has_errors(self.issues)

    @property
    def errors(self) -> list[IntakeIssue]:
        """The error-severity issues."""
        return [i for i in self.issues if i.severity == "error"]


@dataclass(frozen=True)
class IntakeScope:
    """What the files of one instance are judged against, read from the review database.

    Attributes:
        regions: The province's regions by code.
        expected: Codes of the regions that owe the submission (empty: no restriction).
        known_files: (region code, content hash) of the instance's files in force:
            the same bytes for the same region are duplicates (for another region
            they are that region's file, judged on their own). A file rejected
            before is judged again, since it may have been rejected only for its
            name or folder; an earlier version sent again is read again, since it
            may supersede the one in force.
    """

    regions: Mapping[str, Region]
    expected: Collection[str]
    known_files: Collection[tuple[str | None, str]]


@dataclass
class ParsedBatch:
    """The files of one batch after reading.

    Attributes:
        parsed: The new files, in the order given.
        duplicates: Outcomes of files already taken in (or taken by another run meanwhile).
        recorded: Paths of the files whose content is already recorded (an
            inbox sweep removes them).
        unreadable: Rejections of paths that are not regular files or cannot
            be opened (a link, a device), and files that vanished: nothing of
            them is read or stored.
    """

    parsed: list[ParsedFile] = field(default_factory=list)
    duplicates: list[FileOutcome] = field(default_factory=list)
    recorded: list[Path] = field(default_factory=list)
    unreadable: list[FileOutcome] = field(default_factory=list)


def parse_batch(
    programme: Programme,
    instance: ObligationInstance,
    files: Sequence[Path],
    scope: IntakeScope,
    *,
    names: Sequence[str] | None = None,
    received_on: dt.date | None = None,
    progress: Callable[[int], None] | None = None,
    hints: Mapping[Path, str | None] | None = None,
    received_at: Mapping[Path, dt.datetime] | None = None,
) -> ParsedBatch:
    """Read every new file of a batch and attribute each to its submitting region.

    Args:
        programme: The programme.
        instance: The obligation instance the files are for.
        files: Paths of the files.
        scope: Regions, expected submitters and known content hashes.
        names: The names the submitters gave the files (default: the paths' names).
        received_on: Date of receipt (default: each file's receipt time, :func:`inbox.receipt_time`).
        progress: Called with the number of files done (progress bar).
        hints: The region code of each file's upload folder, by path (default:
            its parent folder's name when that is a code, :func:`inbox.region_hint`).
        received_at: The moment of receipt of each file, by path (it decides ``received_on``).

    Returns:
        The new files (read, row-checked, attributed), the duplicates and the
        paths of already recorded files. A file that vanished meanwhile
        (deleted, or taken in by another run) is ``vanished``, among ``unreadable``.
    """
    batch = ParsedBatch()
    seen = set(scope.known_files)
    submitter = programme.obligation(instance.obligation_id).submitter
    for n, path in enumerate(files, start=1):
        name = names[n - 1] if names else path.name
        hint = hints.get(path) if hints is not None else inbox.region_hint(path)
        try:
            content = _load(path)
        except FileNotFoundError:
            batch.unreadable.append(vanished(safe_file_name(name)))
        except OSError:
            # A link (never followed), a device or a file that cannot be opened.
            label = safe_file_name(name)
            log.warning("File %s is not a regular file or cannot be opened: not read", label)
            problem = issue(
                label, E.FILE_UNREADABLE, f"“{label}”不是普通文件（如符号链接）或无法打开，未读取。"
            )
            batch.unreadable.append(FileOutcome(file=label, status="rejected", errors=[problem.to_dict()]))
        else:
            # Known bytes in their region's folder are not read again; elsewhere the sheet names the region.
            if hint is not None and (hint, content.sha256) in seen:
                _duplicate(batch, path, name, content.sha256)
            else:
                parsed = parse_file(
                    path, name, programme, instance, scope.regions.keys(), received_on, content,
                    received_at=(received_at or {}).get(path),
                )  # fmt: skip
                parts = _city_parts(parsed, content, programme, instance, scope, hint)
                if parts is None:
                    if not parsed.rejected:
                        attribute_region(parsed, programme, instance, scope.regions, scope.expected)
                    _apply_region_hint(parsed, submitter, hint, scope.regions)
                    parts = [parsed]
                if all((p.region_code, p.sha256) in seen for p in parts):
                    _duplicate(batch, path, name, content.sha256)
                else:
                    seen.update((p.region_code, p.sha256) for p in parts)
                    batch.parsed.extend(parts)
        if progress:
            progress(n)
    return batch


def _duplicate(batch: ParsedBatch, path: Path, name: str, sha256: str | None) -> None:
    """A file whose bytes are already in force for its region: recorded, not stored again."""
    batch.duplicates.append(FileOutcome(file=safe_file_name(name), status="duplicate", sha256=sha256 or ""))
    batch.recorded.append(path)


def _city_parts(
    parsed: ParsedFile,
    content: FileContent,
    programme: Programme,
    instance: ObligationInstance,
    scope: IntakeScope,
    hint: str | None,
) -> list[ParsedFile] | None:
    """A city's combined file for its counties, split into one part per county (:mod:`.city_files`).

    None when the file is not one: the obligation is not owed by counties, the
    folder is not a city's, the template has several sheets, or the rows are
    no county of that city.
    """
    obligation = programme.obligation(instance.obligation_id)
    if obligation.submitter != "county" or not obligation.dataset or not is_city_folder(hint, scope.regions):
        return None
    specs = template_datasets(obligation.dataset)
    if len(specs) != 1 or content.data is None:
        return None
    assert hint is not None
    context = _row_context(programme, instance, specs[0], scope.regions.keys())
    parts = split_city_file(
        parsed, content, specs[0], context, hint, scope.regions, lambda **kw: replace(parsed, **kw)
    )
    for part in parts or ():
        code = part.region_code
        if scope.expected and code != hint and code not in scope.expected:
            name = scope.regions[code].name if code in scope.regions else code
            message = (
                f"{name}（{code}）不在本期“{instance.title}”的报送范围内，请核对行政区划代码或联系省厅。"
            )
            part.issues.append(
                issue(part.name, E.REGION_NOT_EXPECTED, message, column="行政区划代码", value=code)
            )
    return parts


def vanished(label: str) -> FileOutcome:
    """The outcome of a file gone before it was read (deleted, or taken in by another run)."""
    log.warning("File %s vanished before it was read (deleted, or taken in by another run): skipped", label)
    message = (
        f"“{label}”在读取前已从收件箱中消失（被删除，或已由另一次接收处理），未处理 / "
        f"{label}: vanished before it was read, skipped"
    )
    return FileOutcome(file=label, status="vanished", errors=[{"code": "FILE_VANISHED", "message": message}])


def _load(path: Path) -> FileContent:
    """The file's content with its hash; a file over the size limit is hashed in chunks, never held."""
    content = read_file(path)
    if content.sha256 is None:
        sha, size = file_digest(path)
        return FileContent(None, sha, size)
    return content


def parse_file(
    path: Path,
    name: str,
    programme: Programme,
    instance: ObligationInstance,
    known_codes: Collection[str],
    received_on: dt.date | None = None,
    content: FileContent | None = None,
    *,
    received_at: dt.datetime | None = None,
) -> ParsedFile:
    """Read and row-validate one file (every dataset of its template); never raises for bad input.

    Args:
        path: The file.
        name: The name the submitter gave it.
        programme: The programme (its ``validity.max_pilot_years`` bounds plan periods).
        instance: The obligation instance.
        known_codes: Region codes that exist.
        received_on: Day of receipt (default: the day of the file's receipt time, :func:`inbox.received_on`).
        content: The file's bytes with their hash, when already read.
        received_at: The moment of receipt (it decides the day; default: ``received_on``).

    Returns:
        The parsed file; its issues say why it is rejected, if it is.
    """
    content = content or _load(path)
    parsed = ParsedFile(
        path=path,
        name=safe_file_name(name),
        sha256=content.sha256 or "",
        size=content.size,
        received_on=received_at.astimezone(TZ).date()
        if received_at
        else received_on or inbox.received_on(path),
        data=content.data,
        received_at=received_at,
    )
    unsafe = name_issue(name)
    if unsafe is not None:
        parsed.issues.append(unsafe)
        return parsed
    elsewhere = identity_issue(parsed.name, file_identity(content.data), instance)
    if elsewhere is not None:
        parsed.issues.append(elsewhere)
        return parsed
    obligation = programme.obligation(instance.obligation_id)
    if not obligation.dataset:
        parsed.issues.append(
            issue(parsed.name, E.OBLIGATION_MISMATCH, f"“{obligation.title}”不接收报送文件。")
        )
        return parsed
    for spec in template_datasets(obligation.dataset):
        context = _row_context(programme, instance, spec, known_codes)
        try:
            sub = read_submission(path, spec, name=name, context=context, content=content)
        except IntakeRejected as rejection:
            parsed.issues.extend(rejection.issues)
            continue
        parsed.records[spec.id] = sub.records
        parsed.sheets[spec.id] = sub.sheet or ""
        parsed.issues.extend(sub.warnings)
    return parsed


def _row_context(
    programme: Programme, instance: ObligationInstance, spec: Dataset, known_codes: Collection[str]
) -> RowContext:
    """What the rows of ``spec`` are checked against for ``instance``: regions, year, period, pilot length."""
    obligation = programme.obligation(instance.obligation_id)
    period = obligation.expects.get("period") or (instance.period if instance.period != "Y" else None)
    return RowContext(
        known_region_codes=known_codes,
        expected_year=instance.cycle_year + obligation.data_year_offset if spec.year_column else None,
        expected_period=period if spec.period_column else None,
        max_pilot_years=programme.validity.max_pilot_years,
    )


def attribute_region(
    parsed: ParsedFile,
    programme: Programme,
    instance: ObligationInstance,
    regions: Mapping[str, Region],
    expected: Collection[str],
) -> None:
    """Set which region submitted the file; a file must speak for one expected submitter.

    The evaluator speaks for the programme's region; a city's file may list its
    counties (their city is the submitter). Several submitters is REGION_MIXED,
    one outside ``expected`` is REGION_NOT_EXPECTED.

    Args:
        parsed: A file without errors; its ``region_code`` and ``issues`` are updated.
        programme: The programme.
        instance: The obligation instance.
        regions: The province's regions by code.
        expected: Codes of the expected submitters (empty: no restriction).
    """
    obligation = programme.obligation(instance.obligation_id)
    if obligation.submitter == "evaluator":
        parsed.region_code = programme.region_code
        return
    main = parsed.records.get(obligation.dataset or "", [])
    codes = [r.get("region_code") for r in main if r.get("region_code")]
    if not codes:
        return
    if obligation.submitter == "city":
        cities = {c if regions[c].level == "city" else regions[c].parent_code for c in codes if c in regions}
        candidates = sorted(x for x in cities if x)
    else:
        candidates = sorted(set(codes))
    if len(candidates) != 1:
        message = f"一个文件只能报送一个地区的数据，本文件包含多个地区：{'、'.join(candidates[:5])}。请按地区分别报送。"
        parsed.issues.append(issue(parsed.name, E.REGION_MIXED, message))
        return
    code = parsed.region_code = candidates[0]
    if expected and code not in expected:
        name = regions[code].name if code in regions else code
        message = f"{name}（{code}）不在本期“{instance.title}”的报送范围内，请核对行政区划代码或联系省厅。"
        parsed.issues.append(
            issue(parsed.name, E.REGION_NOT_EXPECTED, message, column="行政区划代码", value=code)
        )


def _apply_region_hint(
    parsed: ParsedFile, submitter: str, hint: str | None, regions: Mapping[str, Region]
) -> None:
    """The region folder a file was uploaded to: checked against its table, else its only attribution.

    A file whose table names another region than its folder is rejected, naming
    both, and stays the folder's (whose official uploaded it and hears why). For a
    city's obligation the table's counties stand for their city (a city's combined
    table for its counties is split before, :mod:`.city_files`).
    """
    if hint and parsed.region_code:
        folder, sheet = hint, parsed.region_code
        if submitter == "city":
            folder, sheet = _city_of(folder, regions), _city_of(sheet, regions)
        if folder != sheet:
            message = (
                f"文件放在{_named(hint, regions)}的报送目录中，但表内行政区划代码为"
                f"{_named(parsed.region_code, regions)}，不予接收。请核对：本地区的文件请填写本地区代码后重新报送，"
                "其他地区的文件请由该地区在其报送目录中报送。"
            )
            parsed.issues.append(
                issue(
                    parsed.name, E.REGION_MISMATCH, message, column="行政区划代码", value=parsed.region_code
                )
            )
            parsed.region_code = hint
    parsed.region_code = parsed.region_code or hint


def _city_of(code: str, regions: Mapping[str, Region]) -> str:
    """A county's city (a city, or a code not in the table, is itself)."""
    region = regions.get(code)
    return region.parent_code or code if region is not None and region.level == "county" else code


def _named(code: str, regions: Mapping[str, Region]) -> str:
    region = regions.get(code)
    return f"{region.name}（{code}）" if region is not None else code
