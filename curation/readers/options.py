"""Reader limits (`readers` section of default.yaml) merged with a caller's overrides."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from curation.config import deep_merge, default_config


@lru_cache(maxsize=1)
def _defaults() -> dict[str, Any]:
    """The packaged `readers` section, read once per process."""
    return default_config().get("readers") or {}


def reader_options(options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Effective reader options: packaged defaults deep-merged with `options` (e.g. `cfg["readers"]`)."""
    if not options:
        return _defaults()
    return deep_merge(_defaults(), options)
