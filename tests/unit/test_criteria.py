"""Recognition criteria of 工信部企业〔2022〕119号 附件: wording (以上 ≥, 高于 >), 年均 growth, the any-of criterion."""

from __future__ import annotations

from pathlib import Path

import pytest

from review_calendar.domain.criteria import average_growth, check_criteria
from review_calendar.domain.programmes import load_programme_file

pytestmark = pytest.mark.unit
B = load_programme_file(Path(__file__).resolve().parents[2] / "programmes" / "miit_sme_cluster.yaml")


def _met(**indicators: object) -> dict[str, bool | None]:
    return {r.id: r.met for r in check_criteria(B.criteria, indicators)}


@pytest.mark.parametrize(
    ("share", "met"),
    [
        pytest.param(0.70, True, id="exactly-70-percent-is-70-percent-yishang"),
        pytest.param(0.6999, False, id="below-70"),
        pytest.param(0.85, True, id="above-70"),
    ],
)
def test_sme_share_70_percent_yishang_includes_70_annex_1(share: float, met: bool) -> None:
    """附件 一: 中小企业产值占集群总产值70%以上 — 以上 includes the figure (≥)."""
    assert _met(sme_output_share=share)["sme_share"] is met


def test_leading_industry_share_gaoyu_70_excludes_70_annex_1() -> None:
    """附件 一: 主导产业产值占比高于70% — 高于 excludes the figure (>)."""
    assert (
        _met(leading_industry_share=0.70)["leading_share"],
        _met(leading_industry_share=0.71)["leading_share"],
    ) == (
        False,
        True,
    )


def test_average_growth_is_geometric_from_levels() -> None:
    """水平法: (last / first) ** (1 / n) − 1; 40 → 53.24 亿元 over three years is exactly 10 %."""
    assert average_growth([40.0, 44.0, 48.4, 53.24], None, 3) == pytest.approx(0.10)
    assert average_growth([40.0, 50.0, 50.0, 50.0], None, 3) == pytest.approx(1.25 ** (1 / 3) - 1)


def test_average_growth_chains_yearly_rates() -> None:
    assert average_growth(None, [0.25, 0.03, 0.05], 3) == pytest.approx((1.25 * 1.03 * 1.05) ** (1 / 3) - 1)


@pytest.mark.parametrize(
    ("indicators", "met"),
    [
        pytest.param({"output_growth": [0.25, 0.03, 0.05]}, True, id="average-10.6-percent-though-two-years-below-10"),
        pytest.param({"output_growth": [0.30, -0.05, 0.06]}, False, id="arithmetic-10.3-but-geometric-9.4-percent"),
        pytest.param({"output_yi": [40.0, 44.0, 48.4, 53.24]}, False, id="exactly-10-percent-is-not-gaoyu-10"),
        pytest.param({"output_yi": [40.0, 44.0, 48.4, 54.0]}, True, id="levels-above-10-percent"),
        pytest.param({"output_yi": [40.0, 44.0, 48.4, 54.0], "output_growth": [0.0, 0.0, 0.0]}, True,
                     id="levels-win-over-rates"),
        pytest.param({"output_yi": [None, 44.0, 48.4, 54.0], "output_growth": [0.2, None, 0.2]}, None,
                     id="a-year-missing-is-undeterminable"),
        pytest.param({"output_growth": [0.2, 0.2]}, None, id="two-years-only-is-undeterminable"),
    ],
)  # fmt: skip
def test_output_growth_nianjun_is_the_three_year_average_annex_1(indicators: dict, met: bool | None) -> None:
    """附件 一: 产值年均增速高于10% — the average annual growth over three years, not each year."""
    assert _met(**indicators)["growth"] is met


def test_patent_growth_nianjun_not_lower_than_15_percent_includes_15_annex_4() -> None:
    """附件 四: 有效发明专利年均增长率不低于15%: 100 → 152.0875 件 over three years is exactly 15 % (≥)."""
    assert _met(invention_patents=[100.0, 115.0, 132.25, 152.0875])["patent_growth"] is True
    assert _met(invention_patents=[100.0, 110.0, 120.0, 150.0])["patent_growth"] is False


@pytest.mark.parametrize(
    ("champions", "specialised", "high_tech", "met"),
    [
        pytest.param(1, 0, 0, True, id="one-champion-or-little-giant"),
        pytest.param(0, 6, 4, True, id="ten-specialised-or-high-tech"),
        pytest.param(0, 5, 4, False, id="neither"),
        pytest.param(None, 5, 4, None, id="champions-not-reported-undeterminable"),
        pytest.param(None, 8, 4, True, id="second-branch-suffices"),
        pytest.param(0, None, 4, None, id="counts-not-reported-undeterminable"),
    ],
)
def test_champion_or_ten_specialised_smes_is_checked_annex_2(
    champions: int | None, specialised: int | None, high_tech: int | None, met: bool | None
) -> None:
    """附件 二: ≥ 1 单项冠军 or 专精特新“小巨人”, **or** ≥ 10 专精特新中小企业 / 高新技术企业."""
    result = _met(champion_firms=champions, specialised_smes=specialised, high_tech_firms=high_tech)

    assert result["firms"] is met


def test_programme_b_checks_every_numeric_annex_criterion() -> None:
    assert [c.id for c in B.criteria] == [
        "area",
        "output",
        "sme_share",
        "leading_share",
        "growth",
        "firms",
        "rd_growth",
        "patent_growth",
        "patent_density",
        "platform_adoption",
    ]
    firms = next(c for c in B.criteria if c.id == "firms")
    assert (firms.kind, firms.clause, [a.threshold for a in firms.alternatives]) == (
        "any_of",
        "附件 二",
        [1, 10],
    )
