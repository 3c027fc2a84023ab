"""OSC messages: ``OscMessage`` (parse bytes, or ``from_parts`` without parsing) and the
``encode_message`` fast path used by every ``send_message``.

Parsing compiles each distinct type tag string once into a plan and runs it optimistically;
on any failure a careful reference parser runs instead and raises a ``ParseError`` naming the
problem and byte offset.  Encoding goes through generated per-tag-string encoders with a
careful encoder behind them.  The machinery lives in private modules (``_parse_plans``,
``_parse_careful``, ``_encode_plans``, ``_encode_careful``, ``_infer``, ``_codec_base``);
their caches and limits are documented in docs/codec.md.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from osc_live._codec_base import ADDRESSES, KNOWN_TAGS, MAX_ARRAY_DEPTH
from osc_live._encode_careful import encode_flat_careful
from osc_live._encode_plans import ADDRESS_PLANS as ADDRESS_PLANS  # for the clients
from osc_live._encode_plans import (
    FAST_FAIL,
    FLAT_BUILDERS,
    TAG_PLANS,
    bind_message_class,
    encode,
)
from osc_live._infer import infer_tag
from osc_live._parse_careful import parse_careful
from osc_live._parse_plans import HEAD_HINT, PARSE_FAIL, find_head, parse_fields
from osc_live.errors import BuildError, ParseError

LOOKUP_OR_FAST_FAIL = (KeyError, *FAST_FAIL)
"""A hot path's address lookup in ``ADDRESS_PLANS`` missed, or its plan refused the values.

The clients' ``send_message`` inline :func:`encode_message`'s fast path: with ``args`` a list
or tuple, ``ADDRESS_PLANS[address].encode(args)`` gives the same bytes, or raises one of these
(then ``encode_message`` decides: it also fills ``ADDRESS_PLANS``)."""

__all__ = [
    "KNOWN_TAGS",
    "MAX_ARRAY_DEPTH",
    "BuildError",
    "OscMessage",
    "ParseError",
    "encode_flat",
    "encode_message",
    "infer_tag",
]


def encode_message(address: str, args: Sequence[Any] = (), type_tags: str | None = None) -> bytes:
    """Encode one OSC message to bytes.

    Without ``type_tags`` the types are inferred as python-osc does (see :func:`infer_tag`:
    int → i, or h beyond 32 bits; float → f; str → s; bytes → b; bool → T/F; None → N;
    list/tuple → array; a tuple of 4 ints → m; marker types such as ``Symbol`` → their tag).
    ``type_tags`` (with or without the leading comma) sets every type explicitly; arrays then
    take nested lists.  Raises BuildError.
    """
    if type_tags is None and (type(args) is list or type(args) is tuple):
        try:
            return ADDRESS_PLANS[address].encode(args)  # type: ignore[no-any-return]
        except LOOKUP_OR_FAST_FAIL:
            pass
    return encode(address, args, type_tags, None)[0]


def encode_flat(address: str, items: Sequence[tuple[str, Any]]) -> OscMessage:
    """Build an OscMessage from python-osc builder style ``(tag, value)`` items.

    ``[`` and ``]`` items open and close arrays; values of T F N I ``[`` ``]`` are ignored.
    Raises BuildError.
    """
    addr = ADDRESSES.get(address) if type(address) is str else None
    if addr is not None and items:
        try:
            msg = FLAT_BUILDERS[len(items)](addr, address, items)
            if msg is not None:
                return msg  # type: ignore[no-any-return]
        except FAST_FAIL:
            pass
    return OscMessage._make(*encode_flat_careful(address, items))


class OscMessage:
    """A parsed OSC message: address pattern, type tags and arguments.

    ``OscMessage(dgram)`` parses bytes (``ParseError`` if malformed);
    ``OscMessage.from_parts(address, args)`` encodes without parsing.
    """

    __slots__ = ("_address", "_dgram", "_params", "_type_tags", "_values")

    _address: str
    _dgram: bytes
    _params: list[Any] | None
    """The arguments; None for a message from the builder's fast path until first read."""
    _values: tuple[Any, ...]
    """Set by the builder's fast path (with ``_params`` None): the values it encoded."""
    _type_tags: str

    def _param_list(self) -> list[Any]:
        """The arguments (the list itself), computed on first use for a built message.

        A message built by a generated encoder keeps the values it encoded; what parsing its
        bytes would give is computed from them by the same generated code, or by parsing if
        that plan was evicted from its bounded cache meanwhile.
        """
        params = self._params
        if params is None:
            plan = TAG_PLANS.get(self._type_tags)
            if plan is not None:
                params = plan.params(*self._values)
            else:
                params = parse_fields(self._dgram)[2]
            self._params = params
        return params

    def __init__(self, dgram: bytes) -> None:
        if type(dgram) is not bytes:
            if not isinstance(dgram, (bytes, bytearray, memoryview)):
                raise ParseError(f"an OSC datagram is bytes, got {type(dgram).__name__}")
            dgram = bytes(dgram)
        self._dgram = dgram
        # The head (address and tags) of the previous message is the likely one: it is this
        # message's head if the datagram starts with its bytes and a NUL follows.
        key, n, head = HEAD_HINT[0]
        if dgram[:n] != key or len(dgram) <= n or dgram[n]:
            head = find_head(dgram)
        if head is None:
            self._address, self._type_tags, self._params = parse_fields(dgram)
            return
        self._address, self._type_tags, plan, idx = head
        try:
            fn = plan.fn
            self._params = fn(dgram, idx) if fn is not None else plan.run(dgram, idx)
        except PARSE_FAIL:
            self._address, self._type_tags, self._params = parse_careful(dgram)

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
        dgram, tags = encode(address, args, type_tags, params)
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
        params = self._params
        if params is None:
            params = self._param_list()
        return params.copy()

    def __iter__(self) -> Iterator[Any]:
        """Iterate over the arguments."""
        return iter(self._param_list())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, OscMessage):
            return self._dgram == other._dgram
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._dgram)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._address!r}, {self._param_list()!r})"

    def __str__(self) -> str:
        return f"{self._address} {' '.join(str(p) for p in self._param_list())}"

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self._dgram,))


bind_message_class(OscMessage)
