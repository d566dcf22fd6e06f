"""submissions: one row per content and region; inbox sightings: answered files that stay

The same bytes from two regions are two submissions. A file over the size
limit is answered once: its sighting remembers it.

Revision ID: inbox15_0001
Revises: outbox_0001
Create Date: 2026-12-01 00:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "inbox15_0001"
down_revision = "outbox_0001"
branch_labels = None
depends_on = None

_INSTANCE = ["programme_id", "cycle_year", "obligation_id", "period"]


def upgrade() -> None:
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_constraint("uq_submissions_programme_id", type_="unique")
        batch_op.create_unique_constraint(
            "uq_submissions_instance_region_content", [*_INSTANCE, "region_code", "content_hash"]
        )
    with op.batch_alter_table("inbox_sightings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("answered", sa.String(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("inbox_sightings", schema=None) as batch_op:
        batch_op.drop_column("answered")
    with op.batch_alter_table("submissions", schema=None) as batch_op:
        batch_op.drop_constraint("uq_submissions_instance_region_content", type_="unique")
        batch_op.create_unique_constraint("uq_submissions_programme_id", [*_INSTANCE, "content_hash"])
