"""How values are shown to people (monitor, log, status, explain, ``osc-live listen``).

A float32 argument is shown by the shortest decimal that reads back as the same float32
(``0.1``, not ``0.10000000149011612``, which is the same 32 bits widened to a Python float);
a float64 by Python's ``repr``; strings and blobs by ``repr``.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from typing import Any

__all__ = ["float32_repr", "format_args", "format_value"]

_F32 = struct.Struct(">f")


def _as_float32(value: float) -> float:
    try:
        return float(_F32.unpack(_F32.pack(value))[0])
    except OverflowError:
        return math.copysign(math.inf, value)


def float32_repr(value: float) -> str:
    """The shortest text that reads back as the float32 nearest ``value``.

    ``float32_repr(0.10000000149011612) == "0.1"``; ``float32_repr(440.0) == "440.0"``.
    """
    value = float(value)
    if not math.isfinite(value):
        return repr(value)
    target = _as_float32(value)
    for digits in range(1, 10):  # 9 significant digits always identify a float32
        text = f"{target:.{digits}g}"
        if _as_float32(float(text)) == target:
            return repr(float(text))
    return repr(target)  # pragma: no cover - unreachable: 9 digits always suffice


def format_value(value: Any, tag: str = "") -> str:
    """One argument as text; ``tag`` (its OSC type tag, ``[...]`` for an array, when known)
    picks the float width: ``d`` shows the float64, anything else the float32."""
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, float):
        return repr(value) if tag == "d" else float32_repr(value)
    if isinstance(value, (str, bytes)):
        return repr(value)
    if isinstance(value, (list, tuple)) and (tag.startswith("[") or not tag):
        return "[" + format_args(value, tag[1:-1]) + "]"
    return str(value)


def _split_tags(type_tags: str, count: int) -> list[str]:
    """One tag per top-level argument (``[...]`` with its items for an array), padded with
    "" when unknown."""
    tags: list[str] = []
    depth = 0
    for tag in type_tags.lstrip(","):
        if depth:
            tags[-1] += tag
            depth += (tag == "[") - (tag == "]")
        else:
            tags.append(tag)
            depth = int(tag == "[")
    return tags + [""] * (count - len(tags))


def format_args(args: Sequence[Any], type_tags: str = "", limit: int | None = None) -> str:
    """The arguments of a message, space separated, cut to ``limit`` characters with ``…``.

    Without ``type_tags`` a Python float is taken as float32 (what OSC sends by default).
    """
    tags = _split_tags(type_tags, len(args))
    text = " ".join(format_value(a, tags[i]) for i, a in enumerate(args))
    if limit is not None and len(text) > limit:
        return text[: limit - 1] + "…"
    return text
