"""What a reviewer's answer on a file or a request for more time does, across stages.

Importing this module registers the effects of the two kinds with
:func:`review_calendar.decide.effects.register`, so
:func:`~review_calendar.decide.effects.apply_effect` applies them once the
answer is taken:

- ``submission_review``: ``submission_accepted`` changes nothing more;
  ``submission_returned`` (a reviewer's change to it) returns the file, as
  :func:`return_submission` does for the Required Action's ``退回补充材料``;
- ``extension``: ``extension_granted`` moves the region's due date (the
  reviewer's date, if the answer gives one, wins over the date asked for) and
  tells the county; ``extension_refused`` tells the county why, and the
  original due date stands.

The decision stage records what changed (:mod:`review_calendar.decide.returns`,
:mod:`review_calendar.decide.extensions`); the notify stage queues the
county's e-mail (:mod:`review_calendar.notify.returns`) in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from review_calendar.decide import extensions, returns
from review_calendar.decide.effects import register
from review_calendar.domain.calendar import TZ
from review_calendar.notify.returns import queue_extension, queue_returned

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from review_calendar.domain.programmes import Programme
    from review_calendar.store.tables.decisions import Decision


def _answered_on(session: Session, decision: Decision) -> dt.date:
    """The day of the answer (Asia/Shanghai), the notice's date; today when the ledger has none."""
    review = returns.last_answer(session, decision.id)
    at = review.decided_at if review is not None and review.decided_at else dt.datetime.now(dt.UTC)
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)
    return at.astimezone(TZ).date()


def return_submission(
    session: Session,
    programme: Programme,
    decision: Decision,
    comment: str,
    new_due: dt.date | None,
    by: str,
) -> bool:
    """Return the file of a ``submission_review`` proposal: state 退回修改 and the county's e-mail.

    Call it when a reviewer answers ``return`` (退回补充材料) on a proposal of kind
    ``submission_review``; a change of the outcome to ``submission_returned`` calls it
    through the registered effect. Applying it again records and mails nothing new.

    Args:
        session: Open session; the caller commits.
        programme: The programme.
        decision: The proposal.
        comment: What the county must correct (the reviewer's reason).
        new_due: The new due date (None: the return holds until a corrected file arrives).
        by: The reviewer.

    Returns:
        True when the return was recorded now.
    """
    returned = returns.apply_return(session, programme, decision, comment, new_due, by)
    if returned is None:
        return False
    queue_returned(session, programme, returned, created_on=_answered_on(session, decision))
    return returned.new


def submission_review_effect(
    session: Session, programme: Programme, decision: Decision, outcome: str, by: str
) -> None:
    """The effect of an answered file review: only a return does something."""
    if outcome != "submission_returned":
        return
    comment, new_due = returns.answered_comment_and_due(session, decision)
    return_submission(session, programme, decision, comment, new_due, by)


def extension_effect(
    session: Session, programme: Programme, decision: Decision, outcome: str, by: str
) -> None:
    """The effect of an answered request for more time: the region's new due date, and the county's e-mail."""
    reason, new_due = returns.answered_comment_and_due(session, decision)
    answer = extensions.apply_extension(
        session, programme, decision, outcome, new_due=new_due, reason=reason, by=by
    )
    if answer is not None:
        queue_extension(session, programme, answer, created_on=_answered_on(session, decision))


register(returns.KIND, submission_review_effect)
register(extensions.KIND, extension_effect)
