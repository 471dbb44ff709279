"""`curation` command line: run, demo, stats, config show, rethreshold, inspect, report.

Exit codes: 0 run completed (dead letters allowed), 1 pipeline failure, 2 usage error.
The Beam side is imported lazily so `curation config show` and `curation stats` start fast.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from curation.config import ConfigError, load_config, parse_stages

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """A problem with how the command was called: reported in one line, exit code 2."""


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one line and exit code 2."""

    def error(self, message: str):  # type: ignore[override]
        raise UsageError(message)


def _config_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", help="YAML file deep-merged over the packaged defaults")
    p.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override one config value (repeatable)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every sub-command."""
    parser = _Parser(prog="curation", description="MassiveText-style pretraining-data curation on Apache Beam.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    run = sub.add_parser("run", help="run the pipeline; unknown --flags are passed to Beam")
    run.add_argument("--input", dest="inputs", action="append", required=True, metavar="SOURCE[:FORMAT]=GLOB")
    run.add_argument("--output", required=True, metavar="OUT")
    run.add_argument("--stages", help="comma-separated subset of stages, applied in pipeline order to every source")
    run.add_argument("--overwrite", action="store_true", help="replace an existing non-empty OUT")
    run.add_argument("--decontam-index", help="index built by `curation decontam-index`")
    run.add_argument("--workers", type=int, help="local worker processes (default: chosen from input size and cores)")
    run.add_argument(
        "--resume", action="store_true", help="continue an interrupted run in OUT (same inputs and config)"
    )
    run.add_argument("--verbose", action="store_true", help="show Beam's own log messages")
    run.add_argument(
        "--progress-every",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="when stderr is not a terminal, a progress line every SECONDS (default 30); a terminal shows a live line",
    )
    _config_args(run)

    demo = sub.add_parser("demo", help="run the full pipeline on the bundled sample corpus")
    demo.add_argument("--output", default="demo-out", metavar="OUT")
    demo.add_argument("--overwrite", action="store_true")
    demo.add_argument("--workers", type=int)
    demo.add_argument("--verbose", action="store_true", help="show Beam's own log messages")

    stats = sub.add_parser("stats", help="print the funnel table of a finished run")
    stats.add_argument("out", metavar="OUT")
    stats.add_argument("--json", action="store_true", help="print stats.json instead of the table")

    config = sub.add_parser("config", help="configuration commands")
    config_sub = config.add_subparsers(dest="config_command", required=True, parser_class=_Parser)
    show = config_sub.add_parser("show", help="print the effective config")
    _config_args(show)

    rethreshold = sub.add_parser("rethreshold", help="re-decide a finished run from its stored signals (what-if)")
    rethreshold.add_argument("out", metavar="OUT")
    rethreshold.add_argument("--output", required=True, metavar="OUT2")
    rethreshold.add_argument("--overwrite", action="store_true")
    rethreshold.add_argument("--decontam-index")
    _config_args(rethreshold)

    inspect = sub.add_parser("inspect", help="look inside a finished run")
    inspect.add_argument("out", metavar="OUT")
    inspect.add_argument("--dedup", action="store_true", help="largest duplicate clusters with a diff of two members")
    inspect.add_argument("--removed", action="store_true", help="example removed documents per rule, with signals")
    inspect.add_argument("--reason", help="with --removed: only this rule (e.g. quality.stop_words)")
    inspect.add_argument("--top", type=int, default=5, help="clusters (--dedup) or examples per rule (--removed)")

    report = sub.add_parser("report", help="write a self-contained HTML report of a finished run")
    report.add_argument("out", metavar="OUT")
    report.add_argument("--output", metavar="HTML", help="where to write the page (default OUT/report.html)")
    report.add_argument("--baseline", metavar="OTHER_OUT", help="another finished run to compare with, rule by rule")
    report.add_argument(
        "--decontam-index", metavar="INDEX", help="the run's decontamination index: rates per benchmark"
    )
    report.add_argument(
        "--sample-rows", type=int, default=20000, help="rows read per source and outcome (default 20000)"
    )
    report.add_argument(
        "--tokenized", metavar="TOK", help="the run's `curation tokenize` output: adds the data-budget plan"
    )
    report.add_argument(
        "--train-tokens",
        type=float,
        help="with --tokenized: training budget in tokens, e.g. 300e9 (default: TOK's unique tokens)",
    )
    report.add_argument(
        "--mixture",
        help="with --tokenized: gopher | chinchilla | a YAML file {source: weight} (default: mixture.default)",
    )
    report.add_argument(
        "--max-epochs", type=float, help="with --tokenized: warn above this many epochs (default: mixture.max_epochs)"
    )

    try:
        from curation.decontam_cli import add_decontam_index_parser
    except ImportError:
        pass
    else:
        add_decontam_index_parser(sub)
    add_training_parsers(sub)
    return parser


def parse_input(spec: str, cfg: dict[str, Any]):
    """`SOURCE[:FORMAT]=GLOB` -> InputSpec, checking the source label and format name."""
    from curation.readers import READERS
    from pipelines.io import absolute_local
    from pipelines.read import InputSpec

    if "=" not in spec:
        raise UsageError(f"--input expects SOURCE=GLOB, got {spec!r}")
    label, glob = spec.split("=", 1)
    source, _, fmt = label.partition(":")
    if not source or not glob:
        raise UsageError(f"--input expects SOURCE=GLOB, got {spec!r}")
    if source not in cfg["sources"]:
        known = ", ".join(sorted(cfg["sources"]))
        raise UsageError(
            f"unknown source {source!r} in --input (known: {known}; declare others under 'sources' in the config)"
        )
    if fmt and fmt not in READERS:
        raise UsageError(f"unknown format {fmt!r} in --input (known: {', '.join(sorted(READERS))})")
    return InputSpec(source=source, glob=absolute_local(glob), format=fmt or None)


def _check_inputs_exist(inputs, dry_run: bool) -> int:
    """Fail fast on local globs that match nothing; returns the inputs' uncompressed-equivalent bytes."""
    from curation.workitems import work_bytes
    from pipelines.io import is_remote, matched_files

    total = 0
    for spec in inputs:
        if is_remote(spec.glob):
            continue  # expanded at run time by MatchFiles (and never during a Dataflow dry run)
        files = matched_files(spec.glob)
        if not files and not dry_run:
            raise UsageError(f"no files match --input {spec.source}={spec.glob}")
        total += work_bytes(files)
    return total


