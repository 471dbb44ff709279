"""Test-set decontamination: a compact hashed n-gram index of evaluation items and the matcher.

The index holds, for every evaluation item, the 64-bit hashes of its word n-grams (13 by default,
words as `curation.text.ngram_words` defines them) as one sorted `uint64` array with a parallel
`int32` item array: 12 bytes per (n-gram, item) pair, so 10 million eval n-grams take 120 MB.
Lookups are exact hash lookups (`np.searchsorted`); a false match needs a 64-bit collision, about
`doc_ngrams * index_ngrams / 2**64` (1e-7 for a 10,000-word document against 10^8 n-grams).

Fuzzy modes (`fuzzy`, build time) catch lightly edited copies:
- `masked` (or `true`): each n-gram is also indexed with each one word position masked, so a window
  with one substituted word still matches (n+1 hashes per n-gram).
- `seeds`: every word s-gram (`fuzzy_seed_words`, 5) of an item is indexed with its position, and
  the item's word hashes are kept. A seed hit is extended word by word along its alignment
  (ungapped, X-drop: +1 per equal word, -3 per differing word, stop 5 below the best score), the
  extended segments of one item are chained across small shifts (insertions/deletions, up to
  `fuzzy_max_shift` words) and gaps (`fuzzy_max_gap` words), and the item matches when a chain has
  at least `fuzzy_min_words` (12) equal words. About 24 bytes per eval word.

Hashing is vectorised: word hashes are polynomial hashes of the UTF-8 bytes computed with
`np.add.reduceat`, n-gram hashes come from a prefix sum of position-weighted word hashes
(wrap-around `uint64` arithmetic, multipliers odd so they are invertible mod 2**64), then mixed
with the splitmix64 finaliser. Hashes are stable across processes and machines.
"""

from __future__ import annotations

import io
import json
import time
import unicodedata
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO

import numpy as np

from curation.config_schema import check_section
from curation.schema import Document
from curation.text import ngram_text, ngram_word_spans, ngram_word_string, ngram_words

FORMAT_VERSION = 2
_U64 = np.uint64
_BYTE_MUL = 0x9E3779B97F4A7C15  # odd: invertible mod 2**64
_WORD_MUL = 0xC2B2AE3D27D4EB4F  # odd: invertible mod 2**64
_EXACT_SALT = _U64(0x243F6A8885A308D3)
_MASK_SALT = _U64(0x13198A2E03707344)
_EMPTY = np.zeros(0, dtype=np.uint64)


class IndexFormatError(ValueError):
    """An index file that cannot be used with the given configuration."""


# --- vectorised hashing ------------------------------------------------------------------------


