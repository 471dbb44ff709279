"""The filters' token arrays (`curation.token_arrays`) against the string definitions they stand for.

The quality and repetition signals are computed from per-token arrays (spans, hashes, flags). These tests
check each array against `curation.text` / `curation.datatrove_tokens`, and the signals against a plain
string-based computation of the same definitions, on real text.
"""

from __future__ import annotations

import gzip
import io
import json
import random
import re
import tarfile
from importlib import resources

import numpy as np
import pytest

from curation.datatrove_tokens import datatrove_tokens
from curation.punctuation import DATATROVE_PUNCTUATION
from curation.text import _HAS_LETTER, _IS_WORD_TOKEN, nonblank_lines, tokenize, words
from curation.token_arrays import (
    ALL_DT_PUNCT,
    DT_PUNCT,
    HAS_LETTER,
    STOP_FORMS,
    WORD,
    _dash_chunks,
    char_classes,
    datatrove_token_arrays,
    string_hashes,
    token_arrays,
    word_arrays,
)
from curation.token_spans import class_table, code_points
from filters import quality, repetition
from filters.content import load_word_forms

EDGE_CASES = [
    "",
    "   \n\t ",
    "a",
    "The the THE tHe be Be BE to, of; and: that! have? with.",
    "don't can't cannot Cannot CANNOT won’t I'm we'll they're it's 'twas rock'n'roll",
    "of,--Major dead-- --alive Midnight._--Another Mr.--Dr. e.g.--U.S. 1--2 ___--___ #--# ...--... --",
    "“Well--” he said--‘no’--yes 'quoted' ''double'' x@y.com a|b 2013-01-08 3.14 1,000 10:30 I-94 .38 .357",
    "http://example.com/a--b?x=1, see https://x.org/y. ftp://f.net/z) end",
    "１２３ -- ok.--Yes ٣٤ ² x² 𝐀𝐁 😀😀 e\u0301 \u00ad soft\u00adhyphen ____ • - * · … ......",
    "Zürich Straße ЖЖЖ جملة 東京 ⅫⅩ ½ \ud800 lone surrogate",
]


def _sample_texts() -> list[str]:
    """Real texts from the bundled samples: news lines, book pieces, web JSONL documents, code files."""
    root = resources.files("curation") / "sample"
    texts: list[str] = []
    news = gzip.decompress((root / "news" / "lee_background.cor.gz").read_bytes()).decode("utf-8")
    texts += [line for line in news.splitlines() if line.strip()][:150]
    for book in ("105.txt.gz", "pg42.txt.gz"):
        body = gzip.decompress((root / "books" / book).read_bytes()).decode("utf-8", "replace")
        texts += [body[i : i + 8000] for i in range(0, min(len(body), 80000), 8000)]
    with gzip.open(io.BytesIO((root / "web" / "cc_en_head-0091.jsonl.gz").read_bytes()), "rt") as fh:
        for i, line in enumerate(fh):
            if i >= 150:
                break
            texts.append(json.loads(line).get("text") or "")
    with tarfile.open(fileobj=io.BytesIO((root / "code" / "markupsafe-1251593f6b0e.tar.gz").read_bytes())) as tar:
        for member in tar.getmembers()[:40]:
            fh = tar.extractfile(member) if member.isfile() else None
            if fh is not None:
                texts.append(fh.read().decode("utf-8", "replace")[:20000])
    return texts


def _fuzz_texts(count: int = 400, seed: int = 0) -> list[str]:
    """Random texts built from the pieces where the two token readings and the flags differ."""
    pieces = [
        "the", "The", "THE", "of", "and", "that", "have", "with", "be", "to", "cat", "x", "Mr.", "U.S.", "don't",
        "cannot", "'s", "--", "-", "...", ".", ",", ";", "'", "’", "“", "”", "#", "•", "_", "@", "1", "3.14",
        "１", "٣", "²", "é", "Ж", "東", "😀", "\u00ad", "http://a.b/c", "(", ")", "$", "…", "\ud800",
    ]  # fmt: skip
    rng = random.Random(seed)
    texts = []
    for _ in range(count):
        parts = [
            rng.choice(pieces) + rng.choice(["", "", " ", "  ", "\n", "\n\n", "\t"]) for _ in range(rng.randint(0, 40))
        ]
        texts.append("".join(parts))
    return texts


@pytest.fixture(scope="module")
def texts() -> list[str]:
    return EDGE_CASES + _sample_texts() + _fuzz_texts()


def _strings(text: str, arrays) -> list[str]:
    return [text[s:e] for s, e in zip(arrays.starts.tolist(), arrays.ends.tolist(), strict=True)]


def test_arrays_hold_the_tokens_words_and_datatrove_tokens(texts):
    for text in texts:
        assert _strings(text, token_arrays(text)) == tokenize(text), text[:200]
        assert _strings(text, word_arrays(text)) == list(words(text)), text[:200]
        assert _strings(text, datatrove_token_arrays(text)) == list(datatrove_tokens(text)), text[:200]


def test_flags_and_stop_forms_match_the_string_tests(texts):
    punct = set(DATATROVE_PUNCTUATION)
    for text in texts:
        for arrays in (token_arrays(text), datatrove_token_arrays(text)):
            toks = _strings(text, arrays)
            flags = arrays.flags.tolist()
            assert [bool(f & WORD) for f in flags] == [bool(_IS_WORD_TOKEN(t)) for t in toks]
            assert [bool(f & HAS_LETTER) for f in flags] == [bool(_HAS_LETTER(t)) for t in toks]
            assert [bool(f & ALL_DT_PUNCT) for f in flags] == [set(t) <= punct for t in toks]
            assert arrays.lengths.tolist() == [len(t) for t in toks]
            expected_stop = [STOP_FORMS.index(t) if t in STOP_FORMS and _IS_WORD_TOKEN(t) else -1 for t in toks]
            assert arrays.stop.tolist() == expected_stop


