"""The numba n-gram kernel gives exactly the numpy reference's dict (same keys, `==` on every value)."""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

import ngram_reference
import numpy as np
import pytest
from ngram_reference import reference_ngram_signals

from curation.datatrove_tokens import datatrove_tokens
from curation.ngram_stats import CONVENTIONS, ngram_fractions, sequence_arrays
from curation.text import words

SAMPLE = Path(__file__).resolve().parents[1] / "curation" / "sample"
PIECE = 20_000


def mismatches(texts: list[str]) -> tuple[list[tuple[int, str, str]], int]:
    """(index, token sequence, convention) where the kernel differs, and how many signal values were non-zero."""
    bad, nonzero = [], 0
    for i, text in enumerate(texts):
        for kind, toks in (("words", words(text)), ("datatrove", datatrove_tokens(text))):
            hashes, cum = sequence_arrays(toks)
            for convention in CONVENTIONS:
                expected = reference_ngram_signals(toks, len(text), convention)
                if ngram_fractions(hashes, cum, len(text), convention) != expected:
                    bad.append((i, kind, convention))
                nonzero += sum(v != 0.0 for v in expected.values())
    return bad, nonzero


def pieces(text: str, limit: int) -> list[str]:
    """`text[:limit]` in `PIECE`-character pieces."""
    return [text[i : i + PIECE] for i in range(0, min(len(text), limit), PIECE)]


def jsonl_texts(path: Path) -> list[str]:
    return [json.loads(line)["text"] for line in gzip.open(path, "rt", encoding="utf-8") if line.strip()]


def test_bundled_samples():
    texts = []
    for book in sorted((SAMPLE / "books").glob("*.txt.gz")):
        texts += pieces(gzip.decompress(book.read_bytes()).decode("utf-8"), 120_000)
    texts += gzip.decompress((SAMPLE / "news/lee_background.cor.gz").read_bytes()).decode("latin-1").splitlines()
    for path in sorted((SAMPLE / "web").glob("*.jsonl.gz")):
        texts += jsonl_texts(path)
    bad, nonzero = mismatches(texts)
    assert bad == []
    assert nonzero > 1000  # the comparison is not between all-zero dicts


def test_development_corpus(shared_data):
    texts = []
    for book in sorted((shared_data / "books/gutenberg").glob("*.txt.gz")):
        texts += pieces(gzip.decompress(book.read_bytes()).decode("utf-8", "replace"), 160_000)
    texts += (shared_data / "news/lee/lee.cor").read_text("latin-1").splitlines()
    for path in sorted((shared_data / "web/commoncrawl/dolma").glob("*.json*.gz")):
        texts += jsonl_texts(path)
    lock_files = sorted((shared_data / "code/linguist/samples/TOML/filenames").glob("*.lock"))
    texts += [p.read_text("utf-8", "replace")[:60_000] for p in lock_files]  # repeat the same keys everywhere
    bad, nonzero = mismatches(texts)
    assert bad == []
    assert nonzero > 2000


def random_tokens(rng: random.Random) -> tuple[str, ...]:
    """A token sequence full of repeats and ties: 2..6 words of random lengths (the empty word included)."""
    vocab = [rng.choice("abc") * rng.randint(0, 6) + str(i) * rng.randint(0, 1) for i in range(rng.randint(2, 6))]
    m = rng.randint(0, 300)
    if rng.random() < 0.3:  # periodic with a random period, sometimes with a break
        period = [rng.choice(vocab) for _ in range(rng.randint(1, 12))]
        toks = [period[i % len(period)] for i in range(m)]
        if m and rng.random() < 0.5:
            toks[rng.randrange(m)] = rng.choice(vocab)
        return tuple(toks)
    return tuple(rng.choice(vocab) for _ in range(m))


def check(toks: tuple[str, ...], text_len: int) -> None:
    hashes, cum = sequence_arrays(toks)
    for convention in CONVENTIONS:
        assert ngram_fractions(hashes, cum, text_len, convention) == reference_ngram_signals(
            toks, text_len, convention
        ), (
            toks,
            text_len,
            convention,
        )


def test_random_token_sequences():
    rng = random.Random(20240611)
    nonzero = 0
    for _ in range(1500):
        toks = random_tokens(rng)
        text_len = sum(map(len, toks)) + max(0, len(toks) - 1) + rng.randint(0, 5) * rng.randint(0, 1)
        check(toks, text_len)
        nonzero += sum(v != 0.0 for v in reference_ngram_signals(toks, text_len, "repeats").values())
    assert nonzero > 5000


@pytest.mark.parametrize("m", [0, 1, 2, 3, 4, 5, 6, 9, 10, 11, 12, 21])
def test_short_and_degenerate_sequences(m):
    for toks in (
        ("same",) * m,  # all tokens equal
        tuple("ab"[i % 2] for i in range(m)),
        tuple("abc"[i % 3] * (i % 3) for i in range(m)),  # with empty tokens
        tuple(f"w{i}" for i in range(m)),  # all distinct
        tuple(("x", "yy", "x", "zzz")[i % 4] for i in range(m)),
    ):
        for text_len in (0, 1, sum(map(len, toks)) + m, 10_000):
            check(toks, text_len)


def test_long_periodic_sequences():
    for period in range(1, 13):
        toks = tuple(f"t{i % period}" * (1 + i % 3) for i in range(2000))
        check(toks, 3 * len(toks) + 17)


def test_same_answer_as_numpy_code_under_hash_collisions(monkeypatch):
    # Both implementations group by the same 64-bit keys, so colliding word hashes (here: only 3 values for
    # many words) give the same answer from both: the kernel mirrors the numpy code, not an idealised count.
    def colliding_hashes(toks):
        return np.fromiter((sum(map(ord, t)) % 3 for t in toks), dtype=np.uint64, count=len(toks))

    monkeypatch.setattr(ngram_reference, "local_word_hashes", colliding_hashes)
    rng = random.Random(7)
    for _ in range(200):
        toks = tuple(rng.choice(["a", "b", "cc", "d", "ee", "f"]) for _ in range(rng.randint(0, 200)))
        _, cum = sequence_arrays(toks)
        for convention in CONVENTIONS:
            got = ngram_fractions(colliding_hashes(toks), cum, 999, convention)
            assert got == reference_ngram_signals(toks, 999, convention)


def test_invalid_convention():
    hashes, cum = sequence_arrays(("a", "b"))
    with pytest.raises(ValueError) as ours:
        ngram_fractions(hashes, cum, 3, "paper")
    with pytest.raises(ValueError) as theirs:
        reference_ngram_signals(("a", "b"), 3, "paper")
    assert str(ours.value) == str(theirs.value)


def test_wrong_dtypes_are_refused():
    hashes, cum = sequence_arrays(("a", "b", "a", "b"))
    with pytest.raises(TypeError):
        ngram_fractions(hashes.view(np.int64), cum, 7, "repeats")
    with pytest.raises(TypeError):
        ngram_fractions(hashes, cum.astype(np.int32), 7, "repeats")
