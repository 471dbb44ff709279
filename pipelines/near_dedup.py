"""NearDedup: MinHash LSH near-duplicate removal across all sources (Gopher: 13-gram Jaccard >= 0.8).

Graph (see docs/dedup.md):
  docs -> features (band keys; verification payload) -> CombinePerKey(capped smallest members per bucket)
  -> bucket edges (all pairs if small, else star; over-cap members -> root via side input) -> Distinct -> [verify: join payloads by id, group by edge, true Jaccard >= threshold]
  -> CombineGlobally(union-find over edges) -> per-member decision -> CoGroupByKey with docs by id.
Only `(priority, id)` tuples go through the bucket shuffle; texts are shuffled once, in the final join.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import apache_beam as beam
import numpy as np
from apache_beam import pvalue
from apache_beam.metrics import Metrics

from curation.clusters import Bucket, Edge, Node, UnionFind, bucket_add, bucket_edges, bucket_merge
from curation.config import source_priority
from curation.minhash import (
    MinHashParams,
    band_keys,
    estimated_jaccard,
    jaccard,
    params_from_config,
    shingle_hashes_raw,
    signature_from_shingles,
)
from curation.schema import Document, Failure

NEAR_REASON = "dedup.near"
VERIFY_MODES = ("jaccard", "signature", "none")


def verify_mode(section: Mapping[str, Any]) -> str:
    """Normalise `dedup.verify`: true -> 'jaccard' (exact shingle Jaccard), false -> 'none'."""
    value = section.get("verify", "jaccard")
    if value is True:
        return "jaccard"
    if value is False or value is None:
        return "none"
    if value not in VERIFY_MODES:
        raise ValueError(f"dedup.verify must be one of {VERIFY_MODES} or a bool, got {value!r}")
    return value


def _payload(shingles: np.ndarray, sig: np.ndarray, mode: str) -> bytes:
    """What verification compares: 32-bit shingle hashes (exact Jaccard) or the signature."""
    if mode == "jaccard":
        return np.unique((shingles >> np.uint64(32)).astype(np.uint32)).tobytes()
    return sig.tobytes()


def payload_similarity(a: bytes, b: bytes, mode: str) -> float:
    """Similarity of two verification payloads produced by the same mode."""
    left, right = np.frombuffer(a, dtype=np.uint32), np.frombuffer(b, dtype=np.uint32)
    if mode == "jaccard":
        return jaccard(left, right)
    return estimated_jaccard(left, right)


class _FeaturesFn(beam.DoFn):
    """Document -> (band key, node) per band, plus (id, payload) on the 'payload' output."""

    def __init__(self, cfg: Mapping[str, Any], params: MinHashParams, mode: str):
        self.cfg, self.params, self.mode = cfg, params, mode
        self.no_shingles = Metrics.counter("dedup", "near_docs_without_shingles")

    def process(self, doc: Document) -> Iterator[Any]:
        try:  # compute everything first, so a failing document emits nothing but its Failure
            node: Node = (source_priority(self.cfg, doc.source), doc.id)
            shingles = shingle_hashes_raw(doc.text, self.params)
            if shingles.size == 0:  # nothing to compare (no words): never a near-duplicate
                self.no_shingles.inc()
                return
            sig = signature_from_shingles(shingles, self.params)
            keys = band_keys(sig, self.params)
            payload = _payload(shingles, sig, self.mode) if self.mode != "none" else None
        except Exception as exc:  # noqa: BLE001 - a document we cannot hash leaves as a Failure only
            yield pvalue.TaggedOutput(
                "failed",
                Failure(
                    doc.source,
                    doc.id,
                    f"{type(exc).__name__}: {exc}",
                    "dedup.near",
                    doc.nbytes if isinstance(doc.text, str) else 0,
                ),
            )
            return
        for key in keys:
            yield key, node
        if payload is not None:
            yield pvalue.TaggedOutput("payload", (doc.id, payload))


class _CappedBucket(beam.CombineFn):
    """Per bucket: member count and the `cap` smallest nodes (lifted before the shuffle: no hot keys)."""

    def __init__(self, cap: int):
        self.cap = cap

    def create_accumulator(self) -> Bucket:
        return 0, []

    def add_input(self, acc: Bucket, node: Node) -> Bucket:
        return bucket_add(acc, node, self.cap)

    def merge_accumulators(self, accs: Iterable[Bucket]) -> Bucket:
        return bucket_merge(accs, self.cap)

    def extract_output(self, acc: Bucket) -> Bucket:
        return bucket_merge([acc], self.cap)


class _UnionFindCombine(beam.CombineFn):
    """Connected components of the (small) duplicate-edge list; memory bounded by edge endpoints."""

    def create_accumulator(self) -> UnionFind:
        return UnionFind()

    def add_input(self, acc: UnionFind, edge: Edge) -> UnionFind:
        acc.union(*edge)
        return acc

    def merge_accumulators(self, accs: Iterable[UnionFind]) -> UnionFind:
        accs = iter(accs)
        first = next(accs)
        for other in accs:
            first.merge(other)
        return first

    def extract_output(self, acc: UnionFind) -> list[tuple[Node, Node]]:
        return list(acc.assignments())


def bucket_to_edges(item: tuple[bytes, Bucket], all_pairs_up_to: int) -> Iterator[Edge]:
    """Candidate edges among the (at most `max_bucket_size`) members a bucket kept."""
    _key, (_count, members) = item
    yield from bucket_edges(members, all_pairs_up_to)


def _overflow_root(item: tuple[bytes, Bucket], cap: int) -> Iterator[tuple[bytes, Node]]:
    """(bucket key, smallest member) of every bucket that had more members than the cap (hot keys)."""
    key, (count, members) = item
    if count > cap:
        Metrics.counter("dedup", "near_buckets_over_cap").inc()
        Metrics.counter("dedup", "near_bucket_members_over_cap").inc(count - cap)
        yield key, members[0]


def _overflow_edge(item: tuple[bytes, Node], roots: Mapping[bytes, Node]) -> Iterator[Edge]:
    """Link a member of an over-cap bucket to that bucket's smallest member (none are dropped)."""
    key, node = item
    root = roots.get(key)
    if root is not None and node != root:
        yield (root, node)


