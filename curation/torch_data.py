"""PyTorch adapter: an IterableDataset over the loader, for `DataLoader(dataset, batch_size=None)`.

Importable only with PyTorch installed (`pip install 'massivetext-curation[torch]'`). Batches are already
packed (batch, seq_len + 1) int32 tensors, so the DataLoader must not batch again (`batch_size=None`). With
DataLoader worker processes, each worker reads its own disjoint share (shard_index * workers + worker id).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

try:
    import torch
    from torch.utils.data import IterableDataset, get_worker_info
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("curation.torch_data needs PyTorch: pip install 'massivetext-curation[torch]'") from exc

from curation.loader import TokenLoader


class TokenDataset(IterableDataset):
    """Infinite stream of (batch, seq_len + 1) int32 tensors from a `curation tokenize` output."""

    def __init__(
        self,
        tok_dir: str | Path,
        batch_size: int,
        seq_len: int,
        shard_index: int = 0,
        num_shards: int = 1,
        **kwargs: Any,
    ):
        super().__init__()
        self.tok_dir, self.batch_size, self.seq_len = tok_dir, batch_size, seq_len
        self.shard_index, self.num_shards, self.kwargs = shard_index, num_shards, kwargs
        self._state: Mapping[str, Any] | None = None
        self._loader: TokenLoader | None = None

    def _make_loader(self) -> TokenLoader:
        info = get_worker_info()
        index, shards = self.shard_index, self.num_shards
        if info is not None and info.num_workers > 1:
            index, shards = index * info.num_workers + info.id, shards * info.num_workers
        loader = TokenLoader(
            self.tok_dir, self.batch_size, self.seq_len, shard_index=index, num_shards=shards, **self.kwargs
        )
        if self._state is not None:
            loader.load_state_dict(self._state)
        return loader

    def __iter__(self) -> Iterator[torch.Tensor]:
        self._loader = self._make_loader()
        for batch in self._loader:
            yield torch.from_numpy(batch)

    def state_dict(self) -> dict[str, Any]:
        """The in-process loader's position (DataLoader with num_workers=0)."""
        if self._loader is None:
            raise RuntimeError("state_dict() before iteration started")
        return self._loader.state_dict()

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Resume the next iteration from `state`."""
        self._state = dict(state)
