"""Typed definition of every config key (type, allowed values or range, meaning); defaults stay in default.yaml.

One pydantic model per section, one line per key: `name: Type = key("meaning")`. No key has a default here:
`curation/data/default.yaml` is the single source of default values, and a test checks that it and this module
describe exactly the same keys. `check_config` validates a whole effective config (defaults, `--config` and every
`--set` merged) and raises `ConfigError` with one line per problem, so a mistake stops a run before any compute.
"""

from __future__ import annotations

import difflib
import re
import types
from collections.abc import Iterator, Mapping
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic.fields import FieldInfo

from curation import extract, langid
from curation.config import STAGES, ConfigError
from curation.profiles import PROFILES, SIGNAL_READINGS

Stage = Literal[STAGES]  # type: ignore[valid-type]
Count = Annotated[int, Field(ge=0)]
Positive = Annotated[int, Field(ge=1)]
Number = Annotated[float, Field(ge=0)]
Fraction = Annotated[float, Field(ge=0, le=1)]


def key(meaning: str) -> Any:
    """A required config key with its one-line meaning (the value comes from default.yaml)."""
    return Field(description=meaning)


def override(stage: str) -> Any:
    """An optional `sources.<name>.<stage>` slot: keys of the `stage` section that differ for one source."""
    return Field(default=None, description=f"keys of the `{stage}` section that differ for this source")


class Section(BaseModel):
    """A config section: strict types (no silent coercion of `'abc'` or `true` to a number), no unknown keys."""

    model_config = ConfigDict(strict=True, extra="forbid")


class Source(Section):
    """One `sources.<name>` entry: its dedup priority, its stage chain, optional per-source stage overrides."""

    priority: int = key("dedup priority when duplicates collide: the lower number keeps its copy")
    stages: list[Stage] = key("the stage chain this source runs when --stages is not given")
    language: dict[str, Any] | None = override("language")
    content: dict[str, Any] | None = override("content")
    quality: dict[str, Any] | None = override("quality")
    repetition: dict[str, Any] | None = override("repetition")
    code: dict[str, Any] | None = override("code")


OVERRIDABLE = tuple(name for name, field in Source.model_fields.items() if not field.is_required())


class Extract(Section):
    """HTML main-text extraction (web WARC responses, HTML news)."""

    backend: Literal[extract.BACKENDS] = key("main-text extractor for HTML documents")  # type: ignore[valid-type]
    fallback_backend: Literal[("auto", *extract.BACKENDS)] | None = key(  # type: ignore[valid-type]
        "second extractor for pages the first handles badly (auto = the other backend, null = none)"
    )
    fallback_min_chars: Count = key("retry with the fallback below this many characters")
    resiliparse_max_short_line_frac: Fraction | None = key(
        "resiliparse only: also retry when more than this share of its lines are short fragments (null = off)"
    )


class WikipediaReader(Section):
    """MediaWiki dump reader options."""

    namespaces: list[int] = key("MediaWiki namespaces kept (0 = articles)")


class CodeReader(Section):
    """Code repository archive reader options."""

    max_file_bytes: Positive = key("code files larger than this are skipped while reading")
    vendored_dirs: list[str] = key("directory names whose files are skipped as vendored")


class Readers(Section):
    """Engineering input limits of the readers (not from the paper)."""

    max_document_bytes: Positive = key("a larger record or file is skipped as read.too_large")
    spool_memory_bytes: Count = key("archives are spooled in memory up to this size, on disk beyond")
    max_archive_bytes: Positive = key("a larger archive becomes a Failure")
    wikipedia: WikipediaReader = key("MediaWiki dump reader options")
    code: CodeReader = key("code archive reader options")


