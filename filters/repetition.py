"""Gopher repetition removal (Rae et al. 2021, Table A1): duplicate lines, paragraphs and n-grams.

Both profiles' measurements are computed and stored by default, so the profile is a decision-time switch,
re-decidable from stored signals (docs/filters.md has a worked example; `signal_readings: profile` computes
only the selected one's):
- `gopher` (default, the paper's wording): lines and paragraphs ignore blank lines; n-grams are over
  words (punctuation is not a word) and count every occurrence, the first included, of every n-gram that
  occurs at least twice, a character covered by several overlapping n-grams once (`*_all_occurrences`).
- `datatrove`: datatrove/FineWeb's `\\n+` lines and `\\n{2,}` paragraphs (`*_datatrove`), and n-grams over
  all tokens counted greedily left to right, repeat occurrences only (`*_repeats`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from curation.ngrams import local_word_hashes, next_ngram_hashes
from curation.profiles import PROFILES, READINGS, profile_name, signal_suffix
from curation.schema import Document
from curation.text import datatrove_lines, datatrove_paragraphs, split_paragraphs
from curation.token_arrays import cumulative_lengths, datatrove_token_arrays, word_arrays
from filters.base import FilterStage, Section, Signals, measure_profiles

TOP_NGRAM_SIZES = (2, 3, 4)
DUP_NGRAM_SIZES = (5, 6, 7, 8, 9, 10)
CONVENTIONS = ("all_occurrences", "repeats")

_LINE_MEASURES = ("dup_para_frac", "dup_para_char_frac", "dup_line_frac", "dup_line_char_frac")
SIGNAL_NAMES = (
    *(f"repetition.{m}" for m in _LINE_MEASURES),
    *(f"repetition.top_{n}gram_char_frac_{c}" for n in TOP_NGRAM_SIZES for c in CONVENTIONS),
    *(f"repetition.dup_{n}gram_char_frac_{c}" for n in DUP_NGRAM_SIZES for c in CONVENTIONS),
    *(f"repetition.{m}_datatrove" for m in _LINE_MEASURES),
)
_MIX = np.uint64(0x9E3779B97F4A7C15)  # odd 64-bit multiplier (golden ratio) for rolling n-gram hashes
_SALT = 0xD6E8FEB86659FD93  # separates the key spaces of different n when sorted together


def duplicate_stats(items: list[str]) -> tuple[int, int]:
    """(number of repeat occurrences, characters in them): each item after its first occurrence."""
    unique = set(items)
    return len(items) - len(unique), sum(map(len, items)) - sum(map(len, unique))


def _lines(text: str) -> list[str]:
    """Non-blank lines with surrounding whitespace removed (so `\\r` or indentation never matters)."""
    return [s for s in (line.strip() for line in text.splitlines()) if s]


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
            rows.append((n, pos, hashes[pos] + np.uint64((n * _SALT) % 2**64)))
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


def ngram_signals(toks: Sequence[str], text_len: int, convention: str) -> Signals:
    """Top 2-4-gram and duplicate 5-10-gram character fractions of a token sequence under `convention`."""
    lengths = np.fromiter(map(len, toks), dtype=np.int64, count=len(toks))
    return ngram_signals_of(local_word_hashes(toks), cumulative_lengths(lengths), text_len, convention)


def ngram_signals_of(unigrams: np.ndarray, cum: np.ndarray, text_len: int, convention: str) -> Signals:
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


def _line_signals(paragraphs: list[str], lines: list[str], denom: float, suffix: str) -> Signals:
    """Duplicate paragraph and line fractions (of items, and of the text's characters)."""
    dup_paras, dup_para_chars = duplicate_stats(paragraphs)
    dup_lines, dup_line_chars = duplicate_stats(lines)
    return {
        f"repetition.dup_para_frac{suffix}": dup_paras / len(paragraphs) if paragraphs else 0.0,
        f"repetition.dup_para_char_frac{suffix}": dup_para_chars / denom,
        f"repetition.dup_line_frac{suffix}": dup_lines / len(lines) if lines else 0.0,
        f"repetition.dup_line_char_frac{suffix}": dup_line_chars / denom,
    }


def _gopher_signals(text: str) -> Signals:
    """The Table A1 measurements under the paper's reading (profile `gopher`)."""
    text_len = len(text)
    out = _line_signals([p.strip() for p in split_paragraphs(text)], _lines(text), float(text_len or 1), "")
    w = word_arrays(text)
    convention = READINGS["ngram_convention"]["gopher"]
    out.update(ngram_signals_of(w.hashes, cumulative_lengths(w.lengths), text_len, convention))
    return out


def _datatrove_signals(text: str) -> Signals:
    """The Table A1 measurements as datatrove's `GopherRepetitionFilter` takes them (profile `datatrove`)."""
    text_len = len(text)
    sfx = signal_suffix("datatrove")
    out = _line_signals(datatrove_paragraphs(text), datatrove_lines(text), float(text_len or 1), sfx)
    d = datatrove_token_arrays(text)
    convention = READINGS["ngram_convention"]["datatrove"]
    out.update(ngram_signals_of(d.hashes, cumulative_lengths(d.lengths), text_len, convention))
    return out


_BY_PROFILE = {"gopher": _gopher_signals, "datatrove": _datatrove_signals}


def repetition_signals(text: str, profiles: Sequence[str] = PROFILES) -> Signals:
    """Every Table A1 measurement of one text under each of `profiles` (both readings by default)."""
    return measure_profiles(text, profiles, _BY_PROFILE)


def signals_for(profiles: Sequence[str]) -> tuple[str, ...]:
    """The signal names `repetition_signals` produces under `profiles`."""
    names: list[str] = []
    for p in profiles:
        convention = READINGS["ngram_convention"][p]
        names += [f"repetition.{m}{signal_suffix(p)}" for m in _LINE_MEASURES]
        names += [f"repetition.top_{n}gram_char_frac_{convention}" for n in TOP_NGRAM_SIZES]
        names += [f"repetition.dup_{n}gram_char_frac_{convention}" for n in DUP_NGRAM_SIZES]
    return tuple(names)


def decide_repetition(doc: Document, cfg: Section) -> str | None:
    """First Table A1 measure above its threshold (paragraphs, lines, top n-grams, duplicate n-grams).

    `cfg["profile"]` (set by the registry from the top-level `profile`) picks which reading's signals count.
    """
    s = doc.signals
    profile = profile_name(cfg)
    sfx = signal_suffix(profile)
    for key in _LINE_MEASURES:
        if s[f"repetition.{key}{sfx}"] > cfg[f"max_{key}"]:
            return f"repetition.{key}"
    convention = READINGS["ngram_convention"][profile]
    for n in TOP_NGRAM_SIZES:
        if s[f"repetition.top_{n}gram_char_frac_{convention}"] > cfg[f"max_top_{n}gram_char_frac"]:
            return f"repetition.top_{n}gram_char_frac"
    for n in DUP_NGRAM_SIZES:
        if s[f"repetition.dup_{n}gram_char_frac_{convention}"] > cfg[f"max_dup_{n}gram_char_frac"]:
            return f"repetition.dup_{n}gram_char_frac"
    return None


STAGE = FilterStage(
    name="repetition",
    signal_names=SIGNAL_NAMES,
    compute=lambda doc, cfg: repetition_signals(doc.text, cfg.get("profiles", PROFILES)),
    decide=decide_repetition,
    signals_for=signals_for,
)
