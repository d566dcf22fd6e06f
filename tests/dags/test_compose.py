"""The Docker stack: every service, mount, variable and command that docker-compose.yaml names exists.

Docker cannot run on these machines, so the stack is checked by reading
docker-compose.yaml, the Dockerfile and .env.example, and the init job's script
runs for real against the tests' PostgreSQL server with the environment the
compose file gives it.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import re
import secrets
import stat
import subprocess
import sys
import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import yaml

if TYPE_CHECKING:
    from tests.pg_server import PostgresServer

pytestmark = pytest.mark.dagbag

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yaml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
ENV_EXAMPLE = ROOT / ".env.example"
PROJECT_CONFIG = ROOT / "include" / "review_calendar" / "settings.py"
LOCK_FILE = ROOT / "requirements.lock"

AIRFLOW_SERVICES = (
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-worker",
    "airflow-triggerer",
    "airflow-init",
)
SMTP_CATCHER = "mailpit"
REQUIRED_SERVICES = ("postgres", "redis", *AIRFLOW_SERVICES, SMTP_CATCHER)

#: Names of settings that hold secrets (passwords, keys, tokens).
SECRET_NAME = re.compile(r"(PASSWORDS?|SECRET|_KEY|TOKEN)$")
#: A value that only refers to .env: ${VAR}, ${VAR:?message} or ${VAR:-} (empty default).
ENV_REFERENCE = re.compile(r"\$\{[A-Za-z_]\w*(?::?\?[^}]*|:?-)?\}")
#: Any reference, also one with a literal default such as ${POSTGRES_USER:-airflow}.
ANY_REFERENCE = re.compile(r"\$\{[^}]*\}")
URL_PASSWORD = re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@]*:([^@\s/]+)@")
JSON_PASSWORD = re.compile(r'"password"\s*:\s*"([^"]*)"')
#: Compose interpolation: $$ escapes a dollar; ${VAR}, ${VAR:-default}, ${VAR:?error}, $VAR.
INTERPOLATION = re.compile(
    r"\$\$|\$\{(?P<name>[A-Za-z_]\w*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}|\$(?P<bare>[A-Za-z_]\w*)"
)
COMMAND_CALL = re.compile(
    r"(?m)(?:^[ \t]*|\$\()(?P<program>airflow|review-calendar)(?P<words>(?:[ \t]+[a-z][a-z0-9-]*)*)"
)


class MissingVariable(LookupError):
    """A ``${VAR:?message}`` whose variable is unset or empty: ``docker compose`` stops with the message."""


def interpolate(value: str, env: Mapping[str, str]) -> str:
    """Substitute variables in ``value`` as docker compose does with the .env file ``env``.

    Raises:
        MissingVariable: A required variable is unset or empty.
    """

    def substitute(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group("name") or match.group("bare")
        op, arg = match.group("op"), match.group("arg") or ""
        current = env.get(name)
        missing = current is None or (op is not None and op.startswith(":") and current == "")
        if op in ("?", ":?") and missing:
            raise MissingVariable(f"{name}: {arg}")
        if op in ("-", ":-") and missing:
            return arg
        return current or ""

    return INTERPOLATION.sub(substitute, value)


def strings(node: Any) -> Iterator[str]:
    """Every key and string value of a parsed YAML document."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield str(key)
            yield from strings(value)
    elif isinstance(node, list):
        for item in node:
            yield from strings(item)
    elif isinstance(node, str):
        yield node


