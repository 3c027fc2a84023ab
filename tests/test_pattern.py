"""Address pattern compiler: a table of patterns x addresses, hostile patterns, a reference."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from osc_live import _pattern
from osc_live._pattern import compile_mapped, compile_pattern, is_pattern

# (pattern, address, matches)
TABLE = [
    # literal and segment rules
    ("/a/b", "/a/b", True),
    ("/a/b", "/a/bc", False),
    ("/a/b", "/a", False),
    ("/a", "/a/b", False),
    ("/*", "/foo", True),
    ("/*", "/foo/bar", False),  # * never crosses /
    ("/*", "/", True),
    ("/*/*", "/foo/bar", True),
    ("/*/*/*", "/foo/bar", False),
    ("/foo/*/2", "/foo/bar/2", True),
    ("/foo/*/2", "/foo/bar/baz/2", False),
    ("/foo*", "/foobar", True),
    ("/foo*", "/foo", True),
    ("/*bar", "/foobar", True),
    ("/f*r", "/foobar", True),
    ("/f*r", "/foobaz", False),
    ("/***x", "/abcx", True),
    ("/*a*a*b", "/aab", True),
    ("/*a*a*b", "/ab", False),
    ("/*ab*ab", "/abab", True),
    ("/*ab*ab", "/aba", False),
    ("/foo*/bar+*/*", "/footest/bar+tender/1", True),
    # ?
    ("/a?c", "/abc", True),
    ("/a?c", "/ac", False),
    ("/a?c", "/a/c", False),
    ("/second/?", "/second/1", True),
    ("/second/?", "/second/12", False),
    # brackets
    ("/[abc]", "/b", True),
    ("/[abc]", "/d", False),
    ("/[a-c]x", "/bx", True),
    ("/[a-c]x", "/dx", False),
    ("/[!a-c]x", "/dx", True),
    ("/[!a-c]x", "/bx", False),
    ("/a[!x]b", "/a/b", False),  # negation never matches /
    ("/[-a]", "/-", True),
    ("/[a-]", "/-", True),
    ("/[0-9][0-9]", "/42", True),
    ("/[0-9][0-9]", "/4a", False),
    ("/[.]", "/.", True),
    ("/[.]", "/x", False),
    ("/[\\]", "/\\", True),
    ("/[^]", "/^", True),
    ("/[!!]", "/!", False),
    ("/[!!]", "/a", True),
    # braces
    ("/{foo,bar}", "/foo", True),
    ("/{foo,bar}", "/bar", True),
    ("/{foo,bar}", "/baz", False),
    ("/{foo,bar}", "/foobar", False),
    ("/x{,y}", "/x", True),
    ("/x{,y}", "/xy", True),
    ("/{a,ab}{b,}c", "/abc", True),
    ("/{a,ab}{b,}c", "/abbc", True),
    ("/{a,ab}{b,}c", "/ac", True),
    ("/{a,ab}{b,}c", "/bc", False),
    ("/{a.b,c}", "/a.b", True),
    ("/{a.b,c}", "/axb", False),
    ("/s/{1,2}/*", "/s/2/freq", True),
    ("/*{x,y}", "/abcy", True),
    ("/{x,y}*", "/yabc", True),
    # OSC 1.1 //
    ("//freq", "/freq", True),
    ("//freq", "/synth/freq", True),
    ("//freq", "/synth/1/freq", True),
    ("//freq", "/synth/1/freqs", False),
    ("//freq", "/synth/1/xfreq", False),
    ("/synth//freq", "/synth/freq", True),
    ("/synth//freq", "/synth/a/b/c/freq", True),
    ("/synth//freq", "/other/a/freq", False),
    ("//1//freq", "/synth/1/osc/freq", True),
    ("//1//freq", "/synth/2/osc/freq", False),
    ("//fr//x", "/freq/fr/x", True),
    ("//*/freq", "/a/b/freq", True),
    ("//[0-9]", "/a/b/7", True),
    ("//{a,b}/c", "/x/b/c", True),
    ("///freq", "/a/freq", True),
    ("//", "/a/", True),
    ("//", "/a", False),
    ("/a//", "/a/", True),
    ("/a//", "/a/x/", True),
    ("/a//", "/a", False),
    ("//a//", "/x/a/y/", True),
    ("/a//b//c", "/a/b/c", True),
    ("/a//b//c", "/a/c/b", False),
    ("/a//b/c//d/e", "/a/x/b/c/y/z/d/e", True),
    ("/a//b/c//d/e", "/a/x/b/y/c/d/e", False),
    ("//b/c//b/c", "/b/c/b/c", True),
    ("//b/c//b/c", "/b/c/b", False),
    # regex metacharacters are literal
    ("/a+b", "/a+b", True),
    ("/a+b", "/aab", False),
    ("/a.b", "/axb", False),
    ("/(a)", "/(a)", True),
    ("/a$", "/a$", True),
    ("/a|b", "/a", False),
    ("/a]", "/a]", True),
    ("/a}", "/a}", True),
    ("/a/b", "/a/b\n", False),
    # malformed: match nothing
    ("/a[bc", "/ab", False),
    ("/a[bc", "/a[bc", False),
    ("/a{b,c", "/ab", False),
    ("/a[]", "/a]", False),
    ("/a[z-a]", "/ab", False),
    ("/a[b/c]", "/a/", False),
    ("/{a/b,c}", "/a/b", False),
]


@pytest.mark.parametrize(("pattern", "address", "expected"), TABLE)
def test_table(pattern: str, address: str, expected: bool) -> None:
    rx = compile_pattern(pattern)
    assert bool(rx is not None and rx.fullmatch(address)) is expected


@pytest.mark.parametrize(
    ("pattern", "special"),
    [
        ("/a/b", False),
        ("/a*", True),
        ("/a?", True),
        ("/[a]", True),
        ("/{a}", True),
        ("//a", True),
        ("/a]", False),
        ("/a}", False),
        ("/a!", False),
        ("/a,b", False),
    ],
)
def test_is_pattern(pattern: str, special: bool) -> None:
    assert is_pattern(pattern) is special


@pytest.mark.parametrize(
    ("mapped", "incoming", "expected"),
    [
        ("/*", "/anything/matches", True),
        ("/starbase/*", "/starbase/bar", True),
        ("/foo/*/bar/*", "/foo/wild/bar/wild", True),
        ("/foo/*/bar/*", "/foo/wild/nomatch/wild", False),
        ("/qwer/*/zxcv", "/qwer/whatever/zxcvsomethingmore", False),
        ("/qwer/*/zxcv", "/qwer/whatever/zxcv", True),
        ("/a.*", "/a.b", True),
        ("/a.*", "/axb", False),  # other characters are literal
        ("/a*b*c", "/a" + "b" * 5000, False),
    ],
)
def test_mapped_wildcards(mapped: str, incoming: str, expected: bool) -> None:
    assert bool(compile_mapped(mapped).fullmatch(incoming)) is expected


def test_too_many_alternatives_or_too_long_match_nothing() -> None:
    assert compile_pattern("/" + "{a,b}" * 9) is None  # 512 > MAX_ALTERNATIVES
    assert compile_pattern("/" + "{a,b}" * 8) is not None
    assert compile_pattern("/" + "a" * _pattern.MAX_PATTERN_LENGTH + "*") is None
    assert compile_pattern("/" + "*a" * (_pattern.MAX_WILDCARDS + 2)) is None


HOSTILE = [
    "/" + "*" * 200 + "x",
    "/" + "*a" * 300 + "b",
    "/" + "*a?" * 200 + "*b",
    "/" + "*[ab]" * 300 + "c",
    "/" + "{a,aa}" * 8 + "b",
    "/" + "*{a,aa}" * 6 + "b",
    "//a" * 300 + "//b",
    "//*a*a*a*a*a*a*b//" + "/*" * 100,
    "/*" * 1000 + "/b",
    "/" + "[" * 2000,
    "/" + "{" * 2000,
    "/" + "{a," * 2000,
    "/" + "?" * 3000 + "b",
]


@pytest.mark.timeout(10)
@pytest.mark.parametrize("pattern", HOSTILE, ids=lambda p: p[:24])
def test_hostile_patterns_complete_quickly(pattern: str) -> None:
    rx = compile_pattern(pattern)
    for address in ("/" + "a" * 10_000, "/a" * 5_000, "/" + "a" * 9_999 + "b"):
        if rx is not None:
            rx.fullmatch(address)


# --- reference check: a naive translation, right on small inputs ---------------------------


def _naive_segment(seg: str) -> str:
    out = ""
    i = 0
    while i < len(seg):
        c = seg[i]
        if c == "*":
            out += "[^/]*"
        elif c == "?":
            out += "[^/]"
        elif c == "[":
            j = seg.index("]", i)
            body = seg[i + 1 : j]
            neg = body.startswith("!")
            body = body[1:] if neg else body
            out += "[" + ("^/" if neg else "") + body + "]"
            i = j
        elif c == "{":
            j = seg.index("}", i)
            out += "(?:" + "|".join(map(re.escape, seg[i + 1 : j].split(","))) + ")"
            i = j
        else:
            out += re.escape(c)
        i += 1
    return out


def _naive(pattern: str, address: str) -> bool:
    parts = pattern.split("/")
    rx = _naive_segment(parts[0])
    for k in range(1, len(parts)):
        if parts[k] == "" and k < len(parts) - 1:
            rx += "(?:/[^/]*)*"
        else:
            rx += "/" + _naive_segment(parts[k])
    return re.fullmatch(rx, address) is not None


TOKENS = ["a", "b", "*", "?", "[ab]", "[!a]", "[a-b]", "{a,ab}", "{,b}", "/", "//"]


@settings(max_examples=600, deadline=None)
@given(
    pattern=st.lists(st.sampled_from(TOKENS), min_size=1, max_size=7).map(
        lambda t: "/" + "".join(t)
    ),
    address=st.lists(st.sampled_from("ab/"), max_size=9).map(lambda t: "/" + "".join(t)),
)
def test_agrees_with_naive_translation(pattern: str, address: str) -> None:
    rx = compile_pattern(pattern)
    assert rx is not None
    assert bool(rx.fullmatch(address)) is _naive(pattern, address)
    # The dispatcher's pre-filter: a matched address starts with the literal prefix.
    if rx.fullmatch(address):
        assert address.startswith(_pattern.literal_prefix(pattern))


@pytest.mark.parametrize(
    ("pattern", "prefix"),
    [
        ("/synth/1?/n*e", "/synth/1"),
        ("/a//b", "/a"),
        ("//freq", ""),
        ("/a/b", "/a/b"),
        ("/x{a,b}", "/x"),
        ("/x[ab]", "/x"),
    ],
)
def test_literal_prefix(pattern: str, prefix: str) -> None:
    assert _pattern.literal_prefix(pattern) == prefix
