"""The careful (reference) parser: checks everything, raises ParseError with the byte offset.

The plans of ``_parse_plans`` parse optimistically and fall back here on anything unusual, so
every error message comes from this one place.
"""

from __future__ import annotations

from typing import Any

from osc_live._codec_base import CONSTS, MAX_ARRAY_DEPTH
from osc_live.errors import ParseError
from osc_live.parsing import osc_types

__all__ = ["GETTERS", "parse_careful", "validate_tags"]


def validate_tags(key: bytes, offset: int) -> str:
    """Check a type tag string (with its comma) read at byte ``offset``; return the tags.

    Raises ParseError for a missing comma, an unknown tag or unbalanced / too deep ``[ ]``.
    """
    if not key.startswith(b","):
        raise ParseError(
            f"OSC type tag string at byte {offset} must start with ',', got {key[:16]!r}",
            offset=offset,
        )
    depth = 0
    for pos, code in enumerate(key[1:], offset + 1):
        tag = chr(code)
        if tag == "[":
            depth += 1
            if depth > MAX_ARRAY_DEPTH:
                raise ParseError(
                    f"arrays nested deeper than {MAX_ARRAY_DEPTH} at byte {pos}", offset=pos
                )
        elif tag == "]":
            depth -= 1
            if depth < 0:
                raise ParseError(f"unexpected ']' in type tags at byte {pos}", offset=pos)
        elif tag not in _VALID:
            raise ParseError(f"unknown OSC type tag {tag!r} at byte {pos}", offset=pos)
    if depth:
        raise ParseError(
            f"missing ']' in type tags starting at byte {offset}", offset=offset + len(key)
        )
    return key[1:].decode("ascii")


_VALID = frozenset("ihfdsSbcrmtTFNI")


def parse_careful(dgram: bytes) -> tuple[str, str, list[Any]]:
    """The reference parser: slow, checks everything, raises ParseError with the offset."""
    try:
        address, idx = osc_types.get_string(dgram, 0)
    except ParseError as exc:
        raise ParseError(f"bad OSC address: {exc}", offset=exc.offset) from None
    if idx >= len(dgram):
        return address, "", []
    tag_start = idx
    try:
        raw_tags, idx = osc_types.get_string(dgram, idx)
    except ParseError as exc:
        raise ParseError(f"bad OSC type tag string: {exc}", offset=exc.offset) from None
    # Validates the tags and brackets with exact offsets.
    validate_tags(raw_tags.encode(), tag_start)
    params: list[Any] = []
    out = params
    stack: list[list[Any]] = []
    for tag in raw_tags[1:]:
        if tag == "[":
            inner: list[Any] = []
            out.append(inner)
            stack.append(out)
            out = inner
            continue
        if tag == "]":
            out = stack.pop()
            continue
        if tag in CONSTS:
            out.append(CONSTS[tag])
            continue
        getter = GETTERS[tag]
        val, idx = getter(dgram, idx)
        out.append(val)
    return address, raw_tags[1:], params


GETTERS: dict[str, Any] = {
    "i": osc_types.get_int,
    "h": osc_types.get_int64,
    "f": osc_types.get_float,
    "d": osc_types.get_double,
    "s": osc_types.get_string,
    "S": osc_types.get_symbol,
    "b": osc_types.get_blob,
    "c": osc_types.get_char,
    "r": osc_types.get_rgba,
    "m": osc_types.get_midi,
    "t": osc_types.get_timetag,
}