class _Powers:
    """mul**i and mul**-i mod 2**64 for i < len, grown on demand (shared by every call)."""

    def __init__(self, mul: int):
        self.mul = _U64(mul)
        self.inv = _U64(pow(mul, -1, 1 << 64))
        self.fwd = np.ones(1, dtype=np.uint64)
        self.back = np.ones(1, dtype=np.uint64)

    def get(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        if n > len(self.fwd):
            size = max(n, 2 * len(self.fwd), 4096)
            self.fwd = np.concatenate(([_U64(1)], np.cumprod(np.full(size - 1, self.mul, dtype=np.uint64))))
            self.back = np.concatenate(([_U64(1)], np.cumprod(np.full(size - 1, self.inv, dtype=np.uint64))))
        return self.fwd[:n], self.back[:n]


_BYTE_POW = _Powers(_BYTE_MUL)
_WORD_POW = _Powers(_WORD_MUL)


def _mix(z: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser, element-wise (spreads polynomial hashes over all 64 bits)."""
    z = z ^ (z >> _U64(30))
    z = z * _U64(0xBF58476D1CE4E5B9)
    z = z ^ (z >> _U64(27))
    z = z * _U64(0x94D049BB133111EB)
    return z ^ (z >> _U64(31))


def word_hashes(words: Sequence[str]) -> np.ndarray:
    """Stable 64-bit hash per word (words must not contain spaces), computed without a Python loop."""
    return word_string_hashes(" ".join(words))


def word_string_hashes(joined: str) -> np.ndarray:
    """`word_hashes` of words given as one string joined by single spaces."""
    if not joined:
        return _EMPTY
    data = np.frombuffer(joined.encode("utf-8", "surrogatepass"), dtype=np.uint8)
    sep = data == 32
    starts = np.flatnonzero(np.concatenate(([True], sep[:-1])))
    fwd, back = _BYTE_POW.get(len(data))
    weighted = data.astype(np.uint64) * fwd
    weighted[sep] = 0
    return _mix(np.add.reduceat(weighted, starts) * back[starts])


class WindowSums:
    """Prefix sums of position-weighted word hashes: any window length's n-gram hashes in O(words)."""

    def __init__(self, word_h: np.ndarray):
        fwd, self.back = _WORD_POW.get(len(word_h))
        self.size = len(word_h)
        self.weighted = word_h * fwd
        self.prefix = np.concatenate(([_U64(0)], np.cumsum(self.weighted, dtype=np.uint64)))

    def sums(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Per window start i: sum_j word_h[i+j] * W**(i+j), and W**-i."""
        count = self.size - n + 1
        return self.prefix[n:] - self.prefix[:count], self.back[:count]

    def ngrams(self, n: int) -> np.ndarray:
        """Hash of every contiguous n-word window (index i = window starting at word i)."""
        if self.size < n:
            return _EMPTY
        sums, back = self.sums(n)
        return _mix(sums * back + _EXACT_SALT)


def ngram_hashes(word_h: np.ndarray, n: int) -> np.ndarray:
    """Hash of every contiguous n-word window (index i = window starting at word i)."""
    return WindowSums(word_h).ngrams(n)


def masked_ngram_hashes(word_h: np.ndarray, n: int, windows: WindowSums | None = None) -> np.ndarray:
    """Shape (n, windows): hash of each n-word window with word j left out (one-word edit tolerance)."""
    if len(word_h) < n:
        return np.zeros((n, 0), dtype=np.uint64)
    windows = windows or WindowSums(word_h)
    sums, back = windows.sums(n)
    weighted = windows.weighted
    count = len(sums)
    out = np.empty((n, count), dtype=np.uint64)
    for j in range(n):
        out[j] = _mix((sums - weighted[j : j + count]) * back + _MASK_SALT + _U64(j))
    return out


def text_ngram_hashes(text: str, n: int) -> np.ndarray:
    """Hashes of the word n-grams of `text` (normalised: NFKC, case-folded, punctuation ignored)."""
    return ngram_hashes(word_hashes(ngram_words(text)), n)


def normalize_title(title: str) -> str:
    """Title key for the Wikipedia rule: the title's n-gram words joined by one space."""
    return " ".join(ngram_words(title.replace("_", " ")))


# --- the index ---------------------------------------------------------------------------------


@dataclass
class EvalItem:
    """One evaluation item: the text to protect, cut into segments no n-gram may cross."""

    benchmark: str
    item_id: str
    segments: list[str]


@dataclass
class DecontamIndex:
    """Sorted n-gram hashes of all eval items plus per-item metadata and protected Wikipedia titles."""

    n: int
    hashes: np.ndarray  # uint64, sorted
    items: np.ndarray  # int32, item of each hash
    item_ngrams: np.ndarray  # int32, distinct n-grams per item (before frequency pruning)
    item_benchmark: np.ndarray  # int16 into `benchmarks`
    item_ids: np.ndarray  # str
    benchmarks: list[str]
    fuzzy_hashes: np.ndarray = field(default_factory=lambda: _EMPTY)
    fuzzy_items: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    seed_hashes: np.ndarray = field(default_factory=lambda: _EMPTY)  # fuzzy=seeds: item s-grams, sorted
    seed_items: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    seed_pos: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))  # into item_words
    item_words: np.ndarray = field(default_factory=lambda: _EMPTY)  # fuzzy=seeds: word hashes, 0 = gap
    item_word_start: np.ndarray = field(default_factory=lambda: np.zeros(1, dtype=np.int64))  # per item, + end
    short_hashes: np.ndarray = field(default_factory=lambda: _EMPTY)  # whole short items, sorted
    short_items: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))
    short_lengths: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int32))  # words
    titles: dict[str, str] = field(default_factory=dict)  # normalised title -> benchmark
    meta: dict[str, Any] = field(default_factory=dict)

    def table(self, kind: str) -> tuple:
        """(hashes, items, prefilter bitmap, shift) of the exact, fuzzy or short table, built once."""
        cache = self.__dict__.setdefault("_tables", {})
        if kind not in cache:
            hashes, items = {
                "exact": (self.hashes, self.items),
                "fuzzy": (self.fuzzy_hashes, self.fuzzy_items),
                "short": (self.short_hashes, self.short_items),
                "seed": (self.seed_hashes, self.seed_items),
            }[kind]
            cache[kind] = (hashes, items, *prefilter_bitmap(hashes))
        return cache[kind]

    @property
    def fuzzy(self) -> bool:
        """Whether one-word-masked n-grams were indexed."""
        return len(self.fuzzy_hashes) > 0

    @property
    def seeds(self) -> bool:
        """Whether seed s-grams were indexed (fuzzy=seeds)."""
        return len(self.seed_hashes) > 0

    @property
    def nbytes(self) -> int:
        """Memory of the lookup arrays."""
        arrays = (
            *(self.hashes, self.items, self.fuzzy_hashes, self.fuzzy_items, self.short_hashes, self.short_items),
            *(self.seed_hashes, self.seed_items, self.seed_pos, self.item_words, self.item_word_start),
        )
        return sum(a.nbytes for a in arrays)


def _item_hashes(item: EvalItem, n: int, fuzzy: bool, min_words: int) -> tuple[np.ndarray, np.ndarray, list]:
    """Distinct exact and (if fuzzy) masked n-gram hashes of one item, and (k, hash) of whole short segments.

    An item with no n-word stretch is indexed by its segments of `min_words` <= k < n words as
    single k-grams (GPT-3 App. C lowers n to 8 for short benchmarks in the same spirit).
    """
    exact, masked, short = [], [], []
    for segment in item.segments:
        wh = word_hashes(ngram_words(segment))
        exact.append(ngram_hashes(wh, n))
        if fuzzy:
            masked.append(masked_ngram_hashes(wh, n).ravel())
        if min_words <= len(wh) < n:
            short.append((len(wh), ngram_hashes(wh, len(wh))[0]))
    ex = np.unique(np.concatenate(exact)) if exact else _EMPTY
    mk = np.unique(np.concatenate(masked)) if masked else _EMPTY
    return ex, mk, (short if not len(ex) else [])


