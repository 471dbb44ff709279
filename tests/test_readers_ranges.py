"""Byte-range reading: the records of all ranges of a file, concatenated, are exactly the whole-file records.

For every splittable format (uncompressed lines and JSONL, WARC/ARC uncompressed and per-record .gz,
Wikipedia multistream .bz2, Parquet row groups) on small fixtures and on the development corpus, for
range sizes from a few bytes (cutting every record) to larger than the file.
"""

from __future__ import annotations

import bz2
import gzip
import io
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from wiki_multistream import build_multistream, stream_offsets

from curation.readers import (
    SourceFile,
    count_line_starts,
    needs_line_numbers,
    read_source,
    split_ranges,
)
from curation.readers.split import next_bz2_stream, next_record
from curation.schema import Document, Failure

DATA = Path(__file__).parent / "data" / "readers"
TARGETS = (1, 7, 100, 1000, 4096, 65536, 1 << 30)
MAX_RANGES = 2500  # tiny ranges only on small files (each range re-opens the file)


def outcome(item: Document | Failure) -> tuple:
    """Everything a record carries, comparable across reads."""
    if isinstance(item, Failure):
        return ("failure", item.source_location, item.error)
    return ("doc", item.id, item.text, item.reason, item.url, item.title, json.dumps(item.meta, sort_keys=True))


def whole(fmt: str, name: str, data: bytes) -> list[tuple]:
    """The records of the whole file."""
    return [outcome(i) for i in read_source(io.BytesIO(data), SourceFile(name, name, "s", fmt))]


def by_ranges(fmt: str, name: str, data: bytes, target: int) -> list[tuple]:
    """The records of every range of ~`target` bytes, concatenated in range order (line numbers counted first)."""
    out, line = [], 1
    for start, end in split_ranges(fmt, name, len(data), target):
        first = 1
        if needs_line_numbers(fmt, name):
            first = line
            line += count_line_starts(io.BytesIO(data), start, end)
        file = SourceFile(name, name, "s", fmt, start=start, end=end, first_line=first)
        out += [outcome(i) for i in read_source(io.BytesIO(data), file)]
    return out


def assert_ranges_partition(fmt: str, name: str, data: bytes, targets: tuple[int, ...] = TARGETS) -> list[tuple]:
    """Every range size gives the whole-file output; returns it."""
    expected = whole(fmt, name, data)
    assert expected, "the fixture must produce records"
    for target in targets:
        if len(data) / target > MAX_RANGES:
            continue
        assert by_ranges(fmt, name, data, target) == expected, (name, target)
    return expected


def lee_lines() -> list[str]:
    text = (DATA / "news" / "lee.cor").read_bytes().decode("cp1252")  # the Lee corpus is not UTF-8
    return [line for line in text.splitlines() if line.strip()]


def jsonl_with_bad_lines(texts: list[str]) -> tuple[bytes, dict[int, str]]:
    """JSONL of real texts with blank lines, broken JSON, non-objects and a BOM, as found in the wild.

    Returns the bytes and {line number: error prefix} of the lines that must fail.
    """
    lines = ["\ufeff" + json.dumps({"text": texts[0], "id": 0})]
    bad: dict[int, str] = {}
    for i, text in enumerate(texts[1:], 1):
        lines.append(json.dumps({"text": text, "id": i, "url": f"https://news.example/{i}"}))
        if i % 7 == 0:
            lines.append("")
        if i % 11 == 0:
            lines.append('{"text": "cut off')
            bad[len(lines)] = "invalid JSON"
        if i % 13 == 0:
            lines.append("[1, 2]")
            bad[len(lines)] = "record is list, expected an object"
    return ("\n".join(lines) + "\n").encode(), bad


def test_split_ranges_shapes_without_io():
    assert split_ranges("jsonl", "a.jsonl", 10, 4) == [(0, 4), (4, 8), (8, 10)]
    assert split_ranges("jsonl", "a.jsonl", 8, 4) == [(0, 4), (4, 8)]
    assert split_ranges("jsonl", "a.jsonl", 0, 4) == [(0, 0)]
    assert split_ranges("jsonl", "a.jsonl.gz", 10, 4) == [(0, 10)]  # a gzip stream cannot be entered midway
    assert split_ranges("lines", "a.cor", 10, 4) == [(0, 4), (4, 8), (8, 10)]
    assert split_ranges("warc", "a.warc.gz", 10, 4) == split_ranges("wet", "a.warc", 10, 4) == [(0, 4), (4, 8), (8, 10)]
    assert split_ranges("warc", "a.warc.zst", 10, 4) == [(0, 10)]
    assert split_ranges("wikipedia", "enwiki-multistream.xml.bz2", 10, 4)[1] == (4, 8)
    assert split_ranges("wikipedia", "enwiki.xml.gz", 10, 4) == split_ranges("wikipedia", "x.xml", 10, 4) == [(0, 10)]
    assert split_ranges("parquet", "a.parquet", 10, 4)[-1] == (8, 10)
    for fmt, path in [("html", "a.html"), ("text", "a.txt"), ("books", "b.txt"), ("code_archive", "r.tar")]:
        assert split_ranges(fmt, path, 10, 4) == [(0, 10)]
    assert needs_line_numbers("jsonl", "a.jsonl") and needs_line_numbers("lines", "a.cor")
    assert not needs_line_numbers("jsonl", "a.jsonl.zst") and not needs_line_numbers("warc", "a.warc")
    with pytest.raises(ValueError):
        split_ranges("jsonl", "a.jsonl", 10, 0)


