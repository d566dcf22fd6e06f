"""Who may do what in Airflow: the project's roles and users, provisioned into FAB's tables.

Airflow runs with the FAB auth manager: users, roles and permissions live in the
metadata database (the ``ab_*`` tables that ``airflow db migrate`` creates).
This module is the one place that says who is who:

- ``admin`` has FAB's ``Admin`` role; ``operator`` has FAB's ``Op`` role (runs,
  clears and pauses DAGs; may not answer a Required Action assigned to someone else);
- reviewers have :data:`REVIEWER_ROLE`: they read everything the UI shows and
  may answer Required Actions (``can_edit`` on ``HITL Detail``), but may not
  start, clear or mark runs or task instances and have no global ``can_edit``
  on ``DAGs``; each programme's reviewers also get the role
  ``Reviewer:<programme_id>``, with ``can_read``/``can_edit`` on that
  programme's decision DAG ``decisions__<programme_id>`` only, which Airflow
  requires to answer an action of that DAG. FAB's edit on a DAG also pauses
  it: :class:`PauseGuard` (a root middleware of the api-server, registered by
  the plugin) refuses pausing to anyone who may not trigger the DAG.

Reviewers are read from each programme file's ``review.reviewers``; the user
``reviewer`` reviews every programme (the demo and the browser test use it).
A user in the reviewers' roster (``config/reviewers.yaml``) gets its 姓名 as
first name and its 处室 as last name; any other keeps the login as both, unless
an administrator gave the account a name (kept, and used as who answered).
Passwords are generated on first provisioning into ``$AIRFLOW_HOME/passwords.json``
(``REVIEW_CALENDAR_PASSWORDS_FILE`` if set; mode 0600) and reused afterwards: a
password written there by hand becomes the user's at the next provisioning.
They are never printed.

    python -m review_calendar_airflow.access provision [--programmes DIR] [--extra-programme ID]
    python -m review_calendar_airflow.access token USER --url http://127.0.0.1:8080
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

READ, EDIT, CREATE, DELETE, MENU = "can_read", "can_edit", "can_create", "can_delete", "menu_access"

#: The role every reviewer has: FAB's Viewer without the Browse menus operators need,
#: plus the Required Actions menu and the answer itself.
REVIEWER_ROLE = "Reviewer"
REVIEWER_PERMISSIONS: tuple[tuple[str, str], ...] = (
    (READ, "Website"),
    (READ, "DAGs"),
    (READ, "DAG Dependencies"),
    (READ, "DAG Code"),
    (READ, "DAG Runs"),
    (READ, "DAG Versions"),
    (READ, "DAG Warnings"),
    (READ, "Task Instances"),
    (READ, "Task Logs"),
    (READ, "XComs"),
    (READ, "Assets"),
    (READ, "Asset Aliases"),
    (READ, "Backfills"),
    (READ, "ImportError"),
    (READ, "Jobs"),
    (READ, "Pools"),
    (READ, "Cluster Activity"),
    # The review calendar's nav entry is listed by GET /api/v2/plugins.
    (READ, "Plugins"),
    (READ, "My Password"),
    (EDIT, "My Password"),
    (READ, "My Profile"),
    (EDIT, "My Profile"),
    (READ, "HITL Detail"),
    (EDIT, "HITL Detail"),
    (MENU, "HITL Detail"),
    (MENU, "Browse"),
    (MENU, "DAGs"),
    (MENU, "DAG Dependencies"),
    (MENU, "DAG Runs"),
    (MENU, "Task Instances"),
    (MENU, "Assets"),
    (MENU, "Cluster Activity"),
    (MENU, "Docs"),
    (MENU, "Documentation"),
)
#: Never granted to a reviewer, globally or on one DAG (the provisioning checks it).
REVIEWER_FORBIDDEN: frozenset[tuple[str, str]] = frozenset({
    (CREATE, "DAG Runs"), (EDIT, "DAG Runs"), (DELETE, "DAG Runs"),
    (CREATE, "Task Instances"), (EDIT, "Task Instances"), (DELETE, "Task Instances"),
    (EDIT, "DAGs"), (DELETE, "DAGs"),
})  # fmt: skip

#: Fixed users and their FAB roles.
ADMIN, OPERATOR, REVIEWER = "admin", "operator", "reviewer"
FIXED_USERS: Mapping[str, tuple[str, ...]] = {ADMIN: ("Admin",), OPERATOR: ("Op",)}
#: Reviewers of a programme whose file does not name them yet (``review.reviewers``).
DEFAULT_REVIEWERS: Mapping[str, tuple[str, ...]] = {
    "hebei_smart_cluster": ("hebei_reviewer",),
    "miit_sme_cluster": ("miit_reviewer",),
    "henan_demo_base": ("henan_reviewer",),
    "langfang_digital": ("langfang_reviewer",),
}
PASSWORDS_FILE = "passwords.json"
#: Airflow Variable with user name → FAB user id (as text), published by :func:`provision`
#: for tasks, which set a Required Action's assigned users by id and cannot query FAB's tables.
USER_IDS_VARIABLE = "review_calendar_user_ids"
#: Airflow Variable with user name → the account's own name (first and last name, when they are
#: not the login), published by :func:`provision`: who answered, for logins missing from the roster.
USER_NAMES_VARIABLE = "review_calendar_user_names"


def programme_role(programme_id: str) -> str:
    """The role that may answer the actions of one programme's decision DAG."""
    return f"{REVIEWER_ROLE}:{programme_id}"


