"""The compiled MinHash kernels of `curation.minhash` against the numpy formulation they replaced.

`minhash_reference` (tests/minhash_reference.py) is that numpy code, so these tests compare two independent
implementations: token hashes, shingle hashes, signatures and band hashes must be bit-identical (values,
dtype and shape) on bundled and random texts and on non-default parameters.
"""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

import minhash_reference as reference
import numpy as np
import pytest

from curation.minhash import (
    MinHashParams,
    band_hashes,
    normalize_words,
    shingle_hashes,
    shingle_hashes_raw,
    signature,
    signature_from_shingles,
    sketch,
    token_hashes,
)
from curation.sample import sample_dir

# --- comparison ---------------------------------------------------------------------------------------


def _same(got: np.ndarray, want: np.ndarray) -> bool:
    return got.dtype == want.dtype and got.shape == want.shape and np.array_equal(got, want)


def assert_identical(text: str, params: MinHashParams) -> None:
    """Every public entry point, and the one-call sketch, equal to the numpy reference on one text."""
    norm = normalize_words(text, params)
    assert _same(token_hashes(norm), reference.token_hashes(norm)), text[:80]
    want_sh = reference.shingle_hashes_raw(text, params)
    want_sig = reference.signature_from_shingles(want_sh, params)
    want_bands = reference.band_hashes(want_sig, params)
    got_sh = shingle_hashes_raw(text, params)
    assert _same(got_sh, want_sh), text[:80]
    assert _same(shingle_hashes(text, params), np.unique(want_sh))
    assert _same(signature_from_shingles(got_sh, params), want_sig), text[:80]
    assert _same(signature(text, params), want_sig)
    assert _same(band_hashes(want_sig, params), want_bands)
    got = sketch(text, params)
    assert _same(got.shingles, want_sh) and _same(got.signature, want_sig) and _same(got.bands, want_bands)


PARAMS = [
    MinHashParams(),
    MinHashParams(ngram=1),
    MinHashParams(ngram=5, num_perm=64, bands=8, rows=8),
    MinHashParams(num_perm=256, bands=32, rows=7, seed=7),
    MinHashParams(ngram=3, num_perm=64, bands=64, rows=1, seed=0),
    MinHashParams(ngram=2, num_perm=100, bands=3, rows=33, seed=12345),
    MinHashParams(ngram=13, lowercase=False, strip_punctuation=False, unicode_normalization=""),
    MinHashParams(ngram=5, unicode_normalization="NFKC", lowercase=False),
]
IDS = ["default", "n1", "n5-p64", "p256-s7", "n3-r1", "n2-p100", "raw", "nfkc-keepcase"]


def _random_texts(seed: int = 0) -> list[str]:
    """Edge cases and seeded random texts: empty, 1/12/13/14 words, non-ASCII, emoji, long and repeated words."""
    rng = random.Random(seed)
    alphabet = "abcdefghij klmnop ÄÖÜßéèçñ ΔλΩ Жжщ 中文字 🙂🚀👍🏽 ,.;!? \t\n-'\u0130\u00a0\u2000\u3000\x1c\x85\u2028\u205f\u200b"
    vocab = ["the", "a", "Straße", "naïve", "İstanbul", "日本語", "🙂", "x" * 300, "don't", "e.g.", "ﬁne", "Ⅻ"]
    texts = ["", " ", " ... !? ", "one", "🙂", "x" * 5000, "word " * 500, "a b " * 200]
    for count in (1, 2, 12, 13, 14, 15, 26, 27):
        texts.append(" ".join(rng.choice(vocab) for _ in range(count)))
        texts.append(" ".join(f"w{i}" for i in range(count)))
    for _ in range(60):
        texts.append("".join(rng.choice(alphabet) for _ in range(rng.randint(0, 600))))
        texts.append(" ".join(rng.choice(vocab) for _ in range(rng.randint(0, 80))))
    return texts


