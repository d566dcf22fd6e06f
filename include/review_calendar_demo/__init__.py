"""Demonstration and test support: the demo province, synthetic regions and submissions, the local SMTP server
and the year runner.

``python -m review_calendar_demo seed`` loads the demo province. Production code
(``review_calendar``, ``plugins``, ``dags``) never imports this package, and the
``review-calendar`` distribution does not ship it: tests, ``scripts/`` and the
compose stack's optional demo load import it from ``include/`` on ``PYTHONPATH``.
Its SMTP server needs the ``demo`` extra (``aiosmtpd``).
"""
