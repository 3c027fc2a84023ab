"""The careful encoder: every type tag, arrays, explicit tags, exact BuildError messages.

The generated encoders of ``_encode_plans`` handle the common shapes; everything else, and
every value they refuse, comes here.  It is also the cold path: a type tag string is encoded
here until it was seen ``GENERATE_AFTER`` times (see ``_codec_base``).
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any

from osc_live._codec_base import (
    CONSTS,
    F32,
    F32_PACK,
    F64,
    I32,
    I32_PACK,
    I64,
    INT32_MAX,
    INT32_MIN,
    INT64_MAX,
    INT64_MIN,
    KNOWN_TAGS,
    MAX_ARRAY_DEPTH,
    U32,
    U64,
    encode_address,
    encode_str,
    numpy_item,
)
from osc_live._infer import infer_one
from osc_live.errors import BuildError
from osc_live.parsing import osc_types
from osc_live.parsing.osc_types import PAD, RGBA, Char, Double, Int64, Symbol, TimeTag

__all__ = ["encode_careful", "encode_flat_careful", "encode_one"]


def encode_one(tag: str, value: Any, parts: list[bytes], params: list[Any] | None) -> None:
    """Append the bytes of one non-array argument with an explicit tag (and its parsed value)."""
    if type(value).__module__ == "numpy":
        value = numpy_item(value)
    try:
        if tag == "i":
            if isinstance(value, float) or not INT32_MIN <= value <= INT32_MAX:
                raise BuildError(f"'i' needs an int in 32 bits, got {value!r}")
            parts.append(I32.pack(value))
            norm: Any = int(value)
        elif tag == "f":
            packed = F32.pack(value)
            parts.append(packed)
            norm = F32.unpack(packed)[0] if params is not None else None
        elif tag == "s" or tag == "S":
            if not isinstance(value, str):
                raise BuildError(f"'{tag}' needs a str, got {type(value).__name__}")
            parts.append(encode_str(value, "symbol" if tag == "S" else "string"))
            norm = Symbol(value) if tag == "S" else str.__str__(value)
        elif tag == "h":
            if isinstance(value, float) or not INT64_MIN <= value <= INT64_MAX:
                raise BuildError(f"'h' needs an int in 64 bits, got {value!r}")
            parts.append(I64.pack(value))
            norm = Int64(value)
        elif tag == "d":
            parts.append(F64.pack(value))
            norm = Double(value)
        elif tag == "b":
            parts.append(osc_types.write_blob(value))
            norm = bytes(value)
        elif tag in CONSTS:
            norm = CONSTS[tag]
        elif tag == "c":
            parts.append(osc_types.write_char(value))
            norm = Char(value)
        elif tag == "r":
            if isinstance(value, float):
                raise BuildError(f"'r' needs an int 0..0xFFFFFFFF, got {value!r}")
            norm = RGBA(value)
            parts.append(U32.pack(norm))
        elif tag == "m":
            n = osc_types.midi_to_int(value)
            parts.append(U32.pack(n))
            norm = osc_types.int_to_midi(n)
        elif tag == "t":
            ntp_value = osc_types.timetag_to_ntp(value)
            parts.append(U64.pack(ntp_value))
            norm = TimeTag.from_ntp(ntp_value) if params is not None else None
        else:
            raise BuildError(f"unknown OSC type tag {tag!r}")
    except (struct.error, TypeError, OverflowError) as exc:
        raise BuildError(f"cannot encode {value!r} as '{tag}': {exc}") from None
    if params is not None:
        params.append(norm)


def _encode_inferred(
    args: Any, tags: list[str], parts: list[bytes], params: list[Any] | None, depth: int
) -> None:
    """Append tags and bytes of ``args`` with python-osc type inference."""
    for value in args:
        cls = type(value)
        if cls is int:
            if INT32_MIN <= value <= INT32_MAX:
                tags.append("i")
                parts.append(I32_PACK(value))
                if params is not None:
                    params.append(value)
                continue
        elif cls is float:
            tags.append("f")
            packed = F32_PACK(value)
            parts.append(packed)
            if params is not None:
                params.append(F32.unpack(packed)[0])
            continue
        elif cls is str:
            tags.append("s")
            parts.append(encode_str(value))
            if params is not None:
                params.append(value)
            continue
        tag = infer_one(value)
        if tag == "[":
            if depth >= MAX_ARRAY_DEPTH:
                raise BuildError(f"arrays nested deeper than {MAX_ARRAY_DEPTH}")
            tags.append("[")
            inner: list[Any] | None = [] if params is not None else None
            if params is not None:
                params.append(inner)
            _encode_inferred(numpy_item(value), tags, parts, inner, depth + 1)
            tags.append("]")
        else:
            tags.append(tag)
            encode_one(tag, value, parts, params)


def _encode_explicit(
    tags: str, pos: int, args: Any, parts: list[bytes], params: list[Any] | None, depth: int
) -> int:
    """Encode ``args`` against ``tags`` from ``pos``; return the position after them."""
    n = len(tags)
    for value in args:
        if pos >= n or tags[pos] == "]":
            raise BuildError(f"more arguments than type tags in {tags!r}")
        tag = tags[pos]
        if tag == "[":
            if depth >= MAX_ARRAY_DEPTH:
                raise BuildError(f"arrays nested deeper than {MAX_ARRAY_DEPTH}")
            value = numpy_item(value)
            if not isinstance(value, (list, tuple)):
                raise BuildError(f"type tag '[' at {pos} needs a list, got {value!r}")
            inner: list[Any] | None = [] if params is not None else None
            if params is not None:
                params.append(inner)
            pos = _encode_explicit(tags, pos + 1, value, parts, inner, depth + 1)
            if pos >= n or tags[pos] != "]":
                raise BuildError(f"fewer arguments than type tags in array of {tags!r}")
            pos += 1
        else:
            encode_one(tag, value, parts, params)
            pos += 1
    return pos


def normalise_tags(type_tags: str) -> str:
    """The tags without their comma; BuildError if one is unknown."""
    tags = type_tags[1:] if type_tags.startswith(",") else type_tags
    bad = set(tags) - KNOWN_TAGS
    if bad:
        raise BuildError(f"unknown OSC type tags {sorted(bad)} in {type_tags!r}")
    return tags


def encode_careful(
    addr: bytes, args: Sequence[Any], type_tags: str | None, params: list[Any] | None
) -> tuple[bytes, str]:
    """Encode ``args`` after the padded address ``addr``: ``(dgram, type_tags)``.

    Tags are inferred when ``type_tags`` is None; ``params``, when given, receives what
    parsing the bytes would give.  Raises BuildError.
    """
    parts: list[bytes] = []
    if type_tags is None:
        tag_list: list[str] = [","]
        _encode_inferred(args, tag_list, parts, params, 0)
        tags = "".join(tag_list)
    else:
        tags = "," + normalise_tags(type_tags)
        pos = _encode_explicit(tags, 1, args, parts, params, 0)
        if pos != len(tags):
            raise BuildError(f"fewer arguments than type tags in {type_tags!r}")
    tag_bytes = tags.encode()
    return addr + tag_bytes + PAD[len(tag_bytes) & 3] + b"".join(parts), tags[1:]


def encode_flat_careful(
    address: str, items: Sequence[tuple[str, Any]]
) -> tuple[bytes, str, str, list[Any]]:
    """Encode python-osc builder items: ``(dgram, address, type_tags, params)``."""
    addr = encode_address(address)
    parts: list[bytes] = []
    params: list[Any] = []
    out = params
    stack: list[list[Any]] = []
    tags = ","
    for item in items:
        if type(item) is not tuple or len(item) != 2 or not isinstance(item[0], str):
            raise BuildError(f"builder arguments are (type, value) pairs, got {item!r}")
        tag, value = item
        tags += tag
        if tag == "[":
            if len(stack) >= MAX_ARRAY_DEPTH:
                raise BuildError(f"arrays nested deeper than {MAX_ARRAY_DEPTH}")
            inner: list[Any] = []
            out.append(inner)
            stack.append(out)
            out = inner
        elif tag == "]":
            if not stack:
                raise BuildError("unexpected ']' in the arguments")
            out = stack.pop()
        else:
            encode_one(tag, value, parts, out)
    if stack:
        raise BuildError("missing ']' in the arguments")
    tag_bytes = tags.encode()
    dgram = addr + tag_bytes + PAD[len(tag_bytes) & 3] + b"".join(parts)
    if type(address) is not str:
        address = str.__str__(address)
    return dgram, address, tags[1:], params
