"""The funnel per source from stats.json: what each stage removed (docs and bytes), checked against Parquet."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from curation.report.sample import row_groups, shard_files

READ_STAGE = "read"


def stage_of(reason: str) -> str:
    """`quality.word_count` -> `quality`; a dead-letter stage name is its own stage."""
    return reason.split(".", 1)[0]


def stage_sequence(stats: Mapping[str, Any], stage_order: Sequence[str]) -> list[str]:
    """Stages that removed or failed anything, in pipeline order (`read` first, unknown ones last)."""
    seen = set()
    for s in stats["sources"].values():
        seen |= {stage_of(r) for r in s["removed"]["by_reason"]}
        seen |= {stage_of(r) for r in s["failed"]["by_stage"]}
    order = [READ_STAGE, *stage_order]
    return [st for st in order if st in seen] + sorted(seen - set(order))


def funnel_steps(stats: Mapping[str, Any], stage_order: Sequence[str]) -> list[dict[str, Any]]:
    """Per source, documents and bytes remaining after each stage (`input` first, `kept` last)."""
    stages = stage_sequence(stats, stage_order)
    rows = []
    for source, s in stats["sources"].items():
        docs, nbytes = s["input"]["docs"], s["input"]["bytes"]
        total_docs, total_bytes = docs or 1, nbytes or 1
        rows.append(_step(source, "input", 0, docs, nbytes, total_docs, total_bytes))
        for pos, stage in enumerate(stages, 1):
            lost = [v for r, v in s["removed"]["by_reason"].items() if stage_of(r) == stage]
            lost += [v for r, v in s["failed"]["by_stage"].items() if stage_of(r) == stage]
            docs -= sum(v["docs"] for v in lost)
            nbytes -= sum(v["bytes"] for v in lost)
            rows.append(_step(source, f"after {stage}", pos, docs, nbytes, total_docs, total_bytes))
    return rows


def _step(source: str, step: str, pos: int, docs: int, nbytes: int, total_docs: int, total_bytes: int) -> dict:
    return {
        "source": source,
        "step": step,
        "position": pos,
        "docs": docs,
        "bytes": nbytes,
        "docs_share": docs / total_docs,
        "bytes_share": nbytes / total_bytes,
    }


def funnel_table(stats: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Rows `source, step, docs, bytes, share` as `curation stats` prints them (removals largest first)."""
    rows = []
    for source, s in stats["sources"].items():
        total = s["input"]["docs"] or 1
        rows.append({"source": source, "step": "input", **s["input"], "share": 1.0, "kind": "input"})
        for reason, v in sorted(s["removed"]["by_reason"].items(), key=lambda kv: (-kv[1]["docs"], kv[0])):
            rows.append({"source": source, "step": reason, **v, "share": v["docs"] / total, "kind": "removed"})
        for stage, v in sorted(s["failed"]["by_stage"].items()):
            rows.append(
                {"source": source, "step": f"failed: {stage}", **v, "share": v["docs"] / total, "kind": "failed"}
            )
        rows.append({"source": source, "step": "kept", **s["kept"], "share": s["kept"]["docs"] / total, "kind": "kept"})
    return rows


def parquet_counts(out: Path, sources: Sequence[str]) -> dict[str, dict[str, int]]:
    """Rows of `data/<source>` and `removed/<source>` from the Parquet footers (no column data read)."""
    return {
        source: {kind: sum(g.rows for g in row_groups(shard_files(out, kind, source))) for kind in ("data", "removed")}
        for source in sources
    }


def count_mismatches(stats: Mapping[str, Any], counts: Mapping[str, Mapping[str, int]]) -> list[str]:
    """Lines for every source whose stats.json kept/removed counts differ from its Parquet row counts."""
    out = []
    for source, s in stats["sources"].items():
        c = counts.get(source, {"data": 0, "removed": 0})
        if s["kept"]["docs"] != c["data"]:
            out.append(f"{source}: stats.json kept {s['kept']['docs']:,} != {c['data']:,} rows in data/{source}")
        if s["removed"]["total"]["docs"] != c["removed"]:
            out.append(
                f"{source}: stats.json removed {s['removed']['total']['docs']:,} != {c['removed']:,} rows in removed/{source}"
            )
    return out
