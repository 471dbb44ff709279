"""HTML main-text extraction: both backends on real pages, the routing between them, output shape, bad input."""

from __future__ import annotations

import gzip
import importlib
import tomllib
from pathlib import Path

import pytest

from curation.config import default_config
from curation.extract import (
    BACKENDS,
    extract_config_args,
    extract_detailed,
    extract_text,
    extract_with_config,
    is_consent_notice,
    short_line_frac,
)
from curation.readers.base import SourceFile
from curation.readers.html import decode_html, page_title, read_html
from curation.readers.warc import read_warc

REPO = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data" / "readers"
DEV_PAGES = Path("web") / "html" / "trafilatura"
RESILIPARSE_FIRST = {**default_config()["extract"], "backend": "resiliparse"}  # the documented fast option
ROUTED = {**RESILIPARSE_FIRST, "resiliparse_max_short_line_frac": 0.5}


def page(name: str) -> str:
    """A stored HTML page as text."""
    return gzip.decompress((DATA / "html" / f"{name}.html.gz").read_bytes()).decode("utf-8")


def dev_page(shared_data: Path, name: str) -> str:
    """One of the 60 development pages, decoded as the HTML reader does."""
    return decode_html(gzip.decompress((shared_data / DEV_PAGES / f"{name}.html.gz").read_bytes()))[0]


def test_every_extraction_backend_imports():
    # trafilatura imports justext, which needs lxml.html.clean: a separate distribution since lxml 5.2 that
    # pip 23.2 (Python 3.11's bundled pip) did not pull in through extras, so it is a direct dependency.
    for module in ("resiliparse.extract.html2text", "trafilatura", "justext", "lxml_html_clean", "lxml.html.clean"):
        importlib.import_module(module)
    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    assert any(dep.replace("-", "_").startswith("lxml_html_clean") for dep in deps)


@pytest.mark.parametrize("backend", BACKENDS)
def test_blog_post_main_text(backend):
    text = extract_text(page("blog.python.org"), "https://blog.python.org/", backend)
    assert "Python 3.6.0 is now available!" in text
    assert "contributions of many, many people" in text
    assert "<" not in text and "&amp;" not in text


@pytest.mark.parametrize("backend", BACKENDS)
def test_paragraphs_separated_by_blank_lines_without_navigation(backend):
    text = extract_text(page("blog.python.org"), None, backend)
    paragraphs = text.split("\n\n")
    assert len(paragraphs) >= 4  # the post's paragraphs, not one run-on block
    assert any(p.startswith("We hope you enjoy Python 3.6.0!") for p in paragraphs)
    assert "Subscribe to:" not in text and "Newer Post" not in text  # blogger navigation


@pytest.mark.parametrize("backend", BACKENDS)
def test_warc_response_through_extractor(backend):
    [doc] = list(read_warc((DATA / "web" / "whirlwind.warc.gz").open("rb"), SourceFile("w", "w", "web", "warc")))
    assert doc.title and "Escopete" in doc.title  # filled from the page's <title> at read time
    text = extract_text(doc.text, doc.url, backend)
    assert "Escopete" in text and "<div" not in text


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize(
    "html", ["", "   ", "<html></html>", "<p>unclosed <b>tags <div>", "\x00\x01garbage<<<>>>", "plain"]
)
def test_degenerate_html_never_raises(backend, html):
    assert isinstance(extract_text(html, None, backend), str)
    assert isinstance(extract_with_config(html, None, {**RESILIPARSE_FIRST, "backend": backend}), str)


def test_unknown_backend_is_an_error():
    with pytest.raises(ValueError, match="unknown extract backend"):
        extract_text("<p>x</p>", backend="boilerpipe")


def test_default_is_trafilatura_with_resiliparse_fallback():
    cfg = default_config()["extract"]
    assert cfg["backend"] in BACKENDS
    args = extract_config_args(cfg)
    assert (args["backend"], args["fallback"]) == ("trafilatura", "resiliparse")
    assert args["max_short_line_frac"] is None  # the short-line rule judges resiliparse output only
    fast = extract_config_args(RESILIPARSE_FIRST)  # the documented one-line fast option
    assert (fast["backend"], fast["fallback"], fast["max_short_line_frac"]) == ("resiliparse", "trafilatura", None)
    assert extract_config_args(ROUTED)["max_short_line_frac"] == 0.5
    assert extract_config_args({**cfg, "fallback_backend": None})["fallback"] is None


def test_consent_banner_lines_are_dropped():
    assert is_consent_notice("Wir verwenden Cookies, um unsere Website für Sie zu verbessern. Mehr erfahren")
    assert is_consent_notice("Our site uses cookies and other technologies so that we can remember you.")
    assert not is_consent_notice("Why did the cookie go to the hospital? Because it felt crummy.")
    html = (
        "<html><body><div class='notice'><p>We use cookies to improve your experience. By continuing you agree"
        " to our privacy policy.</p></div><article><h1>Bread</h1>"
        + "".join(f"<p>Paragraph {i} explains how flour, water and salt become a loaf of bread.</p>" for i in range(8))
        + "</article></body></html>"
    )
    for backend in BACKENDS:
        text = extract_text(html, None, backend)
        assert "Paragraph 7 explains" in text and "cookies" not in text


