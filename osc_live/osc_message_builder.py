"""Build OSC messages: python-osc's ``OscMessageBuilder`` and ``build_msg``."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from osc_live._codec_base import ADDRESSES, KNOWN_TAGS, MAX_ARRAY_DEPTH, numpy_item
from osc_live._encode_careful import encode_careful, encode_flat_careful
from osc_live._encode_plans import (
    ADDRESS_PLANS,
    FAST_FAIL,
    FLAT_BUILDERS,
    SIG_PLANS,
    remember,
)
from osc_live._infer import infer_one
from osc_live.errors import BuildError
from osc_live.osc_message import LOOKUP_OR_FAST_FAIL, OscMessage
from osc_live.parsing import osc_types
from osc_live.parsing.osc_types import MidiPacket

__all__ = ["ArgValue", "BuildError", "OscMessageBuilder", "build_msg"]

ArgValue = (
    str
    | bytes
    | bool
    | int
    | float
    | MidiPacket
    | tuple[int, int, int, int]
    | osc_types.TimeTag
    | osc_types.Infinitum
    | list[Any]
    | tuple[Any, ...]
    | None
)
"""One OSC argument value: a plain value, a marker type, or a list/tuple for an array."""

_VALUE_TAGS = frozenset(KNOWN_TAGS - {"[", "]"})


class OscMessageBuilder:
    """Builds OscMessage instances argument by argument."""

    ARG_TYPE_FLOAT = "f"
    ARG_TYPE_DOUBLE = "d"
    ARG_TYPE_INT = "i"
    ARG_TYPE_INT64 = "h"
    ARG_TYPE_STRING = "s"
    ARG_TYPE_SYMBOL = "S"
    ARG_TYPE_BLOB = "b"
    ARG_TYPE_CHAR = "c"
    ARG_TYPE_RGBA = "r"
    ARG_TYPE_MIDI = "m"
    ARG_TYPE_TIMETAG = "t"
    ARG_TYPE_TRUE = "T"
    ARG_TYPE_FALSE = "F"
    ARG_TYPE_NIL = "N"
    ARG_TYPE_INFINITUM = "I"
    ARG_TYPE_IMPULSE = "I"

    ARG_TYPE_ARRAY_START = "["
    ARG_TYPE_ARRAY_STOP = "]"

    _SUPPORTED_ARG_TYPES = (
        ARG_TYPE_FLOAT,
        ARG_TYPE_DOUBLE,
        ARG_TYPE_INT,
        ARG_TYPE_INT64,
        ARG_TYPE_BLOB,
        ARG_TYPE_STRING,
        ARG_TYPE_RGBA,
        ARG_TYPE_MIDI,
        ARG_TYPE_TRUE,
        ARG_TYPE_FALSE,
        ARG_TYPE_NIL,
        ARG_TYPE_SYMBOL,
        ARG_TYPE_CHAR,
        ARG_TYPE_TIMETAG,
        ARG_TYPE_INFINITUM,
    )

    def __init__(self, address: str | None = None) -> None:
        """A builder for a message to ``address``."""
        self._address = address
        self._args: list[tuple[str, Any]] = []

    @property
    def address(self) -> str | None:
        """The OSC address the message will be sent to."""
        return self._address

    @address.setter
    def address(self, value: str) -> None:
        self._address = value

    @property
    def args(self) -> list[tuple[str, Any]]:
        """The ``(type, value)`` arguments; arrays appear as ``('[', None) ... (']', None)``."""
        return self._args

    def _valid_type(self, arg_type: str | list[Any]) -> bool:
        if isinstance(arg_type, str):
            return arg_type in _VALUE_TAGS
        if isinstance(arg_type, list):
            return all(self._valid_type(sub) for sub in arg_type)
        return False

    def add_arg(self, arg_value: ArgValue, arg_type: str | list[Any] | None = None) -> None:
        """Add an argument; ``arg_type`` is an ``ARG_TYPE_*`` (or a list of them for an array),
        inferred from the value when omitted.

        Raises BuildError (a ValueError) if the type is not supported.
        """
        if arg_type is None:
            cls = type(arg_value)
            if cls is int:
                if -2147483648 <= arg_value <= 2147483647:  # type: ignore[operator]
                    self._args.append(("i", arg_value))
                    return
            elif cls is float:
                self._args.append(("f", arg_value))
                return
            elif cls is str:
                self._args.append(("s", arg_value))
                return
        elif type(arg_type) is str and arg_type in _VALUE_TAGS:
            self._args.append((arg_type, arg_value))
            return
        if arg_type and not self._valid_type(arg_type):
            raise BuildError(
                f"arg_type must be one of {self._SUPPORTED_ARG_TYPES}, "
                f"or an array of valid types, got {arg_type!r}"
            )
        if not arg_type:
            arg_type = self._get_arg_type(arg_value)
        self._add(arg_value, arg_type, 0)

    def _add(self, value: Any, arg_type: str | list[Any], depth: int) -> None:
        if isinstance(arg_type, list):
            if depth >= MAX_ARRAY_DEPTH:
                raise BuildError(f"arrays nested deeper than {MAX_ARRAY_DEPTH}")
            value = numpy_item(value)
            if not isinstance(value, (list, tuple)) or len(value) != len(arg_type):
                raise BuildError(
                    f"array type {arg_type!r} needs a list of {len(arg_type)} values, got {value!r}"
                )
            self._args.append((self.ARG_TYPE_ARRAY_START, None))
            for sub_value, sub_type in zip(value, arg_type, strict=True):
                self._add(sub_value, sub_type, depth + 1)
            self._args.append((self.ARG_TYPE_ARRAY_STOP, None))
        else:
            self._args.append((arg_type, value))

    def _get_arg_type(self, arg_value: ArgValue, _depth: int = 0) -> str | list[Any]:
        """The type tag inferred for a value (a nested list of tags for an array).

        Raises BuildError (a ValueError) if the type is not supported.
        """
        tag = infer_one(arg_value)
        if tag != "[":
            return tag
        if _depth >= MAX_ARRAY_DEPTH:
            raise BuildError(f"arrays nested deeper than {MAX_ARRAY_DEPTH}")
        return [self._get_arg_type(v, _depth + 1) for v in numpy_item(arg_value)]

    def build(self) -> OscMessage:
        """Build the OscMessage.

        Raises BuildError if the address is empty or an argument cannot be encoded.
        """
        address = self._address
        items = self._args
        try:
            # The hot path of python-osc code: the plan last used for this address (it checks
            # the tags; an unknown, empty or unhashable address is not there).
            return ADDRESS_PLANS[address].build_items(items)  # type: ignore[index,no-any-return]
        except LOOKUP_OR_FAST_FAIL:
            pass
        if not address:
            raise BuildError("OSC addresses cannot be empty")
        addr = ADDRESSES.get(address) if type(address) is str else None
        if addr is not None and items:
            # The fast path of encode_flat, inlined.
            try:
                msg = FLAT_BUILDERS[len(items)](addr, address, items)
                if msg is not None:
                    return msg  # type: ignore[no-any-return]
            except FAST_FAIL:
                pass
        return OscMessage._make(*encode_flat_careful(address, items))


def build_msg(address: str, value: ArgValue | Iterable[ArgValue] = "") -> OscMessage:
    """Build a message from one value or an iterable of values ("" means no argument)."""
    cls = type(value)
    if cls is list or cls is tuple:
        # The hot path: the generated encoder of these exact argument types, called with the
        # values (what the builder below would end up calling): first the plan last used for
        # this address (it checks the types), else the one of the types' signature.
        try:
            return ADDRESS_PLANS[address].build(value)  # type: ignore[no-any-return]
        except LOOKUP_OR_FAST_FAIL:
            pass
        addr = ADDRESSES.get(address) if type(address) is str and address else None
        if addr is not None:
            plan = SIG_PLANS[tuple(map(type, value))]  # type: ignore[arg-type]
            if plan is not None:
                try:
                    msg = plan.build(addr, address, *value)  # type: ignore[misc]
                except FAST_FAIL:
                    pass
                else:
                    remember(address, plan, addr)
                    return msg  # type: ignore[no-any-return]
            # A shape without a generated encoder yet (cold), or values it refused: the
            # careful encoder infers every tag as add_arg would (one pass, no builder).
            params: list[Any] = []
            dgram, tags = encode_careful(addr, value, None, params)  # type: ignore[arg-type]
            return OscMessage._make(dgram, address, tags, params)
        values: Iterable[Any] = value  # type: ignore[assignment]
    elif isinstance(value, str):
        values = [] if value == "" else [value]
    elif isinstance(value, (bytes, bytearray)) or not isinstance(value, Iterable):
        values = [value]
    else:
        values = value
    builder = OscMessageBuilder(address=address)
    for val in values:
        builder.add_arg(val)
    return builder.build()
