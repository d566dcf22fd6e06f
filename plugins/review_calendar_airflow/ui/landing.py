"""The landing page's list of what is lagging now: its data, its Excel export, the contact reveal.

The city bureau's contact is shown by name and office phone; the mobile number
and e-mail address stay masked (``domain.privacy``) until a reviewer clicks to
see them, and each such click is logged with the reviewer's user name and the
contact's key, never the value.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from fastapi import HTTPException, Request, status
from fastapi.responses import HTMLResponse, Response

from review_calendar_airflow.ui.common import check_year, parse_today, programme_or_404, programmes, read

if TYPE_CHECKING:
    import datetime as dt

    from fastapi import FastAPI

    from review_calendar.reviewer_pages.lagging import LaggingFilter, LaggingRow
    from review_calendar_airflow.ui.auth import Caller
    from review_calendar_airflow.ui.rendering import Pages

log = logging.getLogger(__name__)

#: The columns of the export, in the page's order.
EXPORT_COLUMNS = ("项目", "年度", "报送事项", "期次", "地区", "地区代码", "所属市", "集群", "截止日期", "逾期天数",
                  "状态", "文件名", "收到日期", "问题数", "已发催报", "升级", "市局联系人", "办公电话")  # fmt: skip


def lagging_filter(programme: str = "", city: str = "", state: str = "", obligation: str = "",
                   q: str = "") -> LaggingFilter:  # fmt: skip
    """The filters of the query string (a search is cut to 100 characters)."""
    from review_calendar.reviewer_pages.lagging import LaggingFilter

    return LaggingFilter(programme or "", city or "", state or "", obligation or "", (q or "")[:100])


def _choices(rows: list[LaggingRow]) -> dict[str, list[tuple[str, str]]]:
    """The options of each filter, from the unfiltered rows."""
    from review_calendar.domain.labels import SUBMISSION_STATES
    from review_calendar.reviewer_pages.lagging import LAGGING_NOW

    return {
        "programmes": sorted({(r.programme_id, r.programme_name) for r in rows}),
        "cities": sorted({(r.city_code, r.city_name) for r in rows}),
        "states": [(s, SUBMISSION_STATES[s]) for s in LAGGING_NOW],
        "obligations": sorted({(r.obligation_id, r.title) for r in rows}, key=lambda o: o[1]),
    }


def landing_data(session: Any, day: dt.date, wanted: LaggingFilter) -> dict[str, Any]:
    """What the landing page shows of the lagging regions: the rows, the filters and their options."""
    from review_calendar.reviewer_pages.lagging import filter_lagging, lagging_view

    rows = lagging_view(session, programmes(), day)
    return {"lagging": filter_lagging(rows, wanted), "lagging_total": len(rows), "filters": wanted,
            "choices": _choices(rows)}  # fmt: skip


def export_rows(rows: list[LaggingRow]) -> list[tuple[Any, ...]]:
    """The lagging rows as the cells of :data:`EXPORT_COLUMNS` (no mobile or e-mail)."""
    return [
        (r.programme_name, r.cycle_year, r.title, r.period_label, r.region_name, r.region_code, r.city_name,
         "、".join(r.clusters), r.due.isoformat(), r.days_overdue, r.state_label, r.file_name,
         r.received_on.isoformat() if r.received_on else "", r.error_count or "", r.reminders_sent,
         r.escalation_label, r.contact.name if r.contact else "", r.contact.office_phone if r.contact else "")
        for r in rows
    ]  # fmt: skip


def _contact(session: Any, programme_id: str, year: int, city_code: str) -> dict[str, str] | None:
    from sqlalchemy import select

    from review_calendar.aggregate.states import region_names
    from review_calendar.notify.recipients import TO_ROLES
    from review_calendar.store.tables.registry import Contact

    rows = session.scalars(
        select(Contact).where(
            Contact.programme_id == programme_id,
            Contact.region_code == city_code,
            Contact.cycle_year <= year,
            Contact.role.in_(TO_ROLES),
        )
    ).all()
    if not rows:
        return None
    c = max(rows, key=lambda c: (c.cycle_year, -TO_ROLES.index(c.role)))
    return {"city_name": region_names(session, [city_code]).get(city_code, city_code), "role": c.role,
            "name": c.name, "post": c.post, "office_phone": c.office_phone, "mobile": c.mobile,
            "email": c.email, "year": str(c.cycle_year)}  # fmt: skip


def add_landing_routes(app: FastAPI, pages: Pages) -> None:
    """``GET /lagging.xlsx`` (the export) and ``GET /contacts/{programme}/{year}/{city}`` (the reveal)."""

    @app.get("/lagging.xlsx", name="lagging_export")
    def lagging_export(today: str | None = None, programme: str = "", city: str = "", state: str = "",
                       obligation: str = "", q: str = "") -> Response:  # fmt: skip
        """The lagging list as filtered on the page, as an Excel attachment."""
        from review_calendar_airflow.ui.file_routes import XLSX, attachment, xlsx_bytes

        day = parse_today(today)
        data = read(
            lambda session: landing_data(session, day, lagging_filter(programme, city, state, obligation, q))
        )
        body = xlsx_bytes("滞后地区", EXPORT_COLUMNS, export_rows(data["lagging"]))
        return attachment(body, f"滞后地区_{day.isoformat()}.xlsx", XLSX)

    @app.get(
        "/contacts/{programme_id}/{year}/{city_code}", response_class=HTMLResponse, name="contact_reveal"
    )
    def contact_reveal(request: Request, programme_id: str, year: int, city_code: str) -> HTMLResponse:
        """The city bureau's contact in full (mobile and e-mail), logged with the viewer's user name."""
        check_year(year)
        programme = programme_or_404(programme_id)
        contact = read(lambda session: _contact(session, programme.id, year, city_code))
        if contact is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "该市尚未报送联系人")
        caller: Caller = request.state.caller
        log.info("Contact revealed: %s/%s/%s (%s) shown to user %s", programme.id, contact["year"], city_code,
                 contact["role"], caller.name)  # fmt: skip
        return pages.render(
            request,
            "contact.html",
            title=f"{contact['city_name']}联系人",
            programme=programme,
            contact=contact,
        )
