"""MediaWiki dump reader: real enwiki/bgwiki/viwiki samples, markup removal, and hostile or broken XML."""

from __future__ import annotations

import bz2
import io
import tracemalloc
from collections import Counter
from pathlib import Path

import pytest
from shared_data import SHARED_DATA

from curation.readers import detect_format
from curation.readers.base import SourceFile
from curation.readers.wikipedia import read_wikipedia, wikitext_to_text
from curation.sample import sample_dir
from curation.schema import Document, Failure

DATA = Path(__file__).parent / "data" / "readers" / "wikipedia"
SHARED = SHARED_DATA / "wikipedia"
ENWIKI = SHARED / "gensim" / "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"
MARKUP = ("{{", "}}", "[[", "]]", "<ref", "{|", "|}", "'''", "Category:", "File:", "Image:", "thumb|")


def read(path: Path, data: bytes | None = None, options: dict | None = None) -> list[Document | Failure]:
    """Everything the reader yields for a dump file (or for `data` under that file name)."""
    file = SourceFile(str(path), path.name, "wikipedia", "wikipedia")
    stream = io.BytesIO(data) if data is not None else path.open("rb")
    return list(read_wikipedia(stream, file, options))


def outcomes(items: list[Document | Failure]) -> Counter:
    """Count by 'failure', skip reason, or 'article'."""
    return Counter("failure" if isinstance(i, Failure) else (i.reason or "article") for i in items)


@pytest.fixture(scope="module")
def enwiki(shared_data) -> list[Document | Failure]:
    """The shortened enwiki dump, read once for this module."""
    return read(ENWIKI)


def test_enwiki_sample_counts_redirects_and_namespaces(enwiki):
    items = enwiki
    counts = outcomes(items)
    assert sum(counts.values()) == 206  # every <page> is accounted for
    # MANIFEST: 100 redirects; one of them is outside the main namespace, so it counts as read.namespace
    assert counts == {"article": 106, "read.redirect": 99, "read.namespace": 1}
    ids = [d.id for d in items]
    assert len(set(ids)) == len(ids)


def test_known_article_first_sentence_without_markup(enwiki):
    articles = {d.title: d for d in enwiki if not d.reason}
    anarchism = articles["Anarchism"]
    assert anarchism.text.startswith(
        "Anarchism is a political philosophy that advocates self-governed societies based on voluntary institutions."
    )
    assert anarchism.id.endswith("#12") and anarchism.meta["page_id"] == "12"
    assert anarchism.url == "https://en.wikipedia.org/wiki/Anarchism"
    for doc in articles.values():
        for marker in MARKUP:
            assert marker not in doc.text, (doc.title, marker)


def test_tables_templates_and_file_links_removed():
    docs = [d for d in read(DATA / "enwiki-table-markup.xml.bz2") if not d.reason]
    assert len(docs) == 5
    first = docs[0]
    assert first.title == "Constructive vote of no confidence"
    assert first.text.startswith(
        "The constructive vote of no confidence (in German: konstruktives Misstrauensvotum, in Spanish: "
        "moción de censura constructiva) is a variation on the motion of no confidence which allows a parliament"
    )
    prison = next(d for d in docs if d.title == "List of Prison Break characters")
    assert prison.text.startswith("This is a list of characters in the American television series, Prison Break.")
    assert "Cast members of" not in prison.text  # caption of an [[Image:...]] link
    for doc in docs:
        for marker in MARKUP:
            assert marker not in doc.text, (doc.title, marker)
        assert "Infobox" not in doc.text and "Use mdy dates" not in doc.text


def test_utf16_bgwiki_dump():
    items = read(DATA / "bgwiki-latest-pages-articles-shortened.xml.bz2")
    assert outcomes(items) == {"article": 1, "read.namespace": 2}
    article = next(d for d in items if not d.reason)
    assert article.title == "Григориански календар"
    assert article.text.startswith("Григорианският календар")
    assert "\r" not in article.text and "Категория:" not in article.text


def test_viwiki_unclosed_root_keeps_pages_and_reports_the_end():
    items = read(Path(sample_dir()) / "wikipedia" / "test.xml")  # bundled with the demo
    counts = outcomes(items)
    assert counts["read.redirect"] == 3 and counts["failure"] == 1
    assert sum(counts.values()) == 11  # 10 pages + the unclosed-root failure
    assert isinstance(items[-1], Failure) and "no element found" in items[-1].error
    assert any(d.title == "Tiếng Việt" and d.text.startswith("Tiếng Việt") for d in items if isinstance(d, Document))


