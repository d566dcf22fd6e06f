"""obligation_instances.expected: who was expected when the instance was first aggregated after its close

Revision ID: sweep_0001
Revises: returns_0001
Create Date: 2026-11-30 20:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "sweep_0001"
down_revision = "returns_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("obligation_instances", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expected", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("obligation_instances", schema=None) as batch_op:
        batch_op.drop_column("expected")