def programme_permissions(programme_id: str) -> tuple[tuple[str, str], ...]:
    """``can_read`` and ``can_edit`` on the programme's decision DAG, nothing else."""
    from review_calendar.domain.runs import decision_dag_id  # not at import: the plugin loads this module

    resource = f"DAG:{decision_dag_id(programme_id)}"
    return ((READ, resource), (EDIT, resource))


def reviewers_by_programme(directory: Path) -> dict[str, tuple[str, ...]]:
    """Programme id → its reviewers' user names, from ``programmes/*.yaml``.

    The ``review:`` block is read leniently (a file without one gets
    :data:`DEFAULT_REVIEWERS`); the generic ``reviewer`` is added to each.
    """
    from review_calendar.domain.yaml_text import load_yaml

    found: dict[str, tuple[str, ...]] = {}
    for path in sorted(directory.glob("*.yaml")):
        data = load_yaml(path.read_text(encoding="utf-8")) or {}
        programme_id = str(data.get("id") or path.stem)
        named = (data.get("review") or {}).get("reviewers") or DEFAULT_REVIEWERS.get(programme_id, ())
        found[programme_id] = _unique([*(str(n) for n in named), REVIEWER])
    return found


def _unique(names: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(n.strip() for n in names if n and n.strip()))


@dataclass(frozen=True)
class Plan:
    """Roles (name → permissions) and users (name → role names) to provision."""

    roles: Mapping[str, tuple[tuple[str, str], ...]]
    users: Mapping[str, tuple[str, ...]]


def plan(reviewers: Mapping[str, Sequence[str]]) -> Plan:
    """The roles and users for programme id → reviewer names.

    Raises:
        ValueError: A reviewer is also a fixed user (admin, operator).
    """
    roles: dict[str, tuple[tuple[str, str], ...]] = {REVIEWER_ROLE: REVIEWER_PERMISSIONS}
    users: dict[str, tuple[str, ...]] = {name: roles_ for name, roles_ in FIXED_USERS.items()}
    users[REVIEWER] = (REVIEWER_ROLE,)
    for programme_id, names in sorted(reviewers.items()):
        roles[programme_role(programme_id)] = programme_permissions(programme_id)
        for name in _unique([*names, REVIEWER]):
            if name in FIXED_USERS:
                raise ValueError(f"{name} is a fixed user and cannot review {programme_id}")
            users[name] = _unique([*users.get(name, (REVIEWER_ROLE,)), programme_role(programme_id)])
    for role, perms in roles.items():
        if role != "Admin" and REVIEWER_FORBIDDEN & set(perms):
            raise ValueError(
                f"role {role} would let reviewers run DAGs: {sorted(REVIEWER_FORBIDDEN & set(perms))}"
            )
    return Plan(roles, users)


