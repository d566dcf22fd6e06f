"""The county's e-mails after a reviewer's answer (a file returned, a request for more time), and its own due date.

Each is rendered from its template and queued in the outbox under a natural
key (the returned file; the request and its answer), so an answer applied twice
mails once. The city bureau is copied, as with decisions: the city bureaus
supervise the counties. A region without a valid contact is logged and
nothing is queued (the caller reports the gap).

A region whose file was returned, or that was granted more time, is reminded
against its own due date (:func:`own_due`, :func:`region_stage`): no overdue
reminder before it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from review_calendar.notify.outbox import queue
from review_calendar.notify.recipients import ContactBook
from review_calendar.notify.render import Rendered, _addressee, _body, _common, _subject, cn_date
from review_calendar.notify.stages import reminder_stage

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable

    from sqlalchemy.orm import Session

    from review_calendar.aggregate.states import RegionState
    from review_calendar.decide.extensions import ExtensionAnswer
    from review_calendar.decide.returns import ReturnedFile
    from review_calendar.domain.calendar import WorkingCalendar
    from review_calendar.domain.programmes import ObligationInstance, Programme, ReminderSchedule
    from review_calendar.notify.stages import Stage
    from review_calendar.store.due_changes import RegionDue

log = logging.getLogger(__name__)


def render_returned(
    programme: Programme, returned: ReturnedFile, *, as_of: dt.date, via_city: str | None = None
) -> Rendered:
    """The notice that an accepted file was returned for correction, with the comment and the new due date."""
    due = f"，请于{cn_date(returned.new_due, weekday=False)}前重新报送" if returned.new_due else ""
    subject = _subject(
        programme, f"{returned.instance.title}：报送材料退回修改{due} — {returned.region_name}"
    )
    body = _body(
        "returned.txt.j2",
        **_common(programme, returned.instance, as_of),
        addressee=_addressee(returned.region_name, via_city),
        region_name=returned.region_name,
        returned=returned,
        via_city=via_city,
    )
    return Rendered(subject, body)


def render_extension(
    programme: Programme, answer: ExtensionAnswer, *, as_of: dt.date, via_city: str | None = None
) -> Rendered:
    """The answer to a county's request for more time: granted to a date, or refused with the reason."""
    what = (
        f"同意延期至{cn_date(answer.due, weekday=False)}" if answer.granted else "不同意延期，原截止日期不变"
    )
    subject = _subject(programme, f"{answer.instance.title}延期申请：{what} — {answer.region_name}")
    body = _body(
        "extension.txt.j2",
        **_common(programme, answer.instance, as_of),
        addressee=_addressee(answer.region_name, via_city),
        region_name=answer.region_name,
        answer=answer,
        via_city=via_city,
    )
    return Rendered(subject, body)


def _queue(
    session: Session,
    programme: Programme,
    *,
    kind: str,
    instance_key: str,
    cycle_year: int,
    region_code: str,
    stage: str,
    render: Callable[[str | None], Rendered],
    created_on: dt.date,
) -> bool:
    book = ContactBook.load(session, programme, cycle_year)
    submitter = book.submitter(region_code)
    # A reviewer's answer must reach someone: the region, else its city, else the programme's division.
    rec = book.resolve(submitter, "city", last_resort=True)
    if rec.via_office:
        log.warning("%s of %s sent to the programme's division: region %s and its city have no valid contact",
                    kind, instance_key, region_code)  # fmt: skip
    via_city = book.region_name(submitter.city_code) if rec.via_city else None
    if rec.via_office:  # the letter says where it went and asks to pass it on
        via_city = programme.office.division
    rendered = render(via_city)
    return queue(
        session,
        kind=kind,
        programme_id=programme.id,
        instance_key=instance_key,
        region_code=region_code,
        stage=stage,
        to=rec.to,
        cc=rec.cc,
        subject=rendered.subject,
        body=rendered.body,
        created_on=created_on,
    )


def queue_returned(
    session: Session, programme: Programme, returned: ReturnedFile, *, created_on: dt.date
) -> bool:
    """Queue the county's notice that its file was returned; True when queued (once per returned file)."""
    return _queue(
        session,
        programme,
        kind="returned",
        instance_key=returned.instance.key,
        cycle_year=returned.instance.cycle_year,
        region_code=returned.region_code,
        stage=f"file_{returned.submission_id}",
        render=lambda via: render_returned(programme, returned, as_of=created_on, via_city=via),
        created_on=created_on,
    )


def queue_extension(
    session: Session, programme: Programme, answer: ExtensionAnswer, *, created_on: dt.date
) -> bool:
    """Queue the answer to a request for more time; True when queued (once per request and answer)."""
    verdict = "granted" if answer.granted else "refused"
    return _queue(
        session,
        programme,
        kind="extension",
        instance_key=answer.instance.key,
        cycle_year=answer.instance.cycle_year,
        region_code=answer.region_code,
        stage=f"{verdict}_{answer.requested.isoformat()}_{answer.due.isoformat()}",
        render=lambda via: render_extension(programme, answer, as_of=created_on, via_city=via),
        created_on=created_on,
    )


@dataclass(frozen=True, slots=True)
class OwnDue:
    """A due date one region owes instead of its instance's, and why (said in its reminders).

    Attributes:
        due: The region's due date; None for a file returned without a new due date
            (the return notice said what to do: it is not reminded).
        note: Why, in Chinese (the reminder's deadline block names it).
    """

    due: dt.date | None
    note: str


def own_due(instance: ObligationInstance, verdict: RegionState, changes: RegionDue | None) -> OwnDue | None:
    """The region's own due date for ``instance``: a returned file's new date, or an extension granted.

    Args:
        instance: The obligation instance.
        verdict: The region's state (:func:`review_calendar.aggregate.states.states_by_region`).
        changes: The region's due changes (None: none).

    Returns:
        None when the region owes the instance's due date.
    """
    if changes is None:
        return None
    # Returned (or its new date passed with no correction: missing): chased against the new date.
    if verdict.file is not None and verdict.file.id in changes.returns:
        return OwnDue(changes.returns[verdict.file.id], "报送材料经审阅退回修改，请在新的截止日期前重新报送")
    if changes.extended_to is not None and changes.extended_to > instance.effective_due:
        return OwnDue(
            changes.extended_to,
            f"经申请同意延期，原截止日期为{cn_date(instance.effective_due, weekday=False)}",
        )
    return None


def region_stage(
    schedule: ReminderSchedule, own: OwnDue, as_of: dt.date, calendar: WorkingCalendar
) -> Stage | None:
    """The day's reminder stage against the region's own due date (its name carries the date).

    The name keeps apart the reminders of the instance's date and of the region's:
    a reminder three days before an extended date is not the one sent three days
    before the original date.
    """
    if own.due is None:
        return None
    stage = reminder_stage(schedule, own.due, as_of, calendar)
    return None if stage is None else replace(stage, name=f"{stage.name}@{own.due.isoformat()}")
