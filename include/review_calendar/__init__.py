"""review_calendar: the domain logic of the industrial-cluster review calendar.

Plain, typed functions for calendars, programmes, intake, validation,
aggregation, decisions, notifications and storage. This package never imports
Airflow: the DAGs in ``dags/`` only wire its functions into tasks.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