FUZZY_KINDS = ("off", "masked", "seeds")


def fuzzy_kind(value: Any) -> str:
    """Normalise the `fuzzy` setting: false/off, true/masked, seeds."""
    if value in (False, None, "off", "false"):
        return "off"
    if value in (True, "masked", "true"):
        return "masked"
    if value == "seeds":
        return "seeds"
    raise ValueError(f"decontaminate.fuzzy must be false, true/masked or seeds, got {value!r}")


_MISMATCH, _XDROP = 1, 3  # seed extension: score per differing word, stop this far below the best
_GAP = _U64(0)  # word-hash sentinel between an item's segments (a real word hashes to 0 w.p. 2**-64)


def _item_seeds(item: EvalItem, s: int, base: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct s-gram hashes of an item with their (first) word positions, and the item's word hashes.

    Positions index the global word array, whose part for this item starts at `base`; segments are
    separated by a gap sentinel so no alignment runs across them.
    """
    hashes, positions, words, offset = [], [], [], base
    for segment in item.segments:
        wh = word_hashes(ngram_words(segment))
        grams = ngram_hashes(wh, s)
        hashes.append(grams)
        positions.append(np.arange(len(grams), dtype=np.int64) + offset)
        words.append(np.append(wh, _GAP))
        offset += len(wh) + 1
    if not hashes:
        return _EMPTY, np.zeros(0, dtype=np.int64), _EMPTY
    all_h, all_p = np.concatenate(hashes), np.concatenate(positions)
    uniq, first = np.unique(all_h, return_index=True)
    return uniq, all_p[first], np.concatenate(words)


def _sorted_seeds(hash_parts, item_parts, pos_parts, max_items: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Seed table sorted by (hash, item); seeds shared by more than `max_items` items dropped."""
    if not hash_parts:
        return _EMPTY, np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int64)
    hashes, items, pos = map(np.concatenate, (hash_parts, item_parts, pos_parts))
    order = np.lexsort((items, hashes))
    hashes, items, pos = hashes[order], items[order].astype(np.int32), pos[order].astype(np.int64)
    if max_items > 0 and len(hashes):
        _, counts = np.unique(hashes, return_counts=True)
        keep = ~np.repeat(counts > max_items, counts)
        hashes, items, pos = hashes[keep], items[keep], pos[keep]
    return hashes, items, pos


def _extend(doc: np.ndarray, ref: np.ndarray, i: int, p: int, s: int, lo: int, hi: int) -> tuple[int, int, int]:
    """Ungapped X-drop extension of the seed doc[i:i+s] == ref[p:p+s]: (doc start, doc end, equal words).

    `ref[lo:hi]` is the item's word range; a gap sentinel or either sequence's end stops the walk.
    """
    best_right, right_equal, score, best, equal = 0, 0, 0, 0, 0
    k = s
    while i + k < len(doc) and p + k < hi and ref[p + k] != _GAP:
        if doc[i + k] == ref[p + k]:
            score, equal = score + 1, equal + 1
            if score > best:
                best, best_right, right_equal = score, k + 1 - s, equal
        else:
            score -= _MISMATCH
            if score < best - _XDROP:
                break
        k += 1
    best_left, left_equal, score, best, equal = 0, 0, 0, 0, 0
    k = 1
    while i - k >= 0 and p - k >= lo and ref[p - k] != _GAP:
        if doc[i - k] == ref[p - k]:
            score, equal = score + 1, equal + 1
            if score > best:
                best, best_left, left_equal = score, k, equal
        else:
            score -= _MISMATCH
            if score < best - _XDROP:
                break
        k += 1
    return i - best_left, i + s + best_right, s + left_equal + right_equal


