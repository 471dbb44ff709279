"""Exact-dedup keys and the filters' paragraph, line and token splitting (words for n-gram matching: `curation.ngrams`)."""

from __future__ import annotations

import functools
import hashlib
import operator
import re
import unicodedata
from itertools import compress


def normalize_whitespace(text: str) -> str:
    """Collapse every run of whitespace to one space and strip the ends (str.split's whitespace is re's \\s)."""
    return " ".join(text.split())


def normalize_for_exact_dedup(text: str) -> str:
    """Canonical form for exact dedup: Unicode NFC, whitespace collapsed."""
    return normalize_whitespace(unicodedata.normalize("NFC", text))


def exact_dedup_key(text: str) -> str:
    """Hex digest that two documents share iff their normalised texts are equal."""
    norm = normalize_for_exact_dedup(text).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(norm, digest_size=16).hexdigest()


def split_paragraphs(text: str) -> list[str]:
    """Paragraphs: blocks separated by two or more newlines."""
    return [p for p in re.split(r"\n\s*\n", text.strip()) if p]


# --- Word and line tokenisation for the filters (see docs/filters.md) ---------------------------------

# A token is a word or a symbol token. Words are runs of letters/digits (soft hyphens allowed inside)
# joined by `@ ' ’ |`, by `.` (except lower.Upper, a missed sentence break), and by `- – − = , : /`
# before a digit (ASCII `-` not after a digit: `2013-01-08` splits, as in spaCy), so `3.14`, `1,000`,
# `10:30`, `I-94`, `x@y.com`, `rock'n'roll` stay whole; URLs stay whole; letter-dot abbreviations
# (`U.S.`, `J.`, `e.g.`) and common titles (`Mr.`, `Dr.`, `Gen.`) keep their final period; English
# contraction suffixes (`n't`, `'s`, `'re`, `'ve`, `'ll`, `'d`, `'m`) and `cannot` -> `can not` are
# split as spaCy does; a number written with a leading point after a space (`.38`, `.357`) is a word.
# Symbol tokens are `...`, `--`, `''`, `@-@`, or any other single non-space, non-word character
# (`_` included, so `____` is four tokens as in spaCy). This approximates the spaCy tokenisation
# datatrove uses (agreement measured in bench/bench_filters.py) with one C-level regex scan; the URL
# branch and the `n't`/`cannot` fix-ups run only on texts that contain `://`, `n't` or `annot`. This regex is
# the definition; the filters run its compiled equivalent, `curation.token_spans` (tested equal to it).
_ABBREV_DOT = (
    r"\.(?:(?<=(?<![\w.])[^\W\d_]\.)|(?<=\.[^\W\d_]\.)"
    r"|(?<=(?<!\w)(?:Mr|Dr|St|Jr|Sr|Ms|Mt|Ft|Lt|vs|Co)\.)"
    r"|(?<=(?<!\w)(?:Mrs|Gen|Col|Gov|Sen|Rep|Rev|Inc|Ltd|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Oct|Nov|Dec|Ave|etc|Sgt|Maj|Adm)\.)"
    r"|(?<=(?<!\w)(?:Capt|Corp|Prof|Sept|Blvd|Bros)\.))"
)
_SUFFIX_TAIL = r"(?:[sSmMdD]|[rR][eE]|[vV][eE]|[lL][lL])(?![^\W_])"  # 's 'm 'd 're 've 'll
_SUFFIX = rf"['’]{_SUFFIX_TAIL}"
# (The `(?=...)` guards are for speed only: they fail the common case, a space, in one test.)
_RUN = r"[^\W_]+(?:(?=[_\xad])[_\xad]+[^\W_]+)*"
_JOIN = rf"(?:[@|]|['’](?!{_SUFFIX_TAIL})|\.(?![A-Z])|(?<![a-z])\.|(?<!\d)-(?=\d)|[–−=,:/](?=\d))"
_WORD = rf"{_RUN}(?:(?=[@|'’.\-–−=,:/]){_JOIN}{_RUN})*(?:(?=\.){_ABBREV_DOT})?|{_SUFFIX}"
_DOT_NUMBER = r"(?<![^\s(\[\"'“‘$])\.\d[^\W_]*"
_SYMBOL = rf"(?:(?=\.\d){_DOT_NUMBER}|\.(?:\.+)?)|-(?:-+)?|''?|@(?:[-.,]@)?|[^\w\s]|_"  # ... -- '' @-@ or one
_URL = r"(?:https?|ftp)://[^\s<>\"]*[^\s<>\".,;:!?)\]'’]"
_TOKEN_RE = re.compile(rf"{_WORD}|{_SYMBOL}")
_TOKEN_URL_RE = re.compile(rf"{_URL}|{_WORD}|{_SYMBOL}")
_NT = ("n't", "n’t", "N'T", "N’T")
_ENDS_WITH_NT = operator.methodcaller("endswith", _NT)
_HAS_LETTER = re.compile(r"[^\W\d_]").search
_CANNOT_RE = re.compile(r"(?<![\w])([cC]an)(not)(?![\w])")


