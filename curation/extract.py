"""HTML -> main text: one maintained backend first, the other for the pages whose first extract looks unreliable."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

BACKENDS = ("resiliparse", "trafilatura")
_BLANK_RUNS = re.compile(r"\n{3,}")
_COOKIE = re.compile(r"cookie", re.IGNORECASE)
_CONSENT = re.compile(
    r"\b(?:use[sd]?|using|accept\w*|agree\w*|consent\w*|privacy|verwende\w*|nutz\w*|akzept\w*|zustimm\w*"
    r"|einverstanden|einwillig\w*|datenschutz\w*|utilis\w*)\b",
    re.IGNORECASE,
)
_CONSENT_MAX_WORDS = 80
_SENTENCE_END = (".", "!", "?", ":", ";", '"', "\u201d", ")")


class ExtractError(ValueError):
    """The HTML could not be parsed by the chosen backend."""


def _resiliparse(html: str) -> str:
    """Resiliparse main-content extraction keeping paragraphs, list bullets and <pre> indentation."""
    from resiliparse.extract.html2text import extract_plain_text

    return extract_plain_text(
        html,
        preserve_formatting=True,
        main_content=True,
        list_bullets=True,
        alt_texts=False,
        links=False,
        form_fields=False,
        noscript=False,
        comments=False,
    )


def _trafilatura(html: str, url: str | None) -> str:
    """Trafilatura main-text extraction (no comments, tables kept) rendered with resiliparse's block layout."""
    import trafilatura

    doc = trafilatura.bare_extraction(
        html,
        url=url,
        include_comments=False,
        include_tables=True,
        include_images=False,
        include_links=False,
        deduplicate=False,
        with_metadata=False,
    )
    body = getattr(doc, "body", None)
    return "" if body is None else _render_blocks(body)


def _inline(element: Any) -> str:
    """Text of one trafilatura element with its <lb/> line breaks."""
    parts: list[str] = []

    def walk(node: Any) -> None:
        parts.append("\n" if node.tag == "lb" else node.text or "")
        for child in node:
            walk(child)
            parts.append(child.tail or "")

    walk(element)
    return "".join(parts).strip()


def _render_blocks(body: Any) -> str:
    """Trafilatura's body tree as plain text: blocks separated by a blank line, list items and table rows by one
    newline (list items bulleted), the same shape as resiliparse's output."""
    blocks = []
    for element in body:
        if element.tag == "list":
            items = (_inline(item) for item in element.findall("item"))
            blocks.append("\n".join(f"• {item}" for item in items if item))
        elif element.tag == "table":
            rows = ("\t".join(_inline(cell) for cell in row.iter("cell")) for row in element.iter("row"))
            blocks.append("\n".join(row for row in rows if row.strip()))
        else:
            blocks.append(_inline(element))
    return "\n\n".join(block for block in blocks if block.strip())


def is_consent_notice(line: str) -> bool:
    """A cookie-consent banner line: mentions cookies plus consent/usage wording, and is short."""
    return bool(_COOKIE.search(line) and _CONSENT.search(line)) and len(line.split()) <= _CONSENT_MAX_WORDS


def _clean(text: str) -> str:
    """Trailing spaces and cookie-consent lines removed, runs of blank lines collapsed to one."""
    lines = (line.rstrip() for line in text.replace("\r\n", "\n").split("\n"))
    text = "\n".join(line for line in lines if not is_consent_notice(line))
    return _BLANK_RUNS.sub("\n\n", text).strip()


def _run_backend(html: str, url: str | None, backend: str) -> str:
    """One backend's cleaned output."""
    if backend == "resiliparse":
        return _clean(_resiliparse(html))
    if backend == "trafilatura":
        return _clean(_trafilatura(html, url))
    raise ValueError(f"unknown extract backend {backend!r} (known: {', '.join(BACKENDS)})")


@dataclass(frozen=True)
class Extraction:
    """One page's main text, the backend that produced it and why the fallback ran (None = it did not)."""

    text: str
    backend: str
    routed: str | None = None


def short_line_frac(text: str) -> float:
    """Share of non-empty lines with < 4 words and no sentence-ending punctuation (menus, buttons, bylines)."""
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    if not lines:
        return 1.0
    return sum(1 for line in lines if len(line.split()) < 4 and not line.endswith(_SENTENCE_END)) / len(lines)


def route_reason(text: str, min_chars: int = 200, max_short_line_frac: float | None = None) -> str | None:
    """Why a backend's output is unreliable enough to re-extract with the fallback: 'short', 'boilerplate' or None.

    'short': fewer than `min_chars` characters (resiliparse's main-content heuristics empty ~5% of pages);
    'boilerplate': more than `max_short_line_frac` of its lines are short unpunctuated fragments, the shape of
    navigation, teaser and share blocks that a main-content extractor let through.
    """
    if len(text) < min_chars:
        return "short"
    if max_short_line_frac is not None and short_line_frac(text) > max_short_line_frac:
        return "boilerplate"
    return None


def extract_detailed(
    html: str,
    url: str | None = None,
    backend: str = "trafilatura",
    fallback: str | None = None,
    min_chars: int = 200,
    max_short_line_frac: float | None = None,
) -> Extraction:
    """Main text with the decision taken: `backend` first, `fallback` for pages `route_reason` flags.

    On a 'short' page the longer of the two outputs is kept; on a 'boilerplate' page the fallback's output
    replaces the backend's unless it is itself under `min_chars`.
    """
    text = _run_backend(html, url, backend)
    reason = route_reason(text, min_chars, max_short_line_frac) if fallback and fallback != backend else None
    if reason is None or fallback is None:
        return Extraction(text, backend)
    other = _run_backend(html, url, fallback)
    better = len(other) > len(text) if reason == "short" else len(other) >= min_chars
    return Extraction(other, fallback, reason) if better else Extraction(text, backend, reason)


def extract_text(
    html: str,
    url: str | None = None,
    backend: str = "trafilatura",
    fallback: str | None = None,
    min_chars: int = 200,
    max_short_line_frac: float | None = None,
) -> str:
    """Main text of an HTML page with paragraph breaks kept ('' when nothing is found); see `extract_detailed`."""
    return extract_detailed(html, url, backend, fallback, min_chars, max_short_line_frac).text


def fallback_for(backend: str, fallback: str | None) -> str | None:
    """The configured fallback backend, with 'auto' meaning the other backend."""
    if fallback == "auto":
        return next(b for b in BACKENDS if b != backend)
    return fallback or None


def extract_config_args(cfg: Mapping[str, Any]) -> dict[str, Any]:
    """`extract_detailed` keyword arguments from the `extract` config section.

    The short-line routing rule judges resiliparse's output only: applied to trafilatura's it routes pages
    whose main text is genuinely list-like and lowers both gold scores (BENCHMARKS.md, Extraction).
    """
    backend = cfg["backend"]
    frac = cfg["resiliparse_max_short_line_frac"] if backend == "resiliparse" else None
    return {
        "backend": backend,
        "fallback": fallback_for(backend, cfg["fallback_backend"]),
        "min_chars": int(cfg["fallback_min_chars"]),
        "max_short_line_frac": None if frac is None else float(frac),
    }


def extract_with_config(html: str, url: str | None, cfg: Mapping[str, Any]) -> str:
    """`extract_text` with the `extract` config section (backend, fallback_backend, routing thresholds)."""
    return extract_detailed(html, url, **extract_config_args(cfg)).text
