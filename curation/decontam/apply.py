"""Apply the decision to one document: remove it, or cut the matched spans out of its text; the match rows."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from typing import Any

import numpy as np

from curation.decontam.hashing import normalize_title
from curation.decontam.index import DecontamIndex
from curation.decontam.match import ItemMatch, is_contaminating, match_text
from curation.ngrams import ngram_text, ngram_word_spans
from curation.schema import Document

Spans = list[tuple[int, int]]


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
    """Original-text offset of each character of `norm` (= NFKC of text), None if they are equal, [] if unmappable."""
    if norm == text:
        return None
    mapping: list[int] = []
    for k, ch in enumerate(text):
        mapping.extend([k] * len(unicodedata.normalize("NFKC", ch)))
    return mapping if len(mapping) == len(norm) else []


def _char_span(spans: Spans, words: tuple[int, int]) -> tuple[int, int]:
    """Character interval (in the NFKC text) of a word interval."""
    return spans[words[0]][0], spans[words[1] - 1][1]


def _example_span(norm: str, spans: Spans, match: ItemMatch, limit: int) -> str:
    """The first matched stretch of the document (NFKC text), at most `limit` characters."""
    first = _word_intervals(match.windows, match.widths)[0]
    start, end = _char_span(spans, first)
    return norm[start : min(end, start + limit)]


def _cut(doc: Document, norm: str, spans: Spans, flagged: list[ItemMatch], section: Mapping[str, Any]) -> bool:
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
        start, end = _char_span(spans, interval)
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
    rows = [_row(doc, m, _example_span(norm, spans, m, limit)) for m in flagged[:max_rows]]
    cut_mode = section["action"] == "cut" and section["policy"] == "overlap"
    if cut_mode and _cut(doc, norm, spans, flagged, section):
        return False, rows
    doc.reason = f"decontaminate.{flagged[0].benchmark}"
    return True, rows
