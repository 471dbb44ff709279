"""The numpy implementation of the repetition filter's n-gram signals that the numba kernel replaced.

Kept as the reference `curation.ngram_stats.ngram_fractions` is tested against (tests/test_ngram_stats.py):
the same definitions, written with array operations (stable argsorts over rolling n-gram hashes).
"""

from __future__ import annotations

import numpy as np

from curation.ngram_stats import _MIX, _SALT, CONVENTIONS, DUP_NGRAM_SIZES, TOP_NGRAM_SIZES
from curation.ngrams import local_word_hashes, next_ngram_hashes

Signals = dict[str, float]


def _dup_groups(hashes: np.ndarray, candidates: np.ndarray | None) -> tuple[np.ndarray, ...]:
    """(positions, group ids, group counts, group first positions) of the n-grams at `candidates`.

    Only candidate positions (all of them when None) can repeat; the others occur once. One stable
    argsort (a leaner `np.unique(return_index, return_inverse, return_counts)`).
    """
    pos = np.arange(len(hashes)) if candidates is None else candidates
    values = hashes if candidates is None else hashes[candidates]
    k = len(pos)
    if k == 0:
        return pos, pos, pos, pos
    order = np.argsort(values, kind="stable")
    sorted_h = values[order]
    starts_group = np.empty(k, dtype=bool)
    starts_group[0] = True
    np.not_equal(sorted_h[1:], sorted_h[:-1], out=starts_group[1:])
    inverse = np.empty(k, dtype=np.intp)
    inverse[order] = np.cumsum(starts_group) - 1
    group_starts = np.flatnonzero(starts_group)
    counts = np.empty(len(group_starts), dtype=np.intp)
    counts[:-1] = group_starts[1:] - group_starts[:-1]
    counts[-1] = k - group_starts[-1]
    return pos, inverse, counts, pos[order[group_starts]]


def _greedy_repeat_chars(dup_pos: np.ndarray, dup_keys: np.ndarray, span_chars: np.ndarray, n: int) -> int:
    """datatrove's `find_all_duplicate`: scan left to right, count a seen n-gram's chars and jump n.

    Only positions whose n-gram occurs more than once can be "seen before", so the scan visits just
    those (in order); positions skipped by a jump are never added to the seen set, as in datatrove.
    """
    seen: set[int] = set()
    total = 0
    next_free = 0
    for p, key, chars in zip(dup_pos.tolist(), dup_keys.tolist(), span_chars.tolist(), strict=True):
        if p < next_free:
            continue
        if key in seen:
            total += chars
            next_free = p + n
        else:
            seen.add(key)
    return total


def _covered_chars(starts: np.ndarray, n: int, cum: np.ndarray) -> int:
    """Characters of the tokens covered by n-grams starting at (sorted) `starts`, each token once.

    Each occurrence contributes its tokens up to where the next occurrence starts, so overlaps are
    counted once; `cum` is the running sum of token lengths (`cum[i]` = characters before token i).
    """
    ends = np.minimum(starts + n, np.append(starts[1:], len(cum) - 1))
    return int((cum[ends] - cum[starts]).sum())


def _dup_flags(keys: np.ndarray) -> np.ndarray:
    """For each key, whether another entry has the same key (one argsort)."""
    order = np.argsort(keys, kind="stable")
    equal_next = keys[order[1:]] == keys[order[:-1]]
    flags_sorted = np.zeros(len(keys), dtype=bool)
    flags_sorted[1:] = equal_next
    flags_sorted[:-1] |= equal_next
    flags = np.empty(len(keys), dtype=bool)
    flags[order] = flags_sorted
    return flags


