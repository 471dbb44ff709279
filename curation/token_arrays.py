"""Per-token arrays (spans, hashes, lengths, word/letter/punctuation flags) for the quality and repetition filters.

The filters' signals are counts over tokens (`curation.text.tokenize`, and the `datatrove` reading's tokens,
`curation.datatrove_tokens`). Building a Python string per token and testing each one cost more than the rest
of the signals together, so the tokens are kept as spans into the text's code points (`curation.token_spans`)
and everything per token is computed in one compiled pass (`_token_features`): a 64-bit hash of its code
points (equal tokens, equal hashes), its length, whether it is a word (`text._IS_WORD_TOKEN`), holds a letter
(`text._HAS_LETTER`) or is made only of datatrove's punctuation (`curation.punctuation`), and which stop-word
form it is. The string functions in `curation.text` and `curation.datatrove_tokens` stay the definitions;
tests/test_token_arrays.py checks these arrays against them.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np
from numba import njit

from curation.datatrove_tokens import spacy_chunk_tokens
from curation.punctuation import DATATROVE_PUNCTUATION
from curation.token_spans import ALNUM, LETTER, SPACE, class_table, code_points, token_spans_cp

# Per-code-point class bits: `curation.token_spans.class_table`'s (ALNUM `[^\W_]`, LETTER `[^\W\d_]`,
# SPACE `\s`, ...) and one more.
DT_PUNCT = 32  # in datatrove's punctuation set
# Per-token flag bits.
WORD = np.uint8(1)  # starts a word (`['’.]?[^\W_]`)
HAS_LETTER = np.uint8(2)
ALL_DT_PUNCT = np.uint8(4)

STOP_WORDS = ("the", "be", "to", "of", "and", "that", "have", "with")
# Every casing accepted for a stop word, three per word (lower first): `_token_features` reports the index.
STOP_FORMS = tuple(f for w in STOP_WORDS for f in (w, w.capitalize(), w.upper()))
_STOP_WIDTH = max(map(len, STOP_FORMS))


@functools.lru_cache(maxsize=1)
def char_classes() -> np.ndarray:
    """uint8 class bits of every code point: the tokenizer's (read from Python's `re`) and DT_PUNCT."""
    table = class_table().copy()
    table[[ord(c) for c in DATATROVE_PUNCTUATION]] |= DT_PUNCT
    return table


@functools.lru_cache(maxsize=1)
def _stop_table() -> tuple[np.ndarray, np.ndarray]:
    """Stop-word forms as a (forms x width) code point matrix and their lengths."""
    forms = np.zeros((len(STOP_FORMS), _STOP_WIDTH), dtype=np.uint32)
    for i, f in enumerate(STOP_FORMS):
        forms[i, : len(f)] = [ord(c) for c in f]
    return forms, np.array([len(f) for f in STOP_FORMS], dtype=np.int64)


@njit(cache=True, nogil=True)
def _mix64(x: np.uint64) -> np.uint64:  # pragma: no cover - compiled
    """splitmix64 finaliser (as `curation.ngrams.mix64`)."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


@njit(cache=True, nogil=True)
def _token_features(cps, starts, ends, classes, stop_forms, stop_lens):  # pragma: no cover - compiled
    """Per token: hash of its code points, flag bits (WORD, HAS_LETTER, ALL_DT_PUNCT), stop-form index or -1."""
    n = len(starts)
    hashes = np.empty(n, dtype=np.uint64)
    flags = np.zeros(n, dtype=np.uint8)
    stop = np.full(n, -1, dtype=np.int8)
    quote1, quote2, dot = np.uint32(39), np.uint32(0x2019), np.uint32(46)
    for i in range(n):
        s, e = starts[i], ends[i]
        h = np.uint64(0xCBF29CE484222325)  # FNV-1a over code points, then mixed with the length
        letter = False
        punct = True
        for k in range(s, e):
            c = cps[k]
            h = (h ^ np.uint64(c)) * np.uint64(0x100000001B3)
            cls = classes[c]
            letter = letter or (cls & LETTER) != 0
            punct = punct and (cls & DT_PUNCT) != 0
        hashes[i] = _mix64(h ^ (np.uint64(e - s) * np.uint64(0x9E3779B97F4A7C15)))
        first = cps[s]
        word = (classes[first] & ALNUM) != 0 or (
            first in (quote1, quote2, dot) and e - s > 1 and (classes[cps[s + 1]] & ALNUM) != 0
        )
        flags[i] = (1 if word else 0) | (2 if letter else 0) | (4 if punct else 0)
        if word and 2 <= e - s <= stop_forms.shape[1]:
            for f in range(len(stop_lens)):
                if stop_lens[f] == e - s:
                    same = True
                    for k in range(e - s):
                        if cps[s + k] != stop_forms[f, k]:
                            same = False
                            break
                    if same:
                        stop[i] = f
                        break
    return hashes, flags, stop


