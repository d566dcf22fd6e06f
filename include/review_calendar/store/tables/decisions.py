"""The decision log: every decision audited with its rule, figures and run.

The reviewers' answers to proposals are in :mod:`.review` (``DecisionReview``).

Part of :mod:`review_calendar.store.models`, which holds every table.
"""

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
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
