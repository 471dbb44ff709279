"""What one `--input SOURCE[:FORMAT]=GLOB` names."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class InputSpec:
    """One `--input SOURCE[:FORMAT]=GLOB`."""

    source: str
    glob: str
    format: str | None = None
