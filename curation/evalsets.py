"""Load evaluation sets as `EvalItem`s: generic JSONL/CSV/Parquet by field list, plus named presets.

Spec syntax (CLI `--evalset`): `NAME=PATH[:field1,field2]`. With fields, records are read
generically and the listed fields are joined into the item text. Without fields, NAME (or a
name starting with a preset name, e.g. `wikitext103`) selects a preset for the known formats in
`shared/data/evalsets`; otherwise the field `text` is used. Every problem with a file is an
`EvalSetError` whose message names the file, the line/row and the field.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from curation.decontam import EvalItem
from curation.readers.base import open_decompressed

GAP_MARKERS = ("<unk>",)  # WikiText's unknown-word token: the real word is missing, no n-gram may span it
_LABEL_PREFIX = re.compile(r"^\s*(Question|Passage|Answer):\s*", re.MULTILINE)
_GSM8K_CALC = re.compile(r"<<[^>]*>>")
_WIKITEXT_TITLE = re.compile(r"^ = (?!=)(.+?) = $")


class EvalSetError(ValueError):
    """A bad evaluation file or spec; the message is one line naming the file and the field."""


@dataclass(frozen=True)
class EvalSetSpec:
    """One `--evalset` argument: benchmark name, file path, and the fields to read (empty: preset)."""

    name: str
    path: str
    fields: tuple[str, ...] = ()


def parse_evalset_spec(spec: str) -> EvalSetSpec:
    """Parse `NAME=PATH[:field1,field2]` (a trailing `:...` without `/` is the field list)."""
    name, sep, rest = spec.partition("=")
    name = name.strip()
    if not sep or not name or not rest.strip():
        raise EvalSetError(f"--evalset expects NAME=PATH[:field1,field2], got {spec!r}")
    path = rest
    fields: tuple[str, ...] = ()
    head, colon, tail = rest.rpartition(":")
    if colon and head and "/" not in tail and "\\" not in tail and not re.fullmatch(r"[A-Za-z]", head):
        path, fields = head, tuple(f.strip() for f in tail.split(",") if f.strip())
        if not fields:
            raise EvalSetError(f"--evalset {name}: empty field list after ':' in {spec!r}")
    return EvalSetSpec(name=name, path=resolve_path(path.strip()), fields=fields)


# --- decoding ----------------------------------------------------------------------------------


def _read_text(path: str) -> str:
    """Whole file as UTF-8 text (transparently decompressed); wrong encodings are an EvalSetError."""
    try:
        with open(path, "rb") as raw:
            data = open_decompressed(raw, path).read()
    except FileNotFoundError:
        raise EvalSetError(f"{path}: file not found") from None
    except (OSError, EOFError, ValueError) as exc:
        raise EvalSetError(f"{path}: cannot read ({type(exc).__name__}: {exc})") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise EvalSetError(
            f"{path}: line {line}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "re-encode the file as UTF-8"
        ) from None
    if not text.strip():
        raise EvalSetError(f"{path}: file is empty")
    return text


def _file_kind(path: str) -> str:
    """jsonl | csv | parquet | txt, from the extension (compression suffixes ignored)."""
    lower = re.sub(r"\.(gz|bz2|zst)$", "", path.lower())
    for ext, kind in ((".jsonl", "jsonl"), (".json", "jsonl"), (".ndjson", "jsonl"), (".csv", "csv")):
        if lower.endswith(ext):
            return kind
    if lower.endswith((".parquet", ".pq")):
        return "parquet"
    if lower.endswith((".txt", ".tokens", ".raw")):
        return "txt"
    raise EvalSetError(f"{path}: unknown file type (expected .jsonl, .csv, .parquet or .txt, optionally .gz)")


def iter_records(path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """(location, record) for each row of a JSONL, CSV or Parquet file."""
    kind = _file_kind(path)
    if kind == "parquet":
        yield from _parquet_records(path)
        return
    if kind == "txt":
        raise EvalSetError(f"{path}: plain text needs a preset (e.g. NAME=wikitext...) or a JSONL/CSV/Parquet file")
    text = _read_text(path)
    if kind == "csv":
        yield from _csv_records(path, text)
        return
    if text.lstrip().startswith("["):  # one JSON array instead of JSON lines
        yield from _json_array_records(path, text)
        return
    for line_no, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EvalSetError(f"{path}:{line_no}: invalid JSON ({exc.msg})") from None
        if not isinstance(record, dict):
            raise EvalSetError(f"{path}:{line_no}: record is {type(record).__name__}, expected an object")
        yield f"{path}:{line_no}", record


def _csv_records(path: str, text: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Rows of a CSV file with a header line; malformed CSV is an EvalSetError naming the row."""
    csv.field_size_limit(1 << 30)
    reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
    row_no = 1
    try:
        for row_no, row in enumerate(reader, start=2):
            yield f"{path}:{row_no}", row
    except csv.Error as exc:
        raise EvalSetError(f"{path}:{row_no + 1}: malformed CSV ({exc})") from None


