"""Configuration schema and up-front checks: every mistake is one line and exit 2, before any compute."""

from __future__ import annotations

import ast
import io
import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from curation import config_schema
from curation.cli import main
from curation.config import STAGES, ConfigError, default_config, load_config
from curation.decontam import IndexFormatError, check_index_meta, fuzzy_kind, read_index_meta

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).parent / "data"
EVAL = DATA / "decontam" / "gsm8k_test_head40.jsonl"  # 40 real GSM8K test items
INPUT = DATA / "readers" / "news" / "lee.cor"  # a real input file: every case here must stop before reading it


def _one_line_error(capsys) -> str:
    """The command's stderr, asserted to be exactly one `curation: error:` line (no traceback)."""
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith("curation: error: "), err
    return err


# --- the schema and default.yaml ------------------------------------------------------------------------------


def _yaml_keys(node: dict, prefix: tuple[str, ...], maps: set[tuple[str, ...]]) -> set[str]:
    """Dotted leaf keys of a YAML mapping; the entries of user-extensible maps are spelled `*`."""
    out: set[str] = set()
    for name, value in node.items():
        path = (*prefix, "*" if prefix in maps else str(name))
        if isinstance(value, dict) and value:
            out |= _yaml_keys(value, path, maps)
        else:
            out.add(".".join(path))
    return out


def test_schema_and_default_yaml_describe_exactly_the_same_keys():
    raw = yaml.safe_load((ROOT / "curation" / "data" / "default.yaml").read_text("utf-8"))
    schema = config_schema.schema_keys()
    maps = {tuple(parts[:i]) for k in schema for parts in [k.split(".")] for i, p in enumerate(parts) if p == "*"}
    in_yaml = _yaml_keys(raw, (), maps)
    assert in_yaml - schema == set(), "keys in default.yaml without a line in curation/config_schema.py"
    assert schema - in_yaml == set(), "keys in curation/config_schema.py without a default in default.yaml"
    config_schema.check_config(raw)  # and every default value has its declared type and range


def test_every_key_has_a_one_line_meaning():
    for key in config_schema.schema_keys():
        text = config_schema.meaning(key)
        assert text and "\n" not in text, key


def test_allowed_values_match_what_the_code_accepts():
    from curation.profiles import PROFILES, SIGNAL_READINGS, computed_profiles, profile_name
    from filters.registry import FILTER_STAGES
    from pipelines.dedup import VERIFY_MODES, verify_mode

    assert set(config_schema.choices("profile")) == set(PROFILES)
    assert all(profile_name({"profile": p}) == p for p in config_schema.choices("profile"))
    assert set(config_schema.choices("signal_readings")) == set(SIGNAL_READINGS)
    for value in config_schema.choices("signal_readings"):
        assert computed_profiles({"profile": "datatrove", "signal_readings": value})
    assert set(config_schema.choices("sources.web.stages")) == set(STAGES)
    assert set(config_schema.OVERRIDABLE) == set(FILTER_STAGES)
    for value in config_schema.choices("dedup.verify"):
        assert verify_mode({"verify": value}) in VERIFY_MODES
    for value in config_schema.choices("decontaminate.fuzzy"):
        assert fuzzy_kind(value) in ("off", "masked", "seeds")


def _config_default_lookups(path: Path, keys: set[str]) -> list[str]:
    """`x.get("<config key>", default)` calls in one module: a default that repeats default.yaml."""
    found = []
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "get"
            and len(node.args) == 2
            and isinstance(node.args[0], ast.Constant)
            and node.args[0].value in keys
        ):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno}: .get({node.args[0].value!r}, ...)")
    return found


def test_library_code_looks_config_keys_up_directly():
    keys = {key.rsplit(".", 1)[-1] for key in config_schema.schema_keys()}
    files = sorted((ROOT / "curation").rglob("*.py")) + sorted((ROOT / "filters").rglob("*.py"))
    assert [hit for f in files for hit in _config_default_lookups(f, keys)] == []


# --- load_config ----------------------------------------------------------------------------------------------


def test_a_run_config_missing_a_newer_key_gets_its_default_and_keeps_its_own_values():
    old = default_config()
    del old["quality"]["min_stop_words"]
    old["quality"]["min_words"] = 10
    old["sources"]["forum"] = {"priority": 9, "stages": ["quality"]}
    cfg = load_config(overrides=["quality.max_words=500"], base=old)
    assert cfg["quality"]["min_stop_words"] == default_config()["quality"]["min_stop_words"]
    assert (cfg["quality"]["min_words"], cfg["quality"]["max_words"]) == (10, 500)
    assert cfg["sources"]["forum"] == {"priority": 9, "stages": ["quality"]}


def test_library_entry_points_reject_an_incomplete_section():
    section = default_config()["decontaminate"]
    del section["policy"]
    with pytest.raises(ConfigError, match="decontaminate: missing policy"):
        check_index_meta({"ngram": 13}, section)


