"""Tokenized shard formats: Parquet `id, source, tokens` and the flat `.bin` + `.idx` pair, written and read with numpy.

The flat form follows Megatron-LM's `MMapIndexedDataset` (version 1), so Megatron-LM, NeMo and GPT-NeoX read
it as an indexed dataset without conversion, while the `.bin` alone is a plain token stream that nanoGPT-style
code reads with `np.memmap(path, dtype=np.uint16)`:

- `.bin`: every document's tokens followed by one end-of-document token, documents back to back, little-endian,
  `uint16` when the vocabulary has fewer than 65,500 entries (Megatron's rule), else `int32`.
- `.idx`: `b"MMIDIDX\\x00\\x00"`, version `<Q` = 1, dtype code `<B` (8 = uint16, 4 = int32), sequence count `<Q`,
  document-index count `<Q`; then `sizes` int32[n] (tokens per document, end token included), `pointers`
  int64[n] (byte offset of each document in `.bin`), `document_indices` int64[n + 1] = 0..n (one sequence
  per document).
"""

from __future__ import annotations

import io
import struct
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

IDX_MAGIC = b"MMIDIDX\x00\x00"
IDX_VERSION = 1
# Megatron's DType codes.
_DTYPE_CODES: dict[np.dtype, int] = {np.dtype(np.uint16): 8, np.dtype(np.int32): 4}
_CODE_DTYPES = {code: dtype for dtype, code in _DTYPE_CODES.items()}
# Megatron chooses uint16 below this vocabulary size (best_fitting_dtype / DType.optimal_dtype).
UINT16_VOCAB_LIMIT = 65500


def token_dtype(vocab_size: int) -> np.dtype:
    """Flat-file dtype for a vocabulary: uint16 below 65,500 entries, else int32 (Megatron's rule)."""
    return np.dtype(np.uint16) if vocab_size < UINT16_VOCAB_LIMIT else np.dtype(np.int32)


def parquet_token_type(vocab_size: int) -> pa.DataType:
    """Parquet list item type: uint16 when every id fits, else uint32."""
    return pa.uint16() if vocab_size <= 65536 else pa.uint32()


def flat_bytes(docs: Sequence[np.ndarray], eos_id: int, dtype: np.dtype) -> tuple[bytes, bytes]:
    """(`.bin`, `.idx`) bytes for documents' token arrays, each followed by `eos_id`."""
    dtype = np.dtype(dtype)
    n = len(docs)
    sizes = np.fromiter((len(d) + 1 for d in docs), dtype=np.int64, count=n)
    ends = np.cumsum(sizes)
    stream = np.empty(int(ends[-1]) if n else 0, dtype=dtype)
    if n:
        body = np.concatenate([np.asarray(d) for d in docs]) if any(len(d) for d in docs) else np.empty(0, dtype)
        eos_pos = ends - 1
        mask = np.ones(len(stream), dtype=bool)
        mask[eos_pos] = False
        stream[mask] = body
        stream[eos_pos] = eos_id
    pointers = np.zeros(n, dtype=np.int64)
    if n:
        pointers[1:] = ends[:-1] * dtype.itemsize
    return stream.astype(dtype.newbyteorder("<"), copy=False).tobytes(), idx_bytes(sizes, pointers, dtype)


def idx_bytes(sizes: np.ndarray, pointers: np.ndarray, dtype: np.dtype) -> bytes:
    """A Megatron MMIDIDX v1 index for one-sequence-per-document data."""
    n = len(sizes)
    header = IDX_MAGIC + struct.pack("<Q", IDX_VERSION) + struct.pack("<B", _DTYPE_CODES[np.dtype(dtype)])
    header += struct.pack("<Q", n) + struct.pack("<Q", n + 1)
    return b"".join(
        [
            header,
            np.asarray(sizes, dtype="<i4").tobytes(),
            np.asarray(pointers, dtype="<i8").tobytes(),
            np.arange(n + 1, dtype="<i8").tobytes(),
        ]
    )


