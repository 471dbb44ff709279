"""Source mixtures: named presets from the config, a YAML file or a mapping, checked against a corpus's sources.

A mixture maps source labels (`web`, `books`, ...) to sampling weights that sum to 1. A mismatch between the
mixture and the sources a corpus holds is never fixed silently: a source the mixture weights but the corpus
lacks is an error (or, when asked for explicitly, a renormalisation reported as a note); a source the corpus
holds but the mixture leaves out is a note (it is not sampled).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

WEIGHT_TOLERANCE = 1e-6


class MixtureError(ValueError):
    """A mixture that cannot be used as given (unknown preset, bad weights, sources the corpus lacks)."""


@dataclass(frozen=True)
class Mixture:
    """Normalised source weights plus the notes a user must see about how they were obtained."""

    name: str
    weights: dict[str, float]
    notes: list[str] = field(default_factory=list)


def presets(cfg: Mapping[str, Any]) -> dict[str, dict[str, float]]:
    """The named mixtures of the config's `mixture.presets`."""
    return {name: dict(w) for name, w in cfg["mixture"]["presets"].items()}


def _check_weights(name: str, weights: Mapping[str, Any]) -> dict[str, float]:
    if not isinstance(weights, Mapping) or not weights:
        raise MixtureError(f"mixture {name!r} must be a non-empty mapping source -> weight")
    out: dict[str, float] = {}
    for source, w in weights.items():
        try:
            value = float(w)
        except (TypeError, ValueError):
            raise MixtureError(f"mixture {name!r}: weight of {source!r} is not a number: {w!r}") from None
        if value < 0 or value != value:
            raise MixtureError(f"mixture {name!r}: weight of {source!r} must be >= 0, got {w!r}")
        out[str(source)] = value
    total = sum(out.values())
    if total <= 0:
        raise MixtureError(f"mixture {name!r}: weights sum to 0")
    if abs(total - 1.0) > 1e-3:
        raise MixtureError(
            f"mixture {name!r}: weights sum to {total:g}, not 1 (give shares that add up to 1, e.g. 0.48 for 48%)"
        )
    return {s: w / total for s, w in sorted(out.items())}


def resolve_mixture(spec: str | Mapping[str, Any] | None, cfg: Mapping[str, Any]) -> Mixture:
    """A preset name, a YAML file (`{source: weight}` or `{mixture: {...}}`), or a mapping -> Mixture.

    `None` selects the config's `mixture.default` preset.
    """
    if spec is None:
        spec = cfg["mixture"]["default"]
    if isinstance(spec, Mapping):
        return Mixture("custom", _check_weights("custom", spec))
    named = presets(cfg)
    if spec in named:
        return Mixture(spec, _check_weights(spec, named[spec]))
    path = Path(spec)
    if path.is_file():
        try:
            data = yaml.safe_load(path.read_text("utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise MixtureError(f"cannot read mixture file {spec}: {exc}".splitlines()[0]) from None
        if isinstance(data, Mapping) and isinstance(data.get("mixture"), Mapping):
            data = data["mixture"]
        return Mixture(path.name, _check_weights(str(spec), data))
    known = ", ".join(sorted(named)) or "none"
    raise MixtureError(f"unknown mixture {spec!r}: not a preset ({known}) and not a file")


def align_to_sources(mixture: Mixture, available: Iterable[str], renormalize: bool = False) -> Mixture:
    """Restrict a mixture to the sources a corpus holds, saying what happened.

    Sources weighted by the mixture but absent from the corpus raise MixtureError unless `renormalize`
    is set, in which case the remaining weights are scaled up and a note says by how much. Corpus sources
    the mixture does not weight are kept at weight 0 with a note.
    """
    have = set(available)
    notes = list(mixture.notes)
    missing = {s: w for s, w in mixture.weights.items() if s not in have and w > 0}
    weights = {s: w for s, w in mixture.weights.items() if s in have and w > 0}
    if missing:
        listed = ", ".join(f"{s} ({w:.1%})" for s, w in sorted(missing.items()))
        if not renormalize or not weights:
            raise MixtureError(
                f"mixture {mixture.name!r} weights sources the corpus does not hold: {listed}; "
                f"corpus sources: {', '.join(sorted(have)) or 'none'}. Use a mixture over these sources "
                "(a preset, a file or --mixture FILE), or renormalise explicitly"
            )
        kept = sum(weights.values())
        weights = {s: w / kept for s, w in weights.items()}
        notes.append(
            f"mixture {mixture.name!r}: {listed} absent from the corpus; the other weights were scaled by "
            f"{1 / kept:.4f} to sum to 1"
        )
    unweighted = sorted(have - set(weights))
    if unweighted:
        notes.append(
            f"mixture {mixture.name!r} gives no weight to corpus source(s) {', '.join(unweighted)}: not sampled"
        )
    return Mixture(mixture.name, dict(sorted(weights.items())), notes)