def literal_secrets(node: Any, path: str = "") -> list[str]:
    """Places in a compose document where a secret is written out instead of read from .env."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            where = f"{path}.{key}" if path else str(key)
            if (
                SECRET_NAME.search(str(key))
                and isinstance(value, str | int)
                and not ENV_REFERENCE.fullmatch(str(value))
            ):
                found.append(where)
            else:
                found += literal_secrets(value, where)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            if isinstance(item, str) and re.fullmatch(r"[A-Za-z_]\w*=.*", item, re.DOTALL):
                item = dict([item.split("=", 1)])  # environment given as a list of KEY=VALUE
            found += literal_secrets(item, f"{path}[{index}]")
    elif isinstance(node, str):
        # Mask references first: a default such as ${POSTGRES_USER:-airflow} contains ':'.
        refs: list[str] = []

        def mask(match: re.Match[str]) -> str:
            refs.append(match.group(0))
            return f"\x00{len(refs) - 1}\x00"

        masked = ANY_REFERENCE.sub(mask, node)
        for pattern in (URL_PASSWORD, JSON_PASSWORD):
            for m in pattern.finditer(masked):
                ref = re.fullmatch(r"\x00(\d+)\x00", m.group(1))
                written = refs[int(ref.group(1))] if ref else m.group(1)
                if not ENV_REFERENCE.fullmatch(written):
                    found.append(f"{path}: {written!r}")
    return found


def dotenv_names(text: str) -> dict[str, str]:
    """Variables set (not commented out) in a .env file, with their values."""
    return dict(re.findall(r"(?m)^([A-Za-z_]\w*)=(.*)$", text))


def bind_mounts(service: Mapping[str, Any]) -> dict[str, str]:
    """Host paths bind-mounted into a service (``./x:/target``), keyed by container path."""
    mounts = {}
    for volume in service.get("volumes", []):
        source, target = volume.split(":")[:2]
        if source.startswith((".", "/")):
            mounts[target] = source
    return mounts


def host_path(container_path: str, mounts: Mapping[str, str]) -> Path | None:
    """The repository path that a container path lies in, through the bind mounts."""
    for target, source in mounts.items():
        if container_path == target or container_path.startswith(target + "/"):
            return (ROOT / source / container_path[len(target) :].lstrip("/")).resolve()
    return None


def sub_commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """The sub-commands an argparse parser accepts (empty for a leaf command)."""
    actions = parser._subparsers._group_actions if parser._subparsers else []
    return next((dict(a.choices) for a in actions if isinstance(a, argparse._SubParsersAction)), {})


def unknown_words(parser: argparse.ArgumentParser, words: list[str]) -> list[str]:
    """The words of a command line that name no sub-command, or a marker if the command is incomplete."""
    for index, word in enumerate(words):
        choices = sub_commands(parser)
        if word not in choices:
            return words[index:]
        parser = choices[word]
    return ["<sub-command missing>"] if sub_commands(parser) else []


def _load_compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))


def _init_calls(program: str) -> list[list[str]]:
    script = interpolate(_load_compose()["services"]["airflow-init"]["command"][-1], {})
    return [m.group("words").split() for m in COMMAND_CALL.finditer(script) if m.group("program") == program]


def _project_settings() -> list[str]:
    return sorted(set(re.findall(r"REVIEW_CALENDAR_[A-Z_]+", PROJECT_CONFIG.read_text(encoding="utf-8"))))


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return _load_compose()


@pytest.fixture(scope="module")
def common_env(compose: dict[str, Any]) -> dict[str, str]:
    return {k: str(v) for k, v in compose["x-airflow-common"]["environment"].items()}


@pytest.fixture(scope="module")
def common_mounts(compose: dict[str, Any]) -> dict[str, str]:
    return bind_mounts(compose["x-airflow-common"])


@pytest.fixture(scope="module")
def env_example() -> dict[str, str]:
    return dotenv_names(ENV_EXAMPLE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def filled_env(env_example: dict[str, str]) -> dict[str, str]:
    """.env.example with its empty secrets filled in, as an operator's .env would be."""
    fernet = base64.urlsafe_b64encode(os.urandom(32)).decode()
    filled = {
        name: value or secrets.token_hex(16)
        for name, value in env_example.items()
        if SECRET_NAME.search(name)
    }
    return {**env_example, **filled, "FERNET_KEY": fernet}


@pytest.mark.parametrize("service", [pytest.param(s, id=s) for s in REQUIRED_SERVICES])
def test_service_is_defined(compose: dict[str, Any], service: str) -> None:
    assert service in compose["services"]


@pytest.mark.parametrize("service", [pytest.param(s, id=s) for s in AIRFLOW_SERVICES])
def test_airflow_service_runs_the_project_image(compose: dict[str, Any], service: str) -> None:
    assert compose["services"][service]["build"] == "."


@pytest.mark.parametrize(
    ("service", "command"),
    [
        pytest.param("airflow-apiserver", "api-server", id="apiserver"),
        pytest.param("airflow-scheduler", "scheduler", id="scheduler"),
        pytest.param("airflow-dag-processor", "dag-processor", id="dag-processor"),
        pytest.param("airflow-worker", "celery worker", id="worker"),
        pytest.param("airflow-triggerer", "triggerer", id="triggerer"),
    ],
)
def test_airflow_service_runs_its_component(compose: dict[str, Any], service: str, command: str) -> None:
    assert compose["services"][service]["command"] == command


