"""Gopher repetition removal: Table A1 boundaries, both reading profiles, real documents, properties."""

from __future__ import annotations

import gzip
import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shared_data import SHARED_DATA

from curation.config import load_config
from curation.schema import Document
from filters.repetition import SIGNAL_NAMES, decide_repetition, repetition_signals

CFG = load_config()["repetition"]
UNIQUE = [f"w{i}x" for i in range(2000)]  # distinct words: no accidental repetition


def decide(text: str, **overrides) -> str | None:
    """Reason the repetition stage gives a text under the default config (profile gopher) plus overrides."""
    doc = Document(id="t", source="web", text=text, signals=repetition_signals(text))
    return decide_repetition(doc, {**CFG, "profile": "gopher", **overrides})


def unique_line(i: int, n_words: int = 8) -> str:
    """A line of distinct words, different for every i."""
    return " ".join(UNIQUE[i * n_words : (i + 1) * n_words])


def test_spec_worked_example_both_conventions():
    # GOPHER_SPEC §3: "one two three four five six" x3 + 8 unique words: duplicated 5-gram characters are
    # 37 for datatrove's greedy repeats and 66 for the all-occurrences mask (RedPajama).
    text = "one two three four five six " * 3 + " ".join(UNIQUE[:8])
    s = repetition_signals(text)
    assert s["repetition.dup_5gram_char_frac_repeats"] * len(text) == pytest.approx(37)
    assert s["repetition.dup_5gram_char_frac_all_occurrences"] * len(text) == pytest.approx(66)


def test_duplicate_line_fraction_boundary():
    # 10 lines, 3 of them repeats of a short line -> 0.3 keeps; 4 repeats -> 0.4 drops.
    lines = [unique_line(i) for i in range(7)] + ["ok"] * 3
    assert repetition_signals("\n".join(lines))["repetition.dup_line_frac"] == pytest.approx(2 / 10)
    three = [unique_line(i) for i in range(7)] + ["ok"] * 4  # 11 lines, 3 repeats
    assert repetition_signals("\n".join(three))["repetition.dup_line_frac"] == pytest.approx(3 / 11)
    assert decide("\n".join(three)) is None
    four = [unique_line(i) for i in range(6)] + ["ok"] * 5  # 11 lines, 4 repeats
    assert decide("\n".join(four)) == "repetition.dup_line_frac"


NGRAMS_OFF = {
    **{f"max_top_{n}gram_char_frac": 1 for n in (2, 3, 4)},
    **{f"max_dup_{n}gram_char_frac": 1 for n in range(5, 11)},
}


def test_duplicate_line_char_fraction_boundary():
    # One long line repeated once among k unique lines: repeat chars / len(text) falls as k grows.
    long_line = unique_line(50, 30)

    def text(k: int) -> str:
        return "\n".join([long_line] + [unique_line(i) for i in range(k)] + [long_line])

    fracs = {k: repetition_signals(text(k))["repetition.dup_line_char_frac"] for k in range(2, 40)}
    assert all(fracs[k] == pytest.approx(len(long_line) / len(text(k))) for k in fracs)
    k_keep = min(k for k, f in fracs.items() if f <= 0.2)
    assert fracs[k_keep - 1] > 0.2
    assert decide(text(k_keep), **NGRAMS_OFF) is None
    assert decide(text(k_keep - 1), **NGRAMS_OFF) == "repetition.dup_line_char_frac"


def test_duplicate_paragraphs():
    paras = [unique_line(i, 20) for i in range(7)]
    text = "\n\n".join(paras + paras[:3])  # 10 paragraphs, 3 repeats
    s = repetition_signals(text)
    assert s["repetition.dup_para_frac"] == pytest.approx(0.3)
    assert decide(text) == "repetition.dup_para_char_frac"  # 3 repeated paragraphs are ~30% of characters
    assert decide("\n\n".join(paras + paras[:4])) == "repetition.dup_para_frac"


