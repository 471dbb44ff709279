"""curation.ngrams, the one home of word normalisation and n-gram hashing, against the code it replaced.

The `_old_*` functions are the implementations that `curation/minhash.py`, `curation/decontam.py`,
`curation/text.py` and `filters/repetition.py` each carried before they shared `curation.ngrams`, copied
as they were (loops and all). On real text in several scripts the shared code must give the same words,
the same word offsets and bit-identical hashes: MinHash signatures, decontamination index files and the
repetition filter's signals do not change.
"""

from __future__ import annotations

import bz2
import gzip
import json
import re
import unicodedata
from pathlib import Path

import numpy as np
import pytest

from curation.decontam import ngram_hashes, normalize_title, word_string_hashes
from curation.decontam.hashing import masked_ngram_hashes
from curation.minhash import MinHashParams, normalize_words, shingle_hashes_raw, token_hashes
from curation.ngrams import (
    WindowSums,
    inverse,
    local_word_hashes,
    next_ngram_hashes,
    ngram_text,
    ngram_word_spans,
    ngram_word_string,
    word_hashes,
)
from curation.sample import sample_dir
from curation.text import words

DATA = Path(__file__).resolve().parent / "data"
_U64 = np.uint64


# --- the previous implementations --------------------------------------------------------------------

# curation/minhash.py
_OLD_PUNCT = re.compile(r"[^\w\s]+")
_OLD_ASCII_PUNCT = str.maketrans(
    "", "", "".join(c for c in map(chr, range(128)) if not (c.isalnum() or c == "_" or c.isspace()))
)
_M1, _M2 = _U64(0xBF58476D1CE4E5B9), _U64(0x94D049BB133111EB)
_GOLDEN, _BYTE_BASE, _TOKEN_BASE = _U64(0x9E3779B97F4A7C15), _U64(0x100000001B3), _U64(0xC2B2AE3D27D4EB4F)


def _old_normalize_words(text: str, params: MinHashParams) -> str:
    ascii_only = text.isascii()
    if params.unicode_normalization and not ascii_only:
        text = unicodedata.normalize(params.unicode_normalization, text)
    if params.lowercase:
        text = text.lower()
    if params.strip_punctuation:
        text = text.translate(_OLD_ASCII_PUNCT) if ascii_only else _OLD_PUNCT.sub("", text)
    return " ".join(text.split())


def _old_mix64(x: np.ndarray) -> np.ndarray:
    x = x ^ (x >> _U64(30))
    x = x * _M1
    x = x ^ (x >> _U64(27))
    x = x * _M2
    return x ^ (x >> _U64(31))


def _old_token_hashes(normalized: str) -> np.ndarray:
    data = np.frombuffer(normalized.encode("utf-8", "surrogatepass"), dtype=np.uint8)
    if data.size == 0:
        return np.empty(0, dtype=np.uint64)
    spaces = np.flatnonzero(data == 32)
    starts = np.concatenate(([0], spaces + 1))
    ends = np.concatenate((spaces, [data.size]))
    lengths = ends - starts
    chars = data[data != 32].astype(np.uint64) + _U64(1)
    offsets = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    position = np.arange(chars.size) - np.repeat(offsets, lengths)
    powers = np.full(max(int(lengths.max()), 1), _BYTE_BASE, dtype=np.uint64)
    powers[0] = 1
    with np.errstate(over="ignore"):
        powers = np.cumprod(powers, dtype=np.uint64)
        poly = np.add.reduceat(chars * powers[position], offsets)
        return _old_mix64(poly ^ (lengths.astype(np.uint64) * _GOLDEN))