def _seed_matches(
    index: DecontamIndex, doc: np.ndarray, doc_pos: np.ndarray, rows: np.ndarray, s: int, section: Mapping[str, Any]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Items whose extended, chained seed alignments reach `fuzzy_min_words` equal words.

    Returns (doc start, item, width) of each qualifying aligned segment.
    """
    min_equal = int(section["fuzzy_min_words"])
    min_short = int(section["fuzzy_min_words_short"])
    max_shift = int(section["fuzzy_max_shift"])
    max_gap = int(section["fuzzy_max_gap"])
    items = index.seed_items[rows].astype(np.int64)
    ref_pos = index.seed_pos[rows]
    order = np.lexsort((doc_pos, items))
    doc_pos, items, ref_pos = doc_pos[order], items[order], ref_pos[order]
    ref = index.item_words
    out_start: list[int] = []
    out_item: list[int] = []
    out_width: list[int] = []
    bounds = np.flatnonzero(np.concatenate(([True], items[1:] != items[:-1], [True])))
    for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True):
        item = int(items[a])
        lo, hi = int(index.item_word_start[item]), int(index.item_word_start[item + 1])
        segments: list[tuple[int, int, int, int]] = []  # (doc start, doc end, equal, diagonal)
        for i, p in zip(doc_pos[a:b].tolist(), ref_pos[a:b].tolist(), strict=True):
            if any(start <= i < end and d == i - p for start, end, _, d in segments):
                continue  # inside a segment already extended on this alignment
            start, end, equal = _extend(doc, ref, i, p, s, lo, hi)
            segments.append((start, end, equal, i - p))
        need = min_equal
        if index.item_ngrams[item] == 0:  # a short item (< n words): one edit may remain, never below min_short
            need = min(min_equal, max(min_short, int(np.count_nonzero(ref[lo:hi] != _GAP)) - 1))
        segments.sort()
        chain: list[tuple[int, int, int, int]] = []
        equal_total, chain_end = 0.0, 0
        for seg in [*segments, (1 << 62, 1 << 62, 0, 0)]:
            start, end, equal, diagonal = seg
            if chain and start <= chain_end + max_gap and abs(diagonal - chain[-1][3]) <= max_shift:
                # count only the words beyond what the chain already covers (overlaps are not double counted)
                equal_total += equal * max(0, end - max(start, chain_end)) / (end - start)
                chain_end = max(chain_end, end)
                chain.append(seg)
                continue
            if chain and equal_total >= need:
                for c in chain:
                    out_start.append(c[0])
                    out_item.append(item)
                    out_width.append(c[1] - c[0])
            chain, equal_total, chain_end = [seg], float(equal), end
    return (
        np.asarray(out_start, dtype=np.int64),
        np.asarray(out_item, dtype=np.int64),
        np.asarray(out_width, dtype=np.int64),
    )


def _sorted_pairs(hash_parts: list[np.ndarray], item_parts: list[np.ndarray], max_items: int) -> tuple:
    """Concatenate (hash, item) pairs, sort by hash then item, drop hashes shared by > max_items items."""
    if not hash_parts:
        return _EMPTY, np.zeros(0, dtype=np.int32), 0
    hashes = np.concatenate(hash_parts)
    items = np.concatenate(item_parts).astype(np.int32)
    order = np.lexsort((items, hashes))
    hashes, items = hashes[order], items[order]
    dropped = 0
    if max_items > 0 and len(hashes):
        _, first, counts = np.unique(hashes, return_index=True, return_counts=True)
        frequent = counts > max_items
        if frequent.any():
            keep = ~np.repeat(frequent, counts)
            dropped = int(frequent.sum())
            hashes, items = hashes[keep], items[keep]
    return hashes, items, dropped


def build_index(
    items: Iterable[EvalItem], section: Mapping[str, Any], titles: Mapping[str, str] | None = None
) -> DecontamIndex:
    """Build the index from eval items with the `decontaminate` config section (n, fuzzy, pruning)."""
    started = time.perf_counter()
    validate_section(section)
    n = int(section["ngram"])
    fuzzy_mode = fuzzy_kind(section["fuzzy"])
    fuzzy = fuzzy_mode == "masked"
    seed_words = int(section["fuzzy_seed_words"])
    max_items = int(section["max_items_per_ngram"])
    min_words = int(section["min_item_words"])
    bench_names: list[str] = []
    bench_pos: dict[str, int] = {}
    ex_h, ex_i, mk_h, mk_i = [], [], [], []
    sd_h: list[np.ndarray] = []
    sd_i: list[np.ndarray] = []
    sd_p: list[np.ndarray] = []
    sd_words: list[np.ndarray] = []
    word_base, word_start = 0, [0]
    item_ngrams, item_bench, item_ids = [], [], []
    short: dict[str, int] = {}
    short_rows: list[tuple[int, int, int]] = []  # (hash, item, length)
    for idx, item in enumerate(items):
        if item.benchmark not in bench_pos:
            bench_pos[item.benchmark] = len(bench_names)
            bench_names.append(item.benchmark)
        ex, mk, short_segments = _item_hashes(item, n, fuzzy, min_words)
        if fuzzy_mode == "seeds":
            sh, sp, words = _item_seeds(item, seed_words, word_base)
            sd_h.append(sh)
            sd_p.append(sp)
            sd_i.append(np.full(len(sh), idx, dtype=np.int32))
            sd_words.append(words)
            word_base += len(words)
            word_start.append(word_base)
        short_rows.extend((int(h), idx, k) for k, h in short_segments)
        if not len(ex) and not short_segments:
            short[item.benchmark] = short.get(item.benchmark, 0) + 1
        ex_h.append(ex)
        ex_i.append(np.full(len(ex), idx, dtype=np.int32))
        if fuzzy:
            mk_h.append(mk)
            mk_i.append(np.full(len(mk), idx, dtype=np.int32))
        item_ngrams.append(len(ex))
        item_bench.append(bench_pos[item.benchmark])
        item_ids.append(item.item_id)
    hashes, item_of, dropped = _sorted_pairs(ex_h, ex_i, max_items)
    fz_hashes, fz_items, fz_dropped = _sorted_pairs(mk_h, mk_i, max_items) if fuzzy else (_EMPTY, ex_i[:0], 0)
    seeds = _sorted_seeds(sd_h, sd_i, sd_p, int(section["fuzzy_max_items_per_seed"]))
    short_rows.sort()
    short_arr = np.array(short_rows, dtype=np.uint64).reshape(-1, 3)
    per_bench = {b: int(np.sum(np.array(item_bench) == i)) for i, b in enumerate(bench_names)}
    meta = {
        "format_version": FORMAT_VERSION,
        "ngram": n,
        "fuzzy": fuzzy_mode,
        "fuzzy_seed_words": seed_words,
        "seeds": int(len(seeds[0])),
        "max_items_per_ngram": max_items,
        "items": len(item_ids),
        "items_per_benchmark": per_bench,
        "min_item_words": min_words,
        "items_unmatchable": short,
        "items_short": len({i for _, i, _ in short_rows}),
        "ngrams": int(len(hashes)),
        "frequent_ngrams_dropped": dropped + fz_dropped,
        "build_seconds": round(time.perf_counter() - started, 3),
    }
    return DecontamIndex(
        n=n,
        hashes=hashes,
        items=item_of,
        item_ngrams=np.asarray(item_ngrams, dtype=np.int32),
        item_benchmark=np.asarray(item_bench, dtype=np.int16),
        item_ids=np.asarray(item_ids, dtype=str),
        benchmarks=bench_names,
        fuzzy_hashes=fz_hashes,
        fuzzy_items=fz_items if fuzzy else np.zeros(0, dtype=np.int32),
        seed_hashes=seeds[0],
        seed_items=seeds[1],
        seed_pos=seeds[2],
        item_words=np.concatenate(sd_words) if sd_words else _EMPTY,
        item_word_start=np.asarray(word_start, dtype=np.int64),
        short_hashes=short_arr[:, 0].copy(),
        short_items=short_arr[:, 1].astype(np.int32),
        short_lengths=short_arr[:, 2].astype(np.int32),
        titles={normalize_title(t): b for t, b in (titles or {}).items() if normalize_title(t)},
        meta=meta,
    )


def save_index(index: DecontamIndex, stream: BinaryIO) -> None:
    """Write the index as one uncompressed `.npz` (no pickle) to a binary stream."""
    titles = sorted(index.titles.items())
    meta = dict(index.meta, benchmarks=index.benchmarks)
    np.savez(
        stream,
        hashes=index.hashes,
        items=index.items,
        item_ngrams=index.item_ngrams,
        item_benchmark=index.item_benchmark,
        item_ids=index.item_ids if len(index.item_ids) else np.zeros(0, dtype="<U1"),
        fuzzy_hashes=index.fuzzy_hashes,
        fuzzy_items=index.fuzzy_items,
        seed_hashes=index.seed_hashes,
        seed_items=index.seed_items,
        seed_pos=index.seed_pos,
        item_words=index.item_words,
        item_word_start=index.item_word_start,
        short_hashes=index.short_hashes,
        short_items=index.short_items,
        short_lengths=index.short_lengths,
        title_keys=np.asarray([t for t, _ in titles] or [""][:0], dtype=str),
        title_benchmarks=np.asarray([b for _, b in titles] or [""][:0], dtype=str),
        meta=np.asarray(json.dumps(meta, sort_keys=True)),
    )


INDEX_ARRAYS = (
    *("hashes", "items", "item_ngrams", "item_benchmark", "item_ids", "fuzzy_hashes", "fuzzy_items"),
    *("seed_hashes", "seed_items", "seed_pos", "item_words", "item_word_start"),
    *("short_hashes", "short_items", "short_lengths", "title_keys", "title_benchmarks", "meta"),
)


def read_index_meta(stream: BinaryIO) -> dict[str, Any]:
    """An index file's metadata (format version, n-gram size, counts), read without loading its arrays.

    Cheap on any size of index: the `.npz` is a zip, so only its directory and the small `meta` member are read.
    """
    try:
        if not stream.seekable():
            stream = io.BytesIO(stream.read())
        with zipfile.ZipFile(stream) as archive:
            arrays = {name.removesuffix(".npy") for name in archive.namelist()}
            missing = [name for name in INDEX_ARRAYS if name not in arrays]
            if missing:
                raise IndexFormatError(f"not a decontamination index: no {missing[0]!r} array")
            with archive.open("meta.npy") as fh:
                meta = json.loads(str(np.lib.format.read_array(fh, allow_pickle=False)))
    except IndexFormatError:
        raise
    except (zipfile.BadZipFile, ValueError, KeyError, OSError, EOFError) as exc:
        raise IndexFormatError(f"not a decontamination index: {exc}") from None
    if not isinstance(meta, dict) or meta.get("format_version") != FORMAT_VERSION:
        version = meta.get("format_version") if isinstance(meta, dict) else None
        raise IndexFormatError(f"index format {version} != {FORMAT_VERSION}; rebuild it with this version")
    return meta


def load_index(stream: BinaryIO | bytes) -> DecontamIndex:
    """Read an index written by `save_index` (from bytes or a binary stream)."""
    data = stream if isinstance(stream, bytes | bytearray) else stream.read()
    try:
        npz = np.load(io.BytesIO(data), allow_pickle=False)
        meta = json.loads(str(npz["meta"]))
        if meta.get("format_version") != FORMAT_VERSION:
            raise IndexFormatError(f"index format {meta.get('format_version')} != {FORMAT_VERSION}")
        return DecontamIndex(
            n=int(meta["ngram"]),
            hashes=npz["hashes"],
            items=npz["items"],
            item_ngrams=npz["item_ngrams"],
            item_benchmark=npz["item_benchmark"],
            item_ids=npz["item_ids"],
            benchmarks=list(meta.pop("benchmarks")),
            fuzzy_hashes=npz["fuzzy_hashes"],
            fuzzy_items=npz["fuzzy_items"],
            seed_hashes=npz["seed_hashes"],
            seed_items=npz["seed_items"],
            seed_pos=npz["seed_pos"],
            item_words=npz["item_words"],
            item_word_start=npz["item_word_start"],
            short_hashes=npz["short_hashes"],
            short_items=npz["short_items"],
            short_lengths=npz["short_lengths"],
            titles=dict(zip(npz["title_keys"].tolist(), npz["title_benchmarks"].tolist(), strict=True)),
            meta=meta,
        )
    except (ValueError, KeyError, OSError) as exc:
        if isinstance(exc, IndexFormatError):
            raise
        raise IndexFormatError(f"not a decontamination index: {exc}") from None


def validate_section(section: Mapping[str, Any]) -> None:
    """Reject an incomplete section, misspelt values and out-of-range sizes before any document is read."""
    check_section("decontaminate", section)


def check_compatible(index: DecontamIndex, section: Mapping[str, Any]) -> None:
    """Fail early on a bad section or when the run config asks for an n the index was not built with."""
    check_index_meta({"ngram": index.n}, section)


def check_index_meta(meta: Mapping[str, Any], section: Mapping[str, Any]) -> None:
    """`check_compatible` for an index known only by its metadata (`read_index_meta`), before any run."""
    validate_section(section)
    n = int(section["ngram"])
    if n != int(meta["ngram"]):
        raise IndexFormatError(
            f"decontaminate.ngram={n} but the index was built with ngram={meta['ngram']}; rebuild it"
        )


# --- matching ----------------------------------------------------------------------------------


@dataclass
class ItemMatch:
    """An eval item a document overlaps: how many windows matched and where (word positions)."""

    item: int
    benchmark: str
    item_id: str
    matched_ngrams: int  # distinct exact n-gram windows (or the whole short item) found
    fuzzy_windows: int  # qualifying fuzzy alignments (masked hits or seed segments); > 0 means an edited copy
    item_ngrams: int
    jaccard: float
    windows: np.ndarray  # sorted word positions where matching windows start in the document
    widths: np.ndarray  # words in each window (n, or k for a whole short item)


PREFILTER_BITS_PER_HASH = 32  # bitmap slots per indexed hash: ~3% of absent keys reach the binary search


def prefilter_bitmap(hashes: np.ndarray) -> tuple[np.ndarray, np.uint64]:
    """Packed bitmap over the top bits of the hashes (a one-hash Bloom filter) and the shift to index it."""
    bits = max(16, int(np.ceil(np.log2(max(1, len(hashes)) * PREFILTER_BITS_PER_HASH))))
    shift = _U64(64 - bits)
    slots = hashes >> shift
    bitmap = np.zeros((1 << bits) // 8, dtype=np.uint8)
    np.bitwise_or.at(bitmap, (slots >> _U64(3)).astype(np.int64), (_U64(1) << (slots & _U64(7))).astype(np.uint8))
    return bitmap, shift


def _lookup(keys: np.ndarray, positions: np.ndarray, table: tuple) -> tuple:
    """All (position, item, hash) triples where a key equals an index hash (duplicates expanded)."""
    positions, rows = _lookup_rows(keys, positions, table)
    return positions, table[1][rows].astype(np.int64), table[0][rows]


def _lookup_rows(keys: np.ndarray, positions: np.ndarray, table: tuple) -> tuple[np.ndarray, np.ndarray]:
    """All (position, table row) pairs where a key equals the table's hash (duplicates expanded)."""
    hashes, _, bitmap, shift = table
    empty = np.zeros(0, dtype=np.int64)
    if not len(keys) or not len(hashes):
        return empty, empty
    slots = keys >> shift
    maybe = (bitmap[(slots >> _U64(3)).astype(np.int64)] >> (slots & _U64(7)).astype(np.uint8)) & 1
    keys, positions = keys[maybe.astype(bool)], positions[maybe.astype(bool)]
    if not len(keys):
        return empty, empty
    lo = np.searchsorted(hashes, keys, side="left")
    hit = lo < len(hashes)
    hit[hit] = hashes[lo[hit]] == keys[hit]
    if not hit.any():
        return empty, empty
    keys, positions, lo = keys[hit], positions[hit], lo[hit]
    hi = np.searchsorted(hashes, keys, side="right")
    counts = hi - lo
    if (counts == 1).all():
        return positions, lo
    rep = np.repeat(np.arange(len(keys)), counts)
    offsets = np.arange(len(rep)) - np.repeat(np.cumsum(counts) - counts, counts)
    return positions[rep], lo[rep] + offsets


def _short_widths(index: DecontamIndex, items: np.ndarray) -> np.ndarray:
    """Word length of each short item (its whole text is one window)."""
    lengths = index.__dict__.get("_short_len_of")
    if lengths is None:
        lengths = np.zeros(len(index.item_ids), dtype=np.int64)
        lengths[index.short_items] = index.short_lengths
        index.__dict__["_short_len_of"] = lengths
    return lengths[items]


def match_words(index: DecontamIndex, words: Sequence[str], section: Mapping[str, Any]) -> list[ItemMatch]:
    """Eval items the word sequence overlaps, best first (most matched windows, then item order)."""
    return match_word_string(index, " ".join(words), section)


def match_text(index: DecontamIndex, text: str, section: Mapping[str, Any]) -> list[ItemMatch]:
    """Eval items a text overlaps (normalised as `curation.text.ngram_words`), best first."""
    return match_word_string(index, ngram_word_string(text), section)


def match_word_string(index: DecontamIndex, joined: str, section: Mapping[str, Any]) -> list[ItemMatch]:
    """`match_words` for words joined by single spaces (no per-word Python objects on the hot path)."""
    n = index.n
    wh = word_string_hashes(joined)
    lengths = index.__dict__.get("_short_k")
    if lengths is None:
        lengths = index.__dict__["_short_k"] = np.unique(index.short_lengths).tolist()
    seed_words = int(index.meta["fuzzy_seed_words"])
    use_seeds = index.seeds and section["policy"] == "overlap"
    if len(wh) < min([n, *lengths, *([seed_words] if use_seeds else [])]):
        return []
    windows = WindowSums(wh)
    grams = windows.ngrams(n)
    positions = np.arange(len(grams), dtype=np.int64)
    pos, item, key = _lookup(grams, positions, index.table("exact"))
    use_fuzzy = index.fuzzy and section["policy"] == "overlap"
    found_pos, found_item, found_width = [pos], [item], [np.full(len(pos), n)]
    found_fuzzy = [np.zeros(len(pos), dtype=bool)]
    if use_fuzzy and len(grams):
        masked = masked_ngram_hashes(wh, n, windows)
        fpos, fitem, _ = _lookup(masked.ravel(), np.tile(positions, n), index.table("fuzzy"))
        found_pos.append(fpos)
        found_item.append(fitem)
        found_width.append(np.full(len(fpos), n))
        found_fuzzy.append(np.ones(len(fpos), dtype=bool))
    if use_seeds:
        seed_grams = windows.ngrams(seed_words)
        spos, rows = _lookup_rows(seed_grams, np.arange(len(seed_grams)), index.table("seed"))
        if len(rows):
            cpos, citem, cwidth = _seed_matches(index, wh, spos, rows, seed_words, section)
            found_pos.append(cpos)
            found_item.append(citem)
            found_width.append(cwidth)
            found_fuzzy.append(np.ones(len(cpos), dtype=bool))
    if lengths:
        kgrams = [windows.ngrams(k) for k in lengths]
        spos, sitem, _ = _lookup(
            np.concatenate(kgrams),
            np.concatenate([np.arange(len(g)) for g in kgrams]),
            index.table("short"),
        )
        # width of a short hit: the item's whole length (hash collisions across k are 2**-64 events)
        found_pos.append(spos)
        found_item.append(sitem)
        found_width.append(_short_widths(index, sitem))
        found_fuzzy.append(np.zeros(len(spos), dtype=bool))
    win_pos, win_item, win_width, win_fuzzy = map(np.concatenate, (found_pos, found_item, found_width, found_fuzzy))
    if not len(win_item):
        return []
    doc_distinct = len(np.unique(grams))
    # distinct exact hashes per item (Jaccard numerator)
    inter = {}
    if len(item):
        pairs = np.unique(np.stack((item.astype(np.uint64), key)), axis=1)
        u_items, u_counts = np.unique(pairs[0].astype(np.int64), return_counts=True)
        inter = dict(zip(u_items.tolist(), u_counts.tolist(), strict=True))
    order = np.lexsort((-win_width, win_pos, win_item))  # widest window first at each position
    win_item, win_pos, win_width, win_fuzzy = win_item[order], win_pos[order], win_width[order], win_fuzzy[order]
    bounds = np.flatnonzero(np.concatenate(([True], win_item[1:] != win_item[:-1], [True])))
    out = []
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        it = int(win_item[a])
        first = np.concatenate(([True], win_pos[a + 1 : b] != win_pos[a : b - 1]))
        windows, widths = win_pos[a:b][first], win_width[a:b][first]
        exact_windows = np.unique(win_pos[a:b][~win_fuzzy[a:b]])
        fuzzy_windows = int(win_fuzzy[a:b].sum())
        shared = inter.get(it, 0)
        union = doc_distinct + int(index.item_ngrams[it]) - shared
        out.append(
            ItemMatch(
                item=it,
                benchmark=index.benchmarks[int(index.item_benchmark[it])],
                item_id=str(index.item_ids[it]),
                matched_ngrams=len(exact_windows),
                fuzzy_windows=fuzzy_windows,
                item_ngrams=int(index.item_ngrams[it]),
                jaccard=shared / union if union else 0.0,
                windows=windows,
                widths=widths,
            )
        )
    out.sort(key=lambda m: (-m.matched_ngrams, -m.fuzzy_windows, m.item))
    return out


def is_contaminating(match: ItemMatch, section: Mapping[str, Any]) -> bool:
    """The policy decision for one (document, item) pair: `overlap` (containment) or `jaccard`."""
    if section["policy"] == "jaccard":
        return match.jaccard > float(section["jaccard_threshold"])
    needed = min(int(section["min_matched_ngrams"]), max(1, match.item_ngrams))
    return match.matched_ngrams >= needed or match.fuzzy_windows > 0


def _word_intervals(windows: np.ndarray, widths: np.ndarray) -> list[tuple[int, int]]:
    """Merge windows (start word, width) sorted by start into [first_word, end_word) intervals."""
    out: list[tuple[int, int]] = []
    for w, k in zip(windows.tolist(), widths.tolist(), strict=True):
        if out and w <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], w + k))
        else:
            out.append((w, w + k))
    return out


