"""Tables of the review database.

Every table that a task writes has a natural key (programme, year,
obligation, period, region...) with a unique constraint, so re-running a task
upserts instead of duplicating. Schema changes go through Alembic
(``review_calendar/migrations``); ``tests/unit/test_storage.py`` checks the
migrations and these models agree.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def attach_partial_indexes(dialect: str) -> None:
    """Give each partial index of :data:`PARTIAL_INDEXES` its WHERE clause for ``dialect``.

    Called for every engine made (:func:`review_calendar.store.db.get_engine`), before
    anything is compiled for it; calling it again changes nothing.

    Args:
        dialect: ``sqlite`` or ``postgresql`` (both support partial indexes).
    """
    for table in Base.metadata.tables.values():
        for index in table.indexes:
            where = PARTIAL_INDEXES.get(str(index.name))
            if where is not None and index.dialect_options[dialect]["where"] is None:
                index.dialect_options[dialect]["where"] = text(where)


class Region(Base):
    """Administrative divisions: province, city (incl. directly administered), county."""

    __tablename__ = "regions"
    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    level: Mapped[str] = mapped_column(String(16))
    parent_code: Mapped[str | None] = mapped_column(String(6), index=True)
    province_code: Mapped[str] = mapped_column(String(6), index=True)


class Cluster(Base):
    """An industrial cluster; it sits inside one county-level region."""

    __tablename__ = "clusters"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"), index=True)
    industry: Mapped[str] = mapped_column(String(64), default="")
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)


class Enrolment(Base):
    """A cluster's status in a programme: recognised on, valid until, status."""

    __tablename__ = "enrolments"
    programme_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    cluster_id: Mapped[str] = mapped_column(ForeignKey("clusters.id"), primary_key=True)
    recognised_on: Mapped[dt.date] = mapped_column(Date)
    valid_until: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="active")  # active, extended, revoked, completed
    status_reason: Mapped[str] = mapped_column(Text, default="")
    category: Mapped[str] = mapped_column(String(32), default="")


class Contact(Base):
    """Officials from the accepted contact list (the Mar 31 obligation)."""

    __tablename__ = "contacts"
    programme_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    cycle_year: Mapped[int] = mapped_column(Integer, primary_key=True)
    region_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    role: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    post: Mapped[str] = mapped_column(String(128), default="")
    office_phone: Mapped[str] = mapped_column(String(32), default="")
    mobile: Mapped[str] = mapped_column(String(32), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    submission_id: Mapped[int | None] = mapped_column(Integer)


class ObligationInstanceRow(Base):
    """One obligation of one cycle and period, with its computed dates and state."""

    __tablename__ = "obligation_instances"
    __table_args__ = (UniqueConstraint("programme_id", "cycle_year", "obligation_id", "period"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    programme_id: Mapped[str] = mapped_column(String(64))
    cycle_year: Mapped[int] = mapped_column(Integer)
    obligation_id: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(8), default="Y")
    title: Mapped[str] = mapped_column(String(128))
    statutory_due: Mapped[dt.date] = mapped_column(Date)
    effective_due: Mapped[dt.date] = mapped_column(Date)
    opens_on: Mapped[dt.date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(16), default="planned")  # planned, open, closed, aggregated
    # Who was expected at the first aggregation after the close (store.expected): re-runs reproduce the figures.
    expected: Mapped[list[Any] | None] = mapped_column(JSON, nullable=True)


_INSTANCE = ("programme_id", "cycle_year", "obligation_id", "period")
# Partial indexes: their WHERE clause by index name. It is attached for the dialect of each engine
# made (store.db.get_engine) rather than declared here for both: a ``postgresql_where`` here loads
# SQLAlchemy's PostgreSQL dialect in every SQLite command (tens of milliseconds of a county's answer).
PARTIAL_INDEXES = {"uq_submissions_content_no_region": "region_code IS NULL"}


class Submission(Base):
    """A received file: its content hash, outcome and where it is kept."""

    __tablename__ = "submissions"
    __table_args__ = (
        # One row per content and region: the same bytes from two regions are two submissions;
        # and one per content without a region, as NULLs never collide in a unique key.
        UniqueConstraint(
            *_INSTANCE, "region_code", "content_hash", name="uq_submissions_instance_region_content"
        ),
        Index("uq_submissions_content_no_region", *_INSTANCE, "content_hash", unique=True),
        Index("ix_submissions_instance_region", *_INSTANCE, "region_code"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    programme_id: Mapped[str] = mapped_column(String(64))
    cycle_year: Mapped[int] = mapped_column(Integer)
    obligation_id: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(8), default="Y")
    region_code: Mapped[str | None] = mapped_column(String(6))
    file_name: Mapped[str] = mapped_column(String(255))
    stored_path: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer, default=0)
    received_on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))  # accepted, rejected, superseded
    is_late: Mapped[bool] = mapped_column(Boolean, default=False)
    row_count: Mapped[int] = mapped_column(Integer, default=0)
    error_count: Mapped[int] = mapped_column(Integer, default=0)
    superseded_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    # What an accepted file still waits for before it counts as submitted ("approval": the
    # county government's approval of a development plan, 冀工信产业〔2016〕93号 二); "" for nothing.
    awaiting: Mapped[str] = mapped_column(String(16), default="", server_default="")
    # When the province received the file (to the second; ``received_on`` is its day in
    # Asia/Shanghai) and the 受理编号 of the receipt in force (accepted files only).
    received_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    receipt_no: Mapped[str | None] = mapped_column(String(64))


