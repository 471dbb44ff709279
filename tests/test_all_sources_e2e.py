"""Every source in its native format from ../shared/data through one `curation run`."""

from __future__ import annotations

import json

import pytest
from pipeline_helpers import read_docs, read_failed, run_cli, stats

pytestmark = pytest.mark.corpus


def test_all_five_sources_end_to_end(tmp_path, shared_data):
    out = tmp_path / "out"
    code = run_cli(
        "run",
        "--input", f"web={shared_data}/web/commoncrawl/*/*.warc.gz",
        "--input", f"web={shared_data}/web/warc/dolma/*.warc.gz",
        "--input", f"wikipedia={shared_data}/wikipedia/gensim/enwiki-*.bz2",
        "--input", f"books={shared_data}/books/gutenberg/*.txt.gz",
        "--input", f"news={shared_data}/news/lee/*.cor",
        "--input", f"code={shared_data}/code/repos/*.tar.gz",
        "--output", out,
    )  # fmt: skip
    assert code == 0
    s = stats(out)
    assert s["invariant_ok"]
    assert set(s["sources"]) == {"web", "wikipedia", "books", "news", "code"}
    for name, src in s["sources"].items():
        assert src["kept"]["docs"] > 0, name
    kept = read_docs(out)
    by_source: dict[str, list[dict]] = {}
    for row in kept:
        by_source.setdefault(row["source"], []).append(row)
    # web: extracted text, not markup; provenance kept
    web = by_source["web"]
    assert all("<html" not in r["text"].lower() and "</div>" not in r["text"] for r in web)
    assert all(r["url"] for r in web)
    # wikipedia: plain text with titles, no wiki markup
    wiki = by_source["wikipedia"]
    assert all(r["title"] for r in wiki)
    assert not any("[[" in r["text"] or "{{" in r["text"] for r in wiki)
    # books: Gutenberg boilerplate gone; 105 and 106 differ only in the header, so one is a duplicate
    books = by_source["books"]
    assert not any("*** START OF" in r["text"] or "Project Gutenberg License" in r["text"] for r in books)
    removed = read_docs(out, "removed")
    book_dups = [r for r in removed if r["source"] == "books" and r["reason"].startswith("dedup.")]
    assert {json.loads(r["meta"])["duplicate_of"] for r in book_dups} & {"books/105.txt.gz#0", "books/106.txt.gz#0"}
    # code: one document per file with repository metadata
    code_meta = [json.loads(r["meta"]) for r in by_source["code"]]
    assert {m["repo"] for m in code_meta} >= {"go-isatty", "markupsafe"}
    assert all(m.get("path") for m in code_meta)
    by_ext = {m["path"].rsplit(".", 1)[-1]: m["language"] for m in code_meta if "." in m["path"]}
    assert (by_ext.get("go"), by_ext.get("py"), by_ext.get("rs")) == ("Go", "Python", "Rust")
    # every failure names its file
    assert all(f["source_location"].startswith(str(shared_data)) for f in read_failed(out))
