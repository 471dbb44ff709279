"""JAX adapter: loader batches placed on devices, split along the batch axis, a few batches ahead of the step.

Importable only with JAX installed (`pip install 'massivetext-curation[jax]'`).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

import numpy as np

try:
    import jax
    from jax.sharding import Mesh, NamedSharding, PartitionSpec
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("curation.jax_data needs JAX: pip install 'massivetext-curation[jax]'") from exc


def batch_sharding(devices: Sequence[Any] | None = None) -> NamedSharding:
    """A sharding that splits axis 0 (the batch) across `devices` (default: this host's local devices)."""
    devices = list(devices) if devices is not None else jax.local_devices()
    return NamedSharding(Mesh(np.array(devices), ("batch",)), PartitionSpec("batch"))


def device_batches(
    batches: Iterable[np.ndarray], devices: Sequence[Any] | None = None, ahead: int = 2
) -> Iterator[jax.Array]:
    """Yield each numpy batch as a jax.Array sharded over `devices`; `ahead` transfers are kept in flight."""
    sharding = batch_sharding(devices)
    count = len(sharding.mesh.devices.flat)
    pending: deque[jax.Array] = deque()
    for batch in batches:
        if batch.shape[0] % count:
            raise ValueError(f"batch of {batch.shape[0]} rows cannot be split evenly over {count} devices")
        pending.append(jax.device_put(batch, sharding))
        if len(pending) > ahead:
            yield pending.popleft()
    while pending:
        yield pending.popleft()
