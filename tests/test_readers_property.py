"""Property tests: arbitrary JSON values and arbitrary bytes never crash a reader, and whatever any reader
(or any stage) produces can always be written: Arrow table, Parquet file, failure JSON line."""

from __future__ import annotations

import bz2
import gzip
import io
import json

import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from curation.readers import FORMATS, SourceFile, read_source
from curation.schema import Document, Failure, document_schema, documents_to_table, table_to_documents

# Every code point, with lone surrogates (JSON can carry them as \ud800 escapes) and ASCII made frequent.
# (st.text filters most surrogates out of a mixed alphabet, so the strings are joined from characters.)
ANY_TEXT = st.lists(
    st.one_of(
        st.characters(codec="ascii"),
        st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF, exclude_categories=()),
        st.characters(exclude_categories=()),
    ),
    max_size=40,
).map("".join)
JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | ANY_TEXT
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(ANY_TEXT, inner, max_size=4),
    max_leaves=12,
)
# Document-like records: a string text, any value in the known fields, any extra keys.
RECORDS = st.builds(
    lambda known, extra: {**extra, **known},
    st.fixed_dictionaries(
        {"text": ANY_TEXT},
        optional={"id": JSON_VALUES, "url": JSON_VALUES, "title": JSON_VALUES, "meta": JSON_VALUES},
    ),
    st.dictionaries(ANY_TEXT, JSON_VALUES, max_size=3),
)
SUFFIXES = {"": lambda b: b, ".gz": lambda b: gzip.compress(b, mtime=0), ".bz2": bz2.compress}
SCHEMA = document_schema(["quality.word_count"], with_reason=True)


def writable(items: list[Document | Failure]) -> None:
    """Documents go through Arrow and Parquet, failures through their JSON line, without an error."""
    assert all(isinstance(i, Document | Failure) for i in items)
    docs = [i for i in items if isinstance(i, Document)]
    buf = io.BytesIO()
    pq.write_table(documents_to_table(docs, SCHEMA), buf)
    assert pq.read_table(io.BytesIO(buf.getvalue())).num_rows == len(docs)
    for item in items:
        if isinstance(item, Failure):
            json.loads(item.to_json().encode("utf-8"))


def read_all(fmt: str, name: str, data: bytes) -> list[Document | Failure]:
    """What `read_source` yields for `data` stored as `name` in format `fmt`; every string already UTF-8-safe."""
    items = list(read_source(io.BytesIO(data), SourceFile(name, name, "s", fmt)))
    for item in items:
        if isinstance(item, Document):
            for value in (item.id, item.source, item.text, item.url, item.title, item.language, item.reason):
                if value is not None:
                    value.encode("utf-8")
            json.dumps(item.meta, ensure_ascii=False).encode("utf-8")
        else:
            item.source_location.encode("utf-8")
            item.error.encode("utf-8")
    return items


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(RECORDS, JSON_VALUES), min_size=0, max_size=6), st.sampled_from(sorted(SUFFIXES)))
def test_arbitrary_json_lines_never_crash_and_always_write(values, suffix):
    lines = b"".join(json.dumps(v, ensure_ascii=True).encode() + b"\n" for v in values)
    items = read_all("jsonl", f"x.jsonl{suffix}", SUFFIXES[suffix](lines))
    writable(items)
    records = [v for v in values if isinstance(v, dict) and isinstance(v.get("text"), str)]
    assert sum(1 for i in items if isinstance(i, Document)) == len(records)
    assert len(items) == max(len(values), 1)  # one outcome per line (an empty file is one failure)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=3000), st.sampled_from(sorted(FORMATS)), st.sampled_from(sorted(SUFFIXES)))
def test_arbitrary_bytes_never_crash_any_reader(data, fmt, suffix):
    name = {"parquet": "x.parquet", "replay": "x.parquet", "code_archive": "x.tar", "books": "x.txt"}.get(fmt, "x")
    writable(read_all(fmt, name + suffix, SUFFIXES[suffix](data)))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.builds(
            Document,
            id=ANY_TEXT,
            source=ANY_TEXT,
            text=ANY_TEXT,
            url=st.none() | ANY_TEXT,
            title=st.none() | ANY_TEXT,
            meta=st.dictionaries(ANY_TEXT, JSON_VALUES, max_size=4),
            language=st.none() | ANY_TEXT,
            reason=st.none() | ANY_TEXT,
        ),
        max_size=5,
    )
)
def test_documents_to_table_never_fails_on_any_string(docs):
    writable(docs)
    back = table_to_documents(documents_to_table(docs, SCHEMA))
    for original, written in zip(docs, back, strict=True):
        if not any("\ud800" <= c <= "\udfff" for c in original.text):
            assert written.text == original.text  # text without surrogates is written unchanged


def test_meta_that_json_cannot_encode_is_still_written():
    deep: object = "leaf"
    for _ in range(5000):
        deep = [deep]
    docs = [
        Document(id="a", source="s", text="t", meta={"deep": deep}),
        Document(id="b", source="s", text="t", meta={1: "int key", "n": 10**5000, "set": {1}}),
        Document(id="c", source="s", text="t", meta={"when": __import__("datetime").date(2024, 1, 2)}),
    ]
    writable(docs)
    metas = [json.loads(row) for row in documents_to_table(docs, SCHEMA).column("meta").to_pylist()]
    assert metas[2] == {"when": "2024-01-02"}
    assert set(metas[0]) == {"unencodable_meta"} and set(metas[1]) == {"unencodable_meta"}
