"""Parse plans: each distinct type tag string compiled once, run optimistically.

A plan is a tuple of operations (runs of ``i``/``f``/``h``/``d`` become one precompiled
``struct.Struct``) run by an interpreter; once its tag string was seen ``GENERATE_AFTER``
times (``_codec_base``), a specialised function is generated for it (straight-line code from a
fixed alphabet: only the validated tag string shapes it, never the datagram's other bytes).
Anything unusual (a short datagram, bad UTF-8, a char that is not a code point...) raises one
of :data:`PARSE_FAIL` and :func:`parse_fields` hands the datagram to the careful parser, which
raises the ParseError.  Plans and message heads live in bounded caches.
"""

from __future__ import annotations

import struct
from typing import Any

from osc_live._codec_base import (
    CACHE_KEY_LIMIT,
    CONSTS,
    F64,
    GENERATE_AFTER,
    GENERATE_MAX_TAGS,
    I32,
    I64,
    MAX_ARRAY_DEPTH,
    U32,
    U64,
    bounded_put,
)
from osc_live._parse_careful import parse_careful, validate_tags
from osc_live.errors import OscError
from osc_live.parsing import osc_types
from osc_live.parsing.osc_types import INFINITUM, RGBA, Double, Int64, Symbol, TimeTag

__all__ = [
    "HEADS",
    "HEAD_HINT",
    "PARSE_FAIL",
    "PLANS",
    "ParsePlan",
    "compile_plan",
    "find_head",
    "parse_fields",
]

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


class _Retry(Exception):
    """The optimistic parser met something only the careful parser can judge."""


PARSE_FAIL = (ValueError, struct.error, IndexError, TypeError, OverflowError, OscError, _Retry)
"""What a plan may raise on bad data (the caller then runs the careful parser)."""


class ParsePlan:
    """How to parse the arguments of one type tag string: interpreted ``ops`` at first, a
    generated function ``fn`` once the tag string has been seen ``GENERATE_AFTER`` times."""

    __slots__ = ("fn", "hits", "ops", "tags")

    def __init__(self, tags: str, ops: tuple[tuple[int, Any], ...]) -> None:
        self.tags = tags
        self.ops = ops
        self.hits = 0
        self.fn: Any = None

    def run(self, dgram: bytes, idx: int) -> list[Any]:
        """The arguments from ``idx``; raises one of ``PARSE_FAIL`` on bad data."""
        fn = self.fn
        if fn is not None:
            return fn(dgram, idx)  # type: ignore[no-any-return]
        self.hits += 1
        if self.hits >= GENERATE_AFTER and len(self.tags) <= GENERATE_MAX_TAGS:
            self.fn = _generate_parser(self.tags)
        return _run_ops(dgram, idx, self.ops)


PLANS: dict[bytes, ParsePlan] = {}
"""Parse plans by type tag string (with its comma)."""


def compile_plan(key: bytes, offset: int) -> ParsePlan:
    """Compile a type tag string (with its comma) read at ``offset`` into a parse plan (cached).

    Raises ParseError (from ``validate_tags``, which names the problem) for a malformed one.
    """
    ops: list[tuple[int, Any]] = []
    run = ""
    depth = 0
    try:
        if key[:1] != b",":
            raise KeyError(key)
        for code in key[1:]:
            if code == 105 or code == 102:  # i f
                run += chr(code)
                continue
            if run:
                ops.append((_OP_FIXED, struct.Struct(">" + run)))
                run = ""
            if code == 91:  # [
                depth += 1
                if depth > MAX_ARRAY_DEPTH:
                    raise KeyError(key)
            elif code == 93:  # ]
                depth -= 1
                if depth < 0:
                    raise KeyError(key)
            ops.append(_OPS[code])
        if depth:
            raise KeyError(key)
    except KeyError:
        validate_tags(key, offset)  # raises the ParseError naming the problem
        raise AssertionError("validate_tags accepted a tag string compile_plan refused") from None
    if run:
        ops.append((_OP_FIXED, struct.Struct(">" + run)))
    plan = ParsePlan(key[1:].decode("ascii"), tuple(ops))
    if len(key) <= CACHE_KEY_LIMIT:
        bounded_put(PLANS, key, plan)
    return plan


