"""Text normalisation and splitting shared by filters, dedup and decontamination."""

from __future__ import annotations

import functools
import hashlib
import re
import unicodedata

_WS = re.compile(r"\s+")


def normalize_whitespace(text: str) -> str:
    """Collapse every run of whitespace to one space and strip the ends."""
    return _WS.sub(" ", text).strip()


def normalize_for_exact_dedup(text: str) -> str:
    """Canonical form for exact dedup: Unicode NFC, whitespace collapsed."""
    return normalize_whitespace(unicodedata.normalize("NFC", text))


def exact_dedup_key(text: str) -> str:
    """Hex digest that two documents share iff their normalised texts are equal."""
    norm = normalize_for_exact_dedup(text).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(norm, digest_size=16).hexdigest()


def split_lines(text: str) -> list[str]:
    """Lines as the repetition and bullet rules see them (`\\n`, `\\r\\n`, `\\r` separated)."""
    return text.splitlines()


def split_paragraphs(text: str) -> list[str]:
    """Paragraphs: blocks separated by two or more newlines."""
    return [p for p in re.split(r"\n\s*\n", text.strip()) if p]


# --- n-gram words (decontamination) -------------------------------------------------------------
# A word is a maximal run of letters/digits in the NFKC form of the text; everything else
# (punctuation, underscores, whitespace, tokeniser artefacts such as WikiText's "@-@") separates
# words, so "Teddy's" and "Teddy 's", "1,000" and "1 @,@ 000" give the same words.
_NGRAM_WORD = re.compile(r"[^\W_]+")


def ngram_text(text: str) -> str:
    """The NFKC form that n-gram word offsets refer to (identical to `text` for most input)."""
    return unicodedata.normalize("NFKC", text)


_NGRAM_SEPARATOR = re.compile(r"[\W_]+")


def ngram_words(text: str) -> list[str]:
    """Case-folded words for n-gram matching: punctuation ignored, whitespace irrelevant."""
    return ngram_word_string(text).split()


def ngram_word_string(text: str) -> str:
    """`ngram_words` joined by single spaces, built in one regex pass (the matcher's fast path)."""
    return _NGRAM_SEPARATOR.sub(" ", ngram_text(text)).strip().casefold()


def ngram_word_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each `ngram_words` word in `ngram_text(text)`, for reporting and cutting."""
    return [m.span() for m in _NGRAM_WORD.finditer(ngram_text(text))]


# --- Word and line tokenisation for the filters (see docs/filters.md) ---------------------------------

# A token is a word or a symbol token. Words are runs of letters/digits (soft hyphens allowed inside)
# joined by `@ ' ’ |`, by `.` (except lower.Upper, a missed sentence break), and by `- – − = , : /`
# before a digit (ASCII `-` not after a digit: `2013-01-08` splits, as in spaCy), so `3.14`, `1,000`, `10:30`, `I-94`, `x@y.com`, `rock'n'roll` stay whole; URLs stay whole; letter-dot
# abbreviations (`U.S.`, `J.`, `e.g.`) and common titles (`Mr.`, `Dr.`, `Gen.`) keep their final period;
# English contraction suffixes (`n't`, `'s`, `'re`, `'ve`, `'ll`, `'d`, `'m`) are words of their own.
# Symbol tokens are `...`, `--`, `''`, `@-@`, a run of `_`, or any other single non-space, non-word
# character; `.38` is one (numeric) word. This approximates the spaCy tokenisation datatrove uses
# (agreement measured in bench/bench_filters.py) with C-level regex scans and no per-character Python.
_CONTRACTION_RE = re.compile(r"([nN]['’][tT]|['’](?:[sSmMdD]|[rR][eE]|[vV][eE]|[lL][lL]))(?![^\W_])")
_CANNOT_RE = re.compile(r"(?<![\w])([cC]an)(not)(?![\w])")
_ABBREV_DOT = (
    r"\.(?:(?<=(?<![\w.])[^\W\d_]\.)|(?<=\.[^\W\d_]\.)"
    r"|(?<=(?<!\w)(?:Mr|Dr|St|Jr|Sr|Ms|Mt|Ft|Lt|vs|Co)\.)"
    r"|(?<=(?<!\w)(?:Mrs|Gen|Col|Gov|Sen|Rep|Rev|Inc|Ltd|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Oct|Nov|Dec|Ave|etc|Sgt|Maj|Adm)\.)"
    r"|(?<=(?<!\w)(?:Capt|Corp|Prof|Sept|Blvd|Bros)\.))"
)
_URL = r"(?:https?|ftp)://[^\s<>\"]*[^\s<>\".,;:!?)\]'’]"
_WORD = (
    rf"{_URL}|[^\W_]+(?:[_\xad]+[^\W_]+)*"
    rf"(?:(?:[@'’|]|\.(?![A-Z])|(?<![a-z])\.|(?<!\d)-(?=\d)|[–−=,:/](?=\d))[^\W_]+(?:[_\xad]+[^\W_]+)*)*(?:{_ABBREV_DOT})?"
    r"|['’](?:[sSmMdD]|[rR][eE]|[vV][eE]|[lL][lL])(?![^\W_])"
)
_TOKEN_RE = re.compile(rf"{_WORD}|\.{{2,}}|-{{2,}}|''|@[-.,]@|(?<![\w.])\.\d+|_+|[^\w\s]")
_IS_WORD_TOKEN = re.compile(r"[^\W_]|['’.][^\W_]").match
_DIGIT_WORD_RE = re.compile(r"(?<!\S)[\d_.,:/@'’|\xad]+(?!\S)")


def _split_contractions(text: str) -> str:
    """Put a space before contraction suffixes (`don't` -> `do n't`, `cannot` -> `can not`)."""
    if "'" in text or "’" in text:
        text = _CONTRACTION_RE.sub(r" \1", text)
    if "annot" in text:
        text = _CANNOT_RE.sub(r"\1 \2", text)
    return text


@functools.lru_cache(maxsize=4)
def tokens(text: str) -> tuple[str, ...]:
    """Every token (words and symbol tokens) in order; cached so the filter stages tokenise once."""
    return tuple(_TOKEN_RE.findall(_split_contractions(text)))


@functools.lru_cache(maxsize=4)
def words(text: str) -> tuple[str, ...]:
    """Word tokens only (tokens holding at least one letter or digit), in order."""
    return tuple(filter(_IS_WORD_TOKEN, tokens(text)))


def count_alphabetic_words(word_list: tuple[str, ...] | list[str]) -> int:
    """Number of words that contain at least one alphabetic character (not digits-only words)."""
    if not word_list:
        return 0
    return len(word_list) - len(_DIGIT_WORD_RE.findall(" ".join(word_list)))


def nonblank_lines(text: str) -> list[str]:
    """Lines (`str.splitlines` boundaries) that hold something other than whitespace."""
    return [line for line in text.splitlines() if line and not line.isspace()]
