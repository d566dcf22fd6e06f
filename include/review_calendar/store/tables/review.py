"""The province's review: gate runs, aggregates, findings, subsidies, recorded facts, and the
Required Actions that asked reviewers about proposals, with their answers.

Part of :mod:`review_calendar.store.models`, which holds every table.
"""

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

# A foreign key of this module refers to ``decisions.id``: its table must be in the metadata too.
from review_calendar.store.tables import decisions  # noqa: F401
from review_calendar.store.tables.base import Base, utc_now


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
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


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
    asked_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    note: Mapped[str] = mapped_column(Text, default="")  # why it is asked (again)
    answer: Mapped[str | None] = mapped_column(String(16), nullable=True)  # approve, change, return
    outcome: Mapped[str | None] = mapped_column(String(32), nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    new_due: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    decided_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    escalations: Mapped[int] = mapped_column(Integer, default=0)
    escalated_on: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
