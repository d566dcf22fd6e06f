"""Deployment settings, read from the environment.

Three tiers of configuration exist (STYLE.md point 9): deployment settings here
(environment variables, see ``.env.example``), per-run parameters (DAG params
and CLI flags) and domain data (programme files). Nothing here is read when a
DAG file is parsed; callers ask for :func:`get_settings` inside a task.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

#: The repository root when running from a checkout (include/review_calendar/..).
PROJECT_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True, slots=True)
class Settings:
    """Where the review calendar keeps its files and data.

    Attributes:
        home: Working folder for the review database, inboxes, quarantine and reports.
        db_url: SQLAlchemy URL of the review database.
        programmes_dir: Folder of programme configuration files.
        holidays_file: Extra holiday table (YAML) extending chinese-calendar.
        expectations_dir: Folder of the Great Expectations suites.
    """

    home: Path
    db_url: str
    programmes_dir: Path
    holidays_file: Path
    expectations_dir: Path

    @property
    def inbox_dir(self) -> Path:
        return self.home / "inbox"

    @property
    def quarantine_dir(self) -> Path:
        return self.home / "quarantine"

    @property
    def accepted_dir(self) -> Path:
        return self.home / "accepted"

    @property
    def reports_dir(self) -> Path:
        return self.home / "reports"


def get_settings(env: dict[str, str] | None = None) -> Settings:
    """Build the settings from environment variables.

    Args:
        env: Mapping to read instead of ``os.environ`` (tests).

    Returns:
        The settings; the default review database is an embedded SQLite file
        under ``REVIEW_CALENDAR_HOME`` (default ``<project>/var``).
    """
    env = dict(os.environ if env is None else env)
    home = Path(env.get("REVIEW_CALENDAR_HOME", PROJECT_ROOT / "var")).resolve()
    db_url = env.get("REVIEW_CALENDAR_DB_URL") or f"sqlite:///{home / 'review.db'}"
    return Settings(
        home=home,
        db_url=db_url,
        programmes_dir=Path(env.get("REVIEW_CALENDAR_PROGRAMMES", PROJECT_ROOT / "programmes")),
        holidays_file=Path(env.get("REVIEW_CALENDAR_HOLIDAYS", PROJECT_ROOT / "config" / "holidays.yaml")),
        expectations_dir=Path(env.get("REVIEW_CALENDAR_EXPECTATIONS", PROJECT_ROOT / "expectations")),
    )
