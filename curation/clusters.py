"""Pure helpers for near-dedup clustering: bounded bucket membership, star edges, union-find components.

A node is `(priority, id)`: ordering nodes orders them by who should survive (lower source
priority, then smaller id), so every "smallest" below is also "the one we keep".
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator

Node = tuple[int, str]
Edge = tuple[Node, Node]
Bucket = tuple[int, list[Node]]  # (members seen, the smallest members kept, sorted)


def bucket_add(bucket: Bucket, node: Node, cap: int) -> Bucket:
    """Add one member to a capped bucket in place (amortised O(log cap)): keep the `cap` smallest, count all."""
    count, members = bucket
    members.append(node)
    if len(members) > 2 * cap:
        members[:] = heapq.nsmallest(cap, set(members))
    return count + 1, members


def bucket_merge(buckets: Iterable[Bucket], cap: int) -> Bucket:
    """Merge partial buckets (combiner accumulators) into one, still capped and sorted."""
    count, members = 0, []
    for part_count, part_members in buckets:
        count += part_count
        members.extend(part_members)
    if len(members) <= 1:  # the common case: most LSH buckets hold a single document
        return count, members
    unique = set(members)
    return count, sorted(unique) if len(unique) <= cap else heapq.nsmallest(cap, unique)


def bucket_edges(members: list[Node], all_pairs_up_to: int) -> Iterator[Edge]:
    """Candidate edges of one bucket: all pairs when it is small, else every member to the smallest.

    All pairs keep recall when verification rejects a false-positive root (with a star, two true
    duplicates that only meet through a dissimilar root would never be compared); the star keeps a
    large bucket at O(k) edges instead of O(k^2).
    """
    if len(members) < 2:
        return
    ordered = sorted(members)
    if len(ordered) <= all_pairs_up_to:
        for i, a in enumerate(ordered):
            for b in ordered[i + 1 :]:
                yield (a, b)
        return
    root = ordered[0]
    for node in ordered[1:]:
        yield (root, node)


class UnionFind:
    """Disjoint sets over nodes whose representative is always the smallest node of the set.

    State is needed here (parents), hence a class. Memory is bounded by the nodes that appear in
    edges, i.e. by the duplicate documents, never by the corpus.
    """

    __slots__ = ("parent",)

    def __init__(self) -> None:
        self.parent: dict[Node, Node] = {}

    def find(self, node: Node) -> Node:
        """Representative (smallest node) of `node`'s set, compressing the path on the way."""
        parent = self.parent
        root = parent.setdefault(node, node)
        while parent[root] != root:
            root = parent[root]
        while parent[node] != root:
            parent[node], node = root, parent[node]
        return root

    def union(self, a: Node, b: Node) -> None:
        """Join the sets of `a` and `b`; the smaller representative stays representative."""
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            small, large = (ra, rb) if ra < rb else (rb, ra)
            self.parent[large] = small

    def merge(self, other: UnionFind) -> None:
        """Fold another union-find (e.g. a partial combiner accumulator) into this one."""
        for node, parent in other.parent.items():
            self.union(node, parent)

    def assignments(self) -> Iterator[tuple[Node, Node]]:
        """Every node with its set's representative, in sorted node order."""
        for node in sorted(self.parent):
            yield node, self.find(node)


def components(edges: Iterable[Edge]) -> dict[Node, Node]:
    """Connected components of an edge list as node -> smallest node of its component."""
    uf = UnionFind()
    for a, b in edges:
        uf.union(a, b)
    return dict(uf.assignments())
