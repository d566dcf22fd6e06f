"""The review database: models, engine and idempotent writes (SQLAlchemy 2)."""