def _check_decontam_index(path: str | None, cfg: dict[str, Any], beam_flags: Sequence[str], dry_run: bool) -> None:
    """Fail fast, before any compute, on a `--decontam-index` that is missing, not an index, or built for another n.

    Only the index's directory and metadata are read. A remote index in a dry run is left alone (no credentials).
    """
    if not path:
        return
    from curation.decontam import IndexFormatError, check_index_meta, read_index_meta
    from pipelines.io import is_remote, open_binary

    if dry_run and is_remote(path):
        return
    try:
        with open_binary(path, beam_flags) as fh:
            meta = read_index_meta(fh)
        check_index_meta(meta, cfg["decontaminate"])
    except (IndexFormatError, ConfigError) as exc:
        raise UsageError(f"--decontam-index {path}: {exc}") from None
    except Exception as exc:  # noqa: BLE001 - any filesystem error means the run could not use the index
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UsageError(f"--decontam-index {path}: cannot read it: {reason}") from None


def _prepare_output(out: str, overwrite: bool, inputs, resume: bool = False, fingerprint: str | None = None) -> None:
    """Refuse an OUT this tool must not touch, prove it writable and mark it ours (before any compute)."""
    from pipelines.outputs import OutputError, prepare_output
    from pipelines.write import RUN_ENTRIES

    try:
        prepare_output(
            out,
            overwrite=overwrite,
            kind="run",
            inputs=[spec.glob for spec in inputs],
            owned=RUN_ENTRIES,
            resume=resume,
            fingerprint=fingerprint,
        )
    except OutputError as exc:
        raise UsageError(str(exc)) from None


def _beam_flags(extra: Sequence[str]) -> list[str]:
    from pipelines.options import unknown_beam_flags

    unknown = unknown_beam_flags(extra)
    if unknown:
        raise UsageError(f"unknown option {unknown[0]!r} (not a curation or Beam pipeline option)")
    return list(extra)


