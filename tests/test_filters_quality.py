"""Gopher quality rules: boundary cases just inside/outside every threshold under both reading profiles,
real documents, properties."""

from __future__ import annotations

import gzip
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shared_data import SHARED_DATA

from curation.config import load_config
from curation.schema import Document
from filters.quality import SIGNAL_NAMES, decide_quality, quality_signals

CFG = load_config()["quality"]


def decide(text: str, profile: str = "gopher") -> str | None:
    """Reason the quality stage gives a text under the default thresholds and a reading profile."""
    doc = Document(id="t", source="web", text=text, signals=quality_signals(text))
    return decide_quality(doc, {**CFG, "profile": profile})


def prose(n_words: int, filler: str = "word") -> list[str]:
    """`n_words` words holding two distinct stop words, all alphabetic, mean length near 4."""
    return ["the", "with"] + [filler] * (n_words - 2)


def test_word_count_bounds():
    assert decide(" ".join(prose(49))) == "quality.word_count"
    assert decide(" ".join(prose(50))) is None
    assert decide(" ".join(prose(100_000))) is None
    assert decide(" ".join(prose(100_001))) == "quality.word_count"


def test_word_count_ignores_punctuation_and_splits_contractions():
    s = quality_signals("Well, the dog didn't bark -- and it's fine...")
    # Well the dog did n't bark and it 's fine
    assert s["quality.word_count"] == 10


def test_mean_word_length_bounds():
    # 100 words: "the"(3) "with"(4) and 98 words of length 3 or 2 -> mean just above / below 3.
    at_three = ["the", "with"] + ["abc"] * 97 + ["ab"]  # (3 + 4 + 291 + 2) / 100 = 3.00
    below = ["the", "with"] + ["abc"] * 96 + ["ab", "ab"]  # 299 / 100 = 2.99
    assert quality_signals(" ".join(at_three))["quality.mean_word_length"] == pytest.approx(3.0)
    assert decide(" ".join(at_three)) is None
    assert decide(" ".join(below)) == "quality.mean_word_length"
    long_ok = ["the", "with"] + ["abcdefghij"] * 98  # (3 + 4 + 980) / 100 = 9.87
    long_bad = ["the", "with"] + ["abcdefghijkl"] * 98  # 11.83
    assert decide(" ".join(long_ok)) is None
    assert decide(" ".join(long_bad)) == "quality.mean_word_length"


@pytest.mark.parametrize(
    "symbol, reason",
    [
        ("#", "quality.hash_to_word_ratio"),
        ("...", "quality.ellipsis_to_word_ratio"),
        ("\u2026", "quality.ellipsis_to_word_ratio"),
    ],
)
def test_symbol_ratios(symbol, reason):
    # gopher: the paper's "symbol-to-word ratio": k symbols per 100 words; 10/100 keeps, 11/100 drops.
    # datatrove: each symbol is a token and a "word" too: k / (100 + k); 11/111 keeps, 12/112 drops.
    # (Symbols go first so the single line does not end with an ellipsis.)
    base = prose(100)
    assert decide(" ".join([symbol] * 10 + base)) is None
    assert decide(" ".join([symbol] * 11 + base)) == reason
    assert decide(" ".join([symbol] * 11 + base), "datatrove") is None
    assert decide(" ".join([symbol] * 12 + base), "datatrove") == reason


def test_bullet_lines():
    body = " ".join(prose(60))
    nine_of_ten = "\n".join(["\u2022 item"] * 9 + [body])
    all_bullets = "\n".join([f"{b} {body}" for b in ("-", "*", "\u2022", "\u25e6", "\u2013")] * 2)
    assert quality_signals(nine_of_ten)["quality.bullet_lines_ratio"] == pytest.approx(0.9)
    assert decide(nine_of_ten) is None
    assert decide(all_bullets) == "quality.bullet_lines"


def test_blank_lines_do_not_count_as_lines_under_gopher_but_do_under_datatrove():
    text = "\n\n".join(["- " + " ".join(prose(10))] * 10)
    s = quality_signals(text)
    assert s["quality.bullet_lines_ratio"] == 1.0
    assert s["quality.bullet_lines_ratio_datatrove"] == pytest.approx(10 / 19)  # 9 blank lines in between
    ellipsis = "\n\n".join([" ".join(prose(10)) + " ..."] * 3 + [" ".join(prose(10))] * 6)
    assert decide(ellipsis) == "quality.ellipsis_lines"  # 3 of 9 lines: 0.33
    assert decide(ellipsis, "datatrove") is None  # 3 of 17 lines: 0.18


def test_datatrove_bullets_are_bullet_and_hyphen_only():
    body = " ".join(prose(60))
    lines = "\n".join([f"{b} {body}" for b in ("*", "\u2013", "\u25e6")] * 4)
    assert decide(lines) == "quality.bullet_lines"
    assert quality_signals(lines)["quality.bullet_lines_ratio_datatrove"] == 0.0
    assert decide(lines, "datatrove") is None
    s = quality_signals("\n".join(["\u2022 x", "- y", "z"]))
    assert s["quality.bullet_lines_ratio_datatrove"] == pytest.approx(2 / 3)


