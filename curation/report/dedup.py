"""Dedup section: cluster-size distribution (streamed), the largest clusters and a diff of two members."""

from __future__ import annotations

import difflib
import heapq
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from curation.inspect_dedup import sentence_units
from curation.report.sample import shard_files

MAX_DIFF_UNITS = 120  # sentences of each member compared (the diff shows the changed ones with context)
MAX_LISTED = 8  # members listed per cluster


SIZE_BUCKETS = ((2, 2), (3, 3), (4, 4), (5, 5), (6, 10), (11, 20), (21, 50), (51, 100), (101, 1000), (1001, None))


def size_bucket(size: int) -> str:
    """The label of the histogram bucket holding a cluster size (`2` ... `6-10` ... `>1000`)."""
    for lo, hi in SIZE_BUCKETS:
        if hi is None or size <= hi:
            return str(lo) if lo == hi else (f"{lo}-{hi}" if hi else f">{lo - 1}")
    raise ValueError(size)


def bucket_rows(histogram: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Cluster counts per size bucket and kind (for the chart)."""
    counts: Counter[tuple[str, str]] = Counter()
    for row in histogram:
        counts[(size_bucket(row["size"]), row["kind"])] += row["clusters"]
    return [{"bucket": b, "kind": k, "clusters": n} for (b, k), n in sorted(counts.items())]


BUCKET_ORDER = [size_bucket(lo) for lo, _ in SIZE_BUCKETS]


def cluster_kind(cluster_id: str) -> str:
    """`exact` or `near` from the cluster id's prefix."""
    return cluster_id.split("-", 1)[0]


class _Unsorted(Exception):
    """The cluster table is not sorted by cluster id."""


def _sorted_runs(pf: pq.ParquetFile) -> Iterator[tuple[str, int]]:
    """`(cluster_id, members)` of a table sorted by cluster id: one run each, one row group in memory."""
    run_id, run_size = None, 0
    for i in range(pf.metadata.num_row_groups):
        ree = pc.run_end_encode(pf.read_row_group(i, columns=["cluster_id"]).column(0).combine_chunks())
        lengths = np.diff(np.concatenate(([0], ree.run_ends.to_numpy())))
        for cid, n in zip(ree.values.to_pylist(), lengths.tolist(), strict=True):
            if cid == run_id:
                run_size += n
                continue
            if run_id is not None:
                if cid < run_id:
                    raise _Unsorted
                yield run_id, run_size
            run_id, run_size = cid, n
    if run_id is not None:
        yield run_id, run_size


def _counted_runs(pf: pq.ParquetFile) -> Iterator[tuple[str, int]]:
    """`(cluster_id, members)` of an unsorted table (a dictionary of all cluster ids)."""
    sizes: Counter[str] = Counter()
    for i in range(pf.metadata.num_row_groups):
        sizes.update(pf.read_row_group(i, columns=["cluster_id"]).column(0).to_pylist())
    yield from sorted(sizes.items())


def cluster_sizes(path: Path, top: int) -> dict[str, Any]:
    """Size histogram, totals and the `top` largest clusters (largest first; near before exact on ties).

    The cluster table is sorted by cluster id, so each cluster is one run and memory stays bounded by a
    row group whatever the number of clusters; an unsorted table is counted with a dictionary instead.
    """
    pf = pq.ParquetFile(path)
    for runs in (_sorted_runs, _counted_runs):
        histogram: Counter[tuple[str, int]] = Counter()
        largest: list[tuple[int, bool, str]] = []
        try:
            for cid, size in runs(pf):
                histogram[(cluster_kind(cid), size)] += 1
                item = (size, cid.startswith("near-"), cid)
                heapq.heappush(largest, item) if len(largest) < top else heapq.heappushpop(largest, item)
        except _Unsorted:
            continue
        break
    kept = sum(
        int(pc.sum(pf.read_row_group(i, columns=["kept"]).column(0)).as_py() or 0)
        for i in range(pf.metadata.num_row_groups)
    )
    members = pf.metadata.num_rows
    return {
        "clusters": sum(histogram.values()),
        "members": members,
        "removed": members - kept,
        "histogram": [{"kind": k, "size": s, "clusters": n} for (k, s), n in sorted(histogram.items())],
        "largest": [(cid, size) for size, _, cid in sorted(largest, key=lambda t: (-t[0], not t[1], t[2]))],
    }


def cluster_members(path: Path, cluster_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Members `id, kept` of the given clusters (row groups skipped by their statistics when sorted)."""
    if not cluster_ids:
        return {}
    table = pq.read_table(path, columns=["id", "cluster_id", "kept"], filters=[("cluster_id", "in", cluster_ids)])
    out: dict[str, list[dict[str, Any]]] = {cid: [] for cid in cluster_ids}
    for row in table.to_pylist():
        out[row["cluster_id"]].append({"id": row["id"], "kept": row["kept"]})
    for rows in out.values():
        rows.sort(key=lambda r: (not r["kept"], r["id"]))
    return out


def documents_by_id(
    out: Path, ids: set[str], columns: tuple[str, ...] = ("id", "source", "text", "meta")
) -> dict[str, dict]:
    """Rows of the wanted ids from `data/` and `removed/` (shards are sorted by id: row groups are skipped)."""
    found: dict[str, dict] = {}
    wanted = pa.array(sorted(ids), type=pa.string())
    for kind in ("data", "removed"):
        files = shard_files(out, kind)
        if not files or not ids:
            continue
        table = ds.dataset(files, format="parquet").to_table(columns=list(columns), filter=pc.field("id").isin(wanted))
        for row in table.to_pylist():
            found.setdefault(row["id"], {**row, "kept": kind == "data"})
    return found


def member_diff(left: str, right: str, left_label: str, right_label: str) -> str:
    """Side-by-side HTML diff (difflib) of two members, sentence by sentence, changed parts with context."""
    a, b = sentence_units(left)[:MAX_DIFF_UNITS], sentence_units(right)[:MAX_DIFF_UNITS]
    differ = difflib.HtmlDiff(tabsize=4)
    return differ.make_table(a, b, left_label, right_label, context=True, numlines=1)


def dedup_section(out: Path, top: int = 5) -> dict[str, Any] | None:
    """Everything the dedup section shows, or None when the run has no cluster table."""
    path = out / "dedup" / "clusters.parquet"
    if not path.is_file():
        return None
    summary = cluster_sizes(path, top)
    members = cluster_members(path, [cid for cid, _ in summary["largest"]])
    pairs = {cid: (rows[0]["id"], rows[1]["id"]) for cid, rows in members.items() if len(rows) > 1}
    listed = {r["id"] for rows in members.values() for r in rows[:MAX_LISTED]}
    docs = documents_by_id(out, listed | {i for pair in pairs.values() for i in pair})
    clusters = []
    for cid, size in summary["largest"]:
        rows = [{**r, "source": docs.get(r["id"], {}).get("source", "?")} for r in members.get(cid, [])]
        entry = {
            "cluster_id": cid,
            "kind": cluster_kind(cid),
            "size": size,
            "members": rows[:MAX_LISTED],
            "more": max(0, size - MAX_LISTED),
        }
        if cid in pairs and all(i in docs for i in pairs[cid]):
            kept_id, other_id = pairs[cid]
            meta = json.loads(docs[other_id].get("meta") or "{}")
            entry["diff"] = member_diff(
                docs[kept_id]["text"],
                docs[other_id]["text"],
                f"{kept_id} (kept)",
                f"{other_id} ({'kept' if docs[other_id]['kept'] else 'removed'})",
            )
            entry["duplicate_of"] = meta.get("duplicate_of")
        clusters.append(entry)
    return {**summary, "largest": clusters}
