"""WARC / ARC / WET reader on real Common Crawl, warcio and resiliparse samples, and on broken archives."""

from __future__ import annotations

import gzip
import io
from collections import Counter
from pathlib import Path

import pytest
from shared_data import SHARED_DATA

from curation.readers import FORMATS, detect_format
from curation.readers.base import SourceFile
from curation.readers.warc import read_warc
from curation.sample import sample_dir
from curation.schema import Document, Failure

DATA = Path(__file__).parent / "data" / "readers" / "web"
SHARED = SHARED_DATA / "web"
SAMPLE = Path(sample_dir()) / "web"  # real crawls bundled with the demo


def read(path: Path, data: bytes | None = None, relpath: str | None = None) -> list[Document | Failure]:
    """All records the WARC reader yields for a file (or for `data` under that file name)."""
    file = SourceFile(str(path), relpath or path.name, "web", "warc")
    stream = io.BytesIO(data) if data is not None else path.open("rb")
    return list(read_warc(stream, file))


def kinds(items: list[Document | Failure]) -> Counter:
    """Count by outcome: 'failure', a skip reason, or the document content type."""
    return Counter("failure" if isinstance(i, Failure) else (i.reason or i.meta.get("content_type")) for i in items)


def test_common_crawl_warc_response_keeps_html_and_provenance():
    docs = read(DATA / "whirlwind.warc.gz")
    assert kinds(docs) == {"text/html": 1}  # warcinfo, request and metadata records are not documents
    doc = docs[0]
    assert doc.url == "https://an.wikipedia.org/wiki/Escopete"
    assert doc.meta["url"] == doc.url
    assert doc.meta["http_status"] == 200
    assert doc.meta["warc_record_id"].startswith("<urn:uuid:")
    assert doc.meta["crawl_date"].startswith("2024-05-")
    assert "<html" in doc.text.lower() and "Escopete" in doc.text
    assert doc.id == f"web/whirlwind.warc.gz#{doc.id.rsplit('#', 1)[1]}"


def test_ids_are_stable_and_unique():
    first = [d.id for d in read(SAMPLE / "sample-0000.warc.gz")]
    second = [d.id for d in read(SAMPLE / "sample-0000.warc.gz")]
    assert first == second
    assert len(set(first)) == len(first) == 22
    urls = [d.url for d in read(SAMPLE / "sample-0000.warc.gz")]
    assert all(u.startswith("http") for u in urls)  # wget writes WARC-Target-URI as <...>


def test_wet_conversion_records_are_plain_text():
    docs = read(DATA / "whirlwind.warc.wet.gz")
    assert len(docs) == 1
    assert docs[0].meta["content_type"] == "text/plain"
    assert docs[0].url == "https://an.wikipedia.org/wiki/Escopete"
    assert "<" not in docs[0].text[:200] and "Escopete" in docs[0].text
    html = read(DATA / "whirlwind.warc.gz")[0]
    assert docs[0].meta["warc_refers_to"] == html.meta["warc_record_id"]
    assert docs[0].meta["warc_languages"] == "spa"


def test_arc_records_are_read():
    docs = read(DATA / "example.arc.gz")
    assert kinds(docs) == {"text/html": 1}
    assert "Example Domain" in docs[0].text


def test_non_html_and_non_200_are_counted_skips():
    # post-test.warc.gz: three httpbin JSON responses
    assert kinds(read(DATA / "post-test.warc.gz")) == {"read.non_html": 3}
    # bad.arc: one 301 redirect and two non-HTML bodies
    counted = kinds(read(DATA / "bad.arc"))
    assert counted == {"read.http_status": 1, "read.non_html": 2}
    skipped = [d for d in read(DATA / "bad.arc") if d.reason == "read.http_status"]
    assert skipped[0].text == "" and skipped[0].meta["http_status"] != 200