class Receipt(Base):
    """One receipt of an accepted file: its 受理编号 and when it was received.

    A file sent again after another version (same bytes) is a new receipt of the
    same submission; a re-run of one receipt finds its row (``submission_id``, ``received_at``).
    """

    __tablename__ = "receipts"
    __table_args__ = (UniqueConstraint("receipt_no"), UniqueConstraint("submission_id", "received_at"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    receipt_no: Mapped[str] = mapped_column(String(64))
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
    # Declared so one flush writes a submission before the rows that refer to it (intake stores a
    # chunk of files with ids set aside and one flush); never loaded.
    submission: Mapped[Submission] = relationship(lazy="raise_on_sql")
    programme_id: Mapped[str] = mapped_column(String(64))
    cycle_year: Mapped[int] = mapped_column(Integer)
    obligation_id: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(8))
    seq: Mapped[int] = mapped_column(Integer)
    region_code: Mapped[str | None] = mapped_column(String(6))
    file_name: Mapped[str] = mapped_column(String(255))
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class InboxSighting(Base):
    """When an inbox sweep first saw a file (by content and upload region): its receipt time never moves forward."""

    __tablename__ = "inbox_sightings"
    __table_args__ = (
        Index("ix_inbox_sightings_instance", "programme_id", "cycle_year", "obligation_id", "period"),
    )
    file_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    programme_id: Mapped[str] = mapped_column(String(64))
    cycle_year: Mapped[int] = mapped_column(Integer)
    obligation_id: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(Text)
    first_seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    # The file was answered and stays where it is (e.g. "too_large": rejected unread): not judged again.
    answered: Mapped[str | None] = mapped_column(String(16), nullable=True)


class Attachment(Base):
    """A document sent with a submission (the plan itself, its approval): kept, hashed, never opened.

    ``status`` is ``kept`` (its type checked by its first bytes, copied beside the
    accepted file) or ``rejected`` (``reason`` says why; the copy is in quarantine).
    """

    __tablename__ = "attachments"
    __table_args__ = (UniqueConstraint("submission_id", "sha256"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
    submission: Mapped[Submission] = relationship(lazy="raise_on_sql")  # as Receipt.submission
    kind: Mapped[str] = mapped_column(String(16))  # approval, plan
    file_name: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(8))  # pdf, doc, docx, ofd ("" when unrecognised)
    sha256: Mapped[str] = mapped_column(String(64))
    size_bytes: Mapped[int] = mapped_column(Integer)
    stored_path: Mapped[str] = mapped_column(Text)
    received_on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))  # kept, rejected
    reason: Mapped[str] = mapped_column(Text, default="")


