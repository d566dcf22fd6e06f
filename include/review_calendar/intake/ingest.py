"""Taking in submitted files: accept into the review database, or quarantine with reasons.

Every file is recorded with its content hash. The same file twice is a no-op;
a corrected resubmission of a region supersedes its earlier one and the
history is kept. A rejected file is copied to the quarantine folder with its
errors (JSON beside it and rows in ``submission_errors``): never lost.

Order of work per file, so a killed run ends consistent: copy the file to its
content-addressed place, then commit its database rows in one transaction,
then (for inbox sweeps) remove it from the inbox. A file still in the inbox
is pending; a re-run finds its hash recorded and only removes it.

Row-level Great Expectations suites run once over all new rows of a batch
(``review_calendar.intake.row_checks.validate_batch``), not once per file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from review_calendar.intake import issues as E
from review_calendar.intake.datasets import get_dataset, read_submission
from review_calendar.intake.issues import IntakeIssue, IntakeRejected
from review_calendar.intake.reader import check_file_name, safe_file_name
from review_calendar.intake.templates import template_datasets
from review_calendar.store.db import session_scope, upsert
from review_calendar.store.models import (
    Cluster,
    Contact,
    DatasetRow,
    Enrolment,
    Evaluation,
    ObligationInstanceRow,
    Region,
    Submission,
    SubmissionError,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from review_calendar.domain.programmes import ObligationInstance, Programme
    from review_calendar.settings import Settings

log = logging.getLogger(__name__)

SUFFIXES = {".xlsx", ".csv", ".xls", ".xlsm", ".txt"}


@dataclass
class FileOutcome:
    """What happened to one file."""

    file: str
    status: str  # accepted, rejected, duplicate
    sha256: str = ""
    submission_id: int | None = None
    region_code: str | None = None
    is_late: bool = False
    received_on: str = ""
    stored_path: str = ""
    superseded: int | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v not in (None, "", [])}


@dataclass
class IngestReport:
    """Outcome of one intake batch (``ingest --json`` prints :meth:`to_json`)."""

    instance_key: str
    accepted: list[FileOutcome] = field(default_factory=list)
    rejected: list[FileOutcome] = field(default_factory=list)
    duplicates: list[FileOutcome] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "instance": self.instance_key,
            "accepted": [o.to_dict() for o in self.accepted],
            "rejected": [
                {"file": o.file, "stored_path": o.stored_path, "errors": o.errors} for o in self.rejected
            ],
            "duplicates": [o.to_dict() for o in self.duplicates],
        }

    def counts(self) -> dict[str, int]:
        return {
            "accepted": len(self.accepted),
            "rejected": len(self.rejected),
            "duplicates": len(self.duplicates),
        }


@dataclass
class _Parsed:
    path: Path
    name: str
    sha256: str
    size: int
    received_on: dt.date
    records: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    sheets: dict[str, str] = field(default_factory=dict)
    issues: list[IntakeIssue] = field(default_factory=list)
    region_code: str | None = None

    @property
    def rejected(self) -> bool:
        return any(i.severity == "error" for i in self.issues)


def sha256_of(path: Path) -> tuple[str, int]:
    """Hex SHA-256 and size of a file, read in chunks (huge files never sit in memory)."""
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def inbox_dir(settings: Settings, instance: ObligationInstance) -> Path:
    """The inbox folder of an instance: ``inbox/<programme>/<year>/<obligation>[_<period>]``."""
    leaf = instance.obligation_id if instance.period == "Y" else f"{instance.obligation_id}_{instance.period}"
    return settings.inbox_dir / instance.programme_id / str(instance.cycle_year) / leaf


def pending_files(settings: Settings, instance: ObligationInstance) -> list[Path]:
    """Files waiting in the instance's inbox, oldest first (hidden and partial uploads skipped).

    Files may sit directly in the inbox or in a sub-folder named by the submitting
    region's 6-digit code (an upload portal per region); the folder then tells who
    sent a file that is too broken to say it itself.
    """
    folder = inbox_dir(settings, instance)
    if not folder.exists():
        return []
    sub_folders = [d for d in folder.iterdir() if d.is_dir() and _is_region_code(d.name)]
    candidates = [*folder.iterdir(), *(q for d in sub_folders for q in d.iterdir())]
    files = [
        p
        for p in candidates
        if p.is_file() and not p.name.startswith((".", "~$")) and not p.name.endswith(".part")
    ]
    return sorted(files, key=lambda p: (p.stat().st_mtime, p.name))


def region_hint(path: Path) -> str | None:
    """The region code of the inbox sub-folder a file was uploaded to, if any."""
    parent = path.parent.name
    return parent if _is_region_code(parent) else None


def _is_region_code(name: str) -> bool:
    return len(name) == 6 and name.isdigit()


def _received_on(path: Path) -> dt.date:
    from review_calendar.domain.schedule import TZ

    return dt.datetime.fromtimestamp(path.stat().st_mtime, tz=TZ).date()


def _issue(name: str, code: str, message: str, *, sheet: str | None = None, row: int | None = None,
           column: str | None = None, value: str | None = None) -> IntakeIssue:  # fmt: skip
    return IntakeIssue(
        file=name, sheet=sheet, row=row, column=column, value=value, code=code, message=message
    )


def _submitter_region(
    parsed: _Parsed, programme: Programme, instance: ObligationInstance, regions: dict[str, Region],
    expected: set[str],
) -> None:  # fmt: skip
    """Work out which region submitted the file; a file must speak for one submitter."""
    obligation = programme.obligation(instance.obligation_id)
    main = parsed.records.get(obligation.dataset or "", [])
    if obligation.submitter == "evaluator":
        parsed.region_code = programme.region_code
        return
    codes = [r.get("region_code") for r in main if r.get("region_code")]
    if not codes:
        return
    if obligation.submitter == "city":
        cities = {c if regions[c].level == "city" else regions[c].parent_code for c in codes if c in regions}
        candidates = sorted(x for x in cities if x)
    else:
        candidates = sorted(set(codes))
    if len(candidates) != 1:
        parsed.issues.append(
            _issue(
                parsed.name,
                "REGION_MIXED",
                f"一个文件只能报送一个地区的数据，本文件包含多个地区：{'、'.join(candidates[:5])}。请按地区分别报送。",
            )
        )
        return
    parsed.region_code = candidates[0]
    if expected and parsed.region_code not in expected:
        name = regions[parsed.region_code].name if parsed.region_code in regions else parsed.region_code
        parsed.issues.append(
            _issue(
                parsed.name, "REGION_NOT_EXPECTED",
                f"{name}（{parsed.region_code}）不在本期“{instance.title}”的报送范围内，请核对行政区划代码或联系省厅。",
                column="行政区划代码", value=parsed.region_code,
            )
        )  # fmt: skip


def parse_file(
    path: Path, name: str, programme: Programme, instance: ObligationInstance, known_codes: set[str],
    received_on: dt.date | None = None, digest: tuple[str, int] | None = None,
) -> _Parsed:  # fmt: skip
    """Read and row-validate one file (every dataset of its template); never raises for bad input.

    ``digest`` is the file's (SHA-256, size) when the caller has already hashed it.
    """
    sha, size = digest or sha256_of(path)
    parsed = _Parsed(path=path, name=safe_file_name(name), sha256=sha, size=size,
                     received_on=received_on or _received_on(path))  # fmt: skip
    unsafe = check_file_name(name)
    if unsafe:
        parsed.issues.append(
            _issue(
                parsed.name,
                E.FILE_NAME_UNSAFE,
                f"文件名不安全（{'；'.join(unsafe)}），请改用普通文件名后重新报送。",
            )
        )
        return parsed
    obligation = programme.obligation(instance.obligation_id)
    if not obligation.dataset:
        parsed.issues.append(
            _issue(parsed.name, E.OBLIGATION_MISMATCH, f"“{obligation.title}”不接收报送文件。")
        )
        return parsed
    expected_year = instance.cycle_year + obligation.data_year_offset
    period = obligation.expects.get("period") or (instance.period if instance.period != "Y" else None)
    for spec in template_datasets(obligation.dataset):
        dataset_id = spec.id
        try:
            sub = read_submission(
                path, spec, name=name, known_region_codes=known_codes,
                expected_year=expected_year if spec.year_column else None,
                expected_period=period if spec.period_column else None,
            )  # fmt: skip
        except IntakeRejected as rejection:
            parsed.issues.extend(rejection.issues)
            continue
        parsed.records[dataset_id] = sub.records
        parsed.sheets[dataset_id] = sub.sheet or ""
        parsed.issues.extend(sub.warnings)
    return parsed


def _gx_row_checks(parsed: list[_Parsed], settings: Settings) -> None:
    """One Great Expectations run per dataset over every new row of the batch."""
    import pandas as pd

    from review_calendar.intake.row_checks import validate_batch

    by_dataset: dict[str, list[dict[str, Any]]] = {}
    for index, p in enumerate(parsed):
        if p.rejected:
            continue
        for dataset_id, records in p.records.items():
            by_dataset.setdefault(dataset_id, []).extend({**r, "_file": index} for r in records)
    for dataset_id, rows in by_dataset.items():
        failures = validate_batch(
            dataset_id, pd.DataFrame.from_records(rows), expectations_dir=settings.expectations_dir
        )
        sheet = get_dataset(dataset_id).sheet
        for f in failures:
            target = parsed[f.file]
            target.issues.append(f.to_issue(target.name, target.sheets.get(dataset_id) or sheet))


#: Longest file name most file systems allow, in bytes.
NAME_MAX = 255
#: Room kept for the suffixes added beside a stored file (``.errors.json``, temporary ``.part`` names).
SUFFIX_ROOM = 32


def stored_name(prefix: str, name: str) -> str:
    """``prefix + name`` cut to fit the file-name limit, keeping the extension.

    Officials' file names can be long (a whole Chinese sentence); the stored copy and
    its ``.errors.json`` must still be creatable.
    """
    limit = NAME_MAX - SUFFIX_ROOM - len(prefix.encode("utf-8"))
    stem, dot, ext = name.rpartition(".")
    if not dot or len(ext) > 10:
        stem, ext = name, ""
    ext = f".{ext}" if ext else ""
    room = limit - len(ext.encode("utf-8"))
    cut = stem.encode("utf-8")[:room].decode("utf-8", "ignore")
    return f"{prefix}{cut}{ext}"


def _store(src: Path, dest: Path, move: bool) -> None:
    """Copy ``src`` to ``dest`` atomically (a private temporary name, then rename); idempotent."""
    import os
    import tempfile

    dest.parent.mkdir(parents=True, exist_ok=True)
    if not dest.exists():
        # A temporary name of its own per run: two runs storing the same file at once
        # must not share (and rename away) one ``.part`` file.
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".incoming-", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as out, src.open("rb") as inp:
                shutil.copyfileobj(inp, out)
            os.replace(tmp, dest)
        finally:
            Path(tmp).unlink(missing_ok=True)
    if move:
        src.unlink(missing_ok=True)


def _jsonable(record: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (v.isoformat() if isinstance(v, dt.date) else v)
        for k, v in record.items()
        if not k.startswith("_")
    }


def _persist(
    url: str, settings: Settings, programme: Programme, instance: ObligationInstance, p: _Parsed,
    *, run_id: str = "", notify_on: dt.date | None = None,
) -> FileOutcome:  # fmt: skip
    folder = f"{instance.programme_id}/{instance.cycle_year}/{instance.obligation_id}_{instance.period}"
    base = {"programme_id": instance.programme_id, "cycle_year": instance.cycle_year,
            "obligation_id": instance.obligation_id, "period": instance.period}  # fmt: skip
    errors = [i for i in p.issues if i.severity == "error"]
    outcome = FileOutcome(file=p.name, status="rejected" if errors else "accepted", sha256=p.sha256,
                          region_code=p.region_code, received_on=p.received_on.isoformat())  # fmt: skip
    if errors:
        dest = settings.quarantine_dir / folder / stored_name(f"{p.sha256[:12]}_", p.name)
        dest.parent.mkdir(parents=True, exist_ok=True)
        (dest.parent / f"{dest.name}.errors.json").write_text(
            json.dumps({"file": p.name, "sha256": p.sha256, "errors": [i.to_dict() for i in p.issues]},
                       ensure_ascii=False, indent=2), encoding="utf-8")  # fmt: skip
    else:
        dest = settings.accepted_dir / folder / stored_name(f"{p.region_code}_{p.sha256[:12]}_", p.name)
    _store(p.path, dest, move=False)
    outcome.stored_path = str(dest)
    outcome.is_late = not errors and p.received_on > instance.effective_due
    outcome.errors = [i.to_dict() for i in p.issues if i.severity == "error"]
    with session_scope(url) as session:
        # Serialise concurrent intake of one instance (PostgreSQL row lock; SQLite locks the file anyway).
        session.execute(
            select(ObligationInstanceRow.id).where(*[getattr(ObligationInstanceRow, k) == v for k, v in base.items()])
            .with_for_update()
        )  # fmt: skip
        existing = session.scalar(select(Submission).where(
            *[getattr(Submission, k) == v for k, v in base.items()], Submission.content_hash == p.sha256))  # fmt: skip
        if existing is not None and existing.status != "rejected":
            outcome.status, outcome.submission_id = "duplicate", existing.id
            return outcome
        fields = dict(region_code=p.region_code, file_name=p.name, stored_path=str(dest), size_bytes=p.size,
                      received_on=p.received_on, status=outcome.status, is_late=outcome.is_late,
                      row_count=sum(len(r) for r in p.records.values()), error_count=len(errors))  # fmt: skip
        if existing is not None:
            # The same bytes were rejected before (e.g. only for an unsafe name or the wrong
            # upload folder): judge them again and keep one row per content hash.
            session.execute(delete(SubmissionError).where(SubmissionError.submission_id == existing.id))
            for k, v in fields.items():
                setattr(existing, k, v)
            sub = existing
        else:
            sub = Submission(**base, content_hash=p.sha256, **fields)
            session.add(sub)
        session.flush()
        outcome.submission_id = sub.id
        _record_acceptance(session, programme, instance, outcome, run_id)
        if errors:
            session.add_all(
                SubmissionError(submission_id=sub.id, sheet=i.sheet, row=i.row, column=i.column, value=i.value,
                                code=i.code, message=i.message, severity=i.severity)
                for i in p.issues
            )  # fmt: skip
            if notify_on is not None and p.region_code:
                from review_calendar.notify.notices import queue_rejection

                # In the same transaction: the official learns why, exactly once.
                session.flush()
                queue_rejection(session, programme, instance, sub.id, created_on=notify_on)
            return outcome
        previous = session.scalars(select(Submission).where(
            *[getattr(Submission, k) == v for k, v in base.items()], Submission.region_code == p.region_code,
            Submission.status == "accepted", Submission.id != sub.id))  # fmt: skip
        for old in previous:
            old.status, old.superseded_by = "superseded", sub.id
            outcome.superseded = old.id
        rows = [
            {"submission_id": sub.id, "dataset": dataset_id, "sheet": p.sheets.get(dataset_id, ""),
             "row_no": int(r.get("_row") or n), "region_code": r.get("region_code") or p.region_code,
             "data": _jsonable(r)}
            for dataset_id, records in p.records.items() for n, r in enumerate(records, start=1)
        ]  # fmt: skip
        session.add_all(DatasetRow(**r) for r in rows)
        _side_effects(session, programme, instance, sub.id, p)
    return outcome


def _record_acceptance(
    session: Any, programme: Programme, instance: ObligationInstance, outcome: FileOutcome, run_id: str
) -> None:
    """The acceptance or rejection of a file as an audited decision, in the file's own transaction."""
    from review_calendar.domain.verdicts import Verdict
    from review_calendar.store.decision_log import record_decision

    obligation = programme.obligation(instance.obligation_id)
    if outcome.status == "accepted":
        reason = "逾期提交，予以接收" if outcome.is_late else "按时提交，予以接收"
    else:
        reason = (
            f"退回：{len(outcome.errors)} 处问题（{'、'.join(sorted({e['code'] for e in outcome.errors}))}）"
        )
    verdict = Verdict(
        subject=f"{instance.obligation_id}/{instance.period}/{outcome.region_code or '-'}/{outcome.sha256[:12]}",
        outcome=outcome.status,
        reason=reason,
        rule=f"intake: dataset {obligation.dataset} (intake/datasets.py, expectations/{obligation.dataset}.json)",
        clause=obligation.clause,
        figures={"file": outcome.file, "submission_id": outcome.submission_id, "is_late": outcome.is_late,
                 "received_on": outcome.received_on, "errors": len(outcome.errors)},
    )  # fmt: skip
    record_decision(session, instance.programme_id, instance.cycle_year, "acceptance", verdict, run_id)


