"""Schema round-trip and configuration loading."""

from __future__ import annotations

import io

import pyarrow.parquet as pq
import pytest

from curation.config import ConfigError, load_config, parse_stages, source_stages
from curation.schema import Document, document_schema, documents_to_table, table_to_documents
from curation.text import exact_dedup_key


def test_schema_round_trip_through_parquet():
    docs = [
        Document(
            id="news/a.jsonl#1",
            source="news",
            text="Ünïcode text\nwith lines",
            url="https://example.org/x",
            title="T",
            meta={"nested": {"k": [1, 2]}, "source_id": "7"},
            language="en",
            language_score=0.93,
            signals={"quality.word_count": 4.0},
            reason="quality.word_count",
        ),
        Document(id="web/b#2", source="web", text="x", signals={}),
    ]
    schema = document_schema(["quality.word_count", "quality.mean_word_length"], with_reason=True)
    buf = io.BytesIO()
    pq.write_table(documents_to_table(docs, schema), buf)
    back = table_to_documents(pq.read_table(io.BytesIO(buf.getvalue())))
    assert back == docs
    assert pq.read_schema(io.BytesIO(buf.getvalue())).field("signals").type.num_fields == 2


def test_lone_surrogates_do_not_break_the_writer():
    doc = Document(id="x", source="web", text="bad \udcff surrogate")
    table = documents_to_table([doc], document_schema([]))
    assert "surrogate" in table.column("text")[0].as_py()


def test_overrides_parse_yaml_values_and_nested_keys():
    cfg = load_config(overrides=["quality.min_words=100", "sources.web.priority=0", "language.keep=[en, de]"])
    assert cfg["quality"]["min_words"] == 100
    assert cfg["sources"]["web"]["priority"] == 0
    assert cfg["language"]["keep"] == ["en", "de"]


def test_config_file_is_deep_merged(tmp_path):
    f = tmp_path / "c.yaml"
    f.write_text("sources:\n  forum: {priority: 9, stages: [quality, dedup]}\nquality: {min_words: 10}\n")
    cfg = load_config(f)
    assert cfg["quality"]["min_words"] == 10
    assert cfg["quality"]["max_words"] == 100000  # untouched default
    assert source_stages(cfg, "forum") == ["quality", "dedup"]


@pytest.mark.parametrize("content", ["sources: [1, 2\n", "- a list\n"])
def test_unreadable_config_is_a_config_error(tmp_path, content):
    f = tmp_path / "bad.yaml"
    f.write_text(content)
    with pytest.raises(ConfigError):
        load_config(f)


def test_stages_are_put_in_pipeline_order_and_unknown_rejected():
    assert parse_stages("dedup,quality") == ["quality", "dedup"]
    with pytest.raises(ConfigError, match="unknown stage 'qualty'"):
        parse_stages("qualty,dedup")


def test_exact_dedup_key_ignores_whitespace_and_unicode_composition():
    assert exact_dedup_key("Cafe\u0301  au\n lait ") == exact_dedup_key("Caf\u00e9 au lait")
    assert exact_dedup_key("a b") != exact_dedup_key("a c")
