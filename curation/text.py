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
