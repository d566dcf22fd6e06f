"""Registers the review calendar's timetables (and its reviewers' pages) with Airflow."""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin
from review_calendar_airflow.timetables import DeadlineTimetable, WorkingDayTimetable


class ReviewCalendarPlugin(AirflowPlugin):
    """The review calendar's Airflow plugin."""

    name = "review_calendar"
    timetables = [DeadlineTimetable, WorkingDayTimetable]
