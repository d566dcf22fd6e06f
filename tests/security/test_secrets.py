"""No credentials in the repository, and none printed in logs or messages.

The scan reads every file git would commit (tracked, plus new files that are
not ignored). Key material (private keys, cloud tokens, Fernet keys) must
appear nowhere. Credential literals (a password or secret assigned a real
value, a URL with a password) must appear nowhere outside ``tests/``, whose
detector tests hold deliberately fake ones (``hunter2``); placeholders such as
``${POSTGRES_PASSWORD:?...}``, ``<password>`` or an empty value are fine.

Credentials at run time: the review database URL's password, the SMTP
password. The PostgreSQL server of the tests trusts local connections, so a
URL with a (random) password connects and the password can be looked for.
"""

from __future__ import annotations

import base64
import datetime as dt
import logging
import re
import secrets
import subprocess
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.security import ROOT

pytestmark = pytest.mark.security

KEY_MATERIAL = {
    "private-key": re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----"),
    "aws-access-key-id": re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b"),
    "aws-secret-access-key": re.compile(r"(?i)aws_?secret_?access_?key\W{1,4}[A-Za-z0-9/+]{40}\b"),
    "fernet-key": re.compile(r"(?<![\w-])[A-Za-z0-9_-]{43}=(?![\w=-])"),
    "github-token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36}\b"),
    "slack-token": re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),
}
#: A name that holds a secret ends with one of these (``..._PASSWORDS_FILE`` names a path, not a secret).
SECRET_WORD = r"(?:passwords?|passwd|secret(?:_?key)?|token|api_?key|fernet_?key|private_?key)\b"
CREDENTIAL_LITERALS = {
    "quoted-assignment": re.compile(
        rf"""(?i)\b[\w.]*{SECRET_WORD}["']?\s*[:=]\s*(["'])(?P<value>[^"'\n]*)\1"""
    ),
    "url-with-password": re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s:/@'\"<>]+:(?P<value>[^\s@/'\"]+)@"),
    "config-assignment": re.compile(
        rf"""(?im)^\s*(?:export\s+)?[\w.]*{SECRET_WORD}\s*[=:]\s*"""
        r"""(?P<value>\$\{[^}\n]*\}|"[^"\n]*"|'[^'\n]*'|[^\s#]+)"""
    ),
}
#: Where ``config-assignment`` applies (in code, ``password = settings.password`` is not a literal).
CONFIG_FILES = {".env", ".example", ".cfg", ".ini", ".toml", ".yaml", ".yml", ".sh", ".conf", ".properties"}
PLACEHOLDER = re.compile(r"^(?:|\$\{[^}]*\}|\$\w+|<[^>]*>|\*+|\{\{[^}]*\}\}|changeme|x{3,})$", re.IGNORECASE)
SECRET_NAME = re.compile(r"(?:PASSWORDS?|SECRET|_KEY|TOKEN)$")


def repository_files() -> list[Path]:
    """Every file git would commit: tracked, plus new files that are not ignored."""
    out = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return sorted({ROOT / f for f in out.split("\0") if f and (ROOT / f).is_file()})


FILES = repository_files()


def text_of(path: Path) -> str | None:
    data = path.read_bytes()
    return None if b"\0" in data[:8192] else data.decode("utf-8", "replace")


def findings(pattern: re.Pattern[str], files: list[Path], *, placeholders_allowed: bool = False) -> list[str]:
    found = []
    for path in files:
        text = text_of(path)
        if text is None:
            continue
        for match in pattern.finditer(text):
            value = match.groupdict().get("value")
            if placeholders_allowed and value is not None and PLACEHOLDER.match(value.strip().strip("'\"")):
                continue
            line = text.count("\n", 0, match.start()) + 1
            where = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
            found.append(f"{where}:{line}: {match.group(0)[:80]}")
    return found


#: A planted secret per rule, assembled at run time so this file holds none.
PLANTED = {
    "private-key": "-----BEGIN " + "RSA PRIVATE KEY-----",
    "aws-access-key-id": "AKIA" + "Q" * 16,
    "aws-secret-access-key": "aws_secret_access_key = " + "Zq9" * 13 + "Z",
    "fernet-key": base64.urlsafe_b64encode(bytes(range(32))).decode(),
    "github-token": "ghp_" + "a1" * 18,
    "slack-token": "xoxb-" + "1234567890-abcdef",
    "quoted-assignment": "smtp_password = " + '"' + "s3cr3t-value" + '"',
    "url-with-password": "postgresql://review:" + "s3cr3t" + "@db:5432/review",
    "config-assignment": "POSTGRES_PASSWORD=" + "s3cr3t",
}


@pytest.mark.parametrize("rule", [pytest.param(r, id=r) for r in PLANTED])
def test_scan_finds_a_planted_secret(rule: str, tmp_path: Path) -> None:
    planted = tmp_path / "settings.env"
    planted.write_text(f"# settings\n{PLANTED[rule]}\n", encoding="utf-8")
    pattern = {**KEY_MATERIAL, **CREDENTIAL_LITERALS}[rule]

    assert len(findings(pattern, [planted], placeholders_allowed=True)) == 1


@pytest.mark.parametrize(
    "line",
    [
        pytest.param("POSTGRES_PASSWORD=", id="empty"),
        pytest.param(
            "POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD in .env}", id="compose-variable"
        ),
        pytest.param("url: postgresql://<user>:<password>@host/db", id="angle-brackets"),
    ],
)
def test_scan_accepts_a_placeholder(line: str, tmp_path: Path) -> None:
    planted = tmp_path / "settings.env"
    planted.write_text(line + "\n", encoding="utf-8")

    assert [
        f
        for rule in CREDENTIAL_LITERALS.values()
        for f in findings(rule, [planted], placeholders_allowed=True)
    ] == []


