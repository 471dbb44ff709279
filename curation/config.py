"""Load the effective configuration: packaged defaults, then a user file, then `--set` overrides."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

STAGES = ("extract", "language", "quality", "repetition", "content", "code", "dedup", "decontaminate")


class ConfigError(ValueError):
    """A usage problem with configuration (unreadable file, bad override, unknown stage or source)."""


def default_config() -> dict[str, Any]:
    """The packaged `default.yaml` as a fresh dict."""
    text = resources.files("curation").joinpath("data/default.yaml").read_text("utf-8")
    return yaml.safe_load(text)


def deep_merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Recursively merge `override` into a copy of `base` (mappings merge, everything else replaces)."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def apply_override(cfg: dict[str, Any], assignment: str) -> dict[str, Any]:
    """Apply one `dotted.key=value` override; the value is parsed as YAML (numbers, lists, bools)."""
    if "=" not in assignment:
        raise ConfigError(f"--set expects key=value, got {assignment!r}")
    key, raw = assignment.split("=", 1)
    parts = [p for p in key.strip().split(".") if p]
    if not parts:
        raise ConfigError(f"--set has an empty key: {assignment!r}")
    try:
        value = yaml.safe_load(raw) if raw.strip() else ""
    except yaml.YAMLError as exc:
        raise ConfigError(f"--set {key}: cannot parse value {raw!r}: {exc}") from None
    node = cfg
    for part in parts[:-1]:
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            raise ConfigError(f"--set {key}: {part!r} is not a section")
        node = child
    node[parts[-1]] = value
    return cfg


def load_config(
    path: str | Path | None = None, overrides: Iterable[str] = (), base: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Validated effective config: defaults <- `base` (e.g. a finished run's) <- YAML file at `path` <- overrides.

    Every key is present afterwards, so callers look keys up directly (`cfg["quality"]["min_words"]`).
    """
    cfg = default_config()
    if base is not None:
        cfg = deep_merge(cfg, base)
    if path is not None:
        try:
            user = yaml.safe_load(Path(path).read_text("utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise ConfigError(f"cannot read config {path}: {exc}".splitlines()[0]) from None
        if user is None:
            user = {}
        if not isinstance(user, Mapping):
            raise ConfigError(f"config {path} must be a YAML mapping")
        cfg = deep_merge(cfg, user)
    for assignment in overrides:
        apply_override(cfg, assignment)
    validate(cfg)
    return cfg


def validate(cfg: Mapping[str, Any]) -> None:
    """Raise `ConfigError` (one line, "did you mean" for unknown keys) unless `cfg` matches the typed schema."""
    from curation.config_schema import check_config

    check_config(cfg)


def parse_stages(spec: str) -> list[str]:
    """Parse a `--stages a,b,c` value into known stages in canonical pipeline order."""
    names = [s.strip() for s in spec.split(",") if s.strip()]
    if not names:
        raise ConfigError("--stages is empty")
    unknown = [s for s in names if s not in STAGES]
    if unknown:
        raise ConfigError(f"unknown stage {unknown[0]!r} in --stages (known: {', '.join(STAGES)})")
    return [s for s in STAGES if s in names]


def source_stages(cfg: Mapping[str, Any], source: str, explicit: list[str] | None = None) -> list[str]:
    """The ordered stage chain one source runs: the explicit `--stages` list, else its config chain."""
    if source not in cfg["sources"]:
        raise ConfigError(f"unknown source {source!r}: declare it under 'sources' in the config")
    chain = explicit if explicit is not None else cfg["sources"][source]["stages"]
    return [s for s in STAGES if s in chain]


def source_priority(cfg: Mapping[str, Any], source: str) -> int:
    """Dedup priority of a source: lower keeps its copy."""
    if source not in cfg["sources"]:
        raise ConfigError(f"unknown source {source!r}: declare it under 'sources' in the config")
    return int(cfg["sources"][source]["priority"])
