"""Data-budget planning: tokens per source, epochs under a mixture, a capped re-weighting, model-size guidance.

Everything is computed from token counts (the tokenized manifest's per-source counts); nothing is re-tokenized.
`build_plan` returns plain data (what `curation plan --json` prints and the HTML report renders).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

# Hoffmann et al. 2022 ("Training Compute-Optimal Large Language Models"): about 20 training tokens per
# parameter at the compute-optimal frontier.
CHINCHILLA_TOKENS_PER_PARAM = 20.0
# Kaplan et al. 2020 ("Scaling Laws for Neural Language Models", eq. 4.4): overfitting stays small while
# D >~ 5e3 * N^0.74 (D tokens, N non-embedding parameters).
KAPLAN_COEF = 5.0e3
KAPLAN_EXP = 0.74
# Muennighoff et al. 2023 ("Scaling Data-Constrained Language Models", eq. 5): effective data
# D' = U + U * R* * (1 - exp(-R / R*)), R = epochs - 1 repetitions, fitted R*_D = 15.4.
MUENNIGHOFF_R_STAR = 15.4

FORMULAS = {
    "compute_optimal_params": {
        "formula": "N_opt = D / 20",
        "source": "Hoffmann et al. 2022, Training Compute-Optimal Large Language Models (about 20 tokens per parameter)",
    },
    "max_params_without_overfitting": {
        "formula": "N_max = (U / 5e3)^(1/0.74), from D >~ 5e3 * N^0.74 with D = U unique tokens",
        "source": "Kaplan et al. 2020, Scaling Laws for Neural Language Models, eq. 4.4",
    },
    "effective_tokens": {
        "formula": "D' = U + U * R* * (1 - exp(-R/R*)), R = epochs - 1, R* = 15.4",
        "source": "Muennighoff et al. 2023, Scaling Data-Constrained Language Models, eq. 5 (about 4 epochs are "
        "nearly as good as new data)",
    },
}


def epochs(weight: float, train_tokens: float, unique_tokens: float) -> float:
    """Times a source is seen when `weight` of `train_tokens` are drawn from `unique_tokens`."""
    drawn = weight * train_tokens
    if drawn == 0:
        return 0.0
    return math.inf if unique_tokens <= 0 else drawn / unique_tokens


def effective_tokens(unique_tokens: float, drawn_tokens: float, r_star: float = MUENNIGHOFF_R_STAR) -> float:
    """Muennighoff et al.'s value of `drawn_tokens` taken from `unique_tokens` (repeats decay in value)."""
    if unique_tokens <= 0 or drawn_tokens <= unique_tokens:
        return float(min(drawn_tokens, unique_tokens) if unique_tokens > 0 else 0.0)
    repeats = drawn_tokens / unique_tokens - 1.0
    return unique_tokens + unique_tokens * r_star * (1.0 - math.exp(-repeats / r_star))


def capped_weights(
    weights: Mapping[str, float], unique: Mapping[str, float], train_tokens: float, max_epochs: float
) -> tuple[dict[str, float], bool]:
    """Weights closest to `weights` (in KL divergence) with every source at most `max_epochs` epochs.

    The minimiser of KL(w' || w) under w'_s <= c_s = max_epochs * U_s / T and sum w' = 1 is
    w'_s = min(c_s, lambda * w_s): capped sources sit at their cap, the others scale up in proportion to
    their requested weights. Returns (weights, feasible). When even every cap together is below 1
    (too few unique tokens for the budget), it returns weights proportional to unique tokens (every source
    repeated the same, smallest possible number of times) and feasible=False.
    """
    caps = {s: max_epochs * max(0.0, unique.get(s, 0.0)) / train_tokens for s in weights}
    active = {s: w for s, w in weights.items() if w > 0}
    if sum(min(caps[s], 1.0) for s in active) < 1.0 - 1e-12:
        total = sum(max(0.0, unique.get(s, 0.0)) for s in active)
        if total <= 0:
            return {s: 0.0 for s in weights}, False
        return {s: (max(0.0, unique.get(s, 0.0)) / total if s in active else 0.0) for s in weights}, False
    capped: set[str] = set()
    while True:
        free = {s: w for s, w in active.items() if s not in capped}
        room = 1.0 - sum(caps[s] for s in capped)
        scale = room / sum(free.values())
        over = {s for s, w in free.items() if w * scale > caps[s] + 1e-15}
        if not over:
            out = {s: (caps[s] if s in capped else active.get(s, 0.0) * scale) for s in weights}
            return {s: (w if s in active else 0.0) for s, w in out.items()}, True
        capped |= over