def test_whitespace_and_crlf_do_not_change_line_identity():
    a = "\n".join(["same line here", "other", "  same line here  "])
    b = "\r\n".join(["same line here", "other", "same line here"])
    assert (
        repetition_signals(a)["repetition.dup_line_frac"]
        == repetition_signals(b)["repetition.dup_line_frac"]
        == pytest.approx(1 / 3)
    )


def test_top_2gram_boundary():
    # "ab cd" occurring k times among unique words: all-occurrence chars = 4k over len(text).
    def text(k: int) -> str:
        return " ".join(["ab cd"] * k + UNIQUE[:60])

    fracs = {k: repetition_signals(text(k))["repetition.top_2gram_char_frac_all_occurrences"] for k in range(1, 80)}
    assert fracs[1] == 0.0  # an n-gram seen once is not repetition
    k_keep = max(k for k, f in fracs.items() if f <= 0.20)
    assert fracs[k_keep] == pytest.approx(4 * k_keep / len(text(k_keep)))
    assert decide(text(k_keep), **{**NGRAMS_OFF, "max_top_2gram_char_frac": 0.2}) is None
    assert decide(text(k_keep + 1)) == "repetition.top_2gram_char_frac"


def test_profile_switch_is_a_decision_time_choice():
    # A 10-word chunk occurring twice among 60 unique words: its 5..10-grams cover ~14% of characters
    # with all occurrences counted but only half (5-grams) or less counting repeats: the paper reading
    # drops it (7-gram limit 0.13), datatrove's keeps it.
    chunk = " ".join(UNIQUE[:10])
    text = " ".join([chunk] + UNIQUE[100:160] + [chunk])
    s = repetition_signals(text)
    assert s["repetition.dup_5gram_char_frac_all_occurrences"] == pytest.approx(
        2 * s["repetition.dup_5gram_char_frac_repeats"]
    )
    relaxed = {"max_top_2gram_char_frac": 1, "max_top_3gram_char_frac": 1, "max_top_4gram_char_frac": 1}
    assert decide(text, profile="gopher", **relaxed) == "repetition.dup_7gram_char_frac"
    assert decide(text, profile="datatrove", **relaxed) is None
    with pytest.raises(ValueError):
        decide(text, profile="bogus")


def test_gopher_ngrams_are_over_words_datatrove_ngrams_over_tokens():
    # The same 6 words repeated, each time with different punctuation: as word n-grams they repeat, as
    # token n-grams (punctuation included) they never do.
    marks = [",", ";", ":", "!", "?", "(", ")", "*"]
    copies = [" ".join(f"{w}{m}" for w in UNIQUE[:6]) for m in marks]
    text = " ".join(copies + UNIQUE[100:160])
    s = repetition_signals(text)
    assert s["repetition.dup_5gram_char_frac_all_occurrences"] > 0.15
    assert s["repetition.dup_5gram_char_frac_repeats"] == 0.0
    assert decide(text, **{**NGRAMS_OFF, "max_dup_5gram_char_frac": 0.15}) == "repetition.dup_5gram_char_frac"
    assert decide(text, profile="datatrove") is None


