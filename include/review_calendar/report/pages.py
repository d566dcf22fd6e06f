"""The one Jinja environment of the report pages (the provincial summary and the gate page)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from jinja2 import Environment


def page_environment() -> Environment:
    """The Jinja environment of ``report/templates``: autoescaping on, undefined names are errors.

    Every value that came from a submission is escaped on the way out, so a hostile
    file name or cell never becomes markup.
    """
    from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

    return Environment(
        loader=PackageLoader("review_calendar.report", "templates"),
        autoescape=select_autoescape(["html", "j2"], default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
