"""Notices that follow an event: a rejected file, a decision on a cluster.

Each is queued in the outbox (:func:`review_calendar.notify.outbox.queue`)
under a natural key, so a retried task queues nothing twice. The caller
(the task entry points) decides when: intake's rejections in the file's own
transaction, decision notices once the decisions are recorded.
"""

from __future__ import annotations

import hashlib
import logging
from typing import TYPE_CHECKING

from sqlalchemy import select

from review_calendar.notify.outbox import queue
from review_calendar.notify.recipients import ContactBook, office_mailbox
from review_calendar.notify.render import (
    MAX_LISTED_ERRORS,
    Problem,
    Rejection,
    render_decision,
    render_decision_gap_report,
    render_rejection,
)
from review_calendar.store.tables.intake import Submission, SubmissionError

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable

    from sqlalchemy.orm import Session

    from review_calendar.domain.programmes import ObligationInstance, Programme
    from review_calendar.notify.render import DecisionNotice, Rendered

log = logging.getLogger(__name__)


def rejection_of(session: Session, submission_id: int, file_name: str, received_on: dt.date) -> Rejection:
    """A rejected file with the problems intake recorded (errors before warnings, at most 10 listed).

    Args:
        session: Open session.
        submission_id: The rejected submission.
        file_name: Its file name as the county named it.
        received_on: When it was received.

    Returns:
        The rejection; ``total`` counts every error (or every warning when there is no error).
    """
    rows = list(
        session.scalars(
            select(SubmissionError)
            .where(SubmissionError.submission_id == submission_id)
            .order_by(SubmissionError.id)
        )
    )
    errors = [e for e in rows if e.severity == "error"] or rows
    problems = tuple(Problem(e.sheet, e.row, e.column, e.message) for e in errors[:MAX_LISTED_ERRORS])
    return Rejection(file_name, received_on, problems, len(errors))


def queue_rejection(
    session: Session,
    programme: Programme,
    instance: ObligationInstance,
    submission_id: int,
    *,
    created_on: dt.date,
    book: ContactBook | None = None,
) -> bool:
    """Queue the notice that a submitted file was rejected, with its problems.

    Args:
        session: Open session.
        programme: The programme.
        instance: The instance the file was submitted for.
        submission_id: The rejected submission.
        created_on: The day of the notice.
        book: Contacts already loaded (planning many notices); loaded when omitted.

    Returns:
        True when queued; False when already queued, not a rejected file of a
        region, or the region cannot be reached (logged).
    """
    sub = session.get(Submission, submission_id)
    if sub is None or sub.status != "rejected" or not sub.region_code:
        return False
    return queue_to_submitter(
        session, programme, instance, sub.region_code, kind="rejection", stage=f"file_{sub.id}",
        what=f"Rejection of submission {sub.id}", created_on=created_on, book=book,
        render=lambda region_name, via_city: render_rejection(
            programme, instance, rejection_of(session, sub.id, sub.file_name, sub.received_on),
            region_name=region_name, as_of=created_on, via_city=via_city,
        ),
    )  # fmt: skip


def queue_to_submitter(
    session: Session,
    programme: Programme,
    instance: ObligationInstance,
    region_code: str,
    *,
    kind: str,
    stage: str,
    what: str,
    render: Callable[[str, str | None], Rendered],
    created_on: dt.date,
    book: ContactBook | None = None,
) -> bool:
    """Queue the answer about a file (its rejection, its 回执) to the region that submitted it.

    The region's contact receives it, its city bureau is copied
    (:meth:`ContactBook.resolve`); without a contact nothing is queued and the
    gap is logged (no address in the log).

    Args:
        session: Open session.
        programme, instance: What the file was for.
        region_code: The submitting region.
        kind, stage: The outbox message's kind and stage (its natural key with the instance and region).
        what: Names the answer in the log line.
        render: ``(region_name, via_city or None)`` → the rendered message.
        created_on: The day of the message.
        book: Contacts already loaded; loaded when omitted.

    Returns:
        True when queued; False when already queued or the region cannot be reached.
    """
    book = book or ContactBook.load(session, programme, instance.cycle_year)
    submitter = book.submitter(region_code)
    rec = book.resolve(submitter)
    if not rec.to:
        log.warning("%s not sent: region %s has no valid contact", what, region_code)
        return False
    rendered = render(submitter.region_name, book.region_name(submitter.city_code) if rec.via_city else None)
    return queue(
        session,
        kind=kind,
        programme_id=programme.id,
        instance_key=instance.key,
        region_code=region_code,
        stage=stage,
        to=rec.to,
        cc=rec.cc,
        subject=rendered.subject,
        body=rendered.body,
        created_on=created_on,
    )


def queue_decision(
    session: Session,
    programme: Programme,
    decision: DecisionNotice,
    *,
    instance_key: str,
    region_code: str,
    created_on: dt.date,
    book: ContactBook | None = None,
) -> bool:
    """Queue the notice of an evaluation or re-review outcome to the cluster's region.

    Every decision reaches someone: the region's contact, else its city bureau's,
    else the programme's responsible division (the one fallback chain,
    :meth:`ContactBook.resolve` with ``last_resort``); a notice sent to the
    division says why and names the region, and the gap is reported to the
    division (``gap_report``). The city bureau's leader in charge is copied: the
    city bureaus supervise the pilots (冀工信产业〔2016〕93号 一). A changed
    outcome is a new message.

    Args:
        session: Open session.
        programme: The programme.
        decision: The outcome, reason and clause.
        instance_key: The instance that decided (e.g. the evaluation's).
        region_code: The cluster's region.
        created_on: The day of the notice.
        book: Contacts already loaded; loaded when omitted.

    Returns:
        True when the notice was queued; False when it was already queued.
    """
    book = book or ContactBook.load(session, programme, decision.cycle_year)
    submitter = book.submitter(region_code)
    rec = book.resolve(submitter, "city", last_resort=True)
    city_name = book.region_name(submitter.city_code)
    if rec.via_office:
        log.warning(
            "Decision on %s sent to the programme's division: region %s and its city have no valid contact",
            decision.subject,
            region_code,
        )
    rendered = render_decision(
        programme,
        decision,
        region_name=submitter.region_name,
        via_city=city_name if rec.via_city else None,
        via_office_city=city_name if rec.via_office else None,
    )
    stage = decision_stage(decision)
    queued = queue(
        session,
        kind="decision",
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
    if rec.via_city or rec.via_office:  # the region (and its city) lack a contact: not a missing copy
        report = render_decision_gap_report(programme, decision, rec.gaps, as_of=created_on)
        queue(
            session,
            kind="gap_report",
            programme_id=programme.id,
            instance_key=instance_key,
            region_code=region_code,
            stage=decision_stage(decision, prefix="gap"),
            to=[office_mailbox(programme)],
            subject=report.subject,
            body=report.body,
            created_on=created_on,
        )
    return queued


def decision_stage(decision: DecisionNotice, prefix: str = "") -> str:
    """The stage part of a decision notice's natural key: kind, outcome and the subject's digest.

    A changed outcome gives a new key (a new message); the digest keeps clusters apart.
    With ``prefix`` (``gap``: the contact-gap report of the notice) the key is the
    prefix, the kind and the digest: one report per decision, whatever its outcome.
    """
    digest = hashlib.sha256(decision.subject.encode()).hexdigest()[:8]
    if prefix:
        return f"{prefix}_{decision.kind}"[:23] + f"_{digest}"
    return f"{decision.kind}_{decision.outcome}"[:23] + f"_{digest}"
