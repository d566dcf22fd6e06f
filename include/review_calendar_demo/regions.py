"""A seeded, nation-sized region set around the real Hebei table, for scale tests and benchmarks.

The 31 provincial-level units carry their real codes and names
(:data:`review_calendar.domain.regions.PROVINCES`); Hebei is exactly the shipped
table; every other province gets synthetic cities and counties.
"""

from __future__ import annotations

import logging
import math
import random

from review_calendar.domain.regions import PROVINCES, Region, load_regions

log = logging.getLogger(__name__)

# Two code digits each for city and county: at most 99 of each below a parent.
_MAX_CHILDREN = 99


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