@dataclass(frozen=True)
class FlatIndex:
    """A parsed `.idx`: the token dtype and per-document sizes (end token included) and byte pointers."""

    dtype: np.dtype
    sizes: np.ndarray
    pointers: np.ndarray
    document_indices: np.ndarray

    @property
    def num_tokens(self) -> int:
        """Tokens in the matching `.bin` (end tokens included)."""
        return int(self.sizes.sum())


def read_idx(path: str) -> FlatIndex:
    """Parse a Megatron MMIDIDX v1 index file."""
    with open(path, "rb") as f:
        data = f.read()
    return parse_idx(data, path)


def parse_idx(data: bytes, where: str = "<idx>") -> FlatIndex:
    """Parse `.idx` bytes; raises ValueError naming `where` when they are not a valid index."""
    head = len(IDX_MAGIC) + 8 + 1 + 8 + 8
    if len(data) < head or data[: len(IDX_MAGIC)] != IDX_MAGIC:
        raise ValueError(f"{where}: not a Megatron MMIDIDX index")
    pos = len(IDX_MAGIC)
    (version,) = struct.unpack_from("<Q", data, pos)
    (code,) = struct.unpack_from("<B", data, pos + 8)
    n, ndocs = struct.unpack_from("<QQ", data, pos + 9)
    if version != IDX_VERSION or code not in _CODE_DTYPES:
        raise ValueError(f"{where}: unsupported index version {version} or dtype code {code}")
    expected = head + 4 * n + 8 * n + 8 * ndocs
    if len(data) != expected:
        raise ValueError(f"{where}: index is {len(data)} bytes, its header says {expected}")
    sizes = np.frombuffer(data, dtype="<i4", count=n, offset=head)
    pointers = np.frombuffer(data, dtype="<i8", count=n, offset=head + 4 * n)
    doc_idx = np.frombuffer(data, dtype="<i8", count=ndocs, offset=head + 12 * n)
    return FlatIndex(_CODE_DTYPES[code], sizes, pointers, doc_idx)


def open_bin(path: str, index: FlatIndex) -> np.ndarray:
    """Memory-map a `.bin` token stream (read-only); checks its length against the index."""
    expected = index.num_tokens
    if expected == 0:
        return np.empty(0, dtype=index.dtype)
    stream = np.memmap(path, dtype=index.dtype.newbyteorder("<"), mode="r")
    if len(stream) != expected:
        raise ValueError(f"{path}: {len(stream)} tokens, its index says {expected}")
    return stream


def document_tokens(stream: np.ndarray, index: FlatIndex, i: int) -> np.ndarray:
    """Tokens of document `i` without its end token."""
    start = int(index.pointers[i]) // index.dtype.itemsize
    return np.asarray(stream[start : start + int(index.sizes[i]) - 1])


def tokens_parquet_bytes(
    ids: Sequence[str], source: Sequence[str], docs: Sequence[np.ndarray], vocab_size: int
) -> bytes:
    """Parquet `id, source, tokens` (list of uint16 or uint32), rows in the given order."""
    item = parquet_token_type(vocab_size)
    np_item = np.uint16 if item == pa.uint16() else np.uint32
    lengths = np.fromiter((len(d) for d in docs), dtype=np.int64, count=len(docs))
    offsets = np.zeros(len(docs) + 1, dtype=np.int32)
    np.cumsum(lengths, out=offsets[1:])
    values = np.concatenate([np.asarray(d) for d in docs]).astype(np_item) if len(docs) else np.empty(0, np_item)
    tokens = pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), pa.array(values, item))
    schema = pa.schema([("id", pa.string()), ("source", pa.string()), ("tokens", pa.list_(item))])
    table = pa.Table.from_arrays(
        [pa.array(list(ids), pa.string()), pa.array(list(source), pa.string()), tokens], schema=schema
    )
    buf = io.BytesIO()
    pq.write_table(table, buf, compression="zstd", row_group_size=2000, write_statistics=False)
    return buf.getvalue()
