"""Project Gutenberg boilerplate: header, license footer and producer credits removed; title/author kept."""

from __future__ import annotations

import re

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

    Texts without the `*** START OF` marker are returned unchanged (not a Gutenberg file).
    """
    start = _START.search(text)
    if start is None:
        return text, {}
    header = text[: start.start()]
    meta = {k: v for k in ("Title", "Author") if (v := _header_field(header, k))}
    body = text[start.end() :]
    end = _END.search(body)
    if end is not None:
        body = body[: end.start()]
    prose_end = _END_PROSE.search(body)
    if prose_end is not None:
        body = body[: prose_end.start()]
    paragraphs = body.strip().split("\n\n")
    if paragraphs and _CREDIT.match(paragraphs[0].lstrip()):
        paragraphs = paragraphs[1:]
    return "\n\n".join(paragraphs).strip(), {k.lower(): v for k, v in meta.items()}
