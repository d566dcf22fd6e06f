"""What every route of the reviewers' pages needs: the day, the year, the programme, a read transaction.

Imports of the review calendar's package stay inside the functions: the app is
built lazily (see :class:`review_calendar_airflow.ui.LazyApp`), and these helpers
keep its first import light.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from fastapi import HTTPException, status

if TYPE_CHECKING:
    from collections.abc import Callable

    from review_calendar.domain.programmes import ObligationInstance, Programme
    from review_calendar.settings import Settings

log = logging.getLogger(__name__)


class DatabaseUnavailable(Exception):
    """The review database cannot be read (not configured, not migrated, or down)."""


def settings() -> Settings:
    """The deployment's settings (paths, database URL)."""
    from review_calendar.settings import get_settings

    return get_settings()


def parse_today(raw: str | None) -> dt.date:
    """The day the reviewer looks at: ``?today=YYYY-MM-DD``, else today in China's time zone.

    Raises:
        HTTPException: 400 when the date is malformed.
    """
    from review_calendar.domain.calendar import TZ

    if not raw:
        return dt.datetime.now(TZ).date()
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"日期格式应为 YYYY-MM-DD：{raw}") from None


def check_year(year: int) -> int:
    """``year`` if it is a plausible cycle year.

    Raises:
        HTTPException: 400 outside 2000-2100.
    """
    if not 2000 <= year <= 2100:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, f"年度超出范围：{year}")
    return year


def year_or_default(raw: int | None, session: Any, today: dt.date, programme_id: str | None = None) -> int:
    """The requested cycle year, else the latest year with data up to ``today`` (else ``today``'s year)."""
    from review_calendar.reviewer_pages.common import cycle_years

    if raw is not None:
        return check_year(raw)
    years = [y for y in cycle_years(session, programme_id) if y <= today.year]
    return years[0] if years else today.year


def programmes() -> dict[str, Programme]:
    """Every programme of the deployment, by id."""
    from review_calendar.domain.programmes import load_programmes

    return load_programmes(settings().programmes_dir)


def programme_or_404(programme_id: str) -> Programme:
    """The programme named in the URL.

    Raises:
        HTTPException: 404 for an unknown programme.
    """
    programme = programmes().get(programme_id)
    if programme is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"没有这个项目：{programme_id}")
    return programme


def instance_or_404(programme: Programme, year: int, obligation_id: str, period: str) -> ObligationInstance:
    """The obligation instance named in the URL.

    Raises:
        HTTPException: 404 when the programme has no such obligation or period.
    """
    from review_calendar.domain.programmes import find_instance

    try:
        return find_instance(programme, year, obligation_id, period)
    except KeyError:
        raise HTTPException(
            status.HTTP_404_NOT_FOUND, f"{programme.short_name} 没有报送事项 {obligation_id}/{period}"
        ) from None


def read(fn: Callable[[Any], Any]) -> Any:
    """Run ``fn(session)`` in a read transaction on the review database.

    Raises:
        DatabaseUnavailable: The database cannot be read (answered with a 503 page).
    """
    from sqlalchemy.exc import SQLAlchemyError

    from review_calendar.store.db import session_scope

    try:
        with session_scope(settings().db_url) as session:
            return fn(session)
    except SQLAlchemyError as exc:
        log.warning("Review database unavailable: %s", type(exc).__name__)
        raise DatabaseUnavailable(str(exc).splitlines()[0]) from exc


def query_string(**params: Any) -> str:
    """``?a=1&b=2`` of the non-empty parameters ("" when none)."""
    clean = {k: v for k, v in params.items() if v not in (None, "")}
    return ("?" + urlencode(clean)) if clean else ""
