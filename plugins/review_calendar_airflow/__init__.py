"""Airflow glue of the review calendar: timetables, DAG defaults, the reviewers' UI.

Unlike ``review_calendar`` this package imports Airflow; it stays thin and
delegates every rule to ``review_calendar``.
"""
