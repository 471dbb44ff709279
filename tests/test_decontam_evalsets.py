"""Eval-set loaders, bad eval files, and the `decontam-index` command."""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from shared_data import SHARED_DATA

from curation.decontam import load_index
from curation.decontam_cli import add_decontam_index_parser
from curation.evalsets import EvalSetError, load_evalset, parse_evalset_spec, preset_for
from curation.ngrams import ngram_word_string
from curation.sample import sample_dir

REPO = Path(__file__).resolve().parents[1]
EVAL = SHARED_DATA / "evalsets"
FIXTURES = REPO / "tests" / "data" / "decontam"
SAMPLE_EVAL = Path(sample_dir()) / "evalsets"  # HumanEval and the full WikiText-2 test set ship with the demo


def run_index_cli(*argv: str) -> int:
    """Parse and run `decontam-index ARGS` the way the main CLI does."""
    parser = argparse.ArgumentParser(prog="curation")
    sub = parser.add_subparsers(dest="command", required=True)
    add_decontam_index_parser(sub)
    args, extra = parser.parse_known_args(["decontam-index", *argv])
    return args.handler(args, extra)


def test_parse_spec_with_and_without_fields():
    spec = parse_evalset_spec("mine=/data/x.jsonl:question,answer")
    assert (spec.name, spec.path, spec.fields) == ("mine", "/data/x.jsonl", ("question", "answer"))
    assert parse_evalset_spec("w=gs://bucket/dir/test.jsonl").path == "gs://bucket/dir/test.jsonl"
    assert parse_evalset_spec("w=gs://bucket/test.jsonl:text").fields == ("text",)
    assert preset_for("wikitext103") == "wikitext" and preset_for("arc_challenge") == "arc_challenge"
    assert preset_for("my_bench") is None
    with pytest.raises(EvalSetError, match="NAME=PATH"):
        parse_evalset_spec("no-equals-sign")


@pytest.mark.parametrize(
    ("name", "relpath", "expected_lines"),
    [
        ("gsm8k", "gsm8k/test.jsonl", 1319),
        ("humaneval", "humaneval/HumanEval.jsonl.gz", 164),
        ("piqa", "llm-foundry/commonsense_reasoning/piqa.jsonl", 1838),
        ("arc_easy", "llm-foundry/world_knowledge/arc_easy.jsonl", 2376),
        ("triviaqa", "llm-foundry/world_knowledge/triviaqa_sm_sub.jsonl.gz", 3000),
        ("winogrande", "llm-foundry/language_understanding/winogrande.jsonl", 1267),
    ],
)
@pytest.mark.corpus
def test_presets_read_every_record(name, relpath, expected_lines):
    items, titles = load_evalset(parse_evalset_spec(f"{name}={EVAL / relpath}"))
    assert len(items) == expected_lines and titles == {}
    assert all(item.benchmark == name and item.segments for item in items)
    assert len({item.item_id for item in items}) == len(items)


def test_presets_drop_prompt_labels_and_keep_the_gold_answer():
    arc = [json.loads(line) for line in (FIXTURES / "arc_easy_head5.jsonl").open()][:1]
    items, _ = load_evalset(parse_evalset_spec(f"arc_easy={FIXTURES / 'arc_easy_head5.jsonl'}"))
    text = items[0].segments[0]
    assert not text.startswith("Question:")
    assert arc[0]["choices"][arc[0]["gold"]] in text
    gsm, _ = load_evalset(parse_evalset_spec(f"gsm8k={FIXTURES / 'gsm8k_test_head40.jsonl'}"))
    assert "<<" not in gsm[0].segments[0] and "#### 18" in gsm[0].segments[0]


def test_wikitext_articles_titles_and_unk_gaps():
    items, titles = load_evalset(parse_evalset_spec(f"wikitext2={FIXTURES / 'wikitext2_test_head120.txt'}"))
    assert [i.item_id.split(":", 1)[1] for i in items] == ["Robert <unk>", "Du Fu", "Kiss You ( One Direction song )"]
    assert set(titles) == {"Du Fu", "Kiss You ( One Direction song )"}  # titles with <unk> cannot be matched
    # section headings (= = Career = =) stay inside their article; <unk> splits segments
    assert all("<unk>" not in s for i in items for s in i.segments)
    assert len(items[0].segments) > 10
    full, full_titles = load_evalset(parse_evalset_spec(f"wikitext2={SAMPLE_EVAL / 'test.txt.gz'}"))
    assert len(full) >= 55 and "Du Fu" in full_titles


