"""Language and document-length distributions per source (kept vs removed) from the sample."""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from curation.report.collect import Sample

TOP_LANGUAGES = 8
LENGTH_BINS = 24
NO_LANGUAGE = "(not identified)"


def language_rows(sample: Sample) -> list[dict[str, Any]]:
    """Rows `source, language, kind, count, total`: the top languages of each source, the rest as `other`."""
    table = sample.table
    if table.num_rows == 0:
        return []
    grouped = table.select(["source", "language", "kind"]).group_by(["source", "language", "kind"], use_threads=False)
    counts: Counter[tuple[str, str, str]] = Counter()
    for r in grouped.aggregate([([], "count_all")]).to_pylist():
        counts[(r["source"], r["language"] or NO_LANGUAGE, r["kind"])] += r["count_all"]
    rows = []
    for source in sorted({s for s, _, _ in counts}):
        totals: Counter[str] = Counter()
        for (s, lang, _), n in counts.items():
            if s == source:
                totals[lang] += n
        top = {lang for lang, _ in totals.most_common(TOP_LANGUAGES)}
        merged: Counter[tuple[str, str]] = Counter()
        for (s, lang, kind), n in counts.items():
            if s == source:
                merged[(lang if lang in top else "other", kind)] += n
        other_total = sum(n for lang, n in totals.items() if lang not in top)
        rows += [
            {
                "source": source,
                "language": lang,
                "kind": kind,
                "count": n,
                "total": totals[lang] if lang in top else other_total,
            }
            for (lang, kind), n in sorted(merged.items())
        ]
    return rows


def length_bins(sample: Sample) -> list[dict[str, Any]]:
    """Log-binned document lengths (characters) per source and kind; empty documents go to the first bin."""
    table = sample.table
    if table.num_rows == 0:
        return []
    lengths = table.column("length").to_numpy(zero_copy_only=False).astype(float)
    sources = np.asarray(table.column("source").to_pylist(), dtype=object)
    kinds = np.asarray(table.column("kind").to_pylist(), dtype=object)
    hi = max(float(lengths.max()), 10.0)
    edges = np.geomspace(1.0, hi * 1.0001, LENGTH_BINS + 1)
    index = np.clip(np.searchsorted(edges, np.maximum(lengths, 1.0), side="right") - 1, 0, LENGTH_BINS - 1)
    rows = []
    for source in sorted(set(sources)):
        for kind in ("kept", "removed"):
            counts = np.bincount(index[(sources == source) & (kinds == kind)], minlength=LENGTH_BINS)
            rows += [
                {"source": source, "kind": kind, "start": float(edges[i]), "end": float(edges[i + 1]), "count": int(c)}
                for i, c in enumerate(counts)
                if c
            ]
    return rows


def length_summary(sample: Sample) -> list[dict[str, Any]]:
    """Per source and kind: documents in the sample and the 10th/50th/90th percentile of their length."""
    table = sample.table
    lengths = table.column("length").to_numpy(zero_copy_only=False).astype(float)
    sources = np.asarray(table.column("source").to_pylist(), dtype=object)
    kinds = np.asarray(table.column("kind").to_pylist(), dtype=object)
    rows = []
    for source in sorted(set(sources)):
        for kind in ("kept", "removed"):
            sel = lengths[(sources == source) & (kinds == kind)]
            if len(sel):
                p10, p50, p90 = np.percentile(sel, [10, 50, 90])
                rows.append(
                    {"source": source, "kind": kind, "documents": len(sel), "p10": p10, "median": p50, "p90": p90}
                )
    return rows