def _split_nt(toks: list[str]) -> list[str]:
    """`don't` -> `do`, `n't` (and `can't` -> `ca`, `n't`), as spaCy and NLTK split them."""
    hits = list(compress(range(len(toks)), map(_ENDS_WITH_NT, toks)))
    for i in reversed(hits):
        t = toks[i]
        if len(t) > 3:
            toks[i : i + 1] = [t[:-3], t[-3:]]
    return toks


def tokenize(text: str) -> list[str]:
    """Every token (words and symbol tokens) of `text` in order (uncached: see `tokens`)."""
    src = _CANNOT_RE.sub(r"\1 \2", text) if "annot" in text else text
    toks = (_TOKEN_URL_RE if "://" in src else _TOKEN_RE).findall(src)
    if any(nt in src for nt in _NT):
        toks = _split_nt(toks)
    return toks


# A whitespace chunk holding `--` (its matches start only at chunk starts, so a failed try costs one test).
_DASH_CHUNK = re.compile(r"(?<!\S)\S*--\S*")
DashChunk = tuple[int, int, str]  # (first token, token after the last, chunk text)


@functools.lru_cache(maxsize=4)
def tokens_and_dash_chunks(text: str) -> tuple[tuple[str, ...], tuple[DashChunk, ...]]:
    """Every token in order, and which tokens each whitespace chunk holding `--` became.

    No token crosses whitespace, so tokenising the text piece by piece (cut at whitespace) gives the
    tokens of the whole; the chunk ranges let `curation.datatrove_tokens` re-cut just those chunks.
    """
    if "--" not in text:
        return tuple(tokenize(text)), ()
    toks: list[str] = []
    chunks: list[DashChunk] = []
    pos = 0
    for m in _DASH_CHUNK.finditer(text):
        toks += tokenize(text[pos : m.start()])
        first = len(toks)
        toks += tokenize(m.group())
        chunks.append((first, len(toks), m.group()))
        pos = m.end()
    toks += tokenize(text[pos:])
    return tuple(toks), tuple(chunks)


def tokens(text: str) -> tuple[str, ...]:
    """Every token (words and symbol tokens) in order; cached so the filter stages tokenise once."""
    return tokens_and_dash_chunks(text)[0]


# A word token starts with a letter or digit, or is a `'s`-type suffix or a `.38`-type number. The bare
# `re.Match`-returning function is used (not a bool wrapper) because it runs in C inside map/filter.
_IS_WORD_TOKEN = re.compile(r"['’.]?[^\W_]").match


@functools.lru_cache(maxsize=4)
def words(text: str) -> tuple[str, ...]:
    """Word tokens in token order: tokens holding a letter or digit (punctuation and symbols are not words)."""
    return tuple(filter(_IS_WORD_TOKEN, tokens(text)))


def nonblank_lines(text: str) -> list[str]:
    """Lines (`str.splitlines` boundaries) that hold something other than whitespace."""
    return [line for line in text.splitlines() if line and not line.isspace()]


_NEWLINES = re.compile(r"\n+")
_TWO_NEWLINES = re.compile(r"\n{2,}")


def datatrove_lines(text: str) -> list[str]:
    """Lines as datatrove's repetition filter splits them (`\\n+`): whitespace-only lines stay, unstripped."""
    return _NEWLINES.split(text)


def datatrove_paragraphs(text: str) -> list[str]:
    """Paragraphs as datatrove splits them: at 2+ consecutive newlines only, unstripped."""
    return _TWO_NEWLINES.split(text.strip())