# --- one error class per case, through `curation run` -------------------------------------------------------

ERRORS = [
    # unknown key, with the close key
    (["--set", "quality.min_wrods=10"], ["unknown config key 'quality.min_wrods'", "did you mean quality.min_words?"]),
    # unknown section
    (["--set", "qualty.min_words=10"], ["unknown config section 'qualty'", "did you mean quality?"]),
    # a key put in the wrong section
    (["--set", "quality.ngram=5"], ["unknown config key 'quality.ngram'", "decontaminate.ngram or dedup.ngram"]),
    # wrong types
    (["--set", "quality.min_words=abc"], ["quality.min_words: expected an integer, got 'abc'"]),
    (["--set", "dedup.threshold=high"], ["dedup.threshold: expected a number, got 'high'"]),
    (["--set", "quality.min_words=true"], ["quality.min_words: expected an integer, got True"]),
    (["--set", "language.keep=en"], ["language.keep: expected a list, got 'en'"]),
    (["--set", "quality=5"], ["quality: expected a mapping, got 5"]),
    # out of range
    (["--set", "language.min_score=1.5"], ["language.min_score: expected a value <= 1"]),
    (["--set", "output.item_bytes=0"], ["output.item_bytes: expected a value >= 1"]),
    # not one of the allowed values
    (["--set", "decontaminate.policy=jacard"], ["decontaminate.policy: expected one of", "did you mean 'jaccard'?"]),
    # keys that contradict each other
    (["--set", "dedup.bands=32"], ["dedup: bands*rows = 192 exceeds num_perm = 128"]),
    (["--set", "quality.min_words=200000"], ["quality: min_words (200000) is above max_words (100000)"]),
    # sources: shape of a declaration, its stage chain, per-source overrides
    (["--set", "sources.forum={stages: [quality]}"], ["sources.forum: missing priority"]),
    (["--set", "sources.wikipeda={language: {min_score: 0.5}}"], ["did you mean sources.wikipedia?"]),
    (["--set", "sources.web.stages=[qualty, dedup]"], ["sources.web.stages[0]", "did you mean 'quality'?"]),
    (["--set", "sources.web.stage=[quality]"], ["unknown config key 'sources.web.stage'", "sources.web.stages?"]),
    (
        ["--set", "sources.books.language={min_scor: 0.5}"],
        ["unknown config key 'sources.books.language.min_scor'", "did you mean sources.books.language.min_score?"],
    ),
    (["--set", "sources.books.quality={min_words: x}"], ["sources.books.quality.min_words: expected an integer"]),
]


@pytest.mark.parametrize(("args", "expected"), ERRORS, ids=[" ".join(a) for a, _ in ERRORS])
def test_config_mistakes_exit_2_with_one_line_before_any_output(tmp_path, capsys, args, expected):
    out = tmp_path / "out"
    assert main(["run", "--input", f"news:lines={INPUT}", "--output", str(out), *args]) == 2
    err = _one_line_error(capsys)
    for text in expected:
        assert text in err
    assert not out.exists()


def test_a_config_file_with_a_misspelled_section_or_key(tmp_path, capsys):
    path = tmp_path / "mine.yaml"
    path.write_text("qualty:\n  min_words: 10\nrepetition:\n  max_dup_line_fraction: 0.5\n")
    assert (
        main(["run", "--input", f"news:lines={INPUT}", "--output", str(tmp_path / "out"), "--config", str(path)]) == 2
    )
    err = _one_line_error(capsys)
    assert "unknown config section 'qualty' (did you mean quality?)" in err
    assert "unknown config key 'repetition.max_dup_line_fraction' (did you mean repetition.max_dup_line_frac?)" in err
    assert not (tmp_path / "out").exists()


def _minimal_finished_run(path: Path) -> Path:
    """An OUT whose manifest records the run's config (all that `rethreshold` reads before deciding)."""
    path.mkdir()
    (path / "manifest.json").write_text(json.dumps({"config": load_config(), "shards": [], "stages": None}))
    (path / "_SUCCESS").write_text("{}\n")
    return path


@pytest.mark.parametrize("command", ["run", "config", "rethreshold", "decontam-index"])
def test_every_command_that_loads_config_validates_it(tmp_path, capsys, command):
    bad = ["--set", "dedup.threshold=high"]
    out = tmp_path / "out"
    argv = {
        "run": ["run", "--input", f"news:lines={INPUT}", "--output", str(out), *bad],
        "config": ["config", "show", *bad],
        "rethreshold": ["rethreshold", str(_minimal_finished_run(tmp_path / "run")), "--output", str(out), *bad],
        "decontam-index": ["decontam-index", "--evalset", f"gsm8k={EVAL}", "--output", str(out), *bad],
    }[command]
    assert main(argv) == 2
    assert "dedup.threshold: expected a number, got 'high'" in _one_line_error(capsys)
    assert not out.exists()


