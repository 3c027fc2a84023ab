"""OSC bundles: ``OscBundle`` parses a ``#bundle`` datagram (nested, element sizes checked) or is
made from already built contents with ``OscBundle.from_contents`` (no re-parsing)."""

from __future__ import annotations

import struct
from collections.abc import Iterator, Sequence
from typing import Any, Union

from osc_live._parse_plans import parse_fields
from osc_live.errors import BuildError, ParseError
from osc_live.osc_message import OscMessage
from osc_live.parsing import ntp, osc_types

__all__ = ["BUNDLE_PREFIX", "MAX_BUNDLE_DEPTH", "BuildError", "OscBundle", "ParseError"]

BUNDLE_PREFIX = b"#bundle\x00"
_BUNDLE_PREFIX = BUNDLE_PREFIX
MAX_BUNDLE_DEPTH = 32
"""Deepest nesting of bundles accepted when parsing or building."""

_HEAD = struct.Struct(">8sQ")
_Q = struct.Struct(">Q")
_I = struct.Struct(">i")
_I_PACK = _I.pack

Content = Union["OscBundle", OscMessage]


def _timestamp_of(timetag: int) -> float:
    if timetag == ntp.IMMEDIATELY_NTP:
        return osc_types.IMMEDIATELY
    return ntp.ntp_to_unix(timetag)


class OscBundle:
    """An OSC bundle: a timetag and elements that are messages or bundles.

    ``OscBundle(dgram)`` parses (``ParseError`` if malformed);
    ``OscBundle.from_contents(timetag_ntp, contents)`` builds without parsing.
    """

    __slots__ = ("_contents", "_depth", "_dgram", "_timestamp", "_timetag")

    _contents: list[Content]
    _depth: int
    _dgram: bytes
    _timestamp: float
    _timetag: int

    def __init__(self, dgram: bytes) -> None:
        if not isinstance(dgram, bytes):
            if not isinstance(dgram, (bytearray, memoryview)):
                raise ParseError(f"an OSC datagram is bytes, got {type(dgram).__name__}")
            dgram = bytes(dgram)
        self._parse(dgram, 1)

    def _parse(self, dgram: bytes, depth: int, base: int = 0) -> None:
        """Parse ``dgram``, found at byte ``base`` of the packet (error offsets are absolute)."""
        self._dgram = dgram
        self._depth = 1
        size = len(dgram)
        if size < 16 or not dgram.startswith(_BUNDLE_PREFIX):
            if not dgram.startswith(_BUNDLE_PREFIX):
                raise ParseError(
                    f"an OSC bundle starts with '#bundle\\0' (bundle at byte {base})", offset=base
                )
            raise ParseError(
                f"datagram too short for the bundle timetag at byte {base + 8}: "
                f"{size} bytes in the bundle",
                offset=base + 8,
            )
        timetag = _Q.unpack_from(dgram, 8)[0]
        self._timetag = timetag
        self._timestamp = _timestamp_of(timetag)
        contents: list[Content] = []
        self._contents = contents
        idx = 16
        while idx < size:
            if idx + 4 > size:
                raise ParseError(
                    f"bundle element size at byte {base + idx} is cut short "
                    f"({size - idx} bytes left)",
                    offset=base + idx,
                )
            (n,) = _I.unpack_from(dgram, idx)
            start = idx + 4
            if n <= 0 or n & 3 or start + n > size:
                raise ParseError(
                    f"bad bundle element size {n} at byte {base + idx}: must be a positive "
                    f"multiple of 4 within the {size - start} bytes left",
                    offset=base + idx,
                )
            element = dgram[start : start + n]
            first = element[0]
            if first == 47:  # "/"
                try:
                    contents.append(OscMessage._make(element, *parse_fields(element)))
                except ParseError as exc:
                    raise ParseError(
                        f"in the message at byte {base + start}: {exc}",
                        offset=base + start + (exc.offset or 0),
                    ) from None
            elif element.startswith(_BUNDLE_PREFIX):
                if depth >= MAX_BUNDLE_DEPTH:
                    raise ParseError(
                        f"bundles nested deeper than {MAX_BUNDLE_DEPTH} at byte {base + start}",
                        offset=base + start,
                    )
                inner = OscBundle.__new__(OscBundle)
                inner._parse(element, depth + 1, base + start)
                if inner._depth >= self._depth:
                    self._depth = inner._depth + 1
                contents.append(inner)
            else:
                raise ParseError(
                    f"bundle element at byte {base + start} is neither a message ('/') nor a "
                    f"bundle: {element[:16]!r}",
                    offset=base + start,
                )
            idx = start + n

    @classmethod
    def from_contents(cls, timetag_ntp: int, contents: Sequence[Content]) -> OscBundle:
        """Build a bundle from a raw NTP timetag and messages/bundles, without parsing.

        Raises BuildError.
        """
        if isinstance(timetag_ntp, bool) or not isinstance(timetag_ntp, int):
            raise BuildError(f"timetag_ntp is an int, got {type(timetag_ntp).__name__}")
        if not 0 <= timetag_ntp <= ntp.NTP_MAX:
            raise BuildError(f"timetag {timetag_ntp} is not 64 unsigned bits")
        items = list(contents)
        depth = 1
        parts = [_BUNDLE_PREFIX, _Q.pack(timetag_ntp)]
        for content in items:
            if type(content) is not OscMessage:  # (the common case skips the checks)
                if isinstance(content, OscBundle):
                    depth = max(depth, content._depth + 1)
                    if depth > MAX_BUNDLE_DEPTH:
                        raise BuildError(f"bundles nested deeper than {MAX_BUNDLE_DEPTH}")
                elif not isinstance(content, OscMessage):
                    raise BuildError(
                        f"Content must be either OscBundle or OscMessage, found {type(content)}"
                    )
            raw = content._dgram  # both classes keep their datagram in this slot
            parts += (_I_PACK(len(raw)), raw)
        self = cls.__new__(cls)
        self._dgram = b"".join(parts)
        self._timetag = timetag_ntp
        self._timestamp = _timestamp_of(timetag_ntp)
        self._contents = items
        self._depth = depth
        return self

    @staticmethod
    def dgram_is_bundle(dgram: bytes) -> bool:
        """Whether this datagram starts like an OSC bundle."""
        return dgram.startswith(_BUNDLE_PREFIX)

    @property
    def timestamp(self) -> float:
        """Unix time in seconds at which to act; ``IMMEDIATELY`` (0) means now."""
        return self._timestamp

    @property
    def timetag(self) -> int:
        """The raw 64-bit NTP timetag (1 means immediately)."""
        return self._timetag

    @property
    def num_contents(self) -> int:
        """Number of elements."""
        return len(self._contents)

    @property
    def size(self) -> int:
        """Length of the datagram in bytes."""
        return len(self._dgram)

    @property
    def dgram(self) -> bytes:
        """The datagram of this bundle."""
        return self._dgram

    def content(self, index: int) -> Any:
        """The element at ``index`` (0-based): an OscMessage or OscBundle."""
        return self._contents[index]

    def __iter__(self) -> Iterator[Any]:
        """Iterate over the elements."""
        return iter(self._contents)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, OscBundle):
            return self._dgram == other._dgram
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self._dgram)

    def __repr__(self) -> str:
        stamp = "IMMEDIATELY" if self._timetag == ntp.IMMEDIATELY_NTP else repr(self._timestamp)
        return f"{type(self).__name__}(timestamp={stamp}, contents={self._contents!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self._dgram,))
