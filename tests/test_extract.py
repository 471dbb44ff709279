"""HTML main-text extraction: both backends on real pages, formatting kept, bad input handled."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from curation.config import default_config
from curation.extract import BACKENDS, extract_text, extract_with_config
from curation.readers.base import SourceFile
from curation.readers.warc import read_warc

DATA = Path(__file__).parent / "data" / "readers"
SHARED_HTML = Path(__file__).resolve().parents[2] / "shared" / "data" / "web" / "html" / "trafilatura"


def page(name: str) -> str:
    """A stored HTML page as text."""
    return gzip.decompress((DATA / "html" / f"{name}.html.gz").read_bytes()).decode("utf-8")


@pytest.mark.parametrize("backend", BACKENDS)
def test_blog_post_main_text(backend):
    text = extract_text(page("blog.python.org"), "https://blog.python.org/", backend)
    assert "Python 3.6.0 is now available!" in text
    assert "contributions of many, many people" in text
    assert "<" not in text and "&amp;" not in text
    assert "\n" in text  # paragraphs are kept as lines


def test_resiliparse_keeps_paragraph_breaks_and_drops_navigation():
    text = extract_text(page("blog.python.org"))
    assert "\n\n" in text
    assert "Subscribe to:" not in text  # blogger footer navigation


@pytest.mark.parametrize("backend", BACKENDS)
def test_warc_response_through_extractor(backend):
    [doc] = list(read_warc((DATA / "web" / "whirlwind.warc.gz").open("rb"), SourceFile("w", "w", "web", "warc")))
    text = extract_text(doc.text, doc.url, backend)
    assert "Escopete" in text and "<div" not in text


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    "html", ["", "   ", "<html></html>", "<p>unclosed <b>tags <div>", "\x00\x01garbage<<<>>>", "plain"]
)
def test_degenerate_html_never_raises(backend, html):
    assert isinstance(extract_text(html, None, backend), str)


def test_unknown_backend_is_an_error():
    with pytest.raises(ValueError, match="unknown extract backend"):
        extract_text("<p>x</p>", backend="boilerpipe")


def test_default_backend_is_configured_and_known():
    assert default_config()["extract"]["backend"] in BACKENDS


def test_all_sample_pages_extract_non_trivially():
    pages = sorted(SHARED_HTML.glob("*.html.gz"))
    assert len(pages) == 60
    lengths = [len(extract_text(gzip.decompress(p.read_bytes()).decode("utf-8", "replace"))) for p in pages]
    assert sum(1 for n in lengths if n >= 200) >= 55


def test_fallback_recovers_pages_resiliparse_empties():
    html = gzip.decompress((SHARED_HTML / "rnz.de.witzel.html.gz").read_bytes()).decode("utf-8")
    assert extract_text(html) == ""  # resiliparse's main-content heuristics drop this whole article
    recovered = extract_text(html, fallback="trafilatura")
    assert "Frank Witzel den Deutschen Buchpreis 2015 erhalten" in recovered
    cfg = default_config()["extract"]
    assert extract_with_config(html, None, cfg) == recovered
    assert extract_with_config(html, None, {**cfg, "fallback_backend": None}) == ""


def test_fallback_not_used_when_backend_finds_enough():
    html = page("blog.python.org")
    assert extract_text(html, fallback="trafilatura") == extract_text(html)
