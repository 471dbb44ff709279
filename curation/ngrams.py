"""Words and word n-grams: the normalisation and the stable 64-bit hashes that dedup, decontamination and
the repetition filter share.

Words. `word_string` turns text into words joined by single spaces under a `WordRule`: a Unicode form, a
case mapping and what punctuation does (`delete`: removed, so `don't` is one word; `split`: it separates
words, so `Teddy's` and `Teddy 's` agree; `keep`). MinHash dedup reads its rule from the `dedup` config
section; decontamination uses `MATCH_WORDS` (NFKC, case-folded, split), whose word offsets in the original
text `ngram_word_spans` gives.
`word_text` is the same text before the words are joined; `cased_text` is it before punctuation is deleted,
and `char_kinds` tells, per code point, what the `delete` rule deletes and where `str.split` cuts: for
callers that do those two steps themselves (the MinHash kernels).

Hashes. Everything is numpy over whole arrays, in wrapping `uint64` arithmetic with odd (so invertible)
multipliers, independent of `PYTHONHASHSEED`, identical on every machine:
- a word hash is a polynomial hash of the word's UTF-8 bytes, `sum (byte + offset) * base**i`, computed
  for all words at once from position-weighted bytes (`np.add.reduceat`) and then scaled back by
  `base**-start`, finished with the splitmix64 mixer (`word_hashes`);
- an n-gram hash is a polynomial over word hashes, `sum h[i + j] * mul**j`, read for every window
  length from one prefix sum of position-weighted word hashes (`WindowSums`).
- `next_ngram_hashes` extends (n-1)-gram hashes to n-gram hashes one word at a time, the same polynomial
  read left to right (`sum h[i + j] * mul**(n-1-j)`), for callers that need every n in turn;
- `local_word_hashes` uses Python's string hash instead of the bytes (faster, but seeded per process): for
  comparisons inside one document only, never for anything stored.
Each caller picks its constants (part of an index file's or a signature's format), not the algorithm.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal, cast

import numpy as np

_U64 = np.uint64
_EMPTY = np.zeros(0, dtype=np.uint64)

# --- words -------------------------------------------------------------------------------------------

NormalForm = Literal["NFC", "NFD", "NFKC", "NFKD"]
Case = Literal["casefold", "lower", "keep"]
Punctuation = Literal["split", "delete", "keep"]


@dataclass(frozen=True)
class WordRule:
    """How text becomes words: Unicode normal form (a `NormalForm`, "" for none), case mapping, punctuation handling.

    `split` separates words at every run of non-letters/digits (underscore included) and case-folds after
    splitting, so words line up with `ngram_word_spans` offsets; `delete` removes every character that is
    neither a word character nor whitespace after the case mapping (so what lowercasing adds, such as the
    combining dot of a lowercased `İ`, goes too), then splits at whitespace.
    """

    unicode_form: str = "NFKC"
    case: Case = "casefold"
    punctuation: Punctuation = "split"


MATCH_WORDS = WordRule("NFKC", "casefold", "split")

_SEPARATORS = re.compile(r"[\W_]+")  # split: everything but letters and digits separates words
_WORD = re.compile(r"[^\W_]+")  # split: one word
_PUNCT = re.compile(r"[^\w\s]+")  # delete: neither a word character nor whitespace
_SPACES = re.compile(r"\s+")  # what str.split() cuts at (re's \s is str.isspace)
# ASCII characters that are neither \w nor \s: deleting them with str.translate is 2x faster than the regex
_ASCII_PUNCT = str.maketrans(
    "", "", "".join(c for c in map(chr, range(128)) if not (c.isalnum() or c == "_" or c.isspace()))
)


def _case(text: str, case: Case) -> str:
    """Apply a case mapping."""
    if case == "casefold":
        return text.casefold()
    return text.lower() if case == "lower" else text


def cased_text(text: str, rule: WordRule) -> str:
    """`text` in the rule's Unicode form and case, punctuation untouched (`word_text` before its last step)."""
    if rule.unicode_form and not text.isascii():  # ASCII is already in every normal form
        text = unicodedata.normalize(cast(NormalForm, rule.unicode_form), text)
    return _case(text, rule.case)


@lru_cache(maxsize=2)
def char_kinds(delete_punctuation: bool) -> np.ndarray:
    r"""Per code point (uint8[0x110000]): 2 whitespace (where `str.split` cuts), 1 deleted by the `delete` rule
    (`[^\w\s]`, when `delete_punctuation`), 0 part of a word. Read off the same regexes, over every code point.
    """
    every = np.arange(0x110000, dtype=np.uint32).tobytes().decode("utf-32-le", "surrogatepass")
    kinds = np.zeros(0x110000, dtype=np.uint8)
    if delete_punctuation:
        for m in _PUNCT.finditer(every):
            kinds[m.start() : m.end()] = 1
    for m in _SPACES.finditer(every):
        kinds[m.start() : m.end()] = 2
    kinds.flags.writeable = False
    return kinds


def word_text(text: str, rule: WordRule) -> str:
    """`text` under `rule` before the words are joined: its `str.split()` pieces are the words of `word_string`.

    For callers that split the words themselves (at every `str.isspace` character, as `str.split` does).
    """
    if rule.punctuation == "split":
        return word_string(text, rule)
    ascii_only = text.isascii()  # ASCII needs no regex
    text = cased_text(text, rule)
    if rule.punctuation == "delete":
        text = text.translate(_ASCII_PUNCT) if ascii_only else _PUNCT.sub("", text)
    return text


