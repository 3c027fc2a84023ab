"""OSC address patterns compiled to backtracking-safe regular expressions.

Incoming address patterns (OSC 1.0, plus OSC 1.1 ``//``):

- ``*`` any run of characters within one segment (never ``/``); runs of ``*`` collapse;
- ``?`` one character (not ``/``);
- ``[abc]``, ``[a-z]``, ``[!a-z]`` one character of (not of) the set (never ``/``);
  ``-`` first or last in the brackets is literal;
- ``{foo,bar}`` one of the literal strings (empty alternatives allowed);
- ``//`` any number (zero included) of whole segments: ``//freq`` matches ``/freq`` and
  ``/synth/1/freq``.

Matching is segment by segment: the pattern is split on ``/`` and each segment must match
one whole segment of the address.  Malformed patterns (unterminated ``[`` or ``{``, empty
or reversed ``[]`` sets, ``/`` inside brackets or braces, more than
:data:`MAX_ALTERNATIVES` brace combinations or :data:`MAX_WILDCARDS` wildcards, longer than
:data:`MAX_PATTERN_LENGTH` characters or with more than :data:`MAX_PATTERN_SEGMENTS` segments)
compile to None: they match nothing.  Within these bounds compiling a pattern costs at most
about a millisecond, and :data:`PATTERN_CACHE_SIZE` compiled patterns are kept.

No catastrophic backtracking.  Python's ``re`` backtracks, so a naive translation of
``/*a*a*a*b`` explodes on a long address.  Here a segment glob ``P0*P1*...*Pn`` (each
``Pi`` fixed-width once braces are expanded) is matched greedily: every middle piece at
its earliest position inside an atomic group (emulated as ``(?=(?P<g>...))(?P=g)``, which
works on every Python version), which is exact for fixed-width pieces.  The same is done
one level up for ``//`` (:class:`_DeepMatcher`): the pieces of whole segments between
two ``//`` are searched for at their earliest place, the last piece is anchored at the
end.  Segments with brace alternatives are atomic too, so braces never multiply work
across segments.  The cost is polynomial of low degree in the lengths (linear in the
number of segments), run by the C regex engine.

Mapped addresses: python-osc also treats ``*`` in a *mapped* address as a wildcard that
matches any characters, ``/`` included, in the incoming address (``map("/*", h)`` receives
everything).  :func:`compile_mapped` provides that, with the other characters literal.
"""

from __future__ import annotations

import itertools
import re
from functools import lru_cache
from typing import Protocol

__all__ = [
    "MAX_ALTERNATIVES",
    "MAX_PATTERN_LENGTH",
    "MAX_PATTERN_SEGMENTS",
    "MAX_WILDCARDS",
    "PATTERN_CACHE_SIZE",
    "Matcher",
    "compile_mapped",
    "compile_pattern",
    "is_pattern",
    "literal_prefix",
]

MAX_ALTERNATIVES = 256
"""Most brace combinations a pattern may expand to, all segments together
(``/{a,b}{c,d}/{e,f}`` counts 4 + 2)."""

MAX_WILDCARDS = 64
"""Most atomic groups a pattern may need: one per ``*`` between two others in a segment
and per segment with brace alternatives."""

MAX_PATTERN_LENGTH = 1024
"""Longest address *pattern* that is compiled; longer patterns match nothing."""

MAX_PATTERN_SEGMENTS = 64
"""Most ``/``-separated segments of a pattern that is compiled; more match nothing."""

PATTERN_CACHE_SIZE = 512
"""Compiled incoming patterns (and mapped addresses) kept, least recently used out."""

_SPECIAL = frozenset("*?[{")

# A token of a segment glob: ("lit", regex) fixed width 1, ("star", "") or ("alt", [strs]).
_Token = tuple[str, object]


class _Malformed(Exception):
    """Raised inside the compiler for a pattern that must match nothing."""


def literal_prefix(pattern: str) -> str:
    """The part of ``pattern`` before its first wildcard (``* ? [ {`` or ``//``): every address
    the pattern matches starts with it (a cheap filter before the regex)."""
    end = len(pattern)
    for special in ("*", "?", "[", "{", "//"):
        found = pattern.find(special, 0, end)
        if found >= 0:
            end = found
    return pattern[:end]


def is_pattern(address: str) -> bool:
    """True if ``address`` holds wildcard syntax (``* ? [ {`` or ``//``)."""
    return "*" in address or "?" in address or "[" in address or "{" in address or ("//" in address)