class Language(Section):
    """Language identification and the language filter."""

    backend: Literal[langid.BACKENDS] = key("language-ID backend")  # type: ignore[valid-type]
    model_path: str | None = key("another fastText LID model file; null = the packaged lid.176.ftz")
    keep: list[str] = key("language labels kept (empty = any language)")
    min_score: Fraction = key("documents with a lower top language score are dropped")
    max_chars: Positive | None = key("characters sampled per document for language ID; null = the whole text")


class Quality(Section):
    """Gopher quality rules (Rae et al. 2021, A.1.1): drop when outside."""

    min_words: Count = key("fewer words: dropped")
    max_words: Count = key("more words: dropped")
    min_mean_word_length: Number = key("shorter mean word length: dropped")
    max_mean_word_length: Number = key("longer mean word length: dropped")
    max_hash_to_word_ratio: Number = key("more `#` per word: dropped")
    max_ellipsis_to_word_ratio: Number = key("more ellipses per word: dropped")
    max_bullet_lines_ratio: Fraction = key("a larger share of bullet lines: dropped")
    max_ellipsis_lines_ratio: Fraction = key("a larger share of lines ending in an ellipsis: dropped")
    min_alpha_words_ratio: Fraction = key("a smaller share of words with a letter: dropped")
    min_stop_words: Count = key("fewer distinct stop words: dropped")

    @model_validator(mode="after")
    def _ordered(self) -> Quality:
        if self.min_words > self.max_words:
            raise ValueError(f"min_words ({self.min_words}) is above max_words ({self.max_words})")
        if self.min_mean_word_length > self.max_mean_word_length:
            raise ValueError("min_mean_word_length is above max_mean_word_length")
        return self


class Repetition(Section):
    """Gopher repetition rules (Table A1): drop when above."""

    max_dup_para_frac: Fraction = key("share of duplicate paragraphs above which a document is dropped")
    max_dup_para_char_frac: Fraction = key("share of characters in duplicate paragraphs")
    max_dup_line_frac: Fraction = key("share of duplicate lines")
    max_dup_line_char_frac: Fraction = key("share of characters in duplicate lines")
    max_top_2gram_char_frac: Fraction = key("character share of the most frequent word 2-gram")
    max_top_3gram_char_frac: Fraction = key("character share of the most frequent word 3-gram")
    max_top_4gram_char_frac: Fraction = key("character share of the most frequent word 4-gram")
    max_dup_5gram_char_frac: Fraction = key("character share of duplicated word 5-grams")
    max_dup_6gram_char_frac: Fraction = key("character share of duplicated word 6-grams")
    max_dup_7gram_char_frac: Fraction = key("character share of duplicated word 7-grams")
    max_dup_8gram_char_frac: Fraction = key("character share of duplicated word 8-grams")
    max_dup_9gram_char_frac: Fraction = key("character share of duplicated word 9-grams")
    max_dup_10gram_char_frac: Fraction = key("character share of duplicated word 10-grams")


class Content(Section):
    """URL-domain and word blocklists, the open stand-in for SafeSearch."""

    domain_blocklist: str | None = key("file of blocked URL domains; null = the packaged list")
    word_blocklist: str | None = key("file of blocked words; null = the packaged list")
    block_url_domains: bool = key("drop a document whose URL host or a parent domain is listed")
    max_blocked_word_frac: Fraction = key("a larger share of blocklisted words: dropped")
    max_blocked_words: Count = key("more blocklisted words: dropped")


class Code(Section):
    """Code-file rules of the code source."""

    allowed_licenses: list[str] = key("SPDX licence ids accepted (lower case)")
    require_license: bool = key("drop files whose metadata names no licence")
    max_file_bytes: Positive = key("larger files: dropped")
    max_line_length: Positive = key("a longer line: dropped")
    max_mean_line_length: Number = key("a longer mean line: dropped")
    min_alnum_frac: Fraction = key("a smaller share of alphanumeric characters: dropped")
    autogenerated_header_lines: Count = key("first lines searched for generator markers")
    drop_autogenerated: bool = key("drop files marked as generated")


