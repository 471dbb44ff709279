"""Beam pipeline options passed through from the CLI, validated so a typo is a usage error."""

from __future__ import annotations

from collections.abc import Sequence

from apache_beam.options.pipeline_options import PipelineOptions


def unknown_beam_flags(flags: Sequence[str]) -> list[str]:
    """Flags that no Beam PipelineOptions class recognises (empty when all are valid)."""
    # Import the option classes that register themselves only when their module loads.
    import apache_beam.options.pipeline_options  # noqa: F401
    from apache_beam.options.pipeline_options import _BeamArgumentParser

    parser = _BeamArgumentParser(allow_abbrev=False)
    seen: dict[str, type] = {}
    for cls in PipelineOptions.__subclasses__():
        seen.setdefault(str(cls), cls)
    for cls in seen.values():
        cls._add_argparse_args(parser)  # noqa: SLF001 - Beam's own registration hook
    _, unknown = parser.parse_known_args(list(flags))
    return list(unknown)


def has_flag(flags: Sequence[str], name: str) -> bool:
    """Whether `--name` or `--name=value` appears among the flags."""
    return any(f == f"--{name}" or f.startswith(f"--{name}=") for f in flags)
