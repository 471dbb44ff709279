"""Near-dedup quality benchmark: planted near-duplicates of real documents, exact 13-gram Jaccard truth.

Builds documents from ../shared/data (Gutenberg books cut into pieces, Dolma web docs, Lee news,
enwiki pages), adds seeded perturbed copies (word edits, block reordering, appended boilerplate,
truncation, and copies of copies), computes the exact 13-gram Jaccard of every pair that shares a
shingle (pairs sharing none have J = 0, so this is every pair with J >= 0.5), and reports precision
and recall of the removed documents at J >= 0.8 for the pipeline's dedup stage (curation run) and for
datasketch.MinHashLSH with the same number of permutations, in the same run.

    .venv/bin/python bench/bench_dedup.py [--originals 1500] [--seed 0]
"""

from __future__ import annotations

import argparse
import bz2
import gzip
import json
import random
import re
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import pyarrow.dataset as ds
import pyarrow.parquet as pq
from corpus_path import SHARED_DATA
from datasketch import MinHash, MinHashLSH

from curation.cli import main as cli_main
from curation.components import components
from curation.config import load_config, source_priority
from curation.minhash import params_from_config
from curation.schema import Document, document_schema, documents_to_table, id_sort_key

DATA = SHARED_DATA
SOURCES = ["wikipedia", "books", "news", "c4", "web"]
BOILERPLATE = [
    "Subscribe to our newsletter to receive the latest stories, offers and updates straight to your inbox. "
    "You can unsubscribe at any time. Read our privacy policy and terms of service for more information.",
    "This article is distributed under the terms of the site licence. All rights reserved by the respective "
    "owners. Share this page on social media using the buttons below and leave a comment if you liked it.",
    "Related posts: more from this author, most popular articles this week, editor picks and recommended "
    "reading for you. Advertisement. Continue reading below. Cookie settings. Accept all cookies.",
]


