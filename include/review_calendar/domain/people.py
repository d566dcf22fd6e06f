"""Who a reviewer is, by name: the roster of logins and the one rule for a reviewer's display name.

Airflow records who answered a Required Action by login (``responded_by_user``:
the auth manager's user id and ``get_name()``, which is FAB's ``username``), so
"reviewer1" is all a record would say. The department keeps a roster
(``config/reviewers.yaml``, ``REVIEW_CALENDAR_REVIEWERS``) that maps each login
to a person's 姓名 and 处室::

    reviewers:
      hebei_reviewer: {name: 张伟, office: 河北省工业和信息化厅产业集群处}

:func:`display_name` is the one rule: the roster's ``张伟（河北省工业和信息化厅产业集群处）``;
else the name the Airflow user account carries when it is not the login itself;
else the login. Pages show the login beside it as secondary text.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

__all__ = ["Person", "Roster", "account_name", "default_roster", "display_name", "load_roster"]


@dataclass(frozen=True, slots=True)
class Person:
    """One reviewer of the roster: 姓名 and 处室 (office may be empty)."""

    login: str
    name: str
    office: str = ""

    @property
    def display(self) -> str:
        """``张伟（省工信厅产业集群处）``, or the name alone without an office."""
        return f"{self.name}（{self.office}）" if self.office else self.name


Roster = dict[str, Person]


def parse_roster(data: Any) -> Roster:
    """The roster in a file's data (``{"reviewers": {login: {"name", "office"}}}``).

    Raises:
        ValueError: A login without a name, or an entry that is not a mapping.
    """
    entries = (data or {}).get("reviewers") or {} if isinstance(data, dict) else {}
    if not isinstance(entries, dict):
        raise ValueError("reviewers: expected a mapping of login → {name, office}")
    roster: Roster = {}
    for login, entry in entries.items():
        if not isinstance(entry, dict) or not str(entry.get("name") or "").strip():
            raise ValueError(f"reviewers.{login}: expected {{name: 姓名, office: 处室}} with a name")
        roster[str(login)] = Person(
            str(login), str(entry["name"]).strip(), str(entry.get("office") or "").strip()
        )
    return roster


def load_roster(path: Path) -> Roster:
    """The roster file at ``path`` (empty when there is none).

    Raises:
        ValueError: The file is not a valid roster.
    """
    if not path.exists():
        return {}
    return _cached(path, path.stat().st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _cached(path: Path, _mtime: int) -> Roster:
    from review_calendar.domain.yaml_text import load_yaml

    return parse_roster(load_yaml(path.read_text(encoding="utf-8")))


def default_roster() -> Roster:
    """The configured roster (``REVIEW_CALENDAR_REVIEWERS``, default ``config/reviewers.yaml``), re-read when edited."""
    from review_calendar.settings import get_settings

    return load_roster(get_settings().reviewers_file)


def account_name(login: str, first_name: str | None, last_name: str | None) -> str:
    """The name an Airflow (FAB) user account carries, or "" when it only repeats the login.

    Accounts created without a name get the login (or a role name) as first and last name;
    only parts that differ from the login count.
    """
    parts = [p.strip() for p in (first_name, last_name) if p and p.strip() and p.strip() != login]
    if not parts or (first_name or "").strip() in ("", login):
        return ""
    return " ".join(parts)


def display_name(login: str, roster: Mapping[str, Person] | None = None, account: str = "") -> str:
    """How a reviewer is named on pages and records: roster, else account name, else the login.

    Args:
        login: The Airflow login (``responded_by_user["name"]``).
        roster: The roster (default: :func:`default_roster`).
        account: The Airflow account's own name (:func:`account_name`), if known.
    """
    if not login:
        return ""
    person = (default_roster() if roster is None else roster).get(login)
    if person is not None:
        return person.display
    return account.strip() if account and account.strip() != login else login