def _offset_map(text: str, norm: str) -> list[int] | None:
    """Original-text offset of each character of `norm` (= NFKC of text), or None if unmappable."""
    if norm == text:
        return None
    mapping: list[int] = []
    for k, ch in enumerate(text):
        mapping.extend([k] * len(unicodedata.normalize("NFKC", ch)))
    return mapping if len(mapping) == len(norm) else []


def _char_span(text: str, spans: list[tuple[int, int]], words: tuple[int, int]) -> tuple[int, int]:
    """Character interval of a word interval in the NFKC text."""
    return spans[words[0]][0], spans[words[1] - 1][1]


def _example_span(norm: str, spans: list[tuple[int, int]], match: ItemMatch, n: int, limit: int) -> str:
    """The first matched stretch of the document (NFKC text), at most `limit` characters."""
    first = _word_intervals(match.windows, match.widths)[0]
    start, end = _char_span(norm, spans, first)
    return norm[start : min(end, start + limit)]


def _cut(doc: Document, norm: str, spans, flagged: list[ItemMatch], n: int, section) -> bool:
    """Cut matched spans plus a margin out of `doc.text`; False when too little would remain."""
    margin = int(section["cut_margin_chars"])
    min_piece = int(section["cut_min_piece_chars"])
    max_pieces = int(section["cut_max_pieces"])
    mapping = _offset_map(doc.text, norm)
    if mapping == []:
        return False  # NFKC changed lengths in a way we cannot map back: drop instead of guessing
    starts = np.concatenate([m.windows for m in flagged])
    widths = np.concatenate([m.widths for m in flagged])
    order = np.argsort(starts, kind="stable")
    cuts: list[list[int]] = []
    for interval in _word_intervals(starts[order], widths[order]):
        start, end = _char_span(norm, spans, interval)
        if mapping is not None:
            start, end = mapping[start], mapping[end - 1] + 1
        start, end = max(0, start - margin), min(len(doc.text), end + margin)
        if cuts and start <= cuts[-1][1]:
            cuts[-1][1] = max(cuts[-1][1], end)
        else:
            cuts.append([start, end])
    pieces, prev = [], 0
    for start, end in cuts:
        pieces.append(doc.text[prev:start])
        prev = end
    pieces.append(doc.text[prev:])
    kept = [p.strip() for p in pieces if len(p.strip()) >= min_piece]
    if not kept or len(kept) > max_pieces:
        return False
    removed_chars = len(doc.text) - sum(len(p) for p in kept)
    doc.meta["decontam_cut"] = {
        "spans": cuts,
        "chars_removed": removed_chars,
        "benchmarks": sorted({m.benchmark for m in flagged}),
        "item_ids": [m.item_id for m in flagged],
    }
    doc.text = "\n\n".join(kept)
    return True


