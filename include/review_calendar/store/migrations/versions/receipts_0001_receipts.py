"""receipts: when a file was received (to the second), its 受理编号, and when the inbox first saw it

Revision ID: receipts_0001
Revises: sweep_0001
Create Date: 2026-11-30 20:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "receipts_0001"
down_revision = "sweep_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("received_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("receipt_no", sa.String(length=64), nullable=True))
    op.create_table(
        "receipts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("receipt_no", sa.String(length=64), nullable=False),
        sa.Column("submission_id", sa.Integer(), nullable=False),
        sa.Column("programme_id", sa.String(length=64), nullable=False),
        sa.Column("cycle_year", sa.Integer(), nullable=False),
        sa.Column("obligation_id", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=True),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["submission_id"],
            ["submissions.id"],
            name=op.f("fk_receipts_submission_id_submissions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_receipts")),
        sa.UniqueConstraint("receipt_no", name=op.f("uq_receipts_receipt_no")),
        sa.UniqueConstraint("submission_id", "received_at", name=op.f("uq_receipts_submission_id")),
    )
    with op.batch_alter_table("receipts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_receipts_submission_id"), ["submission_id"], unique=False)
    op.create_table(
        "inbox_sightings",
        sa.Column("file_key", sa.String(length=64), nullable=False),
        sa.Column("programme_id", sa.String(length=64), nullable=False),
        sa.Column("cycle_year", sa.Integer(), nullable=False),
        sa.Column("obligation_id", sa.String(length=64), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("file_key", name=op.f("pk_inbox_sightings")),
    )
    with op.batch_alter_table("inbox_sightings", schema=None) as batch_op:
        batch_op.create_index(
            "ix_inbox_sightings_instance",
            ["programme_id", "cycle_year", "obligation_id", "period"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("inbox_sightings", schema=None) as batch_op:
        batch_op.drop_index("ix_inbox_sightings_instance")
    op.drop_table("inbox_sightings")
    with op.batch_alter_table("receipts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_receipts_submission_id"))
    op.drop_table("receipts")
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_column("receipt_no")
        batch_op.drop_column("received_at")
