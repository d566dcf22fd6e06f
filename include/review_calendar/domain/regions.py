"""Administrative regions: the province, its cities and the counties that submit.

Reports flow county → city bureau → provincial department. The city that
forwards a county's report is its prefecture city; the county-level cities that
Hebei administers directly, 定州 (130682) and 辛集 (130181), forward their own
reports and so are modelled as cities with no counties below them.

The real data ships as one CSV per province under ``data/regions/`` (header
``code,name,level,parent_code``, 6-digit GB/T 2260 codes); ``scripts/build_regions.py``
documents where it came from, and ``review-calendar regions load FILE`` loads such
a table into the review database.
"""

from __future__ import annotations

import csv
import logging
from dataclasses import dataclass
from importlib import resources
from typing import TYPE_CHECKING, Literal, cast, get_args

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from pathlib import Path

log = logging.getLogger(__name__)

Level = Literal["province", "city", "county"]
LEVELS: tuple[str, ...] = get_args(Level)
HEADER = ("code", "name", "level", "parent_code")

# Shipped region tables, by provincial code. Package data: data/regions/*.csv.
_DATA_FILES: dict[str, str] = {"130000": "hebei.csv"}

# The 31 provincial-level units of the mainland with their GB/T 2260 codes.
PROVINCES: tuple[tuple[str, str], ...] = (
    ("110000", "北京市"),
    ("120000", "天津市"),
    ("130000", "河北省"),
    ("140000", "山西省"),
    ("150000", "内蒙古自治区"),
    ("210000", "辽宁省"),
    ("220000", "吉林省"),
    ("230000", "黑龙江省"),
    ("310000", "上海市"),
    ("320000", "江苏省"),
    ("330000", "浙江省"),
    ("340000", "安徽省"),
    ("350000", "福建省"),
    ("360000", "江西省"),
    ("370000", "山东省"),
    ("410000", "河南省"),
    ("420000", "湖北省"),
    ("430000", "湖南省"),
    ("440000", "广东省"),
    ("450000", "广西壮族自治区"),
    ("460000", "海南省"),
    ("500000", "重庆市"),
    ("510000", "四川省"),
    ("520000", "贵州省"),
    ("530000", "云南省"),
    ("540000", "西藏自治区"),
    ("610000", "陕西省"),
    ("620000", "甘肃省"),
    ("630000", "青海省"),
    ("640000", "宁夏回族自治区"),
    ("650000", "新疆维吾尔自治区"),
)


class RegionDataError(ValueError):
    """Region data is malformed or inconsistent.

    Attributes:
        source: File (or other dataset) the problem is in, if any.
        row: 1-based line number in that file (the header is line 1), if any.
        field: Column name the problem is in, if any.
    """

    def __init__(
        self, message: str, *, source: str | None = None, row: int | None = None, field: str | None = None
    ) -> None:
        super().__init__(message)
        self.source = source
        self.row = row
        self.field = field

    def __str__(self) -> str:
        return str(self.args[0])


class UnknownRegionError(RegionDataError, KeyError):
    """A region code is not in the index; a ``KeyError`` too, for mapping-style callers."""


@dataclass(frozen=True, slots=True)
class Region:
    """One administrative division.

    Attributes:
        code: 6-digit GB/T 2260 code, e.g. ``"130683"``.
        name: Current official name, e.g. ``"安国市"``.
        level: ``"province"``, ``"city"`` (prefecture city or a county-level city
            the province administers directly) or ``"county"``.
        parent_code: Code of the province (for a city) or city (for a county);
            ``None`` for the province.
        province_code: Code of the province the region belongs to, e.g. ``"130000"``.
    """

    code: str
    name: str
    level: Level
    parent_code: str | None
    province_code: str


def _is_code(value: str) -> bool:
    return len(value) == 6 and value.isascii() and value.isdigit()


def _row_error(source: str, row: int, field: str, zh: str, en: str) -> RegionDataError:
    return RegionDataError(
        f"{source} 第 {row} 行，字段 {field}：{zh} / {source} row {row}, field {field!r}: {en}",
        source=source,
        row=row,
        field=field,
    )


