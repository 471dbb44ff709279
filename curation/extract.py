"""HTML -> main text, behind one function with two maintained backends (resiliparse, trafilatura)."""

from __future__ import annotations

import re

BACKENDS = ("resiliparse", "trafilatura")
_BLANK_RUNS = re.compile(r"\n{3,}")


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
    """Trafilatura main-text extraction (no comments, tables kept, formatting as plain text)."""
    import trafilatura

    out = trafilatura.extract(
        html,
        url=url,
        output_format="txt",
        include_comments=False,
        include_tables=True,
        include_images=False,
        include_links=False,
        deduplicate=False,
        with_metadata=False,
    )
    return out or ""


def extract_text(html: str, url: str | None = None, backend: str = "resiliparse") -> str:
    """Main text of an HTML page with paragraph breaks kept ('' when nothing is found)."""
    if backend == "resiliparse":
        text = _resiliparse(html)
    elif backend == "trafilatura":
        text = _trafilatura(html, url)
    else:
        raise ValueError(f"unknown extract backend {backend!r} (known: {', '.join(BACKENDS)})")
    text = "\n".join(line.rstrip() for line in text.replace("\r\n", "\n").split("\n"))
    return _BLANK_RUNS.sub("\n\n", text).strip()
