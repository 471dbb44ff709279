"""The index's keys: hashes of decontamination words, of their n-grams (exact and one-word-masked), and title keys.

Words are `curation.ngrams.MATCH_WORDS` (NFKC, case-folded, punctuation separates). The constants are part
of the index format: changing one means a new `FORMAT_VERSION`.
"""

from __future__ import annotations

import numpy as np

from curation.ngrams import WindowSums, mix64, ngram_word_string, word_hashes

_U64 = np.uint64
_BYTE_MUL = 0x9E3779B97F4A7C15  # odd: invertible mod 2**64
_WORD_MUL = 0xC2B2AE3D27D4EB4F  # odd: invertible mod 2**64
_EXACT_SALT = _U64(0x243F6A8885A308D3)
_MASK_SALT = _U64(0x13198A2E03707344)
EMPTY = np.zeros(0, dtype=np.uint64)


def word_string_hashes(joined: str) -> np.ndarray:
    """Stable 64-bit hash per word of words joined by single spaces (`curation.ngrams.ngram_word_string`)."""
    return word_hashes(joined, _BYTE_MUL)


def window_sums(word_h: np.ndarray) -> WindowSums:
    """The prefix sums every n-gram hash of a word sequence is read from."""
    return WindowSums(word_h, _WORD_MUL)


def ngram_hashes(word_h: np.ndarray, n: int, windows: WindowSums | None = None) -> np.ndarray:
    """Hash of every contiguous n-word window (index i = window starting at word i)."""
    if len(word_h) < n:
        return EMPTY
    return mix64((windows or window_sums(word_h)).poly(n) + _EXACT_SALT)


def masked_ngram_hashes(word_h: np.ndarray, n: int, windows: WindowSums | None = None) -> np.ndarray:
    """Shape (n, windows): hash of each n-word window with word j left out (one-word edit tolerance)."""
    if len(word_h) < n:
        return np.zeros((n, 0), dtype=np.uint64)
    windows = windows or window_sums(word_h)
    sums, back = windows.sums(n)
    weighted = windows.weighted
    count = len(sums)
    out = np.empty((n, count), dtype=np.uint64)
    for j in range(n):
        out[j] = mix64((sums - weighted[j : j + count]) * back + _MASK_SALT + _U64(j))
    return out


def normalize_title(title: str) -> str:
    """Title key for the Wikipedia rule: the title's decontamination words joined by one space."""
    return ngram_word_string(title.replace("_", " "))