def _parse_row(raw: dict[str | None, str | None], source: str, row: int, province_code: str) -> Region:
    """Turn one CSV record into a Region, checking each field on its own."""
    if None in raw:
        raise _row_error(source, row, "parent_code", "多余的列", "more columns than the header")
    values: dict[str, str] = {}
    for field in HEADER:
        value = raw.get(field)
        if value is None:
            raise _row_error(source, row, field, "缺少该列", "column missing")
        values[field] = value.strip()
    code, name, level, parent = (values[f] for f in HEADER)
    if not _is_code(code):
        raise _row_error(source, row, "code", f"代码 {code!r} 不是 6 位数字", f"{code!r} is not 6 digits")
    if code[:2] != province_code[:2]:
        raise _row_error(
            source,
            row,
            "code",
            f"代码 {code} 不属于 {province_code}",
            f"{code} is not in province {province_code}",
        )
    if not name:
        raise _row_error(source, row, "name", "名称为空", "empty name")
    if level not in LEVELS:
        raise _row_error(
            source, row, "level", f"层级 {level!r} 无效", f"{level!r} is not one of {', '.join(LEVELS)}"
        )
    if level == "province":
        if code != province_code:
            raise _row_error(
                source,
                row,
                "code",
                f"省级代码应为 {province_code}",
                f"the province row must be {province_code}",
            )
        if parent:
            raise _row_error(source, row, "parent_code", "省级不应有上级", "a province has no parent")
    elif not _is_code(parent):
        raise _row_error(
            source, row, "parent_code", f"上级代码 {parent!r} 不是 6 位数字", f"{parent!r} is not 6 digits"
        )
    return Region(code, name, cast("Level", level), parent or None, province_code)


def _check_structure(regions: list[Region], rows: dict[str, int], source: str) -> None:
    """Check that parents exist and sit one level up: province ← city ← county."""
    by_code = {r.code: r for r in regions}
    expected_parent = {"city": "province", "county": "city"}
    for region in regions:
        if region.parent_code is None:
            continue
        parent = by_code.get(region.parent_code)
        wanted = expected_parent[region.level]
        if parent is None or parent.level != wanted:
            raise _row_error(
                source,
                rows[region.code],
                "parent_code",
                f"上级 {region.parent_code} 不是本文件中的{'省' if wanted == 'province' else '市'}级单位",
                f"parent {region.parent_code} is not a {wanted} in this file",
            )
    if not any(r.level == "province" for r in regions):
        raise RegionDataError(f"{source} 缺少省级行 / {source} has no province row", source=source)


def province_code_of(code: str) -> str:
    """The code of the province a region code belongs to: its first two digits and ``0000``.

    Args:
        code: A 6-digit GB/T 2260 code, e.g. ``"130683"``.

    Returns:
        The provincial code, e.g. ``"130000"``.
    """
    return f"{code[:2]}0000"


def load_regions_file(path: Path, province_code: str | None = None) -> list[Region]:
    """Read one province's region table.

    Args:
        path: CSV file with the header ``code,name,level,parent_code`` in UTF-8 (with or without BOM).
        province_code: 6-digit code of the province the file describes; None takes
            it from the code of the file's first row.

    Returns:
        The regions of the file, sorted by code.

    Raises:
        RegionDataError: The file is not UTF-8, the header is wrong, or a row is
            malformed (the message names file, line and field), duplicated, or
            points to a missing or wrong-level parent.
        OSError: The file cannot be read.
    """
    source = path.name
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            return _read_table(csv.DictReader(handle), source, province_code)
    except UnicodeDecodeError:
        raise RegionDataError(
            f"{source} 不是 UTF-8 编码的 CSV 文件 / {source} is not a UTF-8 CSV file", source=source
        ) from None


