"""recorded facts: counselling visits, meetings, MIIT decisions, recognitions

Revision ID: cd_0001
Revises: 0001
Create Date: 2026-11-30 14:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "cd_0001"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "recorded_facts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("programme_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("natural_key", sa.String(length=200), nullable=False),
        sa.Column("cycle_year", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("on_date", sa.Date(), nullable=True),
        sa.Column("outcome", sa.String(length=32), nullable=False),
        sa.Column("reference", sa.String(length=128), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("recorded_by", sa.String(length=128), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recorded_facts")),
        sa.UniqueConstraint(
            "programme_id", "kind", "natural_key", name=op.f("uq_recorded_facts_programme_id")
        ),
    )
    op.create_index(op.f("ix_recorded_facts_cycle_year"), "recorded_facts", ["cycle_year"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_recorded_facts_cycle_year"), table_name="recorded_facts")
    op.drop_table("recorded_facts")
