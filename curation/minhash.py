"""Word n-gram shingles, vectorised MinHash signatures and LSH band keys for near-duplicate detection.

Everything after the text normalisation is numpy over whole arrays: token and shingle hashes are the shared
polynomial hashes of `curation.ngrams` (with this module's constants), and the signature is one
`(shingles x permutations)` multiply-add-min. All hashes are seeded and independent of `PYTHONHASHSEED`,
so signatures are identical on every worker.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from curation.ngrams import WindowSums, WordRule, inverse, mix64, word_hashes, word_string

_U64 = np.uint64
_GOLDEN = 0x9E3779B97F4A7C15
_BYTE_BASE = 0x100000001B3  # FNV-64 prime as the polynomial base over bytes
_TOKEN_BASE = 0xC2B2AE3D27D4EB4F  # odd multiplier folding token hashes into n-gram hashes
_TOKEN_BASE_INV = inverse(_TOKEN_BASE)
_CHUNK = 256  # shingles per multiply-min block: bounds the temporary matrix to CHUNK x num_perm x 8 bytes


@dataclass(frozen=True)
class MinHashParams:
    """Everything that decides a signature and its band keys (from the `dedup` config section)."""

    ngram: int = 13
    lowercase: bool = True
    strip_punctuation: bool = True
    unicode_normalization: str = "NFC"
    num_perm: int = 128
    bands: int = 20
    rows: int = 6
    seed: int = 1

    def __post_init__(self) -> None:
        if self.ngram < 1 or self.num_perm < 1 or self.bands < 1 or self.rows < 1:
            raise ValueError("dedup: ngram, num_perm, bands and rows must be positive")
        if self.bands * self.rows > self.num_perm:
            raise ValueError(f"dedup: bands*rows = {self.bands * self.rows} exceeds num_perm = {self.num_perm}")

    @property
    def words(self) -> WordRule:
        """The word normalisation these parameters select (punctuation deleted, not split: `don't` is one word)."""
        return WordRule(
            self.unicode_normalization,
            "lower" if self.lowercase else "keep",
            "delete" if self.strip_punctuation else "keep",
        )


def params_from_config(section: Mapping[str, Any]) -> MinHashParams:
    """MinHashParams from the `dedup` config section; bands/rows null means 'optimal for the threshold'."""
    num_perm = int(section["num_perm"])
    bands, rows = section["bands"], section["rows"]
    if bands is None or rows is None:
        bands, rows = optimal_bands_rows(float(section["threshold"]), num_perm, float(section["false_negative_weight"]))
    return MinHashParams(
        ngram=int(section["ngram"]),
        lowercase=bool(section["lowercase"]),
        strip_punctuation=bool(section["strip_punctuation"]),
        unicode_normalization=str(section["unicode_normalization"] or ""),
        num_perm=num_perm,
        bands=int(bands),
        rows=int(rows),
        seed=int(section["seed"]),
    )


def normalize_words(text: str, params: MinHashParams) -> str:
    """Text as the shingler sees it: Unicode-normalised, lowercased, punctuation removed, single spaces."""
    return word_string(text, params.words)


def token_hashes(normalized: str) -> np.ndarray:
    """64-bit hash of every space-separated token of an already normalised string, fully vectorised."""
    return word_hashes(normalized, _BYTE_BASE, byte_offset=1, length_salt=_GOLDEN)


def shingle_hashes_raw(text: str, params: MinHashParams) -> np.ndarray:
    """64-bit hash of every word n-gram in text order (repeats kept): enough for a signature, no sort.

    A shingle is `mix64(t[i] * B**(n-1) + t[i+1] * B**(n-2) + ... + t[i+n-1] + n * golden)` over token hashes
    `t`; the sum is `B**(n-1)` times the window polynomial in `B**-1`, which `WindowSums` reads for all i at once.
    """
    tokens = token_hashes(normalize_words(text, params))
    if tokens.size == 0:
        return tokens
    n = min(params.ngram, tokens.size)  # fewer than n words -> one shingle of all words
    folded = WindowSums(tokens, _TOKEN_BASE_INV).poly(n) * _U64(pow(_TOKEN_BASE, n - 1, 1 << 64))
    return mix64(folded + _U64(n * _GOLDEN % (1 << 64)))


def shingle_hashes(text: str, params: MinHashParams) -> np.ndarray:
    """Unique sorted 64-bit hashes of the word n-grams; fewer than n words -> one shingle of all words."""
    return np.unique(shingle_hashes_raw(text, params))


@lru_cache(maxsize=16)
def _permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded multipliers (odd) and offsets of the multiply-add hash family, one pair per permutation."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 2**64, size=num_perm, dtype=np.uint64, endpoint=False) | _U64(1)
    b = rng.integers(0, 2**64, size=num_perm, dtype=np.uint64, endpoint=False)
    return a, b


def signature_from_shingles(shingles: np.ndarray, params: MinHashParams) -> np.ndarray:
    """MinHash signature (uint32[num_perm]): per permutation the top 32 bits of min(a*x + b mod 2**64)."""
    a, b = _permutations(params.num_perm, params.seed)
    sig = np.full(params.num_perm, np.iinfo(np.uint64).max, dtype=np.uint64)
    buf = np.empty((min(_CHUNK, shingles.size), params.num_perm), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for start in range(0, shingles.size, _CHUNK):
            chunk = shingles[start : start + _CHUNK, None]
            block = buf[: chunk.shape[0]]
            np.multiply(chunk, a[None, :], out=block)
            np.add(block, b[None, :], out=block)
            np.minimum(sig, block.min(axis=0), out=sig)
    return (sig >> _U64(32)).astype(np.uint32)


def signature(text: str, params: MinHashParams) -> np.ndarray:
    """MinHash signature of a text (shingle, then hash); an empty shingle set gives all 0xFFFFFFFF."""
    return signature_from_shingles(shingle_hashes_raw(text, params), params)


def band_hashes(sig: np.ndarray, params: MinHashParams) -> np.ndarray:
    """One 64-bit LSH bucket hash per band (band index mixed in, so equal rows in two bands never collide)."""
    rows = sig[: params.bands * params.rows].astype(np.uint64).reshape(params.bands, params.rows)
    folded = np.arange(1, params.bands + 1, dtype=np.uint64) * _U64(_GOLDEN)
    with np.errstate(over="ignore"):
        for j in range(params.rows):
            folded = folded * _U64(_TOKEN_BASE) + rows[:, j]
        return mix64(folded)


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Jaccard similarity of two sorted unique hash arrays (two empty sets count as 0: no evidence)."""
    if a.size == 0 or b.size == 0:
        return 0.0
    inter = np.intersect1d(a, b, assume_unique=True).size
    return inter / (a.size + b.size - inter)