def test_datatrove_lines_and_paragraphs():
    # datatrove splits lines at runs of newlines (whitespace-only lines stay lines, so two of them are a
    # duplicate) and paragraphs at 2+ newlines only (a line holding a space does not end a paragraph).
    lines = [unique_line(i) for i in range(6)]
    text = "\n \n".join(lines[:3]) + "\n \n" + "\n".join(lines[3:])
    s = repetition_signals(text)
    assert s["repetition.dup_line_frac"] == 0.0
    assert s["repetition.dup_line_frac_datatrove"] == pytest.approx(2 / 9)  # 6 lines + 3 " " lines, 2 repeats
    assert s["repetition.dup_para_frac"] == 0.0  # 4 paragraphs, all different
    assert s["repetition.dup_para_frac_datatrove"] == 0.0  # 1 paragraph
    para = unique_line(50, 20)
    twice = f"{para}\n \n{unique_line(60, 20)}\n \n{para}"
    s = repetition_signals(twice)
    assert s["repetition.dup_para_frac"] == pytest.approx(1 / 3)
    assert s["repetition.dup_para_frac_datatrove"] == 0.0
    assert decide(twice) == "repetition.dup_para_frac"
    # datatrove: one paragraph, but 2 of its 5 lines ("para" again, " " again) repeat.
    assert decide(twice, profile="datatrove") == "repetition.dup_line_frac"
    # Lines are not stripped by datatrove: indentation makes a different line.
    s = repetition_signals("same line here\nother\n  same line here")
    assert s["repetition.dup_line_frac"] == pytest.approx(1 / 3)
    assert s["repetition.dup_line_frac_datatrove"] == 0.0


@pytest.mark.corpus
def test_real_documents():
    book = (
        gzip.decompress((SHARED_DATA / "books/gutenberg/pg42.txt.gz").read_bytes())
        .decode("utf-8")
        .replace("\r\n", "\n")
    )
    body = book[book.index("STORY OF THE DOOR") :][:30000]
    assert decide(body) is None
    # A lock file repeats the same keys in every entry.
    lock = (SHARED_DATA / "code/linguist/samples/TOML/filenames/Cargo.lock").read_text("utf-8")
    assert decide(lock) is not None


@settings(max_examples=200, deadline=None)
@given(
    st.text(st.characters(exclude_categories=()))
    | st.lists(st.sampled_from(["a", "b", "c", "\n", "\n\n", " ", "...", "#"]), max_size=300).map("".join)
)
def test_signals_total_on_arbitrary_unicode(text):
    s = repetition_signals(text)
    assert set(s) == set(SIGNAL_NAMES)
    assert all(isinstance(v, float) and math.isfinite(v) and 0.0 <= v <= 1.0 for v in s.values())


def reference_repeats(words: list[str], n: int) -> int:
    """Independent plain-Python statement of the `repeats` reading (datatrove's find_all_duplicate)."""
    seen, total, i = set(), 0, 0
    while i < len(words) - n + 1:
        key = tuple(words[i : i + n])
        if key in seen:
            total += sum(map(len, key))
            i += n
        else:
            seen.add(key)
            i += 1
    return total


def reference_all_occurrences(words: list[str], n: int) -> int:
    """Independent plain-Python statement of the `all_occurrences` reading (mask of every occurrence)."""
    grams = [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]
    counts: dict[tuple[str, ...], int] = {}
    for g in grams:
        counts[g] = counts.get(g, 0) + 1
    covered = set()
    for i, g in enumerate(grams):
        if counts[g] > 1:
            covered.update(range(i, i + n))
    return sum(len(words[i]) for i in covered)


@pytest.mark.corpus
def test_vectorised_ngram_counts_match_plain_python_on_real_text():
    from curation.datatrove_tokens import datatrove_tokens
    from curation.text import words

    lee = (SHARED_DATA / "news/lee/lee_background.cor").read_text("latin-1").splitlines()[:60]
    lock = (SHARED_DATA / "code/linguist/samples/TOML/filenames/Cargo.lock").read_text("utf-8")[:6000]
    for text in [*lee, lock, "la la la la la la la la la la la la"]:
        toks, wrds = list(datatrove_tokens(text)), list(words(text))
        s = repetition_signals(text)
        for n in range(5, 11):
            assert s[f"repetition.dup_{n}gram_char_frac_repeats"] * len(text) == pytest.approx(
                reference_repeats(toks, n)
            )
            assert s[f"repetition.dup_{n}gram_char_frac_all_occurrences"] * len(text) == pytest.approx(
                reference_all_occurrences(wrds, n)
            )
