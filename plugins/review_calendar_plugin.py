"""Registers the review calendar's timetables, its reviewers' pages and its UI language with Airflow."""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin
from review_calendar_airflow.access import PAUSE_GUARD
from review_calendar_airflow.timetables import (
    DeadlineTimetable,
    WorkingDayIntervalTimetable,
    WorkingDayTimetable,
)

# Standard library only: the FastAPI app behind FASTAPI_APP is built on its first request,
# so DAG parsing and task processes that load plugins never import FastAPI.
from review_calendar_airflow.ui import FASTAPI_APP, NAV_VIEW
from review_calendar_airflow.ui_language import UI_LANGUAGE_DEFAULT


class ReviewCalendarPlugin(AirflowPlugin):
    """The review calendar's Airflow plugin."""

    name = "review_calendar"
    timetables = [DeadlineTimetable, WorkingDayTimetable, WorkingDayIntervalTimetable]
    # 审查日历: pages served by the api-server under /review-calendar, and their nav entry.
    fastapi_apps = [FASTAPI_APP]
    external_views = [NAV_VIEW]
    # Pausing a DAG needs the right to trigger it (reviewers may edit the decision DAGs they answer).
    # Airflow's UI in zh-CN (REVIEW_CALENDAR_UI_LANGUAGE) for users who have not picked a language.
    fastapi_root_middlewares = [PAUSE_GUARD, UI_LANGUAGE_DEFAULT]