@pytest.mark.parametrize("service", [pytest.param(s, id=s) for s in AIRFLOW_SERVICES if s != "airflow-init"])
def test_airflow_service_starts_after_the_init_job(compose: dict[str, Any], service: str) -> None:
    depends_on = compose["services"][service]["depends_on"]

    assert depends_on["airflow-init"] == {"condition": "service_completed_successfully"}


@pytest.mark.parametrize(
    "dependency", [pytest.param("postgres", id="postgres"), pytest.param("redis", id="redis")]
)
def test_init_job_waits_for_healthy_backends(compose: dict[str, Any], dependency: str) -> None:
    assert compose["services"]["airflow-init"]["depends_on"][dependency] == {"condition": "service_healthy"}


@pytest.mark.parametrize("service", [pytest.param(s, id=s) for s in REQUIRED_SERVICES if s != "airflow-init"])
def test_long_running_service_has_a_healthcheck(compose: dict[str, Any], service: str) -> None:
    assert compose["services"][service]["healthcheck"]["test"]


def _apiserver_ports(compose: dict[str, Any], env: Mapping[str, str]) -> dict[str, int]:
    """Every port that must be the api-server's, after interpolation with ``env``."""
    from urllib.parse import urlsplit

    service = compose["services"]["airflow-apiserver"]
    common = {k: interpolate(str(v), env) for k, v in compose["x-airflow-common"]["environment"].items()}
    check = interpolate(" ".join(service["healthcheck"]["test"]), env)
    (published,) = [interpolate(str(p), env).split(":") for p in service["ports"]]
    return {
        "listens": int(common["AIRFLOW__API__PORT"]),
        "execution API": urlsplit(common["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"]).port or 80,
        "health check": int(
            re.search(r"http://localhost:(\d+)/api/v2/(?:version|monitor/health)\b", check)[1]
        ),
        "published": int(published[-1]),
        "on the host": int(published[-2]),
    }


@pytest.mark.parametrize("port", [pytest.param("8080", id="default"), pytest.param("8095", id="8095")])
def test_apiserver_port_moves_every_use_of_it_together(
    compose: dict[str, Any], filled_env: dict[str, str], port: str
) -> None:
    ports = _apiserver_ports(compose, {**filled_env, "AIRFLOW_API_PORT": port})

    assert ports == dict.fromkeys(ports, int(port))


def test_apiserver_is_published_on_this_machine_only(compose: dict[str, Any]) -> None:
    assert all(str(p).startswith("127.0.0.1:") for p in compose["services"]["airflow-apiserver"]["ports"])


def test_executor_is_celery(common_env: dict[str, str]) -> None:
    assert common_env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"


def test_celery_broker_is_the_redis_service(common_env: dict[str, str], compose: dict[str, Any]) -> None:
    from sqlalchemy.engine import make_url

    broker = make_url(common_env["AIRFLOW__CELERY__BROKER_URL"])

    assert (broker.drivername, broker.port) == ("redis", 6379)
    assert broker.host in compose["services"]


def test_workers_reach_the_execution_api_on_the_apiserver(common_env: dict[str, str]) -> None:
    from urllib.parse import urlsplit

    url = urlsplit(common_env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"])

    assert (url.scheme, url.hostname, url.path) == ("http", "airflow-apiserver", "/execution/")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        pytest.param("AIRFLOW__CORE__LOAD_EXAMPLES", "false", id="no-examples"),
        pytest.param("AIRFLOW__CORE__DEFAULT_TIMEZONE", "Asia/Shanghai", id="timezone"),
        pytest.param(
            "AIRFLOW__CORE__AUTH_MANAGER",
            "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager",
            id="auth-manager",
        ),
        pytest.param("PYTHONPATH", "/opt/airflow/include", id="pythonpath"),
        pytest.param("REVIEW_CALENDAR_HOME", "/opt/airflow/var", id="review-home"),
    ],
)
def test_common_environment_sets(common_env: dict[str, str], name: str, value: str) -> None:
    assert common_env[name] == value


def test_ui_passwords_file_is_on_a_named_volume(compose: dict[str, Any], common_env: dict[str, str]) -> None:
    folder = str(Path(common_env["REVIEW_CALENDAR_PASSWORDS_FILE"]).parent)
    named = {
        v.split(":")[1]: v.split(":")[0]
        for v in compose["x-airflow-common"]["volumes"]
        if not v.startswith(".")
    }

    assert named[folder] in compose["volumes"]


