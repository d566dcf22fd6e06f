"""Notifications: reminders, notices and reports that reach the right official exactly once.

Modules:
    stages: which reminder (if any) is due on a day, and its escalation (pure).
    recipients: To/Cc from the contact list, fallbacks, contact gaps, address hygiene.
    render: subjects and bodies from Jinja2 templates in Simplified Chinese (pure).
    outbox: queue under a natural key, plan a day's reminders, deliver once.
    smtp: a plain ``smtplib`` sender with one connection per batch (CLI, demo, benchmark).
    cli: the ``review-calendar remind`` sub-command.

This package never imports Airflow; the DAG passes a ``send`` built on the
SMTP provider's hook to :func:`~review_calendar.notify.outbox.deliver`.
"""
