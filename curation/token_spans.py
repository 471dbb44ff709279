"""Compiled token spans: `curation.text.tokenize` as (start, end) code point offsets, computed by numba.

`token_spans(text)` returns int64 arrays `starts`, `ends` such that, for every str `text`,
`[text[s:e] for s, e in zip(starts, ends)] == curation.text.tokenize(text)`. The kernel mirrors the regex
of `curation.text` piece by piece (one function per grammar piece, named after it): at each position, in
order, `_URL` (only when the text holds `://`), `_WORD` (`_RUN`, `_JOIN`, `_ABBREV_DOT`, `_SUFFIX`), then
`_SYMBOL`; positions where nothing matches (whitespace) are skipped, as `findall` does. Python's
alternation is ordered, not longest-match, and the kernel takes the same first-matching branch. The two
fix-ups follow: `cannot` -> `can`, `not` (`_CANNOT_RE`: the regex runs on the text with the space inserted,
so the kernel scans that text too and maps offsets back) and the `n't` split (`_split_nt`).

Character classes come from a per-code-point table of bit flags built once per process from Python's `re`
itself (`class_table`), so `\\w`, `\\d` and `\\s` are sre's own: `\\w` is `str.isalnum()` or `_`, `\\d` is a
Unicode decimal digit, `\\s` is sre's Unicode whitespace; lone surrogates are ordinary non-word code points.
"""

from __future__ import annotations

import re

import numpy as np
from numba import njit

__all__ = ["class_table", "code_points", "token_spans", "token_spans_cp"]

# Class bits of the table: \w, \d, \s, [^\W_] (letters and digits) and [^\W\d_] (letters).
WORD, DIGIT, SPACE, ALNUM, LETTER = 1, 2, 4, 8, 16
N_CODE_POINTS = 0x110000

_table: np.ndarray | None = None


def code_points(text: str) -> np.ndarray:
    """The code points of `text` as uint32 (lone surrogates included)."""
    return np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)


def _all_code_points() -> str:
    cps = np.arange(N_CODE_POINTS, dtype=np.uint32)
    surrogates = "".join(map(chr, range(0xD800, 0xE000)))  # decoding them needs the slower error handler
    return cps[:0xD800].tobytes().decode("utf-32-le") + surrogates + cps[0xE000:].tobytes().decode("utf-32-le")


def _build_class_table() -> np.ndarray:
    """uint8 class bits of every code point, from `re`'s own `\\W`, `\\S` and `\\d` (about 50-60 ms).

    The complements `\\W+`, `\\S+` are scanned because sre matches a run faster than it searches for one.
    `\\d` is scanned over the word characters only (sre's `\\w`, Py_UNICODE_ISALNUM, includes every decimal
    digit). `[^\\W_]` is `\\w` less `_`, and `[^\\W\\d_]` is that less `\\d`, as the class syntax says. The
    tests compare all five classes with `re` (`\\w`, `\\d`, `\\s`, `[^\\W_]`, `[^\\W\\d_]`) on every code point.
    """
    text = _all_code_points()
    word = np.ones(N_CODE_POINTS, dtype=bool)
    for m in re.finditer(r"\W+", text):
        word[m.start() : m.end()] = False
    space = np.zeros(N_CODE_POINTS, dtype=bool)
    space_start = 0
    for m in re.finditer(r"\S+", text):
        space[space_start : m.start()] = True
        space_start = m.end()
    space[space_start:] = True
    word_cps = np.flatnonzero(word).astype(np.uint32)
    digit = np.zeros(N_CODE_POINTS, dtype=bool)
    for m in re.finditer(r"\d+", word_cps.tobytes().decode("utf-32-le")):
        digit[word_cps[m.start() : m.end()]] = True
    alnum = word.copy()
    alnum[ord("_")] = False
    letter = alnum & ~digit
    table = np.zeros(N_CODE_POINTS, dtype=np.uint8)
    for bit, mask in ((WORD, word), (DIGIT, digit), (SPACE, space), (ALNUM, alnum), (LETTER, letter)):
        table[mask] |= bit
    return table


def class_table() -> np.ndarray:
    """The per-code-point class bits (built on first use, then kept for the process)."""
    global _table
    if _table is None:
        _table = _build_class_table()
    return _table


