"""Who is calling, and what they may do: Airflow's own auth manager, reused.

Airflow mounts plugin apps without authentication, so every route of the
review calendar depends on :func:`require_reader` (or :func:`require_user`).
The credential is the one the Airflow UI and REST API use: the JWT in the
``Authorization: Bearer`` header, else the ``_token`` cookie that the login
page sets, validated by ``get_auth_manager().get_user_from_token()`` (the same
call ``airflow.api_fastapi.core_api.security.get_user`` makes). Permissions are
the auth manager's too, so they follow whatever manager is configured (the
project runs FAB, with the roles of ``review_calendar_airflow.access``;
SimpleAuthManager or Keycloak work the same way):

- reading the pages: ``is_authorized_view(AccessView.WEBSITE)``, like the UI itself;
- re-running a cycle: ``is_authorized_dag("POST", DagAccessEntity.RUN, dag_id)``,
  exactly the check of Airflow's ``POST /api/v2/dags/{dag_id}/dagRuns``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from fastapi import HTTPException, Request, status

if TYPE_CHECKING:
    from airflow.api_fastapi.auth.managers.base_auth_manager import BaseAuthManager


class NotAuthenticated(Exception):
    """No valid Airflow credential: answered with 401, or the login page for a browser."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Caller:
    """The authenticated caller and how the credential came (for CSRF checks)."""

    user: Any
    token: str
    via_cookie: bool

    @property
    def name(self) -> str:
        return str(self.user.get_name())

    @property
    def role(self) -> str:
        """The role as the auth manager names it, else empty.

        SimpleAuthManager has one ``role``; a FAB user has ``roles``, of which the
        general one is shown (``Reviewer``, not ``Reviewer:<programme>``).
        """
        role = getattr(self.user, "role", None)
        if isinstance(role, str) and role:
            return role
        names = sorted(str(r.name) for r in getattr(self.user, "roles", None) or ())
        return next((n for n in names if ":" not in n), names[0] if names else "")

    @property
    def is_operator(self) -> bool:
        """Admin or Op (SimpleAuthManager: ``admin``, ``op``): sees the operators' hints on the pages."""
        role = getattr(self.user, "role", None)
        names = (
            [role]
            if isinstance(role, str) and role
            else [str(r.name) for r in getattr(self.user, "roles", None) or ()]
        )
        return any(n.lower() in ("admin", "op") for n in names)


def auth_manager() -> BaseAuthManager:
    """The api-server's auth manager (initialised at start-up)."""
    from airflow.api_fastapi.app import get_auth_manager

    return get_auth_manager()


def _token(request: Request) -> tuple[str | None, bool]:
    from airflow.api_fastapi.auth.managers.base_auth_manager import COOKIE_NAME_JWT_TOKEN

    # Same precedence as Airflow's get_user(): an explicit bearer token wins over the cookie.
    header = request.headers.get("authorization", "")
    scheme, _, credentials = header.partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip(), False
    return request.cookies.get(COOKIE_NAME_JWT_TOKEN) or None, True


async def require_user(request: Request) -> Caller:
    """The authenticated caller.

    Raises:
        NotAuthenticated: No token, or a token that is invalid, expired or revoked.
    """
    from jwt import InvalidTokenError

    token, via_cookie = _token(request)
    if not token:
        raise NotAuthenticated("未登录")
    try:
        user = await auth_manager().get_user_from_token(token)
    except InvalidTokenError as exc:  # ExpiredSignatureError is a subclass
        raise NotAuthenticated("登录已失效") from exc
    caller = Caller(user=user, token=token, via_cookie=via_cookie)
    request.state.caller = caller
    return caller


async def require_reader(request: Request) -> Caller:
    """An authenticated caller who may use the Airflow UI.

    Raises:
        NotAuthenticated: See :func:`require_user`.
        HTTPException: 403 when the auth manager denies the website view.
    """
    from airflow.api_fastapi.auth.managers.models.resource_details import AccessView

    caller = await require_user(request)
    if not auth_manager().is_authorized_view(access_view=AccessView.WEBSITE, user=caller.user):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "无权查看审查日历")
    return caller


def can_trigger(caller: Caller, dag_id: str) -> bool:
    """Whether the caller may start a run of ``dag_id`` (Airflow's own rule for triggering)."""
    from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity, DagDetails

    return bool(
        auth_manager().is_authorized_dag(
            method="POST", access_entity=DagAccessEntity.RUN, details=DagDetails(id=dag_id), user=caller.user
        )
    )


def check_same_origin(request: Request, caller: Caller) -> None:
    """Refuse a cookie-authenticated state change that a foreign page could have sent (CSRF).

    A bearer token is never sent by a browser on its own, so only cookie
    callers are checked: their ``Origin`` (else ``Referer``) must be this host.

    Raises:
        HTTPException: 403 when the origin is missing or foreign.
    """
    if not caller.via_cookie:
        return
    source = request.headers.get("origin") or request.headers.get("referer") or ""
    host = request.headers.get("host", "")
    if not source or urlsplit(source).netloc != host:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "请求来源不可信（跨站请求）")


def login_url(request: Request) -> str:
    """Airflow's login page, returning to the page that was asked for."""
    # Starlette keeps the mount prefix in the path; older versions left it in root_path only.
    root, path = request.scope.get("root_path", ""), request.url.path
    path = path if path.startswith(root) else root + path
    next_url = path + (f"?{request.url.query}" if request.url.query else "")
    return auth_manager().get_url_login(next_url=next_url)


def wants_html(request: Request) -> bool:
    """A browser navigation (GET asking for HTML), which gets the login page instead of a bare 401."""
    return request.method == "GET" and "text/html" in request.headers.get("accept", "")