def _side_effects(
    session: Any, programme: Programme, instance: ObligationInstance, submission_id: int, p: _Parsed
) -> None:
    """Datasets that feed other tables: contacts (reminder recipients), evaluation scores."""
    dataset = programme.obligation(instance.obligation_id).dataset
    if dataset == "contact_list":
        rows = [
            {"programme_id": programme.id, "cycle_year": instance.cycle_year, "region_code": r["region_code"],
             "role": r["role"], "name": r.get("name") or "", "post": r.get("post") or "",
             "office_phone": r.get("office_phone") or "", "mobile": r.get("mobile") or "",
             "email": r.get("email") or "", "submission_id": submission_id}
            for r in p.records.get("contact_list", [])
        ]  # fmt: skip
        upsert(session, Contact, rows, ["programme_id", "cycle_year", "region_code", "role"])
    elif dataset == "evaluation_scores":
        clusters = {
            (c.region_code, c.name): c.id
            for c in session.scalars(select(Cluster).join(Enrolment, Enrolment.cluster_id == Cluster.id)
                                     .where(Enrolment.programme_id == programme.id))
        }  # fmt: skip
        by_region = {}
        for (region, _name), cid in clusters.items():
            by_region.setdefault(region, []).append(cid)
        rows = []
        for r in p.records.get("evaluation_scores", []):
            cid = clusters.get((r.get("region_code"), r.get("cluster_name")))
            if cid is None and len(by_region.get(r.get("region_code"), [])) == 1:
                cid = by_region[r["region_code"]][0]
            if cid is None:
                continue
            rows.append({"programme_id": programme.id, "cycle_year": instance.cycle_year, "cluster_id": cid,
                         "evaluator": r.get("evaluator") or "", "score": float(r["score"]),
                         "violation": r.get("violation") == "是", "note": r.get("violation_note") or "",
                         "submission_id": submission_id})  # fmt: skip
        upsert(session, Evaluation, rows, ["programme_id", "cycle_year", "cluster_id"])


