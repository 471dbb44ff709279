"""Benchmark: the numba n-gram kernel (`curation.ngram_stats.ngram_fractions`) against the numpy code it replaced.

    .venv/bin/python bench/bench_ngram_stats.py [CORPUS.jsonl] [--docs N] [--repeats R]

CORPUS defaults to /tmp/c3k.jsonl when present, else one is generated with
`bench/corpus_gen.py --docs 3000 --seed 0`. For both token sequences (`words`, the gopher reading, and
`datatrove_tokens`) and both conventions it prints µs/document of the numpy code (`tests/ngram_reference.py`, baseline) and of
`ngram_fractions` excluding and including building `hashes`/`cum` from the token tuple, the ratios, and how
many dicts are equal; then the first-call time (cache load, or compile when the cache is cold) in a fresh process.
Tokenisation is done once up front and is in none of the figures. Best of R passes over all documents.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from ngram_reference import reference_ngram_signals as ngram_signals  # noqa: E402

from curation.datatrove_tokens import datatrove_tokens  # noqa: E402
from curation.ngram_stats import CONVENTIONS, ngram_fractions  # noqa: E402
from curation.ngram_stats import sequence_arrays as token_arrays  # noqa: E402
from curation.text import words  # noqa: E402

DEFAULT_CORPUS = Path("/tmp/c3k.jsonl")

FIRST_CALL = """
import time
t0 = time.perf_counter()
import numba
t1 = time.perf_counter()
from curation.ngram_stats import ngram_fractions, sequence_arrays as token_arrays
hashes, cum = token_arrays(("a", "b", "a", "b", "a", "b", "a"))
t2 = time.perf_counter()
ngram_fractions(hashes, cum, 13, "repeats")
t3 = time.perf_counter()
ngram_fractions(hashes, cum, 13, "all_occurrences")
t4 = time.perf_counter()
print(f"{t1 - t0:.3f} {t3 - t2:.3f} {(t4 - t3) * 1e6:.1f}")
"""


def corpus(path: Path | None) -> Path:
    if path is not None:
        return path
    if DEFAULT_CORPUS.exists():
        return DEFAULT_CORPUS
    out = Path(tempfile.gettempdir()) / "bench_ngram_stats_c3k.jsonl"
    if not out.exists():
        cmd = [sys.executable, str(REPO / "bench/corpus_gen.py"), "--docs", "3000", "--seed", "0", "--output", str(out)]
        subprocess.run(cmd, check=True)
    return out


def baseline(toks_list, lens, convention):
    for toks, text_len in zip(toks_list, lens, strict=True):
        ngram_signals(toks, text_len, convention)


def kernel(arrays, lens, convention):
    for (hashes, cum), text_len in zip(arrays, lens, strict=True):
        ngram_fractions(hashes, cum, text_len, convention)


def kernel_with_arrays(toks_list, lens, convention):
    for toks, text_len in zip(toks_list, lens, strict=True):
        ngram_fractions(*token_arrays(toks), text_len, convention)


def best_of(repeats: int, fn, *args) -> float:
    """Best wall time of `repeats` calls of fn(*args)."""
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - t)
    return min(times)


def first_call(env_cache: str | None) -> tuple[float, float, float]:
    """(numba import s, first ngram_fractions call s, second convention's first call µs) in a fresh process."""
    env = None
    if env_cache is not None:
        import os

        env = {**os.environ, "NUMBA_CACHE_DIR": env_cache}
    out = subprocess.run(
        [sys.executable, "-c", FIRST_CALL], cwd=REPO, env=env, check=True, capture_output=True, text=True
    ).stdout
    a, b, c = map(float, out.split())
    return a, b, c


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", nargs="?", type=Path)
    ap.add_argument("--docs", type=int, default=3000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-cold", action="store_true", help="skip the cold-cache compile measurement")
    args = ap.parse_args()
    path = corpus(args.corpus)
    with path.open(encoding="utf-8") as f:
        texts = [json.loads(line)["text"] for line, _ in zip(f, range(args.docs), strict=False)]
    n = len(texts)
    print(f"corpus {path}: {n} documents, {sum(map(len, texts)) / n:.0f} characters each on average")
    lens = [len(t) for t in texts]
    seqs = {"words": [words(t) for t in texts], "datatrove_tokens": [datatrove_tokens(t) for t in texts]}
    ngram_fractions(*token_arrays(("a", "b")), 2, "repeats")  # load or compile outside the timings

    print(
        f"{'tokens':17} {'convention':16} {'baseline':>9} {'kernel':>8} {'+arrays':>8} {'x kernel':>9} {'x +arrays':>9} equal"
    )
    for kind, toks_list in seqs.items():
        arrays = [token_arrays(toks) for toks in toks_list]
        for convention in CONVENTIONS:
            equal = sum(
                ngram_fractions(h, c, tl, convention) == ngram_signals(toks, tl, convention)
                for (h, c), toks, tl in zip(arrays, toks_list, lens, strict=True)
            )
            base = best_of(args.repeats, baseline, toks_list, lens, convention)
            kern = best_of(args.repeats, kernel, arrays, lens, convention)
            full = best_of(args.repeats, kernel_with_arrays, toks_list, lens, convention)
            us = [x / n * 1e6 for x in (base, kern, full)]
            print(
                f"{kind:17} {convention:16} {us[0]:9.1f} {us[1]:8.1f} {us[2]:8.1f} "
                f"{us[0] / us[1]:8.1f}x {us[0] / us[2]:8.1f}x {equal}/{n}"
            )

    imp, first, second = first_call(None)
    print(
        f"fresh process, warm cache: import numba {imp:.2f} s, first call (cache load) {first:.2f} s, "
        f"first call of the other convention {second:.0f} µs"
    )
    if not args.no_cold:
        with tempfile.TemporaryDirectory() as cache:
            imp, first, _ = first_call(cache)
        print(f"fresh process, empty cache: import numba {imp:.2f} s, first call (compile) {first:.2f} s")


if __name__ == "__main__":
    main()