def real_texts(rng: random.Random, originals: int) -> list[str]:
    """Real documents: Dolma web docs, Lee news, enwiki pages, and Gutenberg books cut into pieces."""
    texts = []
    for path in sorted((DATA / "web/commoncrawl/dolma").glob("*.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            texts += [json.loads(line)["text"] for line in fh if line.strip()]
    for path in sorted((DATA / "news/lee").glob("*.cor")):
        texts += [line for line in path.read_text("latin-1").splitlines() if len(line.split()) >= 30]
    with bz2.open(DATA / "wikipedia/gensim/enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2") as fh:
        xml = fh.read().decode("utf-8")
    for page in re.findall(r"<text[^>]*>(.*?)</text>", xml, flags=re.S):
        if not page.startswith("#REDIRECT") and len(page.split()) >= 100:
            texts.append(page[:20000])
    for path in sorted((DATA / "books/gutenberg").glob("*.txt.gz")):
        with gzip.open(path, "rt", encoding="utf-8", errors="replace") as fh:
            words = fh.read().split()
        pos = 0
        while pos < len(words) - 100:
            size = rng.randint(150, 1500)
            texts.append(" ".join(words[pos : pos + size]))
            pos += size
    rng.shuffle(texts)
    return texts[:originals]


def perturb(text: str, rng: random.Random) -> str:
    """One or two seeded perturbations: word edits, block reordering, boilerplate, truncation."""
    words = text.split()
    for kind in rng.sample(["edit", "reorder", "boilerplate", "truncate"], rng.choice([1, 1, 2])):
        if kind == "edit":
            rate = rng.uniform(0.001, 0.02)
            for i in range(len(words)):
                if rng.random() < rate:
                    words[i] = rng.choice(["the", "a", "very", "new", words[rng.randrange(len(words))]])
        elif kind == "reorder" and len(words) > 100:
            cut = sorted(rng.sample(range(len(words)), 2))
            words = words[cut[1] :] + words[cut[0] : cut[1]] + words[: cut[0]]
        elif kind == "boilerplate":
            words += rng.choice(BOILERPLATE).split()
        elif kind == "truncate":
            words = words[: max(20, int(len(words) * rng.uniform(0.75, 0.99)))]
    return " ".join(words)


def build_corpus(originals: int, seed: int) -> list[Document]:
    """Originals plus 0-3 perturbed copies each (some copies of copies), random sources."""
    rng = random.Random(seed)
    docs = []
    for i, text in enumerate(real_texts(rng, originals)):
        family = [text]
        for _ in range(rng.choice([0, 0, 0, 1, 1, 2, 3])):
            family.append(perturb(rng.choice(family), rng))
        for j, member in enumerate(family):
            source = rng.choice(SOURCES)
            docs.append(Document(f"{source}/doc{i:05d}#{j}", source, member))
    return docs


def reference_shingles(text: str, n: int = 13) -> set[str]:
    """Word 13-grams, lowercased, punctuation removed (written independently of curation.minhash)."""
    toks = re.sub(r"[^\w\s]+", "", text.lower()).split()
    if not toks:
        return set()
    return {" ".join(toks[i : i + n]) for i in range(max(1, len(toks) - n + 1))}


def exact_pairs(shingle_sets: list[set[str]], min_j: float) -> dict[tuple[int, int], float]:
    """Exact Jaccard of every pair sharing at least one shingle (inverted index), kept if >= min_j."""
    vocab: dict[str, int] = {}
    rows, cols = [], []
    for doc, grams in enumerate(shingle_sets):
        for g in grams:
            rows.append(vocab.setdefault(g, len(vocab)))
            cols.append(doc)
    order = np.lexsort((np.array(cols), np.array(rows)))
    rows_s, cols_s = np.array(rows)[order], np.array(cols)[order]
    bounds = np.flatnonzero(np.diff(rows_s)) + 1
    inter: dict[tuple[int, int], int] = defaultdict(int)
    for group in np.split(cols_s, bounds):
        if len(group) > 1:
            g = group.tolist()
            for x in range(len(g)):
                for y in range(x + 1, len(g)):
                    inter[(g[x], g[y])] += 1
    sizes = [len(s) for s in shingle_sets]
    out = {}
    for (a, b), k in inter.items():
        j = k / (sizes[a] + sizes[b] - k)
        if j >= min_j:
            out[(a, b)] = j
    return out


def removed_by_edges(docs: list[Document], edges, cfg) -> set[str]:
    """Documents a cluster-and-keep-one rule removes given duplicate edges (doc index pairs)."""
    rank = sorted(range(len(docs)), key=lambda i: (source_priority(cfg, docs[i].source), id_sort_key(docs[i].id)))
    order = np.empty(len(docs), dtype=np.uint64)
    order[rank] = np.arange(len(docs), dtype=np.uint64)  # a node's key orders like the survivor rule
    pairs = np.array([(order[a], order[b]) for a, b in edges], dtype=np.uint64).reshape(-1, 2)
    by_key = {int(order[i]): docs[i].id for i in range(len(docs))}
    return {by_key[int(node)] for node, root in components(pairs) if node != root}


def precision_recall(found: set[str], truth: set[str]) -> tuple[float, float]:
    """Precision and recall of a removed set against the ground-truth removed set."""
    tp = len(found & truth)
    return (tp / len(found) if found else 1.0), (tp / len(truth) if truth else 1.0)


def run_near_dedup(docs: list[Document], cfg) -> set[str]:
    """Removed ids from the pipeline's dedup stage (`curation run --stages dedup`, in-process DirectRunner)."""
    with tempfile.TemporaryDirectory() as tmp:
        args = ["run", "--output", f"{tmp}/out", "--stages", "dedup", "--workers", "1"]
        args += ["--set", f"dedup.verify={cfg['dedup']['verify']}"]
        for source in sorted({d.source for d in docs}):
            path = Path(tmp) / "in" / source / "docs.parquet"
            path.parent.mkdir(parents=True)
            group = [d for d in docs if d.source == source]
            pq.write_table(documents_to_table(group, document_schema(["dummy"])), path)
            args += ["--input", f"{source}:parquet={path}"]
        if cli_main(args) != 0:
            raise RuntimeError("curation run failed")
        removed = ds.dataset(f"{tmp}/out/removed", format="parquet").to_table(columns=["id"])
        return set(removed.column("id").to_pylist())


def datasketch_removed(docs, shingle_sets, cfg, params=None) -> tuple[set[str], float]:
    """Removed ids from datasketch.MinHashLSH (same permutations, threshold), no verification."""
    t0 = time.perf_counter()
    num_perm = cfg["dedup"]["num_perm"]
    lsh = MinHashLSH(threshold=cfg["dedup"]["threshold"], num_perm=num_perm, params=params)
    hashes = []
    for i, grams in enumerate(shingle_sets):
        m = MinHash(num_perm=num_perm, seed=1)
        m.update_batch([g.encode("utf-8") for g in grams])
        hashes.append(m)
        lsh.insert(i, m)
    edges = []
    for i, m in enumerate(hashes):
        edges += [(i, j) for j in lsh.query(m) if j > i]
    return removed_by_edges(docs, edges, cfg), time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--originals", type=int, default=1500)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    cfg = load_config()
    params = params_from_config(cfg["dedup"])
    threshold = cfg["dedup"]["threshold"]
    docs = build_corpus(args.originals, args.seed)
    t0 = time.perf_counter()
    shingle_sets = [reference_shingles(d.text) for d in docs]
    pairs = exact_pairs(shingle_sets, 0.5)
    truth = removed_by_edges(docs, [p for p, j in pairs.items() if j >= threshold], cfg)
    hist = np.histogram(list(pairs.values()), bins=[0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 1.01])[0]
    print(f"corpus: {len(docs)} docs, {sum(d.nbytes for d in docs) / 1e6:.1f} MB from {DATA}")
    print(f"ground truth ({time.perf_counter() - t0:.1f}s): {len(pairs)} pairs with J>=0.5, histogram", hist.tolist())
    print(f"  {sum(j >= threshold for j in pairs.values())} pairs with J>={threshold}; {len(truth)} docs to remove")
    rows = []
    for mode in ("jaccard", "signature", "none"):
        run_cfg = {**cfg, "dedup": {**cfg["dedup"], "verify": mode}}
        t0 = time.perf_counter()
        found = run_near_dedup(docs, run_cfg)
        rows.append((f"curation dedup {params.bands}x{params.rows} verify={mode}", found, time.perf_counter() - t0))
    for label, lsh_params in (
        ("default params", None),
        (f"params={params.bands}x{params.rows}", (params.bands, params.rows)),
    ):
        found, secs = datasketch_removed(docs, shingle_sets, cfg, lsh_params)
        rows.append((f"datasketch MinHashLSH {label}", found, secs))
    print(f"{'method':48s} {'removed':>8s} {'precision':>9s} {'recall':>7s} {'seconds':>8s}")
    for label, found, secs in rows:
        p, r = precision_recall(found, truth)
        print(f"{label:48s} {len(found):8d} {p:9.4f} {r:7.4f} {secs:8.1f}")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
