"""Decontamination section: per benchmark, items found in the corpus (the contamination rate) and example spans."""

from __future__ import annotations

import heapq
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

EXAMPLES_PER_BENCHMARK = 3
REASON_PREFIX = "decontaminate."


def benchmark_sizes(index_path: Path) -> dict[str, int]:
    """Items per benchmark in a `curation decontam-index` file (reads only its metadata and item table)."""
    with np.load(index_path, allow_pickle=False) as npz:
        names = json.loads(str(npz["meta"]))["benchmarks"]
        per_item = npz["item_benchmark"]
    counts = (
        np.bincount(per_item.astype(np.int64), minlength=len(names)) if len(per_item) else np.zeros(len(names), int)
    )
    return {name: int(n) for name, n in zip(names, counts, strict=True)}


def match_summary(path: Path) -> dict[str, dict[str, Any]]:
    """Per benchmark: distinct items found, matched documents and the strongest example spans (streamed)."""
    pf = pq.ParquetFile(path)
    items: dict[str, set[str]] = {}
    docs: dict[str, set[str]] = {}
    best: dict[str, list[tuple[int, str, str, str]]] = {}
    for i in range(pf.metadata.num_row_groups):
        for row in pf.read_row_group(i).to_pylist():
            bench = row["benchmark"]
            items.setdefault(bench, set()).add(row["item_id"])
            docs.setdefault(bench, set()).add(row["id"])
            heap = best.setdefault(bench, [])
            entry = (int(row["matched_ngrams"] or 0), row["id"], row["item_id"], row["example_span"] or "")
            heapq.heappush(heap, entry) if len(heap) < EXAMPLES_PER_BENCHMARK else heapq.heappushpop(heap, entry)
    return {
        bench: {
            "items_found": len(items[bench]),
            "documents": len(docs[bench]),
            "examples": [
                {"matched_ngrams": n, "id": doc, "item_id": item, "span": span}
                for n, doc, item, span in sorted(best[bench], key=lambda t: (-t[0], t[1], t[2]))
            ],
        }
        for bench in sorted(items)
    }


def removed_by_benchmark(stats: Mapping[str, Any]) -> dict[str, int]:
    """Documents removed per `decontaminate.<benchmark>` reason, over all sources (from stats.json)."""
    out: dict[str, int] = {}
    for s in stats["sources"].values():
        for reason, v in s["removed"]["by_reason"].items():
            if reason.startswith(REASON_PREFIX):
                name = reason.removeprefix(REASON_PREFIX)
                out[name] = out.get(name, 0) + v["docs"]
    return out


def decontam_section(out: Path, stats: Mapping[str, Any], index_path: Path | None) -> dict[str, Any] | None:
    """Rows per benchmark (items in it when the index is given, found, rate, documents) and examples."""
    path = out / "decontam" / "matches.parquet"
    if not path.is_file():
        return None
    found = match_summary(path)
    sizes = benchmark_sizes(index_path) if index_path else {}
    removed = removed_by_benchmark(stats)
    rows = []
    for bench in sorted(set(found) | set(sizes) | set(removed)):
        f = found.get(bench, {"items_found": 0, "documents": 0, "examples": []})
        total = sizes.get(bench)
        rows.append(
            {
                "benchmark": bench,
                "items": total,
                "items_found": f["items_found"],
                "rate": f["items_found"] / total if total else None,
                "documents_matched": f["documents"],
                "documents_removed": removed.get(bench, 0),
                "examples": f["examples"],
            }
        )
    return {"rows": rows, "index": str(index_path) if index_path else None}
