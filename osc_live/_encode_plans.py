"""Generated encoders: the fast path of ``encode_message``, ``build_msg`` and the builders.

For a type tag string made only of ``i h f d s b T F N I`` (no arrays) an :class:`EncPlan`
holds straight-line functions generated from the tag string (a fixed alphabet: no value ever
shapes the code).  Plans are found by tag string (:data:`TAG_PLANS`), by the exact types of the
arguments (:data:`SIG_PLANS`, the inferred path) and by the builder's item count
(:data:`FLAT_BUILDERS`).  A tag string is encoded by the careful encoder until it was seen
``GENERATE_AFTER`` times (``_codec_base``): a peer or a program sending ever new shapes costs
the careful encoder (a few microseconds), never a compilation per message.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any

from osc_live._codec_base import (
    ADDRESSES,
    CACHE_KEY_LIMIT,
    CONSTS,
    FIXED_FORMAT,
    GENERATE_AFTER,
    GENERATE_MAX_TAGS,
    I32_PACK,
    bounded_put,
    encode_address,
)
from osc_live._encode_careful import encode_careful
from osc_live.parsing.osc_types import BLOB_PAD, INFINITUM, PAD, Double, Int64

__all__ = [
    "ADDRESS_PLANS",
    "FAST_FAIL",
    "FLAT_BUILDERS",
    "SIG_PLANS",
    "TAG_PLANS",
    "AddressPlan",
    "EncPlan",
    "bind_message_class",
    "encode",
    "remember",
]

_message_class: list[Any] = [None]


def bind_message_class(cls: type) -> None:
    """Tell the generated ``build`` functions which class to instantiate (``OscMessage``).

    They create it with ``object.__new__`` and set its ``_dgram``, ``_address``,
    ``_type_tags``, ``_values`` slots and ``_params`` to None (``osc_message`` computes
    ``params`` from ``_values`` on first use).
    """
    _message_class[0] = cls


class EncPlan:
    """Generated encoders for a tag string made only of ``_FAST_ENC_TAGS`` (no arrays).

    ``encode(addr, args)`` returns the message (``addr``: the padded address bytes);
    ``encode_params(addr, args)`` returns it with the list of what parsing it would give;
    ``build(addr, address, *values)`` returns the OscMessage (values as positional arguments:
    no tuple is built or unpacked on the builder's hot path) with its ``params`` left to
    compute: it keeps the values and ``params(*values)`` gives the list on first access
    (messages built to be sent are rarely read back).
    ``build_items(addr, address, items)`` takes python-osc builder ``(tag, value)`` items and
    raises TypeError unless their tags are this plan's.
    ``build_args(addr, address, args)`` and ``encode_args(addr, args)`` take the arguments
    as a sequence and first check that each has exactly the type this plan was made for (as
    found by ``SIG_PLANS``), raising TypeError otherwise: they serve the plan remembered for an
    address (``ADDRESS_PLANS``) without computing the argument types' signature.
    ``bind(addr, address)`` returns ``(encode_args, build_args, build_items)`` closures over
    one address, without those two parameters (:class:`AddressPlan`).
    All may raise ValueError, TypeError, AttributeError or struct.error on a value that does
    not fit: the caller then takes the careful encoder, which raises a BuildError naming it.
    The generated source depends only on the tag string, drawn from a fixed alphabet.
    """

    __slots__ = (
        "bind",
        "build",
        "build_args",
        "build_items",
        "encode",
        "encode_args",
        "encode_params",
        "params",
        "tags",
    )

    def __init__(self, tags: str) -> None:
        self.tags = tags
        tag_bytes = ("," + tags).encode()
        env: dict[str, Any] = {
            "HEAD": tag_bytes + PAD[len(tag_bytes) & 3],
            "PAD": PAD,
            "BPAD": BLOB_PAD,
            "IPACK": I32_PACK,
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
            fmt = FIXED_FORMAT.get(tag)
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
                norm.append(repr(CONSTS[tag]) if tag != "I" else "INFINITUM")
        close_run()
        unpack = f"    {', '.join(names)}, = args\n" if names else "    if args: raise TypeError\n"
        tests = [_EXACT[tag].format(v) for tag, v in zip(tags, names, strict=True)]
        check = f"    if {' or '.join(tests)}: raise TypeError\n" if tests else ""
        tag_test = " or ".join(f"t{i} != {tag!r}" for i, tag in enumerate(tags))
        unpack_items = (
            f"    {''.join(f'(t{i}, {v}), ' for i, v in enumerate(names))}= items\n"
            f"    if {tag_test}: raise TypeError\n"
            if names
            else "    if items: raise TypeError\n"
        )
        body = "".join(f"    {line}\n" for line in prelude)
        joined = f"b''.join(({', '.join(pieces)}))" if len(pieces) > 2 else "addr + HEAD"
        # Pieces that were packed in the params variant are recomputed inline in the plain one.
        plain_joined = joined
        for line in prelude_params:
            var, expr = line.split(" = ", 1)
            if var.startswith("p"):
                plain_joined = plain_joined.replace(var, expr, 1)
        values = f"({''.join(v + ', ' for v in names)})"

        def make_message(dgram: str, indent: str) -> str:
            lines = (
                "msg = NEW(MESSAGE)",
                f"msg._dgram = {dgram}",
                "msg._address = address",
                "msg._type_tags = TAGS",
                "msg._params = None",
                f"msg._values = {values}",
                "return msg",
            )
            return "".join(f"{indent}{line}\n" for line in lines)

        def indented(text: str) -> str:
            return "".join(f"    {line}\n" for line in text.splitlines())

        # Bound to one address (AddressPlan): the address bytes and the tag string's bytes
        # joined once, closures called directly from Python (no partial in between).
        bound_joined = (
            "head" if plain_joined == "addr + HEAD" else plain_joined.replace("addr, HEAD", "head")
        )
        src = (
            f"def encode(addr, args):\n{unpack}{body}    return {plain_joined}\n"
            f"def encode_params(addr, args):\n{unpack}{body}"
            + "".join(f"    {line}\n" for line in prelude_params)
            + f"    return {joined}, [{', '.join(norm)}]\n"
            f"def build(addr, address{''.join(', ' + v for v in names)}):\n{body}"
            + make_message(plain_joined, "    ")
            + f"def build_args(addr, address, args):\n{unpack}{check}{body}"
            + make_message(plain_joined, "    ")
            + f"def build_items(addr, address, items):\n{unpack_items}{body}"
            + make_message(plain_joined, "    ")
            + f"def encode_args(addr, args):\n{unpack}{check}{body}    return {plain_joined}\n"
            f"def params({', '.join(names)}):\n"
            + "".join(f"    {line}\n" for line in prelude_params)
            + f"    return [{', '.join(norm)}]\n"
            "def bind(addr, address):\n"
            "    head = addr + HEAD\n"
            + indented(
                f"def encode(args):\n{unpack}{check}{body}    return {bound_joined}\n"
                f"def build(args):\n{unpack}{check}{body}"
                + make_message(bound_joined, "    ")
                + f"def build_items(items):\n{unpack_items}{body}"
                + make_message(bound_joined, "    ")
                + "return encode, build, build_items\n"
            )
        )
        env["NEW"] = object.__new__
        env["MESSAGE"] = _message_class[0]
        env["TAGS"] = tags
        exec(compile(src, f"<osc_live encoder ,{tags}>", "exec"), env)
        self.encode = env["encode"]
        self.encode_params = env["encode_params"]
        self.build = env["build"]
        self.build_args = env["build_args"]
        self.build_items = env["build_items"]
        self.encode_args = env["encode_args"]
        self.params = env["params"]
        self.bind = env["bind"]


_EXACT = {
    "i": "{}.__class__ is not int",
    "f": "{}.__class__ is not float",
    "s": "{}.__class__ is not str",
    "b": "{}.__class__ is not bytes",
    "h": "{}.__class__ is not Int64",
    "d": "{}.__class__ is not Double",
    "N": "{} is not None",
    "T": "{} is not True",
    "F": "{} is not False",
    "I": "{} is not INFINITUM",
}
"""The test, per tag, that a value is not of the one type ``SIG_PLANS`` maps to that tag."""

_FAST_ENC_TAGS = frozenset("ihfdsbTFNI")
_SIG_TAG: dict[type, str] = {
    int: "i",
    float: "f",
    str: "s",
    bytes: "b",
    type(None): "N",
    Int64: "h",
    Double: "d",
}
_SEEN: dict[str, int] = {}
"""Uses of fast-encodable tag strings that have no plan yet (bounded like the caches)."""


class _TagPlans(dict[str, "EncPlan | None"]):
    """Encoding plans by tag string (None: the careful encoder), generated once a tag string
    has been used ``GENERATE_AFTER`` times."""

    def __missing__(self, tags: str) -> EncPlan | None:
        if len(tags) > GENERATE_MAX_TAGS:
            return None
        if not _FAST_ENC_TAGS.issuperset(tags):
            bounded_put(self, tags, None)
            return None
        seen = _SEEN.get(tags, 0) + 1
        if seen < GENERATE_AFTER:
            if seen == 1:
                bounded_put(_SEEN, tags, seen)
            else:
                _SEEN[tags] = seen
            return None
        _SEEN.pop(tags, None)
        plan = EncPlan(tags)
        bounded_put(self, tags, plan)
        return plan


class _SigPlans(dict[tuple[type, ...], "EncPlan | None"]):
    """Encoding plans by the exact types of the arguments (ints taken as 32-bit)."""

    def __missing__(self, sig: tuple[type, ...]) -> EncPlan | None:
        if len(sig) > GENERATE_MAX_TAGS:
            return None
        tags = [_SIG_TAG.get(cls) for cls in sig]
        if None in tags:
            bounded_put(self, sig, None)
            return None
        plan = TAG_PLANS["".join(tags)]  # type: ignore[arg-type]
        if plan is not None:
            bounded_put(self, sig, plan)
        return plan


TAG_PLANS = _TagPlans()
SIG_PLANS = _SigPlans()


class AddressPlan:
    """The plan last used with inferred types for one address, bound to that address.

    ``encode(args)`` returns the message's bytes, ``build(args)`` the OscMessage (``args``: a
    list or tuple), ``build_items(items)`` the OscMessage of python-osc builder items: the
    generated ``encode_args`` / ``build_args`` / ``build_items`` of :class:`EncPlan` bound to
    the address (``EncPlan.bind``: closures, no per-address compilation), so a hot path costs
    one dict lookup and one call.  Each checks that the values have exactly the types (or
    the items the tags) the plan was made for and raises one of :data:`FAST_FAIL` otherwise.
    """

    __slots__ = ("build", "build_items", "encode", "plan")

    def __init__(self, plan: EncPlan, addr: bytes, address: str) -> None:
        self.plan = plan
        self.encode, self.build, self.build_items = plan.bind(addr, address)


ADDRESS_PLANS: dict[str, AddressPlan] = {}
"""The plan last used with inferred types for each address (see :class:`AddressPlan`):
tried first, so a program sending the same shape to an address skips computing the types'
signature and looking up the address bytes."""


def remember(address: str, plan: EncPlan, addr: bytes) -> None:
    """Remember ``plan`` as the last one used with inferred types for ``address``.

    ``addr``: the address's padded bytes.  Only plain ``str`` addresses of at most
    ``CACHE_KEY_LIMIT`` bytes are remembered.
    """
    known = ADDRESS_PLANS.get(address)
    if (
        (known is None or known.plan is not plan)
        and type(address) is str
        and len(addr) <= CACHE_KEY_LIMIT
    ):
        bounded_put(ADDRESS_PLANS, address, AddressPlan(plan, addr, address))


FAST_FAIL = (struct.error, TypeError, AttributeError, ValueError, OverflowError)
"""What a generated encoder may raise on a value it does not take (then: careful encoder)."""


def _as_args(args: Any) -> Sequence[Any]:
    if type(args) is tuple or type(args) is list:
        return args  # type: ignore[no-any-return]
    if isinstance(args, (str, bytes, bytearray)) or not hasattr(args, "__iter__"):
        return [args]
    return list(args)


def encode(
    address: str, args: Sequence[Any], type_tags: str | None, params: list[Any] | None
) -> tuple[bytes, str]:
    """Encode a message: ``(dgram, type_tags)``; ``params`` (when given) receives what
    parsing it would give.  Raises BuildError."""
    addr = ADDRESSES.get(address) if type(address) is str else None
    if addr is None:
        addr = encode_address(address)
    if type(args) is not tuple and type(args) is not list:
        args = _as_args(args)
    if type_tags is None:
        if params is None:
            known = ADDRESS_PLANS.get(address)
            if known is not None:
                try:
                    return known.encode(args), known.plan.tags
                except FAST_FAIL:
                    pass
        plan = SIG_PLANS[tuple(map(type, args))]
        if plan is not None and params is None:
            try:
                data = plan.encode(addr, args)
            except FAST_FAIL:
                return encode_careful(addr, args, type_tags, params)
            remember(address, plan, addr)
            return data, plan.tags
    else:
        tags = type_tags[1:] if type_tags[:1] == "," else type_tags
        plan = TAG_PLANS[tags]
    if plan is not None:
        try:
            if params is None:
                return plan.encode(addr, args), plan.tags
            data, norm = plan.encode_params(addr, args)
            params.extend(norm)
            return data, plan.tags
        except FAST_FAIL:
            if params is not None:
                params.clear()
    return encode_careful(addr, args, type_tags, params)


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
        if count > GENERATE_MAX_TAGS:
            return _no_fast_build
        pairs = ", ".join(f"(t{i}, v{i})" for i in range(count))
        src = (
            f"def build(addr, address, items):\n    {pairs}, = items\n"
            f"    plan = PLANS[{' + '.join(f't{i}' for i in range(count))}]\n"
            "    if plan is None:\n        return None\n"
            f"    msg = plan.build(addr, address, {', '.join(f'v{i}' for i in range(count))})\n"
            "    REMEMBER(address, plan, addr)\n"
            "    return msg\n"
        )
        env: dict[str, Any] = {"PLANS": TAG_PLANS, "REMEMBER": remember}
        exec(compile(src, f"<osc_live flat build {count}>", "exec"), env)
        self[count] = env["build"]
        return env["build"]


FLAT_BUILDERS = _FlatBuilders()
"""Fast builders of python-osc builder items by item count (see _FlatBuilders)."""
