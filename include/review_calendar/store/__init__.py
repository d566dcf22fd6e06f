"""The review database: tables, engine and idempotent writes (SQLAlchemy 2).

Importing the package maps no table: :mod:`.models` holds the whole schema,
:mod:`.tables` its areas (a command imports what it writes).
"""