def execute_run(
    inputs,
    output: str,
    cfg: dict[str, Any],
    beam_flags: list[str],
    stages: list[str] | None,
    decontam_index: str | None,
    workers: int | None,
    overwrite: bool,
    resume: bool = False,
    verbose: bool = False,
    progress_every: float = 30.0,
) -> int:
    """Check, run and summarise one pipeline run; returns the exit code."""
    from pipelines import massivetext
    from pipelines.io import absolute_local, is_remote, read_text
    from pipelines.options import has_flag
    from pipelines.runner import available_cores, describe_runner, local_runner_flags

    # A dry run or a template build executes nothing: no output is touched and no stats exist after it.
    dry_run = has_flag(beam_flags, "dry_run") or has_flag(beam_flags, "template_location")
    if workers is not None and workers < 1:
        raise UsageError(f"--workers must be at least 1, got {workers}")
    input_bytes = _check_inputs_exist(inputs, dry_run)
    _check_decontam_index(decontam_index, cfg, beam_flags, dry_run)
    output = absolute_local(output).rstrip("/")
    if is_remote(output):  # the CLI itself writes OUT's marker: give Beam's filesystems the run's options
        from pipelines.io import use_pipeline_options

        use_pipeline_options(beam_flags)
    if not dry_run:
        fingerprint = run_fingerprint(inputs, cfg, stages, decontam_index)
        _prepare_output(output, overwrite, inputs, resume, fingerprint)
    beam_flags = local_runner_flags(input_bytes, available_cores(), workers, beam_flags)
    described = describe_runner(beam_flags)
    if workers is not None and not described.startswith("runner: DirectRunner"):
        print(
            f"note: --workers applies to local runs only; {described.split(': ', 1)[1]} sizes its own workers",
            file=sys.stderr,
        )
    print(described, file=sys.stderr)
    _quiet_beam(verbose)
    monitor = None
    if not dry_run and not is_remote(output):
        from pipelines.progress import ProgressMonitor

        monitor = ProgressMonitor(output, input_bytes, line_every=progress_every)
        monitor.start()
    try:
        massivetext.run(inputs, output, cfg, beam_flags, stages, decontam_index, resume=resume)
    except Exception as exc:  # noqa: BLE001 - report pipeline failure as exit 1
        logging.getLogger("curation").debug("pipeline failed", exc_info=True)
        print(
            f"curation: pipeline failed: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
            file=sys.stderr,
        )
        return EXIT_FAILED
    finally:
        if monitor is not None:
            monitor.stop()
    if dry_run:
        print("pipeline graph built and validated (dry run or template); nothing was executed")
        return EXIT_OK
    from curation.stats import render_funnel

    stats = json.loads(read_text(f"{output}/stats.json"))
    print(render_funnel(stats))
    print(f"output: {output}")
    if not stats["invariant_ok"]:
        print("curation: accounting invariant violated (input != kept + removed + failed)", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def run_fingerprint(inputs, cfg: dict[str, Any], stages: list[str] | None, decontam_index: str | None) -> str:
    """What makes two runs the same run (for --resume): inputs with their files' sizes, config, stages, index."""
    import hashlib

    from pipelines.io import is_remote, matched_files

    def stamp(path: str, size: int) -> list:
        try:
            return [path, size, os.stat(path).st_mtime_ns]
        except OSError:
            return [path, size, None]

    files = {
        spec.glob: [] if is_remote(spec.glob) else [stamp(p, n) for p, n in matched_files(spec.glob)] for spec in inputs
    }
    body = {
        "inputs": [[s.source, s.glob, s.format] for s in inputs],
        "files": files,
        "config": cfg,
        "stages": stages,
        "decontam_index": decontam_index,
    }
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()


def _quiet_beam(verbose: bool) -> None:
    """Beam's own warnings (worker start-up chatter) only with --verbose; errors always."""
    level = logging.INFO if verbose else logging.ERROR
    logging.getLogger("apache_beam").setLevel(level)


def cmd_run(args: argparse.Namespace, extra: list[str]) -> int:
    if not args.progress_every > 0:
        raise UsageError(f"--progress-every must be a positive number of seconds, got {args.progress_every}")
    cfg = load_config(args.config, args.overrides)
    stages = parse_stages(args.stages) if args.stages else None
    inputs = [parse_input(spec, cfg) for spec in args.inputs]
    flags = _beam_flags(extra)
    return execute_run(
        inputs,
        args.output,
        cfg,
        flags,
        stages,
        args.decontam_index,
        args.workers,
        args.overwrite,
        resume=args.resume,
        verbose=args.verbose,
        progress_every=args.progress_every,
    )


def cmd_demo(args: argparse.Namespace, extra: list[str]) -> int:
    """The full pipeline on the bundled corpus, decontaminated against the bundled eval sets."""
    import tempfile

    from curation.decontam_cli import run_decontam_index
    from curation.sample import demo_evalset_specs, demo_inputs

    cfg = load_config()
    inputs = [parse_input(spec, cfg) for spec in demo_inputs()]
    flags = _beam_flags(extra)
    with tempfile.TemporaryDirectory(prefix="curation-demo-") as tmp:
        index = f"{tmp}/decontam-index.npz"
        spec = argparse.Namespace(evalsets=demo_evalset_specs(), output=index, config=None, overrides=[])
        code = run_decontam_index(spec)
        if code != EXIT_OK:
            return code
        return execute_run(
            inputs, args.output, cfg, flags, None, index, args.workers, args.overwrite, verbose=args.verbose
        )


def _require_finished(out: str) -> None:
    """A later command refuses an output that is not a finished run, in one line."""
    from pipelines.outputs import OutputError, require_complete

    try:
        require_complete(out.rstrip("/"))
    except OutputError as exc:
        raise UsageError(str(exc)) from None


def cmd_stats(args: argparse.Namespace, extra: list[str]) -> int:
    from curation.stats import render_funnel
    from pipelines.io import read_text

    if extra:
        raise UsageError(f"unknown option {extra[0]!r}")
    _require_finished(args.out)
    path = f"{args.out.rstrip('/')}/stats.json"
    try:
        text = read_text(path)
    except UnicodeDecodeError:
        raise UsageError(f"{path} is corrupt: not UTF-8 text") from None
    except Exception:  # noqa: BLE001
        raise UsageError(f"no stats.json under {args.out} (is it a finished run?)") from None
    try:
        stats = json.loads(text)
        if not isinstance(stats, dict):
            raise TypeError(f"a JSON {type(stats).__name__}, not an object")
        shown = json.dumps(stats, indent=2, sort_keys=True) if args.json else render_funnel(stats)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else ""
        raise UsageError(f"{path} is corrupt or not a curation stats file ({type(exc).__name__}: {reason})") from None
    print(shown)
    return EXIT_OK


def cmd_config(args: argparse.Namespace, extra: list[str]) -> int:
    if extra:
        raise UsageError(f"unknown option {extra[0]!r}")
    cfg = load_config(args.config, args.overrides)
    print(yaml.safe_dump(cfg, sort_keys=False, default_flow_style=None, width=120).rstrip())
    return EXIT_OK


def cmd_rethreshold(args: argparse.Namespace, extra: list[str]) -> int:
    """Re-decide from stored signals: the run's own shards are the input, nothing raw is re-read."""
    from pipelines.io import absolute_local, read_text

    src = absolute_local(args.out).rstrip("/")
    _require_finished(src)
    try:
        manifest = json.loads(read_text(f"{src}/manifest.json"))
    except Exception:  # noqa: BLE001
        raise UsageError(f"no manifest.json under {args.out} (is it a finished run?)") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("config"), dict):
        raise UsageError(f"{args.out}/manifest.json holds no run configuration")
    # The run's own config is the base; --config and --set change it (keys added since are filled from defaults).
    cfg = load_config(args.config, args.overrides, base=manifest["config"])
    from pipelines.read import InputSpec

    sources = sorted(
        {s["source"] for s in manifest["shards"] if s.get("kind") in ("data", "removed") and s.get("source")}
    )
    inputs = [
        InputSpec(source=s, glob=f"{src}/{kind}/{s}/*.parquet", format="replay")
        for s in sources
        for kind in ("data", "removed")
        if any(e.get("kind") == kind and e.get("source") == s for e in manifest["shards"])
    ]
    failed = [s for s in manifest["shards"] if s.get("kind") == "failed"]
    flags = _beam_flags(extra)
    stages = manifest.get("stages")
    if not inputs:
        raise UsageError(f"{args.out} holds no document shards to re-decide")
    code = execute_run(inputs, args.output, cfg, flags, stages, args.decontam_index, None, args.overwrite)
    if failed:
        print(
            f"note: {sum(s['rows'] for s in failed)} dead-lettered records of {args.out} are not part of the re-decision"
        )
    return code