_OPS: dict[int, tuple[int, Any]] = {
    **{ord(tag): (op, None) for tag, op in _SIMPLE_OPS.items()},
    **{ord(tag): (_OP_CONST, value) for tag, value in CONSTS.items()},
    ord("["): (_OP_OPEN, None),
    ord("]"): (_OP_CLOSE, None),
}


_PARSE_ENV: dict[str, Any] = {
    "Int64": Int64,
    "Double": Double,
    "Symbol": Symbol,
    "RGBA": RGBA,
    "TimeTag": TimeTag,
    "INFINITUM": INFINITUM,
    "decode_char": osc_types.decode_char,
    "int_to_midi": osc_types.int_to_midi,
    "Retry": _Retry,
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

    env["UI"] = U32.unpack_from
    env["UQ"] = U64.unpack_from
    env["SI"] = I32.unpack_from
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
        elif tag in CONSTS:
            stack[-1].append("INFINITUM" if tag == "I" else repr(CONSTS[tag]))
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
            (n,) = I32.unpack_from(dgram, idx)
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
            out.append(Int64(I64.unpack_from(dgram, idx)[0]))
            idx += 8
        elif op == _OP_DOUBLE:
            out.append(Double(F64.unpack_from(dgram, idx)[0]))
            idx += 8
        elif op == _OP_TIME:
            out.append(TimeTag.from_ntp(U64.unpack_from(dgram, idx)[0]))
            idx += 8
        else:
            (n,) = U32.unpack_from(dgram, idx)
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


HEADS: dict[bytes, tuple[str, str, ParsePlan, int]] = {}
"""Address, tags, plan and argument offset keyed by a datagram's bytes up to its tags' NUL."""

HEAD_HINT: list[tuple[bytes, int, tuple[str, str, ParsePlan, int] | None]] = [(b"", 0, None)]
"""The last head found in HEADS: ``(its bytes, their length, the HEADS entry)``, tried first
for the next message (a hint, checked: the datagram must start with those bytes followed by a
NUL).  One tuple, replaced whole: safe to read while another thread replaces it."""


def find_head(dgram: bytes) -> tuple[str, str, ParsePlan, int] | None:
    """The cached head of a datagram (address, tags, plan, argument offset), None if unknown
    (or malformed), remembering it as the next hint."""
    try:
        n = dgram.index(0, (dgram.index(0) + 4) & ~3)
        key = dgram[:n]
        head = HEADS[key]
    except (ValueError, KeyError):
        return None
    HEAD_HINT[0] = (key, n, head)
    return head


def parse_fields(dgram: bytes) -> tuple[str, str, list[Any]]:
    """Parse a message datagram into ``(address, type_tags, params)``.  Raises ParseError."""
    key, n, head = HEAD_HINT[0]
    if dgram[:n] != key or len(dgram) <= n or dgram[n]:
        head = find_head(dgram)
    if head is None:
        return _parse_cold(dgram)
    plan = head[2]
    try:
        fn = plan.fn
        return (
            head[0],
            head[1],
            (fn(dgram, head[3]) if fn is not None else plan.run(dgram, head[3])),
        )
    except PARSE_FAIL:
        return parse_careful(dgram)


def _parse_cold(dgram: bytes) -> tuple[str, str, list[Any]]:
    """``parse_fields`` for a head not in the cache: find (or compile) the plan, cache the head."""
    try:
        end = dgram.index(0)
        address = dgram[:end].decode()
        idx = (end + 4) & ~3
        size = len(dgram)
        if idx >= size:
            if idx > size:
                return parse_careful(dgram)
            return address, "", []
        end = dgram.index(0, idx)
        key = dgram[idx:end]
        plan = PLANS.get(key)
        if plan is None:
            plan = compile_plan(key, idx)
        idx = (end + 4) & ~3
        if end <= CACHE_KEY_LIMIT:
            bounded_put(HEADS, dgram[:end], (address, plan.tags, plan, idx))
        return address, plan.tags, plan.run(dgram, idx)
    except PARSE_FAIL:
        return parse_careful(dgram)
