"""Tokenize one document shard: Parquet `id, source, text` bytes in, tokenized Parquet + flat `.bin/.idx` + failures out.

One input shard is one unit of work; rows keep the input order. A document the tokenizer cannot take (no text,
too large, an encode error, an id outside the vocabulary) becomes a failure record with its reason instead of
tokens; a shard that cannot be read at all fails as a whole, counted with the rows its manifest entry promised.
"""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow.compute as pc
import pyarrow.parquet as pq

from curation.tokenizer import Tokenizer
from curation.tokens import flat_bytes, token_dtype, tokens_parquet_bytes


@dataclass
class ShardResult:
    """Everything one input shard produces: file bytes, failures and counts."""

    source: str
    parquet: bytes
    bin: bytes
    idx: bytes
    failures: list[dict[str, Any]] = field(default_factory=list)
    documents: int = 0
    tokens: int = 0  # end-of-document tokens included (what the .bin holds)
    text_bytes: int = 0  # UTF-8 bytes of the tokenized documents' text

    def failed_jsonl(self) -> bytes:
        """The failures as JSON lines (empty when there are none)."""
        return "".join(json.dumps(f, sort_keys=True) + "\n" for f in self.failures).encode("utf-8")


def output_paths(input_relpath: str) -> dict[str, str]:
    """TOK-relative paths of the files made from OUT's `data/<source>/part-*.parquet`."""
    parts = input_relpath.split("/")
    if len(parts) < 3 or parts[0] != "data" or not parts[-1].endswith(".parquet"):
        raise ValueError(f"not a kept-document shard path: {input_relpath!r}")
    middle, stem = "/".join(parts[1:-1]), parts[-1][: -len(".parquet")]
    return {
        "parquet": f"parquet/{middle}/{stem}.parquet",
        "bin": f"flat/{middle}/{stem}.bin",
        "idx": f"flat/{middle}/{stem}.idx",
        "failed": f"failed/{middle}/{stem}.jsonl",
    }


def _failure(source: str, location: str, error: str, doc_id: str | None = None) -> dict[str, Any]:
    return {"source": source, "source_location": location, "id": doc_id, "error": error, "stage": "tokenize"}


def _empty(source: str, vocab_size: int, eos_id: int) -> ShardResult:
    parquet = tokens_parquet_bytes([], [], [], vocab_size)
    binary, idx = flat_bytes([], eos_id, token_dtype(vocab_size))
    return ShardResult(source, parquet, binary, idx)


def _encode(tokenizer: Tokenizer, texts: list[str], batch_docs: int) -> list[np.ndarray | Exception]:
    """Token arrays per text; a batch that fails is retried one text at a time to isolate the culprit."""
    out: list[np.ndarray | Exception] = []
    for start in range(0, len(texts), batch_docs):
        chunk = texts[start : start + batch_docs]
        try:
            out.extend(tokenizer.encode_batch(chunk))
        except Exception:  # noqa: BLE001 - isolate the document(s) that fail
            for text in chunk:
                try:
                    out.extend(tokenizer.encode_batch([text]))
                except Exception as exc:  # noqa: BLE001 - becomes a failure record
                    out.append(exc)
    return out


def tokenize_shard(
    data: bytes,
    entry: Mapping[str, Any],
    tokenizer: Tokenizer,
    cfg: Mapping[str, Any],
) -> ShardResult:
    """Tokenize the shard whose bytes are `data` and whose OUT manifest entry is `entry`."""
    tcfg = cfg["tokenize"]
    max_bytes = int(tcfg["max_document_bytes"])
    batch_docs = int(tcfg["batch_docs"])
    source, location = str(entry["source"]), str(entry["path"])
    vocab, eos = tokenizer.vocab_size, tokenizer.eos_id
    expected = entry.get("sha256")
    if expected and hashlib.sha256(data).hexdigest() != expected:
        return _whole_shard_failed(
            source, location, entry, vocab, eos, "shard bytes do not match the sha256 in OUT/manifest.json"
        )
    try:
        table = pq.read_table(io.BytesIO(data), columns=["id", "source", "text"])
    except Exception as exc:  # noqa: BLE001 - an unreadable shard fails whole, with its row count
        return _whole_shard_failed(source, location, entry, vocab, eos, f"{type(exc).__name__}: {exc}".splitlines()[0])
    ids = table.column("id").to_pylist()
    sources = table.column("source").to_pylist()
    texts = table.column("text")
    sizes = pc.binary_length(texts).to_numpy(zero_copy_only=False)
    texts_list = texts.to_pylist()
    result = _empty(source, vocab, eos)
    keep: list[int] = []
    for i, (doc_id, text) in enumerate(zip(ids, texts_list, strict=True)):
        where = f"{location}#row={i}"
        if text is None:
            result.failures.append(_failure(source, where, "document has no text (null)", doc_id))
        elif sizes[i] > max_bytes:
            result.failures.append(
                _failure(
                    source,
                    where,
                    f"document is {int(sizes[i])} bytes, over tokenize.max_document_bytes={max_bytes}",
                    doc_id,
                )
            )
        else:
            keep.append(i)
    encoded = _encode(tokenizer, [texts_list[i] for i in keep], batch_docs)
    out_ids: list[str] = []
    out_sources: list[str] = []
    out_tokens: list[np.ndarray] = []
    for i, tokens in zip(keep, encoded, strict=True):
        where = f"{location}#row={i}"
        if isinstance(tokens, Exception):
            error = f"tokenizer failed: {type(tokens).__name__}: {tokens}".splitlines()[0]
            result.failures.append(_failure(source, where, error, ids[i]))
            continue
        if len(tokens) and (int(tokens.min()) < 0 or int(tokens.max()) >= vocab):
            result.failures.append(_failure(source, where, f"token id outside the vocabulary of {vocab}", ids[i]))
            continue
        out_ids.append(ids[i])
        out_sources.append(sources[i] if sources[i] is not None else source)
        out_tokens.append(tokens)
        result.text_bytes += int(sizes[i])
    result.parquet = tokens_parquet_bytes(out_ids, out_sources, out_tokens, vocab)
    result.bin, result.idx = flat_bytes(out_tokens, eos, token_dtype(vocab))
    result.documents = len(out_tokens)
    result.tokens = sum(len(t) for t in out_tokens) + len(out_tokens)
    return result


def _whole_shard_failed(
    source: str, location: str, entry: Mapping[str, Any], vocab: int, eos: int, error: str
) -> ShardResult:
    result = _empty(source, vocab, eos)
    rows = int(entry.get("rows") or 0)
    record = _failure(source, location, f"shard unreadable: {error}")
    record["documents"] = rows
    result.failures.append(record)
    return result


def failed_documents(failures: Sequence[Mapping[str, Any]]) -> int:
    """Documents a list of failure records stands for (a whole-shard failure counts its rows)."""
    return sum(int(f.get("documents", 1)) for f in failures)
