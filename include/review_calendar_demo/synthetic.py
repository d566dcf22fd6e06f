"""Synthetic submissions: filled templates for the demo, the end-to-end tests and the benchmarks.

Values are plausible, deterministic for a seed, and written the way officials
fill the official templates (a title row above the header, Chinese headers).
``break_records`` applies one of the mistakes officials really make, so the demo
and the tests exercise rejection, quarantine and correction.
"""

from __future__ import annotations

import datetime as dt
import os
import random
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from review_calendar.intake.datasets import get_dataset

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from review_calendar.domain.programmes import Obligation, ObligationInstance, Programme
    from review_calendar.store.queries import Submitter

SURNAMES = "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚"
#: Marks a column an official deleted from the template (``write_xlsx`` leaves it out).
OMIT = object()
MISTAKES = ("bad_mobile", "missing_column", "wrong_year", "formula", "not_spreadsheet", "bad_percent")


def _person(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))


def _contact_rows(
    submitter: Submitter, counties: list[tuple[str, str]], rng: random.Random
) -> list[dict[str, Any]]:
    rows = []
    for code, name, level in [
        (submitter.region_code, submitter.region_name, "市"),
        *((c, n, "县") for c, n in counties),
    ]:
        for role, post in (("主管领导", "副局长"), ("责任处室负责同志", "处长" if level == "市" else "股长")):
            rows.append({
                "region_code": code, "region_name": name, "level": level, "role": role, "name": _person(rng),
                "post": post, "office_phone": f"03{rng.randint(10, 19)}-{rng.randint(20000000, 89999999)}",
                "mobile": f"1{rng.choice('3589')}{rng.randint(100000000, 999999999)}",
                "email": f"{code}.{'ld' if role == '主管领导' else 'cs'}@gxj.example.gov.cn",
            })  # fmt: skip
    return rows


@dataclass(frozen=True, slots=True)
class _Filler:
    """What one submitter's records are made of; ``rng`` is drawn from in a fixed order per dataset."""

    submitter: Submitter
    obligation: Obligation
    instance: ObligationInstance
    rng: random.Random
    year: int
    cluster: str
    counties: list[tuple[str, str]]

    @property
    def code(self) -> str:
        return self.submitter.region_code


def _contact_list(f: _Filler) -> dict[str, list[dict[str, Any]]]:
    return {"contact_list": _contact_rows(f.submitter, f.counties, f.rng)}


def _development_plan(f: _Filler) -> dict[str, list[dict[str, Any]]]:
    rng, code, cluster, year = f.rng, f.code, f.cluster, f.year
    projects = [
        {"region_code": code, "project_name": f"{cluster}数字化项目{i}", "content": "建设集群公共服务平台和智能化车间",
         "investor": f"{f.submitter.region_name}某某科技有限公司", "targets": f"服务企业{rng.randint(50, 300)}家",
         "year": year + (i % 3), "investment": rng.randint(300, 3000), "funding_source": "企业自筹、省级专项资金"}
        for i in range(1, rng.randint(3, 6))
    ]  # fmt: skip
    total = sum(p["investment"] for p in projects)
    plan = {"region_code": code, "cluster_name": cluster, "period_start": year, "period_end": year + 2,
            "overall_approach": "以数字化改造带动集群整体升级", "goals": f"到{year + 2}年建成集群工业互联网平台",
            "main_tasks": "一是建设公共服务平台；二是推进企业上云", "safeguards": "成立工作专班，落实专项资金",
            "approved": "是", "approval_date": f"{year}年5月{rng.randint(6, 28)}日", "total_investment": f"{total:,}",
            "pilot_start": year, "pilot_end": year + 2,
            "approval_number": f"{f.submitter.region_name[:2]}政字〔{year}〕{rng.randint(10, 60)}号"}  # fmt: skip
    return {"development_plan": [plan], "plan_projects": projects}


def _progress_report(f: _Filler) -> dict[str, list[dict[str, Any]]]:
    rng, expects = f.rng, f.obligation.expects
    planned = rng.randint(2000, 20000)
    share = rng.uniform(0.35, 0.7) if expects.get("period") == "上半年" else rng.uniform(0.7, 1.1)
    return {"progress_report": [{"region_code": f.code, "cluster_name": f.cluster, "year": f.year,
                  "period": expects.get("period", "全年"), "planned_investment": f"{planned:,}",
                  "completed_investment": f"{round(planned * share):,}", "revenue_yi": round(rng.uniform(20, 300), 1),
                  "projects_started": (started := rng.randint(2, 12)), "projects_completed": rng.randint(0, min(5, started)),
                  "progress": "按计划推进，平台一期已上线"}]}  # fmt: skip


