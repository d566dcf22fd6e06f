"""Great Expectations is imported without scipy.stats and altair, which load when first used.

The provincial gate imports Great Expectations through
``review_calendar.intake.gx_import``; the libraries only its distribution
expectations need stand in until an attribute of them is read, and then work
as usual. Run in a fresh interpreter, since an import cannot be undone.
"""

from __future__ import annotations

import textwrap

import pytest

from tests.support.fresh import run_fresh

pytestmark = pytest.mark.unit

SCRIPT = textwrap.dedent(
    """
    import json, sys

    from review_calendar.intake.gx_import import DEFERRED, import_great_expectations

    gx = import_great_expectations()
    before = {name: type(sys.modules[name]).__name__ for name in DEFERRED}
    heavy_before = "scipy.stats._stats_py" in sys.modules or "altair.vegalite" in sys.modules

    # What the KL-divergence expectation reads at validation time.
    from great_expectations.expectations.core import expect_column_kl_divergence_to_be_less_than as kl

    entropy = kl.stats.entropy([0.5, 0.5], [0.5, 0.5])
    chart = kl.alt.Chart.__name__
    from scipy.stats import norm

    print(json.dumps({
        "gx": gx.__name__,
        "before": before,
        "heavy_before": heavy_before,
        "entropy": float(entropy),
        "chart": chart,
        "norm": type(norm).__name__,
        "after": {name: type(sys.modules[name]).__name__ for name in DEFERRED},
    }))
    """
)


def test_deferred_libraries_load_on_first_use() -> None:
    out, _ = run_fresh(SCRIPT)
    assert out["gx"] == "great_expectations"
    assert out["before"] == {"scipy.stats": "_Deferred", "altair": "_Deferred"}
    assert out["heavy_before"] is False
    assert out["entropy"] == 0.0
    assert out["chart"] == "Chart"
    assert out["norm"] == "norm_gen"
    assert out["after"] == {"scipy.stats": "module", "altair": "module"}
