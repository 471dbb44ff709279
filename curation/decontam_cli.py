"""`curation decontam-index`: build the test-set n-gram index from evaluation files."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

from curation.config import ConfigError, load_config
from curation.decontam import build_index, save_index
from curation.evalsets import PRESETS, EvalSetError, load_evalsets, parse_evalset_spec

EXIT_OK, EXIT_USAGE = 0, 2


def add_decontam_index_parser(subparsers: Any) -> None:
    """Register the `decontam-index` sub-command on an argparse subparsers object."""
    p = subparsers.add_parser(
        "decontam-index",
        help="build the test-set decontamination index from evaluation files",
        description=(
            "Build the n-gram index used by `curation run --decontam-index`. "
            f"Presets (NAME without :fields): {', '.join(sorted(PRESETS))}; other files need :field1,field2 "
            "(default field: text). Formats: .jsonl/.csv/.parquet (optionally .gz/.bz2/.zst), WikiText .txt."
        ),
    )
    p.add_argument(
        "--evalset",
        dest="evalsets",
        action="append",
        required=True,
        metavar="NAME=PATH[:FIELDS]",
        help="an evaluation file (repeatable); NAME becomes the benchmark in reasons and reports",
    )
    p.add_argument("--output", required=True, metavar="INDEX", help="index file to write (.npz)")
    p.add_argument("--config", help="YAML file deep-merged over the packaged defaults")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")
    p.set_defaults(handler=run_decontam_index)


def run_decontam_index(args: argparse.Namespace, extra: list[str] | None = None) -> int:
    """Handler: load eval sets, build and write the index; 2 with a one-line message on bad input."""
    if extra:
        print(f"curation: error: unrecognized arguments: {' '.join(extra)}", file=sys.stderr)
        return EXIT_USAGE
    try:
        cfg = load_config(args.config, args.overrides)
        section = cfg["decontaminate"]
        specs = [parse_evalset_spec(s) for s in args.evalsets]
        started = time.perf_counter()
        items, titles = load_evalsets(specs, tuple(section["gap_markers"]))
        index = build_index(items, section, titles)
        index.meta["evalsets"] = {s.name: {"path": s.path, "fields": list(s.fields)} for s in specs}
        out = Path(args.output)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(out.name + ".tmp")
        with open(tmp, "wb") as fh:
            save_index(index, fh)
        os.replace(tmp, out)
    except (EvalSetError, ConfigError, ValueError) as exc:
        print(f"curation: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        print(f"curation: error: cannot write {args.output}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    meta = index.meta
    per_bench = ", ".join(f"{b}={c}" for b, c in meta["items_per_benchmark"].items())
    print(
        f"wrote {out}: {meta['items']} items ({per_bench}), {meta['ngrams']} {index.n}-grams, "
        f"{len(index.titles)} titles, fuzzy={meta['fuzzy']}, {index.nbytes / 1e6:.1f} MB, "
        f"{time.perf_counter() - started:.1f}s"
    )
    short = meta.get("items_unmatchable") or {}
    if short:
        print(f"note: items with fewer than {meta['min_item_words']} words cannot match: {short}")
    return EXIT_OK