def _annual_info_table(f: _Filler) -> dict[str, list[dict[str, Any]]]:
    rng = f.rng
    return {"annual_info_table": [{"region_code": f.code, "cluster_name": f.cluster, "year": f.year,
                  "area_km2": round(rng.uniform(15, 95), 1), "output_yi": round(rng.uniform(42, 180), 1),
                  "sme_output_share": f"{rng.randint(72, 95)}%", "leading_industry_share": f"{rng.randint(71, 92)}%",
                  "output_growth": f"{rng.uniform(10.5, 18):.1f}%", "champion_firms": rng.randint(1, 4),
                  "specialised_smes": rng.randint(10, 40), "high_tech_firms": rng.randint(10, 60),
                  "sme_rd_growth": f"{rng.uniform(10.5, 20):.1f}%", "invention_patents": rng.randint(200, 900),
                  "patents_per_10k": round(rng.uniform(15.5, 30), 1),
                  "invention_patent_growth": f"{rng.uniform(15, 25):.1f}%",
                  "platform_adoption": f"{rng.randint(16, 40)}%", "major_incident": "否", "has_three_year_plan": "是"}]}  # fmt: skip


def _rereview_materials(f: _Filler) -> dict[str, list[dict[str, Any]]]:
    rng = f.rng
    total = rng.randint(6, 10)
    return {"rereview_materials": [{"region_code": f.code, "cluster_name": f.cluster,
                  "validity_end_year": f.instance.cycle_year,
                  "applies": "是", "targets_total": total, "targets_completed": total - rng.randint(0, 1),
                  "output_year1_yi": round(rng.uniform(42, 100), 1), "output_year2_yi": round(rng.uniform(45, 120), 1),
                  "output_year3_yi": round(rng.uniform(48, 140), 1), "explanation": ""}]}  # fmt: skip


def _subsidy_claims(f: _Filler) -> dict[str, list[dict[str, Any]]]:
    rng = f.rng
    return {"subsidy_claims": [{"firm_name": f"{f.submitter.region_name}{name}有限公司", "region_code": f.code,
                  "category": cat, "equipment_wan": rng.randint(200, 3000), "software_wan": rng.randint(50, 800),
                  "claimed_wan": rng.randint(50, 600)}
                 for name, cat in (("某某木业", "试点"), ("某某家居", "示范"), ("某某工业互联网", "平台"))]}  # fmt: skip


def _pilot_application(f: _Filler) -> dict[str, list[dict[str, Any]]]:
    rng = f.rng
    return {"pilot_application": [{"region_code": f.code, "cluster_name": f.cluster, "year": f.year,
                  "revenue_yi": round(rng.uniform(55, 200), 1), "firms_over_100m": rng.randint(5, 20),
                  "public_platforms": rng.randint(3, 8), "has_carrier": "是", "regional_brands": rng.randint(1, 3),
                  "well_known_marks": rng.randint(1, 4), "hebei_brands": rng.randint(5, 15),
                  "broadband_share": f"{rng.randint(70, 98)}%", "city_recommended": "是"}]}  # fmt: skip


def _henan_quarterly(f: _Filler) -> dict[str, list[dict[str, Any]]]:
    rng, code = f.rng, f.code
    q = {"Q1": "一季度", "Q2": "二季度", "Q3": "三季度", "Q4": "四季度"}[f.instance.period]
    return {"henan_quarterly": [{"base_code": f"HN-{code}", "region_code": code, "base_name": f.cluster,
                  "year": f.year, "quarter": q,
                  "output_yi": round(rng.uniform(20, 200), 1), "investment_wan": rng.randint(5000, 60000),
                  "progress": "新引进项目若干"}]}  # fmt: skip


#: The filler of each dataset a submitter fills in (the evaluator's scores: :func:`evaluation_records`).
_FILLERS: dict[str, Callable[[_Filler], dict[str, list[dict[str, Any]]]]] = {
    "contact_list": _contact_list,
    "development_plan": _development_plan,
    "progress_report": _progress_report,
    "annual_info_table": _annual_info_table,
    "pilot_application": _pilot_application,
    "rereview_materials": _rereview_materials,
    "subsidy_claims": _subsidy_claims,
    "henan_quarterly": _henan_quarterly,
}