class TokenArrays(NamedTuple):
    """One reading's tokens of a text as arrays (all of length = number of tokens)."""

    starts: np.ndarray  # int64 code point offsets into the text
    ends: np.ndarray
    hashes: np.ndarray  # uint64, equal for equal tokens (within and across texts)
    lengths: np.ndarray  # int64 characters
    flags: np.ndarray  # uint8 WORD | HAS_LETTER | ALL_DT_PUNCT
    stop: np.ndarray  # int8 index into STOP_FORMS, or -1


def _arrays(cps: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> TokenArrays:
    """TokenArrays of the given spans."""
    forms, lens = _stop_table()
    hashes, flags, stop = _token_features(cps, starts, ends, char_classes(), forms, lens)
    return TokenArrays(starts, ends, hashes, ends - starts, flags, stop)


@functools.lru_cache(maxsize=4)
def _code_points(text: str) -> np.ndarray:
    """The text's code points (cached: both readings and the content filter use them)."""
    return code_points(text)


@functools.lru_cache(maxsize=4)
def token_arrays(text: str) -> TokenArrays:
    """Every token of `tokenize(text)` as arrays; cached so the filter stages tokenise each text once."""
    cps = _code_points(text)
    starts, ends = token_spans_cp(cps)
    return _arrays(cps, starts, ends)


@functools.lru_cache(maxsize=4)
def word_arrays(text: str) -> TokenArrays:
    """The word tokens of `text` only (`curation.text.words`), in order."""
    arrays = token_arrays(text)
    keep = (arrays.flags & WORD) != 0
    return TokenArrays(*(a[keep] for a in arrays))


@njit(cache=True, nogil=True)
def _dash_chunks(cps, classes):  # pragma: no cover - compiled
    r"""(starts, ends) of the whitespace-free chunks holding `--` (the regex `(?<!\S)\S*--\S*`), in order."""
    n = len(cps)
    starts = np.empty(n // 3 + 1, dtype=np.int64)
    ends = np.empty(n // 3 + 1, dtype=np.int64)
    found = 0
    i = 0
    while i < n:
        if classes[cps[i]] & SPACE:
            i += 1
            continue
        start = i
        dash = False
        while i < n and not classes[cps[i]] & SPACE:
            if cps[i] == 45 and i > start and cps[i - 1] == 45:
                dash = True
            i += 1
        if dash:
            starts[found] = start
            ends[found] = i
            found += 1
    return starts[:found], ends[:found]


@functools.lru_cache(maxsize=4)
def datatrove_token_arrays(text: str) -> TokenArrays:
    """The tokens of `curation.datatrove_tokens.datatrove_tokens(text)` as arrays."""
    ours = token_arrays(text)
    if "--" not in text:
        return ours
    cps = _code_points(text)
    chunk_starts, chunk_ends = _dash_chunks(cps, char_classes())
    firsts = np.searchsorted(ours.starts, chunk_starts).tolist()
    stops = np.searchsorted(ours.starts, chunk_ends).tolist()
    pieces_s: list[np.ndarray] = []
    pieces_e: list[np.ndarray] = []
    prev = 0
    for start, end, first, stop in zip(chunk_starts.tolist(), chunk_ends.tolist(), firsts, stops, strict=True):
        pieces_s.append(ours.starts[prev:first])
        pieces_e.append(ours.ends[prev:first])
        # spaCy's tokens of a chunk are consecutive pieces of it, so their lengths give their spans.
        lengths = np.fromiter(map(len, spacy_chunk_tokens(text[start:end])), dtype=np.int64)
        ends = start + np.cumsum(lengths)
        pieces_s.append(ends - lengths)
        pieces_e.append(ends)
        prev = stop
    pieces_s.append(ours.starts[prev:])
    pieces_e.append(ours.ends[prev:])
    return _arrays(cps, np.concatenate(pieces_s), np.concatenate(pieces_e))


def cumulative_lengths(lengths: np.ndarray) -> np.ndarray:
    """[0, l0, l0 + l1, ...]: characters before each token (and in all of them, last)."""
    cum = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=cum[1:])
    return cum


def string_hashes(strings: list[str]) -> np.ndarray:
    """The token hash of each of `strings` (non-empty), as `TokenArrays.hashes` gives it for an equal token."""
    lengths = np.fromiter(map(len, strings), dtype=np.int64, count=len(strings))
    ends = np.cumsum(lengths)
    return _arrays(code_points("".join(strings)), ends - lengths, ends).hashes