def _row(doc: Document, match: ItemMatch, span: str) -> dict[str, Any]:
    """One row of the match report."""
    return {
        "id": doc.id,
        "benchmark": match.benchmark,
        "item_id": match.item_id,
        "matched_ngrams": match.matched_ngrams,
        "example_span": span,
    }


def decontaminate_document(
    doc: Document, index: DecontamIndex, section: Mapping[str, Any]
) -> tuple[bool, list[dict[str, Any]]]:
    """Check one document; returns (removed?, match rows). Sets `doc.reason`, or cuts its text in cut mode."""
    limit = int(section["example_span_chars"])
    max_rows = int(section["max_matches_per_doc"])
    if doc.title and doc.source in section["title_sources"] and index.titles:
        bench = index.titles.get(normalize_title(doc.title))
        if bench is not None:
            doc.reason = "decontaminate.wikipedia_title"
            row = {
                "id": doc.id,
                "benchmark": bench,
                "item_id": doc.title,
                "matched_ngrams": 0,
                "example_span": doc.title,
            }
            return True, [row]
    flagged = [m for m in match_text(index, doc.text, section) if is_contaminating(m, section)]
    if not flagged:
        return False, []
    norm = ngram_text(doc.text)
    spans = ngram_word_spans(doc.text)
    if len(spans) < max(int((m.windows + m.widths).max()) for m in flagged):  # defensive: never seen
        doc.reason = f"decontaminate.{flagged[0].benchmark}"
        return True, [_row(doc, m, "") for m in flagged[:max_rows]]
    rows = [_row(doc, m, _example_span(norm, spans, m, index.n, limit)) for m in flagged[:max_rows]]
    cut_mode = section["action"] == "cut" and section["policy"] == "overlap"
    if cut_mode and _cut(doc, norm, spans, flagged, index.n, section):
        return False, rows
    doc.reason = f"decontaminate.{flagged[0].benchmark}"
    return True, rows
