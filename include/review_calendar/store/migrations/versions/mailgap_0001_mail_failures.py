"""mail intake: failed attempts per message of the submissions mailbox, given up after three

Revision ID: mailgap_0001
Revises: mail17_0001
Create Date: 2026-12-01 03:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "mailgap_0001"
down_revision = "mail17_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mail_failures",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("mailbox", sa.String(length=200), nullable=False),
        sa.Column("uidvalidity", sa.BigInteger(), nullable=False),
        sa.Column("uid", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.String(length=500), nullable=False),
        sa.Column("sender", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("rounds", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mail_failures")),
        sa.UniqueConstraint("mailbox", "uidvalidity", "uid", name=op.f("uq_mail_failures_mailbox")),
    )


def downgrade() -> None:
    op.drop_table("mail_failures")