def build_plan(
    unique_tokens: Mapping[str, float],
    weights: Mapping[str, float],
    train_tokens: float,
    max_epochs: float = 4.0,
    mixture_name: str = "custom",
    notes: list[str] | None = None,
) -> dict[str, Any]:
    """The plan as plain data: per-source rows, the capped re-weighting and model-size guidance."""
    if train_tokens <= 0:
        raise ValueError(f"train tokens must be positive, got {train_tokens}")
    sources = sorted(set(unique_tokens) | {s for s, w in weights.items() if w > 0})
    suggested, feasible = capped_weights(
        {s: weights.get(s, 0.0) for s in sources}, unique_tokens, train_tokens, max_epochs
    )
    rows: list[dict[str, Any]] = []
    warnings = []
    for s in sources:
        u = float(unique_tokens.get(s, 0))
        w = float(weights.get(s, 0.0))
        drawn = w * train_tokens
        e = epochs(w, train_tokens, u)
        if u <= 0 and w > 0:
            warnings.append(f"{s}: weighted {w:.1%} but the corpus holds no {s} tokens")
        elif e > max_epochs:
            warnings.append(f"{s}: {_epochs(e)} epochs exceeds the cap of {max_epochs:g}")
        sw = suggested.get(s, 0.0)
        rows.append(
            {
                "source": s,
                "unique_tokens": int(u),
                "weight": w,
                "tokens_drawn": drawn,
                "epochs": e if math.isfinite(e) else None,
                "over_cap": bool(e > max_epochs),
                "effective_tokens": effective_tokens(u, drawn),
                "suggested_weight": sw,
                "suggested_epochs": epochs(sw, train_tokens, u) if u > 0 else (0.0 if sw == 0 else None),
            }
        )
    unique_total = float(sum(max(0.0, float(v)) for v in unique_tokens.values()))
    effective_total = sum(r["effective_tokens"] for r in rows)
    objective = (
        "minimise KL(suggested || requested) subject to epochs <= cap: capped sources at their cap, the rest "
        "scaled up in proportion to their requested weights"
        if feasible
        else f"infeasible: the corpus holds {unique_total:.4g} unique tokens, fewer than the budget / cap "
        f"({train_tokens / max_epochs:.4g}); suggested weights are proportional to unique tokens (every source "
        f"repeated {_epochs(train_tokens / unique_total)} times, the smallest possible maximum)"
        if unique_total > 0
        else "infeasible: the corpus holds no tokens"
    )
    return {
        "train_tokens": float(train_tokens),
        "mixture": mixture_name,
        "max_epochs": float(max_epochs),
        "unique_tokens_total": int(unique_total),
        "rows": rows,
        "warnings": warnings,
        "notes": list(notes or []),
        "suggestion": {"feasible": feasible, "objective": objective},
        "models": {
            "compute_optimal_params": {
                "value": train_tokens / CHINCHILLA_TOKENS_PER_PARAM,
                **FORMULAS["compute_optimal_params"],
            },
            "max_params_without_overfitting": {
                "value": (unique_total / KAPLAN_COEF) ** (1.0 / KAPLAN_EXP) if unique_total > 0 else 0.0,
                **FORMULAS["max_params_without_overfitting"],
            },
            "effective_tokens": {
                "value": effective_total,
                "fraction_of_budget": effective_total / train_tokens,
                **FORMULAS["effective_tokens"],
            },
        },
    }


