"""OSC messages: ``OscMessage`` (parse bytes, or ``from_parts`` without parsing) and the
``encode_message`` fast path used by every ``send_message``.

Parsing compiles each distinct type tag string once into a plan (runs of fixed-width arguments
become one precompiled ``struct.Struct``) and runs it optimistically; on any failure a careful
reference parser runs instead and raises a ``ParseError`` naming the problem and byte offset.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from osc_live.errors import BuildError, OscError, ParseError
from osc_live.parsing import osc_types
from osc_live.parsing.osc_types import (
    BLOB_PAD,
    INFINITUM,
    PAD,
    RGBA,
    Char,
    Double,
    Infinitum,
    Int64,
    MidiPacket,
    Symbol,
    TimeTag,
)

__all__ = [
    "MAX_ARRAY_DEPTH",
    "BuildError",
    "OscMessage",
    "ParseError",
    "encode_message",
    "infer_tag",
]

MAX_ARRAY_DEPTH = 32
"""Deepest nesting of ``[`` arrays accepted when parsing or encoding."""

_CACHE_LIMIT = 1024
_CACHE_KEY_LIMIT = 256
"""Caches hold at most _CACHE_LIMIT entries with keys of at most _CACHE_KEY_LIMIT bytes (longer
ones are handled uncached), so no input can make them grow beyond a few hundred kilobytes."""

_I = struct.Struct(">i")
_UI = struct.Struct(">I")
_q = struct.Struct(">q")
_Q = struct.Struct(">Q")
_F = struct.Struct(">f")
_D = struct.Struct(">d")
_I_PACK = _I.pack
_F_PACK = _F.pack
_INT32_MIN = -(1 << 31)
_INT32_MAX = (1 << 31) - 1
_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1

# ---------------------------------------------------------------------------------------------
# Parsing
# ---------------------------------------------------------------------------------------------

# Plan operations: (opcode, argument).
_OP_FIXED = 0  # Struct of a run of i and f: extend with its values
_OP_STRING = 1
_OP_SYMBOL = 2
_OP_BLOB = 3
_OP_CONST = 4  # T F N I: append the constant
_OP_CHAR = 5
_OP_RGBA = 6
_OP_MIDI = 7
_OP_TIME = 8
_OP_OPEN = 9
_OP_CLOSE = 10
_OP_INT64 = 11
_OP_DOUBLE = 12

_FIXED_FORMAT = {"i": "i", "h": "q", "f": "f", "d": "d"}
_CONSTS: dict[str, Any] = {"T": True, "F": False, "N": None, "I": INFINITUM}
_SIMPLE_OPS = {
    "s": _OP_STRING,
    "S": _OP_SYMBOL,
    "b": _OP_BLOB,
    "c": _OP_CHAR,
    "r": _OP_RGBA,
    "m": _OP_MIDI,
    "t": _OP_TIME,
    "h": _OP_INT64,
    "d": _OP_DOUBLE,
}
KNOWN_TAGS = frozenset("ihfdsSbcrmtTFNI[]")
"""Every type tag osc_live encodes and decodes."""

_GENERATE_AFTER = 4
"""Uses of a type tag string before a parser is generated for it (hostile input sending ever
new tag strings then costs no compilation)."""
_GENERATE_MAX_TAGS = 64


class _ParsePlan:
    """How to parse the arguments of one type tag string: interpreted ``ops`` at first, a
    generated function ``fn`` once the tag string has been seen ``_GENERATE_AFTER`` times."""

    __slots__ = ("fn", "hits", "ops", "tags")

    def __init__(self, tags: str, ops: tuple[tuple[int, Any], ...]) -> None:
        self.tags = tags
        self.ops = ops
        self.hits = 0
        self.fn: Any = None

    def run(self, dgram: bytes, idx: int) -> list[Any]:
        """The arguments from ``idx``; raises one of ``_PARSE_FAIL`` on bad data."""
        fn = self.fn
        if fn is not None:
            return fn(dgram, idx)  # type: ignore[no-any-return]
        self.hits += 1
        if self.hits >= _GENERATE_AFTER and len(self.tags) <= _GENERATE_MAX_TAGS:
            self.fn = _generate_parser(self.tags)
        return _run_ops(dgram, idx, self.ops)


_PLANS: dict[bytes, _ParsePlan] = {}


def _compile_plan(key: bytes, offset: int) -> _ParsePlan:
    """Compile a type tag string (with its comma) read at ``offset`` into a parse plan."""
    if not key.startswith(b","):
        raise ParseError(
            f"OSC type tag string at byte {offset} must start with ',', got {key[:16]!r}",
            offset=offset,
        )
    ops: list[tuple[int, Any]] = []
    run = ""
    depth = 0
    for pos, code in enumerate(key[1:], offset + 1):
        tag = chr(code)
        if tag == "i" or tag == "f":
            run += tag
            continue
        if run:
            ops.append((_OP_FIXED, struct.Struct(">" + run)))
            run = ""
        if tag in _CONSTS:
            ops.append((_OP_CONST, _CONSTS[tag]))
        elif tag in _SIMPLE_OPS:
            ops.append((_SIMPLE_OPS[tag], None))
        elif tag == "[":
            depth += 1
            if depth > MAX_ARRAY_DEPTH:
                raise ParseError(
                    f"arrays nested deeper than {MAX_ARRAY_DEPTH} at byte {pos}", offset=pos
                )
            ops.append((_OP_OPEN, None))
        elif tag == "]":
            depth -= 1
            if depth < 0:
                raise ParseError(f"unexpected ']' in type tags at byte {pos}", offset=pos)
            ops.append((_OP_CLOSE, None))
        else:
            raise ParseError(f"unknown OSC type tag {tag!r} at byte {pos}", offset=pos)
    if run:
        ops.append((_OP_FIXED, struct.Struct(">" + run)))
    if depth:
        raise ParseError(
            f"missing ']' in type tags starting at byte {offset}", offset=offset + len(key)
        )
    plan = _ParsePlan(key[1:].decode("ascii"), tuple(ops))
    if len(key) <= _CACHE_KEY_LIMIT:
        if len(_PLANS) >= _CACHE_LIMIT:
            _PLANS.clear()
        _PLANS[key] = plan
    return plan


_PARSE_ENV: dict[str, Any] = {
    "Int64": Int64,
    "Double": Double,
    "Symbol": Symbol,
    "RGBA": RGBA,
    "TimeTag": TimeTag,
    "INFINITUM": INFINITUM,
    "decode_char": osc_types.decode_char,
    "int_to_midi": osc_types.int_to_midi,
    "Retry": None,  # set below, once _Retry exists
    "len": len,
}


def _generate_parser(tags: str) -> Any:
    """Generate and compile a parser for a validated tag string (fixed alphabet only).

    The function takes ``(dgram, idx)`` and returns the arguments as a (nested) list.
    """
    env = dict(_PARSE_ENV)
    lines: list[str] = []
    stack: list[list[str]] = [[]]
    run: list[tuple[str, str]] = []  # (variable, tag) of a run of fixed-width arguments
    fmt_of = {"i": "i", "f": "f", "h": "q", "d": "d"}
    wrap = {"i": "{}", "f": "{}", "h": "Int64({})", "d": "Double({})"}
    size_of = {"i": 4, "f": 4, "h": 8, "d": 8}

    def close_run() -> None:
        if not run:
            return
        name = f"U{len(env)}"
        fmt = "".join(fmt_of[t] for _, t in run)
        env[name] = struct.Struct(">" + fmt).unpack_from
        lines.append(f"{', '.join(v for v, _ in run)}, = {name}(d, i)")
        lines.append(f"i += {sum(size_of[t] for _, t in run)}")
        stack[-1].extend(wrap[t].format(v) for v, t in run)
        run.clear()

    env["UI"] = _UI.unpack_from
    env["UQ"] = _Q.unpack_from
    env["SI"] = _I.unpack_from
    for n, tag in enumerate(tags):
        v = f"a{n}"
        if tag in fmt_of:
            run.append((v, tag))
            continue
        close_run()
        if tag == "s" or tag == "S":
            lines.append("e = d.index(0, i)")
            expr = "d[i:e].decode()"
            lines.append(f"{v} = {expr if tag == 's' else f'Symbol({expr})'}")
            lines.append("i = (e + 4) & -4")
            stack[-1].append(v)
        elif tag == "b":
            lines.append("n, = SI(d, i)")
            lines.append("i += 4")
            lines.append("if n < 0 or i + n > len(d): raise Retry")
            lines.append(f"{v} = d[i:i + n]")
            lines.append("i += (n + 3) & -4")
            stack[-1].append(v)
        elif tag in "crm":
            func = {"c": "decode_char({}, i)", "r": "RGBA({})", "m": "int_to_midi({})"}[tag]
            lines.append(f"{v} = {func.format('UI(d, i)[0]')}")
            lines.append("i += 4")
            stack[-1].append(v)
        elif tag == "t":
            lines.append(f"{v} = TimeTag.from_ntp(UQ(d, i)[0])")
            lines.append("i += 8")
            stack[-1].append(v)
        elif tag in _CONSTS:
            stack[-1].append("INFINITUM" if tag == "I" else repr(_CONSTS[tag]))
        elif tag == "[":
            stack.append([])
        else:
            inner = stack.pop()
            stack[-1].append(f"[{', '.join(inner)}]")
    close_run()
    lines.append("if i > len(d): raise Retry")
    lines.append(f"return [{', '.join(stack[0])}]")
    src = "def parse(d, i):\n" + "".join(f"    {line}\n" for line in lines)
    exec(compile(src, f"<osc_live parser ,{tags}>", "exec"), env)
    return env["parse"]


_Head = tuple[str, str, _ParsePlan, int]
_HEADS: dict[bytes, _Head] = {}
"""Address, tags, plan and argument offset keyed by the datagram up to its type tags' NUL."""


def _parse(dgram: bytes) -> tuple[str, str, list[Any]]:
    """Parse a message datagram into ``(address, type_tags, params)``."""
    try:
        end = dgram.index(0)
        address = dgram[:end].decode()
        idx = (end + 4) & ~3
        size = len(dgram)
        if idx >= size:
            if idx > size:
                return _parse_careful(dgram)
            return address, "", []
        end = dgram.index(0, idx)
        key = dgram[idx:end]
        plan = _PLANS.get(key)
        if plan is None:
            plan = _compile_plan(key, idx)
        idx = (end + 4) & ~3
        if end <= _CACHE_KEY_LIMIT:
            if len(_HEADS) >= _CACHE_LIMIT:
                _HEADS.clear()
            _HEADS[dgram[:end]] = (address, plan.tags, plan, idx)
        return address, plan.tags, plan.run(dgram, idx)
    except _PARSE_FAIL:
        return _parse_careful(dgram)


class _Retry(Exception):
    """The optimistic parser met something only the careful parser can judge."""


_PARSE_ENV["Retry"] = _Retry


def _run_ops(dgram: bytes, idx: int, ops: tuple[tuple[int, Any], ...]) -> list[Any]:
    """Interpret a parse plan from ``idx``; raises one of ``_PARSE_FAIL`` on bad data."""
    size = len(dgram)
    params: list[Any] = []
    out = params
    stack: list[list[Any]] = []
    for op, arg in ops:
        if op == _OP_FIXED:
            out.extend(arg.unpack_from(dgram, idx))
            idx += arg.size
        elif op == _OP_STRING:
            end = dgram.index(0, idx)
            out.append(dgram[idx:end].decode())
            idx = (end + 4) & ~3
        elif op == _OP_CONST:
            out.append(arg)
        elif op == _OP_BLOB:
            (n,) = _I.unpack_from(dgram, idx)
            idx += 4
            if n < 0 or idx + n > size:
                raise _Retry
            out.append(dgram[idx : idx + n])
            idx += (n + 3) & ~3
        elif op == _OP_SYMBOL:
            end = dgram.index(0, idx)
            out.append(Symbol(dgram[idx:end].decode()))
            idx = (end + 4) & ~3
        elif op == _OP_OPEN:
            inner: list[Any] = []
            out.append(inner)
            stack.append(out)
            out = inner
        elif op == _OP_CLOSE:
            out = stack.pop()
        elif op == _OP_INT64:
            out.append(Int64(_q.unpack_from(dgram, idx)[0]))
            idx += 8
        elif op == _OP_DOUBLE:
            out.append(Double(_D.unpack_from(dgram, idx)[0]))
            idx += 8
        elif op == _OP_TIME:
            out.append(TimeTag.from_ntp(_Q.unpack_from(dgram, idx)[0]))
            idx += 8
        else:
            (n,) = _UI.unpack_from(dgram, idx)
            if op == _OP_CHAR:
                out.append(osc_types.decode_char(n, idx))
            elif op == _OP_RGBA:
                out.append(RGBA(n))
            else:
                out.append(osc_types.int_to_midi(n))
            idx += 4
    if idx > size:
        raise _Retry
    return params


_PARSE_FAIL = (ValueError, struct.error, IndexError, TypeError, OverflowError, OscError, _Retry)


def _parse_careful(dgram: bytes) -> tuple[str, str, list[Any]]:
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
    _compile_plan(raw_tags.encode(), tag_start)
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
        if tag in _CONSTS:
            out.append(_CONSTS[tag])
            continue
        getter = _GETTERS[tag]
        val, idx = getter(dgram, idx)
        out.append(val)
    return address, raw_tags[1:], params


_GETTERS: dict[str, Any] = {
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

# ---------------------------------------------------------------------------------------------
# Encoding
# ---------------------------------------------------------------------------------------------

_ADDRESSES: dict[str, bytes] = {}


def _encode_address(address: str) -> bytes:
    """The padded wire form of an address, cached."""
    enc = _ADDRESSES.get(address)
    if enc is not None:
        return enc
    if not isinstance(address, str):
        raise BuildError(f"an OSC address is a str, got {type(address).__name__}")
    try:
        raw = address.encode()
    except UnicodeEncodeError as exc:
        raise BuildError(f"OSC address {address!r} is not encodable: {exc}") from None
    enc = osc_types.encode_string_bytes(raw, "address")
    if type(address) is str and len(enc) <= _CACHE_KEY_LIMIT:
        if len(_ADDRESSES) >= _CACHE_LIMIT:
            _ADDRESSES.clear()
        _ADDRESSES[address] = enc
    return enc


def _encode_str(value: str, what: str = "string") -> bytes:
    try:
        raw = value.encode()
    except UnicodeEncodeError as exc:
        raise BuildError(f"OSC {what} {value!r} is not encodable: {exc}") from None
    return osc_types.encode_string_bytes(raw, what)


def _numpy_item(value: Any) -> Any:
    """A numpy scalar or array as plain Python (``item()`` / ``tolist()``), else ``value``."""
    if type(value).__module__ == "numpy":
        if getattr(value, "ndim", 0) == 0 and hasattr(value, "item"):
            return value.item()
        if hasattr(value, "tolist"):
            return value.tolist()
    return value


def infer_tag(value: Any, *, float_tag: str = "f") -> str:
    """The OSC type tag(s) ``encode_message`` and ``build_msg`` give one argument value.

    One letter for a plain value (int → ``i``, or ``h`` beyond 32 bits; float → ``f``; str →
    ``s``; bytes → ``b``; bool → ``T``/``F``; None → ``N``; a tuple of 4 ints → ``m``; marker
    types such as ``Symbol`` → their tag; numpy scalars as their Python value); for a list or
    another tuple (a numpy array too), ``[`` + the tags of its items + ``]``.
    ``float_tag="d"`` gives plain floats as 64-bit doubles instead (what the magics' ``-d``
    asks for). Raises BuildError (a ValueError) for a value with no OSC type, an int beyond 64
    bits, or arrays nested deeper than ``MAX_ARRAY_DEPTH``.
    """
    return _infer_tags(value, float_tag, 0)


def _infer_tags(value: Any, float_tag: str, depth: int) -> str:
    tag = _infer_one(value)
    if tag == "[":
        if depth >= MAX_ARRAY_DEPTH:
            raise BuildError(f"arrays nested deeper than {MAX_ARRAY_DEPTH}")
        inner = "".join(_infer_tags(v, float_tag, depth + 1) for v in _numpy_item(value))
        return f"[{inner}]"
    if tag == "h" and isinstance(value, int) and not _INT64_MIN <= value <= _INT64_MAX:
        raise BuildError(f"integer {value} does not fit in 64 bits")
    if tag == "f" and float_tag != "f":
        return float_tag
    return tag


def _infer_one(value: Any) -> str:
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
        if _INT32_MIN <= value <= _INT32_MAX:
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
    plain = _numpy_item(value)
    if plain is not value:
        return _infer_one(plain)
    raise BuildError(f"cannot infer an OSC type for {type(value).__name__} value {value!r}")


def _encode_one(tag: str, value: Any, parts: list[bytes], params: list[Any] | None) -> None:
    """Append the bytes of one non-array argument with an explicit tag (and its parsed value)."""
    if type(value).__module__ == "numpy":
        value = _numpy_item(value)
    try:
        if tag == "i":
            if isinstance(value, float) or not _INT32_MIN <= value <= _INT32_MAX:
                raise BuildError(f"'i' needs an int in 32 bits, got {value!r}")
            parts.append(_I.pack(value))
            norm: Any = int(value)
        elif tag == "f":
            packed = _F.pack(value)
            parts.append(packed)
            norm = _F.unpack(packed)[0] if params is not None else None
        elif tag == "s" or tag == "S":
            if not isinstance(value, str):
                raise BuildError(f"'{tag}' needs a str, got {type(value).__name__}")
            parts.append(_encode_str(value, "symbol" if tag == "S" else "string"))
            norm = Symbol(value) if tag == "S" else str.__str__(value)
        elif tag == "h":
            if isinstance(value, float) or not _INT64_MIN <= value <= _INT64_MAX:
                raise BuildError(f"'h' needs an int in 64 bits, got {value!r}")
            parts.append(_q.pack(value))
            norm = Int64(value)
        elif tag == "d":
            parts.append(_D.pack(value))
            norm = Double(value)
        elif tag == "b":
            parts.append(osc_types.write_blob(value))
            norm = bytes(value)
        elif tag in _CONSTS:
            norm = _CONSTS[tag]
        elif tag == "c":
            parts.append(osc_types.write_char(value))
            norm = Char(value)
        elif tag == "r":
            if isinstance(value, float):
                raise BuildError(f"'r' needs an int 0..0xFFFFFFFF, got {value!r}")
            norm = RGBA(value)
            parts.append(_UI.pack(norm))
        elif tag == "m":
            n = osc_types.midi_to_int(value)
            parts.append(_UI.pack(n))
            norm = osc_types.int_to_midi(n)
        elif tag == "t":
            ntp_value = osc_types.timetag_to_ntp(value)
            parts.append(_Q.pack(ntp_value))
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
            if _INT32_MIN <= value <= _INT32_MAX:
                tags.append("i")
                parts.append(_I_PACK(value))
                if params is not None:
                    params.append(value)
                continue
        elif cls is float:
            tags.append("f")
            packed = _F_PACK(value)
            parts.append(packed)
            if params is not None:
                params.append(_F.unpack(packed)[0])
            continue
        elif cls is str:
            tags.append("s")
            parts.append(_encode_str(value))
            if params is not None:
                params.append(value)
            continue
        tag = _infer_one(value)
        if tag == "[":
            if depth >= MAX_ARRAY_DEPTH:
                raise BuildError(f"arrays nested deeper than {MAX_ARRAY_DEPTH}")
            tags.append("[")
            inner: list[Any] | None = [] if params is not None else None
            if params is not None:
                params.append(inner)
            _encode_inferred(_numpy_item(value), tags, parts, inner, depth + 1)
            tags.append("]")
        else:
            tags.append(tag)
            _encode_one(tag, value, parts, params)


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
            value = _numpy_item(value)
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
            _encode_one(tag, value, parts, params)
            pos += 1
    return pos


def _normalise_tags(type_tags: str) -> str:
    tags = type_tags[1:] if type_tags.startswith(",") else type_tags
    bad = set(tags) - KNOWN_TAGS
    if bad:
        raise BuildError(f"unknown OSC type tags {sorted(bad)} in {type_tags!r}")
    return tags


class _EncPlan:
    """Generated encoders for a tag string made only of ``_FAST_ENC_TAGS`` (no arrays).

    ``encode(addr, args)`` returns the message (``addr``: the padded address bytes);
    ``encode_params(addr, args)`` returns it with the list of what parsing it would give;
    ``build(addr, address, *values)`` returns the OscMessage (values as positional arguments:
    no tuple is built or unpacked on the builder's hot path) with its ``params`` left to
    compute: it keeps the values and ``params(*values)`` gives the list on first access
    (messages built to be sent are rarely read back).
    Both may raise ValueError, TypeError, AttributeError or struct.error on a value that does
    not fit: the caller then takes the careful encoder, which raises a BuildError naming it.
    The generated source depends only on the tag string, drawn from a fixed alphabet.
    """

    __slots__ = ("build", "encode", "encode_params", "params", "tags")

    def __init__(self, tags: str) -> None:
        self.tags = tags
        tag_bytes = ("," + tags).encode()
        env: dict[str, Any] = {
            "HEAD": tag_bytes + PAD[len(tag_bytes) & 3],
            "PAD": PAD,
            "BPAD": BLOB_PAD,
            "IPACK": _I_PACK,
            "INFINITUM": INFINITUM,
            "Int64": Int64,
            "Double": Double,
            "bytes": bytes,
            "str": str,
            "type": type,
        }
        prelude: list[str] = []
        pieces = ["addr", "HEAD"]
        norm: list[str] = []
        prelude_params: list[str] = []
        run: list[tuple[int, str]] = []
        names = [f"v{i}" for i in range(len(tags))]

        def close_run() -> None:
            if not run:
                return
            n = len(env)
            fmt = "".join(f for _, f in run)
            st = struct.Struct(">" + fmt)
            env[f"P{n}"] = st.pack
            env[f"U{n}"] = st.unpack
            args = ", ".join(names[i] for i, _ in run)
            # The parsed values are what unpacking the packed bytes gives: floats rounded to
            # 32 bits, bools and int subclasses as plain ints, h and d as Int64 and Double.
            prelude_params.append(f"p{n}_ = P{n}({args})")
            pieces.append(f"p{n}_")
            if "q" in fmt or "d" in fmt:
                prelude_params.append(f"u{n}_ = U{n}(p{n}_)")
                wrap = {"i": "{}", "f": "{}", "q": "Int64({})", "d": "Double({})"}
                norm.extend(wrap[f].format(f"u{n}_[{k}]") for k, (_, f) in enumerate(run))
            else:
                norm.append(f"*U{n}(p{n}_)")
            run.clear()

        for i, tag in enumerate(tags):
            fmt = _FIXED_FORMAT.get(tag)
            if fmt is not None:
                run.append((i, fmt))
                continue
            close_run()
            v = names[i]
            if tag == "s":
                prelude.append(f"r{i} = {v}.encode()")
                prelude.append(f"if 0 in r{i}: raise ValueError")
                pieces.append(f"r{i}")
                pieces.append(f"PAD[len(r{i}) & 3]")
                norm.append(f"{v} if {v}.__class__ is str else str.__str__({v})")
            elif tag == "b":
                prelude.append(f"if type({v}) is not bytes: raise TypeError")
                pieces.append(f"IPACK(len({v}))")
                pieces.append(v)
                pieces.append(f"BPAD[len({v}) & 3]")
                norm.append(v)
            else:
                norm.append(repr(_CONSTS[tag]) if tag != "I" else "INFINITUM")
        close_run()
        unpack = f"    {', '.join(names)}, = args\n" if names else "    if args: raise TypeError\n"
        body = "".join(f"    {line}\n" for line in prelude)
        joined = f"b''.join(({', '.join(pieces)}))" if len(pieces) > 2 else "addr + HEAD"
        # Pieces that were packed in the params variant are recomputed inline in the plain one.
        plain_joined = joined
        for line in prelude_params:
            var, expr = line.split(" = ", 1)
            if var.startswith("p"):
                plain_joined = plain_joined.replace(var, expr, 1)
        src = (
            f"def encode(addr, args):\n{unpack}{body}    return {plain_joined}\n"
            f"def encode_params(addr, args):\n{unpack}{body}"
            + "".join(f"    {line}\n" for line in prelude_params)
            + f"    return {joined}, [{', '.join(norm)}]\n"
            f"def build(addr, address{''.join(', ' + v for v in names)}):\n{body}"
            "    msg = NEW(MESSAGE)\n"
            f"    msg._dgram = {plain_joined}\n"
            "    msg._address = address\n"
            "    msg._type_tags = TAGS\n"
            f"    msg._values = ({''.join(v + ', ' for v in names)})\n"
            "    return msg\n"
            f"def params({', '.join(names)}):\n"
            + "".join(f"    {line}\n" for line in prelude_params)
            + f"    return [{', '.join(norm)}]\n"
        )
        env["NEW"] = object.__new__
        env["MESSAGE"] = OscMessage
        env["TAGS"] = tags
        exec(compile(src, f"<osc_live encoder ,{tags}>", "exec"), env)
        self.encode = env["encode"]
        self.encode_params = env["encode_params"]
        self.build = env["build"]
        self.params = env["params"]


_FAST_ENC_TAGS = frozenset("ihfdsbTFNI")
_FAST_ENC_MAX = 64
_SIG_TAG: dict[type, str] = {
    int: "i",
    float: "f",
    str: "s",
    bytes: "b",
    type(None): "N",
    Int64: "h",
    Double: "d",
}


class _TagPlans(dict[str, "_EncPlan | None"]):
    """Encoding plans by tag string (None: needs the careful encoder), made on first use."""

    def __missing__(self, tags: str) -> _EncPlan | None:
        if len(tags) > _FAST_ENC_MAX:
            return None
        plan = _EncPlan(tags) if _FAST_ENC_TAGS.issuperset(tags) else None
        if len(self) >= _CACHE_LIMIT:
            self.clear()
        self[tags] = plan
        return plan


class _SigPlans(dict[tuple[type, ...], "_EncPlan | None"]):
    """Encoding plans by the exact types of the arguments (ints taken as 32-bit)."""

    def __missing__(self, sig: tuple[type, ...]) -> _EncPlan | None:
        if len(sig) > _FAST_ENC_MAX:
            return None
        tags = [_SIG_TAG.get(cls) for cls in sig]
        plan = None if None in tags else _TAG_PLANS["".join(tags)]  # type: ignore[arg-type]
        if len(self) >= _CACHE_LIMIT:
            self.clear()
        self[sig] = plan
        return plan


_TAG_PLANS = _TagPlans()
_SIG_PLANS = _SigPlans()


def _tag_plan(tags: str) -> _EncPlan | None:
    """The cached encoding plan of a tag string, None when it needs the careful encoder."""
    return _TAG_PLANS[tags]


_FAST_FAIL = (struct.error, TypeError, AttributeError, ValueError, OverflowError)


def _as_args(args: Any) -> Sequence[Any]:
    if type(args) is tuple or type(args) is list:
        return args  # type: ignore[no-any-return]
    if isinstance(args, (str, bytes, bytearray)) or not hasattr(args, "__iter__"):
        return [args]
    return list(args)


def _encode(
    address: str, args: Sequence[Any], type_tags: str | None, params: list[Any] | None
) -> tuple[bytes, str]:
    addr = _ADDRESSES.get(address) if type(address) is str else None
    if addr is None:
        addr = _encode_address(address)
    if type(args) is not tuple and type(args) is not list:
        args = _as_args(args)
    if type_tags is None:
        sig = tuple(map(type, args))
        plan = _SIG_PLANS[sig]
    else:
        tags = type_tags[1:] if type_tags[:1] == "," else type_tags
        plan = _TAG_PLANS[tags]
    if plan is not None:
        try:
            if params is None:
                return plan.encode(addr, args), plan.tags
            data, norm = plan.encode_params(addr, args)
            params.extend(norm)
            return data, plan.tags
        except _FAST_FAIL:
            if params is not None:
                params.clear()
    return _encode_careful(addr, args, type_tags, params)


def _encode_careful(
    addr: bytes, args: Sequence[Any], type_tags: str | None, params: list[Any] | None
) -> tuple[bytes, str]:
    parts: list[bytes] = []
    if type_tags is None:
        tag_list: list[str] = [","]
        _encode_inferred(args, tag_list, parts, params, 0)
        tags = "".join(tag_list)
    else:
        tags = "," + _normalise_tags(type_tags)
        pos = _encode_explicit(tags, 1, args, parts, params, 0)
        if pos != len(tags):
            raise BuildError(f"fewer arguments than type tags in {type_tags!r}")
    tag_bytes = tags.encode()
    return addr + tag_bytes + PAD[len(tag_bytes) & 3] + b"".join(parts), tags[1:]


def encode_message(address: str, args: Sequence[Any] = (), type_tags: str | None = None) -> bytes:
    """Encode one OSC message to bytes.

    Without ``type_tags`` the types are inferred as python-osc does (int → i, or h beyond 32
    bits; float → f; str → s; bytes → b; bool → T/F; None → N; list/tuple → array; a tuple of 4
    ints → m; marker types such as ``Symbol`` → their tag). ``type_tags`` (with or without the
    leading comma) sets every type explicitly; arrays then take nested lists.
    Raises BuildError.
    """
    return _encode(address, args, type_tags, None)[0]


def encode_flat(address: str, items: Sequence[tuple[str, Any]]) -> OscMessage:
    """Build an OscMessage from python-osc builder style ``(tag, value)`` items.

    ``[`` and ``]`` items open and close arrays; values of T F N I ``[`` ``]`` are ignored.
    """
    addr = _ADDRESSES.get(address) if type(address) is str else None
    if addr is not None and items:
        try:
            msg = _FLAT_BUILDERS[len(items)](addr, address, items)
            if msg is not None:
                return msg  # type: ignore[no-any-return]
        except _FAST_FAIL:
            pass
    return _encode_flat_careful(address, items)


def _no_fast_build(addr: bytes, address: str, items: Sequence[tuple[str, Any]]) -> None:
    """More items than any generated plan takes: the careful encoder builds it."""
    return None


class _FlatBuilders(dict[int, Any]):
    """Fast builders of ``count`` python-osc builder items, by count (up to 64).

    ``build(addr, address, items)`` unpacks the ``(tag, value)`` pairs (tuple unpacking beats
    zip() here), looks up the plan of their tag string and calls its ``build`` with the values
    as positional arguments; it returns None when the tags need the careful encoder, and raises
    ValueError or TypeError on items that are not pairs (the caller then goes careful too).
    """

    def __missing__(self, count: int) -> Any:
        if count > _FAST_ENC_MAX:
            return _no_fast_build
        pairs = ", ".join(f"(t{i}, v{i})" for i in range(count))
        src = (
            f"def build(addr, address, items):\n    {pairs}, = items\n"
            f"    plan = PLANS[{' + '.join(f't{i}' for i in range(count))}]\n"
            "    if plan is None:\n        return None\n"
            f"    return plan.build(addr, address, {', '.join(f'v{i}' for i in range(count))})\n"
        )
        env: dict[str, Any] = {"PLANS": _TAG_PLANS}
        exec(compile(src, f"<osc_live flat build {count}>", "exec"), env)
        self[count] = env["build"]
        return env["build"]


_FLAT_BUILDERS = _FlatBuilders()


def _encode_flat_careful(address: str, items: Sequence[tuple[str, Any]]) -> OscMessage:
    addr = _encode_address(address)
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
            _encode_one(tag, value, parts, out)
    if stack:
        raise BuildError("missing ']' in the arguments")
    tag_bytes = tags.encode()
    dgram = addr + tag_bytes + PAD[len(tag_bytes) & 3] + b"".join(parts)
    if type(address) is not str:
        address = str.__str__(address)
    return OscMessage._make(dgram, address, tags[1:], params)


# ---------------------------------------------------------------------------------------------
# OscMessage
# ---------------------------------------------------------------------------------------------


class OscMessage:
    """A parsed OSC message: address pattern, type tags and arguments.

    ``OscMessage(dgram)`` parses bytes (``ParseError`` if malformed);
    ``OscMessage.from_parts(address, args)`` encodes without parsing.
    """

    __slots__ = ("_address", "_dgram", "_params", "_type_tags", "_values")

    _address: str
    _dgram: bytes
    _params: list[Any]
    _values: tuple[Any, ...]
    """Set instead of ``_params`` by the builder's fast path: the values it encoded."""

    if not TYPE_CHECKING:  # (mypy would accept any attribute name on the class otherwise)

        def __getattr__(self, name: str) -> Any:
            """Compute ``_params`` of a message from the builder's fast path on first use."""
            if name == "_params":
                try:
                    values = object.__getattribute__(self, "_values")
                except AttributeError:
                    pass
                else:
                    params = _TAG_PLANS[self._type_tags].params(*values)
                    self._params = params
                    return params
            raise AttributeError(
                f"{type(self).__name__!r} object has no attribute {name!r}", name=name, obj=self
            )

    _type_tags: str

    def __init__(self, dgram: bytes) -> None:
        if type(dgram) is not bytes:
            if not isinstance(dgram, (bytes, bytearray, memoryview)):
                raise ParseError(f"an OSC datagram is bytes, got {type(dgram).__name__}")
            dgram = bytes(dgram)
        self._dgram = dgram
        try:
            head = _HEADS[dgram[: dgram.index(0, (dgram.index(0) + 4) & ~3)]]
        except (ValueError, KeyError):
            self._address, self._type_tags, self._params = _parse(dgram)
            return
        self._address = head[0]
        self._type_tags = head[1]
        plan = head[2]
        try:
            fn = plan.fn
            self._params = fn(dgram, head[3]) if fn is not None else plan.run(dgram, head[3])
        except _PARSE_FAIL:
            self._address, self._type_tags, self._params = _parse_careful(dgram)

    @classmethod
    def _make(cls, dgram: bytes, address: str, type_tags: str, params: list[Any]) -> OscMessage:
        self = cls.__new__(cls)
        self._dgram = dgram
        self._address = address
        self._type_tags = type_tags
        self._params = params
        return self

    @classmethod
    def from_parts(
        cls, address: str, args: Sequence[Any] = (), type_tags: str | None = None
    ) -> OscMessage:
        """Encode a message from its address and arguments, without re-parsing the bytes.

        ``params`` then hold what parsing the bytes would give (floats rounded to 32 bits,
        tuples as lists, ...). Raises BuildError.
        """
        params: list[Any] = []
        dgram, tags = _encode(address, args, type_tags, params)
        if type(address) is not str:
            address = str.__str__(address)
        return cls._make(dgram, address, tags, params)

    @staticmethod
    def dgram_is_message(dgram: bytes) -> bool:
        """Whether this datagram starts like an OSC message (with '/')."""
        return dgram.startswith(b"/")

    @property
    def address(self) -> str:
        """The OSC address pattern."""
        return self._address

    @property
    def type_tags(self) -> str:
        """The type tag string without its leading comma ('' when the message has none)."""
        return self._type_tags

    @property
    def size(self) -> int:
        """Length of the datagram in bytes."""
        return len(self._dgram)

    @property
    def dgram(self) -> bytes:
        """The datagram of this message."""
        return self._dgram

    @property
    def params(self) -> list[Any]:
        """The arguments, as a new list."""
        return list(self._params)

    def __iter__(self) -> Iterator[Any]:
        """Iterate over the arguments."""
        return iter(self._params)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, OscMessage):
            return self._dgram == other._dgram
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._dgram)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._address!r}, {self._params!r})"

    def __str__(self) -> str:
        return f"{self._address} {' '.join(str(p) for p in self._params)}"

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self._dgram,))