def token_spans_cp(cps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`token_spans` for a text already converted by `code_points` (a uint32 array of code points)."""
    return _token_spans(cps, class_table())


def token_spans(text: str) -> tuple[np.ndarray, np.ndarray]:
    """int64 `starts`, `ends`: `[text[s:e] for s, e in zip(starts, ends)] == curation.text.tokenize(text)`."""
    return _token_spans(code_points(text), class_table())


# --- the kernel -----------------------------------------------------------------------------------------
# Code points used below.
_APOS, _RSQUO, _LSQUO, _LDQUO, _QUOT = 0x27, 0x2019, 0x2018, 0x201C, 0x22
_DOT, _HYPHEN, _EN_DASH, _MINUS, _AT, _BAR, _UNDERSCORE, _SHY = 0x2E, 0x2D, 0x2013, 0x2212, 0x40, 0x7C, 0x5F, 0xAD

# `_ABBREV_DOT`'s titles, one row each, padded with 0 (tests check the list against `curation.text`).
TITLES = [
    "Mr",
    "Dr",
    "St",
    "Jr",
    "Sr",
    "Ms",
    "Mt",
    "Ft",
    "Lt",
    "vs",
    "Co",
    "Mrs",
    "Gen",
    "Col",
    "Gov",
    "Sen",
    "Rep",
    "Rev",
    "Inc",
    "Ltd",
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
    "Ave",
    "etc",
    "Sgt",
    "Maj",
    "Adm",
    "Capt",
    "Corp",
    "Prof",
    "Sept",
    "Blvd",
    "Bros",
]
_TITLE_CPS = np.array([[ord(ch) for ch in t.ljust(4, "\0")] for t in TITLES], dtype=np.uint32)
_TITLE_LEN = np.array([len(t) for t in TITLES], dtype=np.int64)


# The grammar pieces. (numba's private `_nrt=False` option, which drops the reference counting of the arrays
# passed between them, made the kernel ~1.25x faster; not used, being private. `inline="always"` made the
# first compile 50 s instead of 13 s.)
_piece = njit(cache=True, nogil=True)


@_piece
def _bits(cps, table, i):
    """Class bits of the code point at i; 0 outside the text (no class matches there)."""
    if i < 0 or i >= cps.shape[0]:
        return 0
    return table[cps[i]]


@_piece
def _at(cps, i):
    """The code point at i, or -1 outside the text."""
    if i < 0 or i >= cps.shape[0]:
        return -1
    return np.int64(cps[i])


@_piece
def _is_ascii_upper(c):
    return 0x41 <= c <= 0x5A


@_piece
def _is_ascii_lower(c):
    return 0x61 <= c <= 0x7A


@_piece
def _suffix_tail(cps, table, k):
    """`_SUFFIX_TAIL` at k: `(?:[sSmMdD]|[rR][eE]|[vV][eE]|[lL][lL])(?![^\\W_])`; its end, or -1."""
    c = _at(cps, k)
    if c in (0x73, 0x53, 0x6D, 0x4D, 0x64, 0x44):  # s S m M d D
        end = k + 1
    else:
        c2 = _at(cps, k + 1)
        if (c in (0x72, 0x52, 0x76, 0x56) and c2 in (0x65, 0x45)) or (  # re ve
            c in (0x6C, 0x4C) and c2 in (0x6C, 0x4C)  # ll
        ):
            end = k + 2
        else:
            return -1
    # (The alternatives start with distinct letters, so a failed lookahead leaves no other branch.)
    if _bits(cps, table, end) & ALNUM:
        return -1
    return end


@_piece
def _suffix(cps, table, p):
    """`_SUFFIX` at p: `['’]` then `_SUFFIX_TAIL`; its end, or -1."""
    c = cps[p]
    if c != _APOS and c != _RSQUO:
        return -1
    return _suffix_tail(cps, table, p + 1)


@_piece
def _run(cps, table, i):
    """`_RUN` at i: `[^\\W_]+(?:(?=[_\\xad])[_\\xad]+[^\\W_]+)*`, greedy; its end (i when it does not match).

    A `[_\\xad]+` not followed by a letter or digit is not part of the run (no shorter choice helps).
    """
    n = cps.shape[0]
    if not _bits(cps, table, i) & ALNUM:
        return i
    j = i + 1
    while True:
        while j < n and table[cps[j]] & ALNUM:
            j += 1
        k = j
        while k < n and (cps[k] == _UNDERSCORE or cps[k] == _SHY):
            k += 1
        if k == j or not _bits(cps, table, k) & ALNUM:
            return j
        j = k + 1


@_piece
def _join(cps, table, j):
    """Whether `_JOIN` matches the one character at j (its branches, in order):
    `[@|]`, `['’](?!_SUFFIX_TAIL)`, `\\.(?![A-Z])`, `(?<![a-z])\\.`, `(?<!\\d)-(?=\\d)`, `[–−=,:/](?=\\d)`.
    """
    c = _at(cps, j)
    if c in (_AT, _BAR):
        return True
    if c in (_APOS, _RSQUO):
        return _suffix_tail(cps, table, j + 1) < 0
    if c == _DOT:
        return not _is_ascii_upper(_at(cps, j + 1)) or not _is_ascii_lower(_at(cps, j - 1))
    if c == _HYPHEN:
        return not (_bits(cps, table, j - 1) & DIGIT) and (_bits(cps, table, j + 1) & DIGIT) != 0
    if c in (_EN_DASH, _MINUS, 0x3D, 0x2C, 0x3A, 0x2F):  # – − = , : /
        return (_bits(cps, table, j + 1) & DIGIT) != 0
    return False


@_piece
def _title_before(cps, table, e):
    """`(?<=(?<!\\w)(?:Mr|...|Bros)\\.)` with the dot at e: a title ends at e, no word character before it."""
    for t in range(_TITLE_CPS.shape[0]):
        length = _TITLE_LEN[t]
        s = e - length
        if s < 0:
            continue
        same = True
        for k in range(length):
            if cps[s + k] != _TITLE_CPS[t, k]:
                same = False
                break
        if same and not _bits(cps, table, s - 1) & WORD:
            return True
    return False


@_piece
def _abbrev_dot(cps, table, e):
    """Whether `_ABBREV_DOT` matches the `.` at e (its lookbehinds see the text before e, token or not):
    `(?<=(?<![\\w.])[^\\W\\d_]\\.)` a single letter, `(?<=\\.[^\\W\\d_]\\.)` `.X.`, or a title.
    """
    if _at(cps, e) != _DOT:
        return False
    if _bits(cps, table, e - 1) & LETTER:
        if e - 2 >= 0 and cps[e - 2] == _DOT:
            return True
        if not (_bits(cps, table, e - 2) & WORD) and _at(cps, e - 2) != _DOT:
            return True
    return _title_before(cps, table, e)


@_piece
def _word(cps, table, p):
    """`_WORD` at p: `_RUN(?:_JOIN _RUN)*(?:_ABBREV_DOT)?` or `_SUFFIX`; its end, or -1.

    Everything after the first `_RUN` is optional, so the greedy path is the match: joins are taken while
    a join character is followed by a run, then the abbreviation dot if its lookbehinds hold.
    """
    if not table[cps[p]] & ALNUM:
        return _suffix(cps, table, p)
    e = _run(cps, table, p)
    while _join(cps, table, e) and _bits(cps, table, e + 1) & ALNUM:
        e = _run(cps, table, e + 1)
    if _abbrev_dot(cps, table, e):
        e += 1
    return e


@_piece
def _url_body_char(c, table):
    """`[^\\s<>\\"]`"""
    return not (table[c] & SPACE) and c != 0x3C and c != 0x3E and c != _QUOT


@_piece
def _url_last_char(c, table):
    """`[^\\s<>\\".,;:!?)\\]'’]`"""
    return _url_body_char(c, table) and c not in (0x2E, 0x2C, 0x3B, 0x3A, 0x21, 0x3F, 0x29, 0x5D, _APOS, _RSQUO)


@_piece
def _url(cps, table, p):
    """`_URL` at p: `(?:https?|ftp)://[^\\s<>\\"]*[^\\s<>\\".,;:!?)\\]'’]`; its end, or -1.

    The greedy body backtracks to the last character of the final class inside it.
    """
    n = cps.shape[0]
    c = cps[p]
    if c == 0x68 and _at(cps, p + 1) == 0x74 and _at(cps, p + 2) == 0x74 and _at(cps, p + 3) == 0x70:  # http
        q = p + 4
        if _at(cps, q) == 0x73:  # s
            q += 1
    elif c == 0x66 and _at(cps, p + 1) == 0x74 and _at(cps, p + 2) == 0x70:  # ftp
        q = p + 3
    else:
        return -1
    if not (_at(cps, q) == 0x3A and _at(cps, q + 1) == 0x2F and _at(cps, q + 2) == 0x2F):  # ://
        return -1
    q += 3
    j = q
    while j < n and _url_body_char(cps[j], table):
        j += 1
    for k in range(j - 1, q - 1, -1):
        if _url_last_char(cps[k], table):
            return k + 1
    return -1


@_piece
def _dot_number(cps, table, p):
    """`(?=\\.\\d)_DOT_NUMBER` at p: `(?<![^\\s(\\[\\"'“‘$])\\.\\d[^\\W_]*`; its end, or -1."""
    if not _bits(cps, table, p + 1) & DIGIT:
        return -1
    if p > 0:
        b = cps[p - 1]
        if not (table[b] & SPACE) and b not in (0x28, 0x5B, _QUOT, _APOS, _LDQUO, _LSQUO, 0x24):
            return -1
    e = p + 2
    while _bits(cps, table, e) & ALNUM:
        e += 1
    return e


@_piece
def _symbol(cps, table, p):
    """`_SYMBOL` at p, branches in order: `.38`, `\\.(?:\\.+)?`, `-(?:-+)?`, `''?`, `@(?:[-.,]@)?`,
    `[^\\w\\s]`, `_`; its end, or -1 (whitespace)."""
    n = cps.shape[0]
    c = cps[p]
    if c == _DOT:
        e = _dot_number(cps, table, p)
        if e >= 0:
            return e
    if c in (_DOT, _HYPHEN):  # a run of dots or of hyphens
        e = p + 1
        while e < n and cps[e] == c:
            e += 1
        return e
    if c == _APOS:
        return p + 2 if _at(cps, p + 1) == _APOS else p + 1
    if c == _AT:
        if _at(cps, p + 1) in (_HYPHEN, _DOT, 0x2C) and _at(cps, p + 2) == _AT:
            return p + 3
        return p + 1
    if not (table[c] & (WORD | SPACE)) or c == _UNDERSCORE:
        return p + 1
    return -1


@_piece
def _has_url_scheme(cps):
    """`"://" in text`."""
    for i in range(cps.shape[0] - 2):  # noqa: SIM110 (a loop compiles; any() of a generator does not)
        if cps[i] == 0x3A and cps[i + 1] == 0x2F and cps[i + 2] == 0x2F:
            return True
    return False


@_piece
def _ends_with_nt(cps, e):
    """The token ending at e ends with `n't`, `n’t`, `N'T` or `N’T` (`_NT`)."""
    q = cps[e - 2]
    if q != _APOS and q != _RSQUO:
        return False
    return (cps[e - 3] == 0x6E and cps[e - 1] == 0x74) or (cps[e - 3] == 0x4E and cps[e - 1] == 0x54)


@_piece
def _scan(cps, table, starts, ends):
    """`findall` of `_TOKEN_URL_RE`/`_TOKEN_RE`, then `_split_nt`; fills starts/ends, returns the count."""
    n = cps.shape[0]
    url = _has_url_scheme(cps)
    count = 0
    p = 0
    while p < n:
        if table[cps[p]] & SPACE:  # no branch starts with whitespace
            p += 1
            continue
        e = _url(cps, table, p) if url else -1
        if e < 0:
            e = _word(cps, table, p)
        if e < 0:
            e = _symbol(cps, table, p)
        if e < 0:  # (unreachable: every non-space character starts a word or a symbol token)
            p += 1
            continue
        if e - p > 3 and _ends_with_nt(cps, e):  # _split_nt: `don't` -> `do`, `n't`
            starts[count] = p
            ends[count] = e - 3
            count += 1
            p = e - 3
        starts[count] = p
        ends[count] = e
        count += 1
        p = e
    return count


@_piece
def _is_cannot(cps, table, p):
    """`_CANNOT_RE` at p: `(?<![\\w])([cC]an)(not)(?![\\w])`."""
    n = cps.shape[0]
    if p + 6 > n or (cps[p] != 0x63 and cps[p] != 0x43):
        return False
    if not (cps[p + 1] == 0x61 and cps[p + 2] == 0x6E and cps[p + 3] == 0x6E):  # a n n
        return False
    if not (cps[p + 4] == 0x6F and cps[p + 5] == 0x74):  # o t
        return False
    return not (_bits(cps, table, p - 1) & WORD) and not (_bits(cps, table, p + 6) & WORD)


@njit(cache=True, nogil=True)
def _token_spans(cps, table):
    n = cps.shape[0]
    cannot = 0
    for p in range(n - 5):
        if cps[p] | 0x20 == 0x63 and _is_cannot(cps, table, p):
            cannot += 1
    if cannot == 0:
        starts = np.empty(n, dtype=np.int64)
        ends = np.empty(n, dtype=np.int64)
        count = _scan(cps, table, starts, ends)
        return starts[:count].copy(), ends[:count].copy()
    # `cannot` -> `can not`: scan the text with the spaces inserted (lookbehinds see them), map offsets back.
    src = np.empty(n + cannot, dtype=np.uint32)
    orig = np.empty(n + cannot, dtype=np.int64)  # offset in `cps` of each code point of `src`
    j = 0
    for p in range(n):
        if p >= 3 and cps[p - 3] | 0x20 == 0x63 and _is_cannot(cps, table, p - 3):
            src[j] = 0x20
            orig[j] = -1
            j += 1
        src[j] = cps[p]
        orig[j] = p
        j += 1
    starts = np.empty(n + cannot, dtype=np.int64)
    ends = np.empty(n + cannot, dtype=np.int64)
    count = _scan(src, table, starts, ends)
    for t in range(count):  # tokens hold no whitespace, so both ends map to code points of the text
        starts[t] = orig[starts[t]]
        ends[t] = orig[ends[t] - 1] + 1
    return starts[:count].copy(), ends[:count].copy()
