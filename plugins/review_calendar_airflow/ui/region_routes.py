"""A page per region and per cluster: ``/regions/{code}`` and ``/clusters/{cluster_id}``.

Everything the review calendar holds about one region (or one cluster), as of the
day asked about (``?today=``): the read model is
:func:`review_calendar.reviewer_pages.region.region_view`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from fastapi import HTTPException, Request, status
from fastapi.responses import HTMLResponse

from review_calendar_airflow.ui.common import parse_today, programmes, query_string, read

if TYPE_CHECKING:
    from fastapi import FastAPI

    from review_calendar_airflow.ui.rendering import Pages

_CODE = re.compile(r"\d{6}")
_CLUSTER = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def _render(
    request: Request, pages: Pages, code: str, today: str | None, cluster_id: str | None
) -> HTMLResponse:
    from review_calendar.reviewer_pages.region import region_view

    day = parse_today(today)
    page = read(lambda session: region_view(session, programmes(), code, day, cluster_id))
    if page is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"没有这个地区或集群：{cluster_id or code}")
    title = page.cluster.name if page.cluster else page.name
    return pages.render(
        request, "region.html", title=title, page=page, today=day, as_of=today, q=query_string(today=today)
    )


def add_region_routes(app: FastAPI, pages: Pages) -> None:
    """``GET /regions/{code}`` and ``GET /clusters/{cluster_id}``."""

    @app.get("/regions/{code}", response_class=HTMLResponse, name="region")
    def region_page(request: Request, code: str, today: str | None = None) -> HTMLResponse:
        """One region: obligations and years, file versions, returns, decisions, communication log."""
        if not _CODE.fullmatch(code):
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"地区代码应为 6 位数字：{code}")
        return _render(request, pages, code, today, None)

    @app.get("/clusters/{cluster_id}", response_class=HTMLResponse, name="cluster")
    def cluster_page(request: Request, cluster_id: str, today: str | None = None) -> HTMLResponse:
        """One cluster: its region's page with the decisions about the cluster."""
        from review_calendar.reviewer_pages.region import cluster_region

        if not _CLUSTER.fullmatch(cluster_id):
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"没有这个集群：{cluster_id}")
        code = read(lambda session: cluster_region(session, cluster_id))
        if code is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, f"没有这个集群：{cluster_id}")
        return _render(request, pages, code, today, cluster_id)
