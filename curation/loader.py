"""Training-loop reader: (batch, seq_len + 1) int32 arrays packed from the flat token shards, mixed by source weight.

numpy only (no framework import). How it reads a `curation tokenize` output:

- Each source's flat shards, in manifest order, form one token stream (documents separated by their end token).
  The stream is cut into windows of `seq_len + 1` tokens (packing: a window spans document boundaries); the
  last window of a stream is completed with end tokens, so every token of an epoch is in exactly one window.
- Data-parallel hosts: host `shard_index` of `num_shards` owns a contiguous block of each source's windows;
  the blocks are disjoint and together cover every window.
- Mixture: row r of the host's batch sequence comes from the source whose cumulative-weight interval holds the
  Weyl (golden-ratio) sequence value u_r = frac(u_0 + r / phi), u_0 from the seed. The sequence is equidistributed
  with low discrepancy, so after any n rows each source has its weight's share of them within a few rows.
- Order: within a source, the host's windows are read in a pseudo-random permutation (a keyed Feistel network,
  O(1) memory) that changes every epoch of that source; a source that runs out starts its next epoch.
- Everything is a function of (seed, rows read, rows read per source): `state_dict()` is those counters and
  `load_state_dict()` resumes on exactly the next batch. The token files are memory-mapped.
- Batches are produced ahead of time by one background thread (`prefetch` batches).
"""

from __future__ import annotations

import hashlib
import json
import queue
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from curation.config import load_config
from curation.mixture import Mixture, align_to_sources, resolve_mixture
from curation.tokens import open_bin, read_idx

STATE_VERSION = 1
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)  # 2^64 / phi, odd
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


class LoaderStateError(ValueError):
    """A state_dict that does not belong to this loader's configuration (batch size, corpus, seed, ...)."""