def _old_shingle_hashes_raw(text: str, params: MinHashParams) -> np.ndarray:
    tokens = _old_token_hashes(_old_normalize_words(text, params))
    if tokens.size == 0:
        return tokens
    n = min(params.ngram, tokens.size)
    count = tokens.size - n + 1
    folded = np.zeros(count, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(n):
            folded = folded * _TOKEN_BASE + tokens[j : j + count]
        return _old_mix64(folded + _U64(n) * _GOLDEN)


# curation/text.py (decontamination words)
_OLD_NGRAM_WORD = re.compile(r"[^\W_]+")
_OLD_NGRAM_SEPARATOR = re.compile(r"[\W_]+")


def _old_ngram_word_string(text: str) -> str:
    return _OLD_NGRAM_SEPARATOR.sub(" ", unicodedata.normalize("NFKC", text)).strip().casefold()


def _old_ngram_word_spans(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in _OLD_NGRAM_WORD.finditer(unicodedata.normalize("NFKC", text))]


# curation/decontam.py
_BYTE_MUL, _WORD_MUL = 0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F
_EXACT_SALT, _MASK_SALT = _U64(0x243F6A8885A308D3), _U64(0x13198A2E03707344)


def _old_powers(mul: int, n: int) -> tuple[np.ndarray, np.ndarray]:
    inv = _U64(pow(mul, -1, 1 << 64))
    fwd = np.concatenate(([_U64(1)], np.cumprod(np.full(max(n, 1) - 1, _U64(mul), dtype=np.uint64))))
    back = np.concatenate(([_U64(1)], np.cumprod(np.full(max(n, 1) - 1, inv, dtype=np.uint64))))
    return fwd[:n], back[:n]


def _old_word_string_hashes(joined: str) -> np.ndarray:
    if not joined:
        return np.zeros(0, dtype=np.uint64)
    data = np.frombuffer(joined.encode("utf-8", "surrogatepass"), dtype=np.uint8)
    sep = data == 32
    starts = np.flatnonzero(np.concatenate(([True], sep[:-1])))
    fwd, back = _old_powers(_BYTE_MUL, len(data))
    weighted = data.astype(np.uint64) * fwd
    weighted[sep] = 0
    return _old_mix64(np.add.reduceat(weighted, starts) * back[starts])


def _old_window_sums(word_h: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    fwd, back = _old_powers(_WORD_MUL, len(word_h))
    weighted = word_h * fwd
    prefix = np.concatenate(([_U64(0)], np.cumsum(weighted, dtype=np.uint64)))
    count = len(word_h) - n + 1
    return prefix[n:] - prefix[:count], back[:count], weighted


def _old_ngram_hashes(word_h: np.ndarray, n: int) -> np.ndarray:
    if len(word_h) < n:
        return np.zeros(0, dtype=np.uint64)
    sums, back, _ = _old_window_sums(word_h, n)
    return _old_mix64(sums * back + _EXACT_SALT)


def _old_masked_ngram_hashes(word_h: np.ndarray, n: int) -> np.ndarray:
    if len(word_h) < n:
        return np.zeros((n, 0), dtype=np.uint64)
    sums, back, weighted = _old_window_sums(word_h, n)
    count = len(sums)
    out = np.empty((n, count), dtype=np.uint64)
    for j in range(n):
        out[j] = _old_mix64((sums - weighted[j : j + count]) * back + _MASK_SALT + _U64(j))
    return out


# filters/repetition.py
_REPETITION_MIX = _U64(0x9E3779B97F4A7C15)


def _old_repetition_ngrams(toks: tuple[str, ...], n_max: int) -> list[np.ndarray]:
    unigrams = np.fromiter(map(hash, toks), dtype=np.int64, count=len(toks)).view(np.uint64)
    out, prev = [], unigrams
    for n in range(2, n_max + 1):
        prev = prev[:-1] * _REPETITION_MIX + unigrams[n - 1 :]
        out.append(prev)
    return out


# --- real text -----------------------------------------------------------------------------------------


def _pieces(text: str, sizes: tuple[int, ...] = (1, 7, 60, 400, 3000)) -> list[str]:
    """Cuts of a text at several lengths (characters), from a few places."""
    out = []
    for size in sizes:
        for start in (0, len(text) // 3, len(text) // 2):
            out.append(text[start : start + size])
    return out


@pytest.fixture(scope="module")
def texts() -> list[str]:
    """English book and news, German and Chinese web pages (raw HTML), Bulgarian Wikipedia XML (UTF-16), CC web text."""
    raw = [
        gzip.decompress((DATA / "readers/books/pg42.txt.gz").read_bytes()).decode("utf-8"),
        (DATA / "readers/news/lee.cor").read_text("utf-8", "replace"),
        bz2.decompress((DATA / "readers/wikipedia/bgwiki-latest-pages-articles-shortened.xml.bz2").read_bytes()).decode(
            "utf-16"
        ),
        *(gzip.decompress(p.read_bytes()).decode("utf-8", "replace") for p in sorted(DATA.glob("readers/html/*.gz"))),
        *(p.read_text("utf-8") for p in sorted(DATA.glob("filters/*.txt"))),
    ]
    with gzip.open(Path(sample_dir()) / "web" / "cc_en_head-0091.jsonl.gz", "rt", encoding="utf-8") as fh:
        web = [json.loads(line)["text"] for _, line in zip(range(40), fh, strict=False)]
    edge = ["", " ", "!!!", "a", "ﬁne café İstanbul ǅ Ⅻ ½ x²", "don't  stop\u00a0—\tnow_now @-@ 1,000", "\ud800 lone"]
    return [piece for text in raw for piece in _pieces(text)] + web + edge


def test_fixture_covers_several_scripts_and_non_ascii(texts):
    joined = "".join(texts)
    assert len(texts) > 100
    assert re.search("[а-я]", joined) and re.search("[\u4e00-\u9fff]", joined) and re.search("[äöüß]", joined)
    assert sum(not t.isascii() for t in texts) > 20


# --- equality with the previous implementations ----------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        MinHashParams(),
        MinHashParams(ngram=5, unicode_normalization="NFKC"),
        MinHashParams(ngram=3, lowercase=False, strip_punctuation=False, unicode_normalization=""),
    ],
    ids=["default", "nfkc-5", "raw-3"],
)
def test_minhash_words_tokens_and_shingles_unchanged(texts, params):
    for text in texts:
        norm = normalize_words(text, params)
        assert norm == _old_normalize_words(text, params)
        assert np.array_equal(token_hashes(norm), _old_token_hashes(norm))
        assert np.array_equal(shingle_hashes_raw(text, params), _old_shingle_hashes_raw(text, params))


def test_decontamination_words_spans_and_hashes_unchanged(texts):
    for text in texts:
        joined = ngram_word_string(text)
        assert joined == _old_ngram_word_string(text)
        assert ngram_word_spans(text) == _old_ngram_word_spans(text)
        norm = ngram_text(text)
        assert [norm[a:b].casefold() for a, b in ngram_word_spans(text)] == joined.split()
        wh = word_string_hashes(joined)
        assert np.array_equal(wh, _old_word_string_hashes(joined))
        for n in (5, 8, 13):
            assert np.array_equal(ngram_hashes(wh, n), _old_ngram_hashes(wh, n))
        assert np.array_equal(masked_ngram_hashes(wh, 13), _old_masked_ngram_hashes(wh, 13))
        assert normalize_title(text) == " ".join(_old_ngram_word_string(text.replace("_", " ")).split())


def test_repetition_ngram_hashes_unchanged(texts):
    for text in texts:
        toks = words(text)
        unigrams = local_word_hashes(toks)
        prev = unigrams
        for n, old in zip(range(2, 11), _old_repetition_ngrams(toks, 10), strict=False):
            if n > len(toks):
                break
            prev = next_ngram_hashes(unigrams, n, prev, _REPETITION_MIX)
            assert np.array_equal(prev, old)


# --- the shared pieces agree with each other ---------------------------------------------------------------


def test_rolling_and_prefix_sum_ngram_hashes_are_one_polynomial(texts):
    """`next_ngram_hashes` (left to right) and `WindowSums` (any n at once) compute the same n-gram polynomial."""
    mul = 0xC2B2AE3D27D4EB4F
    for text in texts[::5]:
        wh = word_hashes(ngram_word_string(text), 0x100000001B3)
        windows, prev = WindowSums(wh, inverse(mul)), wh
        for n in range(2, min(len(wh), 14) + 1):
            prev = next_ngram_hashes(wh, n, prev, mul)
            assert np.array_equal(prev, windows.poly(n) * _U64(pow(mul, n - 1, 1 << 64)))


def test_word_hashes_long_text_beyond_the_cached_power_table():
    """A text longer than the cached power table hashes like the same words in short pieces."""
    joined = " ".join(f"w{i}" for i in range(400_000))  # > 2**20 bytes
    whole = word_hashes(joined, 0x9E3779B97F4A7C15)
    parts = np.concatenate(
        [
            word_hashes(" ".join(f"w{i}" for i in range(a, a + 1000)), 0x9E3779B97F4A7C15)
            for a in range(0, 400_000, 1000)
        ]
    )
    assert len(joined) > 1 << 20
    assert np.array_equal(whole, parts)