@pytest.mark.parametrize(
    ("setting", "variable"),
    [
        pytest.param("AIRFLOW__CORE__FERNET_KEY", "FERNET_KEY", id="fernet-key"),
        pytest.param("AIRFLOW__API_AUTH__JWT_SECRET", "JWT_SECRET", id="jwt-secret"),
        pytest.param("AIRFLOW__API__SECRET_KEY", "API_SECRET_KEY", id="api-secret-key"),
    ],
)
def test_shared_secret_is_required_from_env_file(
    common_env: dict[str, str], setting: str, variable: str
) -> None:
    assert re.fullmatch(rf"\$\{{{variable}:\?[^}}]+\}}", common_env[setting])


def test_compose_file_writes_out_no_secret(compose: dict[str, Any]) -> None:
    assert literal_secrets(compose) == []


@pytest.mark.parametrize(
    ("document", "expected"),
    [
        pytest.param(
            {"environment": {"POSTGRES_PASSWORD": "airflow"}},
            ["environment.POSTGRES_PASSWORD"],
            id="password",
        ),
        pytest.param({"environment": ["JWT_SECRET=abc"]}, ["environment[0].JWT_SECRET"], id="list-form"),
        pytest.param(
            {"environment": {"URL": "postgresql://a:hunter2@db/x"}}, ["environment.URL: 'hunter2'"], id="url"
        ),
        pytest.param(
            {"environment": {"C": '{"password": "hunter2"}'}}, ["environment.C: 'hunter2'"], id="json"
        ),
        pytest.param(
            {"environment": {"URL": "postgresql://a:${P:-hunter2}@db/x"}},
            ["environment.URL: '${P:-hunter2}'"],
            id="default",
        ),
        pytest.param(
            {"environment": {"URL": "postgresql://${U:-a}:${P:?set P}@db/x", "P_KEY": "${K:-}"}},
            [],
            id="refs-ok",
        ),
    ],
)
def test_secret_detector(document: dict[str, Any], expected: list[str]) -> None:
    assert literal_secrets(document) == expected


def test_every_compose_variable_is_documented_in_env_example(
    compose: dict[str, Any], env_example: dict[str, str]
) -> None:
    used = {
        m.group("name") or m.group("bare")
        for text in strings(compose)
        for m in INTERPOLATION.finditer(text)
        if m.group(0) != "$$"
    }

    assert sorted(used - set(env_example)) == []


def test_every_documented_variable_is_used_by_compose(env_example: dict[str, str]) -> None:
    text = COMPOSE_FILE.read_text(encoding="utf-8")

    assert [name for name in env_example if not re.search(rf"\$\{{{name}\b", text)] == []


@pytest.mark.parametrize(
    "secret",
    [
        pytest.param(n, id=n)
        for n in dotenv_names(ENV_EXAMPLE.read_text(encoding="utf-8"))
        if SECRET_NAME.search(n)
    ],
)
def test_env_example_leaves_secret_empty(env_example: dict[str, str], secret: str) -> None:
    assert env_example[secret] == ""


@pytest.mark.parametrize(
    "secret",
    [pytest.param(s, id=s) for s in ("POSTGRES_PASSWORD", "FERNET_KEY", "JWT_SECRET", "API_SECRET_KEY")],
)
def test_compose_stops_while_a_required_secret_is_empty(
    compose: dict[str, Any], filled_env: dict[str, str], secret: str
) -> None:
    env = {**filled_env, secret: ""}

    with pytest.raises(MissingVariable, match=rf"^{secret}: "):
        for text in strings(compose):
            interpolate(text, env)


@pytest.mark.parametrize(
    "setting",
    [
        pytest.param("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", id="airflow-metadata"),
        pytest.param("AIRFLOW__CELERY__RESULT_BACKEND", id="celery-results"),
        pytest.param("REVIEW_CALENDAR_DB_URL", id="review"),
    ],
)
def test_database_url_logs_in_with_the_postgres_service_credentials(
    common_env: dict[str, str], filled_env: dict[str, str], setting: str
) -> None:
    from sqlalchemy.engine import make_url

    url = make_url(interpolate(common_env[setting].removeprefix("db+"), filled_env))

    assert (url.host, url.username, url.password) == (
        "postgres",
        filled_env["POSTGRES_USER"],
        filled_env["POSTGRES_PASSWORD"],
    )


