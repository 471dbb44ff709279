"""`curation.token_spans` gives exactly the tokens of `curation.text.tokenize`, on every kind of text.

Each comparison is against the regex itself: the spans, sliced out of the text, must equal `tokenize`'s
list. Texts: hand-picked corner cases, every short string over a small alphabet, seeded random strings
over a tricky alphabet, the bundled sample corpus and (when present) the development corpus. The class
table is checked against `re` on every code point.
"""

from __future__ import annotations

import bz2
import contextlib
import io
import itertools
import json
import lzma
import random
import re
import tarfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from curation import text as text_mod
from curation.text import tokenize
from curation.token_spans import (
    ALNUM,
    DIGIT,
    LETTER,
    N_CODE_POINTS,
    SPACE,
    TITLES,
    WORD,
    class_table,
    code_points,
    token_spans,
    token_spans_cp,
)

SAMPLE = Path(__file__).resolve().parents[1] / "curation" / "sample"
PIECE = 20_000  # characters per compared piece of a long text


def span_tokens(text: str) -> list[str]:
    starts, ends = token_spans(text)
    return [text[s:e] for s, e in zip(starts.tolist(), ends.tolist(), strict=True)]


def mismatches(texts) -> tuple[int, list[str]]:
    """(texts compared, the first few that differ)."""
    count, bad = 0, []
    for t in texts:
        count += 1
        if span_tokens(t) != tokenize(t) and len(bad) < 5:
            bad.append(t)
    return count, bad


# --- reading any file of the corpora as text ---------------------------------------------------------------


def _gunzip(data: bytes) -> bytes:
    """All gzip members, keeping what a truncated or corrupt stream gave before it broke."""
    out = []
    while data:
        d = zlib.decompressobj(wbits=47)
        try:
            out.append(d.decompress(data))
        except zlib.error:
            break
        if not d.eof:
            break
        data = d.unused_data
    return b"".join(out)


def _decompress(data: bytes) -> bytes:
    try:
        if data[:2] == b"\x1f\x8b":
            return _gunzip(data)
        if data[:3] == b"BZh":
            return bz2.decompress(data)
        if data[:6] == b"\xfd7zXZ\x00":
            return lzma.decompress(data)
    except (OSError, EOFError, lzma.LZMAError):
        return b""
    return data


def _strings(value) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v)


def _file_texts(name: str, data: bytes, limit: int | None) -> Iterator[str]:
    """The raw text (undecodable bytes as lone surrogates) and, for JSON lines, every string field."""
    data = _decompress(data)
    if ".tar" in name or name.endswith(".tgz"):
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            for member in tar:
                f = tar.extractfile(member) if member.isfile() else None
                if f is not None:
                    yield from _file_texts(member.name, f.read(limit), limit)
        return
    if limit is not None:
        data = data[:limit]
    raw = data.decode("utf-8", "surrogateescape")
    yield raw
    if ".json" in name:
        for line in raw.splitlines():
            with contextlib.suppress(ValueError):
                yield from _strings(json.loads(line))


def pieces(texts: Iterator[str]) -> Iterator[str]:
    for t in texts:
        for i in range(0, max(len(t), 1), PIECE):
            yield t[i : i + PIECE]


def corpus_texts(root: Path, limit: int | None = None, folders=("",)) -> Iterator[str]:
    """Every file under the folders of `root` as text pieces (at most `limit` bytes of each file or member)."""
    for folder in folders:
        for path in sorted((root / folder).rglob("*")):
            if path.is_file():
                yield from pieces(_file_texts(path.name, path.read_bytes(), limit))


# --- the class table -----------------------------------------------------------------------------------------


def test_class_table_equals_re_on_every_code_point():
    table = class_table()
    assert table.shape == (N_CODE_POINTS,) and table.dtype == np.uint8
    everything = np.arange(N_CODE_POINTS, dtype=np.uint32).tobytes().decode("utf-32-le", "surrogatepass")
    for bit, pattern in ((WORD, r"\w+"), (DIGIT, r"\d+"), (SPACE, r"\s+"), (ALNUM, r"[^\W_]+"), (LETTER, r"[^\W\d_]+")):
        expected = np.zeros(N_CODE_POINTS, dtype=bool)
        for m in re.finditer(pattern, everything):
            expected[m.start() : m.end()] = True
        got = (table & bit) != 0
        assert np.array_equal(got, expected), (pattern, np.flatnonzero(got != expected)[:10])
    assert class_table() is table  # built once


def test_titles_are_the_regex_titles():
    titles = [t for group in re.findall(r"\(\?:([A-Za-z|]+)\)\\\.", text_mod._ABBREV_DOT) for t in group.split("|")]
    assert titles == TITLES


def test_code_points_and_types():
    s = "a\ud800𝐀 é"
    cps = code_points(s)
    assert cps.dtype == np.uint32 and cps.tolist() == [ord(c) for c in s]
    starts, ends = token_spans(s)
    assert starts.dtype == np.int64 and ends.dtype == np.int64
    assert [s[a:b] for a, b in zip(starts, ends, strict=True)] == tokenize(s)
    assert [x.tolist() for x in token_spans_cp(cps)] == [starts.tolist(), ends.tolist()]
    assert [x.tolist() for x in token_spans("")] == [[], []]