@pytest.mark.corpus
def test_truncated_bz2_keeps_earlier_pages_then_one_failure():
    data = ENWIKI.read_bytes()  # 7 bz2 blocks: the blocks before the cut are still read
    items = read(ENWIKI, data[: len(data) // 2])
    assert outcomes(items)["failure"] == 1 and isinstance(items[-1], Failure)
    assert 20 <= outcomes(items)["article"] < 106
    member, offset = items[-1].source_location.rsplit(":byte=", 1)[1].split("+")  # single stream: member 0
    assert member == "0" and int(offset) > 0
    assert items[-1].error.startswith(f"unread from byte 0+{offset}: ")


def _dump(doctype: str, text: str) -> bytes:
    """A minimal one-page dump with a document type declaration."""
    return (
        f'<?xml version="1.0"?>\n{doctype}\n<mediawiki><page><title>T</title><ns>0</ns><id>1</id>'
        f"<revision><text>{text}</text></revision></page></mediawiki>"
    ).encode()


def test_external_entity_is_refused():
    secret = Path(__file__).resolve()
    data = _dump(f'<!DOCTYPE mediawiki [<!ENTITY xxe SYSTEM "file://{secret}">]>', "before &xxe; after")
    items = read(Path("xxe.xml"), data)
    assert outcomes(items) == {"failure": 1}
    assert "entity" in items[0].error.lower()


def test_billion_laughs_is_refused_without_expansion():
    entities = '<!ENTITY lol "lol">' + "".join(
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10)
    )
    data = _dump(f"<!DOCTYPE mediawiki [{entities}]>", "&lol9;")
    tracemalloc.start()
    items = read(Path("lol.xml"), data)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 2_000_000  # expanded, &lol9; is 10**9 "lol"s: 3 GB
    assert outcomes(items) == {"failure": 1}
    assert "entity" in items[0].error.lower()


def test_empty_and_non_xml_files_are_failures():
    assert outcomes(read(Path("empty.xml"), b"")) == {"failure": 1}
    assert outcomes(read(Path("empty.xml.bz2"), bz2.compress(b""))) == {"failure": 1}
    assert outcomes(read(Path("junk.xml"), b"not xml at all")) == {"failure": 1}


def test_oversize_page_is_a_counted_skip():
    data = _dump("", "word " * 100_000)
    items = read(Path("big.xml"), data, {"max_document_bytes": 10_000})
    assert [(d.reason, d.meta["nbytes"]) for d in items] == [("read.too_large", 500_000)]


def test_wikitext_conversion_details():
    text = wikitext_to_text(
        "'''Foo''' is a [[bar|baz]] thing.<ref>cite</ref> {{cite web|url=x}} See [[Qux#Section]].\n"
        "== History ==\nIt began.<ref name=a/>\n* one [[Category:Bad]]\n[[de:Foo]]\n"
        "{| class=wikitable\n| cell\n|}\n== References ==\n{{reflist}}\n"
    )
    assert text == "Foo is a baz thing. See Qux.\n\nHistory\n\nIt began.\n- one"


def test_format_detection_for_dump_names():
    assert detect_format("x/enwiki-latest-pages-articles.xml.bz2") == "wikipedia"
    assert detect_format("x/enwiki-latest-pages-articles1.xml-p10p30302.bz2", "wikipedia") == "wikipedia"


def test_nested_lists_keep_their_depth():
    assert wikitext_to_text("* a\n** b\n*** c\n* d\n# e\n## f\n** {{gone}}") == "- a\n  - b\n    - c\n- d\n- e\n  - f"


def test_dump_is_streamed_not_loaded(tmp_path):
    import tracemalloc

    path = tmp_path / "big-dump.xml"
    page = (
        "<page><title>Talk:P{i}</title><ns>1</ns><id>{i}</id><revision><timestamp>2020-01-01T00:00:00Z</timestamp>"
        "<text>" + "Lorem ipsum dolor sit amet. " * 1500 + "</text></revision></page>\n"
    )
    with path.open("w", encoding="utf-8") as fh:  # ~25 MB of XML, 600 pages outside the main namespace
        fh.write("<mediawiki><siteinfo><dbname>x</dbname></siteinfo>\n")
        for i in range(600):
            fh.write(page.format(i=i))
        fh.write("</mediawiki>\n")
    tracemalloc.start()
    with path.open("rb") as fh:
        counts = Counter(d.reason for d in read_wikipedia(fh, SourceFile(str(path), path.name, "wikipedia", "x")))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert counts == {"read.namespace": 600}
    assert peak < 5_000_000  # one 64 KiB chunk and page headers, not the 25 MB dump


def test_empty_sections_dropped_but_parents_of_non_empty_subsections_kept():
    wikitext = "intro\n== History ==\n=== Early ===\ntext\n=== Late ===\n== See also ==\n{{x}}\n== Refs ==\n{{reflist}}"
    assert wikitext_to_text(wikitext) == "intro\n\nHistory\n\nEarly\n\ntext"
    assert wikitext_to_text("== A ==\n=== B ===\n== C ==\nc text") == "C\n\nc text"
