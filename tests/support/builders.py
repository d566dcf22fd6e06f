"""Rows of the review database as intake, the gate and the demo seed write them, for tests that arrange it directly.

One builder per table the tests fill by hand (submissions with their dataset
rows and errors, contacts, regions, clusters, enrolments), so a change to a
table changes one place. Defaults are what intake would store; every column
can be given. A submission belongs to an obligation instance: pass the
:class:`~review_calendar.domain.programmes.ObligationInstance`, or a :class:`Key`
when no programme is at hand.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.orm import Session

from review_calendar.store.db import session_scope, upsert
from review_calendar.store.models import Cluster, Contact, DatasetRow, Enrolment, Submission, SubmissionError

#: Content hashes unique within a test session (64 characters, like a SHA-256).
_serial = itertools.count(1)


class InstanceLike(Protocol):
    """What a submission needs of its obligation instance."""

    @property
    def programme_id(self) -> str: ...
    @property
    def cycle_year(self) -> int: ...
    @property
    def obligation_id(self) -> str: ...
    @property
    def period(self) -> str: ...
    @property
    def effective_due(self) -> dt.date | None: ...


@dataclass(frozen=True)
class Key:
    """An obligation instance named by its key; ``effective_due`` only when lateness is to be derived."""

    programme_id: str
    cycle_year: int
    obligation_id: str
    period: str = "Y"
    effective_due: dt.date | None = None


def _json_ready(record: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in record.items()}


def submission_values(
    instance: InstanceLike,
    region: str,
    received: dt.date,
    file_name: str | None = None,
    *,
    status: str = "accepted",
    is_late: bool | None = None,
    error_count: int | None = None,
    **columns: Any,
) -> dict[str, Any]:
    """The columns of one ``submissions`` row.

    Args:
        instance: The obligation instance the file was submitted for.
        region: Submitting region's code.
        received: Date of receipt.
        file_name: Default ``<region>.xlsx``.
        status: ``accepted``, ``rejected`` or ``superseded``.
        is_late: Default: as intake decides, not rejected and received after the
            instance's effective due date.
        error_count: Default 3 for a rejected file, else 0.
        **columns: Any other column (``stored_path`` defaults to ``/kept/<file_name>``,
            ``content_hash`` to a unique 64-character string).

    Returns:
        Column values by name.

    Raises:
        ValueError: Lateness is to be derived but the instance has no effective due date.
    """
    file_name = file_name or f"{region}.xlsx"
    if is_late is None:
        if status != "rejected" and instance.effective_due is None:
            raise ValueError("give is_late, or an instance with its effective due date")
        is_late = status != "rejected" and received > instance.effective_due
    values = {
        "programme_id": instance.programme_id,
        "cycle_year": instance.cycle_year,
        "obligation_id": instance.obligation_id,
        "period": instance.period,
        "region_code": region,
        "file_name": file_name,
        "stored_path": f"/kept/{file_name}",
        "content_hash": f"{next(_serial):064d}",
        "received_on": received,
        "status": status,
        "is_late": is_late,
        "error_count": (3 if status == "rejected" else 0) if error_count is None else error_count,
    }
    return values | columns


def add_rows(
    session: Session,
    submission: Submission,
    dataset: str,
    records: Iterable[Mapping[str, Any]],
    *,
    first_row: int = 2,
    sheet: str | None = None,
) -> None:
    """Add the dataset rows of a submission, as intake stores the rows it read.

    Args:
        session: Open session; ``submission`` is flushed (has its id).
        submission: The submission the rows come from.
        dataset: Dataset id, e.g. ``"progress_report"``.
        records: Values by column key; ``region_code`` defaults to the submission's
            region, dates are stored in ISO form.
        first_row: Spreadsheet row number of the first record.
        sheet: Default: the dataset's sheet name in the official template.
    """
    from review_calendar.intake.datasets import get_dataset

    sheet = sheet or get_dataset(dataset).sheet
    for n, record in enumerate(records):
        data = {"region_code": submission.region_code, **_json_ready(record)}
        session.add(
            DatasetRow(
                submission_id=submission.id,
                dataset=dataset,
                sheet=sheet,
                row_no=first_row + n,
                region_code=str(data["region_code"] or submission.region_code),
                data=data,
            )
        )


def add_submission(
    session: Session,
    instance: InstanceLike,
    region: str,
    received: dt.date,
    file_name: str | None = None,
    *,
    rows: Mapping[str, Sequence[Mapping[str, Any]]] | None = None,
    errors: Iterable[Mapping[str, Any]] = (),
    first_row: int = 2,
    **columns: Any,
) -> Submission:
    """Add a received file with its dataset rows (accepted) or errors (rejected).

    Args:
        session: Open session.
        instance, region, received, file_name: As :func:`submission_values`.
        rows: Records by dataset id (see :func:`add_rows`).
        errors: ``SubmissionError`` columns (``sheet``, ``row``, ``column``, ``code``, ``message``...).
        first_row: Spreadsheet row number of each dataset's first record.
        **columns: ``status``, ``is_late``, ``error_count`` and any other column (see
            :func:`submission_values`).

    Returns:
        The flushed submission (its ``id`` is set).
    """
    submission = Submission(**submission_values(instance, region, received, file_name, **columns))
    session.add(submission)
    session.flush()
    for dataset, records in (rows or {}).items():
        add_rows(session, submission, dataset, records, first_row=first_row)
    session.add_all(SubmissionError(submission_id=submission.id, **e) for e in errors)
    return submission


def submit(
    url: str,
    instance: InstanceLike,
    region: str,
    received: dt.date,
    file_name: str | None = None,
    **options: Any,
) -> int:
    """:func:`add_submission` in a transaction of its own on the review database at ``url``.

    Returns:
        The submission's id.
    """
    with session_scope(url) as session:
        return add_submission(session, instance, region, received, file_name, **options).id


def contact_values(
    programme_id: str,
    cycle_year: int,
    region: str,
    role: str,
    *,
    name: str = "张伟",
    email: str | None = None,
    **columns: Any,
) -> dict[str, Any]:
    """The columns of one ``contacts`` row (what a city's contact list projects into).

    Args:
        programme_id, cycle_year, region, role: The contact's key.
        name: The person's name.
        email: Default ``<region>@gx.example.cn``.
        **columns: ``post`` (default empty), ``office_phone``, ``mobile`` and any other column.

    Returns:
        Column values by name.
    """
    values = {
        "programme_id": programme_id,
        "cycle_year": cycle_year,
        "region_code": region,
        "role": role,
        "name": name,
        "post": "",
        "office_phone": "0311-87800000",
        "mobile": "13800000000",
        "email": f"{region}@gx.example.cn" if email is None else email,
    }
    return values | columns


def set_contacts(url: str, rows: Sequence[Mapping[str, Any]]) -> None:
    """Upsert contacts (see :func:`contact_values`) in a transaction of their own."""
    with session_scope(url) as session:
        upsert(session, Contact, list(rows), ["programme_id", "cycle_year", "region_code", "role"])


def region_values(code: str, name: str, level: str, parent_code: str | None = None) -> dict[str, Any]:
    """The columns of one ``regions`` row; the province is the first two digits of ``code`` and ``0000``."""
    return {
        "code": code,
        "name": name,
        "level": level,
        "parent_code": parent_code,
        "province_code": f"{code[:2]}0000",
    }


def add_cluster(
    session: Session, cluster_id: str, name: str, region: str, *, industry: str = "", synthetic: bool = False
) -> None:
    """Upsert a cluster in ``region``."""
    row = {
        "id": cluster_id,
        "name": name,
        "region_code": region,
        "industry": industry,
        "synthetic": synthetic,
    }
    upsert(session, Cluster, [row], ["id"])


def add_enrolment(
    session: Session,
    programme_id: str,
    cluster_id: str,
    recognised_on: dt.date,
    valid_until: dt.date,
    *,
    status: str = "active",
    **columns: Any,
) -> None:
    """Upsert a cluster's enrolment in a programme (``category``, ``status_reason`` as ``columns``)."""
    row = {"programme_id": programme_id, "cluster_id": cluster_id, "recognised_on": recognised_on,
           "valid_until": valid_until, "status": status, **columns}  # fmt: skip
    upsert(session, Enrolment, [row], ["programme_id", "cluster_id"])
