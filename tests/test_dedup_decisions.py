"""Survivor decisions spread over partitions by component give the same rows as deciding everything at once."""

from __future__ import annotations

import io
from collections import defaultdict

import numpy as np
import pyarrow as pa
import pytest

from curation.lsh import EXACT_GROUP_DTYPE, NONE, cluster_decisions
from curation.schema import id_sort_key
from curation.workitems import INDEX_BITS, doc_key
from pipelines.dedup import (
    _decide_partition,
    _groups_by_component,
    _route_groups,
    _route_roots,
    ids_of,
    item_decisions,
)
from pipelines.outputs import staged_path, write_file
from pipelines.process import work_relpath

ITEMS, DOCS_PER_ITEM = 5, 400


def shuffle(pairs) -> dict[int, list]:
    """What a GroupByKey does to (partition, value) pairs."""
    grouped: dict[int, list] = defaultdict(list)
    for part, value in pairs:
        grouped[part].append(value)
    return grouped


def random_clusters(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Exact groups (rep = smallest key) and near components (chains and stars) over their reps and others."""
    keys = np.array([doc_key(i, r) for i in range(ITEMS) for r in range(DOCS_PER_ITEM)], dtype=np.uint64)
    keys = keys[rng.permutation(keys.size)]
    groups, used = [], 0
    for g in range(120):
        size = int(rng.integers(2, 5))
        members = np.sort(keys[used : used + size])
        used += size
        rows = np.zeros(size, dtype=EXACT_GROUP_DTYPE)
        rows["key"], rows["rep"], rows["h1"], rows["h2"] = members, members[0], g + 1, 7 * g
        groups.append(rows)
    exact = np.concatenate(groups)
    reps = np.unique(exact["rep"])
    pool = np.concatenate([reps, keys[used : used + 600]])
    pool = pool[rng.permutation(pool.size)]
    roots, at = [], 0
    while at < pool.size - 1:
        size = int(min(pool.size - at, rng.choice([2, 3, 5, 40])))
        nodes = pool[at : at + size]
        at += size
        roots.append(np.stack([nodes, np.full(size, nodes.min(), dtype=np.uint64)], axis=1))
    return exact, np.concatenate(roots)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_partitioned_decisions_equal_one_global_decision(tmp_path, seed):
    rng = np.random.default_rng(seed)
    out = str(tmp_path)
    exact, roots = random_clusters(rng)
    summaries = [{"ordinal": i, "priority": int(rng.integers(0, 2))} for i in range(ITEMS)]
    ids = {}
    for ordinal in range(ITEMS):
        keys = np.array([doc_key(ordinal, r) for r in range(DOCS_PER_ITEM)], dtype=np.uint64)
        names = [f"doc-{int(rng.integers(0, 10**6))}-{r}".encode() for r in range(DOCS_PER_ITEM)]
        ids.update({int(k): n.decode() for k, n in zip(keys, names, strict=True)})
        offsets = np.zeros(len(names) + 1, dtype=np.int64)
        offsets[1:] = np.cumsum([len(n) for n in names])
        buf = io.BytesIO()
        np.savez(buf, keys=keys, id_offsets=offsets, ids=np.frombuffer(b"".join(names), dtype=np.uint8))
        write_file(staged_path(out, work_relpath(f"{ordinal:07d}", ".ids.npz")), buf.getvalue())
    priority = {s["ordinal"]: s["priority"] for s in summaries}
    expected = cluster_decisions(exact, roots, lambda k: (priority[k >> INDEX_BITS], id_sort_key(ids[k])))

    total_docs = ITEMS * DOCS_PER_ITEM
    split = np.array_split(exact, 4)  # exact groups arrive as several arrays (one per hash-range partition)
    first = shuffle(
        [pair for part in split for pair in _route_groups(part, total_docs)] + list(_route_roots(roots, total_docs, 0))
    )
    second = shuffle(
        [pair for item in first.items() for pair in _groups_by_component(item, total_docs)]
        + list(_route_roots(roots, total_docs, 1))
    )
    assert len(second) > 4  # the work really is spread
    by_item = shuffle(pair for item in second.items() for pair in _decide_partition(item, out, summaries))
    got = pa.concat_tables([item_decisions(out, by_item[i]) for i in sorted(by_item)])
    assert got.num_rows == expected.size > 0
    for name in expected.dtype.names:
        assert np.array_equal(got.column(name).to_numpy(), expected[name])
    # apply reads the survivors' ids from the decision rows, not from other items' id files
    for name in ("exact_rep", "near_root"):
        want = [None if k == int(NONE) else ids[k] for k in expected[name].tolist()]
        assert got.column(f"{name}_id").to_pylist() == want


def test_ids_of_reads_only_what_is_asked_and_rejects_unknown_keys(tmp_path):
    out = str(tmp_path)
    keys = np.array([doc_key(3, 1), doc_key(3, 4)], dtype=np.uint64)
    buf = io.BytesIO()
    np.savez(buf, keys=keys, id_offsets=np.array([0, 1, 3]), ids=np.frombuffer("aé".encode(), dtype=np.uint8))
    write_file(staged_path(out, work_relpath(f"{3:07d}", ".ids.npz")), buf.getvalue())
    assert ids_of(out, [doc_key(3, 4)]) == {doc_key(3, 4): "é"}
    with pytest.raises(KeyError):
        ids_of(out, [doc_key(3, 2)])
