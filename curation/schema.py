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
                "source": clean_path(str(self.source)),
                "source_location": clean_path(str(self.source_location)),
                "error": clean_text(str(self.error)),
                "stage": clean_text(str(self.stage)),
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


_SURROGATE = re.compile(r"[\ud800-\udfff]")
# Deeper meta than this is refused: JSON encoders recurse, and a writer must never fail on a record.
MAX_META_DEPTH = 64


def clean_text(text: str) -> str:
    """`text` safe for UTF-8: surrogate pairs joined, lone surrogates replaced by U+FFFD (fast when clean)."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def _escape_surrogate(match: re.Match[str]) -> str:
    """One lone surrogate of a path: an undecodable file-name byte (surrogateescape) as `\\xNN`, else U+FFFD."""
    code = ord(match.group())
    return f"\\x{code - 0xDC00:02x}" if 0xDC80 <= code <= 0xDCFF else "\ufffd"


def clean_path(path: str) -> str:
    """A path, id or location safe for UTF-8: bytes of a non-UTF-8 file name shown as `\\xNN` (stays unique)."""
    if path.isascii():
        return path
    try:
        path.encode("utf-8")
        return path
    except UnicodeEncodeError:
        return _SURROGATE.sub(_escape_surrogate, path)


def json_safe(value: Any, depth: int = 0) -> Any:
    """`value` as plain JSON data: str keys, clean strings, lists for sequences, str() for anything else.

    Raises ValueError for nesting deeper than MAX_META_DEPTH (the record is then a dead letter).
    """
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, str):
        return clean_text(value)
    if depth >= MAX_META_DEPTH:
        raise ValueError(f"metadata nested deeper than {MAX_META_DEPTH} levels")
    if isinstance(value, dict):
        return {(clean_text(k) if isinstance(k, str) else str(k)): json_safe(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [json_safe(v, depth + 1) for v in value]
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", "backslashreplace")
    isoformat = getattr(value, "isoformat", None)
    if callable(isoformat):  # datetime, date, time, pandas.Timestamp
        return clean_text(str(isoformat()))
    return clean_text(str(value))


def _utf8_safe(text: str) -> bool:
    """True when `text` encodes to UTF-8 as it is (no lone surrogates)."""
    return text.isascii() or clean_text(text) is text


_SCALARS = (type(None), bool, int, float)


def _plain_meta(meta: Any) -> bool:
    """True when `meta` is already JSON data with str keys and clean strings (the common case, checked fast)."""
    if type(meta) is not dict:
        return False
    stack: list[tuple[Any, int]] = [(meta, 0)]
    while stack:
        value, depth = stack.pop()
        kind = type(value)
        if kind is str:
            if not _utf8_safe(value):
                return False
        elif kind in _SCALARS:
            continue
        elif kind is dict:
            if depth >= MAX_META_DEPTH:
                return False
            for key, item in value.items():
                if type(key) is not str or not _utf8_safe(key):
                    return False
                stack.append((item, depth + 1))
        elif kind is list:
            if depth >= MAX_META_DEPTH:
                return False
            stack.extend((item, depth + 1) for item in value)
        else:
            return False
    return True


def sanitize_document(doc: Document) -> Document:
    """Make every string of `doc` UTF-8-safe and its meta plain JSON, in place (ValueError if it cannot be)."""
    doc.id = clean_path(doc.id)
    doc.source = clean_path(doc.source)
    doc.text = clean_text(doc.text)
    if doc.url is not None:
        doc.url = clean_text(str(doc.url))
    if doc.title is not None:
        doc.title = clean_text(str(doc.title))
    if doc.language is not None:
        doc.language = clean_text(str(doc.language))
    if doc.reason is not None:
        doc.reason = clean_text(str(doc.reason))
    if not _plain_meta(doc.meta):
        meta = json_safe(doc.meta)
        doc.meta = meta if isinstance(meta, dict) else {"meta": meta}
    return doc


def _optional(value: Any) -> str | None:
    """A nullable string column value, UTF-8-safe."""
    return None if value is None else clean_text(str(value))


def meta_json(meta: Any) -> str:
    """`meta` as one JSON string (sorted keys); never raises: whatever cannot be encoded is made plain first."""
    try:
        return clean_text(json.dumps(meta, ensure_ascii=False, sort_keys=True))
    except (TypeError, ValueError, RecursionError):
        pass
    try:
        return json.dumps(json_safe(meta), ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError, RecursionError) as exc:
        return json.dumps({"unencodable_meta": f"{type(exc).__name__}: {exc}"}, ensure_ascii=False)


def _score(value: Any) -> float | None:
    """A nullable float column value (anything that is not a number becomes null)."""
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None


def documents_to_table(docs: Iterable[Document], schema: pa.Schema) -> pa.Table:
    """Columnar Arrow table of documents in the given schema (signals not in it are dropped).

    Never fails on content: every string is made UTF-8-safe, meta is always encodable JSON.
    """
    docs = list(docs)
    signal_names = [f.name for f in schema.field("signals").type]
    columns: dict[str, list[Any]] = {
        "id": [clean_path(str(d.id)) for d in docs],
        "source": [clean_path(str(d.source)) for d in docs],
        "text": [clean_text(str(d.text)) for d in docs],
        "url": [_optional(d.url) for d in docs],
        "title": [_optional(d.title) for d in docs],
        "meta": [meta_json(d.meta) for d in docs],
        "language": [_optional(d.language) for d in docs],
        "language_score": [_score(d.language_score) for d in docs],
        "signals": [{n: _score(d.signals.get(n)) for n in signal_names} for d in docs],
    }
    if "reason" in schema.names:
        columns["reason"] = [_optional(d.reason) for d in docs]
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
