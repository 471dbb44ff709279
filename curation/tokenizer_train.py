"""Train a SentencePiece tokenizer the Gopher way on a deterministic, size-capped, mixture-weighted sample of a run.

Gopher (Rae et al. 2021, GOPHER_SPEC §9): SentencePiece, 32,000 pieces, NFKC, byte-level fallback. Digits are
split into single pieces and whitespace is kept as written (no collapsing), so code and numbers survive and no
text is ever lost. The sample: each source gets `weight * sample_bytes` of its kept documents, chosen by a
seeded hash of the document id (the same documents whatever the shard layout); all settings live in the
config's `tokenizer:` section.
"""

from __future__ import annotations

import hashlib
import heapq
import io
import json
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from curation.mixture import Mixture, align_to_sources, resolve_mixture

# Control pieces SentencePiece reserves (unk, bos, eos) plus the 256 byte-fallback pieces.
_RESERVED = 3 + 256


class TrainError(ValueError):
    """A tokenizer training request that cannot be met (no documents, vocabulary too small, ...)."""


@dataclass
class Sample:
    """The training text chosen from a run, with what was taken per source."""

    texts: list[str]
    bytes_per_source: dict[str, int]
    docs_per_source: dict[str, int]
    mixture: Mixture
    notes: list[str] = field(default_factory=list)


