"""Cross-document dedup over the compact features phase one wrote: only integer keys and hashes move.

Steps (each spread over workers; see docs/dedup.md):
1. exact partitions: every worker reads one hash range of every item's exact rows -> groups of equal text;
2. band partitions: same for LSH band rows, minus exact duplicates -> candidate pairs;
3. payloads: each item with candidates writes their ids and shingle sets (verification payloads exist only
   for candidate documents);
4. verification partitions: candidate pairs -> pairs whose true Jaccard >= threshold;
5. connected components (large-star/small-star, `curation/components.py`) -> a survivor per cluster;
6. decisions grouped by item, for the apply step.
Documents are never shuffled: the apply step re-reads each item's staged shard once.
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import apache_beam as beam
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.metrics import Metrics

from curation import components as cc
from curation.lsh import (
    DECISION_DTYPE,
    EXACT_GROUP_DTYPE,
    NONE,
    bucket_pairs,
    cluster_decisions,
    drop_keys,
    exact_groups,
    sorted_jaccard,
    unique_pairs,
)
from curation.memory import release_memory
from curation.minhash import estimated_jaccard, params_from_config, shingle_hashes_raw, signature_from_shingles
from curation.schema import id_sort_key
from curation.workitems import INDEX_BITS
from pipelines.io import open_file
from pipelines.outputs import staged_path, write_file
from pipelines.process import BAND_DTYPE, EXACT_DTYPE, FINE_BUCKETS, npy_bytes, work_relpath

VERIFY_MODES = ("jaccard", "signature", "none")
# 500k rows (8 MB of band rows, ~35 MB working set in bucket_pairs) is what a 100k-document run has per
# partition, so a step's memory stays at that size for bigger corpora (2M rows: ~125 MB, measured).
ROWS_PER_PARTITION = 500_000
MIN_PARTITIONS = 4
DOCS_PER_VERIFY_PARTITION = 250_000
# A candidate pair as one row of a 1-D array (so a file of pairs is read by row ranges like the others).
PAIR_DTYPE = np.dtype([("a", "<u8"), ("b", "<u8")])


def verify_mode(section: Mapping[str, Any]) -> str:
    """Normalise `dedup.verify`: true -> 'jaccard' (exact shingle Jaccard), false -> 'none'."""
    value = section["verify"]
    if value is True:
        return "jaccard"
    if value is False or value is None:
        return "none"
    if value not in VERIFY_MODES:
        raise ValueError(f"dedup.verify must be one of {VERIFY_MODES} or a bool, got {value!r}")
    return value


# ---- file access ----------------------------------------------------------------------------------------


def read_npy(path: str) -> np.ndarray:
    """A whole .npy file from any filesystem."""
    with open_file(path) as f:
        return np.load(io.BytesIO(f.read()), allow_pickle=False)


def read_npy_rows(path: str, start: int, stop: int) -> np.ndarray:
    """Rows [start, stop) of a 1-D .npy file, reading only their bytes."""
    with open_file(path) as f:
        version = np.lib.format.read_magic(f)
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        _shape, _fortran, dtype = read_header(f)
        header_end = f.tell()
        if stop <= start:
            return np.empty(0, dtype=dtype)
        f.seek(header_end + start * dtype.itemsize)
        data = f.read((stop - start) * dtype.itemsize)
    return np.frombuffer(data, dtype=dtype).copy()


def partition_bounds(index: int, parts: int) -> tuple[int, int]:
    """Fine-bucket range [lo, hi) of coarse partition `index` of `parts`."""
    return index * FINE_BUCKETS // parts, (index + 1) * FINE_BUCKETS // parts


def read_partition(out: str, summaries: Iterable[Mapping[str, Any]], feature: str, index: int, parts: int, dtype):
    """This partition's hash range of one feature (exact or bands) from every item."""
    lo, hi = partition_bounds(index, parts)
    chunks = []
    for s in summaries:
        ref = s.get(feature)
        if not ref:
            continue
        offsets = read_npy(staged_path(out, ref["index"]))
        if offsets[hi] > offsets[lo]:
            chunks.append(read_npy_rows(staged_path(out, ref["path"]), int(offsets[lo]), int(offsets[hi])))
    return np.concatenate(chunks) if chunks else np.empty(0, dtype=dtype)


