"""Text normalisation and splitting shared by filters, dedup and decontamination."""

from __future__ import annotations

import hashlib
import re
import unicodedata

_WS = re.compile(r"\s+")


def normalize_whitespace(text: str) -> str:
    """Collapse every run of whitespace to one space and strip the ends."""
    return _WS.sub(" ", text).strip()


def normalize_for_exact_dedup(text: str) -> str:
    """Canonical form for exact dedup: Unicode NFC, whitespace collapsed."""
    return normalize_whitespace(unicodedata.normalize("NFC", text))


def exact_dedup_key(text: str) -> str:
    """Hex digest that two documents share iff their normalised texts are equal."""
    norm = normalize_for_exact_dedup(text).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(norm, digest_size=16).hexdigest()


def split_lines(text: str) -> list[str]:
    """Lines as the repetition and bullet rules see them (`\\n`, `\\r\\n`, `\\r` separated)."""
    return text.splitlines()


def split_paragraphs(text: str) -> list[str]:
    """Paragraphs: blocks separated by two or more newlines."""
    return [p for p in re.split(r"\n\s*\n", text.strip()) if p]


# --- n-gram words (decontamination) -------------------------------------------------------------
# A word is a maximal run of letters/digits in the NFKC form of the text; everything else
# (punctuation, underscores, whitespace, tokeniser artefacts such as WikiText's "@-@") separates
# words, so "Teddy's" and "Teddy 's", "1,000" and "1 @,@ 000" give the same words.
_NGRAM_WORD = re.compile(r"[^\W_]+")


def ngram_text(text: str) -> str:
    """The NFKC form that n-gram word offsets refer to (identical to `text` for most input)."""
    return unicodedata.normalize("NFKC", text)


def ngram_words(text: str) -> list[str]:
    """Case-folded words for n-gram matching: punctuation ignored, whitespace irrelevant."""
    return " ".join(_NGRAM_WORD.findall(ngram_text(text))).casefold().split()


def ngram_word_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each `ngram_words` word in `ngram_text(text)`, for reporting and cutting."""
    return [m.span() for m in _NGRAM_WORD.finditer(ngram_text(text))]