def _key64(*parts: Any) -> int:
    digest = hashlib.blake2b("/".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def feistel_permute(i: np.ndarray, n: int, key: int, rounds: int = 4) -> np.ndarray:
    """A keyed bijection of [0, n) applied to `i` (balanced Feistel network plus cycle walking)."""
    bits = max(2, int(n - 1).bit_length())
    bits += bits % 2
    half = bits // 2
    mask = np.uint64((1 << half) - 1)
    keys = [np.uint64(_key64(key, r)) for r in range(rounds)]
    h = np.uint64(half)

    def once(x: np.ndarray) -> np.ndarray:
        left, right = x >> h, x & mask
        for k in keys:
            f = (right ^ k) * _MIX1
            f = ((f ^ (f >> np.uint64(31))) * _MIX2) >> np.uint64(64 - half)
            left, right = right, left ^ (f & mask)
        return (left << h) | right

    x = once(np.atleast_1d(np.asarray(i, dtype=np.uint64)))
    out_of_range = x >= np.uint64(n)
    while out_of_range.any():
        x[out_of_range] = once(x[out_of_range])
        out_of_range = x >= np.uint64(n)
    return x.astype(np.int64)


@dataclass
class _SourceStream:
    """One source's flat shards as a single token stream, and this host's block of windows in it."""

    name: str
    arrays: list[np.ndarray]
    starts: np.ndarray  # token offset of each shard in the stream (len = shards + 1)
    total: int
    first_window: int
    num_windows: int

    def locate(self, windows: np.ndarray, length: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(shard, offset in shard, fits in that shard) of each window's first token."""
        positions = windows * length
        shard = np.searchsorted(self.starts, positions, side="right") - 1
        offset = positions - self.starts[shard]
        fits = positions + length <= self.starts[shard + 1]
        return shard, offset, fits

    def copy_spanning(self, shard: int, offset: int, length: int, eos: int, row: np.ndarray) -> None:
        """Copy a window that crosses shard ends (or the stream's end, filled with end tokens) into `row`."""
        filled = 0
        while filled < length and shard < len(self.arrays):
            arr = self.arrays[shard]
            take = min(length - filled, len(arr) - offset)
            row[filled : filled + take] = arr[offset : offset + take]
            filled += take
            shard += 1
            offset = 0
        row[filled:] = eos


def read_manifest(tok_dir: str | Path) -> dict[str, Any]:
    """`TOK/manifest.json` of a completed tokenize output (refuses an output without `_SUCCESS`)."""
    tok = Path(tok_dir)
    if not (tok / "_SUCCESS").exists():
        raise FileNotFoundError(f"{tok} is not a complete tokenize output (no _SUCCESS)")
    return json.loads((tok / "manifest.json").read_text("utf-8"))


class TokenLoader:
    """Infinite iterator of (batch_size, seq_len + 1) int32 batches from a `curation tokenize` output."""

    def __init__(
        self,
        tok_dir: str | Path,
        batch_size: int,
        seq_len: int,
        mixture: str | Mapping[str, float] | None = None,
        seed: int = 0,
        shard_index: int = 0,
        num_shards: int = 1,
        prefetch: int = 2,
        renormalize: bool = False,
        config: Mapping[str, Any] | None = None,
    ):
        if batch_size < 1 or seq_len < 1:
            raise ValueError(f"batch_size and seq_len must be >= 1, got {batch_size} and {seq_len}")
        if not 0 <= shard_index < num_shards:
            raise ValueError(f"shard_index must be in [0, {num_shards}), got {shard_index}")
        self.tok_dir = Path(tok_dir)
        self.batch_size, self.seq_len, self.seed = int(batch_size), int(seq_len), int(seed)
        self.shard_index, self.num_shards, self.prefetch = int(shard_index), int(num_shards), max(0, int(prefetch))
        manifest = read_manifest(self.tok_dir)
        self.corpus_id = hashlib.sha256((self.tok_dir / "manifest.json").read_bytes()).hexdigest()
        self.eos_id = int(manifest["tokenizer"]["eos_id"])
        cfg = config if config is not None else load_config()
        self.mixture: Mixture = align_to_sources(
            resolve_mixture(mixture, cfg), [s for s, v in manifest["sources"].items() if v["tokens"] > 0], renormalize
        )
        self.notes = self.mixture.notes
        self.sources = [s for s, w in self.mixture.weights.items() if w > 0]
        weights = np.array([self.mixture.weights[s] for s in self.sources], dtype=np.float64)
        cum = np.cumsum(weights / weights.sum())[:-1]
        self._thresholds = np.array([min(int(c * 2.0**64), 2**64 - 1) for c in cum], dtype=np.uint64)
        self._u0 = np.uint64(_key64("mixture", self.seed))
        self._streams = [self._open_source(manifest, s) for s in self.sources]
        self._arrays = [stream.arrays for stream in self._streams]
        self._keys: dict[tuple[int, int], int] = {}
        # Rows planned at once (a multiple of the batch size); each thread plans into its own chunk.
        self._chunk_rows = self.batch_size * max(1, 8192 // self.batch_size)
        self._chunk: dict[str, Any] | None = None
        self._state = {"rows": 0, "consumed": dict.fromkeys(self.sources, 0)}
        self._delivered = self._copy_state(self._state)
        self._queue: queue.Queue | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()

    # ---- layout ---------------------------------------------------------------------------------------

    def _open_source(self, manifest: Mapping[str, Any], source: str) -> _SourceStream:
        entries = sorted(
            (e for e in manifest["shards"] if e.get("kind") == "bin" and e.get("source") == source),
            key=lambda e: e["path"],
        )
        arrays, starts = [], [0]
        for e in entries:
            bin_path = self.tok_dir / e["path"]
            index = read_idx(str(bin_path.with_suffix(".idx")))
            if index.num_tokens == 0:
                continue
            arrays.append(open_bin(str(bin_path), index).view(np.ndarray))
            starts.append(starts[-1] + index.num_tokens)
        total = starts[-1]
        length = self.seq_len + 1
        windows = -(-total // length)
        first = windows * self.shard_index // self.num_shards
        last = windows * (self.shard_index + 1) // self.num_shards
        if last <= first:
            raise ValueError(
                f"source {source!r} has {total} tokens = {windows} windows of {length}: too few for host "
                f"{self.shard_index} of {self.num_shards} (use a smaller seq_len or fewer hosts)"
            )
        return _SourceStream(source, arrays, np.array(starts, dtype=np.int64), total, first, last - first)

    def rows_per_epoch(self, source: str) -> int:
        """Rows of `source` this host reads before that source starts its next epoch."""
        return self._streams[self.sources.index(source)].num_windows

    # ---- batches ---------------------------------------------------------------------------------------

    def _plan(self, state: Mapping[str, Any], rows: int) -> dict[str, Any]:
        """Where the next `rows` rows come from: source, shard, offset per row (vectorised, done in chunks)."""
        length = self.seq_len + 1
        r = np.arange(state["rows"], state["rows"] + rows, dtype=np.uint64)
        # uint64 array arithmetic wraps modulo 2^64 (the Weyl sequence), silently for arrays.
        which = np.searchsorted(self._thresholds, self._u0 + r * _GOLDEN, side="right")
        shard = np.empty(rows, dtype=np.int64)
        offset = np.empty(rows, dtype=np.int64)
        fits = np.empty(rows, dtype=bool)
        consumed = dict(state["consumed"])
        for k, stream in enumerate(self._streams):
            picked = np.flatnonzero(which == k)
            if not len(picked):
                continue
            idx = consumed[stream.name] + np.arange(len(picked), dtype=np.int64)
            epoch, within = np.divmod(idx, stream.num_windows)
            windows = np.empty(len(picked), dtype=np.int64)
            for e in np.unique(epoch).tolist():
                sel = epoch == e
                windows[sel] = stream.first_window + feistel_permute(within[sel], stream.num_windows, self._key(k, e))
            shard[picked], offset[picked], fits[picked] = stream.locate(windows, length)
            consumed[stream.name] += len(picked)
        return {
            "start": int(state["rows"]),
            "source": which.tolist(),
            "shard": shard.tolist(),
            "offset": offset.tolist(),
            "fits": fits.tolist(),
            "which": which,
        }

    def _key(self, k: int, epoch: int) -> int:
        key = self._keys.get((k, epoch))
        if key is None:
            key = self._keys[(k, epoch)] = _key64(self.seed, self.sources[k], epoch, "windows")
        return key

    def _make_batch(self, state: dict[str, Any]) -> np.ndarray:
        """The batch following `state`, advancing `state` in place."""
        b, length = self.batch_size, self.seq_len + 1
        plan = self._chunk
        if plan is None or not plan["start"] <= state["rows"] < plan["start"] + len(plan["source"]):
            plan = self._chunk = self._plan(state, self._chunk_rows)
        lo = state["rows"] - plan["start"]
        out = np.empty((b, length), dtype=np.int32)
        arrays, streams = self._arrays, self._streams
        for row, k, sh, off, fit in zip(
            range(b),
            plan["source"][lo : lo + b],
            plan["shard"][lo : lo + b],
            plan["offset"][lo : lo + b],
            plan["fits"][lo : lo + b],
            strict=True,
        ):
            if fit:
                out[row] = arrays[k][sh][off : off + length]
            else:
                streams[k].copy_spanning(sh, off, length, self.eos_id, out[row])
        counts = np.bincount(plan["which"][lo : lo + b], minlength=len(streams))
        for k, stream in enumerate(streams):
            state["consumed"][stream.name] += int(counts[k])
        state["rows"] += b
        return out

    @staticmethod
    def _copy_state(state: Mapping[str, Any]) -> dict[str, Any]:
        return {"rows": int(state["rows"]), "consumed": dict(state["consumed"])}

    def _produce(self, state: dict[str, Any], q: queue.Queue, stop: threading.Event) -> None:
        try:
            while not stop.is_set():
                batch = self._make_batch(state)
                item = (batch, self._copy_state(state))
                while not stop.is_set():
                    try:
                        q.put(item, timeout=0.1)
                        break
                    except queue.Full:
                        continue
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, raised there
            q.put((exc, None))

    def __iter__(self) -> Iterator[np.ndarray]:
        return self

    def __next__(self) -> np.ndarray:
        if self.prefetch == 0:
            state = self._copy_state(self._delivered)
            batch = self._make_batch(state)
            self._delivered = state
            return batch
        if self._thread is None:
            self._start()
        assert self._queue is not None
        batch, state = self._queue.get()
        if state is None:
            raise batch
        self._delivered = state
        return batch

    def _start(self) -> None:
        self._stop = threading.Event()
        self._queue = queue.Queue(maxsize=self.prefetch)
        self._thread = threading.Thread(
            target=self._produce,
            args=(self._copy_state(self._delivered), self._queue, self._stop),
            name="curation-loader-prefetch",
            daemon=True,
        )
        self._thread.start()

    def close(self) -> None:
        """Stop the prefetch thread (the loader can be iterated again afterwards)."""
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
        self._thread = None
        self._queue = None

    def __enter__(self) -> TokenLoader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- resume ----------------------------------------------------------------------------------------

    def _identity(self) -> dict[str, Any]:
        return {
            "batch_size": self.batch_size,
            "seq_len": self.seq_len,
            "seed": self.seed,
            "shard_index": self.shard_index,
            "num_shards": self.num_shards,
            "weights": {s: self.mixture.weights[s] for s in self.sources},
            "corpus": self.corpus_id,
        }

    def state_dict(self) -> dict[str, Any]:
        """Where the consumer is: resuming from it yields exactly the batches that would have come next."""
        return {"version": STATE_VERSION, **self._identity(), **self._copy_state(self._delivered)}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Continue from a `state_dict()`; refuses a state taken with another batch size, corpus or setting."""
        if state.get("version") != STATE_VERSION:
            raise LoaderStateError(f"loader state version {state.get('version')!r}, expected {STATE_VERSION}")
        mine = self._identity()
        if state.get("batch_size") != mine["batch_size"]:
            raise LoaderStateError(
                f"loader state was taken with batch_size={state.get('batch_size')}, this loader has "
                f"batch_size={mine['batch_size']}: resuming with another batch size would not continue the same "
                "sequence of batches; keep the batch size (or start a fresh loader without the state)"
            )
        for key, value in mine.items():
            if key != "weights" and state.get(key) != value:
                raise LoaderStateError(f"loader state has {key}={state.get(key)!r}, this loader has {key}={value!r}")
        weights = state.get("weights") or {}
        if set(weights) != set(mine["weights"]) or any(abs(weights[s] - w) > 1e-12 for s, w in mine["weights"].items()):
            raise LoaderStateError(f"loader state has mixture {weights}, this loader has {mine['weights']}")
        self.close()
        self._delivered = self._copy_state(state)
