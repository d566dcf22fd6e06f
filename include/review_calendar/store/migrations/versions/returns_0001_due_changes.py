"""due changes: extensions granted and files returned, per region and obligation instance

Revision ID: returns_0001
Revises: hitl_0001
Create Date: 2026-11-30 17:55:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "returns_0001"
down_revision = "hitl_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "due_changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("decision_id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.String(length=64), nullable=False),
        sa.Column("cycle_year", sa.Integer(), nullable=False),
        sa.Column("obligation_id", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=True),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("decided_by", sa.String(length=128), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["decision_id"],
            ["decisions.id"],
            name=op.f("fk_due_changes_decision_id_decisions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_due_changes")),
        sa.UniqueConstraint("decision_id", name=op.f("uq_due_changes_decision_id")),
    )
    with op.batch_alter_table("due_changes", schema=None) as batch_op:
        batch_op.create_index(
            "ix_due_changes_instance", ["programme_id", "cycle_year", "obligation_id", "period"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("due_changes", schema=None) as batch_op:
        batch_op.drop_index("ix_due_changes_instance")
    op.drop_table("due_changes")