def estimated_jaccard(sig_a: np.ndarray, sig_b: np.ndarray) -> float:
    """Jaccard estimate from two MinHash signatures: the fraction of agreeing permutations."""
    return float(np.count_nonzero(sig_a == sig_b)) / sig_a.size


def candidate_probability(similarity: np.ndarray | float, bands: int, rows: int) -> np.ndarray:
    """LSH S-curve: probability that a pair with Jaccard `similarity` shares at least one band."""
    s = np.asarray(similarity, dtype=np.float64)
    return 1.0 - (1.0 - s**rows) ** bands


def _integral(f, lo: float, hi: float, steps: int = 1001) -> float:
    """Trapezoid integral of a vectorised function on [lo, hi]."""
    x = np.linspace(lo, hi, steps)
    y = f(x)
    return float(np.sum((y[1:] + y[:-1]) * np.diff(x)) / 2.0)


def optimal_bands_rows(threshold: float, num_perm: int, false_negative_weight: float = 0.5) -> tuple[int, int]:
    """(bands, rows) with bands*rows <= num_perm minimising weighted false-positive + false-negative area."""
    best, best_cost = (1, 1), float("inf")
    fp_weight = 1.0 - false_negative_weight
    for bands in range(1, num_perm + 1):
        for rows in range(1, num_perm // bands + 1):
            fp = _integral(lambda s, b=bands, r=rows: candidate_probability(s, b, r), 0.0, threshold)
            fn = _integral(lambda s, b=bands, r=rows: 1.0 - candidate_probability(s, b, r), threshold, 1.0)
            cost = fp_weight * fp + false_negative_weight * fn
            if cost < best_cost - 1e-12:
                best, best_cost = (bands, rows), cost
    return best


def s_curve_table(bands: int, rows: int, similarities=(0.3, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)) -> str:
    """Printable S-curve: candidate probability at a few Jaccard similarities for (bands, rows)."""
    probs = candidate_probability(np.asarray(similarities), bands, rows)
    head = f"bands={bands} rows={rows} (perms used {bands * rows})"
    return (
        head + "\n" + "\n".join(f"  J={s:.2f}  P(candidate)={p:.4f}" for s, p in zip(similarities, probs, strict=True))
    )


if __name__ == "__main__":  # pragma: no cover - prints the S-curves quoted in docs/dedup.md
    for weight in (0.5, 0.9):
        b, r = optimal_bands_rows(0.8, 128, weight)
        print(f"num_perm=128 threshold=0.8 false_negative_weight={weight}: ", s_curve_table(b, r))
