"""Duplicate candidates from compact dedup features: exact-hash groups and LSH bucket pairs (pure numpy).

Inputs are the structured arrays the per-item phase writes (see `pipelines/process.py`): exact rows
`(h1, h2, key)` and band rows `(h, key)`, where `key` is a document key (`curation.workitems.doc_key`):
a smaller key is the document that survives. No per-row Python on the hot path.
"""

from __future__ import annotations

import numpy as np

NONE = np.uint64(np.iinfo(np.uint64).max)
EXACT_ROW_DTYPE = np.dtype([("h1", "<u8"), ("h2", "<u8"), ("key", "<u8")])
BAND_ROW_DTYPE = np.dtype([("h", "<u8"), ("key", "<u8")])
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


DECISION_DTYPE = np.dtype([("key", "<u8"), ("exact_rep", "<u8"), ("h1", "<u8"), ("h2", "<u8"), ("near_root", "<u8")])


def cluster_decisions(groups: np.ndarray, roots: np.ndarray, rank) -> np.ndarray:
    """One decision row per document in an exact group and/or a near-duplicate component.

    `groups` are exact-group rows (key, rep, h1, h2) whose `rep` is the group's smallest key (any fixed
    member works: exact copies have equal shingles, so near dedup ran on that one member only); `roots` are
    (node, root) rows of near components over those members. `rank(keys) -> sort keys` orders documents by
    who survives (source priority, then natural id order). Each exact group keeps its best-ranked member
    (`exact_rep`); each near component keeps the best-ranked of its groups' survivors (`near_root`), and the
    other survivors in it get that `near_root`, exactly as exact dedup followed by near dedup would decide.
    """
    exact_rep: dict[int, int] = {}
    survivor_of_rep: dict[int, int] = {}
    hashes: dict[int, tuple[int, int]] = {}
    if groups.size:
        order = np.lexsort((groups["key"], groups["h2"], groups["h1"]))
        groups = groups[order]
        starts = np.flatnonzero(_run_starts(groups["h1"], groups["h2"]))
        for members in np.split(groups, starts[1:]):
            keys = [int(k) for k in members["key"]]
            best = min(keys, key=rank)
            survivor_of_rep[int(members["rep"][0])] = best
            for k in keys:
                exact_rep[k] = best
                hashes[k] = (int(members["h1"][0]), int(members["h2"][0]))
    near_root: dict[int, int] = {}
    if roots.size:
        order = np.argsort(roots[:, 1], kind="stable")
        roots = roots[order]
        starts = np.flatnonzero(_run_starts(roots[:, 1]))
        for component in np.split(roots, starts[1:]):
            standing = [survivor_of_rep.get(int(n), int(n)) for n in component[:, 0]]
            best = min(standing, key=rank)
            for k in standing:
                near_root[k] = best
    keys = sorted(set(exact_rep) | set(near_root))
    out = np.zeros(len(keys), dtype=DECISION_DTYPE)
    for i, k in enumerate(keys):
        h1, h2 = hashes.get(k, (0, 0))
        out[i] = (k, exact_rep.get(k, NONE), h1, h2, near_root.get(k, NONE))
    return out