def obligation_level(programme: Programme, instance: ObligationInstance) -> str:
    """Who submits the instance's obligation (county, city, evaluator...)."""
    return programme.obligation(instance.obligation_id).submitter


def ingest_files(
    url: str,
    settings: Settings,
    programme: Programme,
    instance: ObligationInstance,
    files: Sequence[Path],
    *,
    names: Sequence[str] | None = None,
    received_on: dt.date | None = None,
    move: bool = False,
    gx: bool = True,
    progress: Callable[[int], None] | None = None,
    run_id: str = "",
    notify_on: dt.date | None = None,
) -> IngestReport:
    """Take in a batch of files for one obligation instance.

    Args:
        url: Review database URL (migrated).
        settings: Folders (quarantine, accepted) and the expectations folder.
        programme: The programme.
        instance: The obligation instance the files are for.
        files: Paths of the files.
        names: The names the submitters gave the files (default: the paths' names).
        received_on: Date of receipt (default: each file's modification date, Asia/Shanghai).
        move: Remove each file from where it was once it is stored (inbox sweeps).
        gx: Run the row-level Great Expectations suites over the batch.
        progress: Called with the number of files done (progress bar).
        run_id: The run recorded with each acceptance decision (audit trail).
        notify_on: Queue a rejection notice dated this day for every rejected file (None: no notices).

    Returns:
        What was accepted, rejected (with every error) and already known.
    """
    with session_scope(url) as session:
        province = programme.region_prefix
        regions = {r.code: r for r in session.scalars(select(Region).where(Region.code.like(f"{province}%")))}
        from review_calendar.store.queries import expected_submitters

        expected = {s.region_code for s in expected_submitters(session, programme, instance)}
        # Files already accepted (or superseded) are no-ops; a rejected file is judged again,
        # since it may have been rejected only for its name or the folder it was put in.
        known = set(session.scalars(select(Submission.content_hash).where(
            Submission.programme_id == instance.programme_id, Submission.cycle_year == instance.cycle_year,
            Submission.obligation_id == instance.obligation_id, Submission.period == instance.period,
            Submission.status != "rejected")))  # fmt: skip
    report = IngestReport(instance.key)
    parsed: list[_Parsed] = []
    known_codes = set(regions)
    for n, path in enumerate(files, start=1):
        name = names[n - 1] if names else path.name
        try:
            digest = sha256_of(path)
            sha = digest[0]
        except FileNotFoundError:
            # Another intake run working on the same inbox took this file in meanwhile.
            log.info("File %s vanished before intake (taken in by another run)", safe_file_name(name))
            report.duplicates.append(FileOutcome(file=safe_file_name(name), status="duplicate"))
            continue
        if sha in known:
            report.duplicates.append(FileOutcome(file=safe_file_name(name), status="duplicate", sha256=sha))
            if move:
                path.unlink(missing_ok=True)
        else:
            known.add(sha)
            p = parse_file(path, name, programme, instance, known_codes, received_on, digest)
            if not p.rejected:
                _submitter_region(p, programme, instance, regions, expected)
            hint = region_hint(path)
            if (
                hint
                and p.region_code
                and hint != p.region_code
                and obligation_level(programme, instance) != "city"
            ):
                p.issues.append(_issue(p.name, "REGION_MISMATCH",
                    f"文件放在{hint}的报送目录中，但表内行政区划代码为{p.region_code}，请核对后重新报送。",
                    column="行政区划代码", value=p.region_code))  # fmt: skip
            p.region_code = p.region_code or hint
            parsed.append(p)
        if progress:
            progress(n)
    if gx and any(not p.rejected for p in parsed):
        _gx_row_checks(parsed, settings)
    for p in parsed:
        try:
            outcome = _persist(url, settings, programme, instance, p, run_id=run_id, notify_on=notify_on)
        except FileNotFoundError:
            log.info("File %s vanished before it was stored (taken in by another run)", p.name)
            report.duplicates.append(FileOutcome(file=p.name, status="duplicate", sha256=p.sha256))
            continue
        except IntegrityError:
            # Another intake run stored the same file first (unique content hash per instance).
            outcome = FileOutcome(file=p.name, status="duplicate", sha256=p.sha256)
        {"accepted": report.accepted, "rejected": report.rejected, "duplicate": report.duplicates}[
            outcome.status
        ].append(outcome)
        if move:
            p.path.unlink(missing_ok=True)
    log.info("Intake %s: %s", instance.key, report.counts())
    return report
