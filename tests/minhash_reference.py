"""The numpy formulation of the MinHash features that `curation.minhash`'s numba kernels replaced.

Copied from curation/minhash.py at 27bd888, on the `curation.ngrams` helpers it used (`word_hashes`,
`WindowSums`, `mix64`: numpy, unchanged, not the kernels). tests/test_minhash_kernel.py checks the kernels
against it (bit-identical values, dtype and shape); bench/bench_minhash_kernel.py times it as the baseline.
"""

from __future__ import annotations

import numpy as np

from curation.minhash import MinHashParams, _permutations, normalize_words
from curation.ngrams import WindowSums, inverse, mix64, word_hashes

_U64 = np.uint64
_GOLDEN = 0x9E3779B97F4A7C15
_BYTE_BASE = 0x100000001B3
_TOKEN_BASE = 0xC2B2AE3D27D4EB4F
_TOKEN_BASE_INV = inverse(_TOKEN_BASE)
_CHUNK = 256


def token_hashes(normalized: str) -> np.ndarray:
    """Hash of every space-separated word of a normalised string."""
    return word_hashes(normalized, _BYTE_BASE, byte_offset=1, length_salt=_GOLDEN)


def shingles_from_tokens(tokens: np.ndarray, ngram: int) -> np.ndarray:
    """Shingle hashes of a token-hash sequence (fewer than `ngram` tokens: one shingle of all)."""
    if tokens.size == 0:
        return tokens
    n = min(ngram, tokens.size)
    folded = WindowSums(tokens, _TOKEN_BASE_INV).poly(n) * _U64(pow(_TOKEN_BASE, n - 1, 1 << 64))
    return mix64(folded + _U64(n * _GOLDEN % (1 << 64)))


def shingle_hashes_raw(text: str, params: MinHashParams) -> np.ndarray:
    """Shingle hashes of a text, in text order."""
    return shingles_from_tokens(token_hashes(normalize_words(text, params)), params.ngram)


def signature_from_shingles(shingles: np.ndarray, params: MinHashParams) -> np.ndarray:
    """MinHash signature: per permutation the top 32 bits of min(a*x + b mod 2**64)."""
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


def band_hashes(sig: np.ndarray, params: MinHashParams) -> np.ndarray:
    """One LSH bucket hash per band."""
    rows = sig[: params.bands * params.rows].astype(np.uint64).reshape(params.bands, params.rows)
    folded = np.arange(1, params.bands + 1, dtype=np.uint64) * _U64(_GOLDEN)
    with np.errstate(over="ignore"):
        for j in range(params.rows):
            folded = folded * _U64(_TOKEN_BASE) + rows[:, j]
        return mix64(folded)


def features(text: str, params: MinHashParams) -> np.ndarray:
    """Band hashes of a text (what the pipeline's `_features` computed)."""
    return band_hashes(signature_from_shingles(shingle_hashes_raw(text, params), params), params)
