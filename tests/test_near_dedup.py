"""Near dedup through the whole pipeline: clustering, verification, transitivity, priority, determinism."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pipeline_helpers import outcome, run_documents

from curation.sample import sample_dir
from curation.schema import Document

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


def run_dedup(docs: list[Document], work, *flags: str) -> dict:
    """Run the pipeline's dedup stage over the documents and read every outcome back."""
    code, out = run_documents(docs, work, *flags)
    assert code == 0
    return outcome(out)


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
    assert all(r["reason"] == "dedup.exact" for r in out["removed"])
    assert len(out["clusters"]) == 12


def test_without_verification_candidates_merge(corpus, tmp_path):
    flags = [
        "--set",
        "dedup.verify=none",
        "--set",
        "dedup.bands=32",
        "--set",
        "dedup.rows=2",
        "--set",
        "dedup.num_perm=64",
    ]
    out = run_dedup([corpus["web/c#0"], corpus["web/c#1"]], tmp_path, *flags)
    assert [r["id"] for r in out["removed"]] == ["web/c#1"]


@pytest.mark.slow
def test_same_bytes_with_one_and_two_workers(corpus, tmp_path):
    docs = list(corpus.values())
    one_code, one = run_documents(docs, tmp_path / "one", "--workers", "1")
    two_code, two = run_documents(docs, tmp_path / "two", "--workers", "2")
    assert one_code == two_code == 0
    files = sorted(p.relative_to(one) for p in one.rglob("*") if p.is_file() and p.name != "_CURATION_OUTPUT")
    assert files == sorted(p.relative_to(two) for p in two.rglob("*") if p.is_file() and p.name != "_CURATION_OUTPUT")
    assert any("removed" in str(f) for f in files)
    for f in files:
        if f.name != "manifest.json":
            assert (one / f).read_bytes() == (two / f).read_bytes(), f


def test_inspect_dedup_reports_largest_cluster_with_side_by_side_diff(corpus, result, tmp_path):
    from curation.inspect_dedup import inspect_dedup

    assert "no dedup cluster table" in inspect_dedup(str(tmp_path))
    _code, out = run_documents(list(corpus.values()), tmp_path / "run")
    by_id = {r["id"]: r for r in result["kept"] + result["removed"]}
    report = inspect_dedup(str(out), top=2)
    lines = report.splitlines()
    assert lines[0].startswith(f"3 clusters, {len(result['clusters'])} member documents")
    assert "#1 cluster near-web/a#0: 3 members" in report
    assert "#3" not in report
    assert "diff: web/a#0 (left) vs web/a#1 (right)" in report
    # the sliding window drops the first 25 words on the right: the diff must show left-only text
    first_words = " ".join(by_id["web/a#0"]["text"].split()[:3])
    assert any(line.strip().startswith(first_words) and (" < " in line or " | " in line) for line in lines)


def test_bucket_pairs_all_pairs_when_small_star_when_large():
    from curation.lsh import BAND_ROW_DTYPE, bucket_pairs

    def rows(pairs):
        return np.array(pairs, dtype=BAND_ROW_DTYPE)

    small = rows([(7, 6), (7, 1), (7, 3), (9, 5)])  # one bucket of three, one of one
    assert bucket_pairs(small, 3).tolist() == [[1, 3], [1, 6], [3, 6]]
    large = rows([(5, k) for k in range(10, 0, -1)])
    assert bucket_pairs(large, 3).tolist() == [[1, k] for k in range(2, 11)]
    assert bucket_pairs(rows([(5, 1)]), 3).size == 0


def _bfs_components(edges):
    graph: dict = {}
    for a, b in edges:
        if a != b:
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
    return expected


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(st.integers(0, 40), st.integers(0, 40)), max_size=80),
    st.integers(0, 4),
    st.integers(1, 5),
)
def test_star_steps_give_the_components_of_a_graph_search(pairs, rounds, parts):
    from curation import components as cc

    edges = np.array(pairs, dtype=np.uint64).reshape(-1, 2)
    expected = _bfs_components(pairs)
    assert {int(a): int(b) for a, b in cc.components(edges, rounds)} == expected
    # the distributed form: every step on edges routed by node to `parts` partitions
    current = cc.canonical(edges)
    for _ in range(rounds):
        for kind in ("large", "small"):
            current = cc.canonical(np.concatenate([cc.star_step(g, kind) for g in cc.route(current, parts)]))
    rows = cc.finish_components(*cc.split_settled(current))
    assert {int(a): int(b) for a, b in rows} == expected


@pytest.mark.parametrize("shape", ["chain", "star", "cliques"])
def test_components_of_chains_stars_and_cliques(shape):
    from curation import components as cc

    rng = np.random.default_rng(7)
    n = 3000
    keys = rng.permutation(10 * n)[:n].astype(np.uint64)
    if shape == "chain":
        pairs = np.stack([keys[:-1], keys[1:]], axis=1)
    elif shape == "star":
        pairs = np.stack([np.full(n - 1, keys[0]), keys[1:]], axis=1)
    else:
        pairs = np.concatenate(
            [np.stack([keys[i : i + 10 - 1], keys[i + 1 : i + 10]], axis=1) for i in range(0, n, 10)]
        )
    expected = _bfs_components(pairs.tolist())
    for rounds in (0, 2, 8):
        assert {int(a): int(b) for a, b in cc.components(pairs, rounds)} == expected


def test_unhashable_document_is_dead_lettered_once(corpus, tmp_path, monkeypatch):
    import pipelines.process as process

    real = process.sketch

    def broken(text, params):
        if "variant-that-breaks" in text:
            raise TypeError("cannot hash this document")
        return real(text, params)

    monkeypatch.setattr(process, "sketch", broken)
    bad = Document("web/bad#3", "web", corpus["web/a#2"].text + " variant-that-breaks")
    out = run_dedup([bad, corpus["web/a#0"], corpus["web/a#1"]], tmp_path, "--workers", "1")
    assert [r["id"] for r in out["kept"]] == ["web/a#0"]  # failed only: one outcome per input document
    assert [r["id"] for r in out["removed"]] == ["web/a#1"]
    assert len(out["failed"]) == 1 and out["failed"][0]["source_location"] == "web/bad#3"
    assert out["failed"][0]["stage"] == "dedup" and "TypeError" in out["failed"][0]["error"]


def test_big_bucket_links_every_member_through_its_smallest(tmp_path):
    words = words_of_book()
    text = " ".join(words[40000:40300])
    docs = [Document(f"web/hot#{i:02d}", "web", f"{text} variant{i}") for i in range(12)]
    docs.append(Document("web/other#0", "web", " ".join(words[41000:41300])))
    out = run_dedup(docs, tmp_path, "--set", "dedup.all_pairs_up_to=2")
    assert [r["id"] for r in out["kept"]] == ["web/hot#00", "web/other#0"]
    assert {r["meta"]["duplicate_of"] for r in out["removed"]} == {"web/hot#00"}
    assert len(out["removed"]) == 11


def test_no_documents_gives_an_empty_committed_output(tmp_path):
    empty = tmp_path / "in" / "web.jsonl"
    empty.parent.mkdir()
    empty.write_text('{"text": ""}\n')
    from pipeline_helpers import run_cli, stats

    out = tmp_path / "out"
    assert run_cli("run", "--input", f"web={empty}", "--output", out, "--stages", "dedup") == 0
    assert (out / "_SUCCESS").exists() and stats(out)["invariant_ok"]
    assert outcome(out)["clusters"] == []