def test_env_example_runs_containers_as_the_image_user(env_example: dict[str, str]) -> None:
    assert env_example["AIRFLOW_UID"] == "50000"


@pytest.mark.parametrize("name", [pytest.param(n, id=n) for n in _project_settings()])
def test_project_setting_is_documented_in_env_example(name: str) -> None:
    assert re.search(rf"(?m)^#? ?{name}=", ENV_EXAMPLE.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "folder",
    [
        pytest.param(f, id=f)
        for f in ("dags", "plugins", "include", "expectations", "programmes", "config", "logs")
    ],
)
def test_project_folder_is_mounted(common_mounts: dict[str, str], folder: str) -> None:
    assert common_mounts[f"/opt/airflow/{folder}"] == f"./{folder}"


@pytest.mark.parametrize(
    "source",
    [pytest.param(s, id=s) for s in sorted(set(bind_mounts(_load_compose()["x-airflow-common"]).values()))],
)
def test_bind_mounted_folder_exists_in_the_repository(source: str) -> None:
    assert (ROOT / source).is_dir()


def test_review_calendar_home_is_a_named_volume(compose: dict[str, Any]) -> None:
    named = [v for v in compose["x-airflow-common"]["volumes"] if v.endswith(":/opt/airflow/var")]

    assert len(named) == 1 and named[0].split(":")[0] in compose["volumes"]


@pytest.mark.parametrize("name", [pytest.param(n, id=n) for n in _project_settings()])
def test_project_setting_is_set_for_every_airflow_service(common_env: dict[str, str], name: str) -> None:
    assert common_env.get(name)


@pytest.mark.parametrize(
    ("name", "repository_path"),
    [
        pytest.param("REVIEW_CALENDAR_PROGRAMMES", "programmes", id="programmes"),
        pytest.param("REVIEW_CALENDAR_HOLIDAYS", "config/holidays.yaml", id="holidays"),
        pytest.param("REVIEW_CALENDAR_EXPECTATIONS", "expectations", id="expectations"),
        pytest.param("PYTHONPATH", "include", id="pythonpath"),
    ],
)
def test_path_setting_reaches_the_files_the_tests_use(
    common_env: dict[str, str], common_mounts: dict[str, str], name: str, repository_path: str
) -> None:
    resolved = host_path(common_env[name], common_mounts)

    assert resolved == (ROOT / repository_path).resolve()
    assert resolved.exists()


