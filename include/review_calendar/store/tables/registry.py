"""Who is supervised: regions, clusters and their enrolments.

And what accepted files say of them: the contact list's officials, the evaluation scores.

Part of :mod:`review_calendar.store.models`, which holds every table.
"""

import datetime as dt

from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from review_calendar.store.tables.base import Base


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
