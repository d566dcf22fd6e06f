"""The one settings object: every deployment variable, its default, and a bad value named."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from review_calendar.settings import PROJECT_ROOT, SettingsError, SmtpSettings, get_settings

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_without_any_variable() -> None:
    settings = get_settings({})

    assert settings.home == (PROJECT_ROOT / "var").resolve()
    assert settings.db_url == f"sqlite:///{settings.home / 'review.db'}"
    assert settings.smtp == SmtpSettings()
    assert (settings.smtp_conn_id, settings.smtp_rate, settings.operators) == ("smtp_default", None, ())
    assert settings.alert_from == "review-calendar-alerts@localhost"


def test_every_deployment_variable_is_read() -> None:
    env = {
        "REVIEW_CALENDAR_HOME": "/srv/rc",
        "REVIEW_CALENDAR_DB_URL": "postgresql://rc@db/review",
        "REVIEW_CALENDAR_PROGRAMMES": "/srv/programmes",
        "REVIEW_CALENDAR_HOLIDAYS": "/srv/holidays.yaml",
        "REVIEW_CALENDAR_EXPECTATIONS": "/srv/expectations",
        "REVIEW_CALENDAR_REVIEWERS": "/srv/reviewers.yaml",
        "REVIEW_CALENDAR_SMTP_HOST": " mail.example.cn ",
        "REVIEW_CALENDAR_SMTP_USER": "review",
        "REVIEW_CALENDAR_SMTP_PASSWORD": "s3cret",
        "REVIEW_CALENDAR_SMTP_STARTTLS": "true",
        "REVIEW_CALENDAR_SMTP_TIMEOUT": "12.5",
        "REVIEW_CALENDAR_SMTP_CONN_ID": "smtp_gov",
        "REVIEW_CALENDAR_SMTP_RATE": "20",
        "REVIEW_CALENDAR_OPERATORS": "ops@example.cn, ,oncall@example.cn",
        "REVIEW_CALENDAR_ALERT_FROM": "alerts@example.cn",
    }

    settings = get_settings(env)

    assert (settings.home, settings.db_url) == (Path("/srv/rc"), "postgresql://rc@db/review")
    assert (settings.programmes_dir, settings.holidays_file, settings.expectations_dir) == (
        Path("/srv/programmes"),
        Path("/srv/holidays.yaml"),
        Path("/srv/expectations"),
    )
    assert settings.reviewers_file == Path("/srv/reviewers.yaml")
    assert settings.smtp == SmtpSettings("mail.example.cn", 587, "review", "s3cret", True, False, 12.5)
    assert (settings.smtp_conn_id, settings.smtp_rate) == ("smtp_gov", 20.0)
    assert settings.operators == ("ops@example.cn", "oncall@example.cn")
    assert settings.alert_from == "alerts@example.cn"
    assert "s3cret" not in repr(settings)


@pytest.mark.parametrize(
    ("env", "port"),
    [
        pytest.param({}, 25, id="plain"),
        pytest.param({"REVIEW_CALENDAR_SMTP_STARTTLS": "yes"}, 587, id="starttls"),
        pytest.param({"REVIEW_CALENDAR_SMTP_SSL": "1"}, 465, id="ssl"),
        pytest.param(
            {"REVIEW_CALENDAR_SMTP_SSL": "1", "REVIEW_CALENDAR_SMTP_PORT": "2465"}, 2465, id="explicit"
        ),
    ],
)
def test_smtp_port_defaults_to_the_security_mode(env: dict[str, str], port: int) -> None:
    assert get_settings(env).smtp.port == port


@pytest.mark.parametrize(
    ("env", "message"),
    [
        pytest.param({"REVIEW_CALENDAR_SMTP_PORT": "twenty-five"}, "REVIEW_CALENDAR_SMTP_PORT", id="port"),
        pytest.param({"REVIEW_CALENDAR_SMTP_TIMEOUT": "soon"}, "REVIEW_CALENDAR_SMTP_TIMEOUT", id="timeout"),
        pytest.param({"REVIEW_CALENDAR_SMTP_RATE": "-1"}, "REVIEW_CALENDAR_SMTP_RATE", id="negative-rate"),
        pytest.param(
            {"REVIEW_CALENDAR_SMTP_SSL": "true", "REVIEW_CALENDAR_SMTP_STARTTLS": "true"},
            "exclude each other",
            id="ssl-and-starttls",
        ),
    ],
)
def test_a_bad_value_names_its_variable(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        get_settings(env)


def test_zero_rate_means_no_limit() -> None:
    assert get_settings({"REVIEW_CALENDAR_SMTP_RATE": "0"}).smtp_rate is None


def test_only_the_settings_module_reads_review_calendar_variables() -> None:
    sources = [
        *(ROOT / "include").rglob("*.py"),
        *(ROOT / "plugins").rglob("*.py"),
        *(ROOT / "dags").rglob("*.py"),
    ]

    readers = [
        str(path.relative_to(ROOT))
        for path in sources
        if re.search(r"os\.environ|getenv", text := path.read_text(encoding="utf-8"))
        and re.search(r"[\"']REVIEW_CALENDAR_[A-Z_]+", text)
    ]

    assert readers == ["include/review_calendar/settings.py"]


def test_settings_module_reads_the_environment_only_when_asked() -> None:
    text = (ROOT / "include" / "review_calendar" / "settings.py").read_text(encoding="utf-8")

    module_level = [line for line in text.splitlines() if re.match(r"^\w.*os\.(environ|getenv)", line)]
    assert module_level == []


@pytest.mark.parametrize(
    ("value", "language"),
    [
        pytest.param(None, "zh-CN", id="unset"),
        pytest.param(" ", "zh-CN", id="empty"),
        pytest.param("zh-TW", "zh-TW", id="other"),
        pytest.param("Browser", None, id="browser"),
    ],
)
def test_ui_language_defaults_to_simplified_chinese(value: str | None, language: str | None) -> None:
    env = {} if value is None else {"REVIEW_CALENDAR_UI_LANGUAGE": value}

    assert get_settings(env).ui_language == language


@pytest.mark.parametrize("value", ["zh_CN", 'zh-CN"</script>', "中文"])
def test_ui_language_must_be_a_language_tag(value: str) -> None:
    with pytest.raises(SettingsError, match="REVIEW_CALENDAR_UI_LANGUAGE"):
        get_settings({"REVIEW_CALENDAR_UI_LANGUAGE": value})
