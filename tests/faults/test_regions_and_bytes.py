"""One region's file is never another's: the same bytes, the folder and the sheet (real files, real database).

The same bytes placed in two regions' upload folders are two submissions,
each judged (a blank template sent by two cities is two rejections, each
answered); a file whose sheet names another region than its folder is
rejected with a message naming both, answered to the folder's region.
"""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from review_calendar.intake import issues as E
from review_calendar.intake.inbox import inbox_dir, pending_files
from review_calendar.intake.templates import template_for
from review_calendar.settings import get_settings
from review_calendar.store.db import session_scope
from review_calendar.store.models import OutboxMessage, Region, SubmissionError
from review_calendar.tasks import ingest_inbox
from tests.faults import contact_list_instance
from tests.security.inbox_cases import a_contact_list, city_code, digest, submissions

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.faults

PROGRAMME, INSTANCE = contact_list_instance()  # cities submit; due 2025-03-31
MOMENT = "2025-03-20T10:00:00+08:00"


def _folder(url: str, index: int) -> Path:
    folder = inbox_dir(get_settings(), INSTANCE) / city_code(url, index)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _errors(url: str, submission_id: int) -> list[SubmissionError]:
    with session_scope(url) as session:
        rows = session.scalars(select(SubmissionError).where(SubmissionError.submission_id == submission_id))
        return list(rows)


def _lists_in_force(url: str, *indexes: int) -> None:
    """The cities' own contact lists accepted on March 10th: their officials can be answered."""
    for index in indexes:
        a_contact_list(url, _folder(url, index) / "本市联系人.xlsx", index)
    assert ingest_inbox(INSTANCE.key, "2025-03-10T10:00:00+08:00")["accepted"] == len(indexes)


def _notices(url: str) -> list[OutboxMessage]:
    with session_scope(url) as session:
        rows = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "rejection")).all()
        session.expunge_all()
        return list(rows)


def test_a_blank_template_from_two_cities_is_two_rejections_each_answered(sweep_env: str) -> None:
    _lists_in_force(sweep_env, 0, 1)
    blank = template_for(PROGRAMME, INSTANCE, get_settings().home / "templates")
    assert blank is not None
    a = shutil.copy(blank, _folder(sweep_env, 0) / "联系人名单.xlsx")
    b = shutil.copy(blank, _folder(sweep_env, 1) / "联系人名单.xlsx")
    assert digest(a) == digest(b)

    result = ingest_inbox(INSTANCE.key, MOMENT)

    subs = [s for s in submissions(sweep_env) if s.status == "rejected"]
    assert (result["rejected"], result["duplicates"]) == (2, 0)
    assert sorted((s.region_code, s.status) for s in subs) == sorted(
        [(city_code(sweep_env, 0), "rejected"), (city_code(sweep_env, 1), "rejected")]
    )
    assert sorted(n.region_code for n in _notices(sweep_env)) == sorted(s.region_code for s in subs)
    assert pending_files(get_settings(), INSTANCE) == []


def test_another_citys_accepted_bytes_in_a_folder_are_judged_not_answered_already_received(
    sweep_env: str,
) -> None:
    _lists_in_force(sweep_env, 0, 1)
    [first] = [s for s in submissions(sweep_env) if s.region_code == city_code(sweep_env, 0)]
    kept = next(get_settings().accepted_dir.rglob(f"*{first.content_hash[:12]}*")).read_bytes()
    (_folder(sweep_env, 1) / "联系人名单.xlsx").write_bytes(kept)  # city 1 sends city 0's file

    result = ingest_inbox(INSTANCE.key, "2025-03-21T10:00:00+08:00")

    assert (result["accepted"], result["rejected"], result["duplicates"]) == (0, 1, 0)
    [second] = [s for s in submissions(sweep_env) if s.status == "rejected"]
    assert (second.region_code, second.content_hash) == (city_code(sweep_env, 1), first.content_hash)
    assert [e.code for e in _errors(sweep_env, second.id)] == [E.REGION_MISMATCH]
    assert [n.region_code for n in _notices(sweep_env)] == [city_code(sweep_env, 1)]


def test_a_sheet_naming_another_city_is_rejected_naming_folder_and_sheet(sweep_env: str) -> None:
    _lists_in_force(sweep_env, 1)
    a_contact_list(sweep_env, _folder(sweep_env, 1) / "联系人名单.xlsx", 0)  # city 0's sheet, city 1's folder
    folder_code, sheet_code = city_code(sweep_env, 1), city_code(sweep_env, 0)
    with session_scope(sweep_env) as session:
        names = {
            r.code: r.name for r in session.scalars(select(Region)) if r.code in (folder_code, sheet_code)
        }

    result = ingest_inbox(INSTANCE.key, MOMENT)

    [sub] = [s for s in submissions(sweep_env) if s.status == "rejected"]
    assert (result["rejected"], sub.region_code) == (1, folder_code)
    [error] = _errors(sweep_env, sub.id)
    assert error.code == E.REGION_MISMATCH
    assert f"{names[folder_code]}（{folder_code}）的报送目录" in error.message
    assert f"表内行政区划代码为{names[sheet_code]}（{sheet_code}）" in error.message
    [notice] = _notices(sweep_env)
    assert notice.region_code == folder_code  # the folder's official uploaded it and hears why