def word_string(text: str, rule: WordRule) -> str:
    """The words of `text` under `rule`, joined by single spaces (no leading or trailing space)."""
    if rule.punctuation == "split":
        if rule.unicode_form:
            text = unicodedata.normalize(cast(NormalForm, rule.unicode_form), text)
        return _case(_SEPARATORS.sub(" ", text).strip(), rule.case)
    return " ".join(word_text(text, rule).split())


def ngram_text(text: str) -> str:
    """The NFKC form of `text`, which `ngram_word_spans` offsets refer to (identical to `text` for most input)."""
    return unicodedata.normalize("NFKC", text)


def ngram_word_string(text: str) -> str:
    """Decontamination words (`MATCH_WORDS`: NFKC, punctuation separates, case-folded) joined by single spaces."""
    return word_string(text, MATCH_WORDS)


def ngram_word_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) in `ngram_text(text)` of each word of `ngram_word_string(text)`, for reporting and cutting."""
    return [m.span() for m in _WORD.finditer(ngram_text(text))]


# --- hashes ------------------------------------------------------------------------------------------


def mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser, element-wise: a bijection that spreads polynomial hashes over all 64 bits."""
    x = x ^ (x >> _U64(30))
    x = x * _U64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> _U64(27))
    x = x * _U64(0x94D049BB133111EB)
    return x ^ (x >> _U64(31))


def inverse(mul: int) -> int:
    """The inverse of an odd multiplier mod 2**64."""
    return pow(mul, -1, 1 << 64)


_CACHED_POWERS = 1 << 20  # longest power table kept between calls (16 MiB per multiplier); longer ones are transient


class _Powers:
    """mul**i and mul**-i mod 2**64 for i < n, cached up to `_CACHED_POWERS` and grown on demand.

    Both tables are swapped in as one tuple, so a thread never sees one grown and the other not.
    """

    def __init__(self, mul: int):
        self.mul = _U64(mul)
        self.inv = _U64(inverse(mul))
        self.tables = (np.ones(1, dtype=np.uint64), np.ones(1, dtype=np.uint64))

    def _table(self, base: np.uint64, size: int) -> np.ndarray:
        """[1, base, base**2, ...] of length `size`."""
        return np.concatenate(([_U64(1)], np.cumprod(np.full(size - 1, base, dtype=np.uint64))))

    def get(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """(mul**i, mul**-i) for i < n."""
        fwd, back = self.tables
        if n > len(fwd):
            if n > _CACHED_POWERS:
                return self._table(self.mul, n), self._table(self.inv, n)
            size = min(max(n, 2 * len(fwd), 4096), _CACHED_POWERS)
            fwd, back = self.tables = (self._table(self.mul, size), self._table(self.inv, size))
        return fwd[:n], back[:n]


_POWERS: dict[int, _Powers] = {}


def _powers(mul: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(mul**i, mul**-i) mod 2**64 for i < n, from a per-multiplier cache shared by every caller."""
    table = _POWERS.get(mul)
    if table is None:
        table = _POWERS.setdefault(mul, _Powers(mul))
    return table.get(n)


def word_hashes(joined: str, base: int, byte_offset: int = 0, length_salt: int = 0) -> np.ndarray:
    """64-bit hash of every word of a string of words joined by single spaces (no empty word).

    `mix64(sum_i (byte_i + byte_offset) * base**i  XOR  byte_length * length_salt)`, one per word.
    """
    if not joined:
        return _EMPTY
    data = np.frombuffer(joined.encode("utf-8", "surrogatepass"), dtype=np.uint8)
    sep = data == 32
    starts = np.flatnonzero(np.concatenate(([True], sep[:-1])))
    fwd, back = _powers(base, len(data))
    weighted = data.astype(np.uint64)
    if byte_offset:
        weighted += _U64(byte_offset)
    weighted *= fwd
    weighted[sep] = 0
    poly = np.add.reduceat(weighted, starts) * back[starts]
    if length_salt:
        lengths = np.diff(starts, append=len(data) + 1) - 1
        poly ^= lengths.astype(np.uint64) * _U64(length_salt)
    return mix64(poly)


class WindowSums:
    """Prefix sums of position-weighted word hashes: every n-word window's polynomial hash, any n, in O(words)."""

    def __init__(self, word_h: np.ndarray, mul: int):
        fwd, self.back = _powers(mul, len(word_h))
        self.size = len(word_h)
        self.weighted = word_h * fwd  # word_h[k] * mul**k
        self.prefix = np.concatenate(([_U64(0)], np.cumsum(self.weighted, dtype=np.uint64)))

    def sums(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Per window start i (all windows that fit): sum_j word_h[i+j] * mul**(i+j), and mul**-i."""
        count = max(0, self.size - n + 1)
        return self.prefix[n : n + count] - self.prefix[:count], self.back[:count]

    def poly(self, n: int) -> np.ndarray:
        """Per window start i: sum_j word_h[i+j] * mul**j (unmixed; empty when fewer than n words)."""
        sums, back = self.sums(n)
        return sums * back


def next_ngram_hashes(word_h: np.ndarray, n: int, prev: np.ndarray, mul: int | np.uint64) -> np.ndarray:
    """n-gram hashes `sum_j word_h[i+j] * mul**(n-1-j)` from the (n-1)-gram ones `prev` (`word_h` itself for n = 2)."""
    return prev[:-1] * _U64(mul) + word_h[n - 1 :]


def local_word_hashes(words: Sequence[str]) -> np.ndarray:
    """64-bit hash per word from Python's string hash: equal words, equal hashes, within this process only."""
    return np.fromiter(map(hash, words), dtype=np.int64, count=len(words)).view(np.uint64)
