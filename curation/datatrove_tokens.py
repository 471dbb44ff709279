"""Tokens as datatrove's spaCy tokenizer cuts them, for the `datatrove` profile's signals.

Our regex tokens (`curation.text.tokens`) already follow spaCy's rule-based English tokenizer almost
everywhere. The one frequent difference is a whitespace chunk holding a double hyphen: spaCy splits `--`
off only between two letters or digits, so `of,--Major`, `dead--` or `Midnight._--Another` stay one token
there, where the regex splits every mark. Such chunks are cut here with spaCy's own procedure (prefixes
and suffixes peeled off the ends, then infixes split, then titles such as `Mr.` merged), using its
English prefix, suffix and infix rules for the characters that occur in English text.
"""

from __future__ import annotations

import functools
import re

from curation.text import tokens_and_dash_chunks

_QUOTES = "'\"”“`‘´’‚„»«"
_PUNCT = ",:;!?¿¡()\\[\\]{}<>_#*&·"
_LOWER = "a-zß-öø-ÿ"
_PREFIX = re.compile(rf"(?:[§%=—–]|\+(?![0-9])|……|…|[{_PUNCT}]|\.\.+|[{_QUOTES}]|[$£€¥])")
_SUFFIX = re.compile(
    rf"(?:……|…|[{_PUNCT}]|\.\.+|[{_QUOTES}]|['’][sS]|[—–]|(?<=[0-9])[+$£€¥%]"
    rf"|(?<=[0-9{_LOWER}%²\-+{_PUNCT}{_QUOTES}…])\.|(?<=[A-Z][A-Z])\.)$"
)
_INFIX = re.compile(
    rf"\.\.+|…|(?<=[0-9])[+\-*^](?=[0-9-])|(?<=[{_LOWER}{_QUOTES}])\.(?=[A-Z{_QUOTES}])"
    r"|(?<=[^\W\d_]),(?=[^\W\d_])|(?<=[^\W_])(?:-|–|—|--|---|——|~)(?=[^\W\d_])|(?<=[^\W_])[:<>=/](?=[^\W\d_])"
)
_TITLES = frozenset(
    ("Mr", "Mrs", "Ms", "Dr", "St", "Jr", "Sr", "Mt", "Ft", "Lt", "Gen", "Col", "Gov", "Sen", "Rep", "Rev")
    + ("Inc", "Ltd", "Capt", "Corp", "Prof", "Sgt", "Maj", "Adm", "vs", "Co", "etc")
)


def _merge_titles(toks: list[str]) -> list[str]:
    """`Mr`, `.` -> `Mr.`: spaCy's special cases re-join a title and its period after splitting."""
    out: list[str] = []
    for tok in toks:
        if tok == "." and out and out[-1] in _TITLES:
            out[-1] += "."
        else:
            out.append(tok)
    return out


def spacy_chunk_tokens(chunk: str) -> list[str]:
    """Tokens of one whitespace-free chunk by spaCy's affix loop and infix split (special cases: titles)."""
    prefixes: list[str] = []
    suffixes: list[str] = []
    last = -1
    while chunk and len(chunk) != last:
        last = len(chunk)
        m = _PREFIX.match(chunk)
        pre = m.end() if m else 0
        m = _SUFFIX.search(chunk[pre:])
        suf = len(m.group()) if m else 0
        if pre and suf and pre + suf <= len(chunk):
            prefixes.append(chunk[:pre])
            suffixes.append(chunk[len(chunk) - suf :])
            chunk = chunk[pre : len(chunk) - suf]
        elif pre:
            prefixes.append(chunk[:pre])
            chunk = chunk[pre:]
        elif suf:
            suffixes.append(chunk[len(chunk) - suf :])
            chunk = chunk[: len(chunk) - suf]
    out = prefixes
    start = 0
    for m in _INFIX.finditer(chunk):
        if m.start() != start:
            out.append(chunk[start : m.start()])
        if m.end() != m.start():
            out.append(m.group())
        start = m.end()
    if start < len(chunk):
        out.append(chunk[start:])
    return _merge_titles(out + suffixes[::-1])


@functools.lru_cache(maxsize=4)
def datatrove_tokens(text: str) -> tuple[str, ...]:
    """`tokens(text)`, except that whitespace chunks holding `--` are cut as spaCy cuts them."""
    toks, chunks = tokens_and_dash_chunks(text)
    out: list[str] = []
    prev = 0
    for first, stop, chunk in chunks:
        out += toks[prev:first]
        out += spacy_chunk_tokens(chunk)
        prev = stop
    return tuple(out + list(toks[prev:])) if chunks else toks