def passwords_path(airflow_home: Path | None = None) -> Path:
    """``airflow_home/passwords.json``; else ``REVIEW_CALENDAR_PASSWORDS_FILE`` or ``$AIRFLOW_HOME/passwords.json``."""
    if airflow_home is None:
        from review_calendar.settings import get_settings

        if (configured := get_settings().passwords_file) is not None:
            return configured
    home = airflow_home or Path(os.environ.get("AIRFLOW_HOME") or Path.home() / "airflow")
    return home / PASSWORDS_FILE


def load_passwords(path: Path) -> dict[str, str]:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def _save_passwords(path: Path, passwords: Mapping[str, str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path.with_suffix(".tmp"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(dict(sorted(passwords.items())), f, indent=2)
    os.chmod(path.with_suffix(".tmp"), 0o600)
    os.replace(path.with_suffix(".tmp"), path)


def password(username: str, airflow_home: Path | None = None) -> str:
    """The provisioned password of ``username``.

    Raises:
        KeyError: The user was not provisioned in this Airflow home.
    """
    return load_passwords(passwords_path(airflow_home))[username]


def provision(the_plan: Plan, airflow_home: Path | None = None) -> dict[str, Any]:
    """Create or update the plan's roles and users in Airflow's metadata database (idempotent).

    Project roles get exactly their permissions (extra ones are removed); users
    get exactly their roles; a user's password is the one in ``passwords.json``
    (generated there when missing). FAB's built-in roles are synced first.

    Returns:
        What changed: ``{"roles": [...], "users_created": [...], "passwords_file": path}``.
    """
    from airflow.providers.fab.auth_manager.cli_commands.utils import get_application_builder

    path = passwords_path(airflow_home)
    passwords = load_passwords(path)
    missing = [u for u in the_plan.users if u not in passwords]
    for name in missing:
        passwords[name] = secrets.token_urlsafe(18)
    if missing or not path.exists():
        _save_passwords(path, passwords)
    os.chmod(path, 0o600)

    from airflow.models.variable import Variable

    from review_calendar.domain.people import account_name, default_roster

    roster = default_roster()
    created: list[str] = []
    with get_application_builder() as appbuilder:
        sm = appbuilder.sm
        sm.sync_roles()
        for role_name, perms in the_plan.roles.items():
            _sync_role(sm, role_name, perms)
        for username, role_names in the_plan.users.items():
            if _sync_user(sm, username, role_names, passwords[username], roster.get(username)):
                created.append(username)
        users = sm.get_all_users()
        ids = {u.username: str(u.id) for u in users}
        names = {u.username: n for u in users if (n := account_name(u.username, u.first_name, u.last_name))}
    Variable.set(
        USER_IDS_VARIABLE, ids, description="审查日历：用户名 → FAB 用户 id（自动生成）", serialize_json=True
    )
    Variable.set(
        USER_NAMES_VARIABLE, names, description="审查日历：用户名 → 账户姓名（自动生成）", serialize_json=True
    )
    return {"roles": sorted(the_plan.roles), "users_created": created, "passwords_file": str(path)}


def provision_project(
    programmes_dir: Path | None = None, extra_programmes: Sequence[str] = ()
) -> dict[str, str]:
    """Provision the project's roles and users into this process's Airflow metadata database.

    Reviewers come from the programme files (``REVIEW_CALENDAR_PROGRAMMES`` by
    default); ``extra_programmes`` are decision DAGs without a file, answered by
    the generic reviewer. Airflow's configuration (``AIRFLOW_HOME``, the database,
    the FAB auth manager) is the process's own.

    Returns:
        User name → password (as in ``passwords.json``).
    """
    provision(project_plan(programmes_dir, extra_programmes))
    return load_passwords(passwords_path())


def project_plan(programmes_dir: Path | None = None, extra_programmes: Sequence[str] = ()) -> Plan:
    """The plan for the programme files (``REVIEW_CALENDAR_PROGRAMMES`` by default) and extra decision DAGs."""
    if programmes_dir is None:
        from review_calendar.settings import get_settings

        programmes_dir = get_settings().programmes_dir
    reviewers = reviewers_by_programme(programmes_dir)
    for programme_id in extra_programmes:
        reviewers.setdefault(programme_id, (REVIEWER,))
    return plan(reviewers)


def assigned_users(names: Sequence[str]) -> list[dict[str, str]]:
    """A Required Action's ``assigned_users`` for these user names (call it in a task, at run time).

    Airflow compares the answering user's id, and FAB's ids are numbers given at
    creation: they are read from the Variable that :func:`provision` publishes.

    Raises:
        LookupError: A name that was not provisioned.
    """
    from airflow.sdk import Variable

    ids = Variable.get(USER_IDS_VARIABLE, default={}, deserialize_json=True)
    missing = [n for n in names if n not in ids]
    if missing:
        raise LookupError(
            f"users not provisioned (python -m review_calendar_airflow.access provision): {missing}"
        )
    return [{"id": str(ids[n]), "name": n} for n in names]


def account_names() -> dict[str, str]:
    """User name → the Airflow account's own name (published by :func:`provision`; call it in a task)."""
    from airflow.sdk import Variable

    names = Variable.get(USER_NAMES_VARIABLE, default={}, deserialize_json=True)
    return {str(k): str(v) for k, v in names.items()} if isinstance(names, dict) else {}


def _sync_role(sm: Any, name: str, perms: Iterable[tuple[str, str]]) -> None:
    role = sm.add_role(name)
    wanted = {sm.create_permission(action, resource) for action, resource in perms}
    for perm in wanted - set(role.permissions):
        sm.add_permission_to_role(role, perm)
    for perm in set(role.permissions) - wanted:
        sm.remove_permission_from_role(role, perm)


def _sync_user(sm: Any, username: str, role_names: Sequence[str], secret: str, person: Any = None) -> bool:
    """Create the user or bring its roles, roster name and password in line; True when created.

    ``person`` is the user's roster entry (:class:`review_calendar.domain.people.Person`), if any.
    """
    from werkzeug.security import check_password_hash

    roles = [sm.find_role(r) for r in role_names]
    if None in roles:
        raise LookupError(f"unknown role among {role_names}")
    first, last = (person.name, person.office or person.name) if person is not None else (username, username)
    user = sm.find_user(username=username)
    if user is None:
        sm.add_user(username, first, last, f"{username}@review-calendar.invalid", roles, secret)
        return True
    named = person is not None and (user.first_name, user.last_name) != (first, last)
    if {r.name for r in user.roles} != set(role_names) or not user.active or named:
        user.roles, user.active = roles, True
        if named:
            user.first_name, user.last_name = first, last
        sm.update_user(user)
    if not check_password_hash(user.password, secret):
        sm.reset_password(user.id, secret)
    return False


def token(url: str, username: str, secret: str | None = None, *, timeout: float = 30) -> str:
    """A JWT for the REST API from FAB's ``POST {url}/auth/token`` (``secret`` defaults to the provisioned one)."""
    import urllib.request

    body = json.dumps({"username": username, "password": secret or password(username)}).encode()
    request = urllib.request.Request(
        f"{url.rstrip('/')}/auth/token", data=body, method="POST",
        headers={"Content-Type": "application/json", "Accept": "application/json"},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return str(json.load(response)["access_token"])


class PauseGuard:
    """ASGI middleware of the api-server: pausing or unpausing a DAG needs the right to trigger it.

    FAB lets whoever may edit a DAG pause it, and answering a Required Action
    needs edit on its DAG; so a reviewer could pause the decision DAG it answers.
    This guard refuses ``PATCH /api/v2/dags/{dag_id}`` (and the bulk
    ``PATCH /api/v2/dags``) with 403 unless the caller may also start runs of
    that DAG (of every DAG, for the bulk form), as operators and admins may.
    Requests without a valid token pass through to Airflow, which answers 401.
    Standard library only at import: Airflow imports plugins in every process.
    """

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        target = self._target(scope)
        if target is not None and not await self._may_pause(scope, target):
            body = json.dumps(
                {"detail": "审定人不能暂停或恢复 DAG；请联系运维（需要触发运行的权限）。"}
            ).encode()
            headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
            await send({"type": "http.response.start", "status": 403, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)

    @staticmethod
    def _target(scope: dict[str, Any]) -> str | None:
        """The DAG id a pause request names (``""`` for the bulk form), else None."""
        import re
        from urllib.parse import unquote

        if scope.get("type") != "http" or scope.get("method") != "PATCH":
            return None
        path = str(scope.get("path", ""))
        root = str(scope.get("root_path", ""))
        path = path[len(root) :] if root and path.startswith(root) else path
        match = re.fullmatch(r"/api/v2/dags(?:/([^/]+))?/?", path)
        return None if match is None else unquote(match.group(1) or "")

    @staticmethod
    async def _may_pause(scope: dict[str, Any], dag_id: str) -> bool:
        from airflow.api_fastapi.app import get_auth_manager
        from airflow.api_fastapi.auth.managers.base_auth_manager import COOKIE_NAME_JWT_TOKEN
        from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity, DagDetails
        from jwt import InvalidTokenError
        from starlette.requests import Request

        request = Request(scope)
        scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
        token = (
            credentials.strip() if scheme.lower() == "bearer" else request.cookies.get(COOKIE_NAME_JWT_TOKEN)
        )
        if not token:
            return True
        manager = get_auth_manager()
        try:
            user = await manager.get_user_from_token(token)
        except InvalidTokenError:
            return True
        details = DagDetails(id=dag_id) if dag_id else None
        return bool(
            manager.is_authorized_dag(
                method="POST", access_entity=DagAccessEntity.RUN, details=details, user=user
            )
        )


#: The guard as Airflow's plugin manager takes it (``fastapi_root_middlewares``).
PAUSE_GUARD = {"middleware": PauseGuard, "args": [], "kwargs": {}, "name": "review_calendar_pause_guard"}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m review_calendar_airflow.access", description=__doc__.split("\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    prov = commands.add_parser("provision", help="create or update the roles and users (idempotent)")
    prov.add_argument("--programmes", type=Path, help="programme files (default: REVIEW_CALENDAR_PROGRAMMES)")
    prov.add_argument(
        "--extra-programme", action="append", default=[], metavar="ID",
        help="also a decision DAG decisions__ID reviewed by the generic reviewer (tests)",
    )  # fmt: skip
    tok = commands.add_parser("token", help="print a REST API token for a provisioned user")
    tok.add_argument("username")
    tok.add_argument("--url", default=f"http://127.0.0.1:{os.environ.get('AIRFLOW__API__PORT', '8080')}")
    args = parser.parse_args(argv)
    if args.command == "token":
        print(token(args.url, args.username))
        return 0
    the_plan = project_plan(args.programmes, args.extra_programme)
    done = provision(the_plan)
    print("users: " + ", ".join(f"{u} ({'/'.join(r)})" for u, r in the_plan.users.items()))
    if done["users_created"]:
        print(f"created: {', '.join(done['users_created'])}")
    print(f"passwords: {done['passwords_file']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