def _edge_endpoints(edge: Edge) -> Iterator[tuple[str, Edge]]:
    """Key an edge by both of its document ids (for the payload join)."""
    yield edge[0][1], edge
    yield edge[1][1], edge


def _edge_with_payload(item: tuple[str, dict[str, list]]) -> Iterator[tuple[Edge, tuple[str, bytes]]]:
    """Attach a document's payload to each of its edges."""
    doc_id, grouped = item
    payloads = grouped["payload"]
    if not payloads:
        return
    for edge in grouped["edges"]:
        yield edge, (doc_id, payloads[0])


def _verified(item: tuple[Edge, Iterable[tuple[str, bytes]]], mode: str, threshold: float) -> Iterator[Edge]:
    """Keep a candidate edge only if its two documents really are similar enough."""
    edge, sides = item
    payloads = dict(sides)
    if len(payloads) != 2:
        return
    a, b = (payloads[edge[0][1]], payloads[edge[1][1]])
    if payload_similarity(a, b, mode) >= threshold:
        Metrics.counter("dedup", "near_edges_verified").inc()
        yield edge
    else:
        Metrics.counter("dedup", "near_edges_rejected").inc()


def _decisions(assignments: list[tuple[Node, Node]]) -> Iterator[tuple[str, str]]:
    """(id, survivor id) for every member of every non-singleton component."""
    for node, root in assignments:
        yield node[1], root[1]


def _cluster_row(item: tuple[str, str]) -> dict[str, Any]:
    """Row of OUT/dedup/clusters.parquet for one cluster member."""
    doc_id, survivor = item
    return {"id": doc_id, "cluster_id": f"near-{survivor}", "kept": doc_id == survivor}


