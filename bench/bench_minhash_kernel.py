"""MinHash features per document: the numba kernels of curation.minhash against the numpy path they replaced.

For each stage (the words: `word_string` before, now the kernel deletes punctuation and splits the words of
`cased_text` itself; token hashes of the normalised string, shingle hashes, signature, band hashes) and for the
whole `_features` equivalent (`shingle_hashes_raw` + `signature_from_shingles` + `band_hashes`, text in,
band hashes out; new: one `sketch` call), prints microseconds per document for the old numpy formulation
(tests/minhash_reference.py, on the unchanged `curation.ngrams` helpers) and the kernels, their ratio, how many documents
give identical results, and the first-call time in a fresh process (cache load; and a cold compile into an
empty cache directory). Also times the permutation-major loop order of the signature against the
shingle-major one the module uses.

    .venv/bin/python bench/bench_minhash_kernel.py [CORPUS.jsonl] [--repeat 3]

The corpus defaults to /tmp/c3k.jsonl; without it, generate one with
`python bench/corpus_gen.py --docs 3000 --seed 0 --output FILE`.
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

import numpy as np
from numba import njit

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import minhash_reference as numpy_path  # noqa: E402  (the numpy path before the kernels)

from curation import minhash  # noqa: E402
from curation.minhash import MinHashParams, normalize_words  # noqa: E402
from curation.ngrams import cased_text  # noqa: E402

_U64 = np.uint64


@njit(cache=True, nogil=True)
def signature_permutation_major(shingles, a, b):  # pragma: no cover - compiled
    """The other loop order: per permutation, the min over all shingles (reduction in the inner loop)."""
    out = np.empty(a.size, dtype=np.uint32)
    for p in range(a.size):
        ap, bp = a[p], b[p]
        low = _U64(0xFFFFFFFFFFFFFFFF)
        for x in shingles:
            low = min(low, ap * x + bp)
        out[p] = np.uint32(low >> _U64(32))
    return out


# --- timing ---------------------------------------------------------------------------------------------


def per_doc_us(fn, inputs, repeat: int) -> float:
    """Best of `repeat` passes over all inputs, microseconds per input."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for item in inputs:
            fn(item)
        best = min(best, time.perf_counter() - start)
    return best / len(inputs) * 1e6


FIRST_CALL = """
import time
t0 = time.perf_counter()
from curation.minhash import MinHashParams, sketch
t1 = time.perf_counter()
sketch("a first call of the kernels with enough words to make more than one shingle of thirteen words", MinHashParams())
t2 = time.perf_counter()
print(f"{(t1 - t0) * 1e3:.0f} {(t2 - t1) * 1e3:.0f}")
"""


