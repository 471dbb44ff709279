"""Decontamination core: normalisation, hashing, index, policies, cut mode, Wikipedia titles."""

from __future__ import annotations

import gzip
import io
import json
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shared_data import SHARED_DATA

from curation.config import load_config
from curation.decontam import (
    EvalItem,
    IndexFormatError,
    build_index,
    check_compatible,
    decontaminate_document,
    load_index,
    ngram_hashes,
    save_index,
    word_string_hashes,
)
from curation.evalsets import load_evalsets, parse_evalset_spec
from curation.ngrams import ngram_text, ngram_word_spans, ngram_word_string
from curation.schema import Document

REPO = Path(__file__).resolve().parents[1]
EVAL = SHARED_DATA / "evalsets"
FIXTURES = REPO / "tests" / "data" / "decontam"
SECTION = load_config()["decontaminate"]

ALL_EVALSETS = [
    f"gsm8k={EVAL}/gsm8k/test.jsonl",
    f"humaneval={EVAL}/humaneval/HumanEval.jsonl.gz",
    f"lambada={EVAL}/llm-foundry/language_understanding/lambada_openai.jsonl.gz",
    f"piqa={EVAL}/llm-foundry/commonsense_reasoning/piqa.jsonl",
    f"arc_easy={EVAL}/llm-foundry/world_knowledge/arc_easy.jsonl",
    f"arc_challenge={EVAL}/llm-foundry/world_knowledge/arc_challenge.jsonl",
    f"triviaqa={EVAL}/llm-foundry/world_knowledge/triviaqa_sm_sub.jsonl.gz",
    f"boolq={EVAL}/llm-foundry/reading_comprehension/boolq.jsonl.gz",
    f"winogrande={EVAL}/llm-foundry/language_understanding/winogrande.jsonl",
    f"wikitext2={EVAL}/wikitext-2/test.txt.gz",
]


@pytest.fixture(scope="module")
def full_index(shared_data):
    """Exact 13-gram index over every eval set in the development corpus (a corpus test needs it)."""
    items, titles = load_evalsets([parse_evalset_spec(s) for s in ALL_EVALSETS])
    return build_index(items, SECTION, titles)


@pytest.fixture(scope="module")
def gsm8k_records(shared_data):
    return [json.loads(line) for line in (EVAL / "gsm8k" / "test.jsonl").read_text("utf-8").splitlines()]


@pytest.fixture(scope="module")
def jekyll_paragraphs(shared_data):
    """Real paragraphs of Dr Jekyll and Mr Hyde (Project Gutenberg), body only."""
    text = gzip.decompress((SHARED_DATA / "books" / "gutenberg" / "pg42.txt.gz").read_bytes()).decode("utf-8")
    body = text.split("*** START OF")[1].split("*** END OF")[0].replace("\r\n", "\n")
    paras = [" ".join(p.split()) for p in body.split("\n\n")]
    return [p for p in paras if len(p.split()) >= 60]


@pytest.fixture(scope="module")
def lee_lines(shared_data):
    return (SHARED_DATA / "news" / "lee" / "lee_background.cor").read_text("utf-8", "replace").splitlines()


def ngram_words(text: str) -> list[str]:
    """The decontamination words of a text."""
    return ngram_word_string(text).split()


def check(index, text, source="web", title=None, **overrides):
    """Run the document check with the default config section plus overrides."""
    doc = Document(id="t#0", source=source, text=text, title=title)
    removed, rows = decontaminate_document(doc, index, {**SECTION, **overrides})
    return doc, removed, rows


# --- normalisation and hashing -------------------------------------------------------------------


def test_wikitext_tokenisation_and_raw_text_give_the_same_words():
    tokenised = 'He had a guest @-@ starring role in " Teddy \'s Story " , 1 @,@ 000 times .'
    raw = 'He had a guest-starring role in "Teddy\'s Story", 1,000 times.'
    assert ngram_words(tokenised) == ngram_words(raw)
    assert ngram_words("THE  Cat\u00a0sat\n\non the MAT!!") == ["the", "cat", "sat", "on", "the", "mat"]
    assert ngram_words("ﬁne café") == ngram_words("fine cafe\u0301")


