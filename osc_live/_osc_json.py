"""osc.js JSON packets (text WebSocket frames, opt-in) to OSC bytes.

osc.js represents packets as plain objects; some WebSocket peers send them as JSON text instead
of binary OSC.  A server given ``text="json"`` reads them with :func:`json_to_packet`:

- a message: ``{"address": "/x", "args": [...]}`` (``args`` may be one value or absent);
- a bundle: ``{"timeTag": T, "packets": [packet, ...]}`` with ``T`` as osc.js writes it:
  ``{"raw": [seconds, fraction]}`` (NTP) or ``{"native": unix_ms}``; absent means immediately;
- an argument: typed, ``{"type": "f", "value": 0.5}`` (osc.js ``metadata: true``), or a bare
  value inferred as osc.js does: number -> ``f``, string -> ``s``, true/false -> ``T``/``F``,
  null -> ``N``, a list -> an OSC array.  Typed values: ``i h f d s S c`` (a one-character
  string or a code point), ``b`` (a list of byte values), ``t`` (a timetag object), ``r``
  (``{"r","g","b","a"}`` 0-255), ``m`` (a list of 4 MIDI bytes), ``T F N I`` (no value).

Only ``json.loads`` reads the text (no evaluation).  Anything else raises :class:`ValueError`
(or :class:`~osc_live.errors.BuildError`) naming what is wrong.
"""

from __future__ import annotations

import json
from typing import Any

from osc_live.osc_bundle import OscBundle
from osc_live.osc_message import OscMessage, encode_message
from osc_live.parsing import ntp
from osc_live.parsing.osc_types import TimeTag

__all__ = ["MAX_DEPTH", "json_to_packet"]

MAX_DEPTH = 8
"""Nesting allowed for bundles and arrays in a JSON packet."""

_NO_VALUE = frozenset("TFNI")


def _timetag(value: Any) -> int:
    """An osc.js timetag object as a raw NTP value."""
    if value is None:
        return 1
    if not isinstance(value, dict):
        raise ValueError(f"a timeTag is an object with 'raw' or 'native', not {value!r:.60}")
    if "raw" in value:
        raw = value["raw"]
        if (
            not isinstance(raw, list)
            or len(raw) != 2
            or not all(isinstance(x, int) and 0 <= x <= 0xFFFFFFFF for x in raw)
        ):
            raise ValueError("timeTag.raw must be [seconds, fraction], two 32-bit integers")
        return int((raw[0] << 32) | raw[1])
    native = value.get("native")
    if isinstance(native, (int, float)) and not isinstance(native, bool):
        return ntp.unix_to_ntp(native / 1000.0)
    raise ValueError("a timeTag needs 'raw' [seconds, fraction] or 'native' (Unix ms)")


def _arg(value: Any, tags: list[str], values: list[Any], depth: int) -> None:
    """Append the tag(s) and value(s) of one osc.js argument."""
    if depth > MAX_DEPTH:
        raise ValueError(f"arrays nested deeper than {MAX_DEPTH}")
    if isinstance(value, dict) and "type" in value:
        tag = value["type"]
        if not isinstance(tag, str) or len(tag) != 1:
            raise ValueError(f"bad argument type {tag!r:.20}")
        if tag in _NO_VALUE:
            tags.append(tag)
            values.append({"T": True, "F": False, "N": None, "I": None}[tag])
            return
        tags.append(tag)
        values.append(_typed(tag, value.get("value")))
        return
    if isinstance(value, bool):
        tags.append("T" if value else "F")
        values.append(value)
    elif value is None:
        tags.append("N")
        values.append(None)
    elif isinstance(value, (int, float)):
        tags.append("f")
        values.append(float(value))
    elif isinstance(value, str):
        tags.append("s")
        values.append(value)
    elif isinstance(value, list):
        tags.append("[")
        inner: list[Any] = []
        for item in value:
            _arg(item, tags, inner, depth + 1)
        tags.append("]")
        values.append(inner)
    else:
        raise ValueError(f"cannot read {value!r:.60} as an OSC argument")


def _typed(tag: str, value: Any) -> Any:
    """The Python value for a typed osc.js argument."""
    if tag == "t":
        return _timetag_arg(value)
    if tag == "b":
        if not isinstance(value, list) or not all(isinstance(x, int) for x in value):
            raise ValueError("a blob ('b') value is a list of byte values")
        return bytes(value)
    if tag == "r":
        if not isinstance(value, dict):
            raise ValueError("a colour ('r') value is {r, g, b, a}")
        r, g, b, a = (int(value.get(k, 0)) & 0xFF for k in "rgba")
        return (r << 24) | (g << 16) | (b << 8) | a
    if tag == "m":
        if not isinstance(value, list) or len(value) != 4:
            raise ValueError("a MIDI ('m') value is a list of 4 bytes")
        return tuple(int(x) & 0xFF for x in value)
    if tag == "c" and isinstance(value, int) and not isinstance(value, bool):
        return chr(value)
    if tag in "ih" and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _timetag_arg(value: Any) -> TimeTag:
    """A 't' argument: the raw NTP value wrapped so that the encoder keeps it exact."""
    return TimeTag.from_ntp(_timetag(value))


def _message(obj: dict[str, Any]) -> OscMessage:
    address = obj.get("address")
    if not isinstance(address, str):
        raise ValueError("a message needs an 'address' string")
    args = obj.get("args", [])
    if not isinstance(args, list):
        args = [args]
    tags: list[str] = []
    values: list[Any] = []
    for arg in args:
        _arg(arg, tags, values, 1)
    return OscMessage(encode_message(address, values, "," + "".join(tags)))


def _packet(obj: Any, depth: int) -> OscMessage | OscBundle:
    if not isinstance(obj, dict):
        raise ValueError(f"a packet is a JSON object, not {type(obj).__name__}")
    if depth > MAX_DEPTH:
        raise ValueError(f"bundles nested deeper than {MAX_DEPTH}")
    if "packets" in obj:
        packets = obj["packets"]
        if not isinstance(packets, list):
            raise ValueError("a bundle's 'packets' is a list")
        contents = [_packet(p, depth + 1) for p in packets]
        return OscBundle.from_contents(_timetag(obj.get("timeTag")), contents)
    return _message(obj)


def json_to_packet(text: str) -> bytes:
    """The OSC bytes of an osc.js JSON packet (see the module docstring); ValueError if bad."""
    try:
        obj = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise ValueError(f"not JSON: {exc}") from None
    return _packet(obj, 1).dgram
