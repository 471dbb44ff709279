"""The decontamination index: build it from eval items, save and load it (`.npz`, no pickle), check it fits a config.

For every evaluation item it holds the 64-bit hashes of its word n-grams (13 by default) as one sorted
`uint64` array with a parallel `int32` item array: 12 bytes per (n-gram, item) pair, so 10 million eval
n-grams take 120 MB. Optional tables: one-word-masked n-grams (`fuzzy: masked`, n+1 hashes per n-gram),
seeds with the items' word hashes (`fuzzy: seeds`, about 24 bytes per eval word), whole short items, and
protected Wikipedia titles.
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, BinaryIO

import numpy as np

from curation.config_schema import check_section
from curation.decontam.hashing import EMPTY, masked_ngram_hashes, ngram_hashes, normalize_title, word_string_hashes
from curation.decontam.match import LookupTable
from curation.decontam.seeds import item_seeds, sorted_seeds
from curation.ngrams import ngram_word_string

FORMAT_VERSION = 2


class IndexFormatError(ValueError):
    """An index file that cannot be used with the given configuration."""


def _no_items() -> np.ndarray:
    """An empty int32 item array."""
    return np.zeros(0, dtype=np.int32)


@dataclass
class EvalItem:
    """One evaluation item: the text to protect, cut into segments no n-gram may cross."""

    benchmark: str
    item_id: str
    segments: list[str]


@dataclass
class DecontamIndex:
    """Sorted n-gram hashes of all eval items plus per-item metadata and protected Wikipedia titles."""

    n: int
    hashes: np.ndarray  # uint64, sorted
    items: np.ndarray  # int32, item of each hash
    item_ngrams: np.ndarray  # int32, distinct n-grams per item (before frequency pruning)
    item_benchmark: np.ndarray  # int16 into `benchmarks`
    item_ids: np.ndarray  # str
    benchmarks: list[str]
    fuzzy_hashes: np.ndarray = field(default_factory=lambda: EMPTY)
    fuzzy_items: np.ndarray = field(default_factory=_no_items)
    seed_hashes: np.ndarray = field(default_factory=lambda: EMPTY)  # fuzzy=seeds: item s-grams, sorted
    seed_items: np.ndarray = field(default_factory=_no_items)
    seed_pos: np.ndarray = field(default_factory=_no_items)  # into item_words
    item_words: np.ndarray = field(default_factory=lambda: EMPTY)  # fuzzy=seeds: word hashes, 0 = gap
    item_word_start: np.ndarray = field(default_factory=lambda: np.zeros(1, dtype=np.int64))  # per item, + end
    short_hashes: np.ndarray = field(default_factory=lambda: EMPTY)  # whole short items, sorted
    short_items: np.ndarray = field(default_factory=_no_items)
    short_lengths: np.ndarray = field(default_factory=_no_items)  # words
    titles: dict[str, str] = field(default_factory=dict)  # normalised title -> benchmark
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def fuzzy(self) -> bool:
        """Whether one-word-masked n-grams were indexed."""
        return len(self.fuzzy_hashes) > 0

    @property
    def seeds(self) -> bool:
        """Whether seed s-grams were indexed (fuzzy=seeds)."""
        return len(self.seed_hashes) > 0

    @property
    def nbytes(self) -> int:
        """Memory of the lookup arrays."""
        arrays = (
            *(self.hashes, self.items, self.fuzzy_hashes, self.fuzzy_items, self.short_hashes, self.short_items),
            *(self.seed_hashes, self.seed_items, self.seed_pos, self.item_words, self.item_word_start),
        )
        return sum(a.nbytes for a in arrays)

    # Lookup structures, built on first use (an index built only to be saved never needs them).

    @cached_property
    def exact_table(self) -> LookupTable:
        """The exact n-gram table."""
        return LookupTable(self.hashes, self.items)

    @cached_property
    def fuzzy_table(self) -> LookupTable:
        """The one-word-masked n-gram table (fuzzy=masked)."""
        return LookupTable(self.fuzzy_hashes, self.fuzzy_items)

    @cached_property
    def seed_table(self) -> LookupTable:
        """The seed s-gram table (fuzzy=seeds)."""
        return LookupTable(self.seed_hashes, self.seed_items)

    @cached_property
    def short_table(self) -> LookupTable:
        """Whole short items, each one k-gram."""
        return LookupTable(self.short_hashes, self.short_items)

    @cached_property
    def short_length_of(self) -> np.ndarray:
        """Word length per item of the short items (0 for the others)."""
        lengths = np.zeros(len(self.item_ids), dtype=np.int64)
        lengths[self.short_items] = self.short_lengths
        return lengths

    @cached_property
    def short_sizes(self) -> list[int]:
        """The distinct word lengths of the short items (the k-grams a document is looked up with)."""
        return np.unique(self.short_lengths).tolist()


def _item_hashes(item: EvalItem, n: int, fuzzy: bool, min_words: int) -> tuple[np.ndarray, np.ndarray, list]:
    """Distinct exact and (if fuzzy) masked n-gram hashes of one item, and (k, hash) of whole short segments.

    An item with no n-word stretch is indexed by its segments of `min_words` <= k < n words as
    single k-grams (GPT-3 App. C lowers n to 8 for short benchmarks in the same spirit).
    """
    exact, masked, short = [], [], []
    for segment in item.segments:
        wh = word_string_hashes(ngram_word_string(segment))
        exact.append(ngram_hashes(wh, n))
        if fuzzy:
            masked.append(masked_ngram_hashes(wh, n).ravel())
        if min_words <= len(wh) < n:
            short.append((len(wh), ngram_hashes(wh, len(wh))[0]))
    ex = np.unique(np.concatenate(exact)) if exact else EMPTY
    mk = np.unique(np.concatenate(masked)) if masked else EMPTY
    return ex, mk, (short if not len(ex) else [])


def fuzzy_kind(value: Any) -> str:
    """Normalise the `fuzzy` setting: false/off, true/masked, seeds."""
    if value in (False, None, "off", "false"):
        return "off"
    if value in (True, "masked", "true"):
        return "masked"
    if value == "seeds":
        return "seeds"
    raise ValueError(f"decontaminate.fuzzy must be false, true/masked or seeds, got {value!r}")


def _sorted_pairs(
    hash_parts: list[np.ndarray], item_parts: list[np.ndarray], max_items: int
) -> tuple[np.ndarray, np.ndarray, int]:
    """Concatenate (hash, item) pairs, sort by hash then item, drop hashes shared by > max_items items."""
    if not hash_parts:
        return EMPTY, _no_items(), 0
    hashes = np.concatenate(hash_parts)
    items = np.concatenate(item_parts).astype(np.int32)
    order = np.lexsort((items, hashes))
    hashes, items = hashes[order], items[order]
    dropped = 0
    if max_items > 0 and len(hashes):
        _, counts = np.unique(hashes, return_counts=True)
        frequent = counts > max_items
        if frequent.any():
            keep = ~np.repeat(frequent, counts)
            dropped = int(frequent.sum())
            hashes, items = hashes[keep], items[keep]
    return hashes, items, dropped


def build_index(
    items: Iterable[EvalItem], section: Mapping[str, Any], titles: Mapping[str, str] | None = None
) -> DecontamIndex:
    """Build the index from eval items with the `decontaminate` config section (n, fuzzy, pruning)."""
    started = time.perf_counter()
    validate_section(section)
    n = int(section["ngram"])
    fuzzy_mode = fuzzy_kind(section["fuzzy"])
    fuzzy = fuzzy_mode == "masked"
    seed_words = int(section["fuzzy_seed_words"])
    max_items = int(section["max_items_per_ngram"])
    min_words = int(section["min_item_words"])
    bench_names: list[str] = []
    bench_pos: dict[str, int] = {}
    ex_h: list[np.ndarray] = []
    ex_i: list[np.ndarray] = []
    mk_h: list[np.ndarray] = []
    mk_i: list[np.ndarray] = []
    sd_h: list[np.ndarray] = []
    sd_i: list[np.ndarray] = []
    sd_p: list[np.ndarray] = []
    sd_words: list[np.ndarray] = []
    word_base, word_start = 0, [0]
    item_ngrams: list[int] = []
    item_bench: list[int] = []
    item_ids: list[str] = []
    short: dict[str, int] = {}
    short_rows: list[tuple[int, int, int]] = []  # (hash, item, length)
    for idx, item in enumerate(items):
        if item.benchmark not in bench_pos:
            bench_pos[item.benchmark] = len(bench_names)
            bench_names.append(item.benchmark)
        ex, mk, short_segments = _item_hashes(item, n, fuzzy, min_words)
        if fuzzy_mode == "seeds":
            sh, sp, words = item_seeds(item.segments, seed_words, word_base)
            sd_h.append(sh)
            sd_p.append(sp)
            sd_i.append(np.full(len(sh), idx, dtype=np.int32))
            sd_words.append(words)
            word_base += len(words)
            word_start.append(word_base)
        short_rows.extend((int(h), idx, k) for k, h in short_segments)
        if not len(ex) and not short_segments:
            short[item.benchmark] = short.get(item.benchmark, 0) + 1
        ex_h.append(ex)
        ex_i.append(np.full(len(ex), idx, dtype=np.int32))
        if fuzzy:
            mk_h.append(mk)
            mk_i.append(np.full(len(mk), idx, dtype=np.int32))
        item_ngrams.append(len(ex))
        item_bench.append(bench_pos[item.benchmark])
        item_ids.append(item.item_id)
    hashes, item_of, dropped = _sorted_pairs(ex_h, ex_i, max_items)
    fz_hashes, fz_items, fz_dropped = _sorted_pairs(mk_h, mk_i, max_items) if fuzzy else (EMPTY, _no_items(), 0)
    seeds = sorted_seeds(sd_h, sd_i, sd_p, int(section["fuzzy_max_items_per_seed"]))
    short_rows.sort()
    short_arr = np.array(short_rows, dtype=np.uint64).reshape(-1, 3)
    per_bench = {b: int(np.sum(np.array(item_bench) == i)) for i, b in enumerate(bench_names)}
    meta = {
        "format_version": FORMAT_VERSION,
        "ngram": n,
        "fuzzy": fuzzy_mode,
        "fuzzy_seed_words": seed_words,
        "seeds": int(len(seeds[0])),
        "max_items_per_ngram": max_items,
        "items": len(item_ids),
        "items_per_benchmark": per_bench,
        "min_item_words": min_words,
        "items_unmatchable": short,
        "items_short": len({i for _, i, _ in short_rows}),
        "ngrams": int(len(hashes)),
        "frequent_ngrams_dropped": dropped + fz_dropped,
        "build_seconds": round(time.perf_counter() - started, 3),
    }
    return DecontamIndex(
        n=n,
        hashes=hashes,
        items=item_of,
        item_ngrams=np.asarray(item_ngrams, dtype=np.int32),
        item_benchmark=np.asarray(item_bench, dtype=np.int16),
        item_ids=np.asarray(item_ids, dtype=str),
        benchmarks=bench_names,
        fuzzy_hashes=fz_hashes,
        fuzzy_items=fz_items,
        seed_hashes=seeds[0],
        seed_items=seeds[1],
        seed_pos=seeds[2],
        item_words=np.concatenate(sd_words) if sd_words else EMPTY,
        item_word_start=np.asarray(word_start, dtype=np.int64),
        short_hashes=short_arr[:, 0].copy(),
        short_items=short_arr[:, 1].astype(np.int32),
        short_lengths=short_arr[:, 2].astype(np.int32),
        titles={normalize_title(t): b for t, b in (titles or {}).items() if normalize_title(t)},
        meta=meta,
    )


_FIELD_ARRAYS = (  # stored as they are on the dataclass
    *("hashes", "items", "item_ngrams", "item_benchmark", "item_ids", "fuzzy_hashes", "fuzzy_items"),
    *("seed_hashes", "seed_items", "seed_pos", "item_words", "item_word_start"),
    *("short_hashes", "short_items", "short_lengths"),
)
INDEX_ARRAYS = (*_FIELD_ARRAYS, "title_keys", "title_benchmarks", "meta")


def save_index(index: DecontamIndex, stream: BinaryIO) -> None:
    """Write the index as one uncompressed `.npz` (no pickle) to a binary stream."""
    titles = sorted(index.titles.items())
    meta = dict(index.meta, benchmarks=index.benchmarks)
    arrays = {name: getattr(index, name) for name in _FIELD_ARRAYS}
    if not len(index.item_ids):
        arrays["item_ids"] = np.zeros(0, dtype="<U1")
    np.savez(
        stream,
        **arrays,
        title_keys=np.asarray([t for t, _ in titles] or [""][:0], dtype=str),
        title_benchmarks=np.asarray([b for _, b in titles] or [""][:0], dtype=str),
        meta=np.asarray(json.dumps(meta, sort_keys=True)),
    )


def read_index_meta(stream: BinaryIO) -> dict[str, Any]:
    """An index file's metadata (format version, n-gram size, counts), read without loading its arrays.

    Cheap on any size of index: the `.npz` is a zip, so only its directory and the small `meta` member are read.
    """
    try:
        if not stream.seekable():
            stream = io.BytesIO(stream.read())
        with zipfile.ZipFile(stream) as archive:
            arrays = {name.removesuffix(".npy") for name in archive.namelist()}
            missing = [name for name in INDEX_ARRAYS if name not in arrays]
            if missing:
                raise IndexFormatError(f"not a decontamination index: no {missing[0]!r} array")
            with archive.open("meta.npy") as fh:
                meta = json.loads(str(np.lib.format.read_array(fh, allow_pickle=False)))
    except IndexFormatError:
        raise
    except (zipfile.BadZipFile, ValueError, KeyError, OSError, EOFError) as exc:
        raise IndexFormatError(f"not a decontamination index: {exc}") from None
    if not isinstance(meta, dict) or meta.get("format_version") != FORMAT_VERSION:
        version = meta.get("format_version") if isinstance(meta, dict) else None
        raise IndexFormatError(f"index format {version} != {FORMAT_VERSION}; rebuild it with this version")
    return meta


def load_index(stream: BinaryIO | bytes) -> DecontamIndex:
    """Read an index written by `save_index` (from bytes or a binary stream)."""
    data = stream if isinstance(stream, bytes | bytearray) else stream.read()
    try:
        npz = np.load(io.BytesIO(data), allow_pickle=False)
        meta = json.loads(str(npz["meta"]))
        if meta.get("format_version") != FORMAT_VERSION:
            raise IndexFormatError(f"index format {meta.get('format_version')} != {FORMAT_VERSION}")
        return DecontamIndex(
            n=int(meta["ngram"]),
            benchmarks=list(meta.pop("benchmarks")),
            titles=dict(zip(npz["title_keys"].tolist(), npz["title_benchmarks"].tolist(), strict=True)),
            meta=meta,
            **{name: npz[name] for name in _FIELD_ARRAYS},
        )
    except (ValueError, KeyError, OSError) as exc:
        if isinstance(exc, IndexFormatError):
            raise
        raise IndexFormatError(f"not a decontamination index: {exc}") from None


def validate_section(section: Mapping[str, Any]) -> None:
    """Reject an incomplete section, misspelt values and out-of-range sizes before any document is read."""
    check_section("decontaminate", section)


def check_compatible(index: DecontamIndex, section: Mapping[str, Any]) -> None:
    """Fail early on a bad section or when the run config asks for an n the index was not built with."""
    check_index_meta({"ngram": index.n}, section)


def check_index_meta(meta: Mapping[str, Any], section: Mapping[str, Any]) -> None:
    """`check_compatible` for an index known only by its metadata (`read_index_meta`), before any run."""
    validate_section(section)
    n = int(section["ngram"])
    if n != int(meta["ngram"]):
        raise IndexFormatError(
            f"decontaminate.ngram={n} but the index was built with ngram={meta['ngram']}; rebuild it"
        )