class Dedup(Section):
    """Exact and MinHash LSH near-duplicate removal across all sources."""

    exact: bool = key("remove exact duplicates (normalised text)")
    near: bool = key("remove MinHash near-duplicates")
    ngram: Positive = key("word n-gram size of the near-dedup shingles")
    lowercase: bool = key("lower-case text before shingling")
    strip_punctuation: bool = key("drop punctuation before shingling")
    unicode_normalization: Literal["NFC", "NFKC", "NFD", "NFKD", ""] | None = key("Unicode form; '' = none")
    threshold: Fraction = key("Jaccard similarity at or above which two documents are duplicates")
    num_perm: Positive = key("MinHash permutations per signature")
    bands: Positive | None = key("LSH bands; null (with rows) = chosen for the threshold")
    rows: Positive | None = key("LSH rows per band; null (with bands) = chosen for the threshold")
    false_negative_weight: Fraction = key("weight of missed pairs when bands/rows are chosen")
    seed: Count = key("seed of the MinHash permutations")
    verify: bool | Literal["jaccard", "signature", "none"] = key("how LSH candidates are confirmed")
    all_pairs_up_to: Count = key("buckets up to this size emit all pairs, larger ones a star")

    @model_validator(mode="after")
    def _bands_rows(self) -> Dedup:
        if (self.bands is None) != (self.rows is None):
            raise ValueError("bands and rows must both be numbers or both be null")
        if self.bands is not None and self.rows is not None and self.bands * self.rows > self.num_perm:
            raise ValueError(f"bands*rows = {self.bands * self.rows} exceeds num_perm = {self.num_perm}")
        return self


class Decontaminate(Section):
    """Test-set decontamination against a prebuilt n-gram index."""

    ngram: Positive = key("word n-gram size of the index (fixed when the index is built)")
    policy: Literal["overlap", "jaccard"] = key("overlap = shared n-grams (GPT-3), jaccard = the paper's rule")
    min_matched_ngrams: Positive = key("overlap: n-grams shared with one eval item that flag a document")
    jaccard_threshold: Fraction = key("jaccard: a document above this similarity to an item is dropped")
    fuzzy: bool | Literal["seeds", "masked", "off"] = key("edited-copy matching built into the index")
    fuzzy_seed_words: Positive = key("seeds: seed length in words")
    fuzzy_min_words: Positive = key("seeds: equal words an aligned chain needs")
    fuzzy_min_words_short: Positive = key("seeds: the floor of that for items shorter than ngram")
    fuzzy_max_shift: Count = key("seeds: words an alignment may shift between chained segments")
    fuzzy_max_gap: Count = key("seeds: unmatched document words allowed between chained segments")
    fuzzy_max_items_per_seed: Count = key("seeds: a seed in more items is too common to use (0 = keep all)")
    max_items_per_ngram: Count = key("build: drop n-grams shared by more items (0 = keep all)")
    min_item_words: Positive = key("build: shorter items are indexed whole when they have at least this many words")
    gap_markers: list[str] = key("build: eval-text tokens standing for a lost word")
    action: Literal["drop", "cut"] = key("drop the document, or cut the matched span out (overlap only)")
    cut_margin_chars: Count = key("cut: characters removed on each side of a matched span")
    cut_min_piece_chars: Count = key("cut: remaining pieces shorter than this are discarded")
    cut_max_pieces: Positive = key("cut: a document that would split into more pieces is dropped")
    title_sources: list[str] = key("sources whose documents are dropped when their title is an eval article")
    max_matches_per_doc: Count = key("rows per document in decontam/matches.parquet")
    example_span_chars: Count = key("length cap of example_span in the match report")


class Output(Section):
    """Output shard sizes and Parquet settings."""

    item_bytes: Positive = key("input bytes per work item (uncompressed-equivalent); one output shard per item")
    row_group_rows: Positive = key("rows per Parquet row group")
    compression: Literal["zstd", "snappy", "gzip", "brotli", "lz4", "none"] = key("Parquet compression codec")


