"""Word n-gram shingles, MinHash signatures and LSH band keys for near-duplicate detection.

After the Unicode normal form and case mapping (`curation.ngrams.cased_text`, C-level str methods) everything
is a few small numba kernels over the text's UTF-8 bytes, in wrapping uint64 arithmetic:
- `_word_kernel`: one 64-bit hash per word, deleting punctuation and cutting at whitespace per code point
  (`curation.ngrams.char_kinds`, read off the regexes of `normalize_words`), so no regex pass and no join;
  `_token_kernel` is the same over an already normalised string, split at single spaces (`token_hashes`).
  The hash is the polynomial over the word's bytes of `curation.ngrams.word_hashes` with this module's
  constants;
- `_shingle_kernel`: one hash per word n-gram, a rolling polynomial over token hashes, mixed with splitmix64
  (`shingle_hashes_raw`; `curation.ngrams.WindowSums` computes the same sums with prefix sums);
- `_signature_kernel`: per permutation the min over shingles of `a*x + b mod 2**64`, top 32 bits, in one
  fused loop (`signature_from_shingles`);
- `_band_kernel`: one LSH bucket hash per band of the signature (`band_hashes`);
- `_sketch_kernel`: all four in one call per document (`sketch`, which the pipeline uses).
The kernels replaced numpy formulations whose results they reproduce bit for bit (tests/test_minhash_kernel.py
keeps those as the reference); signatures and band keys are a stored format. They are compiled on first use
and cached on disk (`cache=True`), and release the GIL. All hashes are seeded and independent of
`PYTHONHASHSEED`, so signatures are identical on every worker.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

import numpy as np
from numba import njit

from curation.ngrams import WordRule, cased_text, char_kinds, word_hashes, word_string

_U64 = np.uint64
_GOLDEN = 0x9E3779B97F4A7C15
_BYTE_BASE = 0x100000001B3  # FNV-64 prime as the polynomial base over bytes
_TOKEN_BASE = 0xC2B2AE3D27D4EB4F  # odd multiplier folding token hashes into n-gram hashes


# --- compiled kernels -------------------------------------------------------------------------------------
# numba compiles these on first use (cached under __pycache__, so later processes only load them). All
# arithmetic is uint64 and wraps like numpy's; every constant is a np.uint64 so that numba never mixes
# uint64 with int64 (which it would promote to float64).

_M1 = _U64(0xBF58476D1CE4E5B9)
_M2 = _U64(0x94D049BB133111EB)
_GOLDEN_U = _U64(_GOLDEN)
_BYTE_BASE_U = _U64(_BYTE_BASE)
_TOKEN_BASE_U = _U64(_TOKEN_BASE)
_ONE = _U64(1)
_TOP = _U64(0xFFFFFFFFFFFFFFFF)


@njit(cache=True, nogil=True)
def _mix(x):  # pragma: no cover - compiled
    """curation.ngrams.mix64 on one value (splitmix64 finaliser)."""
    x ^= x >> _U64(30)
    x *= _M1
    x ^= x >> _U64(27)
    x *= _M2
    return x ^ (x >> _U64(31))


@njit(cache=True, nogil=True)
def _token_kernel(data):  # pragma: no cover - compiled
    """`token_hashes`: one pass over the UTF-8 bytes of the space-joined words.

    Replaces `word_hashes(normalized, _BYTE_BASE, byte_offset=1, length_salt=_GOLDEN)` (position-weighted
    bytes, `np.add.reduceat` per word, scaled back by `base**-start`): per word
    `mix64(sum_i (byte_i + 1) * base**i  XOR  byte_length * golden)`.
    """
    if data.size == 0:
        return np.empty(0, dtype=np.uint64)
    count = 1
    for c in data:
        if c == 32:
            count += 1
    out = np.empty(count, dtype=np.uint64)
    k = 0
    poly = _U64(0)
    power = _ONE
    length = _U64(0)
    for c in data:
        if c == 32:
            out[k] = _mix(poly ^ (length * _GOLDEN_U))
            k += 1
            poly, power, length = _U64(0), _ONE, _U64(0)
        else:
            poly += (_U64(c) + _ONE) * power
            power *= _BYTE_BASE_U
            length += _ONE
    out[k] = _mix(poly ^ (length * _GOLDEN_U))
    return out


@njit(cache=True, nogil=True)
def _word_kernel(data, kinds):  # pragma: no cover - compiled
    r"""`_token_kernel` over the words of `curation.ngrams.cased_text`, deleting punctuation and splitting here.

    Replaces `token_hashes(" ".join(_PUNCT.sub("", text).split()))`: per UTF-8 character, `kinds[code point]`
    (`curation.ngrams.char_kinds`) says whether it is whitespace (ends a word, as `str.split` cuts), deleted
    (`[^\w\s]` under the `delete` rule: skipped, so "don't" is one word) or part of the word (its bytes hashed).
    """
    out = np.empty(data.size // 2 + 1, dtype=np.uint64)
    k = 0
    poly = _U64(0)
    power = _ONE
    length = _U64(0)
    i = 0
    while i < data.size:
        lead = np.int64(data[i])  # decode one character (the input is str.encode's, so well formed)
        if lead < 0x80:
            width, cp = 1, lead
        elif lead < 0xE0:
            width, cp = 2, ((lead & 0x1F) << 6) | (np.int64(data[i + 1]) & 0x3F)
        elif lead < 0xF0:
            width = 3
            cp = ((lead & 0x0F) << 12) | ((np.int64(data[i + 1]) & 0x3F) << 6) | (np.int64(data[i + 2]) & 0x3F)
        else:
            width = 4
            cp = ((lead & 0x07) << 18) | ((np.int64(data[i + 1]) & 0x3F) << 12)
            cp |= ((np.int64(data[i + 2]) & 0x3F) << 6) | (np.int64(data[i + 3]) & 0x3F)
        kind = kinds[cp]
        if kind == 2:  # whitespace: the word so far (if any) is complete
            if length:
                out[k] = _mix(poly ^ (length * _GOLDEN_U))
                k += 1
                poly, power, length = _U64(0), _ONE, _U64(0)
        elif kind == 0:
            for j in range(i, i + width):
                poly += (_U64(data[j]) + _ONE) * power
                power *= _BYTE_BASE_U
                length += _ONE
        i += width
    if length:
        out[k] = _mix(poly ^ (length * _GOLDEN_U))
        k += 1
    return out[:k]


@njit(cache=True, nogil=True)
def _shingle_kernel(tokens, ngram):  # pragma: no cover - compiled
    """`shingle_hashes_raw` after the tokens: `mix64(sum_j t[i+j] * B**(n-1-j) + n * golden)` per window.

    Replaces `WindowSums(tokens, B**-1).poly(n) * B**(n-1)` (prefix sums of position-weighted hashes) by a
    rolling Horner sum: drop `t[i] * B**(n-1)`, multiply by B, add `t[i+n]`. Fewer words than n: one shingle
    of all words; no words: empty.
    """
    m = tokens.size
    if m == 0:
        return np.empty(0, dtype=np.uint64)
    n = min(ngram, m)
    lead = _ONE  # B**(n-1)
    for _ in range(n - 1):
        lead *= _TOKEN_BASE_U
    salt = _U64(n) * _GOLDEN_U
    out = np.empty(m - n + 1, dtype=np.uint64)
    folded = _U64(0)
    for j in range(n):
        folded = folded * _TOKEN_BASE_U + tokens[j]
    out[0] = _mix(folded + salt)
    for i in range(1, m - n + 1):
        folded = (folded - tokens[i - 1] * lead) * _TOKEN_BASE_U + tokens[i + n - 1]
        out[i] = _mix(folded + salt)
    return out


@njit(cache=True, nogil=True)
def _signature_kernel(shingles, a, b):  # pragma: no cover - compiled
    """`signature_from_shingles`: per permutation p, the top 32 bits of `min_x (a[p] * x + b[p])`.

    Replaces the chunked `(shingles x permutations)` multiply, add and `min(axis=0)`: shingle-major, the
    inner loop runs over permutations (vectorised multiply-add-min, no temporary). No shingles: all ones.
    """
    low = np.full(a.size, _TOP, dtype=np.uint64)
    for x in shingles:
        for p in range(a.size):
            low[p] = min(low[p], a[p] * x + b[p])
    out = np.empty(a.size, dtype=np.uint32)
    for p in range(a.size):
        out[p] = np.uint32(low[p] >> _U64(32))
    return out


@njit(cache=True, nogil=True)
def _band_kernel(sig, bands, rows):  # pragma: no cover - compiled
    """`band_hashes`: per band k, `mix64(Horner over its rows with B, from (k + 1) * golden)`."""
    out = np.empty(bands, dtype=np.uint64)
    for k in range(bands):
        folded = _U64(k + 1) * _GOLDEN_U
        for j in range(rows):
            folded = folded * _TOKEN_BASE_U + _U64(sig[k * rows + j])
        out[k] = _mix(folded)
    return out


@njit(cache=True, nogil=True)
def _sketch_kernel(data, kinds, ngram, a, b, bands, rows):  # pragma: no cover - compiled
    """UTF-8 bytes of `cased_text` -> (shingle hashes, signature, band hashes) in one call."""
    shingles = _shingle_kernel(_word_kernel(data, kinds), ngram)
    sig = _signature_kernel(shingles, a, b)
    return shingles, sig, _band_kernel(sig, bands, rows)


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


def _utf8(text: str) -> np.ndarray:
    """The UTF-8 bytes of a string as a (read-only) uint8 array, as the kernels take them."""
    return np.frombuffer(text.encode("utf-8", "surrogatepass"), dtype=np.uint8)


def _cased_utf8(text: str, params: MinHashParams) -> tuple[np.ndarray, np.ndarray]:
    """What `_word_kernel` takes: the UTF-8 bytes of the text in the params' Unicode form and case, and the
    per-code-point kinds (whitespace, deleted punctuation, word) that finish `normalize_words` on them."""
    rule = params.words
    return _utf8(cased_text(text, rule)), char_kinds(rule.punctuation == "delete")


def token_hashes(normalized: str) -> np.ndarray:
    """64-bit hash of every space-separated token of an already normalised string (one compiled pass).

    Equal to `word_hashes(normalized, _BYTE_BASE, byte_offset=1, length_salt=_GOLDEN)`, which this calls for a
    string with a trailing space (never a normalised one): there the last word's length counts the space.
    """
    if normalized.endswith(" "):
        return word_hashes(normalized, _BYTE_BASE, byte_offset=1, length_salt=_GOLDEN)
    return _token_kernel(_utf8(normalized))


def shingle_hashes_raw(text: str, params: MinHashParams) -> np.ndarray:
    """64-bit hash of every word n-gram in text order (repeats kept): enough for a signature, no sort.

    A shingle is `mix64(t[i] * B**(n-1) + t[i+1] * B**(n-2) + ... + t[i+n-1] + n * golden)` over token hashes
    `t` (fewer than n words: one shingle of all words; none: no shingle).
    """
    return _shingle_kernel(_word_kernel(*_cased_utf8(text, params)), params.ngram)


def shingle_hashes(text: str, params: MinHashParams) -> np.ndarray:
    """Unique sorted 64-bit hashes of the word n-grams; fewer than n words -> one shingle of all words."""
    return np.unique(shingle_hashes_raw(text, params))


@lru_cache(maxsize=16)
def _permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Seeded multipliers (odd) and offsets of the multiply-add hash family, one pair per permutation."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 2**64, size=num_perm, dtype=np.uint64, endpoint=False) | _U64(1)
    b = rng.integers(0, 2**64, size=num_perm, dtype=np.uint64, endpoint=False)
    a.flags.writeable = b.flags.writeable = False  # shared by every caller
    return a, b


def signature_from_shingles(shingles: np.ndarray, params: MinHashParams) -> np.ndarray:
    """MinHash signature (uint32[num_perm]): per permutation the top 32 bits of min(a*x + b mod 2**64)."""
    a, b = _permutations(params.num_perm, params.seed)
    return _signature_kernel(np.ascontiguousarray(shingles, dtype=np.uint64), a, b)


def signature(text: str, params: MinHashParams) -> np.ndarray:
    """MinHash signature of a text (shingle, then hash); an empty shingle set gives all 0xFFFFFFFF."""
    return sketch(text, params).signature


def band_hashes(sig: np.ndarray, params: MinHashParams) -> np.ndarray:
    """One 64-bit LSH bucket hash per band (band index mixed in, so equal rows in two bands never collide)."""
    if sig.size < params.bands * params.rows:  # the numpy reshape's error, not a read past the end
        raise ValueError(f"signature of {sig.size} values is shorter than bands*rows = {params.bands * params.rows}")
    return _band_kernel(np.ascontiguousarray(sig), params.bands, params.rows)


class Sketch(NamedTuple):
    """Everything dedup keeps of one text: shingle hashes (text order), signature and band hashes."""

    shingles: np.ndarray  # uint64, empty when the text has no words
    signature: np.ndarray  # uint32[num_perm]
    bands: np.ndarray  # uint64[bands]


def sketch(text: str, params: MinHashParams) -> Sketch:
    """`shingle_hashes_raw`, `signature_from_shingles` and `band_hashes` of a text in one compiled call."""
    a, b = _permutations(params.num_perm, params.seed)
    data, kinds = _cased_utf8(text, params)
    return Sketch(*_sketch_kernel(data, kinds, params.ngram, a, b, params.bands, params.rows))


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
