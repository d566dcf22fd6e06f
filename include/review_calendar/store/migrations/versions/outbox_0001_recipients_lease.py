"""outbox: each recipient's outcome and the sending lease

Revision ID: outbox_0001
Revises: receipts_0001
Create Date: 2026-11-30 20:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "outbox_0001"
down_revision = "receipts_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("recipients", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("lease_owner", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("lease_until")
        batch_op.drop_column("lease_owner")
        batch_op.drop_column("recipients")
