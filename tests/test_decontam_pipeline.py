"""The Decontaminate PTransform on the DirectRunner, index read through Beam FileSystems."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import pyarrow.parquet as pq
from pipeline_helpers import outcome, run_documents

from curation.config import load_config
from curation.decontam import build_index, save_index
from curation.evalsets import load_evalsets, parse_evalset_spec
from curation.schema import Document
from pipelines.write import MATCH_SCHEMA, merged_report, parquet_bytes, stage_report_rows

MATCH_KEYS = ("id", "benchmark", "item_id")

REPO = Path(__file__).resolve().parents[1]
FIXTURES = REPO / "tests" / "data" / "decontam"
READERS = REPO / "tests" / "data" / "readers"


def test_decontaminate_routes_every_document_once(tmp_path):
    cfg = load_config()
    specs = [
        parse_evalset_spec(f"gsm8k={FIXTURES / 'gsm8k_test_head40.jsonl'}"),
        parse_evalset_spec(f"wikitext2={FIXTURES / 'wikitext2_test_head120.txt'}"),
    ]
    items, titles = load_evalsets(specs)
    index_path = tmp_path / "index.npz"
    with open(index_path, "wb") as fh:
        save_index(build_index(items, cfg["decontaminate"], titles), fh)

    question = json.loads((FIXTURES / "gsm8k_test_head40.jsonl").read_text("utf-8").split("\n")[12])["question"]
    news = (READERS / "news" / "lee.cor").read_text("utf-8", "replace").splitlines()
    book = gzip.decompress((READERS / "books" / "pg42.txt.gz").read_bytes()).decode("utf-8")
    docs = [Document(id=f"news#{i}", source="news", text=line) for i, line in enumerate(news[:20])]
    docs.append(Document(id="news#contaminated", source="news", text="Reported today: " + question))
    docs.append(
        Document(id="books#jekyll", source="books", text=book[:20000] + "\n\n" + question + "\n\n" + book[20000:40000])
    )
    docs.append(Document(id="wiki#dufu", source="wikipedia", text="Du Fu was a Chinese poet.", title="Du Fu"))

    code, out = run_documents(
        docs,
        tmp_path,
        "--decontam-index",
        str(index_path),
        "--set",
        "decontaminate.action=cut",
        stages="decontaminate",
    )
    assert code == 0
    result = outcome(out)
    assert sorted((r["id"], r["reason"]) for r in result["removed"]) == [
        ("news#contaminated", "decontaminate.gsm8k"),
        ("wiki#dufu", "decontaminate.wikipedia_title"),
    ]
    kept = {r["id"]: r for r in result["kept"]}
    assert sorted(kept) == sorted([f"news#{i}" for i in range(20)] + ["books#jekyll"])
    assert "decontam_cut" in kept["books#jekyll"]["meta"] and question not in kept["books#jekyll"]["text"]
    assert all("decontam_cut" not in kept[f"news#{i}"]["meta"] for i in range(20))
    matches = pq.read_table(out / "decontam" / "matches.parquet").to_pylist()
    assert sorted((r["id"], r["benchmark"], r["item_id"]) for r in matches) == sorted(
        [
            ("news#contaminated", "gsm8k", "gsm8k/12"),
            ("books#jekyll", "gsm8k", "gsm8k/12"),
            ("wiki#dufu", "wikitext2", "Du Fu"),
        ]
    )
    assert result["failed"] == []


def test_matches_report_merges_item_parts_sorted_and_typed(tmp_path):
    out = str(tmp_path)
    later_item = [{"id": "b", "benchmark": "gsm8k", "item_id": "gsm8k/1", "matched_ngrams": 3, "example_span": "x"}]
    earlier_item = [
        {"id": "a", "benchmark": "lambada", "item_id": "lambada/9", "matched_ngrams": 40, "example_span": "y"},
        {"id": "a", "benchmark": "gsm8k", "item_id": "gsm8k/7", "matched_ngrams": 5, "example_span": "z"},
    ]
    refs = [
        stage_report_rows(out, "work/0000001.matches.parquet", later_item, MATCH_SCHEMA),
        None,  # an item without matches
        stage_report_rows(out, "work/0000000.matches.parquet", earlier_item, MATCH_SCHEMA),
    ]
    assert [r["rows"] for r in refs if r] == [1, 2]
    table = pq.read_table(io.BytesIO(parquet_bytes(merged_report(out, refs, MATCH_SCHEMA, MATCH_KEYS))))
    assert table.column_names == ["id", "benchmark", "item_id", "matched_ngrams", "example_span"]
    assert list(zip(table.column("id").to_pylist(), table.column("benchmark").to_pylist(), strict=True)) == [
        ("a", "gsm8k"),
        ("a", "lambada"),
        ("b", "gsm8k"),
    ]
    assert table.column("matched_ngrams").to_pylist() == [5, 40, 3]
    assert stage_report_rows(out, "work/0000002.matches.parquet", [], MATCH_SCHEMA) is None
    assert merged_report(out, [None], MATCH_SCHEMA, MATCH_KEYS).num_rows == 0


def test_curation_run_with_decontam_index_end_to_end(tmp_path):
    """`curation run --decontam-index`: removed docs carry the benchmark, matches.parquet lists them."""
    from pipeline_helpers import run_cli
    from test_decontam_evalsets import run_index_cli

    index = tmp_path / "decontam.npz"
    assert run_index_cli("--evalset", f"gsm8k={FIXTURES / 'gsm8k_test_head40.jsonl'}", "--output", str(index)) == 0
    question = json.loads((FIXTURES / "gsm8k_test_head40.jsonl").read_text("utf-8").split("\n")[5])["question"]
    news = (READERS / "news" / "lee.cor").read_text("utf-8", "replace").splitlines()[:12]
    news[7] = news[7] + " " + question
    inp = tmp_path / "in" / "news.jsonl"
    inp.parent.mkdir()
    inp.write_text("".join(json.dumps({"text": line}) + "\n" for line in news), "utf-8")
    out = tmp_path / "out"
    rc = run_cli(
        "run", "--input", f"news={inp}", "--output", out, "--decontam-index", index, "--stages", "decontaminate"
    )
    assert rc == 0
    matches = pq.read_table(out / "decontam" / "matches.parquet").to_pylist()
    assert [(m["id"], m["benchmark"], m["item_id"]) for m in matches] == [("news/news.jsonl#8", "gsm8k", "gsm8k/5")]
    removed = pq.read_table(out / "removed").to_pylist()
    assert [(r["id"], r["reason"]) for r in removed] == [("news/news.jsonl#8", "decontaminate.gsm8k")]
    assert pq.read_table(out / "data").num_rows == 11
