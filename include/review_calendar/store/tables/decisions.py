"""Decisions: the audited decisions and the Required Actions that asked reviewers about them.

Part of :mod:`review_calendar.store.models`, which holds every table.
"""

from __future__ import annotations

import datetime as dt  # noqa: TC003 (SQLAlchemy reads Mapped[dt.date] at run time)
from typing import Any

from sqlalchemy import (
    JSON,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from review_calendar.store.tables.base import Base, utc_now


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
    decided_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


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