def test_review_database_is_a_second_database_on_the_postgres_service(
    common_env: dict[str, str], filled_env: dict[str, str]
) -> None:
    from sqlalchemy.engine import make_url

    review = make_url(interpolate(common_env["REVIEW_CALENDAR_DB_URL"], filled_env))
    airflow = make_url(interpolate(common_env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"], filled_env))

    assert (review.get_backend_name(), review.host, review.database) == ("postgresql", "postgres", "review")
    assert (airflow.host, airflow.database) == ("postgres", "airflow")


def test_smtp_connection_points_at_the_catcher(common_env: dict[str, str], compose: dict[str, Any]) -> None:
    connection = json.loads(common_env["AIRFLOW_CONN_SMTP_DEFAULT"])

    assert (connection["conn_type"], connection["host"]) == ("smtp", SMTP_CATCHER)
    assert str(connection["port"]) in [str(p) for p in compose["services"][SMTP_CATCHER]["expose"]]


@pytest.mark.parametrize(
    "extra", [pytest.param("disable_ssl", id="ssl"), pytest.param("disable_tls", id="tls")]
)
def test_smtp_connection_speaks_plain_smtp_to_the_catcher(common_env: dict[str, str], extra: str) -> None:
    assert json.loads(common_env["AIRFLOW_CONN_SMTP_DEFAULT"])["extra"][extra] is True


def test_catcher_publishes_its_web_inbox(compose: dict[str, Any]) -> None:
    assert any(str(p).endswith("8025:8025") for p in compose["services"][SMTP_CATCHER]["ports"])


@pytest.fixture(scope="module")
def airflow_parser() -> argparse.ArgumentParser:
    from airflow.cli.cli_parser import get_parser

    return get_parser()


@pytest.mark.parametrize("words", [pytest.param(w, id=" ".join(w)) for w in _init_calls("review-calendar")])
def test_init_names_only_existing_review_calendar_commands(words: list[str]) -> None:
    from review_calendar.cli import build_parser

    assert unknown_words(build_parser(), words) == []


@pytest.mark.parametrize("words", [pytest.param(w, id=" ".join(w)) for w in _init_calls("airflow")])
def test_init_names_only_existing_airflow_commands(
    airflow_parser: argparse.ArgumentParser, words: list[str]
) -> None:
    assert unknown_words(airflow_parser, words) == []


def test_init_migrates_checks_loads_regions_then_seeds(compose: dict[str, Any]) -> None:
    script = compose["services"]["airflow-init"]["command"][-1]
    steps = [
        "airflow db migrate",
        "review-calendar db upgrade",
        "review-calendar programmes check",
        "review-calendar regions load",
        "python -m review_calendar_demo seed",
    ]

    positions = [script.find(step) for step in steps]

    assert -1 not in positions and positions == sorted(positions)


def test_init_seeds_the_demo_only_when_asked(compose: dict[str, Any]) -> None:
    script = compose["services"]["airflow-init"]["command"][-1]

    guarded = re.search(
        r'if \[\[ "\$\$\{REVIEW_CALENDAR_LOAD_DEMO:-false\}" == "true" \]\]; then\s+python -m review_calendar_demo seed\s+fi',
        script,
    )

    assert guarded and script.count("review_calendar_demo seed") == 1


def _dockerfile_instructions() -> list[tuple[str, str]]:
    text = DOCKERFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines]


def test_dockerfile_builds_on_the_locked_airflow_and_python() -> None:
    pinned = re.search(r"(?m)^apache-airflow==(\S+)$", LOCK_FILE.read_text(encoding="utf-8")).group(1)
    base = next(arg for op, arg in _dockerfile_instructions() if op == "FROM")

    assert base == f"apache/airflow:{pinned}-python3.11"


def test_dockerfile_installs_the_lock() -> None:
    instructions = _dockerfile_instructions()
    copied = next(
        arg.split()[-1] for op, arg in instructions if op == "COPY" and "requirements.lock" in arg.split()
    )

    assert any(
        op == "RUN" and re.search(rf"pip install .*-r {re.escape(copied)}(\s|$)", arg)
        for op, arg in instructions
    )


def test_dockerfile_installs_the_package_without_dependencies() -> None:
    instructions = _dockerfile_instructions()
    package_dir = next(
        arg.split()[-1].rstrip("/") for op, arg in instructions if op == "COPY" and "pyproject.toml" in arg
    )

    assert any(
        op == "RUN" and re.search(rf"pip install .*--no-deps (-e )?{re.escape(package_dir)}\b", arg)
        for op, arg in instructions
    )


def test_dockerfile_installs_as_the_airflow_user() -> None:
    users = [arg for op, arg in _dockerfile_instructions() if op == "USER"]

    assert users == ["airflow"]


@pytest.mark.parametrize(
    "source",
    [
        pytest.param(src, id=src)
        for op, arg in _dockerfile_instructions()
        if op == "COPY"
        for src in arg.split()[:-1]
        if not src.startswith("--")
    ],
)
def test_build_context_keeps_every_copied_file(source: str) -> None:
    patterns = [
        p.strip()
        for p in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if p.strip() and not p.startswith("#")
    ]

    assert (ROOT / source).exists()
    assert f"!{source}" in patterns


def test_build_context_leaves_out_the_env_file() -> None:
    patterns = [
        p.strip()
        for p in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if p.strip() and not p.startswith("#")
    ]

    assert patterns[0] == "*" and not [p for p in patterns if p.startswith("!.env")]


@pytest.fixture(scope="module")
def init_runs(
    pg_server: PostgresServer,
    compose: dict[str, Any],
    filled_env: dict[str, str],
    tmp_path_factory: pytest.TempPathFactory,
) -> dict[str, Any]:
    """The init job's script, run twice (as on every `docker compose up`) against the tests' PostgreSQL.

    Substitutions, and what they hide: /opt/airflow is a temporary folder whose project
    folders link to the checkout (logs/ is a fresh folder: the job chowns it); the
    `postgres` host is the tests' server; the drivers are psycopg 3 (sync and async)
    because psycopg2 and asyncpg come with the official image, not with requirements.lock.
    """
    from sqlalchemy.engine import make_url

    if os.geteuid() != 0:
        pytest.skip("the init job chowns its folders as root, as in its container")
    opt_airflow = tmp_path_factory.mktemp("compose") / "opt-airflow"
    opt_airflow.mkdir()
    for target, source in bind_mounts(compose["x-airflow-common"]).items():
        local = opt_airflow / Path(target).relative_to("/opt/airflow")
        if source == "./logs":
            local.mkdir()
        else:
            local.symlink_to(ROOT / source, target_is_directory=True)

    airflow_db = make_url(pg_server.create_database("compose_airflow")).database
    review_db = f"compose_review_{uuid.uuid4().hex[:8]}"

    def on_test_server(url: str, driver: str, database: str) -> str:
        moved = make_url(url).set(
            drivername=driver,
            host="127.0.0.1",
            port=pg_server.port,
            username="postgres",
            password=None,
            database=database,
        )
        return moved.render_as_string(hide_password=False)

    dotenv = {
        **filled_env,
        "AIRFLOW_UID": str(os.getuid()),
        "REVIEW_CALENDAR_LOAD_DEMO": "true",
        "AIRFLOW_UI_PASSWORDS": "reviewer:" + secrets.token_hex(8),
    }
    service = compose["services"]["airflow-init"]
    env = {
        k: interpolate(str(v), dotenv).replace("/opt/airflow", str(opt_airflow))
        for k, v in service["environment"].items()
    }
    metadata = env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    env |= {
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": on_test_server(metadata, "postgresql+psycopg", airflow_db),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": on_test_server(
            metadata, "postgresql+psycopg_async", airflow_db
        ),
        "REVIEW_CALENDAR_DB_URL": on_test_server(
            env["REVIEW_CALENDAR_DB_URL"], "postgresql+psycopg", review_db
        ),
        "AIRFLOW_HOME": str(opt_airflow),
        "HOME": str(opt_airflow),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
        "LANG": "C.UTF-8",
    }
    script = interpolate(service["command"][-1], dotenv).replace("/opt/airflow", str(opt_airflow))
    runs = [
        subprocess.run(
            ["bash", "-c", script], env=env, capture_output=True, text=True, timeout=600, check=False
        )
        for _ in range(2)
    ]
    return {"runs": runs, "env": env, "ui_passwords": dotenv["AIRFLOW_UI_PASSWORDS"]}


@pytest.mark.postgres
@pytest.mark.parametrize("run", [pytest.param(0, id="first-start"), pytest.param(1, id="next-start")])
def test_init_job_succeeds(init_runs: dict[str, Any], run: int) -> None:
    result = init_runs["runs"][run]

    assert result.returncode == 0, (result.stdout[-2000:], result.stderr[-3000:])


@pytest.mark.postgres
def test_init_job_migrates_the_review_database_to_head(init_runs: dict[str, Any]) -> None:
    from alembic.script import ScriptDirectory

    from review_calendar.store.db import alembic_config, current_revision

    url = init_runs["env"]["REVIEW_CALENDAR_DB_URL"]

    assert current_revision(url) == ScriptDirectory.from_config(alembic_config(url)).get_current_head()


@pytest.mark.postgres
def test_init_job_loads_the_demo_when_asked(init_runs: dict[str, Any]) -> None:
    from sqlalchemy import func, select

    from review_calendar.store.db import session_scope
    from review_calendar.store.models import Region

    with session_scope(init_runs["env"]["REVIEW_CALENDAR_DB_URL"]) as session:
        regions = session.scalar(select(func.count()).select_from(Region))

    assert regions > 0


@pytest.mark.postgres
def test_init_job_provisions_the_users_with_the_chosen_passwords(init_runs: dict[str, Any]) -> None:
    from sqlalchemy import create_engine, text
    from werkzeug.security import check_password_hash

    path = Path(init_runs["env"]["REVIEW_CALENDAR_PASSWORDS_FILE"])
    user, password = init_runs["ui_passwords"].split(":")
    passwords = json.loads(path.read_text(encoding="utf-8"))
    engine = create_engine(init_runs["env"]["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
    with engine.connect() as conn:
        hashes = dict(conn.execute(text("SELECT username, password FROM ab_user")).all())
    engine.dispose()

    assert passwords[user] == password
    assert {"admin", "operator", "reviewer", "hebei_reviewer"} <= set(passwords) == set(hashes)
    assert all(check_password_hash(hashes[name], secret) for name, secret in passwords.items())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
