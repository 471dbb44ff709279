"""Connected components of a duplicate graph with integer node keys, in steps that run spread over workers.

The distributed algorithm is large-star / small-star (Kiveris et al., "Connected Components in MapReduce
and Beyond", SoCC 2014), the one bigcode's Spark dedup uses. Every step is a pure function of the edges
grouped by one endpoint, so a runner can partition the edge list by node and run a step on each part:

- large-star: each node u links every larger neighbour v to m(u) = min(N(u) ∪ {u});
- small-star: each node u links every smaller-or-equal neighbour v (and u itself) to m(u) among them.

Alternating the two converges (each component becomes a star around its smallest key) in O(log n) rounds.
After a fixed number of rounds the edges that are not yet a star are few; `finish_components` finishes them
with one union-find, so the number of runner steps is fixed in advance. Edges are numpy arrays of shape
(n, 2) of uint64 keys; all the work is vectorised (no per-edge Python).
"""

from __future__ import annotations

import numpy as np

EDGE = np.uint64


def canonical(edges: np.ndarray) -> np.ndarray:
    """Edges as unique (small, large) rows, self-loops dropped."""
    edges = np.asarray(edges, dtype=EDGE).reshape(-1, 2)
    lo, hi = np.minimum(edges[:, 0], edges[:, 1]), np.maximum(edges[:, 0], edges[:, 1])
    keep = lo != hi
    lo, hi = lo[keep], hi[keep]
    order = np.lexsort((hi, lo))
    lo, hi = lo[order], hi[order]
    first = np.ones(lo.size, dtype=bool)
    first[1:] = (lo[1:] != lo[:-1]) | (hi[1:] != hi[:-1])
    return np.stack([lo[first], hi[first]], axis=1)


def directed(edges: np.ndarray) -> np.ndarray:
    """Both directions (u, v) and (v, u) of every edge: what a star step groups by u."""
    edges = np.asarray(edges, dtype=EDGE).reshape(-1, 2)
    return np.concatenate([edges, edges[:, ::-1]])


def partition_of(nodes: np.ndarray, parts: int) -> np.ndarray:
    """Which of `parts` partitions a node's edges go to (a multiplicative hash, stable everywhere)."""
    with np.errstate(over="ignore"):
        mixed = (np.asarray(nodes, dtype=EDGE) * EDGE(0x9E3779B97F4A7C15)) >> EDGE(32)
    return (mixed % EDGE(parts)).astype(np.int64)


def route(edges: np.ndarray, parts: int) -> list[np.ndarray]:
    """Split edges into `parts` groups so that each group holds every edge of its nodes (both directions)."""
    if edges.size == 0:
        return [edges.reshape(0, 2) for _ in range(parts)]
    both = np.concatenate([edges, edges[:, ::-1]])
    part = partition_of(both[:, 0], parts)
    order = np.argsort(part, kind="stable")
    both, part = both[order], part[order]
    bounds = np.searchsorted(part, np.arange(parts + 1))
    return [both[bounds[i] : bounds[i + 1]] for i in range(parts)]