def test_rethreshold_without_a_recorded_config_is_a_usage_error(tmp_path, capsys):
    run = tmp_path / "run"
    run.mkdir()
    (run / "manifest.json").write_text(json.dumps({"shards": []}))
    (run / "_SUCCESS").write_text("{}\n")
    assert main(["rethreshold", str(run), "--output", str(tmp_path / "out")]) == 2
    assert "holds no run configuration" in _one_line_error(capsys)


# --- --decontam-index checked up front ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def indexes(tmp_path_factory):
    """Real indexes of 40 GSM8K test items: one with the default 13-grams, one built with 8-grams."""
    root = tmp_path_factory.mktemp("indexes")
    built = {}
    for name, extra in (("n13", []), ("n8", ["--set", "decontaminate.ngram=8"])):
        built[name] = root / f"{name}.npz"
        assert main(["decontam-index", "--evalset", f"gsm8k={EVAL}", "--output", str(built[name]), *extra]) == 0
    return built


def test_index_metadata_is_read_without_the_arrays(indexes):
    with open(indexes["n13"], "rb") as fh:
        meta = read_index_meta(fh)
    assert meta["ngram"] == 13 and meta["items"] == len(EVAL.read_text("utf-8").splitlines())
    check_index_meta(meta, default_config()["decontaminate"])
    with open(indexes["n8"], "rb") as fh, pytest.raises(IndexFormatError, match="built with ngram=8"):
        check_index_meta(read_index_meta(fh), default_config()["decontaminate"])


def _other_npz(path: Path) -> Path:
    with open(path, "wb") as fh:
        np.savez(fh, hashes=np.arange(3, dtype=np.uint64))
    return path


BAD_INDEXES = {
    "missing": (lambda tmp, idx: tmp / "no-such-index.npz", "cannot read it"),
    "not an index": (lambda tmp, idx: _write(tmp / "junk.npz", EVAL.read_bytes()), "not a decontamination index"),
    "truncated": (
        lambda tmp, idx: _write(tmp / "cut.npz", idx["n13"].read_bytes()[: idx["n13"].stat().st_size // 2]),
        "not a decontamination index",
    ),
    "other arrays": (lambda tmp, idx: _other_npz(tmp / "other.npz"), "not a decontamination index: no 'items'"),
    "other n-gram size": (lambda tmp, idx: idx["n8"], "decontaminate.ngram=13 but the index was built with ngram=8"),
}


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("case", list(BAD_INDEXES))
def test_a_bad_decontam_index_is_one_line_exit_2_before_any_output(tmp_path, capsys, indexes, case):
    make, message = BAD_INDEXES[case]
    index = make(tmp_path, indexes)
    out = tmp_path / "out"
    assert main(["run", "--input", f"news:lines={INPUT}", "--output", str(out), "--decontam-index", str(index)]) == 2
    err = _one_line_error(capsys)
    assert f"--decontam-index {index}:" in err and message in err
    assert not out.exists()


def test_read_index_meta_reads_a_non_seekable_stream(indexes):
    class Stream(io.RawIOBase):
        def __init__(self, data: bytes):
            self.inner = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def readinto(self, b) -> int:
            data = self.inner.read(len(b))
            b[: len(data)] = data
            return len(data)

    meta = read_index_meta(io.BufferedReader(Stream(indexes["n13"].read_bytes())))
    assert meta["ngram"] == 13


# --- curation stats on a broken stats.json ------------------------------------------------------------------

BAD_STATS = {
    "truncated JSON": (b'{"sources": {"web": ', "is corrupt"),
    "not an object": (b"[1, 2, 3]", "is corrupt"),
    "not a stats file": (b'{"hello": 1}', "is corrupt"),
    "not UTF-8": (b"\xff\xfe\x00garbage", "is corrupt"),
}


STATS_CASES = [(case, flag) for case in BAD_STATS for flag in ([], ["--json"])]


@pytest.mark.parametrize(("case", "json_flag"), [c for c in STATS_CASES if c != ("not a stats file", ["--json"])])
def test_stats_on_a_corrupt_stats_json_prints_one_line(tmp_path, capsys, case, json_flag):
    content, message = BAD_STATS[case]
    (tmp_path / "stats.json").write_bytes(content)  # in an otherwise finished run
    (tmp_path / "manifest.json").write_text("{}")
    (tmp_path / "_SUCCESS").write_text("{}\n")
    assert main(["stats", str(tmp_path), *json_flag]) == 2
    assert message in _one_line_error(capsys)


def test_stats_without_stats_json_prints_one_line(tmp_path, capsys):
    assert main(["stats", str(tmp_path / "nothing")]) == 2
    assert "is not an output of this tool" in _one_line_error(capsys)
    finished = tmp_path / "finished"
    finished.mkdir()
    (finished / "manifest.json").write_text("{}")
    (finished / "_SUCCESS").write_text("{}\n")
    assert main(["stats", str(finished)]) == 2
    assert "no stats.json under" in _one_line_error(capsys)
