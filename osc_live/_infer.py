"""python-osc's type inference: the OSC type tag(s) of a Python value.

``infer_tag`` is public as ``osc_live.osc_message.infer_tag``; the careful encoder and the
message builder use ``infer_one`` (``[`` for an array, the caller walks its items).
"""

from __future__ import annotations

from typing import Any

from osc_live._codec_base import (
    INT32_MAX,
    INT32_MIN,
    INT64_MAX,
    INT64_MIN,
    MAX_ARRAY_DEPTH,
    numpy_item,
)
from osc_live.errors import BuildError
from osc_live.parsing.osc_types import (
    RGBA,
    Char,
    Double,
    Infinitum,
    Int64,
    MidiPacket,
    Symbol,
    TimeTag,
)

__all__ = ["infer_one", "infer_tag"]


def infer_tag(value: Any, *, float_tag: str = "f") -> str:
    """The OSC type tag(s) ``encode_message`` and ``build_msg`` give one argument value.

    One letter for a plain value (int → ``i``, or ``h`` beyond 32 bits; float → ``f``; str →
    ``s``; bytes → ``b``; bool → ``T``/``F``; None → ``N``; a tuple of 4 ints → ``m``; marker
    types such as ``Symbol`` → their tag; numpy scalars as their Python value); for a list or
    another tuple (a numpy array too), ``[`` + the tags of its items + ``]``, so
    ``"".join(infer_tag(v) for v in args)`` is the type tag string of a message of ``args``.
    ``float_tag="d"`` gives plain floats as 64-bit doubles instead (what the magics' ``-d``
    asks for). Raises BuildError (a ValueError) for a value with no OSC type, an int beyond 64
    bits, or arrays nested deeper than ``MAX_ARRAY_DEPTH``.
    """
    return _infer_tags(value, float_tag, 0)


def _infer_tags(value: Any, float_tag: str, depth: int) -> str:
    tag = infer_one(value)
    if tag == "[":
        if depth >= MAX_ARRAY_DEPTH:
            raise BuildError(f"arrays nested deeper than {MAX_ARRAY_DEPTH}")
        inner = "".join(_infer_tags(v, float_tag, depth + 1) for v in numpy_item(value))
        return f"[{inner}]"
    if tag == "h" and isinstance(value, int) and not INT64_MIN <= value <= INT64_MAX:
        raise BuildError(f"integer {value} does not fit in 64 bits")
    if tag == "f" and float_tag != "f":
        return float_tag
    return tag


def infer_one(value: Any) -> str:
    """The type tag of a value as python-osc infers it, ``[`` for an array (see infer_tag)."""
    if value is True:
        return "T"
    if value is False:
        return "F"
    if value is None:
        return "N"
    if isinstance(value, str):
        if isinstance(value, Symbol):
            return "S"
        if isinstance(value, Char):
            return "c"
        return "s"
    if isinstance(value, RGBA):
        return "r"
    if isinstance(value, Int64):
        return "h"
    if isinstance(value, Double):
        return "d"
    if isinstance(value, int):
        if INT32_MIN <= value <= INT32_MAX:
            return "i"
        return "h"
    if isinstance(value, float):
        return "f"
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "b"
    if isinstance(value, Infinitum):
        return "I"
    if isinstance(value, MidiPacket):
        return "m"
    if isinstance(value, TimeTag):
        return "t"
    if isinstance(value, tuple):
        # python-osc sends any 4-tuple as a MIDI message.
        if len(value) == 4 and all(isinstance(x, int) and not isinstance(x, bool) for x in value):
            return "m"
        return "["
    if isinstance(value, list):
        return "["
    plain = numpy_item(value)
    if plain is not value:
        return infer_one(plain)
    raise BuildError(f"cannot infer an OSC type for {type(value).__name__} value {value!r}")