def _sample_texts() -> list[str]:
    """Bundled sample text: a book, the news corpus (one document a line) and web JSONL records."""
    root = Path(sample_dir())
    texts = []
    with gzip.open(root / "books" / "105.txt.gz", "rt", encoding="utf-8") as fh:
        book = fh.read()
    texts += [book[i : i + 20000] for i in range(0, 200000, 20000)]
    with gzip.open(root / "news" / "lee_background.cor.gz", "rt", encoding="utf-8") as fh:
        texts += fh.read().splitlines()[:100]
    for path in sorted((root / "web").glob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            texts += [json.loads(line)["text"] for line in fh.read().splitlines()[:60]]
    return texts


@pytest.fixture(scope="module")
def texts() -> list[str]:
    return _random_texts() + _sample_texts()


@pytest.mark.parametrize("params", PARAMS, ids=IDS)
def test_kernels_match_numpy_reference(texts, params):
    for text in texts:
        assert_identical(text, params)


def test_signature_and_bands_of_arbitrary_arrays():
    """Shingle arrays with extreme values and every length around the old chunk size; bands of any signature."""
    rng = np.random.default_rng(3)
    params = MinHashParams()
    for size in (0, 1, 2, 255, 256, 257, 1000):
        shingles = rng.integers(0, 2**64, size=size, dtype=np.uint64, endpoint=False)
        shingles[: min(size, 2)] = [0, 2**64 - 1][: min(size, 2)]
        want = reference.signature_from_shingles(shingles, params)
        assert _same(signature_from_shingles(shingles, params), want)
        assert _same(signature_from_shingles(shingles[::-1], params), want)  # non-contiguous input
    for _ in range(20):
        sig = rng.integers(0, 2**32, size=params.num_perm, dtype=np.uint32)
        assert _same(band_hashes(sig, params), reference.band_hashes(sig, params))
    assert _same(
        signature_from_shingles(np.zeros(0, dtype=np.uint64), params), np.full(128, 0xFFFFFFFF, dtype=np.uint32)
    )


@pytest.mark.parametrize(
    "params",
    [
        MinHashParams(ngram=1, lowercase=False, unicode_normalization=""),
        MinHashParams(ngram=1, lowercase=False, strip_punctuation=False, unicode_normalization=""),
        MinHashParams(ngram=1),
    ],
    ids=["delete", "keep", "default"],
)
def test_every_code_point_is_deleted_split_or_kept_as_before(params):
    """Every code point (surrogates too) between two letters: the kernel deletes punctuation and cuts words
    exactly where `normalize_words` (regex, `str.split`) does. With ngram 1 a shingle is one word."""
    chars = [chr(c) for c in range(0x110000)]
    for start in range(0, len(chars), 1 << 17):
        text = " ".join(f"x{c}y" for c in chars[start : start + (1 << 17)])
        assert _same(shingle_hashes_raw(text, params), reference.shingle_hashes_raw(text, params))
    for text in ["", " ", "\u3000\t", " a", "a ", "a\u2000\u2000b\x85", "\u200bx", "a\u2019b \u201cc\u201d"]:
        assert _same(shingle_hashes_raw(text, params), reference.shingle_hashes_raw(text, params))


def test_token_hashes_of_any_spacing():
    """token_hashes splits at single spaces only, as before: empty words between spaces, other whitespace kept."""
    for text in ["a  b", " a", "  ", "a\tb c", "x\u3000y", "\u00e9 \ud800", "a ", " ", "a  ", "\u00e9 "]:
        assert _same(token_hashes(text), reference.token_hashes(text)), repr(text)


def test_reference_is_sensitive():
    """The comparison can fail: a changed seed, n or row count changes the reference's answer."""
    text = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen"
    base = MinHashParams()
    assert not _same(
        signature(text, base),
        reference.signature_from_shingles(reference.shingle_hashes_raw(text, base), MinHashParams(seed=2)),
    )
    assert not _same(shingle_hashes_raw(text, base), reference.shingle_hashes_raw(text, MinHashParams(ngram=12)))
    sig = signature(text, base)
    assert not _same(band_hashes(sig, base), reference.band_hashes(sig, MinHashParams(rows=5)))


def test_development_corpus(shared_data):
    """More text from ../shared/data (skipped when absent): web records, news and book pieces, default parameters."""
    root = Path(shared_data)
    texts = []
    for path in sorted((root / "web").rglob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8", errors="replace") as fh:
            texts += [json.loads(line)["text"] for line in fh.read().splitlines()[:400]]
    for path in sorted((root / "news").rglob("*.cor")):
        texts += path.read_text(encoding="utf-8", errors="replace").splitlines()
    for path in sorted((root / "books").rglob("*.txt.gz")):
        with gzip.open(path, "rt", encoding="utf-8", errors="replace") as fh:
            book = fh.read(400_000)
        texts += [book[i : i + 40_000] for i in range(0, len(book), 40_000)]
    assert len(texts) > 100
    for text in texts:
        assert_identical(text, MinHashParams())