@pytest.mark.parametrize(
    "data",
    [b"", b"a", b"\n", b"a\n", b"a\nb", b"a\nb\n", b"\n\n\nx\n\n", b"one\ntwo\nthree\nfour\n" * 3],
)
def test_count_line_starts_adds_up_to_the_line_numbers(data):
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    starts = [0] if data else []
    for pos, byte in enumerate(data[:-1]):
        if byte == ord("\n"):
            starts.append(pos + 1)
    assert len(starts) == len(lines)
    for start in range(len(data) + 1):
        for end in [*range(start, len(data) + 1), None]:
            expected = sum(1 for s in starts if start <= s < (len(data) if end is None else end))
            assert count_line_starts(io.BytesIO(data), start, end) == expected, (data, start, end)


def test_lines_and_jsonl_fixtures():
    lee = (DATA / "news" / "lee.cor").read_bytes()
    assert len(assert_ranges_partition("lines", "lee.cor", lee)) == 50
    data, bad = jsonl_with_bad_lines(lee_lines())
    records = assert_ranges_partition("jsonl", "lee.jsonl", data)
    assert records[0][1] == "s/lee.jsonl#1"  # the BOM did not cost the first record
    failures = [r for r in records if r[0] == "failure"]
    assert [f[1] for f in failures] == [f"lee.jsonl:line={n}" for n in sorted(bad)]
    assert all(f[2].startswith(bad[int(f[1].rsplit("=", 1)[1])]) for f in failures)
    assert sum(1 for r in records if r[0] == "doc") == 50


def test_range_of_a_file_that_cannot_be_split_reads_it_whole_once():
    data = gzip.compress(jsonl_with_bad_lines(lee_lines())[0], mtime=0)
    expected = whole("jsonl", "lee.jsonl.gz", data)
    for start, end in [(0, 100), (100, 200), (200, len(data))]:
        got = [
            outcome(i)
            for i in read_source(io.BytesIO(data), SourceFile("lee.jsonl.gz", "lee.jsonl.gz", "s", "jsonl", start, end))
        ]
        assert got == (expected if start == 0 else [])


@pytest.mark.parametrize(
    "name", ["example.warc.gz", "whirlwind.warc.gz", "post-test.warc.gz", "example.arc.gz", "whirlwind.warc.wet.gz"]
)
def test_per_record_gzip_warc_fixtures(name):
    data = (DATA / "web" / name).read_bytes()
    fmt = "wet" if ".wet" in name else "warc"
    assert_ranges_partition(fmt, name, data)
    plain = gzip.decompress(data)  # the same records, uncompressed: split on verified record headers
    assert_ranges_partition(fmt, name.removesuffix(".gz"), plain)


def test_uncompressed_arc_and_a_single_member_gzip_warc():
    assert len(assert_ranges_partition("warc", "bad.arc", (DATA / "web" / "bad.arc").read_bytes())) == 3
    single = (DATA / "web" / "example-bad-non-chunked.warc.gz").read_bytes()  # one gzip member: range 0 reads it
    assert [r[0] for r in assert_ranges_partition("warc", "one-member.warc.gz", single)] == ["doc"]
    assert next_record(io.BytesIO(single), 1, "gzip") is None


def test_truncated_per_record_gzip_warc_fails_the_same_way_in_ranges():
    data = (DATA / "web" / "example.warc.gz").read_bytes()
    cut = data[: int(len(data) * 0.6)]
    records = assert_ranges_partition("warc", "cut.warc.gz", cut)
    assert [r[0] for r in records] == ["doc", "failure"]
    assert records[1][1] == "cut.warc.gz:byte=2012" and records[1][2].startswith("unread from byte 2012: ")


