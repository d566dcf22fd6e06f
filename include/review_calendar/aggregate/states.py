"""The one submission-state rule: where a region stands for an obligation instance on a day.

The provincial aggregation, the reports, the reviewers' pages and the reminders
all ask :func:`submission_state`; nothing else decides whether a region was on
time. The verdicts, for the files a region sent up to the day asked about:

- ``on_time`` (按时提交): an acceptable file arrived by the effective due date
  (the statutory date moved to the next working day), and that file is still
  the one whose data counts;
- ``on_time_corrected`` (按时提交（已更正）): an acceptable file arrived by the due
  date, and a correction sent after it (when the provincial gate stopped or a
  reviewer returned the data) replaced it: the correction replaces the data,
  not the date, so the region stays on time;
- ``late`` (逾期提交): the first acceptable file arrived after the due date. A file
  rejected at intake does not count, so a correction of a rejected file that
  arrives after the due date is late;
- ``awaiting_approval`` (待补批复): the file whose data counts was accepted but
  still awaits its approval (``Submission.awaiting``: a development plan without
  the county government's approval 文号, date and document, 冀工信产业〔2016〕93号
  二). It does not count as submitted and is reminded like a missing one; an
  earlier file that awaited its approval does not make a later one on time;
- ``returned`` (退回修改): the file whose data counts passed intake, but a reviewer
  returned it for correction (its substance: a plan's 总体思路 that says nothing)
  with a comment and a new due date. It holds until a corrected file arrives or
  the new due date passes. A corrected file that arrives by the new due date
  keeps the returned file's standing (on time if that file was on time, late if
  it was late), whenever the instance's own due date was; one that arrives after
  it is late. When the new due date passes with no corrected file, the returned
  file does not count: the region is ``missing`` (``open`` while its own window
  is still open), like a region that sent nothing, because what it sent was
  not acceptable in substance. A return without a new due date stays
  ``returned`` until the correction arrives, which keeps the standing;
- ``rejected`` (已退回): files arrived but every one was rejected at intake; the
  region has been told what to fix. This holds before and after the due date,
  as it always has in the pages and the reports: the region sent something,
  unlike a missing one;
- ``missing`` (未提交): nothing arrived and the window has closed;
- ``open`` (待提交) and ``not_due`` (未到期): nothing arrived yet, the window is
  open or has not opened;
- ``not_applicable`` (无需报送): the region owes nothing for the instance (decided
  by :func:`~review_calendar.store.queries.expected_submitters`, not here).

Whether a file arrived late is decided once, at intake (``Submission.is_late``:
received after the effective due date), and read here, with one exception: a
county granted more time (延期申请, an extension a reviewer granted) owes the
instance by the granted date instead, so its files received by that date are
on time and it is ``open`` until then, not ``missing``. Extensions and returns
are per region (:mod:`review_calendar.store.due_changes`). The labels are those of
:data:`review_calendar.domain.labels.SUBMISSION_STATES`.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import select

from review_calendar.domain.labels import SUBMISSION_STATES
from review_calendar.store.due_changes import RegionDue, region_dues
from review_calendar.store.queries import expected_submitters, instance_filter
from review_calendar.store.tables.intake import Submission
from review_calendar.store.tables.registry import Region

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    import pandas as pd
    from sqlalchemy.orm import Session

    from review_calendar.domain.programmes import ObligationInstance, Programme
    from review_calendar.store.queries import Submitter

__all__ = [
    "ACCEPTABLE",
    "COUNTED_AS",
    "LAGGING_STATES",
    "NOT_ON_TIME_STATES",
    "ON_TIME_STATES",
    "OUTSTANDING_STATES",
    "SUBMITTED_STATES",
    "ReceivedFile",
    "RegionState",
    "region_names",
    "states_by_region",
    "submission_state",
    "submission_states",
    "window_phase",
]

#: Statuses of a stored file that make it acceptable: accepted now, or accepted and since
#: replaced by a correction (``superseded``). A ``rejected`` file never counts.
ACCEPTABLE = ("accepted", "superseded")
#: States in which the region has sent an acceptable file.
SUBMITTED_STATES = ("on_time", "on_time_corrected", "late")
#: States counted as on time (the on-time rate).
ON_TIME_STATES = ("on_time", "on_time_corrected")
#: States of a closed window that are not on time: late, rejected and never corrected, or
#: missing (e.g. a 年度培育情况信息表 in these states is a 第十七条（三） ground).
NOT_ON_TIME_STATES = ("missing", "rejected", "late")
#: States in which the region still owes an acceptable file (whom the reminders address).
OUTSTANDING_STATES = ("rejected", "missing", "open", "not_due", "awaiting_approval", "returned")
#: States the provincial reports list as lagging, in the order of the vocabulary.
LAGGING_STATES = ("late", "rejected", "missing", "open", "not_due", "awaiting_approval", "returned")
#: The count metric each state adds to in the aggregation (应报 = 按时 + 逾期 + 未报 + 退回):
#: a corrected on-time file is on time, a region that has sent nothing yet is not reported.
COUNTED_AS: dict[str, str] = {
    "on_time": "on_time",
    "on_time_corrected": "on_time",
    "late": "late",
    "rejected": "rejected",
    "missing": "missing",
    "open": "missing",
    "not_due": "missing",
    "awaiting_approval": "missing",
    "returned": "rejected",
}


class ReceivedFile(Protocol):
    """What the rule reads of a received file (a :class:`~review_calendar.store.models.Submission`).

    ``id`` breaks ties between files received on one day; ``file_name`` and
    ``error_count`` are only carried to the pages and reports. ``awaiting``
    (read with a default of "") names what an accepted file still waits for.
    """

    id: int | None
    status: str
    received_on: dt.date
    is_late: bool
    file_name: str
    error_count: int


@dataclass(frozen=True, slots=True)
class RegionState:
    """The state of one region for one instance, and the file behind it.

    Attributes:
        state: A code of :data:`~review_calendar.domain.labels.SUBMISSION_STATES`.
        file: The file that decides the state: the acceptable file whose data counts
            (the latest one received), or the last rejected file; None when nothing arrived.
        attempts: Files the region sent up to the day asked about, any status.
    """

    state: str
    file: ReceivedFile | None = None
    attempts: int = 0

    @property
    def label(self) -> str:
        """The state's Chinese label (按时提交...)."""
        return SUBMISSION_STATES[self.state]


