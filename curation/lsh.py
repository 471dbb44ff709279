"""Duplicate candidates from compact dedup features: exact-hash groups and LSH bucket pairs (pure numpy).

Inputs are the structured arrays the per-item phase writes (see `pipelines/process.py`): exact rows
`(h1, h2, key)` and band rows `(h, key)`, where `key` is a document key (`curation.workitems.doc_key`):
a smaller key is the document that survives. No per-row Python on the hot path.
"""

from __future__ import annotations

import numpy as np

NONE = np.uint64(np.iinfo(np.uint64).max)
EXACT_GROUP_DTYPE = np.dtype([("key", "<u8"), ("rep", "<u8"), ("h1", "<u8"), ("h2", "<u8")])


def _run_starts(*columns: np.ndarray) -> np.ndarray:
    """Boolean mask of rows that start a new run of equal values in sorted columns."""
    n = columns[0].size
    start = np.ones(n, dtype=bool)
    if n > 1:
        change = np.zeros(n - 1, dtype=bool)
        for col in columns:
            change |= col[1:] != col[:-1]
        start[1:] = change
    return start


def exact_groups(rows: np.ndarray) -> np.ndarray:
    """Members of every exact-hash group with two or more documents, each with its group's smallest key."""
    if rows.size == 0:
        return np.empty(0, dtype=EXACT_GROUP_DTYPE)
    rows = np.sort(rows, order=("h1", "h2", "key"))
    starts = _run_starts(rows["h1"], rows["h2"])
    group = np.cumsum(starts) - 1
    sizes = np.bincount(group)
    multi = sizes[group] > 1
    first_key = rows["key"][np.flatnonzero(starts)]
    out = np.empty(int(multi.sum()), dtype=EXACT_GROUP_DTYPE)
    out["key"] = rows["key"][multi]
    out["rep"] = first_key[group[multi]]
    out["h1"], out["h2"] = rows["h1"][multi], rows["h2"][multi]
    return out


def drop_keys(rows: np.ndarray, excluded: np.ndarray) -> np.ndarray:
    """Rows whose `key` is not in the sorted array `excluded`."""
    if excluded.size == 0 or rows.size == 0:
        return rows
    pos = np.searchsorted(excluded, rows["key"])
    hit = excluded[np.minimum(pos, excluded.size - 1)] == rows["key"]
    return rows[~hit]


def bucket_pairs(rows: np.ndarray, all_pairs_up_to: int = 16) -> np.ndarray:
    """Candidate pairs (a < b) of documents sharing an LSH bucket, unique.

    A bucket of up to `all_pairs_up_to` members gives every pair (keeps recall when a member's match
    is rejected by verification); a larger one links every member to its smallest key (O(k) pairs).
    """
    if rows.size < 2:
        return np.empty((0, 2), dtype=np.uint64)
    rows = np.sort(rows, order=("h", "key"))
    starts = _run_starts(rows["h"])
    group = np.cumsum(starts) - 1
    sizes = np.bincount(group)
    first = np.flatnonzero(starts)
    keys = rows["key"]
    parts = []
    for size in np.unique(sizes[sizes > 1]):
        heads = first[sizes == size]
        if size <= all_pairs_up_to:
            i, j = np.triu_indices(int(size), 1)
            a = keys[heads[:, None] + i[None, :]].ravel()
            b = keys[heads[:, None] + j[None, :]].ravel()
        else:
            offsets = np.arange(1, int(size))
            a = np.repeat(keys[heads], size - 1)
            b = keys[heads[:, None] + offsets[None, :]].ravel()
        parts.append(np.stack([np.minimum(a, b), np.maximum(a, b)], axis=1))
    if not parts:
        return np.empty((0, 2), dtype=np.uint64)
    pairs = np.concatenate(parts)
    pairs = pairs[pairs[:, 0] != pairs[:, 1]]
    return unique_pairs(pairs)


def unique_pairs(pairs: np.ndarray) -> np.ndarray:
    """Sorted unique rows of an (n, 2) uint64 array."""
    if pairs.size == 0:
        return pairs.reshape(0, 2).astype(np.uint64)
    order = np.lexsort((pairs[:, 1], pairs[:, 0]))
    pairs = pairs[order]
    return pairs[_run_starts(pairs[:, 0], pairs[:, 1])]


def sorted_jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Jaccard similarity of two sorted unique arrays (two empty sets: 0)."""
    if a.size == 0 and b.size == 0:
        return 0.0
    inter = np.intersect1d(a, b, assume_unique=True).size
    return inter / (a.size + b.size - inter)