def test_hashes_are_equal_exactly_for_equal_tokens(texts):
    seen: dict[int, str] = {}
    for text in texts:
        arrays = datatrove_token_arrays(text)
        for tok, h in zip(_strings(text, arrays), arrays.hashes.tolist(), strict=True):
            assert seen.setdefault(h, tok) == tok
    assert len(seen) > 5000
    forms = sorted(load_word_forms())
    by_string = {t: h for h, t in seen.items()}
    for form, h in zip(forms, string_hashes(forms).tolist(), strict=True):
        assert by_string.get(form, h) == h


def _reference_quality(text: str) -> dict[str, float]:
    """The quality measurements straight from their string definitions (docs/filters.md)."""
    wrds = words(text)
    n = len(wrds)
    toks = datatrove_tokens(text)
    punct = set(DATATROVE_PUNCTUATION)
    dt_words = [t for t in toks if not set(t) <= punct]
    forms = {w for w in wrds if w in STOP_FORMS}
    return {
        "word_count": float(n),
        "mean_word_length": sum(map(len, wrds)) / n if n else 0.0,
        "alpha_words_ratio": sum(1 for w in wrds if _HAS_LETTER(w)) / n if n else 0.0,
        "stop_word_count": float(len({f.lower() for f in forms})),
        "word_count_datatrove": float(len(dt_words)),
        "mean_word_length_datatrove": sum(map(len, dt_words)) / len(dt_words) if dt_words else 0.0,
        "alpha_words_ratio_datatrove": sum(1 for t in toks if _HAS_LETTER(t)) / len(toks) if toks else 0.0,
        "stop_word_count_datatrove": float(len(quality.STOP_WORDS.intersection(toks))),
        "lines": float(len(nonblank_lines(text))),
    }


def _assert_signals_equal_the_definitions(text: str, readings=(("datatrove", "repeats"),)) -> None:
    """Quality signals against `_reference_quality`; the n-gram signals of each (reading, convention) against
    `ngram_signals` over that reading's token strings."""
    got = quality.quality_signals(text)
    for name, value in _reference_quality(text).items():
        if name != "lines":
            assert got[f"quality.{name}"] == value, (name, text[:200])
    rep = repetition.repetition_signals(text)
    for reading, convention in readings:
        toks = words(text) if reading == "gopher" else datatrove_tokens(text)
        expected = repetition.ngram_signals(toks, len(text), convention)
        assert {k: rep[k] for k in expected} == expected, (reading, text[:200])


def test_quality_and_ngram_signals_equal_the_string_definitions(texts):
    for text in texts:
        _assert_signals_equal_the_definitions(text, (("gopher", "all_occurrences"), ("datatrove", "repeats")))


def test_signals_equal_the_string_definitions_on_the_corpus(shared_data):
    """The same equalities on development-corpus text: every Gutenberg book in 20 KB pieces, web documents."""
    texts = []
    for path in sorted(shared_data.glob("books/gutenberg/*.txt.gz")):
        body = gzip.decompress(path.read_bytes()).decode("utf-8", "replace")
        texts += [body[i : i + 20000] for i in range(0, min(len(body), 400000), 20000)]
    for path in sorted(shared_data.glob("web/commoncrawl/**/*.jsonl.gz")):
        with gzip.open(path, "rt", errors="replace") as fh:
            texts += [json.loads(line).get("text") or "" for line in fh]
    assert len(texts) >= 150
    for text in texts:
        assert _strings(text, datatrove_token_arrays(text)) == list(datatrove_tokens(text))
        _assert_signals_equal_the_definitions(text)


def test_dash_chunks_are_the_regex_chunks(texts):
    chunk = re.compile(r"(?<!\S)\S*--\S*")
    for text in texts:
        starts, ends = _dash_chunks(code_points(text), char_classes())
        assert list(zip(starts.tolist(), ends.tolist(), strict=True)) == [m.span() for m in chunk.finditer(text)]


def test_datatrove_punctuation_bit_marks_exactly_its_characters():
    table = char_classes()
    expected = np.zeros(0x110000, dtype=bool)
    expected[[ord(c) for c in DATATROVE_PUNCTUATION]] = True
    assert np.array_equal((table & DT_PUNCT) != 0, expected)
    assert np.array_equal(table & ~np.uint8(DT_PUNCT), class_table())


def test_blocked_word_counts_equal_the_string_count(texts, tmp_path):
    from curation.schema import Document
    from filters.content import content_signals, load_word_forms

    lists = {"default": None, "empty": tmp_path / "empty.txt", "common": tmp_path / "common.txt"}
    lists["empty"].write_text("# nothing listed\n")
    lists["common"].write_text("the\ncat\nmr\ndon\n's\n東\n")
    nonzero = 0
    for name, path in lists.items():
        cfg = {"domain_blocklist": None, "word_blocklist": str(path) if path else None}
        forms = load_word_forms(cfg["word_blocklist"])
        for text in texts:
            got = content_signals(Document(id="d", source="web", text=text), cfg)["content.blocked_word_count"]
            expected = sum(w in forms for w in words(text))
            assert got == expected, (name, text[:200])
            nonzero += expected > 0
    assert nonzero > 100
