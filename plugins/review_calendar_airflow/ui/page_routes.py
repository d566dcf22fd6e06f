"""The reviewers' HTML pages: the calendar of every programme, one programme's cycle, one instance."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import Request  # noqa: TC002 - FastAPI reads the routes' annotations at runtime
from fastapi.responses import HTMLResponse

from review_calendar_airflow.ui.auth import can_trigger
from review_calendar_airflow.ui.common import (
    check_year,
    instance_or_404,
    parse_today,
    programme_or_404,
    programmes,
    query_string,
    read,
    settings,
    year_or_default,
)

if TYPE_CHECKING:
    import datetime as dt

    from fastapi import FastAPI

    from review_calendar.domain.programmes import ObligationInstance, Programme
    from review_calendar_airflow.ui.auth import Caller
    from review_calendar_airflow.ui.rendering import Pages


def _calendar_data(session: Any, year: int | None, day: dt.date) -> dict[str, Any]:
    """The calendars of every programme for the chosen (or latest) year, and the years to choose from."""
    from review_calendar.reviewer_pages.calendar import calendar_view
    from review_calendar.reviewer_pages.common import cycle_years
    from review_calendar.reviewer_pages.decisions import pending_view
    from review_calendar.reviewer_pages.inbox import unplaced_files
    from review_calendar.reviewer_pages.mail import waiting_count

    chosen = year_or_default(year, session, day)
    return {
        "year": chosen,
        "pending": pending_view(session, list(programmes().values()), day),
        "unplaced": unplaced_files(settings().reports_dir, programmes()),
        "mail_waiting": waiting_count(session),
        "calendars": calendar_view(session, programmes(), chosen, day),
        "years": sorted({*cycle_years(session), chosen, day.year}, reverse=True),
    }


def _programme_data(session: Any, programme: Programme, year: int, day: dt.date) -> dict[str, Any]:
    """One programme's cycle: proposals waiting, calendar, status matrix, both charts, decisions by kind."""
    from review_calendar.reviewer_pages.calendar import programme_calendar
    from review_calendar.reviewer_pages.common import cycle_years
    from review_calendar.reviewer_pages.decisions import (
        decision_dag_id,
        decision_groups,
        decisions_view,
        pending_view,
    )
    from review_calendar.reviewer_pages.matrix import status_matrix
    from review_calendar.reviewer_pages.progress import on_time_share_by_city, progress_series
    from review_calendar_airflow.ui.page_charts import progress_chart, share_chart

    matrix = status_matrix(session, programme, year, day)
    return {
        "calendar": programme_calendar(session, programme, year, day),
        "matrix": matrix,
        "share_svg": share_chart(on_time_share_by_city(session, programme, year, day, matrix)),
        "progress_svg": progress_chart(progress_series(session, programme, year, as_of=day)),
        "decision_groups": decision_groups(decisions_view(session, programme, year, as_of=day)),
        "has_cycle": year in cycle_years(session, programme.id),
        "pending": pending_view(session, [programme], day, year=year),
        "decision_dag": decision_dag_id(programme.id),
    }


def _instance_data(
    session: Any, programme: Programme, instance: ObligationInstance, day: dt.date
) -> dict[str, Any]:
    """One instance: its column of the matrix, 受理记录, gate verdicts, aggregate figures, progress chart."""
    from review_calendar.reviewer_pages.decisions import acceptances_view
    from review_calendar.reviewer_pages.documents import documents_view
    from review_calendar.reviewer_pages.matrix import status_matrix
    from review_calendar.reviewer_pages.progress import progress_series
    from review_calendar.reviewer_pages.results import aggregates_view, gate_results
    from review_calendar_airflow.ui.page_charts import progress_chart

    year, obligation_id, period = instance.cycle_year, instance.obligation_id, instance.period
    return {
        "matrix": status_matrix(session, programme, year, day, instances=[instance]),
        "gates": gate_results(session, programme.id, year, obligation_id, period, settings().reports_dir),
        "aggregates": aggregates_view(session, programme, year, obligation_id, period),
        "progress_svg": progress_chart(progress_series(session, programme, year, obligation_id, period, day)),
        "documents": documents_view(session, instance),
        "acceptances": acceptances_view(session, instance, day),
    }


