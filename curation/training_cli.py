"""`curation tokenizer train`, `curation tokenize` and `curation plan`: from a curated run to training tokens."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

from curation.config import ConfigError, load_config

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _config_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", help="YAML file deep-merged over the packaged defaults")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE")


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


def _usage(message: str) -> int:
    print(f"curation: error: {message}", file=sys.stderr)
    return EXIT_USAGE


def _no_extra(extra: list[str]) -> None:
    if extra:
        raise ConfigError(f"unknown option {extra[0]!r}")


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
        return _usage(str(exc))
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
    from curation.cli import _beam_flags
    from curation.tokenizer import TokenizerError, load_tokenizer
    from pipelines.io import absolute_local
    from pipelines.outputs import OutputError, prepare_output, read_manifest
    from pipelines.runner import available_cores, describe_runner, local_runner_flags
    from pipelines.tokenize import KIND, OWNED, input_shards, run_tokenize

    cfg = load_config(args.config, args.overrides)
    flags = _beam_flags(extra)
    out, tok = absolute_local(args.out).rstrip("/"), absolute_local(args.output).rstrip("/")
    if args.workers is not None and args.workers < 1:
        return _usage(f"--workers must be at least 1, got {args.workers}")
    try:
        tokenizer = load_tokenizer(args.tokenizer, args.eos_token)
        shards, _ = input_shards(out)
        prepare_output(tok, overwrite=args.overwrite, kind=KIND, inputs=[out], owned=OWNED)
    except (OutputError, TokenizerError) as exc:
        return _usage(str(exc))
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
        return _usage(f"{args.tok} is not a finished tokenize output (no _SUCCESS)")
    try:
        plan = plan_for_output(args.tok, args.train_tokens, args.mixture, args.max_epochs, cfg)
    except (MixtureError, FileNotFoundError, ValueError) as exc:
        return _usage(str(exc))
    print(json.dumps(plan, indent=2, sort_keys=True) if args.json else render_plan(plan))
    return EXIT_OK
