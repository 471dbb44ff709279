"""NearDedup on the DirectRunner: clustering, verification, transitivity, priority and determinism."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import apache_beam as beam
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from hypothesis import given, settings
from hypothesis import strategies as st

from curation.config import load_config
from curation.sample import sample_dir
from curation.schema import Document
from pipelines.near_dedup import NearDedup

BOOK = Path(sample_dir()) / "books" / "105.txt.gz"  # Persuasion (Project Gutenberg), bundled with the demo


def words_of_book() -> list[str]:
    """Words of Persuasion (Project Gutenberg), the real text every test document is cut from."""
    with gzip.open(BOOK, "rt", encoding="utf-8") as fh:
        return fh.read().split()[2000:]


def reference_jaccard(a: str, b: str, n: int = 13) -> float:
    """Exact 13-gram Jaccard written independently of curation.minhash (plain Python sets)."""

    def grams(text: str) -> set[tuple[str, ...]]:
        toks = re.sub(r"[^\w\s]+", "", text.lower()).split()
        return {tuple(toks[i : i + n]) for i in range(max(1, len(toks) - n + 1))}

    ga, gb = grams(a), grams(b)
    return len(ga & gb) / len(ga | gb)


def run_dedup(docs: list[Document], out: Path, cfg: dict | None = None, options: list[str] | None = None) -> dict:
    """Run NearDedup in a real Beam pipeline and read its outputs back from JSON-lines files."""
    cfg = cfg or load_config()
    out.mkdir(parents=True, exist_ok=True)
    with beam.Pipeline(options=PipelineOptions(options or [])) as p:
        result = p | beam.Create(docs, reshuffle=False) | NearDedup(cfg)
        encode = {
            "kept": lambda d: json.dumps({"id": d.id, "reason": d.reason, "meta": d.meta, "text": d.text}),
            "removed": lambda d: json.dumps({"id": d.id, "reason": d.reason, "meta": d.meta, "text": d.text}),
            "clusters": lambda r: json.dumps(r, sort_keys=True),
            "failed": lambda f: json.dumps({"error": f.error, "location": f.source_location}),
        }
        for name, fn in encode.items():
            _ = result[name] | f"Encode{name}" >> beam.Map(fn) | f"Write{name}" >> beam.io.WriteToText(str(out / name))
    outputs = {}
    for name in ("kept", "removed", "clusters", "failed"):
        lines = [line for f in sorted(out.glob(f"{name}-*")) for line in f.read_text().splitlines()]
        outputs[name] = sorted((json.loads(line) for line in lines), key=lambda r: json.dumps(r, sort_keys=True))
    return outputs


@pytest.fixture(scope="module")
def corpus() -> dict[str, Document]:
    """Real-text documents with planted near-duplicates of known exact Jaccard."""
    words = words_of_book()
    base = [" ".join(words[i * 400 : i * 400 + 400]) for i in range(8)]
    # sliding windows: J(a,b) = J(b,c) ~ 0.88 but J(a,c) ~ 0.77, so only transitivity joins a and c
    a, b, c = (" ".join(words[20000 + s : 20400 + s]) for s in (0, 25, 50))
    docs = {
        "web/a#0": Document("web/a#0", "web", a),
        "web/a#1": Document("web/a#1", "web", b),
        "web/a#2": Document("web/a#2", "web", c),
        # same text as base[1] but in a higher-priority source and with a larger id
        "web/b#0": Document("web/b#0", "web", base[1]),
        "wikipedia/z#9": Document("wikipedia/z#9", "wikipedia", base[1].replace(" ", "  ") + " !"),
        # a moderately similar pair (J ~ 0.6, well below 0.8) that must stay apart
        "web/c#0": Document("web/c#0", "web", " ".join(words[30000:30400])),
        "web/c#1": Document("web/c#1", "web", " ".join(words[30100:30500])),
        "books/short#0": Document("books/short#0", "books", "A tiny document."),
        "books/short#1": Document("books/short#1", "books", "a   tiny document"),
        "books/empty#0": Document("books/empty#0", "books", "... !!!"),
    }
    for i, text in enumerate(base[3:]):
        docs[f"news/u#{i}"] = Document(f"news/u#{i}", "news", text)
    return docs


def test_planted_jaccards_are_what_the_tests_assume(corpus):
    assert reference_jaccard(corpus["web/a#0"].text, corpus["web/a#1"].text) >= 0.8
    assert reference_jaccard(corpus["web/a#1"].text, corpus["web/a#2"].text) >= 0.8
    assert reference_jaccard(corpus["web/a#0"].text, corpus["web/a#2"].text) < 0.8
    assert 0.5 < reference_jaccard(corpus["web/c#0"].text, corpus["web/c#1"].text) < 0.7


@pytest.fixture(scope="module")
def result(corpus, tmp_path_factory) -> dict:
    return run_dedup(list(corpus.values()), tmp_path_factory.mktemp("near"))


def test_every_document_comes_out_exactly_once(corpus, result):
    ids = [r["id"] for r in result["kept"]] + [r["id"] for r in result["removed"]]
    assert sorted(ids) == sorted(corpus)
    assert not result["failed"]


def test_transitive_cluster_collapses_to_one_kept(result):
    removed = {r["id"]: r for r in result["removed"]}
    assert removed["web/a#1"]["meta"]["duplicate_of"] == "web/a#0"
    assert removed["web/a#2"]["meta"]["duplicate_of"] == "web/a#0"
    assert all(r["reason"] == "dedup.near" for r in removed.values())
    clusters = {r["id"]: r for r in result["clusters"]}
    assert {clusters[i]["cluster_id"] for i in ("web/a#0", "web/a#1", "web/a#2")} == {"near-web/a#0"}
    assert clusters["web/a#0"]["kept"] and not clusters["web/a#1"]["kept"]


def test_source_priority_beats_id_order(result):
    removed = {r["id"]: r for r in result["removed"]}
    assert removed["web/b#0"]["meta"]["duplicate_of"] == "wikipedia/z#9"
    assert "wikipedia/z#9" in {r["id"] for r in result["kept"]}


def test_dissimilar_and_unrelated_documents_are_kept(result):
    kept = {r["id"] for r in result["kept"]}
    assert {"web/c#0", "web/c#1", "news/u#0", "news/u#4", "books/empty#0"} <= kept
    clustered = {r["id"] for r in result["clusters"]}
    assert not clustered & {"web/c#0", "web/c#1", "books/empty#0"}


def test_short_documents_shingle_as_one_and_match_only_when_equal(result):
    removed = {r["id"]: r for r in result["removed"]}
    assert removed["books/short#1"]["meta"]["duplicate_of"] == "books/short#0"


def test_identical_documents_always_cluster(tmp_path):
    words = words_of_book()
    docs = []
    for i in range(6):
        text = " ".join(words[5000 + i * 300 : 5000 + i * 300 + 300])
        docs += [Document(f"web/x{i}#0", "web", text), Document(f"c4/x{i}#1", "c4", text)]
    out = run_dedup(docs, tmp_path)
    assert sorted(r["id"] for r in out["removed"]) == sorted(f"web/x{i}#0" for i in range(6))
    assert len(out["clusters"]) == 12


def test_without_verification_candidates_merge(corpus, tmp_path):
    cfg = load_config(overrides=["dedup.verify=none", "dedup.bands=32", "dedup.rows=2", "dedup.num_perm=64"])
    out = run_dedup([corpus["web/c#0"], corpus["web/c#1"]], tmp_path, cfg)
    assert [r["id"] for r in out["removed"]] == ["web/c#1"]


def test_same_result_with_one_and_two_workers(corpus, tmp_path):
    docs = list(corpus.values())
    one = run_dedup(docs, tmp_path / "one", options=["--direct_num_workers=1"])
    two = run_dedup(
        docs[::-1],
        tmp_path / "two",
        options=["--direct_num_workers=2", "--direct_running_mode=multi_processing"],
    )
    assert one == two
    assert one["removed"]


def test_inspect_dedup_reports_largest_cluster_with_side_by_side_diff(corpus, result, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from curation.inspect_dedup import inspect_dedup
    from curation.schema import document_schema, documents_to_table

    assert "no dedup cluster table" in inspect_dedup(str(tmp_path))
    by_id = {r["id"]: r for r in result["kept"] + result["removed"]}
    for kind, rows in (("data", result["kept"]), ("removed", result["removed"])):
        docs = [Document(r["id"], corpus[r["id"]].source, r["text"], meta=r["meta"], reason=r["reason"]) for r in rows]
        (tmp_path / kind / "all").mkdir(parents=True)
        table = documents_to_table(docs, document_schema(["dummy"], with_reason=kind == "removed"))
        pq.write_table(table, tmp_path / kind / "all" / "part-00000.parquet")
    (tmp_path / "dedup").mkdir()
    pq.write_table(pa.Table.from_pylist(result["clusters"]), tmp_path / "dedup" / "clusters.parquet")

    report = inspect_dedup(str(tmp_path), top=2)
    lines = report.splitlines()
    assert lines[0].startswith(f"3 clusters, {len(result['clusters'])} member documents")
    assert "#1 cluster near-web/a#0: 3 members" in report
    assert "#3" not in report
    assert "diff: web/a#0 (left) vs web/a#1 (right)" in report
    # the sliding window drops the first 25 words on the right: the diff must show left-only text
    first_words = " ".join(by_id["web/a#0"]["text"].split()[:3])
    assert any(line.strip().startswith(first_words) and (" < " in line or " | " in line) for line in lines)


SCALE_VOCAB = 50_000


def synthetic_docs(shard: int, per_shard: int, dup_every: int):
    """Deterministic synthetic docs of 60-120 random words; every `dup_every`-th doc is a near-copy of its
    predecessor (one word changed at the end), so planted duplicates are known exactly."""
    import numpy as np

    rng = np.random.default_rng(shard)
    previous = None
    for k in range(per_shard):
        i = shard * per_shard + k
        if previous is not None and i % dup_every == 0:
            words = previous.copy()
            words[-1] = SCALE_VOCAB + i  # a word no other document has
        else:
            words = rng.integers(0, SCALE_VOCAB, size=int(rng.integers(60, 121)))
        previous = words
        yield Document(f"web/synthetic/{shard:05d}.jsonl#{k:05d}", "web", " ".join(f"w{w}" for w in words.tolist()))


@pytest.mark.slow
def test_scale_one_million_synthetic_documents(tmp_path):
    """1M docs (override with DEDUP_SCALE_DOCS) through NearDedup on the DirectRunner; prints time and peak RSS."""
    import os
    import resource
    import time

    total = int(os.environ.get("DEDUP_SCALE_DOCS", "1000000"))
    per_shard, dup_every = 10_000, 50
    shards = max(1, total // per_shard)
    t0 = time.perf_counter()
    with beam.Pipeline(options=PipelineOptions([])) as p:
        docs = (
            p | beam.Create(list(range(shards))) | beam.Reshuffle() | beam.FlatMap(synthetic_docs, per_shard, dup_every)
        )
        result = docs | NearDedup(load_config())
        _ = (
            result["removed"]
            | beam.Map(lambda d: f"{d.id}\t{d.meta['duplicate_of']}")
            | beam.io.WriteToText(str(tmp_path / "removed"))
        )
        _ = (
            result["kept"]
            | beam.combiners.Count.Globally()
            | "WriteKeptCount" >> beam.io.WriteToText(str(tmp_path / "kept_count"))
        )
    seconds = time.perf_counter() - t0
    peak_mb = (
        max(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
        / 1024
    )
    removed = [line.split("\t") for f in tmp_path.glob("removed-*") for line in f.read_text().splitlines()]
    kept = sum(int(f.read_text()) for f in tmp_path.glob("kept_count-*"))
    n = shards * per_shard
    planted = {
        f"web/synthetic/{i // per_shard:05d}.jsonl#{i % per_shard:05d}"
        for i in range(n)
        if i % dup_every == 0 and i % per_shard != 0
    }
    print(
        f"\nscale: {n} docs, {len(planted)} planted, {len(removed)} removed, {seconds:.0f}s, peak RSS {peak_mb:.0f} MB"
    )
    assert kept + len(removed) == n
    assert {doc_id for doc_id, _ in removed} == planted


def test_bucket_edges_all_pairs_when_small_star_when_large():
    from curation.clusters import bucket_edges

    small = [(6, "c"), (1, "b"), (6, "a")]
    assert sorted(bucket_edges(small, 3)) == [((1, "b"), (6, "a")), ((1, "b"), (6, "c")), ((6, "a"), (6, "c"))]
    large = [(5, f"id{i}") for i in range(10)]
    assert sorted(bucket_edges(large, 3)) == [((5, "id0"), (5, f"id{i}")) for i in range(1, 10)]
    assert list(bucket_edges(large[:1], 3)) == []


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 30), st.integers(0, 30)), max_size=60), st.randoms(use_true_random=False))
def test_union_find_components_match_graph_search_in_any_order(pairs, rnd):
    from curation.clusters import UnionFind, components

    edges = [((a % 3, f"n{a}"), (b % 3, f"n{b}")) for a, b in pairs]
    # reference: breadth-first search over the undirected graph
    graph: dict = {}
    for a, b in edges:
        graph.setdefault(a, set()).add(b)
        graph.setdefault(b, set()).add(a)
    expected = {}
    for start in graph:
        if start in expected:
            continue
        seen, frontier = {start}, [start]
        while frontier:
            frontier = [n for node in frontier for n in graph[node] if n not in seen and not seen.add(n)]
        for node in seen:
            expected[node] = min(seen)
    assert components(edges) == expected
    # split into partial union-finds merged in a shuffled order (as combiner accumulators are)
    shuffled = edges[:]
    rnd.shuffle(shuffled)
    parts = [UnionFind() for _ in range(3)]
    for k, edge in enumerate(shuffled):
        parts[k % 3].union(*edge)
    merged = parts[2]
    merged.merge(parts[0])
    merged.merge(parts[1])
    assert dict(merged.assignments()) == expected


def test_unhashable_document_is_dead_lettered_once(corpus, tmp_path):
    bad = Document("web/bad.jsonl#3", "web", None)  # a reader bug upstream: no text
    out = run_dedup([bad, corpus["web/a#0"], corpus["web/a#1"]], tmp_path)
    assert [r["id"] for r in out["kept"]] == ["web/a#0"]  # failed only: one outcome per input document
    assert [r["id"] for r in out["removed"]] == ["web/a#1"]
    assert len(out["failed"]) == 1 and out["failed"][0]["location"] == "web/bad.jsonl#3"
    assert "AttributeError" in out["failed"][0]["error"] or "TypeError" in out["failed"][0]["error"]


def test_hot_bucket_over_the_cap_still_links_every_member(tmp_path):
    words = words_of_book()
    text = " ".join(words[40000:40300])
    docs = [Document(f"web/hot#{i:02d}", "web", f"{text} variant{i}") for i in range(12)]
    docs.append(Document("web/other#0", "web", " ".join(words[41000:41300])))
    cfg = load_config(overrides=["dedup.max_bucket_size=3", "dedup.all_pairs_up_to=2"])
    out = run_dedup(docs, tmp_path, cfg)
    assert [r["id"] for r in out["kept"]] == ["web/hot#00", "web/other#0"]
    assert {r["meta"]["duplicate_of"] for r in out["removed"]} == {"web/hot#00"}
    assert len(out["removed"]) == 11


def test_empty_input_gives_empty_outputs(tmp_path):
    out = run_dedup([], tmp_path)
    assert out == {"kept": [], "removed": [], "clusters": [], "failed": []}
