"""Read model of the reviewers' 审查日历 pages: pure queries over the review database.

Every function takes an open :class:`~sqlalchemy.orm.Session` (and "today" where
the answer depends on it; nothing here calls ``now()``) and returns frozen
dataclasses of plain values. The Airflow plugin
(``plugins/review_calendar_airflow/ui``) renders them; this package imports
neither Airflow nor FastAPI, so it is tested on SQLite without either.

- :mod:`.calendar`: every deadline of a cycle, with counts per state;
- :mod:`.matrix`: regions against obligation instances, one state per cell;
- :mod:`.progress`: the data of the charts (on-time share per city, acceptances per day);
- :mod:`.results`: gate verdicts and aggregate figures;
- :mod:`.decisions`: decisions by kind, proposals waiting for a reviewer, each instance's 受理记录;
- :mod:`.lagging`: what is lagging now, across programmes and years (the landing page);
- :mod:`.files`: a matrix cell's file versions and their errors;
- :mod:`.common`: DAG links, a cycle's files by cell, the years with data.
- :mod:`.inbox`: the files the inbox sweep could not place (read from its lists, not the database).
- :mod:`.mail`: what waits for an operator in the submissions mailbox (held, quarantined, given up).

A cell's state is :func:`review_calendar.aggregate.states.submission_state`, the
rule the aggregation and the reports use too.
"""