class Tokenizer(Section):
    """`curation tokenizer train`: SentencePiece settings and the training sample."""

    vocab_size: Positive = key("pieces in the vocabulary (Gopher: 32,000)")
    model_type: Literal["bpe", "unigram"] = key("SentencePiece model type")
    normalization: Literal["nfkc", "identity", "nmt_nfkc", "nfkc_cf", "nmt_nfkc_cf"] = key(
        "SentencePiece normalisation rule"
    )
    byte_fallback: bool = key("unknown characters become UTF-8 byte pieces, so no text is lost")
    split_digits: bool = key("every digit is a piece of its own")
    character_coverage: Fraction = key(
        "share of characters that get pieces of their own (lowered for small vocabularies)"
    )
    sample_bytes: Positive = key("training text cap, split across sources by the mixture weights")
    max_sentence_bytes: Positive = key("longer lines are cut into pieces of this size for training")
    seed: int = key("seeds the document choice (a hash of seed + document id)")
    num_threads: Positive = key("training threads")


class Tokenize(Section):
    """`curation tokenize`: the export's per-document limits."""

    max_document_bytes: Positive = key("larger documents are dead-lettered to TOK/failed/")
    batch_docs: Positive = key("documents per encode call")


class Mixture(Section):
    """Source sampling weights for `plan`, the loader and tokenizer training."""

    default: str = key("the preset used when none is named")
    max_epochs: Number = key("`plan` warns above this many epochs of a source")
    presets: dict[str, dict[str, Number]] = key("named mixtures: source -> share of training tokens")


class Config(Section):
    """The whole configuration: one field per top-level section of default.yaml."""

    profile: Literal[PROFILES] = key("reading of what the paper leaves open: gopher (its wording), datatrove")  # type: ignore[valid-type]
    signal_readings: Literal[SIGNAL_READINGS] = key(  # type: ignore[valid-type]
        "quality/repetition signals stored: both profiles' (rethreshold switches profile for free), or the selected one's"
    )
    stage_order: list[Stage] = key("canonical stage order")
    sources: dict[str, Source] = Field(min_length=1, description="input sources: priority, stage chain, overrides")
    extract: Extract = key("HTML main-text extraction")
    readers: Readers = key("input limits of the readers")
    language: Language = key("language identification and filter")
    quality: Quality = key("Gopher quality rules")
    repetition: Repetition = key("Gopher repetition rules")
    content: Content = key("URL-domain and word blocklists")
    code: Code = key("code-file rules for the code source")
    dedup: Dedup = key("exact and MinHash near-duplicate removal")
    decontaminate: Decontaminate = key("test-set decontamination")
    output: Output = key("output shards")
    tokenizer: Tokenizer = key("tokenizer training")
    tokenize: Tokenize = key("the tokenized export")
    mixture: Mixture = key("source mixtures")


SECTIONS: dict[str, type[Section]] = {
    name: field.annotation
    for name, field in Config.model_fields.items()
    if isinstance(field.annotation, type) and issubclass(field.annotation, Section)
}


# --- checking -----------------------------------------------------------------------------------------------


def check_config(cfg: Mapping[str, Any]) -> None:
    """Raise `ConfigError` (one line) unless `cfg` has every key, only known keys, and values of the right type."""
    try:
        Config.model_validate(cfg)
    except ValidationError as exc:
        raise ConfigError(_one_line(exc.errors(), ())) from None
    problems: list[str] = []
    for name, spec in cfg["sources"].items():
        for stage in OVERRIDABLE:
            changes = spec.get(stage)
            if changes:
                try:
                    SECTIONS[stage].model_validate({**cfg[stage], **changes})
                except ValidationError as exc:
                    problems.append(_one_line(exc.errors(), (stage,), prefix=("sources", name)))
    if problems:
        raise ConfigError("; ".join(problems))