def test_short_line_frac_counts_unpunctuated_fragments():
    assert short_line_frac("Home\nNews\nSport\nA full sentence that ends properly here.") == 0.75
    assert short_line_frac("One sentence.\n\nAnother one!") == 0.0
    assert short_line_frac("") == 1.0


@pytest.mark.corpus
def test_all_sample_pages_extract_non_trivially(shared_data):
    pages = sorted((shared_data / DEV_PAGES).glob("*.html.gz"))
    assert len(pages) == 60
    lengths = [
        len(extract_with_config(dev_page(shared_data, p.name[:-8]), None, default_config()["extract"])) for p in pages
    ]
    assert sum(1 for n in lengths if n >= 200) >= 57


@pytest.mark.corpus
@pytest.mark.parametrize(
    ("name", "marker"),
    [
        ("rnz.de.witzel", "Frank Witzel den Deutschen Buchpreis 2015 erhalten"),
        ("changelog.blog.zwischenbilanz", "Der stationäre Handel steckt in der Krise"),
        ("franceculture.fr.idees", "Grand débat national"),
    ],
)
def test_pages_resiliparse_empties_go_to_trafilatura(shared_data, name, marker):
    html = dev_page(shared_data, name)
    assert len(extract_text(html, None, "resiliparse")) < 200  # its main-content heuristic drops the article
    result = extract_detailed(html, None, **extract_config_args(RESILIPARSE_FIRST))
    assert (result.routed, result.backend) == ("short", "trafilatura")
    assert marker in result.text
    assert extract_with_config(html, None, {**RESILIPARSE_FIRST, "fallback_backend": None}) == extract_text(
        html, None, "resiliparse"
    )


@pytest.mark.corpus
@pytest.mark.parametrize("name", ["mercurynews.com.2023.01.16.letters-1119", "chineselyrics4u.com.zhineng"])
def test_fragment_heavy_resiliparse_extracts_go_to_trafilatura(shared_data, name):
    html = dev_page(shared_data, name)
    resiliparse = extract_text(html, None, "resiliparse")
    assert len(resiliparse) >= 200 and short_line_frac(resiliparse) > 0.5
    assert extract_detailed(html, None, **extract_config_args(RESILIPARSE_FIRST)).routed is None  # length rule only
    result = extract_detailed(html, None, **extract_config_args(ROUTED))
    assert (result.routed, result.backend) == ("boilerplate", "trafilatura")
    assert result.text == extract_text(html, None, "trafilatura")
    assert short_line_frac(result.text) < short_line_frac(resiliparse) or len(result.text) < len(resiliparse)


@pytest.mark.corpus
@pytest.mark.parametrize("name", ["zeit.de.zugverkehr", "nationalgeographic.co.uk.goats", "soundofscience.fr.1927"])
def test_clean_articles_stay_with_resiliparse(shared_data, name):
    html = dev_page(shared_data, name)
    result = extract_detailed(html, None, **extract_config_args(ROUTED))
    assert (result.routed, result.backend) == (None, "resiliparse")
    assert result.text == extract_text(html, None, "resiliparse")


@pytest.mark.corpus
def test_default_routes_only_empty_trafilatura_extracts(shared_data):
    cfg = default_config()["extract"]
    # laviedesidees: trafilatura's extract is mostly table cells (short lines), yet it is the article: kept.
    html = dev_page(shared_data, "laviedesidees.fr.evaluation")
    trafilatura = extract_text(html, None, "trafilatura")
    assert short_line_frac(trafilatura) > 0.5
    result = extract_detailed(html, None, **extract_config_args(cfg))
    assert (result.routed, result.backend, result.text) == (None, "trafilatura", trafilatura)
    # an HTML page trafilatura finds nothing in goes to resiliparse
    tiny = "<html><body><div><span>Kontakt</span> <span>Impressum</span></div></body></html>"
    assert extract_detailed(tiny, None, **extract_config_args(cfg)).routed == "short"


@pytest.mark.corpus
def test_default_extract_has_title_url_and_blank_line_paragraphs(shared_data):
    name = "nationalgeographic.co.uk.goats"
    path = shared_data / DEV_PAGES / f"{name}.html.gz"
    with path.open("rb") as stream:
        [doc] = list(read_html(stream, SourceFile(str(path), path.name, "web", "html")))
    assert doc.url and doc.url.startswith("https://")
    assert doc.title and "goats" in doc.title.lower()
    text = extract_with_config(doc.text, doc.url, default_config()["extract"])
    paragraphs = text.split("\n\n")
    assert len(paragraphs) >= 10
    assert any(p.startswith("It takes four hours to sail to Redonda") for p in paragraphs)
    assert "You might also like" not in text and "Privacy Policy" not in text


def test_page_title_sources():
    assert page_title("<html><head><title>\n A &amp; B </title></head>") == "A & B"
    assert page_title('<head><meta property="og:title" content="Only OG"></head>') == "Only OG"
    assert page_title("<p>no head</p>") is None
