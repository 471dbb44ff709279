"""The shape every filter stage has, so chains and what-if re-decisions treat them alike."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from curation.schema import Document

Signals = dict[str, float]
Section = Mapping[str, Any]


@dataclass(frozen=True)
class FilterStage:
    """A named stage: `compute` measures a document, `decide` turns measurements into a reason."""

    name: str
    signal_names: tuple[str, ...]
    compute: Callable[[Document, Section], Signals]
    decide: Callable[[Document, Section], str | None]
    prepare: Callable[[Section], None] | None = None
    # For stages measured under both reading profiles: the signal names produced under the given profiles
    # (the stage's compute section then carries `profiles`, see `curation.profiles.computed_profiles`).
    signals_for: Callable[[tuple[str, ...]], tuple[str, ...]] | None = None
