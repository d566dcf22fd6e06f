"""A file says what it is: templates carry programme, obligation, cycle year and period in their properties."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from review_calendar.domain.programmes import find_instance, load_programme
from review_calendar.intake import issues as E
from review_calendar.intake.identity import FileIdentity, file_identity
from review_calendar.intake.ingest import parse_file
from review_calendar.intake.templates import template_for

pytestmark = pytest.mark.unit

OFFICE = Path(__file__).resolve().parents[1] / "fixtures" / "office"
A = load_programme("hebei_smart_cluster")
# Saved by LibreOffice from the 2025 contact-list template, filled (tests/fixtures/make_office_files.py).
STAMPED = OFFICE / "stamped_contact_list.xlsx"


def test_every_template_we_write_says_its_instance(tmp_path: Path) -> None:
    instance = find_instance(A, 2025, "half_year_report")

    path = template_for(A, instance, tmp_path)

    assert path is not None
    assert file_identity(path.read_bytes()) == FileIdentity(
        "hebei_smart_cluster", "half_year_report", 2025, "Y"
    )


def test_filled_template_keeps_its_properties_through_libreoffice() -> None:
    assert file_identity(STAMPED.read_bytes()) == FileIdentity(
        "hebei_smart_cluster", "contact_list", 2025, "Y"
    )


def test_file_under_its_own_folder_is_judged_as_usual(tmp_path: Path) -> None:
    path = shutil.copy(STAMPED, tmp_path / "石家庄联系人.xlsx")

    parsed = parse_file(
        Path(path), "石家庄联系人.xlsx", A, find_instance(A, 2025, "contact_list"), {"130100"}
    )

    assert not parsed.rejected, parsed.issues
    assert parsed.records["contact_list"][0]["region_code"] == "130100"


@pytest.mark.parametrize(
    ("year", "obligation", "said"),
    [
        (2026, "contact_list", "周期年度：文件属性为“2025年度”，报送目录为“2026年度”"),
        (2025, "development_plan", "报送事项：文件属性为“contact_list”，报送目录为“development_plan”"),
    ],
)
def test_file_whose_properties_contradict_its_folder_is_rejected(
    tmp_path: Path, year: int, obligation: str, said: str
) -> None:
    path = Path(shutil.copy(STAMPED, tmp_path / "转发的附件.xlsx"))

    parsed = parse_file(path, "转发的附件.xlsx", A, find_instance(A, year, obligation), {"130100"})

    assert [i.code for i in parsed.issues] == [E.FILE_IDENTITY_MISMATCH]
    assert "文件“转发的附件.xlsx”" in parsed.issues[0].message
    assert said in parsed.issues[0].message


def test_file_without_properties_says_nothing() -> None:
    assert file_identity((OFFICE / "growth_150.xlsx").read_bytes()) is None
    assert file_identity((OFFICE / "growth_150.xls").read_bytes()) is None
    assert file_identity("行政区划代码,地区名称\n".encode()) is None


@pytest.fixture
def cli_env(migrated_url: str, review_env: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    from review_calendar_demo.seed import seed_demo

    monkeypatch.setenv("REVIEW_CALENDAR_DB_URL", migrated_url)
    seed_demo(migrated_url)
    return migrated_url


def test_ingest_of_a_file_alone_takes_its_instance_from_the_file(
    cli_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`review-calendar ingest FILE` without --programme/--year/--obligation: the template says them."""
    import json

    from review_calendar.cli import main

    path = shutil.copy(STAMPED, tmp_path / "石家庄联系人.xlsx")

    code = main(["ingest", str(path), "--received-on", "2025-03-20", "--json"])

    report = json.loads(capsys.readouterr().out)
    assert report["instance"] == "hebei_smart_cluster/2025/contact_list/Y"
    assert code == 0, report


def test_ingest_of_a_csv_alone_asks_for_its_instance(cli_env: str, tmp_path: Path) -> None:
    from review_calendar.cli import main

    path = tmp_path / "联系人.csv"
    path.write_text("行政区划代码,地区名称\n130100,石家庄市\n", encoding="utf-8")

    assert main(["ingest", str(path)]) == 2


@pytest.mark.parametrize("year", ["2025²", "２０２５x", "²⁰²⁵"])
def test_a_year_property_that_is_no_number_says_nothing_of_the_year(year: str) -> None:
    # ``str.isdigit`` accepts superscripts that ``int`` refuses: a hostile property crashed the mail intake.
    from review_calendar.intake.identity import PROPERTY_NAMES

    properties = {PROPERTY_NAMES["programme"]: "hebei_smart_cluster", PROPERTY_NAMES["cycle_year"]: year}

    found = FileIdentity.from_properties(properties)

    assert found == FileIdentity("hebei_smart_cluster", None, None, None)


def test_full_width_digits_are_a_year() -> None:
    from review_calendar.intake.identity import PROPERTY_NAMES

    found = FileIdentity.from_properties({PROPERTY_NAMES["cycle_year"]: "２０２５"})

    assert found is not None and found.cycle_year == 2025