def _read_table(reader: csv.DictReader[str], source: str, province_code: str | None) -> list[Region]:
    """Parse and check every row of an open region table; see :func:`load_regions_file`."""
    if tuple(reader.fieldnames or ()) != HEADER:
        raise RegionDataError(
            f"{source} 表头应为 {','.join(HEADER)} / {source} header must be {','.join(HEADER)}, "
            f"got {','.join(reader.fieldnames or ())}",
            source=source,
            row=1,
        )
    regions: list[Region] = []
    rows: dict[str, int] = {}
    for raw in reader:
        if province_code is None:
            province_code = province_code_of((raw.get("code") or "").strip())
        region = _parse_row(raw, source, reader.line_num, province_code)
        if region.code in rows:
            raise _row_error(
                source,
                reader.line_num,
                "code",
                f"代码 {region.code} 与第 {rows[region.code]} 行重复",
                f"{region.code} repeats row {rows[region.code]}",
            )
        rows[region.code] = reader.line_num
        regions.append(region)
    _check_structure(regions, rows, source)
    regions.sort(key=lambda r: r.code)
    log.debug("Loaded %d regions of %s from %s", len(regions), province_code, source)
    return regions


def load_regions(province_code: str = "130000") -> list[Region]:
    """Load the shipped region table of a province.

    Args:
        province_code: 6-digit provincial code; only Hebei (``"130000"``) ships.

    Returns:
        The province, its cities and its counties, sorted by code.

    Raises:
        RegionDataError: No table ships for the province, or the table is malformed.
    """
    file_name = _DATA_FILES.get(province_code)
    if file_name is None:
        raise RegionDataError(
            f"没有省级代码 {province_code} 的行政区划数据 / no region data ships for province {province_code}"
        )
    resource = resources.files("review_calendar.data") / "regions" / file_name
    with resources.as_file(resource) as path:
        return load_regions_file(path, province_code)


def index_regions(regions: Iterable[Region]) -> dict[str, Region]:
    """Index regions by code.

    Args:
        regions: Regions with unique codes.

    Returns:
        A dict from code to region.

    Raises:
        RegionDataError: Two regions share a code.
    """
    index: dict[str, Region] = {}
    for region in regions:
        if region.code in index:
            raise RegionDataError(f"行政区划代码 {region.code} 重复 / duplicate region code {region.code}")
        index[region.code] = region
    return index


def city_of(code: str, index: Mapping[str, Region]) -> Region:
    """Return the city that forwards a region's reports to the province.

    Args:
        code: Code of a city or county.
        index: Regions by code, as built by :func:`index_regions`.

    Returns:
        The region itself when it is a city (including 定州 and 辛集, which the
        province administers directly), its parent city when it is a county.

    Raises:
        UnknownRegionError: ``code`` (or a county's parent) is not in the index;
            a ``RegionDataError`` and a ``KeyError``.
        RegionDataError: ``code`` is a province, which has no forwarding city, or
            a county's parent is not a city.
    """
    region = index.get(code)
    if region is None:
        raise UnknownRegionError(f"未知的行政区划代码 {code!r} / unknown region code {code!r}")
    if region.level == "city":
        return region
    if region.level == "province":
        raise RegionDataError(
            f"{region.name}（{code}）是省级单位，没有上报城市 / {code} is a province, not below a city"
        )
    parent = index.get(region.parent_code or "")
    if parent is None:
        raise UnknownRegionError(
            f"{region.name}（{code}）的上级 {region.parent_code} 不在索引中 / "
            f"parent {region.parent_code} of county {code} is not in the index"
        )
    if parent.level != "city":
        raise RegionDataError(
            f"{region.name}（{code}）的上级 {parent.code} 不是市级单位 / "
            f"parent {parent.code} of {code} is not a city"
        )
    return parent


def counties_of(city_code: str, regions: Iterable[Region]) -> list[Region]:
    """List the counties directly below a city.

    Args:
        city_code: Code of a city.
        regions: Regions to search.

    Returns:
        The counties whose parent is ``city_code``, sorted by code; empty for a
        directly administered city such as 定州 or for a code with no counties.
    """
    return sorted(
        (r for r in regions if r.level == "county" and r.parent_code == city_code), key=lambda r: r.code
    )