def add_page_routes(app: FastAPI, pages: Pages) -> None:
    """The HTML pages: ``/`` (calendar), ``/programmes/{id}/{year}`` and ``.../{obligation}/{period}``."""

    @app.get("/", response_class=HTMLResponse, name="index")
    def index(request: Request, year: int | None = None, today: str | None = None, programme: str = "",
              city: str = "", state: str = "", obligation: str = "", q: str = "") -> HTMLResponse:  # fmt: skip
        """What is lagging now (filtered), then every programme's deadlines of a cycle year."""
        from review_calendar_airflow.ui.landing import lagging_filter, landing_data

        day = parse_today(today)
        wanted = lagging_filter(programme, city, state, obligation, q)
        data = read(
            lambda session: {**_calendar_data(session, year, day), **landing_data(session, day, wanted)}
        )
        return pages.render(
            request, "index.html", title=f"{data['year']} 年度审查日历", today=day, as_of=today,
            export_q=query_string(today=today, programme=programme, city=city, state=state,
                                  obligation=obligation, q=q),
            **data,
        )  # fmt: skip

    @app.get("/mail", response_class=HTMLResponse, name="mail_waiting")
    def mail_page(request: Request, today: str | None = None) -> HTMLResponse:
        """What waits for an operator in the submissions mailbox: held, quarantined, failed."""
        from review_calendar.reviewer_pages.mail import waiting_mail

        day = parse_today(today)
        waiting = read(waiting_mail)
        return pages.render(
            request, "mail.html", title="提交邮箱待处理", today=day, as_of=today, q=query_string(today=today),
            waiting=waiting,
        )  # fmt: skip

    @app.get("/programmes/{programme_id}/{year}", response_class=HTMLResponse, name="programme")
    def programme_page(
        request: Request, programme_id: str, year: int, today: str | None = None
    ) -> HTMLResponse:
        """One programme's cycle: calendar, status matrix, charts, decisions."""
        day = parse_today(today)
        programme = programme_or_404(programme_id)
        check_year(year)
        data = read(lambda session: _programme_data(session, programme, year, day))
        return pages.render(
            request, "programme.html", title=f"{programme.short_name} {year} 年度", programme=programme,
            year=year, today=day, as_of=today, q=query_string(today=today), **data,
        )  # fmt: skip

    @app.get(
        "/programmes/{programme_id}/{year}/{obligation_id}/{period}",
        response_class=HTMLResponse,
        name="obligation",
    )
    async def obligation_page(
        request: Request,
        programme_id: str,
        year: int,
        obligation_id: str,
        period: str,
        today: str | None = None,
        rerun: str | None = None,
    ) -> HTMLResponse:
        """One obligation instance: who submitted, gate results, aggregate figures, re-run."""
        from fastapi.concurrency import run_in_threadpool

        from review_calendar.domain.labels import RUN_STATES
        from review_calendar.reviewer_pages.common import cycle_dag_id
        from review_calendar_airflow.ui.airflow_api import dag_status, run_info
        from review_calendar_airflow.ui.file_routes import summary_downloads
        from review_calendar_airflow.ui.reports import summary_report

        day = parse_today(today)
        check_year(year)
        programme = programme_or_404(programme_id)
        instance = instance_or_404(programme, year, obligation_id, period)
        data = await run_in_threadpool(
            read, lambda session: _instance_data(session, programme, instance, day)
        )
        dag_id = cycle_dag_id(programme.id, obligation_id)
        caller: Caller = request.state.caller
        has_flow = programme.obligation(obligation_id).kind not in ("meeting", "ad_hoc")
        may_rerun = has_flow and can_trigger(caller, dag_id)
        dag = await dag_status(caller.token, dag_id) if may_rerun else None
        run = await run_info(caller.token, dag_id, rerun) if may_rerun and rerun else None
        return pages.render(
            request, "obligation.html", title=f"{instance.title}（{year}）", programme=programme,
            obligation=programme.obligation(obligation_id), instance=instance, year=year, today=day, as_of=today,
            q=query_string(today=today), dag_id=dag_id, has_flow=has_flow, may_rerun=may_rerun, rerun=rerun,
            dag=dag, run=run, busy=dag.active_for(year, period) if dag else None, run_states=RUN_STATES,
            summary_report=summary_report(settings().reports_dir, instance),
            downloads=summary_downloads(settings().reports_dir, instance), **data,
        )  # fmt: skip