def _json_array_records(path: str, text: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Records of a file holding one JSON array of objects."""
    try:
        records = json.loads(text)
    except json.JSONDecodeError as exc:
        raise EvalSetError(f"{path}:{exc.lineno}: invalid JSON ({exc.msg})") from None
    for n, record in enumerate(records, start=1):
        if not isinstance(record, dict):
            raise EvalSetError(f"{path}: element {n}: {type(record).__name__}, expected an object")
        yield f"{path}:element {n}", record


def _parquet_records(path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Rows of a Parquet file as dicts."""
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except FileNotFoundError:
        raise EvalSetError(f"{path}: file not found") from None
    except Exception as exc:  # noqa: BLE001 - any Arrow error is a bad file
        raise EvalSetError(f"{path}: not a readable Parquet file ({type(exc).__name__}: {exc})") from None
    for row_no, row in enumerate(table.to_pylist(), start=1):
        yield f"{path}:row {row_no}", row


def _field_text(record: dict[str, Any], fieldname: str, where: str) -> str:
    """A field's value as text (lists joined by spaces); missing or null fields are an EvalSetError."""
    if fieldname not in record or record[fieldname] is None:
        known = ", ".join(sorted(record)) or "none"
        raise EvalSetError(f"{where}: missing field {fieldname!r} (fields present: {known})")
    value = record[fieldname]
    if isinstance(value, list | tuple):
        return " ".join(str(v) for v in value if v is not None)
    return str(value)


# --- presets -----------------------------------------------------------------------------------


def _strip_labels(text: str) -> str:
    """Drop llm-foundry prompt labels (`Question:`, `Passage:`, `Answer:`) that real copies lack."""
    return _LABEL_PREFIX.sub("", text).strip()


def _gold_choice(record: dict[str, Any], where: str) -> str:
    """The correct answer of a multiple-choice record (`choices[gold]`)."""
    choices = record.get("choices")
    gold = record.get("gold")
    if not isinstance(choices, list) or not isinstance(gold, int) or not 0 <= gold < len(choices):
        raise EvalSetError(f"{where}: field 'choices'/'gold' missing or inconsistent")
    return str(choices[gold])


def _preset_gsm8k(r: dict[str, Any], where: str) -> list[str]:
    """GSM8K: question + worked answer without the `<<calc>>` annotations."""
    return [_field_text(r, "question", where) + "\n" + _GSM8K_CALC.sub("", _field_text(r, "answer", where))]


def _preset_humaneval(r: dict[str, Any], where: str) -> list[str]:
    """HumanEval: prompt (signature + docstring) + canonical solution."""
    return [_field_text(r, "prompt", where) + _field_text(r, "canonical_solution", where)]


def _preset_lambada(r: dict[str, Any], where: str) -> list[str]:
    """LAMBADA: the passage including its final word."""
    return [_field_text(r, "context", where) + " " + _field_text(r, "continuation", where)]


def _preset_query_gold(r: dict[str, Any], where: str) -> list[str]:
    """PIQA / ARC / BoolQ (llm-foundry): question or passage without labels + the correct choice."""
    return [_strip_labels(_field_text(r, "query", where)) + "\n" + _gold_choice(r, where)]


def _preset_triviaqa(r: dict[str, Any], where: str) -> list[str]:
    """TriviaQA (llm-foundry): the question without labels + the answer."""
    return [_strip_labels(_field_text(r, "context", where)) + " " + _field_text(r, "answer", where)]


def _preset_winogrande(r: dict[str, Any], where: str) -> list[str]:
    """WinoGrande: the sentence completed with the correct option."""
    options = r.get("context_options")
    gold = r.get("gold")
    if not isinstance(options, list) or not isinstance(gold, int) or not 0 <= gold < len(options):
        raise EvalSetError(f"{where}: field 'context_options'/'gold' missing or inconsistent")
    return [str(options[gold]) + " " + _field_text(r, "continuation", where)]


def _preset_boolq(r: dict[str, Any], where: str) -> list[str]:
    """BoolQ: passage and question (the yes/no answer adds nothing)."""
    return [_strip_labels(_field_text(r, "query", where))]


RecordPreset = Callable[[dict[str, Any], str], list[str]]
PRESETS: dict[str, RecordPreset | None] = {
    "gsm8k": _preset_gsm8k,
    "humaneval": _preset_humaneval,
    "lambada": _preset_lambada,
    "piqa": _preset_query_gold,
    "arc_easy": _preset_query_gold,
    "arc_challenge": _preset_query_gold,
    "triviaqa": _preset_triviaqa,
    "boolq": _preset_boolq,
    "winogrande": _preset_winogrande,
    "wikitext": None,  # plain-text format, see load_wikitext
}


def preset_for(name: str) -> str | None:
    """The preset a benchmark name selects: exact or longest matching prefix (`wikitext103`)."""
    key = name.lower().replace("-", "_")
    for preset in sorted(PRESETS, key=len, reverse=True):
        if key == preset or key.startswith(preset):
            return preset
    return None


def split_gaps(text: str, markers: Sequence[str] = GAP_MARKERS) -> list[str]:
    """Cut text at gap markers so that no n-gram spans a word the eval text lost."""
    parts = [text]
    for marker in markers:
        parts = [piece for part in parts for piece in part.split(marker)]
    return [p for p in parts if p.strip()]


def load_wikitext(path: str, name: str, gap_markers: Sequence[str] = GAP_MARKERS) -> tuple[list[EvalItem], dict]:
    """WikiText (raw or tokenised): one item per article (split at ` = Title = ` lines); titles returned."""
    lines = [line.rstrip("\r") for line in _read_text(path).split("\n")]
    items: list[EvalItem] = []
    titles: dict[str, str] = {}
    title: str | None = None
    body: list[str] = []

    def flush() -> None:
        text = "\n".join(body).strip()
        if title is not None or text:
            label = title if title is not None else "(preamble)"
            items.append(EvalItem(name, f"{name}/{len(items)}:{label}", split_gaps(text, gap_markers)))

    for i, line in enumerate(lines):
        m = _WIKITEXT_TITLE.match(line)
        blank_around = (i == 0 or not lines[i - 1].strip()) and (i + 1 == len(lines) or not lines[i + 1].strip())
        if m and blank_around:
            flush()
            title, body = m.group(1).strip(), []
            if not any(marker in title for marker in gap_markers):
                titles[title] = name
        else:
            body.append(line)
    flush()
    if not any(it.segments for it in items):
        raise EvalSetError(f"{path}: no WikiText articles found")
    return items, titles


def load_evalset(spec: EvalSetSpec, gap_markers: Sequence[str] = GAP_MARKERS) -> tuple[list[EvalItem], dict]:
    """Items (and Wikipedia titles to protect) of one eval set; raises EvalSetError on bad input."""
    preset = None if spec.fields else preset_for(spec.name)
    if preset == "wikitext":
        return load_wikitext(spec.path, spec.name, gap_markers)
    fields = spec.fields or (() if preset else ("text",))
    make = PRESETS[preset] if preset else None
    items: list[EvalItem] = []
    for where, record in iter_records(spec.path):
        texts = make(record, where) if make else ["\n".join(_field_text(record, f, where) for f in fields)]
        segments = [s for t in texts for s in split_gaps(t, gap_markers)]
        items.append(EvalItem(spec.name, f"{spec.name}/{len(items)}", segments))
    if not items:
        field_note = f" (fields {', '.join(fields)})" if fields else ""
        raise EvalSetError(f"{spec.path}: no records{field_note}: file is empty")
    return items, {}


def load_evalsets(specs: Sequence[EvalSetSpec], gap_markers: Sequence[str] = GAP_MARKERS) -> tuple[list, dict]:
    """All items and protected titles of several eval sets, in spec order."""
    names = [s.name for s in specs]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise EvalSetError(f"--evalset name {dupes[0]!r} given twice; names must be unique")
    items: list[EvalItem] = []
    titles: dict[str, str] = {}
    for spec in specs:
        more, more_titles = load_evalset(spec, gap_markers)
        items.extend(more)
        titles.update(more_titles)
    return items, titles


def resolve_path(path: str) -> str:
    """Expand `~` in local paths (remote URLs unchanged)."""
    return path if "://" in path else str(Path(path).expanduser())