def test_gb2312_and_windows_1251_pages_are_decoded():
    docs = [d for d in read(SAMPLE / "warcfile.warc.gz") if not d.reason]
    assert len(docs) == 16
    encodings = Counter(d.meta["encoding"] for d in docs)
    assert encodings["gb18030"] >= 2 and encodings["cp1251"] >= 1
    for doc in docs:
        assert doc.text.count("\ufffd") < 0.01 * len(doc.text), (doc.url, doc.meta["encoding"])
    chinese = [d for d in docs if d.meta["encoding"] == "gb18030"]
    assert all(any("\u4e00" <= ch <= "\u9fff" for ch in d.text) for d in chinese)


def test_clipped_gzip_gives_one_failure_with_offset():
    items = read(DATA / "clipped.warc.gz")
    assert kinds(items) == {"failure": 1}
    assert items[0].source_location.endswith("clipped.warc.gz:byte=0")
    assert "TruncatedInputError" in items[0].error
    assert items[0].stage == "read"


def test_non_chunked_gzip_warc_is_read_whole():
    # One gzip member for the whole file (warcio refuses it): read anyway; positions are `member+offset`.
    items = read(DATA / "example-bad-non-chunked.warc.gz")
    assert kinds(items) == {"text/html": 1}
    chunked = read(DATA / "example.warc.gz")
    assert items[0].text == chunked[0].text and items[0].url == chunked[0].url == "http://example.com/"
    assert items[0].id == "web/example-bad-non-chunked.warc.gz#0+1197"  # decompressed offset 1197 in member 0


def test_truncated_gz_keeps_records_before_the_cut():
    data = (DATA / "example.warc.gz").read_bytes()
    full = read(DATA / "example.warc.gz")
    assert kinds(full) == {"text/html": 1}
    cut = read(DATA / "example.warc.gz", data[: int(len(data) * 0.6)])  # inside the revisit/request tail
    assert [d.id for d in cut if isinstance(d, Document)] == [full[0].id]
    assert kinds(cut) == {"text/html": 1, "failure": 1}
    assert cut[1].source_location.endswith("example.warc.gz:byte=2012")  # the record the cut is in
    cut_early = read(DATA / "example.warc.gz", data[:1200])  # inside the response record
    assert kinds(cut_early) == {"failure": 1}
    assert cut_early[0].source_location.endswith("example.warc.gz:byte=784")
    assert cut_early[0].error.startswith("unread from byte 784: TruncatedInputError")


@pytest.mark.corpus
def test_malformed_samples_never_raise():
    for path in sorted((SHARED / "malformed").rglob("*")):
        if path.is_file():
            items = read(path)
            assert all(isinstance(i, Document | Failure) for i in items)


def test_empty_and_garbage_files_are_failures():
    assert kinds(read(Path("empty.warc.gz"), b"")) == {"failure": 1}
    assert kinds(read(Path("empty.warc"), b"")) == {"failure": 1}
    garbage = read(Path("garbage.warc"), b"this is not a WARC file\n" * 10)
    assert set(kinds(garbage)) == {"failure"}


def test_oversize_record_is_a_counted_skip():
    body = b"<html><body>" + b"<p>word</p>" * 200_000 + b"</body></html>"
    http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n" + body
    header = (
        b"WARC/1.0\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:1>\r\nWARC-Target-URI: http://x/\r\n"
        b"WARC-Date: 2024-01-01T00:00:00Z\r\nContent-Type: application/http; msgtype=response\r\n"
        b"Content-Length: " + str(len(http)).encode() + b"\r\n\r\n"
    )
    data = gzip.compress(header + http + b"\r\n\r\n")
    file = SourceFile("big.warc.gz", "big.warc.gz", "web", "warc")
    items = list(read_warc(io.BytesIO(data), file, {"max_document_bytes": 1_000_000}))
    assert [(d.reason, d.url) for d in items] == [("read.too_large", "http://x/")]
    assert items[0].meta["nbytes"] == len(body)


def test_registry_detects_warc_and_wet():
    assert detect_format("a/CC-MAIN-x.warc.gz") == "warc"
    assert detect_format("a/CC-MAIN-x.warc.wet.gz") == "wet"
    assert detect_format("a/example.arc.gz") == "warc"
    assert FORMATS["warc"].records is FORMATS["wet"].records