class _Groups:
    """Hands out unique group names for the atomic-group emulation; tracks the budget."""

    def __init__(self) -> None:
        self._n = itertools.count()
        self.alternatives = 0  # brace alternatives expanded so far, all segments together

    def atomic(self, body: str) -> str:
        """Regex matching ``body`` once, with no backtracking into it afterwards."""
        n = next(self._n)
        if n >= MAX_WILDCARDS:
            raise _Malformed("too many wildcards")
        name = f"g{n}"
        return f"(?=(?P<{name}>{body}))(?P={name})"


def _class_char(c: str) -> str:
    """Escape one character for use inside ``[...]``."""
    return "\\" + c if c in "\\]^-[" else c


def _parse_class(seg: str, i: int) -> tuple[str, int]:
    """Parse ``[...]`` starting after ``[`` at ``i``; return (regex, index after ``]``)."""
    negate = i < len(seg) and seg[i] == "!"
    if negate:
        i += 1
    close = seg.find("]", i)
    if close < 0:
        raise _Malformed("unterminated [")
    body = seg[i:close]
    if not body:
        raise _Malformed("empty []")
    parts: list[str] = []
    j = 0
    while j < len(body):
        c = body[j]
        if j + 2 < len(body) and body[j + 1] == "-":
            hi = body[j + 2]
            if ord(hi) < ord(c):
                raise _Malformed("reversed range")
            parts.append(f"{_class_char(c)}-{_class_char(hi)}")
            j += 3
        else:
            parts.append(_class_char(c))
            j += 1
    members = "".join(parts)
    return ("[^/" + members + "]" if negate else "[" + members + "]"), close + 1


def _tokenize(seg: str) -> list[_Token]:
    """Split one pattern segment into literal, star and brace tokens."""
    tokens: list[_Token] = []
    i = 0
    n = len(seg)
    while i < n:
        c = seg[i]
        if c == "*":
            if not tokens or tokens[-1][0] != "star":
                tokens.append(("star", ""))
            i += 1
        elif c == "?":
            tokens.append(("lit", "[^/]"))
            i += 1
        elif c == "[":
            rx, i = _parse_class(seg, i + 1)
            tokens.append(("lit", rx))
        elif c == "{":
            close = seg.find("}", i + 1)
            if close < 0:
                raise _Malformed("unterminated {")
            tokens.append(("alt", seg[i + 1 : close].split(",")))
            i = close + 1
        else:
            tokens.append(("lit", re.escape(c)))
            i += 1
    return tokens


def _expand(tokens: list[_Token]) -> list[list[tuple[str, str]]]:
    """Expand brace tokens into brace-free alternatives of (kind, regex) tokens."""
    count = 1
    for kind, value in tokens:
        if kind == "alt":
            assert isinstance(value, list)
            count *= len(value)
            if count > MAX_ALTERNATIVES:
                raise _Malformed("too many brace alternatives")
    alternatives: list[list[tuple[str, str]]] = [[]]
    for kind, value in tokens:
        if kind == "alt":
            assert isinstance(value, list)
            alternatives = [
                [*alt, *(("lit", re.escape(ch)) for ch in choice)]
                for alt in alternatives
                for choice in value
            ]
        else:
            assert isinstance(value, str)
            for alt in alternatives:
                alt.append((kind, value))
    # Stars may have become adjacent once an empty alternative vanished.
    collapsed: list[list[tuple[str, str]]] = []
    for alt in alternatives:
        out: list[tuple[str, str]] = []
        for tok in alt:
            if tok[0] == "star" and out and out[-1][0] == "star":
                continue
            out.append(tok)
        collapsed.append(out)
    return collapsed


def _glob_regex(tokens: list[tuple[str, str]], groups: _Groups, any_char: str) -> str:
    """Regex for one brace-free glob: greedy earliest match of the pieces between stars."""
    pieces: list[str] = [""]
    for kind, rx in tokens:
        if kind == "star":
            pieces.append("")
        else:
            pieces[-1] += rx
    if len(pieces) == 1:
        return pieces[0]
    out = [pieces[0]]
    for middle in pieces[1:-1]:
        out.append(groups.atomic(f"{any_char}*?{middle}"))
    out.append(f"{any_char}*{pieces[-1]}")
    return "".join(out)


def _segment_regex(seg: str, groups: _Groups, bounded: bool = False) -> str:
    """Regex for one pattern segment; it must end at a segment boundary.

    ``bounded``: what follows in the regex already ends the segment (a ``/`` or the end of a
    full match), so a plain segment needs no boundary check of its own.
    """
    end = "" if bounded else r"(?=/|\Z)"
    if not (_SPECIAL & set(seg)):
        return re.escape(seg) + end
    expanded = _expand(_tokenize(seg))
    if len(expanded) > 1:
        groups.alternatives += len(expanded)
    if groups.alternatives > MAX_ALTERNATIVES:
        raise _Malformed("too many brace alternatives")
    alternatives = [_glob_regex(alt, groups, "[^/]") for alt in expanded]
    unique = list(dict.fromkeys(alternatives))
    if len(unique) == 1:
        # One glob has a single way to reach the segment end: no atomic group needed.
        return unique[0] + end
    return groups.atomic("(?:" + "|".join(unique) + r")(?=/|\Z)")


