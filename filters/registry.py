"""Every filter stage by name, and the chain runner that computes signals then decides."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from curation.profiles import computed_profiles, profile_name
from curation.schema import Document
from filters import code, content, language, quality, repetition
from filters.base import FilterStage

FILTER_STAGES: dict[str, FilterStage] = {
    s.name: s for s in (language.STAGE, content.STAGE, quality.STAGE, repetition.STAGE, code.STAGE)
}


def signal_names() -> list[str]:
    """All signal names any stage can produce: the fields of the output `signals` struct."""
    return sorted({n for stage in FILTER_STAGES.values() for n in stage.signal_names})


def stage_section(cfg: Mapping[str, Any], stage: str, source: str | None = None) -> Mapping[str, Any]:
    """The config section a stage uses for one source: `cfg[stage]`, updated by `sources.<source>.<stage>`.

    E.g. `sources: {wikipedia: {language: {min_score: 0.5}}}` relaxes the language score for Wikipedia only.
    """
    base = cfg[stage]
    override = cfg["sources"][source].get(stage) if source in cfg["sources"] else None
    return {**base, **override} if override else base


def prepare(stages: Sequence[str], cfg: Mapping[str, Any]) -> None:
    """Load heavy per-process state (models, lists) for the given stages once (per-source sections too)."""
    for name in stages:
        stage = FILTER_STAGES.get(name)
        if stage is None or stage.prepare is None:
            continue
        stage.prepare(stage_section(cfg, name))
        for source in cfg["sources"]:
            section = stage_section(cfg, name, source)
            if section is not cfg[name]:
                stage.prepare(section)


def compute_signals(doc: Document, stages: Sequence[str], cfg: Mapping[str, Any]) -> None:
    """Fill `doc.signals` for every filter stage in the chain whose signals are not yet stored.

    Stages measured under reading profiles compute the profiles `signal_readings` asks for (`computed_profiles`).
    """
    for name in stages:
        stage = FILTER_STAGES.get(name)
        if stage is None:
            continue
        section = stage_section(cfg, name, doc.source)
        wanted = stage.signal_names
        if stage.signals_for is not None:
            profiles = computed_profiles(cfg)
            wanted = stage.signals_for(profiles)
            section = {**section, "profiles": profiles}
        if wanted and all(n in doc.signals for n in wanted):
            continue
        doc.signals.update(stage.compute(doc, section))


def decision_section(cfg: Mapping[str, Any], stage: str, source: str | None = None) -> Mapping[str, Any]:
    """The section a stage decides with: `stage_section` plus the top-level reading `profile`."""
    return {**stage_section(cfg, stage, source), "profile": profile_name(cfg)}


def decide(doc: Document, stages: Sequence[str], cfg: Mapping[str, Any]) -> str | None:
    """The first failing rule over the chain, in order, or None to keep."""
    for name in stages:
        stage = FILTER_STAGES.get(name)
        if stage is None:
            continue
        reason = stage.decide(doc, decision_section(cfg, name, doc.source))
        if reason:
            return reason
    return None