def cmd_inspect(args: argparse.Namespace, extra: list[str]) -> int:
    if extra:
        raise UsageError(f"unknown option {extra[0]!r}")
    if not (args.dedup or args.removed):
        raise UsageError("say what to inspect: --dedup or --removed")
    if not Path(args.out).is_dir():
        raise UsageError(f"{args.out} is not a run output folder")
    _require_finished(args.out)
    if args.removed:
        from curation.inspect_removed import inspect_removed

        print(inspect_removed(args.out, per_reason=args.top, reason=args.reason))
    if args.dedup:
        from curation.inspect_dedup import inspect_dedup

        print(inspect_dedup(args.out, top=args.top))
    return EXIT_OK


# ---- training output: tokenizer train, tokenize, plan ----------------------------------------------------


def add_training_parsers(sub: Any) -> None:
    """Register `tokenizer train`, `tokenize` and `plan` on the CLI's subparsers."""
    tokenizer = sub.add_parser("tokenizer", help="tokenizer commands")
    tokenizer_sub = tokenizer.add_subparsers(dest="tokenizer_command", required=True, parser_class=type(tokenizer))
    train = tokenizer_sub.add_parser(
        "train", help="train a SentencePiece tokenizer (Gopher settings) on a finished run"
    )
    train.add_argument("out", metavar="OUT", help="a finished `curation run` output")
    train.add_argument("--output", required=True, metavar="MODEL", help="SentencePiece .model file to write")
    train.add_argument("--vocab-size", type=int, help="pieces in the vocabulary (default: tokenizer.vocab_size, 32000)")
    train.add_argument(
        "--mixture", help="preset name or YAML file weighting the sample by source (default: mixture.default)"
    )
    train.add_argument("--sample-bytes", type=int, help="training text cap in bytes (default: tokenizer.sample_bytes)")
    train.add_argument(
        "--renormalize", action="store_true", help="allow mixture sources the run lacks (rescale the rest)"
    )
    _config_args(train)
    train.set_defaults(handler=cmd_tokenizer_train)

    tok = sub.add_parser("tokenize", help="export a finished run as tokenized Parquet and flat .bin/.idx shards")
    tok.add_argument("out", metavar="OUT", help="a finished `curation run` output")
    tok.add_argument(
        "--tokenizer", required=True, metavar="FILE", help="SentencePiece .model or Hugging Face tokenizer.json"
    )
    tok.add_argument("--output", required=True, metavar="TOK")
    tok.add_argument(
        "--eos-token", help="end-of-document token of a tokenizer.json (default: </s>, <|endoftext|>, ...)"
    )
    tok.add_argument("--overwrite", action="store_true", help="replace an earlier tokenize output at TOK")
    tok.add_argument("--workers", type=int, help="local worker processes (default: chosen from input size and cores)")
    _config_args(tok)
    tok.set_defaults(handler=cmd_tokenize)

    plan = sub.add_parser("plan", help="tokens per source, epochs under a mixture and model-size guidance")
    plan.add_argument("tok", metavar="TOK", help="a finished `curation tokenize` output")
    plan.add_argument("--train-tokens", required=True, type=float, help="training budget in tokens, e.g. 300e9")
    plan.add_argument("--mixture", help="gopher | chinchilla | a YAML file {source: weight} (default: mixture.default)")
    plan.add_argument(
        "--max-epochs", type=float, help="warn above this many epochs of a source (default: mixture.max_epochs)"
    )
    plan.add_argument("--json", action="store_true", help="print the plan as JSON")
    _config_args(plan)
    plan.set_defaults(handler=cmd_plan)


