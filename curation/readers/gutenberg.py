"""Project Gutenberg boilerplate: header, license footer and producer credits removed; title/author kept."""

from __future__ import annotations

import re

_WINDOW = 100_000  # characters searched first for the START (from the top) and END (from the bottom) markers
_START = re.compile(r"^\*{3}\s*START OF (?:THE|THIS) PROJECT GUTENBERG E-?BOOK.*$", re.IGNORECASE | re.MULTILINE)
_END = re.compile(r"^\*{3}\s*END OF (?:THE|THIS) PROJECT GUTENBERG E-?BOOK.*$", re.IGNORECASE | re.MULTILINE)
# Older files close with a prose line before (or instead of) the *** END marker.
_END_PROSE = re.compile(r"^\s*End of (?:the |this )?Project Gutenberg\b.*$", re.IGNORECASE | re.MULTILINE)
_FIELD = re.compile(r"^(Title|Author):[ \t]*(.*)$", re.MULTILINE)
_CREDIT = re.compile(
    r"^(?:Produced by|Transcribed from|E-?text prepared by|This e-?book was produced by)\b", re.IGNORECASE
)


def _header_field(header: str, name: str) -> str | None:
    """A `Title:`/`Author:` value from a Gutenberg header, with indented continuation lines joined."""
    for match in _FIELD.finditer(header):
        if match.group(1) != name:
            continue
        value = [match.group(2).strip()]
        rest = header[match.end() + 1 :].split("\n")
        for line in rest:
            if line[:1] in (" ", "\t") and line.strip():
                value.append(line.strip())
            else:
                break
        return " ".join(v for v in value if v) or None
    return None


def strip_gutenberg(text: str) -> tuple[str, dict[str, str]]:
    """Body of a Project Gutenberg text without header, license footer and producer credits; plus title/author.

    Texts without the `*** START OF` marker are returned unchanged (not a Gutenberg file). The markers are
    looked for near the start / end first (header and license are ~20 kB), the whole text only if needed.
    """
    if "***" not in text:
        return text, {}
    start = _START.search(text, 0, _WINDOW) or _START.search(text)
    if start is None:
        return text, {}
    header = text[: start.start()]
    meta = {k: v for k in ("Title", "Author") if (v := _header_field(header, k))}
    body = text[start.end() :]
    tail = max(0, len(body) - _WINDOW)
    end = _END.search(body, tail) or (_END.search(body, 0, tail) if "***" in body[:tail] else None)
    cut = end.start() if end is not None else len(body)
    prose_end = _END_PROSE.search(body, max(0, cut - _WINDOW), cut)
    if prose_end is not None:
        cut = prose_end.start()
    body = body[:cut].strip()
    first_break = body.find("\n\n")
    if first_break != -1 and _CREDIT.match(body):
        body = body[first_break + 2 :]
    return body.strip(), {k.lower(): v for k, v in meta.items()}