def test_scan_covers_the_repository() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in FILES}

    assert {
        "pyproject.toml",
        "docker-compose.yaml",
        ".env.example",
        "include/review_calendar/settings.py",
    } <= names


@pytest.mark.parametrize("rule", [pytest.param(r, id=r) for r in KEY_MATERIAL])
def test_repository_holds_no_key_material(rule: str) -> None:
    assert findings(KEY_MATERIAL[rule], FILES) == []


@pytest.mark.parametrize("rule", [pytest.param(r, id=r) for r in CREDENTIAL_LITERALS])
def test_no_credential_literal_outside_the_tests(rule: str) -> None:
    files = [p for p in FILES if not p.relative_to(ROOT).as_posix().startswith("tests/")]
    if rule == "config-assignment":
        files = [p for p in files if p.suffix in CONFIG_FILES or p.name.startswith((".env", "Dockerfile"))]

    assert findings(CREDENTIAL_LITERALS[rule], files, placeholders_allowed=True) == []


@pytest.mark.parametrize(
    "pattern",
    [
        pytest.param(r"(^|/)\.env$", id="dot-env"),
        pytest.param(r"(^|/)airflow\.cfg$", id="airflow-cfg"),
        pytest.param(r"\.(pem|key|p12|pfx|jks)$", id="key-files"),
        pytest.param(r"(^|/)id_(rsa|dsa|ecdsa|ed25519)$", id="ssh-keys"),
        pytest.param(r"\.generated$", id="generated-ui-passwords"),
    ],
)
def test_secret_files_are_not_committed(pattern: str) -> None:
    assert [p for p in FILES if re.search(pattern, p.relative_to(ROOT).as_posix())] == []


def test_dot_env_is_ignored_by_git() -> None:
    ignored = subprocess.run(["git", "check-ignore", "-q", ".env"], cwd=ROOT, check=False)

    assert ignored.returncode == 0


def test_example_env_files_leave_every_secret_empty() -> None:
    examples = [p for p in FILES if p.name.endswith((".env.example", ".env.sample", ".env.template"))]
    filled = [
        f"{p.name}: {line}"
        for p in examples
        for line in p.read_text(encoding="utf-8").splitlines()
        if "=" in line
        and not line.lstrip().startswith("#")
        and SECRET_NAME.search(line.split("=", 1)[0].strip())
        and line.split("=", 1)[1].strip()
    ]

    assert examples and filled == []


# Credentials at run time.


@pytest.fixture
def password() -> str:
    return "pw-" + secrets.token_hex(12)


@pytest.mark.postgres
def test_database_password_is_hidden_in_the_migration_log(
    pg_server,
    password: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from review_calendar.store.db import upgrade

    url = make_url(pg_server.create_database()).set(password=password).render_as_string(hide_password=False)
    caplog.set_level(logging.DEBUG, logger="review_calendar")

    upgrade(url)

    assert "Migrating review database postgresql://postgres:***@" in caplog.text
    assert password not in caplog.text


@pytest.mark.postgres
def test_database_password_is_hidden_by_the_cli(
    pg_server,
    password: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from review_calendar.cli import main

    url = make_url(pg_server.create_database()).set(password=password).render_as_string(hide_password=False)
    monkeypatch.setenv("REVIEW_CALENDAR_DB_URL", url)

    code = main(["--verbose", "db", "upgrade"])

    out = capsys.readouterr()
    assert code == 0 and "postgresql://postgres:***@" in out.out
    assert password not in out.out + out.err


def test_unreachable_database_error_does_not_show_the_password(
    password: str, caplog: pytest.LogCaptureFixture
) -> None:
    from sqlalchemy import text

    from review_calendar.store.db import session_scope
    from review_calendar_demo.local_smtp import free_port

    url = f"postgresql://review:{password}@127.0.0.1:{free_port()}/review"
    caplog.set_level(logging.DEBUG)

    with pytest.raises(Exception) as caught, session_scope(url) as session:
        session.execute(text("SELECT 1"))

    assert "Connection refused" in str(caught.value)
    assert password not in str(caught.value) and password not in caplog.text


def test_smtp_password_is_never_shown(
    password: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from review_calendar.notify.delivery import deliver
    from review_calendar.notify.outbox import queue
    from review_calendar.notify.smtp import smtp_sender
    from review_calendar.settings import SmtpSettings
    from review_calendar.store.db import session_scope, upgrade
    from review_calendar_demo.local_smtp import LocalSmtpServer

    url = f"sqlite:///{tmp_path / 'review.db'}"
    upgrade(url)
    with session_scope(url) as session:
        queue(session, kind="reminder", programme_id="hebei_smart_cluster", instance_key="k", region_code="130100",
              stage="before_7", to=["div.130100@gx.example.cn"], subject="提醒", body="正文", created_on=dt.date(2025, 7, 8))  # fmt: skip
    caplog.set_level(logging.DEBUG, logger="review_calendar")
    with LocalSmtpServer() as server:
        settings = SmtpSettings(
            host=server.host, port=server.port, user="review", password=password, timeout=5
        )
        with smtp_sender(settings) as send:
            report = deliver(url, send, sender="noreply@review.example.cn")

    assert report.server_unreachable and "SMTPNotSupportedError" in report.error  # the server offers no AUTH
    assert password not in repr(settings) + report.error + caplog.text