def _no_extra(extra: list[str]) -> None:
    if extra:
        raise UsageError(f"unknown option {extra[0]!r}")


def cmd_tokenizer_train(args: argparse.Namespace, extra: list[str]) -> int:
    """Train the tokenizer on a mixture-weighted sample of OUT's kept documents and write the .model file."""
    from curation.mixture import MixtureError
    from curation.tokenizer_train import TrainError, choose_sample, train_sentencepiece
    from pipelines.outputs import OutputError, require_complete

    _no_extra(extra)
    cfg = load_config(args.config, args.overrides)
    try:
        require_complete(args.out)
        sample = choose_sample(args.out, cfg, args.mixture, args.sample_bytes, args.renormalize)
        for note in sample.notes:
            print(f"note: {note}", file=sys.stderr)
        model = train_sentencepiece(sample, cfg, args.vocab_size)
    except (OutputError, MixtureError, TrainError) as exc:
        raise UsageError(str(exc)) from None
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    tmp.write_bytes(model)
    tmp.replace(out)
    taken = ", ".join(f"{s} {b:,} B" for s, b in sample.bytes_per_source.items())
    print(f"wrote {out}: {len(model):,} bytes, trained on {sum(sample.bytes_per_source.values()):,} bytes ({taken})")
    return EXIT_OK


