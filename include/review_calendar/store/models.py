"""Tables of the review database: every one, for what needs the whole schema.

Every table that a task writes has a natural key (programme, year,
obligation, period, region...) with a unique constraint, so re-running a task
upserts instead of duplicating. Schema changes go through Alembic
(``review_calendar/migrations``); ``tests/unit/test_storage.py`` checks the
migrations and these models agree.

The tables are defined by area in :mod:`review_calendar.store.tables`; this
module imports them all, so that ``Base.metadata`` holds the whole schema for
the migrations and the tests. Product code imports the areas it uses (a
county's file from a cold start maps only what it writes).
"""

from __future__ import annotations

from review_calendar.store.mail_failures import MailFailure
from review_calendar.store.tables.base import NAMING, Base, utc_now
from review_calendar.store.tables.decisions import Decision
from review_calendar.store.tables.intake import (
    PARTIAL_INDEXES,
    Attachment,
    DatasetRow,
    DueChange,
    InboxSighting,
    ObligationInstanceRow,
    Receipt,
    Submission,
    SubmissionError,
    attach_partial_indexes,
)
from review_calendar.store.tables.mail import MailItem, MailMessage, OutboxMessage
from review_calendar.store.tables.registry import Cluster, Contact, Enrolment, Evaluation, Region
from review_calendar.store.tables.review import (
    Aggregate,
    DecisionReview,
    Finding,
    GateRun,
    RecordedFact,
    Subsidy,
)

__all__ = [
    "NAMING",
    "PARTIAL_INDEXES",
    "Aggregate",
    "Attachment",
    "Base",
    "Cluster",
    "Contact",
    "DatasetRow",
    "Decision",
    "DecisionReview",
    "DueChange",
    "Enrolment",
    "Evaluation",
    "Finding",
    "GateRun",
    "InboxSighting",
    "MailFailure",
    "MailItem",
    "MailMessage",
    "ObligationInstanceRow",
    "OutboxMessage",
    "Receipt",
    "RecordedFact",
    "Region",
    "Submission",
    "SubmissionError",
    "Subsidy",
    "attach_partial_indexes",
    "utc_now",
]