# --- hand-picked corner cases --------------------------------------------------------------------------------

CASES = [
    "",
    "   \t\n",
    "Mr. Smith met Dr.Who and Mrs. Jones, Capt. Kirk, Prof. X and Gen.Lee in the U.S. (e.g. here) etc. vs. them.",
    "J. R. R. Tolkien; a.b.c. x.Y. A.B.C.D. 1.A. é.B. ß. Ж.Ж. .a. a..b.",
    "xMr. _Mr. Mr.. .Mr. Bros. Sept.",
    "It's they're we've I'll he'd I'm 'S 'RE 'Ve 'LL 's2 'sa ’s ’re rock'n'roll 'til '' ''' x''y",
    "don't DON'T can't won't n't N'T isn’t ISN’T Don'T don't. aren't's n'tn't xn't",
    "cannot Cannot CANNOT cannot's xcannot cannotx _cannot cannot_ (cannot) can not cannot.5 cannot.A",
    "cannot'tcannot cannot-9 9-cannot http://cannot Mr.cannot. cannot.cannot",
    "3.14 1,000 10:30 I-94 2013-01-08 a-1 1-a 10−7 5–6 x=3 a/5 a/b a:b 1:a 12.Mar ab.Cd ab.cd AB.CD",
    '.38 (.357) [.5] ".5" \'.5 “.5 ‘.5 $.99 x.5 ,.5 ... .. . -- --- - @ @-@ @.@ @,@ @@ @-x a@b.com a|b',
    "a_b a__b a_ _a a\xadb a\xad\xadb a\xad b_\xadc ____ ___a",
    'see http://example.com/a.b.c. and (https://x.org/path?q=1). ftp://f.tp/x, http://a"b http://) http://...',
    "https:// http://' https://x’ httpx://y ftps://z HTTP://X http://don't http://x/isn’t.",
    "１２ ٣.٤ ²³ x² 𝐀𝐁 😀😀 中文字 é́ a\u0301b \u00a0x\u2003y\u3000z \x1c\x1d\x1e\x1f\x85 \ud800 a\udc80b",
    "Co. Co.Ltd. St.Louis Ft. Mt.Fuji Lt.Col. Jan. Feb.2 etc.. vs.. Maj.Gen.",
]


@pytest.mark.parametrize("text", CASES)
def test_corner_cases(text):
    assert span_tokens(text) == tokenize(text)


def test_every_short_string():
    alphabet = "aA1'.-@_\xad tns/:’,"
    texts = ("".join(t) for n in range(5) for t in itertools.product(alphabet, repeat=n))
    count, bad = mismatches(texts)
    assert count == sum(len(alphabet) ** n for n in range(5)) and not bad, bad


def test_cannot_in_every_short_context():
    """`cannot` -> `can not` inserts a space that the regex's lookbehinds then see: every 2+2 context."""
    alphabet = "a1.'’-/:@_ rM"
    contexts = ["".join(t) for t in itertools.product(alphabet, repeat=2)]
    texts = (f"{a}{word}{b}" for a in contexts for b in contexts for word in ("cannot", "Cannot"))
    count, bad = mismatches(texts)
    assert count == 2 * len(contexts) ** 2 and not bad, bad


FUZZ_ATOMS = list(
    "abcxyzXYZ0129'’.-–−=,:/@|_\xad\"“‘$()[]  \t\n\u00a0\u2003éßЖع中文\u0301１٣²\U0001d400😀\ud800sStTnNmMdDrReEvVlL"
) + [
    "http://",
    "https://",
    "https://x.com/a.b",
    "ftp://",
    "://",
    "cannot",
    "Cannot",
    "can't",
    "don't",
    "DON'T",
    "n’t",
    "n't",
    "Mr.",
    "Mrs.",
    "Capt.",
    "U.S.",
    "e.g.",
    "etc.",
    "'s",
    "'re",
    "'ll",
    "'ve",
    ".38",
    "...",
    "--",
    "@-@",
    "@.@",
    "2013-01-08",
    "3.14",
    "1,000",
    "10:30",
    "I-94",
    "''",
]


def test_fuzz():
    rng = random.Random(20261202)
    texts = ("".join(rng.choice(FUZZ_ATOMS) for _ in range(rng.randint(0, 40))) for _ in range(30_000))
    count, bad = mismatches(texts)
    assert count == 30_000 and not bad, bad


# --- corpora ---------------------------------------------------------------------------------------------------


def test_sample_corpus():
    count, bad = mismatches(corpus_texts(SAMPLE))
    assert count > 100 and not bad, bad


def test_development_corpus(shared_data):
    """A broad slice: books, web (JSONL, WET, WARC, HTML), news, Wikipedia, code, eval sets (first 200 KB each)."""
    folders = ("books", "web/commoncrawl", "web/warc", "web/html", "news", "wikipedia", "code/repos", "evalsets")
    count, bad = mismatches(corpus_texts(shared_data, limit=200_000, folders=folders))
    assert count > 300 and not bad, bad
