"""Benchmark: `curation.token_spans.token_spans` (numba) against `curation.text.tokenize` (the regex).

Prints µs per document of `tokenize` (baseline), of `token_spans` including the code point conversion, of
the kernel alone (`token_spans_cp` on converted texts) and the ratio; checks that both give the same tokens
on every document; and times, each in a fresh process, the import, the class table and the first call:
once with an empty numba cache (JIT compile) and once more with that cache filled (cache load).

    .venv/bin/python bench/bench_token_spans.py [CORPUS.jsonl] [--docs 3000] [--repeats 5]

CORPUS defaults to /tmp/c3k.jsonl, generated with `bench/corpus_gen.py --docs 3000 --seed 0` if absent.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from curation.text import tokenize  # noqa: E402
from curation.token_spans import code_points, token_spans, token_spans_cp  # noqa: E402

DEFAULT = Path("/tmp/c3k.jsonl")

FIRST_CALL = """
import time
t0 = time.perf_counter()
from curation.token_spans import class_table, token_spans
t1 = time.perf_counter()
class_table()
t2 = time.perf_counter()
token_spans("Mr. Smith cannot go.")
t3 = time.perf_counter()
print(f"{(t1 - t0) * 1e3:.0f} {(t2 - t1) * 1e3:.0f} {(t3 - t2) * 1e3:.0f}")
"""


def load(path: Path, docs: int) -> list[str]:
    if not path.exists():
        print(f"generating {path} ...", flush=True)
        gen = [sys.executable, str(REPO / "bench" / "corpus_gen.py"), "--docs", str(docs), "--seed", "0"]
        subprocess.run([*gen, "--output", str(path)], check=True)
    texts = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            texts.append(json.loads(line)["text"])
            if len(texts) == docs:
                break
    return texts


def first_call(cache_dir: str) -> str:
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    out = subprocess.run([sys.executable, "-c", FIRST_CALL], env=env, cwd=REPO, capture_output=True, text=True)
    out.check_returncode()
    imp, table, call = out.stdout.split()
    return f"import {imp} ms, class table {table} ms, first call {call} ms"


def best(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("corpus", nargs="?", type=Path, default=DEFAULT)
    ap.add_argument("--docs", type=int, default=3000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--no-first-call", action="store_true", help="skip the fresh-process compile/load timing")
    args = ap.parse_args()

    texts = load(args.corpus, args.docs)
    n = len(texts)
    chars = sum(map(len, texts))
    print(f"{n} documents, {chars / n:.0f} characters each on average ({args.corpus})")

    if not args.no_first_call:
        with tempfile.TemporaryDirectory() as cache:
            print(f"fresh process, empty numba cache (JIT compile): {first_call(cache)}")
            print(f"fresh process, cache filled (cache load):       {first_call(cache)}")

    token_spans("warm up")
    same = 0
    for t in texts:
        starts, ends = token_spans(t)
        same += [t[s:e] for s, e in zip(starts.tolist(), ends.tolist(), strict=True)] == tokenize(t)
    print(f"same tokens as tokenize: {same} of {n} documents")

    cps = [code_points(t) for t in texts]
    regex = spans = kernel = float("inf")
    for _ in range(args.repeats):  # interleaved, best of N
        regex = min(regex, best(lambda: [tokenize(t) for t in texts], 1))
        spans = min(spans, best(lambda: [token_spans(t) for t in texts], 1))
        kernel = min(kernel, best(lambda: [token_spans_cp(c) for c in cps], 1))
    us = 1e6 / n
    print(f"tokenize (regex):                      {regex * us:8.1f} µs/document")
    print(f"token_spans (with code point convert): {spans * us:8.1f} µs/document   {regex / spans:.1f}x faster")
    print(f"token_spans_cp (kernel alone):         {kernel * us:8.1f} µs/document   {regex / kernel:.1f}x faster")


if __name__ == "__main__":
    main()
