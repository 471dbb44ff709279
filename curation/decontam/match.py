"""Lookup and match: which eval items a document overlaps, where, and whether the policy calls it contamination.

Lookups are exact hash lookups (`np.searchsorted` behind a one-hash Bloom prefilter); a false match needs a
64-bit collision, about `doc_ngrams * index_ngrams / 2**64` (1e-7 for a 10,000-word document against 10^8
n-grams).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from curation.decontam.hashing import masked_ngram_hashes, ngram_hashes, window_sums, word_string_hashes
from curation.decontam.seeds import seed_matches
from curation.ngrams import ngram_word_string

if TYPE_CHECKING:
    from curation.decontam.index import DecontamIndex

_U64 = np.uint64
PREFILTER_BITS_PER_HASH = 32  # bitmap slots per indexed hash: ~3% of absent keys reach the binary search


def prefilter_bitmap(hashes: np.ndarray) -> tuple[np.ndarray, np.uint64]:
    """Packed bitmap over the top bits of the hashes (a one-hash Bloom filter) and the shift to index it."""
    bits = max(16, int(np.ceil(np.log2(max(1, len(hashes)) * PREFILTER_BITS_PER_HASH))))
    shift = _U64(64 - bits)
    slots = hashes >> shift
    bitmap = np.zeros((1 << bits) // 8, dtype=np.uint8)
    np.bitwise_or.at(bitmap, (slots >> _U64(3)).astype(np.int64), (_U64(1) << (slots & _U64(7))).astype(np.uint8))
    return bitmap, shift


class LookupTable:
    """Sorted hashes with a parallel item array, searchable for many keys at once."""

    def __init__(self, hashes: np.ndarray, items: np.ndarray):
        self.hashes = hashes
        self.items = items
        self.bitmap, self.shift = prefilter_bitmap(hashes)

    def rows(self, keys: np.ndarray, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """All (position, table row) pairs where a key equals the table's hash (duplicates expanded)."""
        hashes, bitmap, shift = self.hashes, self.bitmap, self.shift
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

    def lookup(self, keys: np.ndarray, positions: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """All (position, item, hash) triples where a key equals an indexed hash (duplicates expanded)."""
        positions, rows = self.rows(keys, positions)
        return positions, self.items[rows].astype(np.int64), self.hashes[rows]


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


def match_text(index: DecontamIndex, text: str, section: Mapping[str, Any]) -> list[ItemMatch]:
    """Eval items a text overlaps (words as `curation.ngrams.ngram_word_string`), best first."""
    return match_word_string(index, ngram_word_string(text), section)


def match_word_string(index: DecontamIndex, joined: str, section: Mapping[str, Any]) -> list[ItemMatch]:
    """Eval items a word sequence (words joined by single spaces) overlaps, best first.

    Best first: most matched windows, then most fuzzy windows, then item order.
    """
    n = index.n
    wh = word_string_hashes(joined)
    lengths = index.short_sizes
    seed_words = int(index.meta["fuzzy_seed_words"])
    use_seeds = index.seeds and section["policy"] == "overlap"
    if len(wh) < min([n, *lengths, *([seed_words] if use_seeds else [])]):
        return []
    windows = window_sums(wh)
    grams = ngram_hashes(wh, n, windows)
    positions = np.arange(len(grams), dtype=np.int64)
    pos, item, key = index.exact_table.lookup(grams, positions)
    use_fuzzy = index.fuzzy and section["policy"] == "overlap"
    found_pos, found_item, found_width = [pos], [item], [np.full(len(pos), n)]
    found_fuzzy = [np.zeros(len(pos), dtype=bool)]
    if use_fuzzy and len(grams):
        masked = masked_ngram_hashes(wh, n, windows)
        fpos, fitem, _ = index.fuzzy_table.lookup(masked.ravel(), np.tile(positions, n))
        found_pos.append(fpos)
        found_item.append(fitem)
        found_width.append(np.full(len(fpos), n))
        found_fuzzy.append(np.ones(len(fpos), dtype=bool))
    if use_seeds:
        seed_grams = ngram_hashes(wh, seed_words, windows)
        spos, rows = index.seed_table.rows(seed_grams, np.arange(len(seed_grams)))
        if len(rows):
            cpos, citem, cwidth = seed_matches(index, wh, spos, rows, seed_words, section)
            found_pos.append(cpos)
            found_item.append(citem)
            found_width.append(cwidth)
            found_fuzzy.append(np.ones(len(cpos), dtype=bool))
    if lengths:
        kgrams = [ngram_hashes(wh, k, windows) for k in lengths]
        spos, sitem, _ = index.short_table.lookup(
            np.concatenate(kgrams), np.concatenate([np.arange(len(g)) for g in kgrams])
        )
        # width of a short hit: the item's whole length (hash collisions across k are 2**-64 events)
        found_pos.append(spos)
        found_item.append(sitem)
        found_width.append(index.short_length_of[sitem])
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
        starts, widths = win_pos[a:b][first], win_width[a:b][first]
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
                windows=starts,
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