class Matcher(Protocol):
    """What :func:`compile_pattern` returns: ``fullmatch(address)`` is truthy on a match."""

    def fullmatch(self, string: str, /) -> object:
        """Whether the whole ``string`` matches."""
        ...


class _DeepMatcher:
    """Matcher of a pattern holding OSC 1.1 ``//``.

    The pattern is cut at each ``//`` into pieces of whole segments: ``head`` (before the
    first ``//``) must match at the start, each middle piece is searched for at its
    earliest place after the previous one (``re.search``: a match starting with ``/``
    starts a segment), and ``tail`` must match the last ``tail_segments`` segments.  Every
    piece has a fixed number of segments, so the earliest place is always the right one,
    and the work is linear in the address (no regex backtracking over levels).
    """

    __slots__ = ("head", "middles", "tail", "tail_segments")

    def __init__(
        self,
        head: re.Pattern[str] | None,
        middles: list[re.Pattern[str]],
        tail: re.Pattern[str],
        tail_segments: int,
    ) -> None:
        self.head = head
        self.middles = middles
        self.tail = tail
        self.tail_segments = tail_segments

    def fullmatch(self, string: str, /) -> bool:
        """Whether the whole address ``string`` matches the pattern."""
        pos = 0
        if self.head is not None:
            m = self.head.match(string)
            if m is None:
                return False
            pos = m.end()
        for rx in self.middles:
            m = rx.search(string, pos)
            if m is None:
                return False
            pos = m.end()
        start = len(string)
        for _ in range(self.tail_segments):
            start = string.rfind("/", pos, start)
            if start < 0:
                return False
        return self.tail.fullmatch(string, start) is not None


def _compile(pattern: str) -> Matcher:
    """Translate a whole address pattern to a matcher (may raise _Malformed, re.error)."""
    groups = _Groups()
    parts = pattern.split("/")
    # Without '//' the whole pattern is one regex used with fullmatch: every segment is
    # followed by a '/' or the end, which bounds it.
    flat = "//" not in pattern
    head = [_segment_regex(parts[0], groups, flat) if parts[0] else ""]
    pieces: list[list[str]] = []  # pieces[k]: "/segment" regexes after the k-th "//"
    last = len(parts) - 1
    for k in range(1, len(parts)):
        part = parts[k]
        if part == "" and k < last:
            if not pieces or pieces[-1]:
                pieces.append([])
            continue
        rx = "/" + _segment_regex(part, groups, flat)
        if pieces:
            pieces[-1].append(rx)
        else:
            head.append(rx)
    head_rx = "".join(head)
    if not pieces:
        return re.compile(head_rx, re.DOTALL)
    return _DeepMatcher(
        re.compile(head_rx, re.DOTALL) if head_rx else None,
        [re.compile("".join(piece), re.DOTALL) for piece in pieces[:-1]],
        re.compile("".join(pieces[-1]), re.DOTALL),
        len(pieces[-1]),
    )


@lru_cache(maxsize=PATTERN_CACHE_SIZE)
def compile_pattern(pattern: str) -> Matcher | None:
    """Compile an incoming OSC address pattern; None if malformed (matches nothing).

    Use ``compiled.fullmatch(address)`` (truthy on a match).  Results are LRU-cached.
    """
    if len(pattern) > MAX_PATTERN_LENGTH or pattern.count("/") > MAX_PATTERN_SEGMENTS:
        return None
    try:
        return _compile(pattern)
    except (_Malformed, re.error, RecursionError, OverflowError):
        return None


@lru_cache(maxsize=PATTERN_CACHE_SIZE)
def compile_mapped(address: str) -> re.Pattern[str]:
    """Compile a mapped address whose ``*`` match any characters (``/`` included).

    This is python-osc's behaviour for wildcards in ``Dispatcher.map`` addresses; every
    other character is literal.  Use ``compiled.fullmatch(incoming_address)``.
    """
    tokens: list[tuple[str, str]] = []
    for c in address:
        if c == "*":
            if not tokens or tokens[-1][0] != "star":
                tokens.append(("star", ""))
        else:
            tokens.append(("lit", re.escape(c)))
    return re.compile(_glob_regex(tokens, _Groups(), "."), re.DOTALL)