def manifest_source_tokens(tok_dir: str | Path) -> dict[str, int]:
    """Tokens per source (end-of-document tokens included) from `TOK/manifest.json`; reads nothing else."""
    path = Path(tok_dir) / "manifest.json"
    try:
        manifest = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise FileNotFoundError(f"no readable manifest.json under {tok_dir}: {exc}") from None
    try:
        return {s: int(v["tokens"]) for s, v in manifest["sources"].items()}
    except (KeyError, TypeError, ValueError):
        raise ValueError(f"{path} has no per-source token counts (is it a `curation tokenize` output?)") from None


def plan_for_output(
    tok_dir: str | Path,
    train_tokens: float,
    mixture: str | Mapping[str, float] | None = None,
    max_epochs: float | None = None,
    cfg: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The plan of a `curation tokenize` output as plain data (what `curation plan --json` prints)."""
    from curation.config import load_config
    from curation.mixture import resolve_mixture

    cfg = cfg if cfg is not None else load_config()
    unique = manifest_source_tokens(tok_dir)
    mix = resolve_mixture(mixture, cfg)
    cap = float(max_epochs if max_epochs is not None else cfg["mixture"]["max_epochs"])
    notes = [
        f"corpus source {s} is not in mixture {mix.name!r}: not drawn" for s in sorted(unique) if s not in mix.weights
    ]
    return build_plan(unique, mix.weights, train_tokens, cap, mix.name, notes)


def _fmt(x: float | None) -> str:
    if x is None:
        return "inf"
    for unit, size in (("T", 1e12), ("B", 1e9), ("M", 1e6), ("k", 1e3)):
        if abs(x) >= size:
            return f"{x / size:.3g}{unit}"
    return f"{x:.3g}"


def _epochs(e: float | None) -> str:
    if e is None:
        return "inf"
    return f"{e:.2f}" if e < 1000 else _fmt(e)


def render_plan(plan: Mapping[str, Any]) -> str:
    """The plan as a plain-text table with its warnings, objective and formulas."""
    lines = [
        f"plan: {_fmt(plan['train_tokens'])} training tokens, mixture {plan['mixture']}, cap {plan['max_epochs']:g} epochs"
    ]
    head = f"{'source':<12}{'unique':>10}{'weight':>9}{'drawn':>10}{'epochs':>10}  {'suggested':>10}{'epochs':>10}"
    lines += [head, "-" * len(head)]
    for r in plan["rows"]:
        flag = "  over the cap" if r["over_cap"] else ""
        lines.append(
            f"{r['source']:<12}{_fmt(r['unique_tokens']):>10}{r['weight']:>9.1%}{_fmt(r['tokens_drawn']):>10}"
            f"{_epochs(r['epochs']):>10}  {r['suggested_weight']:>10.1%}{_epochs(r['suggested_epochs']):>10}{flag}"
        )
    for w in plan["warnings"]:
        lines.append(f"warning: {w}")
    for n in plan["notes"]:
        lines.append(f"note: {n}")
    lines.append(f"suggested weights: {plan['suggestion']['objective']}")
    m = plan["models"]
    lines.append("model size guidance:")
    lines.append(
        f"  compute-optimal parameters  {_fmt(m['compute_optimal_params']['value']):>8}   "
        f"{m['compute_optimal_params']['formula']}  [{m['compute_optimal_params']['source']}]"
    )
    lines.append(
        f"  largest without overfitting {_fmt(m['max_params_without_overfitting']['value']):>8}   "
        f"{m['max_params_without_overfitting']['formula']}  [{m['max_params_without_overfitting']['source']}]"
    )
    lines.append(
        f"  effective tokens            {_fmt(m['effective_tokens']['value']):>8}   "
        f"({m['effective_tokens']['fraction_of_budget']:.1%} of the budget) {m['effective_tokens']['formula']}  "
        f"[{m['effective_tokens']['source']}]"
    )
    return "\n".join(lines)