def test_ngram_hashes_are_position_independent_and_distinct():
    words = ngram_words("the quick brown fox jumps over the lazy dog while the cat sleeps on a mat today")
    sub = words[3:16]
    full = ngram_hashes(word_string_hashes(" ".join(words)), 13)
    assert len(full) == len(words) - 12
    assert ngram_hashes(word_string_hashes(" ".join(sub)), 13)[0] == full[3]
    assert len(np.unique(full)) == len(full)
    assert np.array_equal(word_string_hashes("fox fox")[0:1], word_string_hashes("fox"))
    # word boundaries matter: "ab c" != "a bc"
    assert not np.array_equal(word_string_hashes("ab c"), word_string_hashes("a bc"))


# --- injection into real documents -------------------------------------------------------------


def test_gsm8k_question_injected_in_gutenberg_paragraph_is_removed(full_index, gsm8k_records, jekyll_paragraphs):
    para = jekyll_paragraphs[5]
    question = gsm8k_records[17]["question"]
    doc, removed, rows = check(full_index, f"{para}\n\n{question}\n\n{jekyll_paragraphs[6]}")
    assert removed and doc.reason == "decontaminate.gsm8k"
    assert rows[0]["item_id"] == "gsm8k/17"
    assert rows[0]["matched_ngrams"] == len(ngram_words(question)) - 12
    assert ngram_words(rows[0]["example_span"]) == ngram_words(question)
    _, removed_clean, rows_clean = check(full_index, f"{para}\n\n{jekyll_paragraphs[6]}")
    assert not removed_clean and rows_clean == []


def test_lambada_passage_in_news_line_is_removed_with_its_benchmark(full_index, lee_lines):
    with gzip.open(EVAL / "llm-foundry/language_understanding/lambada_openai.jsonl.gz", "rt", encoding="utf-8") as f:
        records = [json.loads(line) for _, line in zip(range(300), f, strict=False)]
    passage = " ".join((records[250]["context"] + " " + records[250]["continuation"]).split()[:30])
    doc, removed, rows = check(full_index, lee_lines[10] + " " + passage + " " + lee_lines[11])
    assert removed and doc.reason == "decontaminate.lambada"
    assert rows[0]["item_id"] == "lambada/250"
    assert rows[0]["matched_ngrams"] == len(ngram_words(passage)) - 12


def test_common_phrases_and_real_clean_text_do_not_trigger(full_index, jekyll_paragraphs, lee_lines):
    phrase = "in the United States of America"
    text = f"He moved {phrase} in 1990. Later, {phrase}, he found work. Prices {phrase} rose."
    assert check(full_index, text)[1] is False
    flagged = [line for line in lee_lines if check(full_index, line)[1]]
    assert flagged == []
    flagged_books = [p for p in jekyll_paragraphs if check(full_index, p)[1]]
    assert flagged_books == []


def test_wikitext_article_rendered_as_plain_text_matches(full_index):
    raw = gzip.decompress((EVAL / "wikitext-2" / "test.txt.gz").read_bytes()).decode("utf-8").split("\n")
    line = next(li for li in raw if li.startswith(" Du Fu ( <unk> ;") or li.startswith(" Du Fu ("))
    plain = re.sub(r" @(.)@ ", r"\1", line).replace(" 's", "'s").replace(" ,", ",").replace(" .", ".")
    plain = plain.replace("<unk>", "Xyzzy")  # the real word WikiText lost
    doc, removed, rows = check(full_index, "Biography.\n" + plain)
    assert removed and doc.reason == "decontaminate.wikitext2"
    assert rows[0]["item_id"].endswith(":Du Fu")


