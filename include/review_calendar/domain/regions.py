"""Administrative regions: the province, its cities and the counties that submit.

Reports flow county → city bureau → provincial department (DOMAIN.md, "Who is
who"). The city that forwards a county's report is its prefecture city; the
county-level cities that Hebei administers directly, 定州 (130682) and 辛集
(130181), forward their own reports and so are modelled as cities with no
counties below them.

The real data ships as one CSV per province under ``data/regions/`` (header
``code,name,level,parent_code``, 6-digit GB/T 2260 codes); ``scripts/build_regions.py``
documents where it came from. ``synthetic_national`` builds a seeded,
nation-sized set around the real Hebei data for scale tests.
"""

from __future__ import annotations

import csv
import logging
import math
import random
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

# Two code digits each for city and county: at most 99 of each below a parent.
_MAX_CHILDREN = 99


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


def load_regions_file(path: Path, province_code: str) -> list[Region]:
    """Read one province's region table.

    Args:
        path: CSV file with the header ``code,name,level,parent_code`` in UTF-8.
        province_code: 6-digit code of the province the file describes.

    Returns:
        The regions of the file, sorted by code.

    Raises:
        RegionDataError: The header is wrong, or a row is malformed (the message
            names file, line and field), duplicated, or points to a missing or
            wrong-level parent.
        OSError: The file cannot be read.
    """
    source = path.name
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
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


def _split(total: int, parts: int, rng: random.Random) -> list[int]:
    """Split ``total`` into ``parts`` near-equal counts, the remainder going to random parts."""
    base, extra = divmod(total, parts)
    counts = [base] * parts
    for i in rng.sample(range(parts), extra):
        counts[i] += 1
    return counts


def _province_shares(total: int, parts: int, rng: random.Random) -> list[int]:
    """Split ``total`` counties over ``parts`` provinces with uneven random weights, each at most 99×99."""
    cap = _MAX_CHILDREN * _MAX_CHILDREN
    weights = [rng.uniform(0.5, 2.0) for _ in range(parts)]
    scale = total / sum(weights)
    shares = [min(cap, math.floor(w * scale)) for w in weights]
    leftover = total - sum(shares)
    order = rng.sample(range(parts), parts)
    while leftover:
        for i in order:
            if leftover and shares[i] < cap:
                shares[i] += 1
                leftover -= 1
    return shares


def synthetic_national(seed: int = 2024, counties_total: int = 2850) -> list[Region]:
    """Build a deterministic nation-sized region set for scale tests.

    The 31 provincial-level units carry their real codes and names; Hebei is
    exactly the shipped table. Every other province gets synthetic cities
    (``PPCC00``, named ``<province>合成市CC``) and counties (``PPCCXX``, named
    ``<province>合成县CCXX``), so that codes are unique 6-digit strings and each
    county's parent is a city of its own province.

    Args:
        seed: Seed of the ``random.Random`` that sizes provinces and cities.
        counties_total: Number of regions of level ``"county"`` in the result,
            Hebei's included (定州 and 辛集 count as cities, as in the shipped table).

    Returns:
        All regions, sorted by code.

    Raises:
        ValueError: ``counties_total`` is below Hebei's county count or above
            what two code digits each for city and county can hold.
        RegionDataError: The shipped Hebei table is malformed.
    """
    rng = random.Random(seed)
    hebei = load_regions("130000")
    others = [(code, name) for code, name in PROVINCES if code != "130000"]
    remaining = counties_total - sum(r.level == "county" for r in hebei)
    capacity = len(others) * _MAX_CHILDREN * _MAX_CHILDREN
    if not 0 <= remaining <= capacity:
        raise ValueError(
            f"counties_total={counties_total} must leave 0..{capacity} counties outside Hebei, "
            f"got {remaining}"
        )
    regions = list(hebei)
    for (province_code, province_name), share in zip(
        others, _province_shares(remaining, len(others), rng), strict=True
    ):
        pp = province_code[:2]
        regions.append(Region(province_code, province_name, "province", None, province_code))
        cities = max(1, math.ceil(share / rng.randint(6, 16)), math.ceil(share / _MAX_CHILDREN))
        cities = min(cities, _MAX_CHILDREN)
        for cc, county_count in enumerate(_split(share, cities, rng), start=1):
            city_code = f"{pp}{cc:02d}00"
            regions.append(
                Region(city_code, f"{province_name}合成市{cc:02d}", "city", province_code, province_code)
            )
            regions.extend(
                Region(
                    f"{pp}{cc:02d}{xx:02d}",
                    f"{province_name}合成县{cc:02d}{xx:02d}",
                    "county",
                    city_code,
                    province_code,
                )
                for xx in range(1, county_count + 1)
            )
    regions.sort(key=lambda r: r.code)
    log.debug("Built %d synthetic regions (seed %d, %d counties)", len(regions), seed, counties_total)
    return regions
