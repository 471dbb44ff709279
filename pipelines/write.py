"""The end of a run: name the staged shards, write the reports, stats and manifest, and commit OUT.

Format-free: shards are whatever files the phases staged (Parquet documents, JSONL dead letters, token
streams); this module only orders and names them (`part-NNNNN-of-MMMMM.<ext>` per kind and source, in work
item order, so names and bytes are the same on every run), writes the run's small tables, and commits.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from curation.stats import build_stats
from pipelines.io import open_file
from pipelines.outputs import commit, remove_tree, staged_path, write_file, write_staged
from pipelines.outputs import join as join_path

CLUSTER_SCHEMA = pa.schema([("id", pa.string()), ("cluster_id", pa.string()), ("kept", pa.bool_())])
MATCH_SCHEMA = pa.schema(
    [
        ("id", pa.string()),
        ("benchmark", pa.string()),
        ("item_id", pa.string()),
        ("matched_ngrams", pa.int64()),
        ("example_span", pa.string()),
    ]
)
# Top-level entries a run writes (what --overwrite may replace in an earlier run's OUT).
RUN_ENTRIES = ("data", "removed", "failed", "dedup", "decontam", "stats.json", "report.html")


def shard_name(index: int, total: int, ext: str) -> str:
    """`part-NNNNN-of-MMMMM.<ext>`."""
    return f"part-{index:05d}-of-{total:05d}.{ext}"


def final_names(entries: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Give staged shards their final names: per (kind, source) folder, numbered in work-item order."""
    groups: dict[tuple[str, str | None], list[Mapping[str, Any]]] = {}
    for e in entries:
        groups.setdefault((e["kind"], e.get("source")), []).append(e)
    named = []
    for (kind, source), group in sorted(groups.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
        group = sorted(group, key=lambda e: e["ordinal"])
        folder = kind if source is None else f"{kind}/{source}"
        for i, e in enumerate(group):
            ext = e["staged"].rsplit(".", 1)[-1]
            named.append({**e, "path": f"{folder}/{shard_name(i, len(group), ext)}"})
    return named


def parquet_bytes(table: pa.Table) -> bytes:
    """Parquet bytes of a report table (zstd)."""
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd")
    return buf.getvalue()


def stage_report_rows(out: str, relpath: str, rows: Sequence[Mapping[str, Any]], schema: pa.Schema) -> dict | None:
    """Stage one item's rows of a report table (cluster members, decontamination matches) for the commit.

    They travel as a staged file, not through the pipeline: at 1M documents the cluster rows alone are
    117k Python dicts (41 MB), which the local runner's driver and the committing worker would each hold.
    """
    if not rows:
        return None
    write_file(staged_path(out, relpath), parquet_bytes(pa.Table.from_pylist(list(rows), schema=schema)))
    return {"path": relpath, "rows": len(rows)}


def merged_report(out: str, refs: Iterable[Mapping[str, Any] | None], schema: pa.Schema, sort_keys: Sequence[str]):
    """The staged per-item parts of a report table as one table, rows sorted by `sort_keys` then every column."""
    tables = []
    for ref in refs:
        if ref:
            with open_file(staged_path(out, ref["path"])) as f:
                tables.append(pq.read_table(f, schema=schema))
    table = pa.concat_tables(tables) if tables else schema.empty_table()
    keys = [*sort_keys, *(n for n in schema.names if n not in sort_keys)]
    return table.sort_by([(k, "ascending") for k in keys])


def finalize_run(
    out: str,
    summaries: Sequence[Mapping[str, Any]],
    applied: Sequence[Mapping[str, Any]],
    cfg: Mapping[str, Any],
    stages: list[str] | None,
    dedup_ran: bool,
    decontam_index: str | None,
) -> dict[str, Any]:
    """Stats, reports, shard names, manifest and the commit of one run; returns the stats."""
    from pipelines.outputs import _move  # local import: the one place that renames staged files

    entries: list[dict[str, Any]] = []
    for s in summaries:
        failed = s.get("failed")
        if failed:
            entries.append(
                {**failed, "staged": failed["path"], "kind": "failed", "source": None, "ordinal": s["ordinal"]}
            )
    for a in applied:
        entries.extend(a["entries"])
        for relpath in a.get("empty", []):
            remove_tree(staged_path(out, relpath))
    named = final_names(entries)
    for e in named:
        if e["staged"] != e["path"]:
            _move(staged_path(out, e["staged"]), staged_path(out, e["path"]))
    shards = [{k: e[k] for k in ("path", "bytes", "sha256", "rows", "kind", "source")} for e in named]
    reports: list[tuple[str, str, pa.Schema, tuple[str, ...]]] = []
    if dedup_ran:
        reports.append(("dedup/clusters.parquet", "clusters", CLUSTER_SCHEMA, ("cluster_id", "id")))
    if decontam_index:
        reports.append(("decontam/matches.parquet", "matches", MATCH_SCHEMA, ("id", "benchmark", "item_id")))
    for relpath, name, schema, sort_keys in reports:
        table = merged_report(out, (a[name] for a in applied), schema, sort_keys)
        entry = write_staged(out, relpath, parquet_bytes(table))
        shards.append({**entry, "rows": table.num_rows, "kind": "report", "source": None})
    stats_rows = [((s, o, r), (d, b)) for x in [*summaries, *applied] for s, o, r, d, b in x["stats"]]
    stats = build_stats(stats_rows)
    stats_data = (json.dumps(stats, indent=2, sort_keys=True) + "\n").encode("utf-8")
    write_staged(out, "stats.json", stats_data)
    manifest: dict[str, Any] = {
        "config": dict(cfg),
        "stages": stages,
        "stats_sha256": hashlib.sha256(stats_data).hexdigest(),
    }
    if decontam_index:
        manifest["decontam"] = index_summary(decontam_index)
    commit(out, shards, manifest, also_move=["stats.json"])
    return stats


def index_summary(path: str) -> dict[str, Any]:
    """What a report needs of the decontamination index a run used: its items per benchmark (for rates)."""
    from curation.decontam import read_index_meta

    with open_file(path) as f:
        meta = read_index_meta(f)
    return {"index": path, "ngram": meta.get("ngram"), "items_per_benchmark": meta.get("items_per_benchmark", {})}


def output_path(out: str, relpath: str) -> str:
    """A committed file's path."""
    return join_path(out, relpath)