def window_phase(instance: ObligationInstance, day: dt.date, due: dt.date | None = None) -> str:
    """Where ``day`` falls in the instance's submission window.

    Args:
        instance: The obligation instance.
        day: The day asked about.
        due: The region's own due date when it was granted more time (default: the instance's).

    Returns:
        ``closed`` after the effective due date, ``open`` from the opening day to the
        due date (both included), ``upcoming`` before the opening day.
    """
    if day > max(instance.effective_due, due or instance.effective_due):
        return "closed"
    if day >= instance.opens_on:
        return "open"
    return "upcoming"


_NOTHING_YET = {"closed": "missing", "open": "open", "upcoming": "not_due"}


def _order(file: ReceivedFile) -> tuple:
    """Receipt order; on one day the file still accepted comes last, then the higher id."""
    return (file.received_on, file.status == "accepted", file.id or 0)


def submission_state(
    files: Iterable[ReceivedFile],
    instance: ObligationInstance,
    as_of: dt.date,
    changes: RegionDue | None = None,
) -> RegionState:
    """The state of one region for one obligation instance on ``as_of`` (see the module docstring).

    Args:
        files: The region's stored files for the instance, any status (accepted,
            superseded, rejected). Files received after ``as_of`` are ignored, so a
            report re-run for an earlier day shows what was known then.
        instance: The obligation instance (its effective due date and opening day).
        as_of: The day the state is asked for.
        changes: The region's extension and returned files
            (:func:`review_calendar.store.due_changes.region_dues`); None for none.

    Returns:
        The state, the deciding file and the number of files sent up to ``as_of``.
    """
    changes = changes or RegionDue()
    known = sorted((f for f in files if f.received_on <= as_of), key=_order)
    acceptable = [f for f in known if f.status in ACCEPTABLE]
    if acceptable:
        current = acceptable[-1]
        counted, pending = _standing(acceptable, changes)
        if pending is not None:  # the file whose data counts was returned, no correction yet
            if pending is _NO_DATE or as_of <= pending:
                return RegionState("returned", current, len(known))
            phase = window_phase(instance, as_of, changes.extended_to)
            return RegionState(_NOTHING_YET[phase], current, len(known))
        complete = [on_time for f, on_time in counted if not _awaits(f)]
        if _awaits(current):
            state = "awaiting_approval"
        elif not any(complete):
            state = "late"
        else:
            state = "on_time_corrected" if _late(current, changes) else "on_time"
        return RegionState(state, current, len(known))
    rejected = [f for f in known if f.status == "rejected"]
    if rejected:
        return RegionState("rejected", rejected[-1], len(known))
    return RegionState(_NOTHING_YET[window_phase(instance, as_of, changes.extended_to)], None, len(known))


#: The new due date of a return that set none: the return holds until the correction arrives.
_NO_DATE = dt.date.max


def _late(file: ReceivedFile, changes: RegionDue) -> bool:
    """Late as intake decided, unless it arrived by the date of an extension granted to the region."""
    return file.is_late and (changes.extended_to is None or file.received_on > changes.extended_to)


