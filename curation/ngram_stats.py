"""Gopher repetition n-gram fractions as one compiled (numba) kernel per document and convention.

`ngram_fractions(hashes, cum, text_len, convention)` gives the repetition filter's top 2-4-gram and duplicate
5-10-gram character fractions (`filters.repetition`, definitions in docs/filters.md) from per-token arrays:
`hashes` (uint64, one per token, equal tokens <=> equal hashes: `curation.token_arrays`, or
`curation.ngrams.local_word_hashes(toks)` via `sequence_arrays`) and `cum` (int64, length m + 1, `cum[i]` =
characters in the tokens before token i).

It replaced a numpy implementation (kept as tests/ngram_reference.py, which the tests compare it with: same
keys, `==` on every value). The n-gram keys are the same 64-bit rolling polynomials (`prev * _MIX + word_h`,
wrapping; 5..10-gram keys salted by `n * _SALT`), grouped over the same candidate positions (an n-gram can
repeat only where both of its (n-1)-gram parts repeat), so even a 64-bit key collision gives the same answer
as the numpy code. The kernel returns integer numerators; the divisions are done in Python as the numpy code
did them. Grouping is an open-addressing hash table (O(keys)) instead of a stable argsort.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numba import njit

from curation.ngrams import local_word_hashes

TOP_NGRAM_SIZES = (2, 3, 4)  # the repetition filter's n-gram sizes (filters.repetition uses these)
DUP_NGRAM_SIZES = (5, 6, 7, 8, 9, 10)
CONVENTIONS = ("all_occurrences", "repeats")

_MIX = np.uint64(0x9E3779B97F4A7C15)  # odd 64-bit multiplier (golden ratio) for rolling n-gram hashes
_SALT = np.uint64(0xD6E8FEB86659FD93)  # separates the key spaces of different n
_SLOT_MUL = np.uint64(0xBF58476D1CE4E5B9)  # multiplicative hashing of a key to a table slot (top bits)

_TOP_KEYS = {c: tuple(f"repetition.top_{n}gram_char_frac_{c}" for n in TOP_NGRAM_SIZES) for c in CONVENTIONS}
_DUP_KEYS = {c: tuple(f"repetition.dup_{n}gram_char_frac_{c}" for n in DUP_NGRAM_SIZES) for c in CONVENTIONS}
_DEFAULTS = {c: dict.fromkeys(_TOP_KEYS[c] + _DUP_KEYS[c], 0.0) for c in CONVENTIONS}


@njit(cache=True, nogil=True)
def _group(keys):
    """Mirrors `_dup_groups`: (group id per key, count per group, index of each group's first key, groups).

    Groups are numbered in order of first occurrence, so a lower group id means an earlier first position.
    """
    k = len(keys)
    cap, bits = 8, 3
    while cap < 2 * k:
        cap *= 2
        bits += 1
    shift = np.uint64(64 - bits)
    mask = cap - 1
    slots = np.full(cap, -1, np.int64)  # group id stored in each slot, -1: empty
    group_key = np.empty(k, np.uint64)
    counts = np.empty(k, np.int64)
    first = np.empty(k, np.int64)
    gid = np.empty(k, np.int64)
    groups = 0
    for i in range(k):
        key = keys[i]
        s = np.int64((key * _SLOT_MUL) >> shift)
        while True:
            g = slots[s]
            if g < 0:
                slots[s] = groups
                group_key[groups] = key
                counts[groups] = 1
                first[groups] = i
                gid[i] = groups
                groups += 1
                break
            if group_key[g] == key:
                counts[g] += 1
                gid[i] = g
                break
            s = (s + 1) & mask
    return gid, counts, first, groups


@njit(cache=True, nogil=True)
def _covered_chars(starts, k, n, cum):
    """Mirrors `_covered_chars`: characters of the tokens covered by n-grams at sorted `starts[:k]`, each once."""
    m = len(cum) - 1
    total = 0
    for j in range(k):
        s = starts[j]
        e = s + n
        nxt = starts[j + 1] if j + 1 < k else m
        if nxt < e:
            e = nxt
        total += cum[e] - cum[s]
    return total


@njit(cache=True, nogil=True)
def _top_ngrams(uni, cum, repeats, res):
    """Mirrors `_top_ngrams`: top 2/3/4-gram numerators into `res[0:6]` as (chars, best count) per n.

    `all_occurrences`: chars covered by every occurrence of the top n-gram (best > 1 only);
    `repeats`: `len(" ".join(top n-gram))` and its count. Returns (n-gram hashes, repeat mask) of the last n
    done (4-grams when m >= 4): the candidates of `_dup_ngrams`.
    """
    m = len(uni)
    h = uni.copy()  # rolling (n-1)-gram hashes, then n-gram hashes, in place
    dup = np.ones(m, np.bool_)  # per (n-1)-gram position: does it occur more than once? (unigrams: all candidates)
    for idx in range(len(TOP_NGRAM_SIZES)):
        n = TOP_NGRAM_SIZES[idx]
        if n > m:
            break
        cnt = m - n + 1
        for i in range(cnt):
            h[i] = h[i] * _MIX + uni[i + n - 1]  # next_ngram_hashes
        pos = np.empty(cnt, np.int64)
        k = 0
        for i in range(cnt):
            if dup[i] and dup[i + 1]:
                pos[k] = i
                k += 1
        keys = np.empty(k, np.uint64)
        for j in range(k):
            keys[j] = h[pos[j]]
        gid, counts, first, groups = _group(keys)
        new_dup = np.zeros(cnt, np.bool_)
        for j in range(k):
            if counts[gid[j]] > 1:
                new_dup[pos[j]] = True
        dup = new_dup
        # The most frequent n-gram; ties go to the one that occurs first (as Counter.most_common).
        best, top = 1, -1
        for g in range(groups):
            if counts[g] > best:
                best, top = counts[g], g
        top_pos = 0  # every n-gram occurs once: datatrove's Counter picks the first
        if best > 1:
            top_pos = pos[first[top]]
            if not repeats:
                starts = np.empty(best, np.int64)
                c = 0
                for j in range(k):
                    if gid[j] == top:
                        starts[c] = pos[j]
                        c += 1
                res[2 * idx] = _covered_chars(starts, c, n, cum)
        if repeats:
            res[2 * idx] = cum[top_pos + n] - cum[top_pos] + n - 1
        res[2 * idx + 1] = best
    return h, dup


@njit(cache=True, nogil=True)
def _greedy_repeat_chars(cand, row_gid, flags, k, n, cum, seen):
    """Mirrors `_greedy_repeat_chars`: datatrove's greedy left-to-right scan over the repeating n-grams.

    `cand[:k]` are the row's positions, `row_gid[j]` the group of position j's key and `flags[j]` whether
    that key occurs more than once; `seen[g] == n` marks a group seen in this row (one set per row).
    """
    total = 0
    next_free = 0
    for j in range(k):
        if not flags[j]:
            continue
        p = cand[j]
        if p < next_free:
            continue
        g = row_gid[j]
        if seen[g] == n:
            total += cum[p + n] - cum[p]
            next_free = p + n
        else:
            seen[g] = n
    return total


@njit(cache=True, nogil=True)
def _dup_ngrams(uni, cum, h4, dup4, repeats, res):
    """Mirrors `_dup_ngrams`: duplicate 5..10-gram numerators into `res[6:12]`, all (n, position) keys grouped together."""
    m = len(uni)
    cand = np.empty(m, np.int64)
    k = 0
    for i in range(m - 4):  # 5-gram starts where the 4-grams at i and i + 1 both repeat
        if dup4[i] and dup4[i + 1]:
            cand[k] = i
            k += 1
    if k == 0:
        return
    sizes = len(DUP_NGRAM_SIZES)
    hc = np.empty(k, np.uint64)
    for j in range(k):
        hc[j] = h4[cand[j]]
    keys = np.empty(sizes * k, np.uint64)
    row_len = np.zeros(sizes, np.int64)  # row r (n = 5 + r): the candidates <= m - n, a prefix of `cand`
    for r in range(sizes):
        n = DUP_NGRAM_SIZES[r]
        if n > m:
            break
        salt = np.uint64(n) * _SALT
        c = 0
        while c < k and cand[c] <= m - n:
            hc[c] = hc[c] * _MIX + uni[cand[c] + n - 1]
            keys[r * k + c] = hc[c] + salt
            c += 1
        row_len[r] = c
    all_keys = np.empty(row_len.sum(), np.uint64)
    offset = 0
    for r in range(sizes):
        all_keys[offset : offset + row_len[r]] = keys[r * k : r * k + row_len[r]]
        offset += row_len[r]
    gid, counts, _, groups = _group(all_keys)
    seen = np.full(groups, -1, np.int64)
    starts = np.empty(k, np.int64)
    flags = np.empty(k, np.bool_)
    offset = 0
    for r in range(sizes):
        n = DUP_NGRAM_SIZES[r]
        if n > m:
            break
        row_gid = gid[offset : offset + row_len[r]]
        offset += row_len[r]
        c = 0
        for j in range(row_len[r]):
            flags[j] = counts[row_gid[j]] > 1
            if flags[j]:
                starts[c] = cand[j]
                c += 1
        if c == 0:
            break  # a repeated (n+1)-gram starts with a repeated n-gram, so longer ones cannot repeat
        if repeats:
            res[6 + r] = _greedy_repeat_chars(cand, row_gid, flags, row_len[r], n, cum, seen)
        else:
            res[6 + r] = _covered_chars(starts, c, n, cum)


@njit(cache=True, nogil=True)
def ngram_numerators(hashes, cum, repeats):
    """Mirrors `ngram_signals` (m >= 2): int64[12], per top n (chars, best count), then duplicate 5..10-gram chars."""
    res = np.zeros(2 * len(TOP_NGRAM_SIZES) + len(DUP_NGRAM_SIZES), np.int64)
    h4, dup4 = _top_ngrams(hashes, cum, repeats, res)
    if len(hashes) >= DUP_NGRAM_SIZES[0]:
        _dup_ngrams(hashes, cum, h4, dup4, repeats, res)
    return res


def ngram_fractions(hashes: np.ndarray, cum: np.ndarray, text_len: int, convention: str) -> dict[str, float]:
    """`filters.repetition.ngram_signals` from per-token `hashes` (uint64) and `cum` (int64, m + 1), same dict."""
    if convention not in CONVENTIONS:
        raise ValueError(f"n-gram convention must be one of {CONVENTIONS}, got {convention!r}")
    if hashes.dtype != np.uint64 or cum.dtype != np.int64:  # int64 hashes would mix into float64 arithmetic
        raise TypeError(f"hashes must be uint64 and cum int64, got {hashes.dtype} and {cum.dtype}")
    out = _DEFAULTS[convention].copy()
    m = len(hashes)
    if m < TOP_NGRAM_SIZES[0] or not text_len:
        return out
    repeats = convention == "repeats"
    res = ngram_numerators(hashes, cum, repeats).tolist()
    for idx, key in enumerate(_TOP_KEYS[convention]):
        if TOP_NGRAM_SIZES[idx] > m:
            break
        chars, best = res[2 * idx], res[2 * idx + 1]
        if repeats:
            top_chars = float(chars) * best
            out[key] = min(1.0, top_chars / text_len)
        elif best > 1:
            out[key] = chars / text_len
    for r, key in enumerate(_DUP_KEYS[convention]):
        if res[6 + r]:
            out[key] = res[6 + r] / text_len
    return out


def sequence_arrays(toks: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(`local_word_hashes(toks)`, `cum`) of a token sequence: what `ngram_fractions` takes."""
    m = len(toks)
    cum = np.zeros(m + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, toks), dtype=np.int64, count=m), out=cum[1:])
    return local_word_hashes(toks), cum
