"""Content filter: URL-domain and word blocklists (packaged defaults and user files)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curation.config import load_config
from curation.sample import sample_dir
from curation.schema import Document
from filters.content import (
    SIGNAL_NAMES,
    content_signals,
    decide_content,
    domain_blocked,
    load_domains,
    load_word_forms,
    url_host,
)

CFG = load_config()["content"]
SAMPLE = Path(sample_dir())


def run(text: str, url: str | None = None, **overrides) -> tuple[dict, str | None]:
    """Signals and reason for one document under the default config plus overrides."""
    cfg = {**CFG, **overrides}
    doc = Document(id="t", source="web", text=text, url=url)
    doc.signals = content_signals(doc, cfg)
    return doc.signals, decide_content(doc, cfg)


def test_packaged_lists_load():
    assert "pornhub.com" in load_domains()
    assert {"porn", "Porn", "PORN"} <= load_word_forms()
    assert not any(line.startswith("#") for line in load_domains())


@pytest.mark.parametrize(
    "url, host",
    [
        ("https://www.Example.com:8080/a?b", "example.com"),
        ("http://sub.example.co.uk", "sub.example.co.uk"),
        ("example.org/page", "example.org"),
        ("", ""),
        (None, ""),
        ("http://[::1", ""),  # unparseable: no crash, no host
    ],
)
def test_url_host(url, host):
    assert url_host(url) == host


def test_domain_matches_host_and_parents_only():
    domains = frozenset({"bad.com"})
    assert domain_blocked("https://bad.com/x", domains)
    assert domain_blocked("https://www.bad.com/x", domains)
    assert domain_blocked("https://videos.bad.com/x", domains)
    assert not domain_blocked("https://notbad.com/x", domains)
    assert not domain_blocked("https://bad.com.example.org/x", domains)
    assert not domain_blocked(None, domains)


def test_url_rule():
    signals, reason = run("An ordinary page about gardening.", url="https://www.pornhub.com/view")
    assert signals["content.url_blocked"] == 1.0
    assert reason == "content.url_domain"
    _, reason = run("An ordinary page about gardening.", url="https://www.pornhub.com/view", block_url_domains=False)
    assert reason is None


def test_word_fraction_boundary():
    # 1 listed word in 200 words = 0.005: keeps (not above); 2 in 200 = 0.01: drops.
    filler = ["garden"] * 198
    s1, r1 = run(" ".join(["Porn", "tomato"] + filler))
    s2, r2 = run(" ".join(["porn", "XXX"] + filler))
    assert s1["content.blocked_word_count"] == 1 and s1["content.blocked_word_frac"] == pytest.approx(0.005)
    assert r1 is None
    assert s2["content.blocked_word_count"] == 2
    assert r2 == "content.blocked_words"


def test_words_match_whole_tokens_only():
    s, _ = run("Scunthorpe pornography cocktail porno")
    assert s["content.blocked_word_count"] == 2  # pornography, porno; not Scunthorpe or cocktail


def test_user_blocklist_files(tmp_path):
    words = tmp_path / "words.txt"
    words.write_text("# my list\ntomato\n\n", "utf-8")
    domains = tmp_path / "domains.txt"
    domains.write_text("www.Example.org  # trailing comment\n", "utf-8")
    s, reason = run(
        "Tomato " * 10, url="https://shop.example.org", word_blocklist=str(words), domain_blocklist=str(domains)
    )
    assert s["content.blocked_word_count"] == 10
    assert reason == "content.url_domain"


def test_real_web_documents_pass():
    with gzip.open(SAMPLE / "web/cc_en_head-0091.jsonl.gz", "rt", encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh]
    reasons = [run(r["text"], url=r["id"])[1] for r in rows]
    assert reasons.count(None) >= len(rows) - 1
    assert set(run("x")[0]) == set(SIGNAL_NAMES)


@settings(max_examples=200, deadline=None)
@given(
    st.text(st.characters(exclude_categories=())), st.one_of(st.none(), st.text(st.characters(exclude_categories=())))
)
def test_signals_total_on_arbitrary_unicode(text, url):
    s, _ = run(text, url=url)
    assert set(s) == set(SIGNAL_NAMES)
    assert s["content.url_blocked"] in (0.0, 1.0)
    assert 0.0 <= s["content.blocked_word_frac"] <= 1.0