def check_section(name: str, section: Mapping[str, Any]) -> None:
    """Raise `ConfigError` unless `section` is a complete, valid `name` section (for library entry points)."""
    try:
        SECTIONS[name].model_validate(section)
    except ValidationError as exc:
        raise ConfigError(_one_line(exc.errors(), (name,))) from None


def schema_keys() -> set[str]:
    """Every required key as a dotted path; entries of user maps appear as `*` (e.g. `sources.*.priority`)."""
    return set(_paths(Config, ()))


def meaning(path: str) -> str | None:
    """The one-line meaning of a dotted key (`sources.<name>.priority` works for any name), or None."""
    field, _, _ = _resolve(tuple(path.split(".")))
    return field.description if field is not None else None


def choices(path: str) -> tuple[Any, ...]:
    """Allowed values of an enumerated key or of its list items (Literal members, True/False for a bool)."""
    field, _, _ = _resolve(tuple(path.split(".")))
    if field is None:
        raise KeyError(path)
    out: list[Any] = []
    pending = [field.annotation]
    while pending:
        ann = pending.pop(0)
        if get_origin(ann) is Literal:
            out.extend(get_args(ann))
        elif ann is bool:
            out.extend((True, False))
        elif get_origin(ann) is list:
            pending.append(get_args(ann)[0])
        elif get_origin(ann) in (Union, types.UnionType, Annotated):
            pending[:0] = get_args(ann)[:1] if get_origin(ann) is Annotated else get_args(ann)
    return tuple(out)


def _paths(model: type[BaseModel], prefix: tuple[str, ...]) -> Iterator[str]:
    for name, field in model.model_fields.items():
        if not field.is_required():
            continue
        ann, prefix_here = _unwrap(field.annotation), (*prefix, name)
        while get_origin(ann) is dict:  # user maps, possibly nested (mixture.presets.<preset>.<source>)
            ann, prefix_here = _unwrap(get_args(ann)[1]), (*prefix_here, "*")
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            yield from _paths(ann, prefix_here)
        else:
            yield ".".join(prefix_here)


def _unwrap(ann: Any) -> Any:
    """`X` of `Annotated[X, ...]` and of `X | None`; anything else unchanged."""
    while True:
        if get_origin(ann) is Annotated:
            ann = get_args(ann)[0]
            continue
        if get_origin(ann) in (Union, types.UnionType):
            args = [a for a in get_args(ann) if a is not type(None)]
            if len(args) == 1:
                ann = args[0]
                continue
        return ann


def _resolve(loc: tuple[Any, ...]) -> tuple[FieldInfo | None, tuple[str, ...], list[str]]:
    """Walk an error location through the schema: (leaf field, its path, sibling keys where the walk stopped)."""
    ann: Any = Config
    field: FieldInfo | None = None
    path: list[str] = []
    for part in loc:
        ann = _unwrap(ann)
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            if part not in ann.model_fields:
                return None, (*path, str(part)), list(ann.model_fields)
            field = ann.model_fields[part]
            ann = field.annotation
            path.append(str(part))
        elif get_origin(ann) is dict and isinstance(part, str):
            ann = get_args(ann)[1]
            path.append(part)
        elif get_origin(ann) is list and isinstance(part, int):
            ann = get_args(ann)[0]
            path[-1] += f"[{part}]"
        else:
            break  # a union member's tag: the field itself is the place
    return field, tuple(path), []


_EXPECTED = {
    "int_type": "an integer",
    "int_parsing": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "a string",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
    "too_short": "at least one entry",
}


def _expected(err: Mapping[str, Any]) -> str:
    kind = err["type"]
    ctx = err.get("ctx") or {}
    if kind in _EXPECTED:
        return _EXPECTED[kind]
    if kind == "literal_error":
        return "one of " + ctx["expected"].replace("' or '", "', '")
    for name, op in (("greater_than_equal", ">="), ("greater_than", ">"), ("less_than_equal", "<=")):
        if kind == name:
            return f"a value {op} {next(iter(ctx.values()))}"
    return str(err["msg"]).removeprefix("Value error, ")


