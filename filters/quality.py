"""Gopher quality rules (Rae et al. 2021, §A.1.1): signals per document and the keep/drop decision.

Definitions (word, bullet, ellipsis) are in docs/filters.md; thresholds in `curation/data/default.yaml`.
"""

from __future__ import annotations

from operator import methodcaller

from curation.schema import Document
from curation.text import count_alphabetic_words, nonblank_lines, tokens, words
from filters.base import FilterStage, Section, Signals

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
STOP_WORDS = frozenset({"the", "be", "to", "of", "and", "that", "have", "with"})
# Every casing we accept for a stop word (the match is case-insensitive without lower-casing the text).
_STOP_FORMS = frozenset(f for w in STOP_WORDS for f in (w, w.capitalize(), w.upper()))

_STARTS_WITH_BULLET = methodcaller("startswith", BULLETS)
_ENDS_WITH_ELLIPSIS = methodcaller("endswith", ELLIPSES)

SIGNAL_NAMES = (
    "quality.word_count",
    "quality.mean_word_length",
    "quality.hash_to_word_ratio",
    "quality.ellipsis_to_word_ratio",
    "quality.bullet_lines_ratio",
    "quality.ellipsis_lines_ratio",
    "quality.alpha_words_ratio",
    "quality.stop_word_count",
)


def quality_signals(text: str) -> Signals:
    """Every Gopher quality measurement of one text, in one pass over its tokens and lines."""
    toks = tokens(text)
    wrds = words(text)
    n_tokens = len(toks)
    n_words = len(wrds)
    lines = nonblank_lines(text)
    n_lines = len(lines)
    bullet_lines = sum(map(_STARTS_WITH_BULLET, map(str.lstrip, lines)))
    ellipsis_lines = sum(map(_ENDS_WITH_ELLIPSIS, map(str.rstrip, lines)))
    ellipses = text.count("...") + text.count("\u2026")
    stop_words = {w.lower() for w in _STOP_FORMS.intersection(wrds)}
    return {
        "quality.word_count": float(n_words),
        "quality.mean_word_length": len("".join(wrds)) / n_words if n_words else 0.0,
        "quality.hash_to_word_ratio": text.count("#") / n_tokens if n_tokens else 0.0,
        "quality.ellipsis_to_word_ratio": ellipses / n_tokens if n_tokens else 0.0,
        "quality.bullet_lines_ratio": bullet_lines / n_lines if n_lines else 0.0,
        "quality.ellipsis_lines_ratio": ellipsis_lines / n_lines if n_lines else 0.0,
        "quality.alpha_words_ratio": count_alphabetic_words(wrds) / n_tokens if n_tokens else 0.0,
        "quality.stop_word_count": float(len(stop_words)),
    }


def decide_quality(doc: Document, cfg: Section) -> str | None:
    """First failing Gopher quality rule (paper order), or None to keep; reads only `doc.signals`."""
    s = doc.signals
    n = s["quality.word_count"]
    if n < cfg["min_words"] or n > cfg["max_words"]:
        return "quality.word_count"
    mwl = s["quality.mean_word_length"]
    if mwl < cfg["min_mean_word_length"] or mwl > cfg["max_mean_word_length"]:
        return "quality.mean_word_length"
    if s["quality.hash_to_word_ratio"] > cfg["max_hash_to_word_ratio"]:
        return "quality.hash_to_word_ratio"
    if s["quality.ellipsis_to_word_ratio"] > cfg["max_ellipsis_to_word_ratio"]:
        return "quality.ellipsis_to_word_ratio"
    if s["quality.bullet_lines_ratio"] > cfg["max_bullet_lines_ratio"]:
        return "quality.bullet_lines"
    if s["quality.ellipsis_lines_ratio"] > cfg["max_ellipsis_lines_ratio"]:
        return "quality.ellipsis_lines"
    if s["quality.alpha_words_ratio"] < cfg["min_alpha_words_ratio"]:
        return "quality.alpha_words"
    if s["quality.stop_word_count"] < cfg["min_stop_words"]:
        return "quality.stop_words"
    return None


STAGE = FilterStage(
    name="quality",
    signal_names=SIGNAL_NAMES,
    compute=lambda doc, cfg: quality_signals(doc.text),
    decide=decide_quality,
)
