"""Data-budget planning: Chinchilla's published epochs, the capped re-weighting, the model-size formulas."""

from __future__ import annotations

import math

import pytest

from curation.config import load_config
from curation.mixture import resolve_mixture
from curation.plan import build_plan, capped_weights, effective_tokens, render_plan

# MassiveText token counts (billions) as published (Gopher/Chinchilla, GOPHER_SPEC §1), rounded to 1B.
MASSIVETEXT_B = {"web": 506, "books": 560, "c4": 182, "news": 676, "code": 422, "wikipedia": 4}
# Chinchilla paper, Table A1: epochs of each subset in 1.4T tokens at 45/30/10/10/4/1.
CHINCHILLA_EPOCHS = {"web": 1.24, "books": 0.75, "c4": 0.77, "news": 0.21, "code": 0.13, "wikipedia": 3.40}


def test_chinchilla_epochs_from_massivetext_token_counts():
    mix = resolve_mixture("chinchilla", load_config())
    plan = build_plan({s: b * 1e9 for s, b in MASSIVETEXT_B.items()}, mix.weights, 1.4e12, max_epochs=4)
    got = {r["source"]: r["epochs"] for r in plan["rows"]}
    for source, published in CHINCHILLA_EPOCHS.items():
        # The token counts are published rounded to the nearest billion and the epochs to two decimals:
        # the published epochs must lie within what those roundings allow.
        w = mix.weights[source]
        low = w * 1.4e12 / ((MASSIVETEXT_B[source] + 0.5) * 1e9) - 0.005
        high = w * 1.4e12 / ((MASSIVETEXT_B[source] - 0.5) * 1e9) + 0.005
        assert low <= published <= high, (source, published, low, high)
        assert low <= got[source] <= high
    # The large subsets pin the epochs to two decimals.
    for source in ("web", "books", "c4", "news", "code"):
        assert got[source] == pytest.approx(CHINCHILLA_EPOCHS[source], abs=0.0051), source
    assert not any(r["over_cap"] for r in plan["rows"])


def test_gopher_300b_epochs_and_model_guidance():
    mix = resolve_mixture("gopher", load_config())
    plan = build_plan({s: b * 1e9 for s, b in MASSIVETEXT_B.items()}, mix.weights, 300e9)
    got = {r["source"]: r["epochs"] for r in plan["rows"]}
    assert got["wikipedia"] == pytest.approx(1.5)
    assert got["web"] == pytest.approx(0.2846, abs=1e-3)
    models = plan["models"]
    assert models["compute_optimal_params"]["value"] == pytest.approx(15e9)
    unique = sum(MASSIVETEXT_B.values()) * 1e9
    n_max = models["max_params_without_overfitting"]["value"]
    assert 5e3 * n_max**0.74 == pytest.approx(unique, rel=1e-9)
    assert "Kaplan" in models["max_params_without_overfitting"]["source"]
    assert "Hoffmann" in models["compute_optimal_params"]["source"]


def test_cap_warning_and_reweighting_respects_cap_closest_to_request():
    unique = {"web": 100.0, "books": 1000.0, "wikipedia": 5.0}
    weights = {"web": 0.5, "books": 0.4, "wikipedia": 0.1}
    plan = build_plan(unique, weights, 400.0, max_epochs=4)
    rows = {r["source"]: r for r in plan["rows"]}
    assert rows["wikipedia"]["epochs"] == pytest.approx(8.0)
    assert rows["wikipedia"]["over_cap"] and not rows["web"]["over_cap"]
    assert any("wikipedia" in w and "exceeds" in w for w in plan["warnings"])
    suggested = {s: r["suggested_weight"] for s, r in rows.items()}
    assert sum(suggested.values()) == pytest.approx(1.0)
    assert rows["wikipedia"]["suggested_epochs"] == pytest.approx(4.0)
    # Uncapped sources keep their requested ratio (the KL projection scales them together).
    assert suggested["web"] / suggested["books"] == pytest.approx(0.5 / 0.4)
    assert plan["suggestion"]["feasible"]
    assert "KL" in plan["suggestion"]["objective"]
    # Moving weight differently (e.g. all freed weight to books) is further from the request in KL.
    alt = {"web": 0.5, "books": 0.45, "wikipedia": 0.05}

    def kl(p):
        return sum(p[s] * math.log(p[s] / weights[s]) for s in p if p[s] > 0)

    assert kl(suggested) < kl(alt)


def test_reweighting_cascades_when_scaling_up_pushes_another_source_over_the_cap():
    weights, caps_unique = {"a": 0.6, "b": 0.3, "c": 0.1}, {"a": 1000.0, "b": 80.0, "c": 10.0}
    w, feasible = capped_weights(weights, caps_unique, 100.0, 4)
    assert feasible
    assert w["c"] == pytest.approx(0.4) or w["c"] <= 0.4 + 1e-12
    for s in weights:
        assert w[s] * 100.0 / caps_unique[s] <= 4 + 1e-9
    assert sum(w.values()) == pytest.approx(1.0)


def test_infeasible_budget_says_so_and_spreads_repeats_evenly():
    plan = build_plan({"a": 10.0, "b": 30.0}, {"a": 0.5, "b": 0.5}, 1000.0, max_epochs=4)
    assert not plan["suggestion"]["feasible"]
    assert "infeasible" in plan["suggestion"]["objective"]
    epochs = [r["suggested_epochs"] for r in plan["rows"]]
    assert epochs[0] == pytest.approx(epochs[1]) == pytest.approx(25.0)


def test_absent_source_is_a_warning_not_a_renormalisation():
    plan = build_plan({"web": 100.0}, {"web": 0.9, "c4": 0.1}, 100.0)
    rows = {r["source"]: r for r in plan["rows"]}
    assert rows["c4"]["unique_tokens"] == 0 and rows["c4"]["epochs"] is None
    assert any("c4" in w and "no c4 tokens" in w for w in plan["warnings"])
    assert rows["c4"]["suggested_weight"] == 0.0
    assert "inf" in render_plan(plan)


def test_effective_tokens_follow_muennighoff():
    assert effective_tokens(100.0, 50.0) == 50.0
    assert effective_tokens(100.0, 100.0) == 100.0
    four = effective_tokens(100.0, 400.0)
    assert 0.9 * 400 < four < 400  # ~4 epochs: nearly as good as new data (93%)
    forty = effective_tokens(100.0, 4000.0)
    assert forty < 100 + 15.4 * 100  # saturates at U * (1 + R*)
