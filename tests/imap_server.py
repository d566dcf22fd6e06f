"""A real, throw-away IMAP server for the tests (Debian's Dovecot; the demo starts the same one)."""

from __future__ import annotations

from review_calendar_demo.local_imap import ImapServer

__all__ = ["ImapServer"]
