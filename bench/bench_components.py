"""Connected components of a 10M-edge duplicate graph: the pipeline's Beam step vs one Python union-find.

The graph looks like near-duplicate clusters of a web crawl: cluster sizes drawn from a power law (most
pairs, some clusters of thousands), each cluster's members joined by random edges that connect it, keys
spread over a 2^40 range like document keys. Baseline: the dict-based union-find the pipeline used before
(one worker, every edge through Python). Candidate: `ConnectedComponents` (large-star/small-star rounds on
numpy arrays, partitioned over workers) on the DirectRunner, and the same steps in one process. Both results
are checked against each other.

    python bench/bench_components.py --edges 10000000
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time

import apache_beam as beam
import numpy as np
from apache_beam.options.pipeline_options import PipelineOptions

from curation import components as cc
from pipelines.dedup import ConnectedComponents


def duplicate_graph(edges: int, seed: int = 0) -> np.ndarray:
    """Random clusters (power-law sizes) connected by random spanning edges plus extra edges."""
    rng = np.random.default_rng(seed)
    sizes = np.minimum((rng.pareto(1.5, size=edges) + 2).astype(np.int64), 5000)
    sizes = sizes[np.cumsum(sizes) <= edges + sizes[0]]
    nodes = rng.choice(2**40, size=int(sizes.sum()), replace=False).astype(np.uint64)
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    idx = np.arange(nodes.size)
    cluster = np.repeat(np.arange(sizes.size), sizes)
    # spanning: each member links to a random earlier member of its cluster
    offset = idx - starts[cluster]
    earlier = starts[cluster] + (rng.random(idx.size) * np.maximum(offset, 1)).astype(np.int64)
    spanning = np.stack([nodes[idx[offset > 0]], nodes[earlier[offset > 0]]], axis=1)
    extra_n = max(0, edges - spanning.shape[0])
    pick = rng.integers(0, nodes.size, size=extra_n)
    partner = starts[cluster[pick]] + (rng.random(extra_n) * sizes[cluster[pick]]).astype(np.int64)
    extra = np.stack([nodes[pick], nodes[partner]], axis=1)
    return np.concatenate([spanning, extra])[:edges]


def python_union_find(edges: np.ndarray) -> dict[int, int]:
    """The baseline: one dict-based union-find over every edge (smallest key as root)."""
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        root = parent.setdefault(x, x)
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    for a, b in edges.tolist():
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {n: find(n) for n in parent}


def beam_components(edges: np.ndarray, chunks: int, options: list[str]) -> np.ndarray:
    """The pipeline's ConnectedComponents transform on edge arrays split into `chunks` elements."""
    with tempfile.TemporaryDirectory() as tmp:
        target = f"{tmp}/rows.npy"
        with beam.Pipeline(options=PipelineOptions(options)) as p:
            _ = (
                p
                | beam.Create(np.array_split(edges, chunks))
                | ConnectedComponents()
                | beam.Map(lambda rows: np.save(target, rows))
            )
        return np.load(target)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--edges", type=int, default=10_000_000)
    ap.add_argument("--chunks", type=int, default=64)
    args = ap.parse_args(argv)
    edges = duplicate_graph(args.edges)
    print(f"graph: {edges.shape[0]:,} edges, {np.unique(edges).size:,} nodes")

    t = time.perf_counter()
    single = cc.components(edges, rounds=6)
    t_single = time.perf_counter() - t
    t = time.perf_counter()
    rows = beam_components(edges, args.chunks, ["--direct_running_mode=in_memory"])
    t_beam = time.perf_counter() - t
    assert np.array_equal(single, rows), "the Beam transform and the single-process steps disagree"
    t = time.perf_counter()
    baseline = python_union_find(edges)
    t_base = time.perf_counter() - t
    assert baseline == {int(a): int(b) for a, b in rows}, "star steps disagree with union-find"
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"python union-find (baseline, one worker): {t_base:8.1f} s")
    print(f"star steps, one process (numpy):          {t_single:8.1f} s  ({t_base / t_single:.1f}x baseline)")
    print(f"ConnectedComponents on the DirectRunner:  {t_beam:8.1f} s  ({t_base / t_beam:.1f}x baseline)")
    print(f"components: {np.unique(rows[:, 1]).size:,}; peak RSS of this process {peak:,.0f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