def _apply_decision(item: tuple[str, dict[str, list]]) -> Iterator[Any]:
    """Route each document to kept or removed (with reason and duplicate_of) by its decision."""
    doc_id, grouped = item
    if grouped.get("failed"):
        return  # its Failure record is the document's one outcome (input = kept + removed + failed)
    survivors = grouped["decision"]
    for doc in grouped["doc"]:
        if survivors and survivors[0] != doc_id:
            removed = dataclasses.replace(doc, meta={**doc.meta, "duplicate_of": survivors[0]}, reason=NEAR_REASON)
            yield pvalue.TaggedOutput("removed", removed)
        else:
            yield doc


class NearDedup(beam.PTransform):
    """Documents -> {"kept", "removed" (reason dedup.near), "clusters", "failed"} by MinHash LSH.

    `cfg` is the full effective config; `cfg["dedup"]` holds the parameters. The survivor of a
    cluster is the member with the lowest source priority, then the smallest id.
    """

    def __init__(self, cfg: Mapping[str, Any]):
        super().__init__()
        self.cfg = cfg
        section = cfg.get("dedup", {})
        self.params = params_from_config(section)
        self.mode = verify_mode(section)
        self.threshold = float(section.get("threshold", 0.8))
        self.cap = int(section.get("max_bucket_size", 1000))
        self.all_pairs_up_to = int(section.get("all_pairs_up_to", 16))

    def expand(self, docs):
        features = docs | "Features" >> beam.ParDo(_FeaturesFn(self.cfg, self.params, self.mode)).with_outputs(
            "payload", "failed", main="bands"
        )
        buckets = features.bands | "CappedBuckets" >> beam.CombinePerKey(_CappedBucket(self.cap))
        in_bucket = buckets | "BucketEdges" >> beam.FlatMap(bucket_to_edges, self.all_pairs_up_to)
        # Hot keys: the combiner kept only `cap` members of a huge bucket; the rest are linked to its
        # root through a side input holding one entry per over-cap bucket (few), not by a shuffle.
        roots = buckets | "OverCapRoots" >> beam.FlatMap(_overflow_root, self.cap)
        over_cap = features.bands | "OverCapEdges" >> beam.FlatMap(_overflow_edge, roots=beam.pvalue.AsDict(roots))
        candidates = (in_bucket, over_cap) | "AllCandidates" >> beam.Flatten() | "DistinctEdges" >> beam.Distinct()
        if self.mode == "none":
            edges = candidates
        else:
            edges = (
                {"payload": features.payload, "edges": candidates | "KeyEdgeEnds" >> beam.FlatMap(_edge_endpoints)}
                | "JoinPayloads" >> beam.CoGroupByKey()
                | "EdgePayloads" >> beam.FlatMap(_edge_with_payload)
                | "GroupByEdge" >> beam.GroupByKey()
                | "Verify" >> beam.FlatMap(_verified, self.mode, self.threshold)
            )
        decisions = (
            edges
            | "Components" >> beam.CombineGlobally(_UnionFindCombine())
            | "Decisions" >> beam.FlatMap(_decisions)
            | "SpreadDecisions" >> beam.Reshuffle()
        )
        clusters = decisions | "ClusterRows" >> beam.Map(_cluster_row)
        routed = (
            {
                "doc": docs | "KeyDocs" >> beam.Map(lambda d: (d.id, d)),
                "decision": decisions,
                "failed": features.failed | "KeyFailed" >> beam.Map(lambda f: (f.source_location, True)),
            }
            | "JoinDecisions" >> beam.CoGroupByKey()
            | "Route" >> beam.FlatMap(_apply_decision).with_outputs("removed", main="kept")
        )
        return {"kept": routed.kept, "removed": routed.removed, "clusters": clusters, "failed": features.failed}