def test_a_payload_that_quotes_a_warc_header_is_not_a_record_boundary():
    page = (
        b"<html><body><pre>\nWARC/1.0\r\nWARC-Type: response\r\nContent-Length: 5\r\n\r\nhello\r\n\r\n"
        b"</pre>" + b"<p>filler</p>" * 200 + b"</body></html>"
    )
    http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n" + page
    records = []
    for i in range(3):
        records.append(
            b"WARC/1.0\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:%d>\r\nWARC-Target-URI: http://x/%d\r\n"
            b"Content-Type: application/http; msgtype=response\r\nContent-Length: %d\r\n\r\n"
            % (i, i, len(http))
            + http
            + b"\r\n\r\n"
        )
    data = b"".join(records)
    assert [r[0] for r in assert_ranges_partition("warc", "quoted.warc", data)] == ["doc"] * 3


def _markup_multistream(pages_per_stream: int) -> bytes:
    xml = bz2.decompress((DATA / "wikipedia" / "enwiki-table-markup.xml.bz2").read_bytes())
    dump, _ = build_multistream(xml, pages_per_stream)
    return dump


def test_wikipedia_multistream_fixture_and_single_stream_dump():
    dump = _markup_multistream(2)  # 5 pages: streams of 2, 2 and 1 page, plus the header and footer streams
    assert [r[0] for r in assert_ranges_partition("wikipedia", "markup-multistream.xml.bz2", dump)] == ["doc"] * 5
    single = (DATA / "wikipedia" / "enwiki-table-markup.xml.bz2").read_bytes()
    assert whole("wikipedia", "markup.xml.bz2", single) == whole("wikipedia", "markup.xml.bz2", dump)
    assert_ranges_partition("wikipedia", "markup.xml.bz2", single)  # range 0 reads it, the others yield nothing


def test_parquet_row_groups():
    texts = lee_lines()
    buf = io.BytesIO()
    table = pa.table(
        {"text": texts, "n": list(range(len(texts))), "seen": pa.array(range(len(texts)), pa.timestamp("ns"))}
    )
    pq.write_table(table, buf, row_group_size=7)
    records = assert_ranges_partition("parquet", "lee.parquet", buf.getvalue())
    assert [r[1] for r in records] == [f"s/lee.parquet#{i}" for i in range(1, 51)]


@pytest.mark.corpus
def test_development_corpus_files_split_exactly(shared_data):
    cases = [
        ("lines", shared_data / "news" / "lee" / "lee_background.cor", 300),
        ("warc", shared_data / "web" / "warc" / "dolma" / "sample-0000.warc.gz", 22),
        ("warc", shared_data / "web" / "commoncrawl" / "resiliparse" / "warcfile.warc.gz", 16),
        ("warc", shared_data / "web" / "warc" / "warcio" / "example-iana.org-chunked.warc", 1),
    ]
    for fmt, path, count in cases:
        records = assert_ranges_partition(fmt, path.name, path.read_bytes())
        assert len(records) == count, path.name
    plain = gzip.decompress((shared_data / "web" / "warc" / "dolma" / "sample-0001.warc.gz").read_bytes())
    assert len(assert_ranges_partition("warc", "sample-0001.warc", plain)) == 15


@pytest.mark.corpus
@pytest.mark.slow  # ~5 reads of 106 articles through mwparserfromhell: ~30 s idle, minutes on a loaded machine
def test_enwiki_multistream_built_like_wikimedia_splits_by_stream(shared_data):
    source = (
        shared_data / "wikipedia" / "gensim" / "enwiki-latest-pages-articles1.xml-p000000010p000030302-shortened.bz2"
    )
    dump, index = build_multistream(bz2.decompress(source.read_bytes()), 100)
    offsets = stream_offsets(index)
    assert len(offsets) == 3  # 206 pages: 100 + 100 + 6
    found, pos = [], 1
    while (start := next_bz2_stream(io.BytesIO(dump), pos)) is not None:
        found.append(start)
        pos = start + 1
    assert found[:-1] == offsets  # the index's stream offsets, plus the footer stream
    # 1.7 MB: ranges cut inside the first, the middle and the last page stream, and one range for all
    records = assert_ranges_partition("wikipedia", "enwiki-multistream.xml.bz2", dump, (65536, 600_000))
    assert len(records) == 206
    assert records == whole("wikipedia", "enwiki-multistream.xml.bz2", source.read_bytes())
    ranges = [(offsets[1], offsets[2])]  # exactly the second stream: pages 101-200, with the dump's siteinfo
    docs = [
        i
        for s, e in ranges
        for i in read_source(io.BytesIO(dump), SourceFile("e.xml.bz2", "e.xml.bz2", "wikipedia", "wikipedia", s, e))
    ]
    assert len(docs) == 100 and all(d.url.startswith("https://en.wikipedia.org/wiki/") for d in docs)