class SubmissionError(Base):
    """One problem found in a rejected file, in words an official understands."""

    __tablename__ = "submission_errors"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
    submission: Mapped[Submission] = relationship(lazy="raise_on_sql")  # as Receipt.submission
    sheet: Mapped[str | None] = mapped_column(String(64))
    row: Mapped[int | None] = mapped_column(Integer)
    column: Mapped[str | None] = mapped_column(String(64))
    value: Mapped[str | None] = mapped_column(Text)
    code: Mapped[str] = mapped_column(String(48))
    message: Mapped[str] = mapped_column(Text)
    severity: Mapped[str] = mapped_column(String(8), default="error")


class DatasetRow(Base):
    """A normalised row of an accepted submission (the data the gates and aggregation read)."""

    __tablename__ = "dataset_rows"
    __table_args__ = (UniqueConstraint("submission_id", "sheet", "row_no"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
    submission: Mapped[Submission] = relationship(lazy="raise_on_sql")  # as Receipt.submission
    dataset: Mapped[str] = mapped_column(String(64), index=True)
    sheet: Mapped[str] = mapped_column(String(64), default="")
    row_no: Mapped[int] = mapped_column(Integer)
    region_code: Mapped[str | None] = mapped_column(String(6), index=True)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)


class GateRun(Base):
    """The verdict of one data-quality gate over an assembled dataset."""

    __tablename__ = "gate_runs"
    __table_args__ = (
        UniqueConstraint("programme_id", "cycle_year", "obligation_id", "period", "gate", "run_id"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    programme_id: Mapped[str] = mapped_column(String(64))
    cycle_year: Mapped[int] = mapped_column(Integer)
    obligation_id: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(8), default="Y")
    gate: Mapped[str] = mapped_column(String(64))
    run_id: Mapped[str] = mapped_column(String(250))
    success: Mapped[bool] = mapped_column(Boolean)
    critical_failures: Mapped[int] = mapped_column(Integer, default=0)
    warnings: Mapped[int] = mapped_column(Integer, default=0)
    summary: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    html_path: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class Aggregate(Base):
    """A key figure of a provincial aggregation, per region (city, county or province)."""

    __tablename__ = "aggregates"
    programme_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    cycle_year: Mapped[int] = mapped_column(Integer, primary_key=True)
    obligation_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    period: Mapped[str] = mapped_column(String(8), primary_key=True)
    region_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    metric: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[float | None] = mapped_column(Float)
    text: Mapped[str] = mapped_column(Text, default="")


class OutboxMessage(Base):
    """Every e-mail goes through this outbox, keyed by (instance, recipient, stage): sent once."""

    __tablename__ = "outbox"
    __table_args__ = (UniqueConstraint("natural_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    natural_key: Mapped[str] = mapped_column(String(400))
    kind: Mapped[str] = mapped_column(String(32))  # notice, reminder, rejection, decision, gap_report
    programme_id: Mapped[str] = mapped_column(String(64), index=True)
    instance_key: Mapped[str] = mapped_column(String(200), index=True)
    region_code: Mapped[str | None] = mapped_column(String(6))
    stage: Mapped[str] = mapped_column(String(32))
    to_addrs: Mapped[list[Any]] = mapped_column(JSON)
    cc_addrs: Mapped[list[Any]] = mapped_column(JSON, default=list)
    subject: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    attachments: Mapped[list[Any]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued, sent, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    created_on: Mapped[dt.date] = mapped_column(Date)
    sent_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    # Each recipient's outcome, ``{addr: {"state": "accepted"|"refused", "code": int, "tries": int}}``
    # (None until the first try); refused recipients are retried alone (notify.refusals).
    recipients: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    # The sending lease: who claimed the message and until when (notify.delivery).
    lease_owner: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lease_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # An answer to a submission e-mail: ``{"in_reply_to": "<…>", "references": ["<…>", …]}`` (None: none).
    thread: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class Evaluation(Base):
    """A third-party evaluation score of a cluster for a cycle."""

    __tablename__ = "evaluations"
    programme_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    cycle_year: Mapped[int] = mapped_column(Integer, primary_key=True)
    cluster_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    evaluator: Mapped[str] = mapped_column(String(128))
    score: Mapped[float] = mapped_column(Float)
    violation: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str] = mapped_column(Text, default="")
    submission_id: Mapped[int | None] = mapped_column(Integer)


class Finding(Base):
    """A reviewer's recorded finding (工信部企业〔2022〕119号 第十七条 conditions 2, 4, 5)."""

    __tablename__ = "findings"
    __table_args__ = (UniqueConstraint("programme_id", "cluster_id", "cycle_year", "condition"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    programme_id: Mapped[str] = mapped_column(String(64))
    cluster_id: Mapped[str] = mapped_column(String(64))
    cycle_year: Mapped[int] = mapped_column(Integer)
    condition: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by: Mapped[str] = mapped_column(String(64), default="")


class Decision(Base):
    """An audited decision: the rule applied, the figures used, the run that made it."""

    __tablename__ = "decisions"
    __table_args__ = (UniqueConstraint("programme_id", "cycle_year", "kind", "subject"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    programme_id: Mapped[str] = mapped_column(String(64))
    cycle_year: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(32))  # acceptance, gate, evaluation, re_review, clawback
    subject: Mapped[str] = mapped_column(String(200))
    outcome: Mapped[str] = mapped_column(String(32))
    rule: Mapped[str] = mapped_column(Text)
    clause: Mapped[str] = mapped_column(Text)
    figures: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    run_id: Mapped[str] = mapped_column(String(250), default="")
    decided_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class DecisionReview(Base):
    """One Required Action asked about a proposal, and its answer: who decided what, when and why.

    A proposal asked again (a change without a reason, material returned and
    resubmitted) gets a new round; a re-run that finds a round open asks nothing.
    """

    __tablename__ = "decision_reviews"
    __table_args__ = (UniqueConstraint("decision_id", "round"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id", ondelete="CASCADE"), index=True)
    round: Mapped[int] = mapped_column(Integer, default=1)
    proposed_outcome: Mapped[str] = mapped_column(String(32))
    dag_id: Mapped[str] = mapped_column(String(250), default="")
    run_id: Mapped[str] = mapped_column(String(250), default="")
    task_id: Mapped[str] = mapped_column(String(250), default="")
    map_index: Mapped[int] = mapped_column(Integer, default=-1)
    asked_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)
    note: Mapped[str] = mapped_column(Text, default="")  # why it is asked (again)
    answer: Mapped[str | None] = mapped_column(String(16), nullable=True)  # approve, change, return
    outcome: Mapped[str | None] = mapped_column(String(32), nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    new_due: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    escalations: Mapped[int] = mapped_column(Integer, default=0)
    escalated_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)


class Subsidy(Base):
    """Subsidy ledger: grants and claw-backs per cluster (or firm) and year."""

    __tablename__ = "subsidies"
    __table_args__ = (UniqueConstraint("programme_id", "beneficiary", "cycle_year", "kind"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    programme_id: Mapped[str] = mapped_column(String(64))
    beneficiary: Mapped[str] = mapped_column(String(128))
    region_code: Mapped[str | None] = mapped_column(String(6))
    cycle_year: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # granted, clawback
    amount_wan_yuan: Mapped[float] = mapped_column(Float)
    rule: Mapped[str] = mapped_column(Text, default="")


class RecordedFact(Base):
    """A fact only the province or MIIT knows, entered by a person: a counselling visit, a meeting
    held or not held, MIIT's decision on a recommendation, a recognition decided elsewhere.

    Keyed by (programme, kind, natural key), so recording the same fact again
    updates it (its details, who and when) instead of adding a second row.
    """

    __tablename__ = "recorded_facts"
    __table_args__ = (UniqueConstraint("programme_id", "kind", "natural_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    programme_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))  # visit, meeting, miit_decision, recognition, re_review
    natural_key: Mapped[str] = mapped_column(String(200))
    cycle_year: Mapped[int] = mapped_column(Integer, index=True)
    period: Mapped[str] = mapped_column(String(8), default="")
    subject: Mapped[str] = mapped_column(String(200), default="")  # cluster id or firm name
    on_date: Mapped[dt.date | None] = mapped_column(Date)
    outcome: Mapped[str] = mapped_column(String(32), default="")
    reference: Mapped[str] = mapped_column(String(128), default="")  # 文号
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    recorded_by: Mapped[str] = mapped_column(String(128))
    recorded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    source: Mapped[str] = mapped_column(String(16))  # cli, airflow


class DueChange(Base):
    """A due date one region owes instead of the instance's: an extension granted, or a file returned.

    ``kind`` is ``extension`` (a county's request for more time, granted: ``due`` is the
    granted date) or ``return`` (a reviewer returned the accepted file ``submission_id``
    for correction: ``due`` is the new due date, None when the reviewer set none). One
    row per answered decision, so applying an answer again changes nothing.
    """

    __tablename__ = "due_changes"
    __table_args__ = (
        UniqueConstraint("decision_id"),
        Index("ix_due_changes_instance", "programme_id", "cycle_year", "obligation_id", "period"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id", ondelete="CASCADE"))
    programme_id: Mapped[str] = mapped_column(String(64))
    cycle_year: Mapped[int] = mapped_column(Integer)
    obligation_id: Mapped[str] = mapped_column(String(64))
    period: Mapped[str] = mapped_column(String(8), default="Y")
    region_code: Mapped[str] = mapped_column(String(6))
    kind: Mapped[str] = mapped_column(String(16))  # extension, return
    submission_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    due: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    comment: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[str] = mapped_column(String(128), default="")
    decided_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class MailMessage(Base):
    """A message of the submissions mailbox, taken in once: by its UIDVALIDITY and UID, and its Message-ID.

    ``status``: ``taking`` (claimed, its attachments being taken in; a crash leaves it so and the
    next run takes it again, duplicates recognised by content) or ``done`` (answered; what is
    left is moving it to the processed folder).
    """

    __tablename__ = "mail_messages"
    __table_args__ = (UniqueConstraint("mailbox", "uidvalidity", "uid"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    mailbox: Mapped[str] = mapped_column(String(200))
    uidvalidity: Mapped[int] = mapped_column(BigInteger)
    uid: Mapped[int] = mapped_column(BigInteger)
    message_id: Mapped[str] = mapped_column(String(500), index=True, default="")
    sender: Mapped[str] = mapped_column(String(320), default="")
    subject: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(16), default="taking")  # taking, done
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=_now)


class MailItem(Base):
    """One attachment of a submission e-mail: taken in, held for an operator, quarantined or skipped."""

    __tablename__ = "mail_items"
    __table_args__ = (UniqueConstraint("mail_id", "position"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    mail_id: Mapped[int] = mapped_column(ForeignKey("mail_messages.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64), default="")
    size_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    stored_path: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16))  # taken, held, quarantined, skipped, released
    reason: Mapped[str] = mapped_column(Text, default="")
    instance_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    region_code: Mapped[str | None] = mapped_column(String(6), nullable=True)
    outcome: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
