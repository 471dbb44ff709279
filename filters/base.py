"""The shape every filter stage has, so chains and what-if re-decisions treat them alike."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
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


def measure_profiles(text: str, profiles: Sequence[str], by_profile: Mapping[str, Callable[[str], Signals]]) -> Signals:
    """A text's signals under each of `profiles`, each from that profile's own measuring function."""
    out: Signals = {}
    for profile in profiles:
        out.update(by_profile[profile](text))
    return out
