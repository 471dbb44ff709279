"""Gopher quality rules (Rae et al. 2021, §A.1.1): signals per document and the keep/drop decision.

Definitions (word, bullet, ellipsis) are in docs/filters.md; thresholds in `curation/data/default.yaml`.
Every signal is stored twice: under the paper's reading (`quality.<name>`, profile `gopher`) and as
datatrove's `GopherQualityFilter` measures it (`quality.<name>_datatrove`); the profile picks one set.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import methodcaller

import numpy as np

from curation.profiles import PROFILES, profile_name, signal_suffix
from curation.schema import Document
from curation.text import nonblank_lines
from curation.token_arrays import ALL_DT_PUNCT, HAS_LETTER, STOP_FORMS, datatrove_token_arrays, word_arrays
from filters.base import FilterStage, Section, Signals, measure_profiles

# Line-start markers counted as bullets: the Unicode bullet family, common list glyphs, and the ASCII
# `-`, `*` and the en dash used for plain-text lists. (datatrove: `•` and `-` only.)
BULLETS = (
    "\u2022",  # • bullet
    "\u2023",  # ‣ triangular bullet
    "\u2043",  # ⁃ hyphen bullet
    "\u2219",  # ∙ bullet operator
    "\u25e6",  # ◦ white bullet
    "\u25aa",  # ▪
    "\u25ab",  # ▫
    "\u25a0",  # ■
    "\u25a1",  # □
    "\u25cf",  # ●
    "\u25cb",  # ○
    "\u25b6",  # ▶
    "\u25ba",  # ►
    "\u27a2",  # ➢
    "\u2013",  # – en dash
    "\u00b7",  # · middle dot
    "-",
    "*",
)
# Ellipsis forms: three ASCII full stops or the Unicode horizontal ellipsis U+2026.
ELLIPSES = ("...", "\u2026")
STOP_WORDS = frozenset(STOP_FORMS[::3])  # the, be, to, of, and, that, have, with (any casing counts)

# datatrove's bullets: a line that starts (after indentation) with `•` or `-`.
DATATROVE_BULLETS = ("\u2022", "-")

_STARTS_WITH_BULLET = methodcaller("startswith", BULLETS)
_STARTS_WITH_DATATROVE_BULLET = methodcaller("startswith", DATATROVE_BULLETS)
_ENDS_WITH_ELLIPSIS = methodcaller("endswith", ELLIPSES)

_MEASURES = (
    "word_count",
    "mean_word_length",
    "hash_to_word_ratio",
    "ellipsis_to_word_ratio",
    "bullet_lines_ratio",
    "ellipsis_lines_ratio",
    "alpha_words_ratio",
    "stop_word_count",
)
SIGNAL_NAMES = (*(f"quality.{m}" for m in _MEASURES), *(f"quality.{m}_datatrove" for m in _MEASURES))


def _per(count: float, total: int) -> float:
    """`count` per unit of `total`; a text with no unit counts as one (so the value stays finite)."""
    return count / total if total > 0 else float(count)


def _gopher_signals(text: str) -> Signals:
    """The quality measurements under the paper's reading (profile `gopher`)."""
    w = word_arrays(text)
    n_words = len(w.starts)
    lines = nonblank_lines(text)
    n_lines = len(lines)
    return {
        "quality.word_count": float(n_words),
        "quality.mean_word_length": int(w.lengths.sum()) / n_words if n_words else 0.0,
        "quality.hash_to_word_ratio": _per(text.count("#"), n_words),
        "quality.ellipsis_to_word_ratio": _per(_ellipses(text), n_words),
        "quality.bullet_lines_ratio": _per(sum(map(_STARTS_WITH_BULLET, map(str.lstrip, lines))), n_lines),
        "quality.ellipsis_lines_ratio": _per(sum(map(_ENDS_WITH_ELLIPSIS, map(str.rstrip, lines))), n_lines),
        "quality.alpha_words_ratio": int(np.count_nonzero(w.flags & HAS_LETTER)) / n_words if n_words else 0.0,
        # Any casing of a stop word counts (forms come three per word).
        "quality.stop_word_count": float(len(np.unique(w.stop[w.stop >= 0] // 3))),
    }


def _datatrove_signals(text: str) -> Signals:
    """The quality measurements as datatrove's `GopherQualityFilter` takes them (profile `datatrove`)."""
    # datatrove: every token counts in the ratios; count and mean length skip punctuation-only tokens.
    d = datatrove_token_arrays(text)
    n_tokens = len(d.starts)
    punct = (d.flags & ALL_DT_PUNCT) != 0
    dt_words = n_tokens - int(np.count_nonzero(punct))
    dt_word_chars = int(d.lengths.sum()) - int(d.lengths[punct].sum())
    all_lines = text.splitlines()
    n_all_lines = len(all_lines)
    alpha_tokens = int(np.count_nonzero(d.flags & HAS_LETTER))
    lower_forms = d.stop[(d.stop >= 0) & (d.stop % 3 == 0)]  # datatrove matches lower-case words only
    return {
        "quality.word_count_datatrove": float(dt_words),
        "quality.mean_word_length_datatrove": dt_word_chars / dt_words if dt_words else 0.0,
        "quality.hash_to_word_ratio_datatrove": _per(text.count("#"), n_tokens),
        "quality.ellipsis_to_word_ratio_datatrove": _per(_ellipses(text), n_tokens),
        "quality.bullet_lines_ratio_datatrove": _per(
            sum(map(_STARTS_WITH_DATATROVE_BULLET, map(str.lstrip, all_lines))), n_all_lines
        ),
        "quality.ellipsis_lines_ratio_datatrove": _per(
            sum(map(_ENDS_WITH_ELLIPSIS, map(str.rstrip, all_lines))), n_all_lines
        ),
        "quality.alpha_words_ratio_datatrove": alpha_tokens / n_tokens if n_tokens else 0.0,
        "quality.stop_word_count_datatrove": float(len(np.unique(lower_forms))),
    }


def _ellipses(text: str) -> int:
    """Ellipses in a text: `...` runs counted by str.count, plus U+2026."""
    return text.count("...") + text.count("\u2026")


_BY_PROFILE = {"gopher": _gopher_signals, "datatrove": _datatrove_signals}


def quality_signals(text: str, profiles: Sequence[str] = PROFILES) -> Signals:
    """Every Gopher quality measurement of one text under each of `profiles` (both readings by default)."""
    return measure_profiles(text, profiles, _BY_PROFILE)


def signals_for(profiles: Sequence[str]) -> tuple[str, ...]:
    """The signal names `quality_signals` produces under `profiles`."""
    return tuple(f"quality.{m}{signal_suffix(p)}" for p in profiles for m in _MEASURES)


def decide_quality(doc: Document, cfg: Section) -> str | None:
    """First failing Gopher quality rule (paper order), or None to keep; reads only `doc.signals`.

    `cfg["profile"]` (set by the registry from the top-level `profile`) picks which reading's signals count.
    """
    s = doc.signals
    sfx = signal_suffix(profile_name(cfg))
    n = s["quality.word_count" + sfx]
    if n < cfg["min_words"] or n > cfg["max_words"]:
        return "quality.word_count"
    mwl = s["quality.mean_word_length" + sfx]
    if mwl < cfg["min_mean_word_length"] or mwl > cfg["max_mean_word_length"]:
        return "quality.mean_word_length"
    if s["quality.hash_to_word_ratio" + sfx] > cfg["max_hash_to_word_ratio"]:
        return "quality.hash_to_word_ratio"
    if s["quality.ellipsis_to_word_ratio" + sfx] > cfg["max_ellipsis_to_word_ratio"]:
        return "quality.ellipsis_to_word_ratio"
    if s["quality.bullet_lines_ratio" + sfx] > cfg["max_bullet_lines_ratio"]:
        return "quality.bullet_lines"
    if s["quality.ellipsis_lines_ratio" + sfx] > cfg["max_ellipsis_lines_ratio"]:
        return "quality.ellipsis_lines"
    if s["quality.alpha_words_ratio" + sfx] < cfg["min_alpha_words_ratio"]:
        return "quality.alpha_words"
    if s["quality.stop_word_count" + sfx] < cfg["min_stop_words"]:
        return "quality.stop_words"
    return None


STAGE = FilterStage(
    name="quality",
    signal_names=SIGNAL_NAMES,
    compute=lambda doc, cfg: quality_signals(doc.text, cfg.get("profiles", PROFILES)),
    decide=decide_quality,
    signals_for=signals_for,
)
