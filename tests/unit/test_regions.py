"""Region tables: the shipped Hebei data, forwarding cities, malformed files; the demo's synthetic nation."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import pytest

from review_calendar.domain.regions import (
    PROVINCES,
    Region,
    RegionDataError,
    UnknownRegionError,
    city_of,
    counties_of,
    index_regions,
    load_regions,
    load_regions_file,
    province_code_of,
)
from review_calendar_demo.regions import synthetic_national

if TYPE_CHECKING:
    from pathlib import Path

pytestmark = pytest.mark.unit

PREFECTURE_CITIES = {
    "130100": "石家庄市",
    "130200": "唐山市",
    "130300": "秦皇岛市",
    "130400": "邯郸市",
    "130500": "邢台市",
    "130600": "保定市",
    "130700": "张家口市",
    "130800": "承德市",
    "130900": "沧州市",
    "131000": "廊坊市",
    "131100": "衡水市",
}
DIRECT_CITIES = {"130682": "定州市", "130181": "辛集市"}

VALID_ROWS = [
    "code,name,level,parent_code",
    "130000,河北省,province,",
    "130600,保定市,city,130000",
    "130683,安国市,county,130600",
]


@pytest.fixture(scope="module")
def hebei() -> list[Region]:
    return load_regions("130000")


@pytest.fixture(scope="module")
def hebei_index(hebei: list[Region]) -> dict[str, Region]:
    return index_regions(hebei)


def write_csv(tmp_path: Path, lines: list[str]) -> Path:
    path = tmp_path / "regions.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_hebei_has_one_province_row(hebei: list[Region]) -> None:
    provinces = [r for r in hebei if r.level == "province"]

    assert [(r.code, r.name, r.parent_code) for r in provinces] == [("130000", "河北省", None)]


def test_hebei_cities_are_eleven_prefectures_and_two_direct_cities(hebei: list[Region]) -> None:
    cities = {r.code: r.name for r in hebei if r.level == "city"}

    assert cities == PREFECTURE_CITIES | DIRECT_CITIES


def test_hebei_cities_report_to_the_province(hebei: list[Region]) -> None:
    parents = {r.parent_code for r in hebei if r.level == "city"}

    assert parents == {"130000"}


def test_hebei_has_165_counties_below_cities(hebei: list[Region]) -> None:
    # 167 county-level units (49 districts, 21 county-level cities, 91 counties,
    # 6 autonomous counties) less 定州 and 辛集, which forward as cities.
    counties = [r for r in hebei if r.level == "county"]

    assert len(counties) == 165


def test_every_county_parent_is_a_prefecture_city(
    hebei: list[Region], hebei_index: dict[str, Region]
) -> None:
    parents = {r.parent_code for r in hebei if r.level == "county"}

    assert parents == set(PREFECTURE_CITIES)
    assert all(hebei_index[code].level == "city" for code in parents)


def test_hebei_rows_are_sorted_by_code_and_unique(hebei: list[Region]) -> None:
    codes = [r.code for r in hebei]

    assert codes == sorted(set(codes))


def test_every_hebei_region_carries_the_province_code(hebei: list[Region]) -> None:
    assert {r.province_code for r in hebei} == {"130000"}


@pytest.mark.parametrize(
    ("code", "name", "level", "parent_code"),
    [
        pytest.param("130683", "安国市", "county", "130600", id="anguo"),
        pytest.param("131125", "安平县", "county", "131100", id="anping"),
        pytest.param("130534", "清河县", "county", "130500", id="qinghe"),
        pytest.param("130408", "永年区", "county", "130400", id="yongnian"),
        pytest.param("131026", "文安县", "county", "131000", id="wen_an"),
        pytest.param("131081", "霸州市", "county", "131000", id="bazhou"),
        pytest.param("131025", "大城县", "county", "131000", id="dacheng"),
        pytest.param("130682", "定州市", "city", "130000", id="dingzhou"),
        pytest.param("130181", "辛集市", "city", "130000", id="xinji"),
    ],
)
def test_known_region_codes(
    hebei_index: dict[str, Region], code: str, name: str, level: str, parent_code: str
) -> None:
    region = hebei_index[code]

    assert (region.name, region.level, region.parent_code) == (name, level, parent_code)


@pytest.mark.parametrize(
    ("code", "expected_city"),
    [
        pytest.param("130683", "130600", id="county_anguo_to_baoding"),
        pytest.param("131026", "131000", id="county_wen_an_to_langfang"),
        pytest.param("130408", "130400", id="district_yongnian_to_handan"),
        pytest.param("130682", "130682", id="direct_city_dingzhou_is_itself"),
        pytest.param("130181", "130181", id="direct_city_xinji_is_itself"),
        pytest.param("130600", "130600", id="prefecture_city_is_itself"),
    ],
)
def test_city_of_returns_forwarding_city(
    hebei_index: dict[str, Region], code: str, expected_city: str
) -> None:
    city = city_of(code, hebei_index)

    assert city.code == expected_city


def test_city_of_unknown_code_raises_bilingual_key_error(hebei_index: dict[str, Region]) -> None:
    with pytest.raises(UnknownRegionError) as caught:
        city_of("139999", hebei_index)

    assert isinstance(caught.value, KeyError)
    assert isinstance(caught.value, RegionDataError)
    assert str(caught.value) == "未知的行政区划代码 '139999' / unknown region code '139999'"


def test_city_of_province_has_no_forwarding_city(hebei_index: dict[str, Region]) -> None:
    with pytest.raises(RegionDataError, match="is a province"):
        city_of("130000", hebei_index)


def test_counties_of_langfang(hebei: list[Region]) -> None:
    counties = counties_of("131000", hebei)

    assert [r.name for r in counties] == [
        "安次区",
        "广阳区",
        "固安县",
        "永清县",
        "香河县",
        "大城县",
        "文安县",
        "大厂回族自治县",
        "霸州市",
        "三河市",
    ]


@pytest.mark.parametrize("code", [pytest.param("130682", id="dingzhou"), pytest.param("130181", id="xinji")])
def test_direct_cities_have_no_counties(hebei: list[Region], code: str) -> None:
    assert counties_of(code, hebei) == []


def test_index_regions_rejects_duplicate_codes() -> None:
    region = Region("130600", "保定市", "city", "130000", "130000")

    with pytest.raises(RegionDataError, match="130600"):
        index_regions([region, region])


def test_load_regions_file_reads_a_valid_table(tmp_path: Path) -> None:
    path = write_csv(tmp_path, VALID_ROWS)

    regions = load_regions_file(path, "130000")

    assert regions == [
        Region("130000", "河北省", "province", None, "130000"),
        Region("130600", "保定市", "city", "130000", "130000"),
        Region("130683", "安国市", "county", "130600", "130000"),
    ]


@pytest.mark.parametrize(
    ("bad_line", "field"),
    [
        pytest.param("13068,安国市,county,130600", "code", id="code_five_digits"),
        pytest.param("140683,安国市,county,130600", "code", id="code_other_province"),
        pytest.param("130683,,county,130600", "name", id="empty_name"),
        pytest.param("130683,安国市,town,130600", "level", id="unknown_level"),
        pytest.param("130683,安国市,county,", "parent_code", id="missing_parent"),
        pytest.param("130683,安国市,county,130700", "parent_code", id="parent_not_in_file"),
        pytest.param("130683,安国市,county,130000", "parent_code", id="county_below_province"),
        pytest.param("130683,安国市,county", "parent_code", id="short_row"),
        pytest.param("130683,安国市,county,130600,x", "parent_code", id="extra_column"),
        pytest.param("130600,安国市,county,130600", "code", id="duplicate_code"),
    ],
)
def test_malformed_row_names_file_row_and_field(tmp_path: Path, bad_line: str, field: str) -> None:
    path = write_csv(tmp_path, [*VALID_ROWS[:3], bad_line])

    with pytest.raises(RegionDataError) as caught:
        load_regions_file(path, "130000")

    error = caught.value
    assert (error.source, error.row, error.field) == ("regions.csv", 4, field)
    assert f"regions.csv row 4, field {field!r}" in str(error)
    assert f"regions.csv 第 4 行，字段 {field}" in str(error)


def test_wrong_header_is_rejected(tmp_path: Path) -> None:
    path = write_csv(tmp_path, ["code,name,level", *VALID_ROWS[1:]])

    with pytest.raises(RegionDataError, match="header must be code,name,level,parent_code"):
        load_regions_file(path, "130000")


def test_load_regions_file_takes_the_province_from_the_first_code(tmp_path: Path) -> None:
    path = write_csv(tmp_path, VALID_ROWS)

    regions = load_regions_file(path)

    assert {r.province_code for r in regions} == {"130000"}
    assert province_code_of("130683") == "130000"


def test_a_row_of_another_province_is_named_when_the_province_is_inferred(tmp_path: Path) -> None:
    path = write_csv(tmp_path, [*VALID_ROWS, "140683,某县,county,130600"])

    with pytest.raises(RegionDataError) as caught:
        load_regions_file(path)

    assert (caught.value.row, caught.value.field) == (5, "code")
    assert "regions.csv 第 5 行，字段 code：代码 140683 不属于 130000" in str(caught.value)


def test_a_file_in_another_encoding_is_rejected_in_words(tmp_path: Path) -> None:
    path = tmp_path / "regions.csv"
    path.write_bytes("\n".join(VALID_ROWS).encode("gb18030"))

    with pytest.raises(RegionDataError, match="regions.csv 不是 UTF-8 编码的 CSV 文件"):
        load_regions_file(path, "130000")


def test_load_regions_without_shipped_table_raises() -> None:
    with pytest.raises(RegionDataError, match="no region data ships for province 410000"):
        load_regions("410000")


@pytest.fixture(scope="module")
def nation() -> list[Region]:
    return synthetic_national(seed=2024, counties_total=2850)


def test_synthetic_national_has_the_31_real_provinces(nation: list[Region]) -> None:
    provinces = [(r.code, r.name) for r in nation if r.level == "province"]

    assert provinces == list(PROVINCES)
    assert len(provinces) == 31


def test_synthetic_national_has_exactly_the_requested_counties(nation: list[Region]) -> None:
    counties = [r for r in nation if r.level == "county"]

    assert len(counties) == 2850


def test_synthetic_national_codes_are_unique_six_digits(nation: list[Region]) -> None:
    codes = [r.code for r in nation]

    assert len(set(codes)) == len(codes)
    assert all(len(code) == 6 and code.isdigit() for code in codes)


def test_synthetic_national_counties_sit_below_cities_of_their_province(nation: list[Region]) -> None:
    index = index_regions(nation)

    misplaced = [
        r.code
        for r in nation
        if r.level == "county"
        and (index[r.parent_code].level != "city" or index[r.parent_code].province_code != r.province_code)
    ]

    assert misplaced == []


def test_synthetic_national_keeps_real_hebei(nation: list[Region], hebei: list[Region]) -> None:
    assert [r for r in nation if r.province_code == "130000"] == hebei


def test_synthetic_national_is_deterministic_for_a_seed(nation: list[Region]) -> None:
    again = synthetic_national(seed=2024, counties_total=2850)

    assert again == nation


def test_synthetic_national_differs_for_another_seed(nation: list[Region]) -> None:
    other = synthetic_national(seed=7, counties_total=2850)

    assert [r.code for r in other] != [r.code for r in nation]
    assert sum(r.level == "county" for r in other) == 2850


@pytest.mark.parametrize("total", [pytest.param(165, id="hebei_only"), pytest.param(5000, id="larger")])
def test_synthetic_national_honours_counties_total(total: int) -> None:
    regions = synthetic_national(seed=1, counties_total=total)

    assert sum(r.level == "county" for r in regions) == total


def test_synthetic_national_rejects_fewer_counties_than_hebei() -> None:
    with pytest.raises(ValueError, match="counties_total=100"):
        synthetic_national(counties_total=100)


def test_synthetic_national_runs_well_under_a_second() -> None:
    started = time.perf_counter()

    synthetic_national(seed=3)

    assert time.perf_counter() - started < 0.5
