"""Deployment settings: every ``REVIEW_CALENDAR_*`` environment variable, read in one place.

Configuration comes in three tiers: deployment settings here (environment
variables, listed with their defaults in ``.env.example``), per-run parameters
(DAG params and CLI flags) and domain data (programme files). No other module
reads these variables. Nothing is read when this module is imported: callers
ask for :func:`get_settings` inside a task, a callback or a command, and the
environment is read at that moment (never a database, connection or Variable).

The variables:

=====================================  ==============================================================
``REVIEW_CALENDAR_HOME``               working folder (inboxes, quarantine, accepted files, reports)
``REVIEW_CALENDAR_DB_URL``             SQLAlchemy URL of the review database
``REVIEW_CALENDAR_PROGRAMMES``         folder of the programme files
``REVIEW_CALENDAR_HOLIDAYS``           holiday table extending chinese-calendar
``REVIEW_CALENDAR_REVIEWERS``          reviewers' roster: login → 姓名, 处室 (default ``config/reviewers.yaml``)
``REVIEW_CALENDAR_EXPECTATIONS``       folder of the Great Expectations suites
``REVIEW_CALENDAR_SMTP_HOST``          SMTP server of the command line's sender (``remind --send``)
``REVIEW_CALENDAR_SMTP_PORT``          its port (default 465 with SSL, 587 with STARTTLS, else 25)
``REVIEW_CALENDAR_SMTP_USER``          its login (empty: no authentication)
``REVIEW_CALENDAR_SMTP_PASSWORD``      its password
``REVIEW_CALENDAR_SMTP_SSL``           connect with implicit TLS (true/false)
``REVIEW_CALENDAR_SMTP_STARTTLS``      upgrade the connection with STARTTLS (true/false)
``REVIEW_CALENDAR_SMTP_TIMEOUT``       socket timeout in seconds
``REVIEW_CALENDAR_SMTP_CONN_ID``       Airflow SMTP connection of the outbox task and operator alerts
``REVIEW_CALENDAR_SMTP_RATE``          at most this many e-mails per second (empty or 0: no limit)
``REVIEW_CALENDAR_OPERATORS``          operators' addresses, comma-separated, e-mailed when a task fails
``REVIEW_CALENDAR_ALERT_FROM``         From address of those alerts
``REVIEW_CALENDAR_PASSWORDS_FILE``     Airflow users' passwords (default ``$AIRFLOW_HOME/passwords.json``)
``REVIEW_CALENDAR_SIMULATED_YEAR``     true only in a simulated year (the demo): files are received at the sweep's moment
``REVIEW_CALENDAR_UI_LANGUAGE``        Airflow UI language of users who have not picked one (default ``zh-CN``;
                                       ``browser``: the browser's language, Airflow's own choice)
``REVIEW_CALENDAR_SUBMISSIONS_ADDRESS`` the submissions mailbox: Reply-To of notices and reminders
``REVIEW_CALENDAR_IMAP_CONN_ID``       Airflow IMAP connection of the mail-intake task
``REVIEW_CALENDAR_IMAP_HOST``          IMAP server of the command line's ``mail fetch`` (empty: none)
``REVIEW_CALENDAR_IMAP_PORT``          its port (default 993 with SSL, else 143)
``REVIEW_CALENDAR_IMAP_USER``          its login
``REVIEW_CALENDAR_IMAP_PASSWORD``      its password
``REVIEW_CALENDAR_IMAP_SSL``           connect with implicit TLS (true/false, default true)
``REVIEW_CALENDAR_IMAP_FOLDER``        folder read for new messages (default ``INBOX``)
``REVIEW_CALENDAR_IMAP_PROCESSED``     folder processed messages are moved to (default ``Processed``)
=====================================  ==============================================================

The Airflow tasks send through the SMTP connection (``REVIEW_CALENDAR_SMTP_CONN_ID``);
the ``REVIEW_CALENDAR_SMTP_HOST`` group configures only the plain ``smtplib`` sender of
the command line, the demo and the benchmark.
"""