def test_ellipsis_lines():
    line = " ".join(prose(20))
    three = "\n".join([line + "..."] * 2 + [line + "\u2026"] + [line] * 7)
    four = "\n".join([line + "..."] * 4 + [line] * 6)
    assert quality_signals(three)["quality.ellipsis_lines_ratio"] == pytest.approx(0.3)
    assert decide(three) is None
    assert decide(four) == "quality.ellipsis_lines"


def test_alpha_words_ratio():
    # Words without a letter (numbers) lower the ratio in both readings: 80 alphabetic of 100 keeps, 79 drops.
    keep = prose(80) + ["1999"] * 20
    drop = prose(79) + ["3.14"] * 20 + [".38"]
    for profile in ("gopher", "datatrove"):
        assert decide(" ".join(keep), profile) is None
        assert decide(" ".join(drop), profile) == "quality.alpha_words"
    assert quality_signals(" ".join(keep))["quality.alpha_words_ratio"] == pytest.approx(0.8)


def test_punctuation_is_not_a_word_under_gopher_but_a_token_under_datatrove():
    # 80 words, all alphabetic, each followed by a comma: gopher 80/80; datatrove 80/160.
    text = " ".join(w + "," for w in prose(80))
    s = quality_signals(text)
    assert s["quality.alpha_words_ratio"] == 1.0
    assert s["quality.alpha_words_ratio_datatrove"] == 0.5
    assert decide(text) is None
    assert decide(text, "datatrove") == "quality.alpha_words"
    # Both count only non-punctuation tokens as words for the word count and mean length ...
    assert s["quality.word_count"] == s["quality.word_count_datatrove"] == 80
    # ... but datatrove's punctuation set lacks `•`, `‘` and `£` (it has `’`): they are words there.
    s = quality_signals("\u2022 the \u2018cat\u2019 paid \u00a35")
    assert s["quality.word_count"] == 4  # the cat paid 5
    assert s["quality.word_count_datatrove"] == 7  # • the ‘ cat paid £ 5
    assert s["quality.mean_word_length_datatrove"] == pytest.approx(len("•the‘catpaid£5") / 7)


def test_stop_words_are_distinct_and_case_insensitive_under_gopher_lower_case_under_datatrove():
    one = " ".join(["the", "The", "THE"] + ["word"] * 60)
    two = " ".join(["The", "AND"] + ["word"] * 60)
    assert quality_signals(one)["quality.stop_word_count"] == 1
    assert decide(one) == "quality.stop_words"
    assert decide(two) is None
    assert quality_signals(two)["quality.stop_word_count_datatrove"] == 0
    assert decide(two, "datatrove") == "quality.stop_words"
    assert decide(" ".join(["the", "and"] + ["word"] * 60), "datatrove") is None


def test_rules_fire_in_paper_order_but_all_signals_are_computed():
    text = "# # # #"
    s = quality_signals(text)
    assert set(s) == set(SIGNAL_NAMES)
    assert decide(text) == "quality.word_count"
    assert s["quality.hash_to_word_ratio"] == 4.0  # no word at all: counted per one word
    assert s["quality.hash_to_word_ratio_datatrove"] == 1.0


@pytest.mark.corpus
def test_real_documents():
    book = (
        gzip.decompress((SHARED_DATA / "books/gutenberg/1342-0.txt.gz").read_bytes())
        .decode("utf-8")
        .replace("\r\n", "\n")
    )
    chapter = book[book.index("Chapter 1") :][:20000]
    assert decide(chapter) is None
    # Minified code: its identifiers are words with letters, so only datatrove's reading (every `(`, `;`
    # and `}` a word without a letter) drops it here; the code stage is what handles code.
    minified = (SHARED_DATA / "code/linguist/samples/JavaScript/jquery-1.4.2.min.js").read_text("utf-8")
    assert decide(minified, "datatrove") == "quality.alpha_words"
    lee = (SHARED_DATA / "news/lee/lee_background.cor").read_text("utf-8").splitlines()
    kept = sum(decide(line) is None for line in lee)
    assert kept > 0.9 * len(lee)  # news articles are ordinary prose


@settings(max_examples=200, deadline=None)
@given(st.text(st.characters(exclude_categories=())))
def test_signals_total_on_arbitrary_unicode(text):
    s = quality_signals(text)
    assert set(s) == set(SIGNAL_NAMES)
    assert all(isinstance(v, float) and math.isfinite(v) and v >= 0 for v in s.values())
    for name in ("bullet_lines_ratio", "ellipsis_lines_ratio", "alpha_words_ratio"):
        assert 0.0 <= s[f"quality.{name}"] <= 1.0
        assert 0.0 <= s[f"quality.{name}_datatrove"] <= 1.0


def test_quote_and_contraction_tokens():
    from curation.text import tokens, words

    text = "It's ``quoted'' text; they'll say 'no' and don't"
    assert tokens(text) == (
        "It",
        "'s",
        "`",
        "`",
        "quoted",
        "''",
        "text",
        ";",
        "they",
        "'ll",
        "say",
        "'",
        "no",
        "'",
        "and",
        "do",
        "n't",
    )
    assert sorted(words(text)) == sorted(["It", "'s", "quoted", "text", "they", "'ll", "say", "no", "and", "do", "n't"])