def cmd_tokenize(args: argparse.Namespace, extra: list[str]) -> int:
    """Run the tokenize pipeline OUT -> TOK and print the per-source summary; 1 when the invariant fails."""
    from curation.tokenizer import TokenizerError, load_tokenizer
    from pipelines.io import absolute_local
    from pipelines.outputs import OutputError, prepare_output, read_manifest
    from pipelines.runner import available_cores, describe_runner, local_runner_flags
    from pipelines.tokenize import KIND, OWNED, input_shards, run_tokenize

    cfg = load_config(args.config, args.overrides)
    flags = _beam_flags(extra)
    out, tok = absolute_local(args.out).rstrip("/"), absolute_local(args.output).rstrip("/")
    if args.workers is not None and args.workers < 1:
        raise UsageError(f"--workers must be at least 1, got {args.workers}")
    try:
        tokenizer = load_tokenizer(args.tokenizer, args.eos_token)
        shards, _ = input_shards(out)
        prepare_output(tok, overwrite=args.overwrite, kind=KIND, inputs=[out], owned=OWNED)
    except (OutputError, TokenizerError) as exc:
        raise UsageError(str(exc)) from None
    tokenizer_bytes = Path(args.tokenizer).read_bytes()
    input_bytes = sum(int(e.get("bytes") or 0) for e in shards)
    flags = local_runner_flags(input_bytes, available_cores(), args.workers, flags)
    print(describe_runner(flags), file=sys.stderr)
    try:
        run_tokenize(out, tok, str(args.tokenizer), tokenizer_bytes, args.eos_token, cfg, flags)
    except Exception as exc:  # noqa: BLE001 - report pipeline failure as exit 1
        logging.getLogger("curation").debug("tokenize failed", exc_info=True)
        print(
            f"curation: tokenize failed: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
            file=sys.stderr,
        )
        return EXIT_FAILED
    manifest = read_manifest(tok)
    print(render_tokenize_summary(manifest, tokenizer.identity()))
    print(f"output: {tok}")
    if not manifest["invariant_ok"]:
        print("curation: tokenize invariant violated (input documents != tokenized + failed)", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK


def render_tokenize_summary(manifest: dict[str, Any], identity: dict[str, Any]) -> str:
    """Per-source documents, tokens, bytes per token and failures of a tokenize output."""
    lines = [f"tokenizer: {identity['kind']}, vocabulary {identity['vocab_size']}, eos id {identity['eos_id']}"]
    head = f"{'source':<12}{'input docs':>12}{'tokenized':>11}{'failed':>8}{'tokens':>14}{'bytes/token':>13}"
    lines += [head, "-" * len(head)]
    for name, s in manifest["sources"].items():
        bpt = "-" if s["bytes_per_token"] is None else f"{s['bytes_per_token']:.2f}"
        lines.append(
            f"{name:<12}{s['input_documents']:>12,}{s['documents']:>11,}{s['failed']:>8,}{s['tokens']:>14,}{bpt:>13}"
        )
    lines.append("invariant holds" if manifest["invariant_ok"] else "INVARIANT VIOLATED")
    return "\n".join(lines)


def cmd_plan(args: argparse.Namespace, extra: list[str]) -> int:
    """Print the data-budget plan of a tokenize output (table or --json)."""
    from curation.mixture import MixtureError
    from curation.plan import plan_for_output, render_plan

    _no_extra(extra)
    cfg = load_config(args.config, args.overrides)
    if not (Path(args.tok) / "_SUCCESS").exists():
        raise UsageError(f"{args.tok} is not a finished tokenize output (no _SUCCESS)")
    try:
        plan = plan_for_output(args.tok, args.train_tokens, args.mixture, args.max_epochs, cfg)
    except (MixtureError, FileNotFoundError, ValueError) as exc:
        raise UsageError(str(exc)) from None
    print(json.dumps(plan, indent=2, sort_keys=True) if args.json else render_plan(plan))
    return EXIT_OK


# ---- end training output ---------------------------------------------------------------------------------


def _finished_run(path: str, option: str) -> Path:
    """A local finished run folder, or a usage error naming the option.

    An output written under the commit protocol (it carries the tool's marker) must be committed
    (`_SUCCESS`); an output from before that protocol needs its stats.json and manifest.json.
    """
    from pipelines.outputs import MARKER, OutputError, require_complete

    out = Path(path)
    if not out.is_dir():
        raise UsageError(f"{option} {path} is not a run output folder")
    if (out / MARKER).exists():
        try:
            require_complete(str(out))
        except OutputError as exc:
            raise UsageError(f"{option}: {exc}") from None
    missing = [name for name in ("stats.json", "manifest.json") if not (out / name).is_file()]
    if missing:
        raise UsageError(f"{option} {path} is not a finished run (no {' or '.join(missing)})")
    return out


def _budget_args(args: argparse.Namespace) -> Path | None:
    """The report's --tokenized folder (a finished tokenize output), its budget options checked."""
    options = {"--train-tokens": args.train_tokens, "--mixture": args.mixture, "--max-epochs": args.max_epochs}
    if args.tokenized is None:
        given = [option for option, value in options.items() if value is not None]
        if given:
            raise UsageError(f"{given[0]} needs --tokenized TOK (the run's `curation tokenize` output)")
        return None
    for option, value in (("--train-tokens", args.train_tokens), ("--max-epochs", args.max_epochs)):
        if value is not None and not (0 < value < math.inf):
            raise UsageError(f"{option} must be a positive number, got {value:g}")
    tok = Path(args.tokenized)
    if not (tok / "_SUCCESS").is_file():
        raise UsageError(f"--tokenized {tok} is not a finished tokenize output (no _SUCCESS)")
    return tok


def cmd_report(args: argparse.Namespace, extra: list[str]) -> int:
    """Write the HTML report of a finished run (its own files only: nothing is recomputed)."""
    if extra:
        raise UsageError(f"unknown option {extra[0]!r}")
    if args.sample_rows < 1:
        raise UsageError(f"--sample-rows must be at least 1, got {args.sample_rows}")
    out = _finished_run(args.out, "OUT")
    baseline = _finished_run(args.baseline, "--baseline") if args.baseline else None
    index = Path(args.decontam_index) if args.decontam_index else None
    if index is not None and not index.is_file():
        raise UsageError(f"--decontam-index {index} does not exist")
    tokenized = _budget_args(args)
    from curation.report.page import ReportError, build_report

    output = Path(args.output) if args.output else out / "report.html"
    try:
        build_report(
            out,
            output,
            baseline=baseline,
            decontam_index=index,
            sample_rows=args.sample_rows,
            tokenized=tokenized,
            train_tokens=args.train_tokens,
            mixture=args.mixture,
            max_epochs=args.max_epochs,
        )
    except ReportError as exc:
        raise UsageError(str(exc)) from None
    print(f"report: {output} ({output.stat().st_size / 1e6:.1f} MB)")
    return EXIT_OK


COMMANDS = {
    "run": cmd_run,
    "demo": cmd_demo,
    "stats": cmd_stats,
    "config": cmd_config,
    "rethreshold": cmd_rethreshold,
    "inspect": cmd_inspect,
    "report": cmd_report,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `curation` console script."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    try:
        args, extra = parser.parse_known_args(argv)
        handler = COMMANDS.get(args.command) or getattr(args, "handler", None)
        if handler is None:
            raise UsageError(f"unknown command {args.command!r}")
        return handler(args, extra)
    except (UsageError, ConfigError) as exc:
        print(f"curation: error: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