def test_lightly_edited_spans_need_a_fuzzy_index(gsm8k_records):
    items = [EvalItem("gsm8k", f"gsm8k/{i}", [r["question"]]) for i, r in enumerate(gsm8k_records[:300])]
    exact = build_index(items, {**SECTION, "fuzzy": False})
    masked = build_index(items, {**SECTION, "fuzzy": "masked"})
    seeds = build_index(items, {**SECTION, "fuzzy": "seeds"})
    words = ngram_words(gsm8k_records[3]["question"])[:20]
    substituted = [*words[:6], "zebra", *words[7:14]]  # 13 of 14 words equal, no intact 13-gram
    shifted = [*words[:7], *words[8:15], "very", *words[15:]]  # one word deleted, one inserted
    for edited in (substituted, shifted):
        text = "Unrelated opening words of a page. " + " ".join(edited) + " and some unrelated closing words."
        assert check(exact, text)[1] is False
        doc, removed, rows = check(seeds, text)
        assert removed and doc.reason == "decontaminate.gsm8k" and rows[0]["item_id"] == "gsm8k/3"
        assert rows[0]["matched_ngrams"] == 0  # found by alignment only
    assert check(masked, "Intro. " + " ".join(substituted) + " outro.")[1] is True
    assert check(masked, "Intro. " + " ".join(shifted) + " outro.")[1] is False  # masking cannot realign
    # 11 equal words (below fuzzy_min_words=12) are not enough
    assert check(seeds, "Intro words here. " + " ".join(words[:11]) + " outro words here.")[1] is False
    assert seeds.nbytes < masked.nbytes / 2
    buf = io.BytesIO()
    save_index(seeds, buf)
    loaded = load_index(buf.getvalue())
    assert check(loaded, " ".join(shifted))[2] == check(seeds, " ".join(shifted))[2]


# --- policies ------------------------------------------------------------------------------------


def test_jaccard_misses_item_in_long_page_that_overlap_catches(full_index, gsm8k_records, jekyll_paragraphs):
    record = gsm8k_records[40]
    item_text = record["question"] + "\n" + re.sub(r"<<[^>]*>>", "", record["answer"])
    long_page = "\n\n".join(jekyll_paragraphs[:3]) + "\n\n" + item_text
    assert check(full_index, long_page, policy="overlap")[1] is True
    assert check(full_index, long_page, policy="jaccard")[1] is False
    doc, removed, _ = check(full_index, item_text, policy="jaccard")
    assert removed and doc.reason == "decontaminate.gsm8k"


def test_cut_mode_removes_span_and_keeps_the_rest(full_index, gsm8k_records, jekyll_paragraphs):
    before, after = "\n\n".join(jekyll_paragraphs[:4]), "\n\n".join(jekyll_paragraphs[4:8])
    question = gsm8k_records[7]["question"]
    doc, removed, rows = check(full_index, f"{before}\n\n{question}\n\n{after}", action="cut")
    assert not removed and doc.reason is None and rows
    cut = doc.meta["decontam_cut"]
    assert cut["benchmarks"] == ["gsm8k"] and cut["item_ids"] == ["gsm8k/7"]
    assert " ".join(ngram_words(question)[:13]) not in " ".join(ngram_words(doc.text))
    assert before[:1000] in doc.text and after[-1000:] in doc.text
    assert cut["chars_removed"] >= len(question) + 2 * 150
    # a short document has nothing long enough left: removed instead
    small, small_removed, _ = check(full_index, f"Intro. {question} Outro.", action="cut")
    assert small_removed and small.reason == "decontaminate.gsm8k"


def test_wikipedia_title_rule_applies_to_wikipedia_source_only(full_index):
    doc, removed, rows = check(full_index, "A poet of the Tang dynasty.", source="wikipedia", title="Du Fu")
    assert removed and doc.reason == "decontaminate.wikipedia_title"
    assert rows == [
        {"id": "t#0", "benchmark": "wikitext2", "item_id": "Du Fu", "matched_ngrams": 0, "example_span": "Du Fu"}
    ]
    assert check(full_index, "A poet.", source="web", title="Du Fu")[1] is False
    assert check(full_index, "A poet.", source="wikipedia", title="Li Bai")[1] is False
    # tokenised WikiText title vs real title
    assert check(full_index, "x", source="wikipedia", title="Kiss You (One Direction song)")[1] is True


# --- index file ----------------------------------------------------------------------------------


def test_index_roundtrip_and_config_mismatch(full_index, gsm8k_records):
    buf = io.BytesIO()
    save_index(full_index, buf)
    loaded = load_index(buf.getvalue())
    assert np.array_equal(loaded.hashes, full_index.hashes)
    assert np.array_equal(loaded.items, full_index.items)
    assert loaded.item_ids.tolist() == full_index.item_ids.tolist()
    assert loaded.titles == full_index.titles and loaded.benchmarks == full_index.benchmarks
    assert np.all(np.diff(loaded.hashes.astype(np.float64)) >= 0)
    text = gsm8k_records[2]["question"]
    assert check(loaded, text)[2] == check(full_index, text)[2]
    with pytest.raises(IndexFormatError, match="ngram=8"):
        check_compatible(loaded, {**SECTION, "ngram": 8})
    with pytest.raises(IndexFormatError):
        load_index(b"not an index")
    with pytest.raises(ValueError, match="decontaminate.policy: expected one of 'overlap', 'jaccard'"):
        check_compatible(loaded, {**SECTION, "policy": "jacard"})
    with pytest.raises(ValueError, match="decontaminate.action"):
        check_compatible(loaded, {**SECTION, "action": "remove"})