def _rank(doc_id: str, seed: int) -> float:
    """A stable pseudo-random number in [0, 1) for a document id."""
    digest = hashlib.blake2b(f"{seed}\x00{doc_id}".encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def data_shards(out_dir: Path) -> dict[str, list[Path]]:
    """Kept-document shards per source from a curated run's manifest.json."""
    try:
        manifest = json.loads((out_dir / "manifest.json").read_text("utf-8"))
    except (OSError, ValueError) as exc:
        raise TrainError(f"no readable manifest.json under {out_dir}: {exc}") from None
    shards: dict[str, list[Path]] = {}
    for e in manifest.get("shards") or []:
        if e.get("kind") == "data":
            shards.setdefault(e["source"], []).append(out_dir / e["path"])
    return {s: sorted(p) for s, p in sorted(shards.items())}


def choose_sample(
    out_dir: str | Path,
    cfg: Mapping[str, Any],
    mixture: str | Mapping[str, float] | None = None,
    sample_bytes: int | None = None,
    renormalize: bool = False,
) -> Sample:
    """Documents of a curated run chosen for tokenizer training: per source `weight * sample_bytes` bytes.

    Within a source, documents are taken in order of a seeded hash of their id until the source's byte budget
    is spent, so the sample is the same on every machine and for any sharding of the same documents.
    """
    tcfg = cfg["tokenizer"]
    out = Path(out_dir)
    shards = data_shards(out)
    if not shards:
        raise TrainError(f"{out_dir} holds no kept documents to train a tokenizer on")
    mix = align_to_sources(resolve_mixture(mixture, cfg), shards, renormalize)
    cap = int(sample_bytes if sample_bytes is not None else tcfg["sample_bytes"])
    seed = int(tcfg["seed"])
    texts: list[str] = []
    took_bytes: dict[str, int] = {}
    took_docs: dict[str, int] = {}
    notes = list(mix.notes)
    for source, weight in mix.weights.items():
        budget = int(weight * cap)
        # The smallest-rank documents whose bytes reach the budget, kept in a heap so memory stays near the
        # budget however large the source: the largest-rank member leaves while the rest still reach it.
        heap: list[tuple[float, str, str, int]] = []
        used = 0
        for path in shards[source]:
            table = pq.read_table(path, columns=["id", "text"])
            for doc_id, text in zip(table.column("id").to_pylist(), table.column("text").to_pylist(), strict=True):
                if not text:
                    continue
                size = len(text.encode("utf-8", "surrogatepass"))
                heapq.heappush(heap, (-_rank(doc_id, seed), doc_id, text, size))
                used += size
                while heap and used - heap[0][3] >= budget:
                    used -= heapq.heappop(heap)[3]
        chosen = sorted(heap, reverse=True)
        texts.extend(text for _, _, text, _ in chosen)
        took_docs[source] = len(chosen)
        took_bytes[source] = used
        if used < budget:
            notes.append(
                f"{source}: only {used:,} bytes of kept text for a budget of {budget:,} ({weight:.1%} of "
                f"{cap:,}); the sample under-represents it"
            )
    return Sample(texts, took_bytes, took_docs, mix, notes)


def _lines(texts: list[str], max_bytes: int) -> Iterator[str]:
    """Training sentences: non-empty lines, long ones cut into pieces of at most `max_bytes` UTF-8 bytes."""
    for text in texts:
        for line in text.split("\n"):
            if not line.strip():
                continue
            data = line.encode("utf-8", "surrogatepass")
            if len(data) <= max_bytes:
                yield line
                continue
            for start in range(0, len(data), max_bytes):
                piece = data[start : start + max_bytes].decode("utf-8", "ignore")
                if piece.strip():
                    yield piece


# SentencePiece refuses a character_coverage below this.
MIN_CHARACTER_COVERAGE = 0.98


def character_coverage(texts: list[str], vocab_size: int, wanted: float) -> float:
    """The config's coverage, lowered just enough that SentencePiece's required characters fit the vocabulary.

    SentencePiece makes every character within `character_coverage` of the text a piece of its own; a small
    vocabulary over multilingual text cannot hold them all. Characters left out are still encoded (byte fallback).
    Raises TrainError when even SentencePiece's lowest coverage (0.98) needs more pieces than the vocabulary has.
    """
    counts: Counter[str] = Counter()
    for t in texts:
        counts.update(t)
    counts.pop("\n", None)
    total = sum(counts.values())
    room = vocab_size - _RESERVED - 1
    frequencies = sorted(counts.values(), reverse=True)
    if total == 0 or len(frequencies) <= room:
        return wanted
    cumulative = 0
    needed = len(frequencies)
    for k, f in enumerate(frequencies, 1):
        cumulative += f
        if cumulative >= MIN_CHARACTER_COVERAGE * total:
            needed = k
            break
    if needed > room:
        raise TrainError(
            f"--vocab-size {vocab_size} is too small for this sample: byte fallback reserves {_RESERVED} pieces and "
            f"the characters covering {MIN_CHARACTER_COVERAGE:.0%} of the text need {needed}; use at least "
            f"{_RESERVED + needed + 1}"
        )
    covered = sum(frequencies[:room]) / total
    return max(MIN_CHARACTER_COVERAGE, min(wanted, covered - 1e-9))


def train_sentencepiece(sample: Sample, cfg: Mapping[str, Any], vocab_size: int | None = None) -> bytes:
    """Train on the sample; returns the `.model` bytes (deterministic for the same sample and settings)."""
    import sentencepiece as spm

    tcfg = cfg["tokenizer"]
    vocab = int(vocab_size if vocab_size is not None else tcfg["vocab_size"])
    minimum = _RESERVED + 1
    if vocab < minimum:
        raise TrainError(
            f"--vocab-size {vocab} is too small: byte fallback needs {minimum} or more ({_RESERVED} reserved)"
        )
    if not sample.texts:
        raise TrainError("the sample holds no text")
    max_bytes = int(tcfg["max_sentence_bytes"])
    coverage = character_coverage(sample.texts, vocab, float(tcfg["character_coverage"]))
    model = io.BytesIO()
    try:
        spm.SentencePieceTrainer.train(
            sentence_iterator=_lines(sample.texts, max_bytes),
            model_writer=model,
            vocab_size=vocab,
            model_type=str(tcfg["model_type"]),
            normalization_rule_name=str(tcfg["normalization"]),
            byte_fallback=bool(tcfg["byte_fallback"]),
            split_digits=bool(tcfg["split_digits"]),
            remove_extra_whitespaces=False,
            allow_whitespace_only_pieces=True,
            character_coverage=coverage,
            max_sentence_length=max_bytes,
            input_sentence_size=0,
            shuffle_input_sentence=False,
            num_threads=int(tcfg["num_threads"]),
            unk_id=0,
            bos_id=1,
            eos_id=2,
            pad_id=-1,
            hard_vocab_limit=False,
            minloglevel=2,
        )
    except RuntimeError as exc:
        raise TrainError(f"SentencePiece training failed: {str(exc).splitlines()[0]}") from None
    return model.getvalue()
