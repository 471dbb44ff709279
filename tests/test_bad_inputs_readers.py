"""Every reader-side bad input: good records all come through, bad ones are dead letters at exact locations,
and whatever comes out can be written (Arrow/Parquet documents, JSON failure lines)."""

from __future__ import annotations

import io
import json
import os

import pyarrow.parquet as pq
import pytest
from bad_inputs.readers import BadInput, reader_cases, write_cases

from curation.readers import SourceFile, location_sort_key, read_source
from curation.schema import Document, Failure, document_schema, documents_to_table

CASES = reader_cases()


def read_case(case: BadInput, path: str | None = None) -> list[Document | Failure]:
    """Everything read_source yields for the case (from memory, or from its file at `path`)."""
    name = path or case.filename
    stream = open(path, "rb") if path else io.BytesIO(case.data)  # noqa: SIM115 - closed below
    with stream:
        return list(read_source(stream, SourceFile(name, os.path.basename(name), "web", case.fmt)))


def check(case: BadInput, items: list[Document | Failure], path: str) -> None:
    """The case's documents, skip reasons and failures, exactly."""
    docs = [i for i in items if isinstance(i, Document)]
    failures = [i for i in items if isinstance(i, Failure)]
    assert len(docs) == case.docs
    reasons = {}
    for doc in docs:
        if doc.reason:
            reasons[doc.reason] = reasons.get(doc.reason, 0) + 1
    assert reasons == case.reasons
    assert len(failures) == len(case.failures), [f.error for f in failures]
    for failure, (label, error) in zip(failures, case.failures, strict=True):
        assert failure.source_location == f"{path}:{label}"
        assert failure.error.startswith(error), failure.error
    table = documents_to_table(docs, document_schema(["quality.word_count"], with_reason=True))
    pq.write_table(table, io.BytesIO())
    for failure in failures:
        json.loads(failure.to_json().encode("utf-8"))


@pytest.mark.parametrize("case", CASES, ids=[c.name.decode("latin-1") for c in CASES])
def test_bad_input_from_memory(case):
    check(case, read_case(case), case.filename)


def test_bad_inputs_from_files_with_their_real_names(tmp_path):
    for case in write_cases(tmp_path):
        path = os.path.join(str(tmp_path), case.filename)
        items = read_case(case, path)
        shown = path.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        check(case, items, shown)
        for doc in (i for i in items if isinstance(i, Document)):
            doc.id.encode("utf-8")  # a non-UTF-8 file name is escaped, never a lone surrogate


def test_surrogates_are_replaced_in_every_field():
    case = next(c for c in CASES if c.name == b"surrogates.jsonl")
    doc = read_case(case)[0]
    assert doc.title == "bad \ufffd" and doc.url == "http://x/\ufffd" and doc.text == "some text \ufffd here"
    assert doc.meta == {"extra\ufffd": "v\ufffd", "k\ufffd": ["\ufffd"], "source_id": "s\ufffd"}


def test_foreign_parquet_columns_become_plain_json_meta():
    case = next(c for c in CASES if c.fmt == "parquet")
    docs = read_case(case)
    assert docs[0].meta == {
        "crawled": "2023-11-14 22:13:20.123456789",
        "score": "0.50",
        "raw": "\x00\\xff",  # bytes: UTF-8 where valid, the rest escaped
        "tags": {"a": [0, 1]},
    }


def test_failure_locations_sort_naturally():
    locations = ["b.jsonl:line=2", "a.jsonl:line=59", "a.jsonl:line=7", "a.warc.gz:byte=10+5", "a.warc.gz:byte=9"]
    assert sorted(locations, key=location_sort_key) == [
        "a.jsonl:line=7",
        "a.jsonl:line=59",
        "a.warc.gz:byte=9",
        "a.warc.gz:byte=10+5",
        "b.jsonl:line=2",
    ]