def test_index_counts_match_eval_files(full_index):
    n_gsm8k = len((EVAL / "gsm8k" / "test.jsonl").read_text("utf-8").strip().split("\n"))
    assert full_index.meta["items_per_benchmark"]["gsm8k"] == n_gsm8k
    # every indexed hash is an n-gram of its item
    item = int(np.flatnonzero(full_index.item_ids == "gsm8k/0")[0])
    own = full_index.hashes[full_index.items == item]
    record = json.loads((EVAL / "gsm8k" / "test.jsonl").read_text("utf-8").split("\n")[0])
    item_text = record["question"] + "\n" + re.sub(r"<<[^>]*>>", "", record["answer"])
    expected = ngram_hashes(word_string_hashes(ngram_word_string(item_text)), 13)
    assert set(own.tolist()) == set(expected.tolist())


def test_items_shorter_than_n_are_matched_whole(full_index, lee_lines):
    # TriviaQA "What type of animal is a dik-dik?" + "Antelope": 9 words, no 13-gram
    item = int(np.flatnonzero(full_index.item_ids == "triviaqa/1")[0])
    assert full_index.item_ngrams[item] == 0 and item in full_index.short_items.tolist()
    text = f"{lee_lines[3]} Quiz night: what type of animal is a dik-dik? Antelope! {lee_lines[4]}"
    doc, removed, rows = check(full_index, text)
    assert removed and doc.reason == "decontaminate.triviaqa" and rows[0]["item_id"] == "triviaqa/1"
    assert ngram_words(rows[0]["example_span"]) == ngram_words("what type of animal is a dik-dik? Antelope")
    # the question without its answer is a different 8-word sequence: not the item
    assert check(full_index, f"{lee_lines[3]} What type of animal is a dik-dik? {lee_lines[4]}")[1] is False
    assert full_index.meta["items_unmatchable"]["triviaqa"] < 1073  # 1073 items have < 13 words


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec="utf-8"), max_size=60))
def test_word_spans_line_up_with_words(text):
    words, spans = ngram_words(text), ngram_word_spans(text)
    assert len(words) == len(spans)
    norm = ngram_text(text)
    assert [norm[a:b].casefold() for a, b in spans] == words


def test_edited_short_item_matches_with_one_word_changed(full_index, lee_lines):
    # a TriviaQA item of 11-12 words has no 13-gram; with one word changed the seeds still find it
    ids = [
        i for i in np.flatnonzero(full_index.item_ngrams == 0).tolist() if full_index.item_ids[i].startswith("triviaqa")
    ]
    item = next(
        i
        for i in ids
        if len(full_index.item_words[full_index.item_word_start[i] : full_index.item_word_start[i + 1]]) - 1 >= 11
    )
    triviaqa = gzip.decompress((EVAL / "llm-foundry/world_knowledge/triviaqa_sm_sub.jsonl.gz").read_bytes()).decode()
    record = json.loads(triviaqa.split("\n")[int(str(full_index.item_ids[item]).split("/")[1])])
    words = ngram_words(record["context"].replace("Question:", "").replace("Answer:", "") + " " + record["answer"])
    assert 11 <= len(words) <= 12
    edited = [*words[:5], "purple", *words[6:]]
    doc, removed, rows = check(full_index, f"{lee_lines[1]} {' '.join(edited)}. {lee_lines[2]}")
    assert removed and rows[0]["item_id"] == full_index.item_ids[item] and rows[0]["matched_ngrams"] == 0
    # two words changed: below the short-item threshold
    twice = [*edited[:2], "orange", *edited[3:]]
    assert check(full_index, f"{lee_lines[1]} {' '.join(twice)}. {lee_lines[2]}")[1] is False