def test_generic_jsonl_csv_parquet_with_fields(tmp_path):
    rows = [{"q": "How many legs does a spider have", "a": "eight", "n": 1}, {"q": "Capital of France", "a": "Paris"}]
    jsonl = tmp_path / "b.jsonl.gz"
    with gzip.open(jsonl, "wt", encoding="utf-8") as f:
        f.writelines(json.dumps(r) + "\n" for r in rows)
    csv_path = tmp_path / "b.csv"
    csv_path.write_text('q,a\n"How many legs does a spider have",eight\n"Capital of France",Paris\n', "utf-8")
    pq_path = tmp_path / "b.parquet"
    pq.write_table(pa.Table.from_pylist([{"q": r["q"], "a": r["a"]} for r in rows]), pq_path)
    array = tmp_path / "b.json"
    array.write_text(json.dumps(rows, indent=2), "utf-8")
    for path in (jsonl, csv_path, pq_path, array):
        items, _ = load_evalset(parse_evalset_spec(f"mine={path}:q,a"))
        assert [ngram_word_string(" ".join(i.segments)) for i in items] == [
            "how many legs does a spider have eight",
            "capital of france paris",
        ]


def test_missing_field_names_file_line_and_field(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"question": "a", "answer": "b"}\n{"question": "c"}\n', "utf-8")
    with pytest.raises(EvalSetError) as err:
        load_evalset(parse_evalset_spec(f"mine={path}:question,answer"))
    assert f"{path}:2" in str(err.value) and "'answer'" in str(err.value)
    # a preset on a file of another format: the preset's field is named
    with pytest.raises(EvalSetError, match="missing field 'question'"):
        load_evalset(parse_evalset_spec(f"gsm8k={SAMPLE_EVAL / 'HumanEval.jsonl.gz'}"))
    csv_path = tmp_path / "bad.csv"
    csv_path.write_text("x,y\n1,2\n", "utf-8")
    with pytest.raises(EvalSetError, match=r"bad\.csv:2: missing field 'text'"):
        load_evalset(parse_evalset_spec(f"mine={csv_path}"))
    broken = tmp_path / "broken.csv"
    broken.write_text('text\n"ok"\n"bad"quote"\n', "utf-8")
    with pytest.raises(EvalSetError, match=r"broken\.csv:\d+: malformed CSV"):
        load_evalset(parse_evalset_spec(f"mine={broken}"))


def test_empty_and_wrongly_encoded_files(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    with pytest.raises(EvalSetError, match=r"empty\.jsonl: file is empty"):
        load_evalset(parse_evalset_spec(f"mine={empty}:text"))
    utf16 = tmp_path / "utf16.jsonl"
    src = (FIXTURES / "gsm8k_test_head40.jsonl").read_text("utf-8")
    utf16.write_bytes(src.encode("utf-16"))
    with pytest.raises(EvalSetError, match=r"utf16\.jsonl: line 1: not UTF-8"):
        load_evalset(parse_evalset_spec(f"gsm8k={utf16}"))
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("text\nok line\ncaf\u00e9 au lait\n".encode("latin-1"))
    with pytest.raises(EvalSetError, match=r"latin1\.csv: line 3: not UTF-8"):
        load_evalset(parse_evalset_spec(f"mine={latin1}"))
    with pytest.raises(EvalSetError, match="file not found"):
        load_evalset(parse_evalset_spec(f"mine={tmp_path / 'missing.jsonl'}"))


def test_cli_builds_index_and_reports_bad_files(tmp_path, capsys):
    out = tmp_path / "idx" / "decontam.npz"
    rc = run_index_cli(
        "--evalset",
        f"gsm8k={FIXTURES / 'gsm8k_test_head40.jsonl'}",
        "--evalset",
        f"wikitext2={FIXTURES / 'wikitext2_test_head120.txt'}",
        "--output",
        str(out),
        "--set",
        "decontaminate.ngram=8",
    )
    assert rc == 0
    index = load_index(out.read_bytes())
    assert index.n == 8 and index.benchmarks == ["gsm8k", "wikitext2"]
    assert index.meta["items_per_benchmark"] == {"gsm8k": 40, "wikitext2": 3}
    assert "wrote" in capsys.readouterr().out

    bad = tmp_path / "bad.jsonl"
    shutil.copy(FIXTURES / "gsm8k_test_head40.jsonl", bad)
    rc = run_index_cli("--evalset", f"mine={bad}:question,solution", "--output", str(tmp_path / "x.npz"))
    err = capsys.readouterr().err.strip()
    assert rc == 2 and "\n" not in err
    assert str(bad) in err and "'solution'" in err
    assert not (tmp_path / "x.npz").exists()
