"""Per-signal histograms of kept vs removed documents, binned in numpy from the sample, with thresholds."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow.compute as pc

from curation.report.collect import KEPT, SIGNAL_PREFIX, Sample
from curation.report.thresholds import Bound, Rule, bounds, format_number, rules_by_signal

BINS = 30
LOG_SPAN = 1000  # a count-like signal (reaching LOG_MIN_HIGH) spanning more than this factor gets log bins
LOG_MIN_HIGH = 1000
THIS, OTHER = "removed by this rule", "removed by another rule"
ORDER = {KEPT: 0, THIS: 1, OTHER: 2}


def _edges(values: np.ndarray, marks: Sequence[float]) -> tuple[np.ndarray, bool]:
    """Bin edges covering the values (up to the 99.5th percentile) and every threshold; log when heavy-tailed."""
    lo = min([float(np.min(values)), *marks])
    hi = max([float(np.percentile(values, 99.5)), *marks])
    if np.all(values == np.round(values)) and hi - lo <= 40:  # small counts: one bin per integer
        return np.arange(np.floor(lo) - 0.5, np.ceil(hi) + 1.5), False
    positive = [float(np.min(values[values > 0]))] if (values > 0).any() else []
    positive += [m for m in marks if m > 0]
    if lo >= 0 and positive and hi >= LOG_MIN_HIGH and hi / min(positive) > LOG_SPAN:
        return np.geomspace(min(positive), hi * 1.0001, BINS + 1), True
    pad = (hi - lo) * 0.02 or 0.5
    return np.linspace(lo - pad, hi + pad, BINS + 1), False


def signal_histogram(
    name: str, rule: Rule | None, sample: Sample, cfg: Mapping[str, Any], sources: list[str]
) -> dict[str, Any] | None:
    """Binned counts per outcome (kept / removed by this rule / by another rule) and the rule's bounds."""
    table = sample.table
    column = SIGNAL_PREFIX + name
    if column not in table.column_names:
        return None
    present = table.filter(pc.is_valid(table.column(column)))  # documents the signal was measured on
    if present.num_rows == 0:
        return None
    values = present.column(column).to_numpy(zero_copy_only=False).astype(float)
    outcome = present.column("outcome").to_numpy(zero_copy_only=False)
    srcs = set(present.column("source").unique().to_pylist())
    marks: list[Bound] = bounds(rule, cfg, [s for s in sources if s in srcs]) if rule and not rule.is_flag else []
    edges, log = _edges(values, [b.value for b in marks])
    index = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, len(edges) - 2)  # outliers: edge bins
    label = np.where(outcome == KEPT, KEPT, np.where(outcome == (rule.reason if rule else None), THIS, OTHER))
    bins = []
    for kind in (KEPT, THIS, OTHER):
        counts = np.bincount(index[label == kind], minlength=len(edges) - 1)
        bins += [
            {
                "start": float(edges[i]),
                "end": float(edges[i + 1]),
                "count": int(c),
                "outcome": kind,
                "order": ORDER[kind],
            }
            for i, c in enumerate(counts)
            if c
        ]
    split = len({b.kind for b in marks}) < len(marks)  # a per-source override: name the sources of each bound
    thresholds = [
        {
            "value": b.value,
            "label": f"{b.kind} {format_number(b.value)}" + (f" ({', '.join(b.sources)})" if split else ""),
        }
        for b in marks
        if not log or b.value > 0
    ]
    return {
        "signal": name,
        "rule": rule.reason if rule else None,
        "bins": bins,
        "thresholds": thresholds,
        "log": log,
        "documents": present.num_rows,
        "removed_here": int((label == THIS).sum()),
        "clipped_above": int((values > edges[-1]).sum()),
    }


def signal_histograms(sample: Sample, cfg: Mapping[str, Any], sources: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Histograms of every stored signal that some rule reads, grouped by stage in the rules' order."""
    by_signal = rules_by_signal(cfg)
    stored = set(sample.signals)
    out: dict[str, list[dict[str, Any]]] = {}
    for name, rule in by_signal.items():
        if name not in stored or rule.is_flag:
            continue
        hist = signal_histogram(name, rule, sample, cfg, sources)
        if hist is not None:
            out.setdefault(rule.stage, []).append(hist)
    return out
