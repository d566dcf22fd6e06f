"""Notifications: reminders, notices and reports that reach the right official exactly once.

Modules, in the order a message travels:
    stages: which reminder (if any) is due on a day, and its escalation (pure).
    recipients: To/Cc from the contact list, fallbacks, contact gaps, address hygiene.
    render: subjects and bodies from Jinja2 templates in Simplified Chinese (pure).
    outbox: the ledger; queue once under a natural key, count what waits.
    reminders: plan a day's window-opening notices, reminders and gap reports.
    notices: queue the notice of a rejected file or of a decision.
    message: build the MIME message of a queued row.
    delivery: deliver what is queued, once, paced; an SMTP outage loses nothing.
    smtp: a plain ``smtplib`` sender with one connection per batch (CLI, demo, benchmark).

The ``review-calendar remind`` sub-command lives in :mod:`review_calendar.cli.remind`.
This package never imports Airflow, nor the stages after it (report) or the
task entry points; the DAG passes a ``send`` built on the SMTP provider's hook
to :func:`~review_calendar.notify.delivery.deliver`.
"""
