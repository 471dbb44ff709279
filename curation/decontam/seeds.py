"""Seed matching (`fuzzy: seeds`): item s-grams indexed with their positions, extended and chained at match time.

A seed hit is extended word by word along its alignment (ungapped, X-drop: +1 per equal word, -3 per
differing word, stop 5 below the best score); the extended segments of one item are chained across small
shifts (insertions/deletions, up to `fuzzy_max_shift` words) and gaps (`fuzzy_max_gap` words), and the item
matches when a chain has at least `fuzzy_min_words` equal words.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from curation.decontam.hashing import EMPTY, ngram_hashes, word_string_hashes
from curation.ngrams import ngram_word_string

if TYPE_CHECKING:
    from curation.decontam.index import DecontamIndex

_MISMATCH, _XDROP = 1, 3  # extension: score per differing word, stop this far below the best
GAP = np.uint64(0)  # word-hash sentinel between an item's segments (a real word hashes to 0 w.p. 2**-64)


def item_seeds(segments: Sequence[str], s: int, base: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct s-gram hashes of an item's segments with their (first) word positions, and its word hashes.

    Positions index the global word array, whose part for this item starts at `base`; segments are
    separated by a gap sentinel so no alignment runs across them.
    """
    hashes, positions, words, offset = [], [], [], base
    for segment in segments:
        wh = word_string_hashes(ngram_word_string(segment))
        grams = ngram_hashes(wh, s)
        hashes.append(grams)
        positions.append(np.arange(len(grams), dtype=np.int64) + offset)
        words.append(np.append(wh, GAP))
        offset += len(wh) + 1
    if not hashes:
        return EMPTY, np.zeros(0, dtype=np.int64), EMPTY
    all_h, all_p = np.concatenate(hashes), np.concatenate(positions)
    uniq, first = np.unique(all_h, return_index=True)
    return uniq, all_p[first], np.concatenate(words)


def sorted_seeds(
    hash_parts: list[np.ndarray], item_parts: list[np.ndarray], pos_parts: list[np.ndarray], max_items: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Seed table sorted by (hash, item); seeds shared by more than `max_items` items dropped."""
    if not hash_parts:
        return EMPTY, np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int64)
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
    while i + k < len(doc) and p + k < hi and ref[p + k] != GAP:
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
    while i - k >= 0 and p - k >= lo and ref[p - k] != GAP:
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


def seed_matches(
    index: DecontamIndex, doc: np.ndarray, doc_pos: np.ndarray, rows: np.ndarray, s: int, section: Mapping[str, Any]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Items whose extended, chained seed alignments reach `fuzzy_min_words` equal words.

    `doc` holds the document's word hashes; the `s`-word seed of seed-table row `rows[k]` was hit at document
    word `doc_pos[k]`. Returns (doc start, item, width) of each qualifying aligned segment.
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
            need = min(min_equal, max(min_short, int(np.count_nonzero(ref[lo:hi] != GAP)) - 1))
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
