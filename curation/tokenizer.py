"""One tokenizer interface over SentencePiece `.model` files and Hugging Face `tokenizer.json` files, loaded locally.

`load_tokenizer(path)` picks the backend from the file (a `tokenizer.json` is JSON, a `.model` is a SentencePiece
protobuf); nothing is ever downloaded. Both expose `encode_batch`, `decode`, `normalize` (the text the tokenizer
actually encodes, so `decode(encode(t)) == normalize(t)` is the round-trip contract), the special ids and an
identity (file hash, vocabulary size) for manifests.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

EOS_CANDIDATES = ("</s>", "<|endoftext|>", "<|end_of_text|>", "<eos>", "<|eos|>", "[SEP]", "<|im_end|>")


class TokenizerError(ValueError):
    """A tokenizer file that cannot be used (unreadable, unknown kind, no end-of-document token)."""


class Tokenizer(Protocol):
    """What the export and the tests need from a tokenizer."""

    kind: str
    vocab_size: int
    eos_id: int

    def encode_batch(self, texts: Sequence[str]) -> list[np.ndarray]:
        """Token ids of each text (no special tokens added)."""
        ...

    def decode(self, ids: Sequence[int] | np.ndarray) -> str:
        """Text of token ids."""
        ...

    def normalize(self, text: str) -> str:
        """The text after the tokenizer's own normalisation (what decode(encode(text)) gives back)."""
        ...

    def identity(self) -> dict[str, Any]:
        """Kind, file sha256, vocabulary size and special ids, for TOK/manifest.json."""
        ...


@dataclass
class _FileIdentity:
    data: bytes

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


class SentencePieceTokenizer:
    """A SentencePiece model (`.model` protobuf bytes)."""

    kind = "sentencepiece"

    def __init__(self, model: bytes, num_threads: int = 1):
        import sentencepiece as spm

        self._file = _FileIdentity(model)
        try:
            self.sp = spm.SentencePieceProcessor(model_proto=model)
        except Exception as exc:  # noqa: BLE001 - any parse failure is a bad tokenizer file
            raise TokenizerError(f"not a SentencePiece model: {exc}") from None
        self.num_threads = num_threads
        self.vocab_size = int(self.sp.vocab_size())
        self.eos_id = int(self.sp.eos_id())
        if self.eos_id < 0:
            raise TokenizerError("the SentencePiece model has no end-of-sequence id (eos_id < 0)")
        self.bos_id, self.pad_id, self.unk_id = int(self.sp.bos_id()), int(self.sp.pad_id()), int(self.sp.unk_id())
        # add_dummy_prefix (read off the normaliser, not the protobuf: its generated code pins protobuf versions).
        self._dummy_prefix = self.sp.normalize("a").startswith("\u2581")

    def encode_batch(self, texts: Sequence[str]) -> list[np.ndarray]:
        ids = self.sp.encode(list(texts), out_type=int, num_threads=self.num_threads)
        return [np.array(x, dtype=np.int32) for x in ids]

    def decode(self, ids: Sequence[int] | np.ndarray) -> str:
        return self.sp.decode([int(i) for i in ids])

    def normalize(self, text: str) -> str:
        # SentencePiece's normaliser writes spaces as U+2581 and adds one as a dummy prefix; decoding maps them back.
        out = self.sp.normalize(text).replace("\u2581", " ")
        if self._dummy_prefix and out.startswith(" "):
            out = out[1:]
        return out

    def identity(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "sha256": self._file.sha256,
            "vocab_size": self.vocab_size,
            "eos_id": self.eos_id,
            "bos_id": self.bos_id,
            "pad_id": self.pad_id,
            "unk_id": self.unk_id,
        }


class HuggingFaceTokenizer:
    """A Hugging Face `tokenizers` file (`tokenizer.json`), read from a local path."""

    kind = "huggingface"

    def __init__(self, data: bytes, eos_token: str | None = None):
        from tokenizers import Tokenizer as HFTokenizer

        self._file = _FileIdentity(data)
        try:
            self.tok = HFTokenizer.from_str(data.decode("utf-8"))
        except Exception as exc:  # noqa: BLE001 - any parse failure is a bad tokenizer file
            raise TokenizerError(f"not a Hugging Face tokenizer.json: {exc}".splitlines()[0]) from None
        self.vocab_size = int(self.tok.get_vocab_size(with_added_tokens=True))
        candidates = (eos_token,) if eos_token else EOS_CANDIDATES
        found = [(t, i) for t in candidates if (i := self.tok.token_to_id(t)) is not None]
        if not found:
            raise TokenizerError(
                f"no end-of-document token in the tokenizer (looked for {', '.join(candidates)}); name one with --eos-token"
            )
        self.eos_token, self.eos_id = found[0][0], int(found[0][1])

    def encode_batch(self, texts: Sequence[str]) -> list[np.ndarray]:
        encodings = self.tok.encode_batch_fast(list(texts), add_special_tokens=False)
        return [np.array(e.ids, dtype=np.int32) for e in encodings]

    def decode(self, ids: Sequence[int] | np.ndarray) -> str:
        return self.tok.decode([int(i) for i in ids], skip_special_tokens=False)

    def normalize(self, text: str) -> str:
        normalizer = self.tok.normalizer
        return normalizer.normalize_str(text) if normalizer is not None else text

    def identity(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "sha256": self._file.sha256,
            "vocab_size": self.vocab_size,
            "eos_id": self.eos_id,
            "eos_token": self.eos_token,
        }


def tokenizer_from_bytes(data: bytes, eos_token: str | None = None, num_threads: int = 1) -> Tokenizer:
    """A tokenizer from file bytes: JSON -> Hugging Face `tokenizers`, anything else -> SentencePiece."""
    if data.lstrip()[:1] == b"{":
        try:
            json.loads(data)
        except ValueError:
            pass
        else:
            return HuggingFaceTokenizer(data, eos_token)
    if eos_token is not None:
        raise TokenizerError("--eos-token applies to tokenizer.json files; a SentencePiece model names its own")
    return SentencePieceTokenizer(data, num_threads)


def load_tokenizer(path: str | Path, eos_token: str | None = None, num_threads: int = 1) -> Tokenizer:
    """A tokenizer from a local `.model` (SentencePiece) or `tokenizer.json` (Hugging Face) file."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise TokenizerError(f"cannot read tokenizer {path}: {exc.strerror or exc}") from None
    return tokenizer_from_bytes(data, eos_token, num_threads)