from __future__ import annotations

import contextlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

#: The repository root when running from a checkout (include/review_calendar/..).
PROJECT_ROOT = Path(__file__).resolve().parents[2]

_TRUE = {"1", "true", "yes", "on"}


class SettingsError(ValueError):
    """A deployment variable has a value that cannot be used; the message names the variable."""


@dataclass(frozen=True, slots=True)
class SmtpSettings:
    """Where and how the command line's ``smtplib`` sender connects.

    Attributes:
        host: Server name or address.
        port: Port (25, 587 with STARTTLS, 465 with implicit TLS).
        user: Login (None: no authentication).
        password: Password (never shown in ``repr``).
        starttls: Upgrade the connection with STARTTLS before logging in.
        ssl: Connect with implicit TLS (``SMTP_SSL``).
        timeout: Socket timeout in seconds.
    """

    host: str = "localhost"
    port: int = 25
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    starttls: bool = False
    ssl: bool = False
    timeout: float = 30.0


@dataclass(frozen=True, slots=True)
class ImapSettings:
    """Where and how the submissions mailbox is read (the Airflow task takes them from its connection).

    Attributes:
        host: Server name or address (empty: no mailbox configured).
        port: Port (993 with implicit TLS, else 143).
        user: Login.
        password: Password (never shown in ``repr``).
        ssl: Connect with implicit TLS.
        folder: Folder read for new messages.
        processed: Folder processed messages are moved to (never deleted).
        timeout: Socket timeout in seconds.
    """

    host: str = ""
    port: int = 993
    user: str = ""
    password: str = field(default="", repr=False)
    ssl: bool = True
    folder: str = "INBOX"
    processed: str = "Processed"
    timeout: float = 60.0


@dataclass(frozen=True, slots=True)
class Settings:
    """The deployment settings of the review calendar.

    Attributes:
        home: Working folder for the review database, inboxes, quarantine and reports.
        db_url: SQLAlchemy URL of the review database.
        programmes_dir: Folder of programme configuration files.
        holidays_file: Extra holiday table (YAML) extending chinese-calendar.
        reviewers_file: The reviewers' roster (YAML): login → 姓名 and 处室 (:mod:`.domain.people`).
        expectations_dir: Folder of the Great Expectations suites.
        smtp: The command line's SMTP server (the Airflow tasks use ``smtp_conn_id``).
        smtp_conn_id: Airflow SMTP connection of the outbox task and the operator alerts.
        smtp_rate: At most this many e-mails per second (None: no limit).
        operators: Addresses e-mailed when a task fails (empty: no alerts).
        alert_from: From address of those alerts.
        passwords_file: The Airflow users' provisioned passwords (None: ``$AIRFLOW_HOME/passwords.json``).
        simulated_year: A simulated year (the demo) places its files now and sweeps at past
            logical moments: a file is received at the sweep's moment even though its status-change
            time is later. Never in production: there a sweep for a past moment (a back-fill)
            leaves a file that arrived after that moment for the next live sweep.
        ui_language: Language tag of Airflow's UI for users who have not picked one in its
            language menu (None: left to the browser's language).
        submissions_address: The submissions mailbox (Reply-To of notices and reminders; None: none).
        imap: The command line's IMAP server (the Airflow task uses ``imap_conn_id``).
        imap_conn_id: Airflow IMAP connection of the mail-intake task.
    """

    home: Path
    db_url: str
    programmes_dir: Path
    holidays_file: Path
    expectations_dir: Path
    smtp: SmtpSettings = SmtpSettings()
    smtp_conn_id: str = "smtp_default"
    smtp_rate: float | None = None
    operators: tuple[str, ...] = ()
    alert_from: str = "review-calendar-alerts@localhost"
    passwords_file: Path | None = None
    simulated_year: bool = False
    ui_language: str | None = "zh-CN"
    submissions_address: str | None = None
    imap: ImapSettings = ImapSettings()
    imap_conn_id: str = "review_calendar_imap"
    reviewers_file: Path = PROJECT_ROOT / "config" / "reviewers.yaml"

    @property
    def inbox_dir(self) -> Path:
        """Where submitted files arrive."""
        return self.home / "inbox"

    @property
    def quarantine_dir(self) -> Path:
        """Where rejected files are kept."""
        return self.home / "quarantine"

    @property
    def accepted_dir(self) -> Path:
        """Content-addressed copies of accepted files."""
        return self.home / "accepted"

    @property
    def reports_dir(self) -> Path:
        """Generated reports and gate pages."""
        return self.home / "reports"


