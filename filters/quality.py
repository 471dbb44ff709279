"""Gopher quality rules (Rae et al. 2021, §A.1.1): signals per document and the keep/drop decision."""

from __future__ import annotations

from curation.schema import Document
from filters.base import FilterStage, Section, Signals


def quality_signals(text: str) -> Signals:
    """Word count and mean word length of whitespace-separated words."""
    words = text.split()
    n = len(words)
    return {
        "quality.word_count": float(n),
        "quality.mean_word_length": (sum(map(len, words)) / n) if n else 0.0,
    }


def decide_quality(doc: Document, cfg: Section) -> str | None:
    """First failing Gopher quality rule, or None to keep."""
    s = doc.signals
    n = s["quality.word_count"]
    if n < cfg["min_words"] or n > cfg["max_words"]:
        return "quality.word_count"
    mwl = s["quality.mean_word_length"]
    if mwl < cfg["min_mean_word_length"] or mwl > cfg["max_mean_word_length"]:
        return "quality.mean_word_length"
    return None


STAGE = FilterStage(
    name="quality",
    signal_names=("quality.word_count", "quality.mean_word_length"),
    compute=lambda doc, cfg: quality_signals(doc.text),
    decide=decide_quality,
)