def _suggest(word: str, candidates: list[str]) -> list[str]:
    return difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)


def _elsewhere(leaf: str) -> list[str]:
    """Dotted keys in other sections whose last part is (close to) `leaf`, for a key put in the wrong section."""
    full = sorted(p for p in schema_keys() if "*" not in p)
    by_leaf: dict[str, list[str]] = {}
    for p in full:
        by_leaf.setdefault(p.rsplit(".", 1)[-1], []).append(p)
    close = difflib.get_close_matches(leaf, list(by_leaf), n=1, cutoff=0.8)
    return by_leaf[close[0]][:3] if close else []


def _describe(group: list[Mapping[str, Any]], path: str, field: FieldInfo | None) -> str:
    """One problem at one key, e.g. `quality.min_words: expected an integer, got 'abc' [fewer words: dropped]`."""
    err = group[0]
    if err["type"] == "value_error":
        return f"{path}: {_expected(err)}"
    expected = " or ".join(dict.fromkeys(_expected(e) for e in group))
    got = repr(err["input"])
    what = f"{path}: expected {expected}, got {got if len(got) <= 60 else got[:57] + '...'}"
    if err["type"] == "literal_error" and isinstance(err["input"], str):
        choices = re.findall(r"'([^']*)'", (err.get("ctx") or {}).get("expected", ""))
        close = _suggest(err["input"], choices)
        what += f" (did you mean {close[0]!r}?)" if close else ""
    if field is not None and field.description:
        what += f" [{field.description}]"
    return what


def _missing(parent: tuple[str, ...], names: list[str]) -> str:
    """Required keys absent under one section or source, e.g. `sources.forum: missing priority`."""
    what = f"{'.'.join(parent) or 'config'}: missing {', '.join(names)}"
    if len(parent) == 2 and parent[0] == "sources":
        close = _suggest(parent[1], [p for p in _default_sources() if p != parent[1]])
        what += " (a new source needs priority and stages"
        what += f"; did you mean sources.{close[0]}?)" if close else ")"
    return what


def _one_line(errors: list[Any], base: tuple[str, ...], prefix: tuple[str, ...] = ()) -> str:
    """All validation errors as one line: unknown keys with a "did you mean", then missing, type and range problems."""
    grouped: dict[tuple[str, ...], list[Mapping[str, Any]]] = {}
    fields: dict[tuple[str, ...], FieldInfo | None] = {}
    missing: dict[tuple[str, ...], list[str]] = {}
    unknown: list[str] = []
    for err in errors:
        loc = (*base, *err["loc"])
        field, path, siblings = _resolve(loc)
        if err["type"] == "extra_forbidden":
            kind = "section" if len(path) == 1 and not prefix else "key"
            close = _suggest(path[-1], siblings) or _elsewhere(path[-1])
            spelled = [".".join((*prefix, *path[:-1], c)) if "." not in c else c for c in close]
            hint = f" (did you mean {' or '.join(spelled)}?)" if spelled else ""
            unknown.append(f"unknown config {kind} {'.'.join((*prefix, *path))!r}{hint}")
        elif err["type"] == "missing":
            missing.setdefault((*prefix, *path[:-1]), []).append(path[-1])
        else:
            grouped.setdefault(path, []).append(err)
            fields[path] = field
    problems = unknown + [_missing(parent, names) for parent, names in missing.items()]
    problems += [_describe(g, ".".join((*prefix, *p)), fields[p]) for p, g in grouped.items()]
    more = f"; and {len(problems) - 5} more" if len(problems) > 5 else ""
    return "; ".join(problems[:5]) + more


def _default_sources() -> list[str]:
    from curation.config import default_config

    return list(default_config()["sources"])