def get_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Build the settings from the environment variables listed in the module docstring.

    Args:
        env: Mapping to read instead of ``os.environ`` (tests).

    Returns:
        The settings; the default review database is an embedded SQLite file
        under ``REVIEW_CALENDAR_HOME`` (default ``<project>/var``).

    Raises:
        SettingsError: A number is not a number, or both SSL and STARTTLS are set.
    """
    env = dict(os.environ if env is None else env)
    home = Path(env.get("REVIEW_CALENDAR_HOME", PROJECT_ROOT / "var")).resolve()
    db_url = env.get("REVIEW_CALENDAR_DB_URL") or f"sqlite:///{home / 'review.db'}"
    operators = env.get("REVIEW_CALENDAR_OPERATORS", "").split(",")
    rate = _number(env, "REVIEW_CALENDAR_SMTP_RATE", 0.0)
    return Settings(
        home=home,
        db_url=db_url,
        programmes_dir=Path(env.get("REVIEW_CALENDAR_PROGRAMMES", PROJECT_ROOT / "programmes")),
        holidays_file=Path(env.get("REVIEW_CALENDAR_HOLIDAYS", PROJECT_ROOT / "config" / "holidays.yaml")),
        expectations_dir=Path(env.get("REVIEW_CALENDAR_EXPECTATIONS", PROJECT_ROOT / "expectations")),
        smtp=_smtp(env),
        smtp_conn_id=_text(env, "REVIEW_CALENDAR_SMTP_CONN_ID") or "smtp_default",
        smtp_rate=rate if rate > 0 else None,
        operators=tuple(a.strip() for a in operators if a.strip()),
        alert_from=_text(env, "REVIEW_CALENDAR_ALERT_FROM") or "review-calendar-alerts@localhost",
        passwords_file=Path(p) if (p := _text(env, "REVIEW_CALENDAR_PASSWORDS_FILE")) else None,
        simulated_year=_text(env, "REVIEW_CALENDAR_SIMULATED_YEAR").lower() in _TRUE,
        ui_language=_ui_language(env),
        submissions_address=_text(env, "REVIEW_CALENDAR_SUBMISSIONS_ADDRESS") or None,
        imap=_imap(env),
        imap_conn_id=_text(env, "REVIEW_CALENDAR_IMAP_CONN_ID") or "review_calendar_imap",
        reviewers_file=Path(
            env.get("REVIEW_CALENDAR_REVIEWERS") or PROJECT_ROOT / "config" / "reviewers.yaml"
        ),
    )


def _imap(env: Mapping[str, str]) -> ImapSettings:
    """The ``REVIEW_CALENDAR_IMAP_HOST`` group; the port defaults to 993 with SSL, else 143."""
    use_ssl = (_text(env, "REVIEW_CALENDAR_IMAP_SSL") or "true").lower() in _TRUE
    return ImapSettings(
        host=_text(env, "REVIEW_CALENDAR_IMAP_HOST"),
        port=int(_number(env, "REVIEW_CALENDAR_IMAP_PORT", 993 if use_ssl else 143, whole=True)),
        user=_text(env, "REVIEW_CALENDAR_IMAP_USER"),
        password=env.get("REVIEW_CALENDAR_IMAP_PASSWORD") or "",
        ssl=use_ssl,
        folder=_text(env, "REVIEW_CALENDAR_IMAP_FOLDER") or "INBOX",
        processed=_text(env, "REVIEW_CALENDAR_IMAP_PROCESSED") or "Processed",
    )


#: A language tag as Airflow's UI names its locales (``zh-CN``, ``en``, ``pt``...).
_LANGUAGE_TAG = re.compile(r"[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*")


def _ui_language(env: Mapping[str, str]) -> str | None:
    """``REVIEW_CALENDAR_UI_LANGUAGE``: ``zh-CN`` when unset or empty, None for ``browser``.

    Raises:
        SettingsError: The value is not a language tag.
    """
    text = _text(env, "REVIEW_CALENDAR_UI_LANGUAGE")
    if not text:
        return "zh-CN"
    if text.lower() == "browser":
        return None
    if not _LANGUAGE_TAG.fullmatch(text):
        raise SettingsError(f"REVIEW_CALENDAR_UI_LANGUAGE must be a language tag such as zh-CN, not {text!r}")
    return text


def _smtp(env: Mapping[str, str]) -> SmtpSettings:
    """The ``REVIEW_CALENDAR_SMTP_HOST`` group; the port defaults to 465 with SSL, 587 with STARTTLS, else 25."""
    use_ssl = _text(env, "REVIEW_CALENDAR_SMTP_SSL").lower() in _TRUE
    starttls = _text(env, "REVIEW_CALENDAR_SMTP_STARTTLS").lower() in _TRUE
    if use_ssl and starttls:
        raise SettingsError("REVIEW_CALENDAR_SMTP_SSL and REVIEW_CALENDAR_SMTP_STARTTLS exclude each other")
    default_port = 465 if use_ssl else 587 if starttls else 25
    return SmtpSettings(
        host=_text(env, "REVIEW_CALENDAR_SMTP_HOST") or "localhost",
        port=int(_number(env, "REVIEW_CALENDAR_SMTP_PORT", default_port, whole=True)),
        user=_text(env, "REVIEW_CALENDAR_SMTP_USER") or None,
        password=env.get("REVIEW_CALENDAR_SMTP_PASSWORD") or None,
        starttls=starttls,
        ssl=use_ssl,
        timeout=_number(env, "REVIEW_CALENDAR_SMTP_TIMEOUT", 30.0),
    )


def _text(env: Mapping[str, str], name: str) -> str:
    """The variable without surrounding spaces ("" when unset)."""
    return (env.get(name) or "").strip()


def _number(env: Mapping[str, str], name: str, default: float, *, whole: bool = False) -> float:
    """The variable as a number; ``default`` when unset or empty.

    Raises:
        SettingsError: The value is not a (whole, when ``whole``) non-negative number.
    """
    text = _text(env, name)
    if not text:
        return default
    try:
        value = int(text) if whole else float(text)
    except ValueError:
        raise SettingsError(f"{name} must be a {'whole ' if whole else ''}number, not {text!r}") from None
    if value < 0:
        raise SettingsError(f"{name} must not be negative, not {text!r}")
    return value


@contextlib.contextmanager
def simulated_year() -> Iterator[None]:
    """A simulated year (the demo): its files are placed now and received at the sweep's logical moment.

    Sets ``REVIEW_CALENDAR_SIMULATED_YEAR`` (:attr:`Settings.simulated_year`) in this
    process for the duration (the demo's DAGs run in it with ``dag.test()``), then
    restores it.
    """
    saved = os.environ.get("REVIEW_CALENDAR_SIMULATED_YEAR")
    os.environ["REVIEW_CALENDAR_SIMULATED_YEAR"] = "true"
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop("REVIEW_CALENDAR_SIMULATED_YEAR", None)
        else:
            os.environ["REVIEW_CALENDAR_SIMULATED_YEAR"] = saved
