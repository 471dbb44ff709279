"""Deterministic sharded writers (Parquet documents, JSONL dead letters) and the run's stats/manifest."""

from __future__ import annotations

import hashlib
import io
import json
import math
from collections.abc import Iterable, Mapping
from typing import Any

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems

from curation.schema import Document, Failure, document_schema, documents_to_table
from curation.stats import build_stats


def stable_shard(key: str, num_shards: int) -> int:
    """Shard index from a stable hash (same on every run and worker, unlike `hash()`)."""
    digest = hashlib.blake2b(key.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % num_shards


def shard_count(rows: int, per_shard: int) -> int:
    """Number of shards for `rows` rows at most `per_shard` each (at least one)."""
    return max(1, math.ceil(rows / max(1, per_shard)))


def shard_name(index: int, total: int, ext: str) -> str:
    """`part-NNNNN-of-MMMMM.<ext>`."""
    return f"part-{index:05d}-of-{total:05d}.{ext}"


def join(*parts: str) -> str:
    """Join path parts with '/', for local paths and object-store URLs alike."""
    return "/".join(p.strip("/") if i else p.rstrip("/") for i, p in enumerate(parts))


def _write_bytes(out_dir: str, relpath: str, data: bytes) -> dict[str, Any]:
    """Write a whole file under `out_dir` through Beam's FileSystems; describe it for the manifest."""
    with FileSystems.create(join(out_dir, relpath)) as f:
        f.write(data)
    return {"path": relpath, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}


def parquet_bytes(docs: list[Document], schema: pa.Schema, row_group_rows: int, compression: str) -> bytes:
    """Serialise documents (already sorted) to Parquet bytes with bounded row groups."""
    table = documents_to_table(docs, schema)
    buf = io.BytesIO()
    pq.write_table(table, buf, row_group_size=row_group_rows, compression=compression, write_statistics=True)
    return buf.getvalue()


class WriteDocumentShards(beam.PTransform):
    """Documents -> `<dir>/<source>/part-*.parquet`, shard by stable id hash, rows sorted by id.

    Emits one manifest entry per written shard.
    """

    def __init__(self, out_dir: str, kind: str, signal_names: list[str], output_cfg: Mapping[str, Any]):
        super().__init__()
        self.out_dir = out_dir
        self.kind = kind
        self.schema = document_schema(signal_names, with_reason=(kind == "removed"))
        self.per_shard = int(output_cfg.get("docs_per_shard", 50000))
        self.row_group_rows = int(output_cfg.get("row_group_rows", 2000))
        self.compression = str(output_cfg.get("compression", "zstd"))

    def expand(self, docs):
        counts = (
            docs | "SourceOf" >> beam.Map(lambda d: d.source) | "CountPerSource" >> beam.combiners.Count.PerElement()
        )
        per_shard = self.per_shard

        def assign(doc: Document, counts: Mapping[str, int]):
            total = shard_count(counts[doc.source], per_shard)
            return (doc.source, stable_shard(doc.id, total), total), doc

        return (
            docs
            | "AssignShard" >> beam.Map(assign, counts=beam.pvalue.AsDict(counts))
            | "GroupShard" >> beam.GroupByKey()
            | "WriteShard" >> beam.MapTuple(self._write)
        )

    def _write(self, key: tuple[str, int, int], docs: Iterable[Document]) -> dict[str, Any]:
        source, index, total = key
        rows = sorted(docs, key=lambda d: d.id)
        data = parquet_bytes(rows, self.schema, self.row_group_rows, self.compression)
        entry = _write_bytes(self.out_dir, join(self.kind, source, shard_name(index, total, "parquet")), data)
        entry.update(kind=self.kind, source=source, rows=len(rows))
        return entry


class WriteFailures(beam.PTransform):
    """Failures -> `OUT/failed/part-*.jsonl`, sorted, sharded by location hash."""

    def __init__(self, out_dir: str, per_shard: int = 100000):
        super().__init__()
        self.out_dir = out_dir
        self.per_shard = per_shard

    def expand(self, failures):
        total = failures | "CountFailures" >> beam.combiners.Count.Globally()
        per_shard = self.per_shard

        def assign(f: Failure, total: int):
            n = shard_count(total, per_shard)
            return (stable_shard(f.source_location + f.error, n), n), f

        return (
            failures
            | "AssignShard" >> beam.Map(assign, total=beam.pvalue.AsSingleton(total))
            | "GroupShard" >> beam.GroupByKey()
            | "WriteShard" >> beam.MapTuple(self._write)
        )

    def _write(self, key: tuple[int, int], failures: Iterable[Failure]) -> dict[str, Any]:
        index, total = key
        rows = sorted(failures, key=lambda f: (f.source, f.source_location, f.stage, f.error))
        data = "".join(f.to_json() + "\n" for f in rows).encode("utf-8")
        entry = _write_bytes(self.out_dir, join("failed", shard_name(index, total, "jsonl")), data)
        entry.update(kind="failed", source=None, rows=len(rows))
        return entry


def outcome_row(kind: str, item: Document | Failure) -> tuple[tuple[str, str, str], tuple[int, int]]:
    """((source, outcome, reason), (docs, bytes)) for the stats combine."""
    if isinstance(item, Failure):
        return (item.source, kind, item.stage if kind == "failed" else ""), (1, item.nbytes)
    reason = (item.reason or "") if kind == "removed" else ""
    return (item.source, kind, reason), (1, item.nbytes)


def sum_pairs(pairs: Iterable[tuple[int, int]]) -> tuple[int, int]:
    """Element-wise sum of (docs, bytes) pairs."""
    docs = nbytes = 0
    for d, b in pairs:
        docs += d
        nbytes += b
    return docs, nbytes


def write_run_summary(
    _, out_dir: str, stats_rows: list, shards: list, effective_cfg: Mapping[str, Any], stages: list[str] | None
) -> dict:
    """Write `stats.json` and `manifest.json` once all shards exist; returns the stats."""
    stats = build_stats(stats_rows)
    stats_data = (json.dumps(stats, indent=2, sort_keys=True) + "\n").encode("utf-8")
    _write_bytes(out_dir, "stats.json", stats_data)
    manifest = {
        "shards": sorted(shards, key=lambda s: s["path"]),
        "config": effective_cfg,
        "stages": stages,
        "stats_sha256": hashlib.sha256(stats_data).hexdigest(),
    }
    manifest_data = (json.dumps(manifest, indent=2, sort_keys=True, default=str) + "\n").encode("utf-8")
    _write_bytes(out_dir, "manifest.json", manifest_data)
    return stats


def write_clusters_bytes(rows: list[dict[str, Any]]) -> bytes:
    """Parquet bytes of the dedup cluster table `id, cluster_id, kept`, sorted."""
    rows = sorted(rows, key=lambda r: (r["cluster_id"], r["id"]))
    schema = pa.schema([("id", pa.string()), ("cluster_id", pa.string()), ("kept", pa.bool_())])
    table = pa.Table.from_pylist(rows, schema=schema)
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd")
    return buf.getvalue()


def write_table_file(_, out_dir: str, relpath: str, rows: list[dict[str, Any]], to_bytes) -> dict[str, Any]:
    """Write one small table file (cluster or match report) and describe it for the manifest."""
    entry = _write_bytes(out_dir, relpath, to_bytes(rows))
    entry.update(kind="report", source=None, rows=len(rows))
    return entry
