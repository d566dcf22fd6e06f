"""Links in the inbox: never followed out of it, never read, copied or deleted; rejected and reported.

Real symbolic links on disk, the real inbox sweep (``tasks.ingest_inbox``, what
the DAG's sweep task calls) and a real review database. A region upload folder
linked to a folder outside the inbox must leave that folder's files where they
are, untouched; a file linked to ``/etc/passwd`` or ``/proc/self/environ``
(which holds the SMTP password and database URL) must never be read or copied.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from review_calendar.cli import main
from review_calendar.intake import issues as E
from review_calendar.intake.inbox import inbox_dir, scan_inbox
from review_calendar.intake.reader import NotARegularFile, read_file
from review_calendar.settings import get_settings
from review_calendar.tasks import ingest_inbox
from review_calendar.tasks.intake import ingest_files
from tests.faults import AS_OF, contact_list_instance
from tests.security.inbox_cases import a_contact_list, digest, stored_files, submission_count

pytestmark = pytest.mark.security


def test_region_folder_linked_out_of_the_inbox_is_not_followed_and_its_target_kept(
    sweep_env: str, tmp_path: Path
) -> None:
    settings = get_settings()
    _, instance = contact_list_instance()
    outside = tmp_path / "outside"
    victim = a_contact_list(sweep_env, outside / "石家庄市联系人名单.xlsx")
    before = digest(victim)
    inbox = inbox_dir(settings, instance)
    inbox.mkdir(parents=True)
    (inbox / "130100").symlink_to(outside, target_is_directory=True)

    result = ingest_inbox(instance.key, AS_OF)

    assert victim.exists() and digest(victim) == before
    assert (result["accepted"], result["rejected"], submission_count(sweep_env)) == (0, 0, 0)
    assert stored_files() == []
    assert [u["path"] for u in result["unplaced"]] == [
        str((inbox / "130100").relative_to(settings.inbox_dir))
    ]
    assert "符号链接" in result["unplaced"][0]["reason"]


@pytest.mark.parametrize("target", ["/etc/passwd", "/proc/self/environ"])
def test_file_linked_to_a_system_file_is_never_read_copied_or_deleted(sweep_env: str, target: str) -> None:
    if not os.access(target, os.R_OK):
        pytest.skip(f"{target} is not readable here")
    settings = get_settings()
    _, instance = contact_list_instance()
    inbox = inbox_dir(settings, instance)
    (inbox / "130100").mkdir(parents=True)
    link = inbox / "130100" / "联系人名单.xlsx"
    link.symlink_to(target)

    result = ingest_inbox(instance.key, AS_OF)

    assert Path(target).exists()
    assert link.is_symlink()  # reported, left for the operators: not even the link is removed
    assert submission_count(sweep_env) == 0
    assert stored_files() == []
    assert result["unplaced"] == [
        {"path": str(link.relative_to(settings.inbox_dir)), "reason": "符号链接，不跟随、不读取"}
    ]


def test_linked_file_handed_to_ingest_directly_is_rejected_unread(sweep_env: str, tmp_path: Path) -> None:
    # `review-calendar ingest <path>` with a link: rejected, nothing copied, the target kept.
    settings = get_settings()
    programme, instance = contact_list_instance()
    target = a_contact_list(sweep_env, tmp_path / "elsewhere" / "名单.xlsx")
    link = tmp_path / "link.xlsx"
    link.symlink_to(target)

    report = ingest_files(sweep_env, settings, programme, instance, [link], move=True)

    assert [(o.file, o.status, [e["code"] for e in o.errors]) for o in report.rejected] == [
        ("link.xlsx", "rejected", [E.FILE_UNREADABLE])
    ]
    assert target.exists() and link.is_symlink()
    assert stored_files() == []


def test_the_ingest_command_says_a_linked_file_stays_where_it_is(
    sweep_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = a_contact_list(sweep_env, tmp_path / "elsewhere" / "名单.xlsx")
    link = tmp_path / "link.xlsx"
    link.symlink_to(target)

    code = main(["ingest", str(link), "--programme", "hebei_smart_cluster", "--year", "2025",
                 "--obligation", "contact_list"])  # fmt: skip

    out = capsys.readouterr().out
    assert code == 1 and "已退回 link.xlsx" in out
    assert "原文件未读取、未复制，仍在原处" in out and "原文件已保存在" not in out


def test_instance_folder_linked_out_of_the_inbox_is_not_followed(sweep_env: str, tmp_path: Path) -> None:
    settings = get_settings()
    _, instance = contact_list_instance()
    outside = tmp_path / "outside"
    victim = a_contact_list(sweep_env, outside / "名单.xlsx")
    inbox = inbox_dir(settings, instance)
    inbox.parent.mkdir(parents=True)
    inbox.symlink_to(outside, target_is_directory=True)

    result = ingest_inbox(instance.key, AS_OF)

    assert victim.exists()
    assert submission_count(sweep_env) == 0
    assert len(result["unplaced"]) == 1 and "符号链接" in result["unplaced"][0]["reason"]


def test_unplaced_links_are_stored_for_the_reviewers_pages(sweep_env: str) -> None:
    settings = get_settings()
    _, instance = contact_list_instance()
    inbox = inbox_dir(settings, instance)
    inbox.mkdir(parents=True)
    (inbox / "passwd.xlsx").symlink_to("/etc/passwd")

    ingest_inbox(instance.key, AS_OF)

    stored = json.loads(
        (settings.reports_dir / "inbox" / "hebei_smart_cluster_2025_contact_list_Y.json").read_text()
    )
    assert stored["instance"] == instance.key
    assert [u["reason"] for u in stored["unplaced"]] == ["符号链接，不跟随、不读取"]


def test_reader_refuses_a_link(tmp_path: Path) -> None:
    real = tmp_path / "real.csv"
    real.write_bytes(b"a,b\n1,2\n")
    link = tmp_path / "link.csv"
    link.symlink_to(real)

    with pytest.raises(NotARegularFile):
        read_file(link)


def test_scan_reports_hard_linked_files(tmp_path: Path, review_env: Path) -> None:
    settings = get_settings()
    _, instance = contact_list_instance()
    inbox = inbox_dir(settings, instance)
    inbox.mkdir(parents=True)
    outside = tmp_path / "secret.csv"
    outside.write_text("x")
    os.link(outside, inbox / "copy.csv")

    scan = scan_inbox(settings, instance)

    assert scan.files == []
    assert [u.reason for u in scan.unplaced] == ["文件有多个硬链接，不予读取"]
