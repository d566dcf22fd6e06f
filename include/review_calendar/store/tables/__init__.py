"""The tables of the review database, one module per area, in the order the data flows.

:mod:`.base` (the declarative base and naming convention), :mod:`.registry`
(regions, clusters, enrolments and what accepted files say of them),
:mod:`.intake` (obligation instances, due-date changes, submissions and what came with them),
:mod:`.review` (gate runs, aggregates, findings, subsidies, facts and the
reviewers' answers to proposals), :mod:`.decisions` (the audited decision log) and
:mod:`.mail` (outbox and mailbox ledger). The mail failures' table is defined
with its functions in :mod:`review_calendar.store.mail_failures`.

This package imports none of them: a command imports only the areas it uses
(a county's file from a cold start maps the intake tables, not the mailbox's),
and :mod:`review_calendar.store.models` imports every one, for what needs the
whole schema (the migrations and the tests). A module whose foreign key names
another area's table imports that area, so each module stands alone. The modules leave
out ``from __future__ import annotations``: SQLAlchemy reads every ``Mapped[...]``
when the class is made, and evaluating them as strings made that slower.
"""