def _sorted_unique(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values (a plain sort: numpy's `unique` is several times slower on large uint64 arrays)."""
    values = np.sort(values, axis=None)
    keep = np.ones(values.size, dtype=bool)
    keep[1:] = values[1:] != values[:-1]
    return values[keep]


def _unique_inverse(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sorted distinct values, each value's index among them) via one argsort (searchsorted misses cache)."""
    flat = values.ravel()
    order = np.argsort(flat)
    ordered = flat[order]
    starts = np.ones(flat.size, dtype=bool)
    starts[1:] = ordered[1:] != ordered[:-1]
    inverse = np.empty(flat.size, dtype=np.int64)
    inverse[order] = np.cumsum(starts) - 1
    return ordered[starts], inverse.reshape(values.shape)


def _dense_canonical(a: np.ndarray, b: np.ndarray, nodes: np.ndarray) -> np.ndarray:
    """`canonical` of edges given as dense indices into sorted `nodes` (one sort of packed 64-bit keys)."""
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    keep = lo != hi
    packed = _sorted_unique((lo[keep].astype(EDGE) << EDGE(32)) | hi[keep].astype(EDGE))
    return np.stack([nodes[packed >> EDGE(32)], nodes[packed & EDGE(0xFFFFFFFF)]], axis=1)


def star_step(edges_of_nodes: np.ndarray, kind: str) -> np.ndarray:
    """One large- or small-star step over directed edges (u, v) that hold every edge of each u they contain.

    Node keys are first replaced by their rank among the step's nodes (order-preserving), so the per-node
    minimum is one `np.minimum.at` and de-duplication sorts one packed key instead of two columns.
    """
    if edges_of_nodes.size == 0:
        return edges_of_nodes.reshape(0, 2)
    if kind not in ("large", "small"):
        raise ValueError(f"star step must be 'large' or 'small', got {kind!r}")
    nodes, dense = _unique_inverse(np.asarray(edges_of_nodes, dtype=EDGE))
    if nodes.size >= 1 << 32:
        raise ValueError("a star step holds at most 2^32 nodes; use more partitions")
    u, v = dense[:, 0], dense[:, 1]
    if kind == "small":
        smaller = v <= u
        u, v = u[smaller], v[smaller]
    m = np.arange(nodes.size)  # m(u) = min(N(u) ∪ {u}) over the neighbours this step looks at
    np.minimum.at(m, u, v)
    if kind == "large":
        larger = v > u
        return _dense_canonical(v[larger], m[u][larger], nodes)
    present = _sorted_unique(u)
    return _dense_canonical(np.concatenate([v, present]), np.concatenate([m[u], m[present]]), nodes)


def large_star(edges: np.ndarray) -> np.ndarray:
    """Large-star over a whole edge list (single process)."""
    return star_step(directed(edges), "large")


def small_star(edges: np.ndarray) -> np.ndarray:
    """Small-star over a whole edge list (single process)."""
    return star_step(directed(edges), "small")


def split_settled(edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(finished stars, the rest) of canonical (small, large) edges.

    A star is finished when its root is nobody's leaf, each of its leaves hangs on that root only, and none
    of its nodes touches an unfinished edge: then it is a whole component with its smallest key as root.
    """
    edges = canonical(edges)
    if edges.size == 0:
        return edges, edges
    roots, leaves = edges[:, 0], edges[:, 1]
    leaf_set, leaf_index = _unique_inverse(leaves)
    leaf_counts = np.bincount(leaf_index, minlength=leaf_set.size)
    ok = ~np.isin(roots, leaf_set) & ~np.isin(leaves, leaf_set[leaf_counts > 1])
    while True:  # a star touching an unfinished edge is unfinished too (a star takes at most two passes)
        rest_nodes = _sorted_unique(edges[~ok])
        touching = ok & (np.isin(roots, rest_nodes) | np.isin(leaves, rest_nodes))
        if not touching.any():
            return edges[ok], edges[~ok]
        ok &= ~touching


def union_find(edges: np.ndarray) -> np.ndarray:
    """(node, root) rows for every node of `edges`, root = smallest key of its component (vectorised)."""
    edges = canonical(edges)
    if edges.size == 0:
        return edges
    nodes, inverse = _unique_inverse(edges)
    parent = np.arange(nodes.size)
    # Pointer jumping over "min label" propagation: labels only decrease, converges in O(log n) passes.
    while True:
        a, b = inverse[:, 0], inverse[:, 1]
        la, lb = parent[a], parent[b]
        low = np.minimum(la, lb)
        new = parent.copy()
        np.minimum.at(new, a, low)
        np.minimum.at(new, b, low)
        new = new[new]
        while True:
            jumped = new[new]
            if np.array_equal(jumped, new):
                break
            new = jumped
        if np.array_equal(new, parent):
            break
        parent = new
    return np.stack([nodes, nodes[parent]], axis=1)


def finish_components(settled: np.ndarray, rest: np.ndarray) -> np.ndarray:
    """(node, root) rows from finished stars (as they are) and the unfinished rest (one union-find)."""
    settled = np.asarray(settled, dtype=EDGE).reshape(-1, 2)
    stars = np.concatenate([settled[:, ::-1], _sorted_unique(settled[:, 0]).repeat(2).reshape(-1, 2)])
    rows = np.concatenate([stars, union_find(rest)])
    return rows[np.argsort(rows[:, 0], kind="stable")]


def components(edges: np.ndarray, rounds: int = 8) -> np.ndarray:
    """(node, root) rows of the connected components of `edges`, computed with star steps then union-find.

    The single-process form of what the pipeline runs partition by partition; used for tests and small inputs.
    """
    edges = canonical(edges)
    for _ in range(rounds):
        edges = small_star(large_star(edges))
    settled, rest = split_settled(edges)
    return finish_components(settled, rest)
