"""The training-loop reader on flat shards whose tokens are their own positions (so coverage is checkable)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from curation.loader import LoaderStateError, TokenLoader, feistel_permute
from curation.mixture import MixtureError
from curation.tokens import flat_bytes, token_dtype

EOS = 0


def position_corpus(root: Path, docs_per_source: dict[str, list[int]], shards: int = 2) -> dict[str, np.ndarray]:
    """A tokenize-style output whose every token is unique (its global position + 1; EOS = 0).

    Returns each source's expected stream (documents with their end tokens, in shard order).
    """
    vocab = 10_000_000  # int32 flat files, so positions do not wrap
    entries, sources, streams = [], {}, {}
    next_token = 1
    for source, lengths in docs_per_source.items():
        per = -(-len(lengths) // shards)
        parts = []
        for k in range(shards):
            docs = []
            for n in lengths[k * per : (k + 1) * per]:
                docs.append(np.arange(next_token, next_token + n, dtype=np.int64))
                next_token += n
            binary, idx = flat_bytes(docs, EOS, token_dtype(vocab))
            rel = f"flat/{source}/part-{k:05d}-of-{shards:05d}"
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            (root / f"{rel}.bin").write_bytes(binary)
            (root / f"{rel}.idx").write_bytes(idx)
            entries.append({"path": f"{rel}.bin", "kind": "bin", "source": source, "rows": len(docs)})
            parts.append(np.frombuffer(binary, dtype=np.int32))
        streams[source] = np.concatenate(parts)
        sources[source] = {"tokens": int(len(streams[source])), "documents": len(lengths)}
    manifest = {"shards": entries, "sources": sources, "tokenizer": {"eos_id": EOS, "vocab_size": vocab}}
    (root / "manifest.json").write_text(json.dumps(manifest))
    (root / "_SUCCESS").touch()
    return streams


@pytest.fixture
def corpus(tmp_path):
    rng = np.random.default_rng(0)
    lengths = {s: rng.integers(1, 400, size=n).tolist() for s, n in (("web", 300), ("books", 40), ("code", 120))}
    return tmp_path, position_corpus(tmp_path, lengths)


def take(loader: TokenLoader, n: int) -> list[np.ndarray]:
    return [next(loader) for _ in range(n)]


def test_batches_are_int32_windows_of_the_streams(corpus):
    root, streams = corpus
    with TokenLoader(root, batch_size=4, seq_len=31, mixture={"web": 1.0}, prefetch=0) as loader:
        batch = next(loader)
    assert batch.shape == (4, 32) and batch.dtype == np.int32
    web = streams["web"]
    for row in batch:
        start = np.flatnonzero(web == row[0])
        if row[0] != EOS:
            assert len(start) == 1 and (web[start[0] : start[0] + 32] == row).all()  # packed across documents


@pytest.mark.parametrize("num_shards", [1, 2, 3])
def test_hosts_are_disjoint_and_cover_every_token_of_an_epoch(corpus, num_shards):
    root, streams = corpus
    for source in ("web", "books"):
        seen = []
        for host in range(num_shards):
            loader = TokenLoader(root, 5, 63, {source: 1.0}, seed=3, shard_index=host, num_shards=num_shards)
            rows = loader.rows_per_epoch(source)
            batches = np.concatenate(take(loader, -(-rows // 5)))[:rows]
            loader.close()
            seen.append(batches[batches != EOS])
        tokens = [set(s.tolist()) for s in seen]
        for i in range(num_shards):
            assert len(tokens[i]) == len(seen[i])  # no token twice within a host's epoch
            for j in range(i + 1, num_shards):
                assert not tokens[i] & tokens[j]
        expected = set(streams[source][streams[source] != EOS].tolist())
        assert set().union(*tokens) == expected


def test_next_epoch_reads_every_window_again_in_another_order(corpus):
    root, streams = corpus
    loader = TokenLoader(root, 1, 63, {"books": 1.0}, prefetch=0)
    n = loader.rows_per_epoch("books")
    first = [tuple(b[0]) for b in take(loader, n)]
    second = [tuple(b[0]) for b in take(loader, n)]
    assert sorted(first) == sorted(second) and first != second


def test_same_seed_same_batches_other_seed_other_batches(corpus):
    root, _ = corpus
    a = take(TokenLoader(root, 8, 31, {"web": 0.5, "books": 0.3, "code": 0.2}, seed=11), 20)
    b = take(TokenLoader(root, 8, 31, {"web": 0.5, "books": 0.3, "code": 0.2}, seed=11, prefetch=0), 20)
    c = take(TokenLoader(root, 8, 31, {"web": 0.5, "books": 0.3, "code": 0.2}, seed=12), 20)
    assert all((x == y).all() for x, y in zip(a, b, strict=True))
    assert not all((x == z).all() for x, z in zip(a, c, strict=True))


@pytest.mark.parametrize("prefetch", [0, 3])
def test_resume_after_n_batches_equals_the_uninterrupted_run(corpus, prefetch):
    root, _ = corpus
    mix = {"web": 0.5, "books": 0.3, "code": 0.2}
    uninterrupted = take(TokenLoader(root, 6, 47, mix, seed=5, prefetch=prefetch), 120)
    first = TokenLoader(root, 6, 47, mix, seed=5, prefetch=prefetch)
    head = take(first, 70)
    state = json.loads(json.dumps(first.state_dict()))  # survives a checkpoint file
    first.close()
    resumed = TokenLoader(root, 6, 47, mix, seed=5, prefetch=prefetch)
    resumed.load_state_dict(state)
    tail = take(resumed, 50)
    assert all((x == y).all() for x, y in zip(uninterrupted, head + tail, strict=True))
    # The same loader can also be rewound to a saved state.
    again = take(resumed, 3)
    resumed.load_state_dict(state)
    assert all((x == y).all() for x, y in zip(take(resumed, 3), tail[:3], strict=True))
    assert not all((x == y).all() for x, y in zip(again, tail[:3], strict=True))


def test_changed_batch_size_or_setting_is_refused_with_a_clear_error(corpus):
    root, _ = corpus
    loader = TokenLoader(root, 6, 47, {"web": 1.0})
    take(loader, 3)
    state = loader.state_dict()
    loader.close()
    with pytest.raises(LoaderStateError, match="batch_size=6.*batch_size=8"):
        TokenLoader(root, 8, 47, {"web": 1.0}).load_state_dict(state)
    with pytest.raises(LoaderStateError, match="seq_len"):
        TokenLoader(root, 6, 63, {"web": 1.0}).load_state_dict(state)
    with pytest.raises(LoaderStateError, match="mixture"):
        TokenLoader(root, 6, 47, {"web": 0.5, "code": 0.5}).load_state_dict(state)


def test_realised_mixture_tracks_the_weights(corpus):
    root, _ = corpus
    weights = {"web": 0.62, "books": 0.27, "code": 0.11}
    loader = TokenLoader(root, 16, 127, weights, seed=2)
    counts = dict.fromkeys(weights, 0)
    for _ in range(500):  # 1,024,000 tokens
        next(loader)
    consumed = loader.state_dict()["consumed"]
    loader.close()
    total = sum(consumed.values())
    for s, w in weights.items():
        counts[s] = consumed[s] / total
        assert abs(counts[s] - w) < 0.01


def test_mixture_mismatch_is_an_error_or_a_note_never_silent(corpus):
    root, _ = corpus
    with pytest.raises(MixtureError, match="news"):
        TokenLoader(root, 2, 15, {"web": 0.9, "news": 0.1})
    loader = TokenLoader(root, 2, 15, {"web": 0.9, "news": 0.1}, renormalize=True)
    assert loader.mixture.weights == {"web": 1.0}
    assert any("news" in n and "scaled" in n for n in loader.notes)
    assert any("books" in n and "not sampled" in n for n in loader.notes)


def test_refuses_incomplete_output_and_too_many_hosts(corpus):
    root, _ = corpus
    with pytest.raises(ValueError, match="too few"):
        TokenLoader(root, 2, 4000, {"books": 1.0}, shard_index=0, num_shards=64)
    (root / "_SUCCESS").unlink()
    with pytest.raises(FileNotFoundError, match="_SUCCESS"):
        TokenLoader(root, 2, 15, {"web": 1.0})


def test_token_files_are_memory_mapped(corpus):
    root, _ = corpus
    loader = TokenLoader(root, 2, 15, {"web": 1.0})
    arrays = loader._streams[0].arrays
    assert arrays and all(isinstance(a.base, np.memmap) or isinstance(a, np.memmap) for a in arrays)


@pytest.mark.parametrize("n", [1, 2, 3, 5, 17, 64, 1000, 4099])
def test_feistel_permutation_is_a_bijection(n):
    out = feistel_permute(np.arange(n), n, key=123)
    assert sorted(out.tolist()) == list(range(n))