def _standing(
    acceptable: Sequence[ReceivedFile], changes: RegionDue
) -> tuple[list[tuple[ReceivedFile, bool]], dt.date | None]:
    """Each acceptable file that counts with whether it counts as on time, and the open return's date.

    A returned file does not count; the correction after it inherits its standing
    when it arrives by the return's new due date, and is late after it. Returns
    chain: a returned correction passes the original standing on.

    Returns:
        The counted files in receipt order with their on-time flag, and the new due
        date of the return still waiting for its correction (``_NO_DATE`` when the
        reviewer set none; None when no return is open).
    """
    counted: list[tuple[ReceivedFile, bool]] = []
    pending: tuple[dt.date, bool] | None = None
    for file in acceptable:
        if pending is not None:
            on_time = pending[1] and file.received_on <= pending[0]
        else:
            on_time = not _late(file, changes)
        if file.id is not None and file.id in changes.returns:
            pending = (changes.returns[file.id] or _NO_DATE, on_time)
        else:
            pending = None
            counted.append((file, on_time))
    return counted, None if pending is None else pending[0]


def _awaits(file: ReceivedFile) -> bool:
    """Whether an accepted file still awaits something before it counts (its approval)."""
    return bool(getattr(file, "awaiting", ""))


def _files_by_region(
    session: Session, instance: ObligationInstance, as_of: dt.date
) -> dict[str, list[Submission]]:
    stmt = select(Submission).where(
        *instance_filter(Submission, instance),
        Submission.region_code.is_not(None),
        Submission.received_on <= as_of,
    )
    out: dict[str, list[Submission]] = defaultdict(list)
    for sub in session.scalars(stmt):
        out[sub.region_code].append(sub)
    return out


def states_by_region(
    session: Session, instance: ObligationInstance, as_of: dt.date, region_codes: Iterable[str]
) -> dict[str, RegionState]:
    """The state of each of ``region_codes`` for ``instance`` on ``as_of``, with one query.

    Args:
        session: Open session on the review database.
        instance: The obligation instance.
        as_of: The day the states are asked for.
        region_codes: The regions that owe the instance (e.g. the expected submitters').

    Returns:
        A :class:`RegionState` per region code.
    """
    files = _files_by_region(session, instance, as_of)
    changes = region_dues(session, instance)
    return {
        code: submission_state(files.get(code, ()), instance, as_of, changes.get(code))
        for code in set(region_codes)
    }


def region_names(session: Session, codes: Iterable[str]) -> dict[str, str]:
    """The names of region codes found in the ``regions`` table (queried in chunks of 500)."""
    wanted = sorted(set(codes))
    names: dict[str, str] = {}
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        names.update(
            dict(session.execute(select(Region.code, Region.name).where(Region.code.in_(chunk))).all())
        )
    return names


def _state_record(submitter: Submitter, verdict: RegionState) -> dict:
    file = verdict.file
    return {
        "region_code": submitter.region_code,
        "region_name": submitter.region_name,
        "city_code": submitter.city_code,
        "cluster_id": submitter.cluster_id,
        "cluster": submitter.cluster_name or "",
        "state": verdict.state,
        "submission_id": None if file is None else file.id,
        "received_on": None if file is None else file.received_on,
        "file_name": "" if file is None else file.file_name,
        "error_count": 0 if file is None else int(file.error_count or 0),
    }


def submission_states(
    session: Session,
    programme: Programme,
    instance: ObligationInstance,
    as_of: dt.date,
    *,
    submitters: Sequence[Submitter] | None = None,
) -> pd.DataFrame:
    """The state of every expected submitter of ``instance`` on ``as_of``, as a frame.

    Each region's state is :func:`submission_state` of its files received up to
    ``as_of``; a region with two clusters has one row per cluster, in the same state.

    Args:
        session: Open session on the review database.
        programme: The programme.
        instance: The obligation instance.
        as_of: The day the states are computed for.
        submitters: Who must submit; default :func:`~review_calendar.store.queries.expected_submitters`
            (pass a list for a national set or a test).

    Returns:
        One row per expected submitter, sorted by region code: ``region_code``,
        ``region_name``, ``city_code``, ``city_name``, ``cluster_id``, ``cluster``,
        ``state``, ``submission_id`` (the acceptable file whose data counts, or the last
        rejected one; <NA> when nothing arrived), ``received_on`` (date or None),
        ``file_name`` ("" when none) and ``error_count`` (of that file).
    """
    import pandas as pd  # the state of one file (intake's proposals) needs no frame

    if submitters is None:
        submitters = expected_submitters(session, programme, instance)
    verdicts = states_by_region(session, instance, as_of, (s.region_code for s in submitters))
    columns = ["region_code", "region_name", "city_code", "cluster_id", "cluster", "state", "submission_id",
               "received_on", "file_name", "error_count"]  # fmt: skip
    frame = pd.DataFrame(
        [_state_record(s, verdicts[s.region_code]) for s in submitters], columns=columns, dtype=object
    )
    frame["submission_id"] = pd.to_numeric(frame["submission_id"]).astype("Int64")
    frame["error_count"] = pd.to_numeric(frame["error_count"]).fillna(0).astype(int)
    names = region_names(session, frame["city_code"])
    frame.insert(3, "city_name", frame["city_code"].map(names).fillna(frame["city_code"]).astype(object))
    return frame.sort_values(["region_code", "cluster_id"], kind="stable", na_position="first").reset_index(
        drop=True
    )