def records_for(
    programme: Programme, instance: ObligationInstance, submitter: Submitter, seed: int = 0,
    counties: list[tuple[str, str]] | None = None,
) -> dict[str, list[dict[str, Any]]]:  # fmt: skip
    """Plausible records of every dataset of the instance's template for one submitter.

    Args:
        programme: Programme.
        instance: Obligation instance.
        submitter: The submitting region (and cluster).
        seed: Varies the values.
        counties: For contact lists: the pilot counties the city reports for.

    Returns:
        Records by dataset id, keyed by column key, values as an official types them.

    Raises:
        ValueError: The obligation's dataset has no synthetic records.
    """
    obligation = programme.obligation(instance.obligation_id)
    fill = _FILLERS.get(obligation.dataset or "")
    if fill is None:
        raise ValueError(f"no synthetic records for dataset {obligation.dataset!r}")
    return fill(
        _Filler(
            submitter=submitter,
            obligation=obligation,
            instance=instance,
            rng=random.Random(f"{seed}|{instance.key}|{submitter.region_code}|{submitter.cluster_id}"),
            year=instance.cycle_year + obligation.data_year_offset,
            cluster=submitter.cluster_name or f"{submitter.region_name}产业集群",
            counties=counties or [],
        )
    )


def evaluation_records(
    programme: Programme, instance: ObligationInstance, clusters: list[tuple[str, str, str]], scores: dict[str, float],
    violations: dict[str, str] | None = None,
) -> dict[str, list[dict[str, Any]]]:  # fmt: skip
    """The third-party evaluator's score sheet for the given clusters.

    Args:
        programme: Programme (its evaluation rules name the evaluator).
        instance: The evaluation instance.
        clusters: (cluster_id, region_code, cluster_name) of every evaluated cluster.
        scores: Score by cluster id (clusters without one are left out: no score submitted).
        violations: Violation notes by cluster id.
    """
    violations = violations or {}
    evaluator = programme.evaluation.evaluator if programme.evaluation else "第三方评估机构"
    rows = [
        {"region_code": region, "cluster_name": name, "year": instance.cycle_year, "evaluator": evaluator,
         "score": scores[cid], "violation": "是" if cid in violations else "否", "violation_note": violations.get(cid, "")}
        for cid, region, name in clusters
        if cid in scores
    ]  # fmt: skip
    return {"evaluation_scores": rows}


def write_xlsx(path: Path, records: dict[str, list[dict[str, Any]]], title: str) -> Path:
    """Write records as an official template would look once filled in (openpyxl, write-only).

    Args:
        path: Output file.
        records: Records by dataset id; one sheet per dataset, named as in the template.
        title: Title row text above the header.
    """
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    for dataset_id, rows in records.items():
        spec = get_dataset(dataset_id)
        ws = wb.create_sheet(spec.sheet)
        present = [c for c in spec.columns if not (rows and all(r.get(c.key) is OMIT for r in rows))]
        ws.append([title])
        ws.append([c.header for c in present])
        for r in rows:
            ws.append([r.get(c.key) for c in present])
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def write_csv(path: Path, records: list[dict[str, Any]], dataset_id: str, encoding: str = "gb18030") -> Path:
    """Write one dataset's records as CSV in ``encoding`` (officials' Excel saves GBK by default)."""
    import csv
    import io

    spec = get_dataset(dataset_id)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(spec.headers)
    for r in records:
        writer.writerow(["" if r.get(c.key) is None else r.get(c.key) for c in spec.columns])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def break_records(
    records: dict[str, list[dict[str, Any]]], mistake: str, year: int
) -> dict[str, list[dict[str, Any]]]:
    """A copy of ``records`` with one typical mistake (see :data:`MISTAKES`)."""
    out = {k: [dict(r) for r in v] for k, v in records.items()}
    main = next(iter(out.values()))
    first = main[0]
    if mistake == "bad_mobile" and "mobile" in first:
        first["mobile"] = first["mobile"][:-1]
    elif mistake == "missing_column":
        dropped = next(k for k in first if k not in ("region_code",))
        for r in main:
            r[dropped] = OMIT
    elif mistake == "wrong_year" and "year" in first:
        first["year"] = year - 1
    elif mistake == "formula":
        key = next(k for k in first if k not in ("region_code",))
        first[key] = "=1+1"
    elif mistake == "bad_percent":
        key = next((k for k in first if isinstance(first[k], str) and first[k].endswith("%")), None)
        if key:
            first[key] = "120%"
        else:
            first["region_code"] = first["region_code"][:5]
    else:
        first["region_code"] = "99" + first["region_code"][2:]
    return out


def set_received(path: Path, day: dt.date) -> None:
    """Set a file's modification time to ``day`` (10:00 Asia/Shanghai), as a submitter's tool might.

    Intake never reads it: a file is received when the inbox sweep first sees
    it (the demo sweeps at each file's arrival, ``year_run``) or on the day the
    operator gives.
    """
    from review_calendar.domain.calendar import TZ

    moment = dt.datetime.combine(day, dt.time(10, 0), tzinfo=TZ).timestamp()
    os.utime(path, (moment, moment))
