"""Reading profiles: one switch for every detail the Gopher paper leaves open (docs/filters.md).

`gopher` (default) reads the paper's wording: punctuation is not a word, n-grams count every occurrence,
blank lines are not lines, stop words match in any casing, a whitespace-only line ends a paragraph.
`datatrove` reproduces datatrove's `GopherQualityFilter` + `GopherRepetitionFilter` (FineWeb's filters).
By default both profiles' signals are stored, so `rethreshold --set profile=...` switches without
recomputation; `signal_readings: profile` stores only the selected profile's (less CPU, see `computed_profiles`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

PROFILES = ("gopher", "datatrove")
DEFAULT_PROFILE = "gopher"
SIGNAL_READINGS = ("both", "profile")

# Every reading that differs between the profiles, as `curation config show`-style text for the docs.
READINGS: dict[str, dict[str, str]] = {
    "words": {
        "gopher": "tokens holding a letter or digit; punctuation and symbol tokens are not words",
        "datatrove": "every token is a word in ratios; word count and mean length skip punctuation-only tokens",
    },
    "ngram_convention": {"gopher": "all_occurrences", "datatrove": "repeats"},
    "ngram_tokens": {"gopher": "words", "datatrove": "tokens"},
    "blank_lines": {"gopher": "ignored", "datatrove": "counted"},
    "stop_word_case": {"gopher": "any", "datatrove": "lower"},
    "paragraphs": {"gopher": "split at blank or whitespace-only lines", "datatrove": "split at 2+ newlines"},
    "bullets": {"gopher": "Unicode bullet family, -, *, en dash, middle dot", "datatrove": "• and -"},
}


def profile_name(cfg: Mapping[str, Any]) -> str:
    """The profile a config (or a decision section) selects; a ValueError for an unknown one."""
    name = cfg["profile"]
    if name not in PROFILES:
        raise ValueError(f"profile must be one of {', '.join(PROFILES)}, got {name!r}")
    return name


def signal_suffix(profile: str) -> str:
    """Suffix of the stored signal that holds a measurement under `profile` ('' or '_datatrove')."""
    return "" if profile == DEFAULT_PROFILE else f"_{profile}"


def computed_profiles(cfg: Mapping[str, Any]) -> tuple[str, ...]:
    """The profiles whose quality and repetition signals a run computes: both, or only the selected one.

    `signal_readings: profile` saves about 40% of the web chain's CPU; a later `rethreshold` to the other
    profile then recomputes those signals from the stored text instead of reading them.
    """
    readings = cfg["signal_readings"]
    if readings not in SIGNAL_READINGS:
        raise ValueError(f"signal_readings must be one of {', '.join(SIGNAL_READINGS)}, got {readings!r}")
    return PROFILES if readings == "both" else (profile_name(cfg),)
