"""The review database: models, engine and idempotent writes (SQLAlchemy 2)."""

# Tables declared outside ``models`` join its metadata (the migrations and the tests compare them).
from review_calendar.store import mail_failures as _mail_failures  # noqa: F401
