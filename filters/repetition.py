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

from curation.ngram_stats import CONVENTIONS, DUP_NGRAM_SIZES, TOP_NGRAM_SIZES, ngram_fractions, sequence_arrays
from curation.profiles import PROFILES, READINGS, profile_name, signal_suffix
from curation.schema import Document
from curation.text import datatrove_lines, datatrove_paragraphs, split_paragraphs
from curation.token_arrays import cumulative_lengths, datatrove_token_arrays, word_arrays
from filters.base import FilterStage, Section, Signals, measure_profiles

_LINE_MEASURES = ("dup_para_frac", "dup_para_char_frac", "dup_line_frac", "dup_line_char_frac")
SIGNAL_NAMES = (
    *(f"repetition.{m}" for m in _LINE_MEASURES),
    *(f"repetition.top_{n}gram_char_frac_{c}" for n in TOP_NGRAM_SIZES for c in CONVENTIONS),
    *(f"repetition.dup_{n}gram_char_frac_{c}" for n in DUP_NGRAM_SIZES for c in CONVENTIONS),
    *(f"repetition.{m}_datatrove" for m in _LINE_MEASURES),
)


def duplicate_stats(items: list[str]) -> tuple[int, int]:
    """(number of repeat occurrences, characters in them): each item after its first occurrence."""
    unique = set(items)
    return len(items) - len(unique), sum(map(len, items)) - sum(map(len, unique))


def _lines(text: str) -> list[str]:
    """Non-blank lines with surrounding whitespace removed (so `\\r` or indentation never matters)."""
    return [s for s in (line.strip() for line in text.splitlines()) if s]


def ngram_signals(toks: Sequence[str], text_len: int, convention: str) -> Signals:
    """Top 2-4-gram and duplicate 5-10-gram character fractions of a token sequence under `convention`."""
    return ngram_fractions(*sequence_arrays(toks), text_len, convention)


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
    out.update(ngram_fractions(w.hashes, cumulative_lengths(w.lengths), text_len, convention))
    return out


def _datatrove_signals(text: str) -> Signals:
    """The Table A1 measurements as datatrove's `GopherRepetitionFilter` takes them (profile `datatrove`)."""
    text_len = len(text)
    sfx = signal_suffix("datatrove")
    out = _line_signals(datatrove_paragraphs(text), datatrove_lines(text), float(text_len or 1), sfx)
    d = datatrove_token_arrays(text)
    convention = READINGS["ngram_convention"]["datatrove"]
    out.update(ngram_fractions(d.hashes, cumulative_lengths(d.lengths), text_len, convention))
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