def _top_ngrams(
    out: Signals, unigrams: np.ndarray, cum: np.ndarray, text_len: int, convention: str
) -> np.ndarray | None:
    """Top 2/3/4-gram fractions under `convention`; returns the 4-gram (or last) repeat mask."""
    m = len(unigrams)
    hashes = unigrams
    dup_mask: np.ndarray | None = None  # per (n-1)-gram position: does it occur more than once?
    for n in TOP_NGRAM_SIZES:
        if n > m:
            break
        hashes = next_ngram_hashes(unigrams, n, hashes, _MIX)
        candidates = None if dup_mask is None else np.flatnonzero(dup_mask[:-1] & dup_mask[1:])
        pos, inverse, counts, first_pos = _dup_groups(hashes, candidates)
        is_dup = counts[inverse] > 1
        dup_mask = np.zeros(len(hashes), dtype=bool)
        dup_mask[pos[is_dup]] = True
        best = int(counts.max()) if len(counts) else 1
        if best > 1:
            # The most frequent n-gram; ties go to the one that occurs first (as Counter.most_common).
            tied = np.flatnonzero(counts == best)
            top = int(tied[first_pos[tied].argmin()])
            top_pos = int(first_pos[top])
            if convention == "all_occurrences":
                starts = pos[inverse == top]
                out[f"repetition.top_{n}gram_char_frac_all_occurrences"] = _covered_chars(starts, n, cum) / text_len
        else:
            top_pos = 0  # every n-gram occurs once: datatrove's Counter picks the first
        if convention == "repeats":
            # datatrove: len(" ".join(ngram)) * count, first occurrence included, even when count is 1.
            top_chars = float(cum[top_pos + n] - cum[top_pos] + n - 1) * best
            out[f"repetition.top_{n}gram_char_frac_repeats"] = min(1.0, top_chars / text_len)
    return dup_mask


def _dup_ngrams(
    out: Signals, unigrams: np.ndarray, cum: np.ndarray, text_len: int, dup4: np.ndarray, convention: str
) -> None:
    """Duplicate 5..10-gram fractions under `convention`, grouped in one sort over candidate positions.

    A 5-gram or longer n-gram can repeat only where the 4-grams at i and i+1 both repeat, so those
    positions are the candidates for every n >= 5; all (n, position) keys are sorted together.
    """
    m = len(unigrams)
    candidates = np.flatnonzero(dup4[:-1] & dup4[1:])
    if not len(candidates):
        return
    hashes = unigrams
    rows = []
    for n in range(2, min(m, max(DUP_NGRAM_SIZES)) + 1):
        hashes = next_ngram_hashes(unigrams, n, hashes, _MIX)
        if n >= min(DUP_NGRAM_SIZES):
            pos = candidates[: np.searchsorted(candidates, m - n, side="right")]
            rows.append((n, pos, hashes[pos] + np.uint64((n * int(_SALT)) % 2**64)))
    flags = _dup_flags(np.concatenate([keys for _, _, keys in rows]))
    offset = 0
    for n, pos, keys in rows:
        row_flags = flags[offset : offset + len(pos)]
        offset += len(pos)
        if not row_flags.any():
            break  # a repeated (n+1)-gram starts with a repeated n-gram, so longer ones cannot repeat
        starts = pos[row_flags]
        if convention == "all_occurrences":
            out[f"repetition.dup_{n}gram_char_frac_all_occurrences"] = _covered_chars(starts, n, cum) / text_len
        else:
            span_chars = cum[starts + n] - cum[starts]
            greedy = _greedy_repeat_chars(starts, keys[row_flags], span_chars, n)
            out[f"repetition.dup_{n}gram_char_frac_repeats"] = greedy / text_len


def _ngram_signals_of(unigrams: np.ndarray, cum: np.ndarray, text_len: int, convention: str) -> Signals:
    """`ngram_signals` from per-token hashes (equal tokens, equal hashes) and characters before each token.

    One sort for 2-grams; an n-gram can repeat only where both of its (n-1)-gram parts repeat, so
    longer n-grams are grouped over those candidate positions only (few, in ordinary text).
    """
    if convention not in CONVENTIONS:
        raise ValueError(f"n-gram convention must be one of {CONVENTIONS}, got {convention!r}")
    out: Signals = {
        **{f"repetition.top_{n}gram_char_frac_{convention}": 0.0 for n in TOP_NGRAM_SIZES},
        **{f"repetition.dup_{n}gram_char_frac_{convention}": 0.0 for n in DUP_NGRAM_SIZES},
    }
    m = len(unigrams)
    if m < min(TOP_NGRAM_SIZES) or not text_len:
        return out
    dup4 = _top_ngrams(out, unigrams, cum, text_len, convention)
    if m >= min(DUP_NGRAM_SIZES) and dup4 is not None and len(dup4) == m - max(TOP_NGRAM_SIZES) + 1:
        _dup_ngrams(out, unigrams, cum, text_len, dup4, convention)
    return out


def reference_ngram_signals(toks, text_len: int, convention: str) -> Signals:
    """`filters.repetition.ngram_signals` as the numpy code computed it."""
    lengths = np.fromiter(map(len, toks), dtype=np.int64, count=len(toks))
    cum = np.zeros(len(toks) + 1, dtype=np.int64)
    np.cumsum(lengths, out=cum[1:])
    return _ngram_signals_of(local_word_hashes(toks), cum, text_len, convention)
