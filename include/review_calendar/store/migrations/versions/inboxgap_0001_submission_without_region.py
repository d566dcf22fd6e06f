"""submissions: one row per content among the files whose region could not be read

The unique key (instance, region_code, content_hash) never collides on a NULL
region_code; a partial unique index does, on SQLite and PostgreSQL alike. Rows
recorded twice before it (the same rejected bytes, no region) keep the first.

Revision ID: inboxgap_0001
Revises: mailgap_0001
Create Date: 2026-12-01 03:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "inboxgap_0001"
down_revision = "mailgap_0001"
branch_labels = None
depends_on = None

_INSTANCE = ["programme_id", "cycle_year", "obligation_id", "period"]
_NAME = "uq_submissions_content_no_region"
_LATER_COPIES = """
    SELECT s.id FROM submissions s
    WHERE s.region_code IS NULL AND s.id > (
        SELECT MIN(f.id) FROM submissions f
        WHERE f.region_code IS NULL AND f.programme_id = s.programme_id AND f.cycle_year = s.cycle_year
          AND f.obligation_id = s.obligation_id AND f.period = s.period AND f.content_hash = s.content_hash
    )
"""


def upgrade() -> None:
    # Only rejected files lack a region: their errors are all that refers to them.
    op.execute(sa.text(f"DELETE FROM submission_errors WHERE submission_id IN ({_LATER_COPIES})"))
    op.execute(sa.text(f"DELETE FROM submissions WHERE id IN ({_LATER_COPIES})"))
    where = sa.text("region_code IS NULL")
    op.create_index(
        _NAME,
        "submissions",
        [*_INSTANCE, "content_hash"],
        unique=True,
        sqlite_where=where,
        postgresql_where=where,
    )


def downgrade() -> None:
    op.drop_index(_NAME, table_name="submissions")