def first_call(cache_dir: str | None) -> str:
    env = dict(os.environ)
    if cache_dir is not None:
        env["NUMBA_CACHE_DIR"] = cache_dir
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-c", FIRST_CALL], capture_output=True, text=True, env=env, cwd=root)
    if out.returncode:
        return out.stderr.strip().splitlines()[-1]
    imp, call = out.stdout.split()
    return f"import curation.minhash {imp} ms, first sketch() {call} ms"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", nargs="?", default="/tmp/c3k.jsonl")
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    if not Path(args.corpus).exists():
        sys.exit(f"{args.corpus} missing: python bench/corpus_gen.py --docs 3000 --seed 0 --output {args.corpus}")
    with open(args.corpus, encoding="utf-8") as fh:
        texts = [json.loads(line)["text"] for line in fh]
    params = MinHashParams()
    a, b = minhash._permutations(params.num_perm, params.seed)
    minhash.sketch("warm up the kernels", params)
    signature_permutation_major(np.zeros(1, dtype=np.uint64), a, b)

    norms = [normalize_words(t, params) for t in texts]
    tokens = [numpy_path.token_hashes(n) for n in norms]
    shingles = [numpy_path.shingles_from_tokens(t, params.ngram) for t in tokens]
    sigs = [numpy_path.signature_from_shingles(s, params) for s in shingles]
    new = [minhash.sketch(t, params) for t in texts]

    def same(x: np.ndarray, y: np.ndarray) -> bool:
        return x.dtype == y.dtype and x.shape == y.shape and bool(np.array_equal(x, y))

    counts = {
        "token hashes": sum(same(minhash.token_hashes(n), t) for n, t in zip(norms, tokens, strict=True)),
        "shingles": sum(same(s.shingles, o) for s, o in zip(new, shingles, strict=True)),
        "signatures": sum(same(s.signature, o) for s, o in zip(new, sigs, strict=True)),
        "band hashes": sum(same(s.bands, numpy_path.band_hashes(o, params)) for s, o in zip(new, sigs, strict=True)),
        "shingle_hashes_raw": sum(
            same(minhash.shingle_hashes_raw(t, params), o) for t, o in zip(texts, shingles, strict=True)
        ),
        "signature_from_shingles": sum(
            same(minhash.signature_from_shingles(s, params), o) for s, o in zip(shingles, sigs, strict=True)
        ),
        "band_hashes": sum(same(minhash.band_hashes(o, params), numpy_path.band_hashes(o, params)) for o in sigs),
        "signature (perm-major)": sum(
            same(signature_permutation_major(s, a, b), o) for s, o in zip(shingles, sigs, strict=True)
        ),
    }
    words = sum(t.size for t in tokens) / len(texts)
    print(
        f"{len(texts)} documents from {args.corpus}: {words:.0f} words, {sum(map(len, texts)) / len(texts):.0f} chars each"
    )
    for name, count in counts.items():
        print(f"  identical {name:<24} {count}/{len(texts)}")

    r = args.repeat
    rows = [
        (
            "words: word_string / cased_text",
            per_doc_us(lambda t: normalize_words(t, params), texts, r),
            per_doc_us(lambda t: cased_text(t, params.words), texts, r),
        ),
        (
            "token hashes",
            per_doc_us(numpy_path.token_hashes, norms, r),
            per_doc_us(minhash.token_hashes, norms, r),
        ),
        (
            "shingles (from tokens)",
            per_doc_us(lambda t: numpy_path.shingles_from_tokens(t, params.ngram), tokens, r),
            per_doc_us(lambda t: minhash._shingle_kernel(t, params.ngram), tokens, r),
        ),
        (
            "signature (shingle-major)",
            per_doc_us(lambda s: numpy_path.signature_from_shingles(s, params), shingles, r),
            per_doc_us(lambda s: minhash.signature_from_shingles(s, params), shingles, r),
        ),
        (
            "signature (perm-major)",
            None,
            per_doc_us(lambda s: signature_permutation_major(s, a, b), shingles, r),
        ),
        (
            "bands",
            per_doc_us(lambda s: numpy_path.band_hashes(s, params), sigs, r),
            per_doc_us(lambda s: minhash.band_hashes(s, params), sigs, r),
        ),
        (
            "shingle_hashes_raw (text in)",
            per_doc_us(lambda t: numpy_path.shingle_hashes_raw(t, params), texts, r),
            per_doc_us(lambda t: minhash.shingle_hashes_raw(t, params), texts, r),
        ),
        (
            "_features, 3 public calls",
            per_doc_us(lambda t: numpy_path.features(t, params), texts, r),
            per_doc_us(
                lambda t: minhash.band_hashes(
                    minhash.signature_from_shingles(minhash.shingle_hashes_raw(t, params), params), params
                ),
                texts,
                r,
            ),
        ),
        (
            "_features, one sketch() call",
            per_doc_us(lambda t: numpy_path.features(t, params), texts, r),
            per_doc_us(lambda t: minhash.sketch(t, params), texts, r),
        ),
    ]
    print(f"\n  {'us/document':<30} {'numpy':>8} {'numba':>8} {'ratio':>7}")
    for name, old, kern in rows:
        o = f"{old:8.1f}" if old is not None else " " * 8
        k = f"{kern:8.1f}" if kern is not None else " " * 8
        ratio = f"{old / kern:6.1f}x" if old and kern else ""
        print(f"  {name:<30} {o} {k} {ratio:>7}")

    print("\nfirst call in a fresh process:")
    print(f"  cache present:        {first_call(None)}")
    with tempfile.TemporaryDirectory() as empty:
        print(f"  empty cache (compile): {first_call(empty)}")
        print(f"  same cache again:      {first_call(empty)}")


if __name__ == "__main__":
    main()