def partitions_for(rows: int) -> int:
    """How many coarse partitions a feature with `rows` rows is cut into."""
    return max(MIN_PARTITIONS, min(FINE_BUCKETS, math.ceil(rows / ROWS_PER_PARTITION)))


# ---- payloads -------------------------------------------------------------------------------------------
def rows_at(path: str, positions: np.ndarray, columns: list[str]) -> Iterator[tuple]:
    """The given columns of a staged shard's rows at sorted `positions`, one row group in memory at a time."""
    with open_file(path) as f:
        shard = pq.ParquetFile(f)
        start = 0
        for group in range(shard.num_row_groups):
            n = shard.metadata.row_group(group).num_rows
            lo, hi = np.searchsorted(positions, [start, start + n])
            if hi > lo:
                table = shard.read_row_group(group, columns=columns)
                local = pa.array(positions[lo:hi] - start)
                yield from zip(*(table.column(c).take(local).to_pylist() for c in columns), strict=True)
            start += n


def write_payload(out: str, ordinal: int, keys: np.ndarray, cfg: Mapping[str, Any]) -> int:
    """Ids and verification payloads of one item's candidate documents (`keys`, sorted unique).

    Two files: `<key>.ids.npz` (keys, ids) for survivor choice and reports, and `<key>.payload.npy` plus
    `<key>.payload.idx.npy` (keys, offsets) so that a verification step reads only the payloads it needs.
    """
    section = cfg["dedup"]
    mode = verify_mode(section)
    params = params_from_config(section)
    key = f"{ordinal:07d}"
    positions = (keys & np.uint64((1 << INDEX_BITS) - 1)).astype(np.int64)
    shard = staged_path(out, work_relpath(key, ".parquet"))
    columns = ["id"] if mode == "none" else ["id", "text"]
    ids: list[str] = []
    blobs: list[np.ndarray] = []
    for row in rows_at(shard, positions, columns):
        ids.append(row[0])
        if mode == "none":
            continue
        shingles = shingle_hashes_raw(row[1], params)
        if mode == "jaccard":
            blobs.append(np.unique((shingles >> np.uint64(32)).astype(np.uint32)))
        else:
            blobs.append(signature_from_shingles(shingles, params))
    if len(ids) != keys.size:
        raise ValueError(f"item {key}: {keys.size} candidate keys, but only {len(ids)} rows in its staged shard")
    id_bytes = [i.encode("utf-8", "surrogatepass") for i in ids]
    id_offsets = np.zeros(len(id_bytes) + 1, dtype=np.int64)
    id_offsets[1:] = np.cumsum([len(b) for b in id_bytes])
    buf = io.BytesIO()
    np.savez(buf, keys=keys, id_offsets=id_offsets, ids=np.frombuffer(b"".join(id_bytes), dtype=np.uint8))
    write_file(staged_path(out, work_relpath(key, ".ids.npz")), buf.getvalue())
    if mode == "none":
        release_memory()
        return ordinal
    offsets = np.zeros(len(blobs) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([b.size for b in blobs])
    payload = np.concatenate(blobs).astype(np.uint32) if blobs else np.empty(0, dtype=np.uint32)
    write_file(staged_path(out, work_relpath(key, ".payload.npy")), npy_bytes(payload))
    index = np.zeros(keys.size, dtype=[("key", "<u8"), ("start", "<i8"), ("stop", "<i8")])
    index["key"], index["start"], index["stop"] = keys, offsets[:-1], offsets[1:]
    write_file(staged_path(out, work_relpath(key, ".payload.idx.npy")), npy_bytes(index))
    del blobs, payload
    release_memory()
    return ordinal


def read_npy_ranges(path: str, ranges: Sequence[tuple[int, int]], gap: int = 1 << 16) -> list[np.ndarray]:
    """Rows [start, stop) of a 1-D .npy file for each range, reading nearby ranges in one go (each its own copy)."""
    with open_file(path) as f:
        version = np.lib.format.read_magic(f)
        read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        _shape, _fortran, dtype = read_header(f)
        base = f.tell()
        out: list[np.ndarray | None] = [None] * len(ranges)
        order = sorted(range(len(ranges)), key=lambda i: ranges[i][0])
        i = 0
        while i < len(order):
            j, lo, hi = i, ranges[order[i]][0], ranges[order[i]][1]
            while j + 1 < len(order) and ranges[order[j + 1]][0] * dtype.itemsize - hi * dtype.itemsize <= gap:
                j += 1
                hi = max(hi, ranges[order[j]][1])
            f.seek(base + lo * dtype.itemsize)
            block = np.frombuffer(f.read((hi - lo) * dtype.itemsize), dtype=dtype)
            for k in order[i : j + 1]:
                start, stop = ranges[k]
                out[k] = block[start - lo : stop - lo].copy()  # a view would keep the whole block alive
            i = j + 1
    return [a if a is not None else np.empty(0, dtype=dtype) for a in out]


def split_by_item(rows: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
    """(item ordinal, its part) of document keys, or of rows with a `key` field, sorted by key."""
    keys = rows["key"] if rows.dtype.names else rows
    if keys.size == 0:
        return
    items = (keys >> np.uint64(INDEX_BITS)).astype(np.int64)
    bounds = np.flatnonzero(np.diff(items)) + 1
    yield from zip(items[np.r_[0, bounds]].tolist(), np.split(rows, bounds), strict=True)


def ids_of(out: str, keys: Iterable[int]) -> dict[int, str]:
    """Document ids of the given clustered documents, reading one item's id file at a time."""
    wanted = np.unique(np.fromiter((int(k) for k in keys), dtype=np.uint64))
    found: dict[int, str] = {}
    for ordinal, keys_here in split_by_item(wanted):
        with open_file(staged_path(out, work_relpath(f"{ordinal:07d}", ".ids.npz"))) as f:
            data = np.load(io.BytesIO(f.read()), allow_pickle=False)
            stored, offsets, blob = data["keys"], data["id_offsets"], data["ids"]
        rows = np.searchsorted(stored, keys_here)
        for key, row in zip(keys_here.tolist(), rows.tolist(), strict=True):
            if row >= stored.size or int(stored[row]) != key:
                raise KeyError(f"no id stored for document key {key}")
            found[key] = bytes(blob[offsets[row] : offsets[row + 1]]).decode("utf-8", "surrogatepass")
    return found


def load_payloads(out: str, keys: np.ndarray) -> dict[int, np.ndarray]:
    """Verification payloads of the given document keys, reading only their slices of each item's file."""
    found: dict[int, np.ndarray] = {}
    for ordinal, wanted in split_by_item(np.unique(keys.astype(np.uint64))):
        name = f"{ordinal:07d}"
        index = read_npy(staged_path(out, work_relpath(name, ".payload.idx.npy")))
        rows = np.searchsorted(index["key"], wanted)
        rows = rows[(rows < index.size) & (index["key"][np.minimum(rows, index.size - 1)] == wanted)]
        ranges = [(int(index["start"][r]), int(index["stop"][r])) for r in rows]
        slices = read_npy_ranges(staged_path(out, work_relpath(name, ".payload.npy")), ranges)
        for r, data in zip(rows.tolist(), slices, strict=True):
            found[int(index["key"][r])] = data
    return found


def verify_pairs(out: str, pairs: np.ndarray, mode: str, threshold: float) -> np.ndarray:
    """The candidate pairs whose payloads are at least `threshold` similar."""
    if mode == "none" or pairs.size == 0:
        return pairs
    payloads = load_payloads(out, pairs.reshape(-1))
    measure = sorted_jaccard if mode == "jaccard" else estimated_jaccard
    keep = np.fromiter(
        (measure(payloads[a], payloads[b]) >= threshold for a, b in pairs.tolist()), dtype=bool, count=pairs.shape[0]
    )
    del payloads
    release_memory()
    return pairs[keep]


# ---- Beam steps -----------------------------------------------------------------------------------------
def _range_partitions(total_rows: int) -> Iterator[tuple[int, int]]:
    parts = partitions_for(total_rows)
    for i in range(parts):
        yield i, parts


def _hash_range_step(summaries, feature: str, label: str, step, *args):
    """`step(partition, *args)` on every hash-range partition of `feature`, spread over workers.

    The number of partitions follows the feature's total rows (`partitions_for`), so no step holds more
    than `ROWS_PER_PARTITION` rows.
    """
    return (
        summaries
        | f"{label}Rows" >> beam.Map(lambda s: (s.get(feature) or {}).get("rows", 0))
        | f"{label}Total" >> beam.CombineGlobally(sum)
        | f"{label}Parts" >> beam.FlatMap(_range_partitions)
        | f"{label}Spread" >> beam.Reshuffle()
        | label >> beam.FlatMap(step, *args)
    )


def _exact_partition(part: tuple[int, int], out: str, summaries: list) -> Iterator[np.ndarray]:
    rows = read_partition(out, summaries, "exact", part[0], part[1], EXACT_DTYPE)
    groups = exact_groups(rows)
    del rows
    release_memory()
    if groups.size:
        Metrics.counter("dedup", "exact_duplicates").inc(int((groups["key"] != groups["rep"]).sum()))
        yield groups


def _band_partition(
    part: tuple[int, int], out: str, summaries: list, excluded: np.ndarray, all_pairs_up_to: int, total_docs: int
) -> Iterator[tuple[int, tuple[str, int, int]]]:
    """(verification partition, (pair file, start, stop)) for each verification partition this one feeds.

    The pairs go to one staged file, grouped by verification partition, and only file references are
    shuffled: the runner never holds the candidate pairs (at 1M documents ~500k raw pairs before deduplication).
    """
    rows = drop_keys(read_partition(out, summaries, "bands", part[0], part[1], BAND_DTYPE), excluded)
    pairs = bucket_pairs(rows, all_pairs_up_to)
    del rows
    release_memory()
    if pairs.size == 0:
        return
    Metrics.counter("dedup", "near_candidate_pairs").inc(int(pairs.shape[0]))
    relpath = f"work/pairs/{part[0]:05d}.npy"
    parts = verify_partitions(total_docs)
    part_of = cc.partition_of(pairs[:, 0] ^ (pairs[:, 1] << np.uint64(1)), parts)
    yield from _write_grouped(out, relpath, np.ascontiguousarray(pairs).view(PAIR_DTYPE).reshape(-1), part_of)


def _write_grouped(
    out: str, relpath: str, rows: np.ndarray, group: np.ndarray
) -> Iterator[tuple[int, tuple[str, int, int]]]:
    """Write `rows` ordered by `group` to one staged file; (group, (relpath, start, stop)) for each group in it."""
    order = np.argsort(group, kind="stable")
    rows, group = rows[order], group[order]
    write_file(staged_path(out, relpath), npy_bytes(rows))
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    stops = np.r_[starts[1:], group.size]
    for g, start, stop in zip(group[starts].tolist(), starts.tolist(), stops.tolist(), strict=True):
        yield int(g), (relpath, start, stop)


def _pairs_for(refs: Iterable[tuple[str, int, int]], out: str) -> np.ndarray:
    """One verification partition's candidate pairs, read from the band partitions' files, deduplicated."""
    chunks = (read_npy_rows(staged_path(out, relpath), start, stop) for relpath, start, stop in sorted(refs))
    return unique_pairs(_concat(a.view(np.uint64).reshape(-1, 2) for a in chunks))


def _excluded_keys(groups: list[np.ndarray]) -> np.ndarray:
    """Sorted keys of exact duplicates that are not their group's survivor (left out of near dedup)."""
    if not groups:
        return np.empty(0, dtype=np.uint64)
    allg = np.concatenate(groups)
    return np.sort(allg["key"][allg["key"] != allg["rep"]])


def _needed_by_item(array: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
    """(item ordinal, keys) for every key of a pair array or exact-group array."""
    keys = array["key"] if array.dtype.names else array.reshape(-1)
    yield from split_by_item(np.unique(keys.astype(np.uint64)))


def verify_partitions(total_docs: int) -> int:
    """How many verification partitions: their payload memory grows with the corpus, so their number does."""
    return max(16, math.ceil(total_docs / DOCS_PER_VERIFY_PARTITION))


def _route_edges(edges: np.ndarray, parts: int) -> Iterator[tuple[int, np.ndarray]]:
    for i, group in enumerate(cc.route(edges, parts)):
        if group.size:
            yield i, group


def _concat(arrays: Iterable[np.ndarray]) -> np.ndarray:
    arrays = [a for a in arrays if a.size]
    return np.concatenate(arrays) if arrays else np.empty((0, 2), dtype=np.uint64)


class ConnectedComponents(beam.PTransform):
    """Edge arrays -> one (node, root) array: large-star/small-star rounds spread over workers, then a finish."""

    def __init__(self, rounds: int = 4, parts: int = 16):
        super().__init__()
        self.rounds, self.parts = rounds, parts

    def expand(self, edges):
        current = edges | "Canonical" >> beam.Map(cc.canonical)
        for r in range(self.rounds):
            for kind in ("large", "small"):
                current = (
                    current
                    | f"Route{kind}{r}" >> beam.FlatMap(_route_edges, self.parts)
                    | f"Group{kind}{r}" >> beam.GroupByKey()
                    | f"Star{kind}{r}" >> beam.MapTuple(lambda _p, groups, k=kind: cc.star_step(_concat(groups), k))
                )
        return (
            current
            | "AllEdges" >> beam.combiners.ToList()
            | "Finish" >> beam.Map(lambda arrays: cc.finish_components(*cc.split_settled(_concat(arrays))))
        )


def _component_parts(total_docs: int) -> int:
    """How many partitions decide survivors: one component's documents all land in the same one."""
    return verify_partitions(total_docs)


def _route_roots(roots: np.ndarray, total_docs: int, by: int) -> Iterator[tuple[int, tuple[str, np.ndarray]]]:
    """(partition, ("near", rows)) for (node, root) rows, routed by column `by` (0: node, 1: root)."""
    if roots.size == 0:
        return
    part = cc.partition_of(roots[:, by], _component_parts(total_docs))
    for i in np.unique(part).tolist():
        yield i, ("near", roots[part == i])


def _route_groups(groups: np.ndarray, total_docs: int) -> Iterator[tuple[int, tuple[str, np.ndarray]]]:
    """(partition, ("exact", rows)) for exact-group rows, routed by their group's smallest key (`rep`)."""
    if groups.size == 0:
        return
    part = cc.partition_of(groups["rep"], _component_parts(total_docs))
    for i in np.unique(part).tolist():
        yield i, ("exact", groups[part == i])


def _tagged(tagged: Iterable[tuple[str, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Concatenated (exact-group rows, near (node, root) rows) of a partition's tagged arrays."""
    exact = [a for tag, a in tagged if tag == "exact" and a.size]
    near = [a for tag, a in tagged if tag == "near" and a.size]
    return (
        np.concatenate(exact) if exact else np.empty(0, dtype=EXACT_GROUP_DTYPE),
        np.concatenate(near) if near else np.empty((0, 2), dtype=np.uint64),
    )


def _groups_by_component(
    part_rows: tuple[int, Iterable], total_docs: int
) -> Iterator[tuple[int, tuple[str, np.ndarray]]]:
    """Re-route one partition's exact groups by the near component their survivor candidate (`rep`) is in."""
    groups, roots = _tagged(part_rows[1])
    if groups.size == 0:
        return
    component = groups["rep"].copy()
    if roots.size:
        roots = roots[np.argsort(roots[:, 0], kind="stable")]
        pos = np.minimum(np.searchsorted(roots[:, 0], component), roots.shape[0] - 1)
        hit = roots[pos, 0] == component
        component[hit] = roots[pos[hit], 1]
    part = cc.partition_of(component, _component_parts(total_docs))
    for i in np.unique(part).tolist():
        yield i, ("exact", groups[part == i])


# Decision rows as the apply step reads them: the rows of `cluster_decisions` plus the ids of the exact and
# near survivor (null where the document is in no such cluster), so that apply reads no other item's files.
DECISION_SCHEMA = pa.schema(
    [(name, pa.uint64()) for name in DECISION_DTYPE.names or ()]
    + [("exact_rep_id", pa.string()), ("near_root_id", pa.string())]
)


def decision_batch(rows: np.ndarray, ids: Mapping[int, str]) -> pa.RecordBatch:
    """Decision rows with their survivors' ids, as one record batch of `DECISION_SCHEMA`."""
    none = int(NONE)
    columns = [pa.array(rows[name]) for name in DECISION_DTYPE.names or ()]
    for name in ("exact_rep", "near_root"):
        columns.append(pa.array([None if k == none else ids[k] for k in rows[name].tolist()], pa.string()))
    return pa.RecordBatch.from_arrays(columns, schema=DECISION_SCHEMA)


def _decide_partition(
    part_rows: tuple[int, Iterable], out: str, summaries: list, _ready=None
) -> Iterator[tuple[int, tuple[str, int]]]:
    """(item ordinal, (decision file, batch)) for the whole components of one partition.

    Survivors are ranked by priority and id. The decision rows go to one staged Arrow file per partition, one
    record batch per item, and only file references are shuffled to the apply step.
    """
    q, tagged = part_rows
    exact, near = _tagged(tagged)
    priority = {s["ordinal"]: s["priority"] for s in summaries}
    ids = ids_of(out, np.concatenate([exact["key"], near.reshape(-1)]).tolist())

    def rank(key: int) -> tuple:
        return priority[key >> INDEX_BITS], id_sort_key(ids[key])

    rows = cluster_decisions(exact, near, rank)
    if rows.size == 0:
        return
    relpath = f"work/decisions/{q:05d}.arrow"
    sink = pa.BufferOutputStream()
    ordinals = []
    with pa.ipc.new_file(sink, DECISION_SCHEMA) as writer:
        for ordinal, chunk in split_by_item(rows):
            writer.write_batch(decision_batch(chunk, ids))
            ordinals.append(ordinal)
    write_file(staged_path(out, relpath), sink.getvalue().to_pybytes())
    for batch, ordinal in enumerate(ordinals):
        yield ordinal, (relpath, batch)


def item_decisions(out: str, refs: Iterable[tuple[str, int]]) -> pa.Table | None:
    """One item's decision rows (`DECISION_SCHEMA`) from the partitions that decided them, sorted by key."""
    batches = []
    for relpath, batch in sorted(refs):
        with open_file(staged_path(out, relpath)) as f:  # reads the footer and this batch, not the whole file
            batches.append(pa.ipc.open_file(f).get_batch(batch))
    if not batches:
        return None
    return pa.Table.from_batches(batches, schema=DECISION_SCHEMA).sort_by("key")


class NearDuplicates(beam.PTransform):
    """Item summaries -> (item ordinal, decision rows) for every item with documents in a duplicate cluster."""

    def __init__(self, out: str, cfg: Mapping[str, Any]):
        super().__init__()
        self.out = out
        self.cfg = cfg
        section = cfg["dedup"]
        self.mode = verify_mode(section)
        self.threshold = float(section["threshold"])
        self.all_pairs_up_to = int(section["all_pairs_up_to"])
        self.exact_on = bool(section["exact"])
        self.near_on = bool(section["near"])

    def expand(self, summaries):
        out = self.out
        listed = beam.pvalue.AsList(summaries)
        p = summaries.pipeline
        empty_groups = p | "NoExact" >> beam.Create([np.empty(0, dtype=EXACT_GROUP_DTYPE)])
        total_docs = summaries | "ItemDocs" >> beam.Map(lambda s: s["rows"]) | "TotalDocs" >> beam.CombineGlobally(sum)
        if self.exact_on:
            groups = _hash_range_step(summaries, "exact", "ExactGroups", _exact_partition, out, listed)
            groups = (groups, empty_groups) | "WithEmptyExact" >> beam.Flatten()
        else:
            groups = empty_groups
        excluded = groups | "AllExact" >> beam.combiners.ToList() | "Excluded" >> beam.Map(_excluded_keys)
        if self.near_on:
            excluded_keys = beam.pvalue.AsSingleton(excluded)
            pairs = (
                _hash_range_step(
                    summaries,
                    "bands",
                    "BandPairs",
                    _band_partition,
                    out,
                    listed,
                    excluded_keys,
                    self.all_pairs_up_to,
                    beam.pvalue.AsSingleton(total_docs),
                )
                | "GroupPairRefs" >> beam.GroupByKey()
                | "UniquePairs" >> beam.MapTuple(lambda _q, refs: _pairs_for(refs, out))
            )
        else:
            pairs = p | "NoPairs" >> beam.Create([np.empty((0, 2), dtype=np.uint64)])
        needed = (
            (
                groups | "ExactNeeds" >> beam.FlatMap(_needed_by_item),
                pairs | "PairNeeds" >> beam.FlatMap(_needed_by_item),
            )
            | "AllNeeds" >> beam.Flatten()
            | "NeedsByItem" >> beam.GroupByKey()
            | "WritePayloads"
            >> beam.MapTuple(
                lambda ordinal, arrays: write_payload(out, ordinal, np.unique(np.concatenate(list(arrays))), self.cfg)
            )
        )
        ready = beam.pvalue.AsList(needed)
        mode, threshold = self.mode, self.threshold
        edges = pairs | "Verify" >> beam.Map(lambda arr, _ready: verify_pairs(out, arr, mode, threshold), ready)
        roots = edges | "Components" >> ConnectedComponents()
        docs = beam.pvalue.AsSingleton(total_docs)
        # Survivors are decided per component, spread over partitions: exact groups first meet the near
        # rows of their `rep` (partitioned by node), then every row goes to its component root's partition.
        joined = (
            (
                groups | "GroupsByRep" >> beam.FlatMap(_route_groups, docs),
                roots | "RootsByNode" >> beam.FlatMap(_route_roots, docs, 0),
            )
            | "JoinRepRoots" >> beam.Flatten()
            | "GroupRepRoots" >> beam.GroupByKey()
            | "GroupsByComponent" >> beam.FlatMap(_groups_by_component, docs)
        )
        return (
            (joined, roots | "RootsByComponent" >> beam.FlatMap(_route_roots, docs, 1))
            | "AllByComponent" >> beam.Flatten()
            | "GroupComponents" >> beam.GroupByKey()
            | "Decisions" >> beam.FlatMap(_decide_partition, out, listed, ready)
        )


def cluster_id_exact(h1: int, h2: int) -> str:
    """The exact-cluster id (same digest as `curation.text.exact_dedup_key`)."""
    return "exact-" + (int(h1).to_bytes(8, "little") + int(h2).to_bytes(8, "little")).hex()


def dump_json(obj: Any) -> str:
    """Compact JSON (for small report rows)."""
    return json.dumps(obj, sort_keys=True)


__all__ = ["NearDuplicates", "ConnectedComponents", "cluster_id_exact", "item_decisions", "npy_bytes"]
