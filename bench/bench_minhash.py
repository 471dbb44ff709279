"""MinHash signature throughput (one core): curation.minhash vs datasketch and rensa on real text.

Same documents, same 13-gram shingles (lowercased, punctuation removed), 128 permutations. Each
method is timed end to end from text to signature, so the baselines include building shingle
strings in Python (they cannot take text); the baseline is the
`datasketch.MinHash.update` loop.

    .venv/bin/python bench/bench_minhash.py [--docs 400]
"""

from __future__ import annotations

import argparse
import gzip
import random
import re
import time

from corpus_path import SHARED_DATA
from datasketch import MinHash
from rensa import RMinHash

from curation.minhash import MinHashParams, signature

DATA = SHARED_DATA
PUNCT = re.compile(r"[^\w\s]+")


def documents(count: int, seed: int = 0) -> list[str]:
    """Gutenberg book pieces of 100-3000 words (web-like length spread), seeded."""
    rng = random.Random(seed)
    words = []
    for path in sorted((DATA / "books/gutenberg").glob("*.txt.gz")):
        with gzip.open(path, "rt", encoding="utf-8", errors="replace") as fh:
            words += fh.read().split()
    docs = []
    for _ in range(count):
        size = rng.randint(100, 3000)
        start = rng.randrange(len(words) - size)
        docs.append(" ".join(words[start : start + size]))
    return docs


def grams(text: str, n: int = 13) -> list[str]:
    """Word 13-gram strings for the baselines (same normalisation as curation.minhash)."""
    toks = PUNCT.sub("", text.lower()).split()
    return [" ".join(toks[i : i + n]) for i in range(max(1, len(toks) - n + 1))]


def ours(docs: list[str]) -> None:
    params = MinHashParams(num_perm=128)
    for text in docs:
        signature(text, params)


def datasketch_update_loop(docs: list[str]) -> None:
    for text in docs:
        m = MinHash(num_perm=128, seed=1)
        for g in grams(text):
            m.update(g.encode("utf-8"))


def datasketch_update_batch(docs: list[str]) -> None:
    for text in docs:
        m = MinHash(num_perm=128, seed=1)
        m.update_batch([g.encode("utf-8") for g in grams(text)])


def rensa_rminhash(docs: list[str]) -> None:
    for text in docs:
        m = RMinHash(num_perm=128, seed=1)
        m.update(grams(text))
        m.digest()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=400)
    args = ap.parse_args()
    docs = documents(args.docs)
    mb = sum(len(d.encode("utf-8")) for d in docs) / 1e6
    print(f"{len(docs)} docs, {mb:.2f} MB, mean {sum(len(d.split()) for d in docs) / len(docs):.0f} words; 128 perms")
    methods = [
        ("datasketch MinHash.update loop (baseline)", datasketch_update_loop),
        ("datasketch MinHash.update_batch", datasketch_update_batch),
        ("rensa RMinHash", rensa_rminhash),
        ("curation.minhash.signature", ours),
    ]
    results = {}
    for label, fn in methods:
        fn(docs[:5])  # warm-up (permutation tables, caches)
        t0 = time.perf_counter()
        fn(docs)
        results[label] = time.perf_counter() - t0
    base = results[methods[0][0]]
    print(f"{'method':44s} {'docs/s':>9s} {'MB/s':>7s} {'x baseline':>10s}")
    for label, secs in results.items():
        print(f"{label:44s} {len(docs) / secs:9.1f} {mb / secs:7.2f} {base / secs:10.1f}")


if __name__ == "__main__":
    main()
