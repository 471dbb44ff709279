"""Document and Failure records and their Arrow schemas: the contract between every stage."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa


@dataclass(slots=True)
class Document:
    """One unit of training text as it moves through the pipeline."""

    id: str
    source: str
    text: str
    url: str | None = None
    title: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    language: str | None = None
    language_score: float | None = None
    signals: dict[str, float] = field(default_factory=dict)
    reason: str | None = None

    @property
    def nbytes(self) -> int:
        """UTF-8 size of the text, the unit all byte statistics use."""
        return len(self.text.encode("utf-8", "surrogatepass"))


@dataclass(slots=True)
class Failure:
    """A record that could not be read or processed (dead letter), with where it came from."""

    source: str
    source_location: str
    error: str
    stage: str
    nbytes: int = 0

    def to_json(self) -> str:
        """One JSON line for `OUT/failed/part-*.jsonl`."""
        return json.dumps(
            {
                "source": self.source,
                "source_location": self.source_location,
                "error": self.error,
                "stage": self.stage,
            },
            ensure_ascii=False,
            sort_keys=True,
        )


def make_id(source: str, relpath: str, position: int | str) -> str:
    """Stable, unique, readable document id: source + file (relative to the glob root) + position."""
    return f"{source}/{relpath}#{position}"


def document_schema(signal_names: Sequence[str], with_reason: bool = False) -> pa.Schema:
    """Arrow schema of the output shards; `signals` is a struct with one float per signal name."""
    signal_type = pa.struct([pa.field(name, pa.float64()) for name in sorted(signal_names)])
    fields = [
        pa.field("id", pa.string(), nullable=False),
        pa.field("source", pa.string(), nullable=False),
        pa.field("text", pa.large_string(), nullable=False),
        pa.field("url", pa.string()),
        pa.field("title", pa.string()),
        pa.field("meta", pa.string(), metadata={"encoding": "json"}),
        pa.field("language", pa.string()),
        pa.field("language_score", pa.float64()),
        pa.field("signals", signal_type),
    ]
    if with_reason:
        fields.append(pa.field("reason", pa.string()))
    return pa.schema(fields)


def _sanitize(text: str) -> str:
    """Replace lone surrogates so Arrow/UTF-8 encoding never fails."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")


def documents_to_table(docs: Iterable[Document], schema: pa.Schema) -> pa.Table:
    """Columnar Arrow table of documents in the given schema (signals not in it are dropped)."""
    docs = list(docs)
    signal_names = [f.name for f in schema.field("signals").type]
    columns: dict[str, list[Any]] = {
        "id": [d.id for d in docs],
        "source": [d.source for d in docs],
        "text": [_sanitize(d.text) for d in docs],
        "url": [d.url for d in docs],
        "title": [d.title for d in docs],
        "meta": [json.dumps(d.meta, ensure_ascii=False, sort_keys=True) for d in docs],
        "language": [d.language for d in docs],
        "language_score": [d.language_score for d in docs],
        "signals": [{n: d.signals.get(n) for n in signal_names} for d in docs],
    }
    if "reason" in schema.names:
        columns["reason"] = [d.reason for d in docs]
    return pa.Table.from_pydict(columns, schema=schema)


def row_to_document(row: dict[str, Any]) -> Document:
    """One output-schema row (as from `Table.to_pylist`) back to a Document; null signals dropped."""
    signals = {k: v for k, v in (row.get("signals") or {}).items() if v is not None}
    return Document(
        id=row["id"],
        source=row["source"],
        text=row["text"],
        url=row.get("url"),
        title=row.get("title"),
        meta=json.loads(row["meta"]) if row.get("meta") else {},
        language=row.get("language"),
        language_score=row.get("language_score"),
        signals=signals,
        reason=row.get("reason"),
    )


def table_to_documents(table: pa.Table) -> list[Document]:
    """Inverse of `documents_to_table`."""
    return [row_to_document(row) for row in table.to_pylist()]


_DIGITS = re.compile(r"(\d+)")


def id_sort_key(doc_id: str) -> tuple:
    """Natural order of ids (`#9` before `#10`): the "smallest id" that dedup keeps on a priority tie."""
    return tuple(int(part) if i % 2 else part for i, part in enumerate(_DIGITS.split(doc_id)))
