"""OSC argument types: python-osc compatible ``write_*`` / ``get_*`` primitives for every tag.

Each ``write_*`` returns the bytes of one argument and raises ``BuildError``; each
``get_*(dgram, start_index)`` returns ``(value, next_index)`` and raises ``ParseError`` naming the
byte offset. The marker types below let a parsed value be sent again with the same type tag:

====  =====================  ==============================================
tag   Python value           marker type (a subclass of the plain value)
====  =====================  ==============================================
i     int                    -
h     int                    ``Int64(int)``
f     float                  -
d     float                  ``Double(float)``
s     str                    -
S     str                    ``Symbol(str)``
c     str of length 1        ``Char(str)``
b     bytes                  -
T F   True / False           -
N     None                   -
I     ``INFINITUM``          ``Infinitum`` (a singleton)
t     (datetime, fraction)   ``TimeTag`` (a NamedTuple, python-osc's shape)
r     int (0xRRGGBBAA)       ``RGBA(int)``
m     4-tuple of ints        ``MidiPacket`` (a NamedTuple)
====  =====================  ==============================================
"""

from __future__ import annotations

import datetime
import struct
from typing import Any, NamedTuple

from osc_live.errors import BuildError, NtpError, ParseError
from osc_live.parsing import ntp

__all__ = [
    "IMMEDIATELY",
    "INFINITUM",
    "RGBA",
    "BuildError",
    "Char",
    "Double",
    "Infinitum",
    "Int64",
    "MidiPacket",
    "ParseError",
    "Symbol",
    "TimeTag",
    "get_blob",
    "get_char",
    "get_date",
    "get_double",
    "get_float",
    "get_int",
    "get_int64",
    "get_midi",
    "get_rgba",
    "get_string",
    "get_symbol",
    "get_timetag",
    "get_uint64",
    "write_blob",
    "write_char",
    "write_date",
    "write_double",
    "write_float",
    "write_int",
    "write_int64",
    "write_midi",
    "write_rgba",
    "write_string",
    "write_symbol",
    "write_timetag",
    "write_uint64",
]

IMMEDIATELY = 0
"""python-osc's "send now" timestamp for bundle builders (Unix seconds 0 never means 1970)."""

MAX_BLOB_SIZE = (1 << 31) - 1


class Int64(int):
    """An int sent as a 64-bit ``h`` even when it fits in 32 bits (what ``h`` parses to)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return int.__repr__(self)


class Double(float):
    """A float sent as a 64-bit ``d`` rather than a 32-bit ``f`` (what ``d`` parses to)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return float.__repr__(self)


class Symbol(str):
    """An OSC symbol (tag ``S``): a str that is sent as ``S`` rather than ``s``."""

    __slots__ = ()

    def __repr__(self) -> str:
        return f"Symbol({str.__repr__(self)})"


class Char(str):
    """An OSC char (tag ``c``): a str of exactly one character, sent as a 32-bit code point."""

    __slots__ = ()

    def __new__(cls, value: str) -> Char:
        if not isinstance(value, str) or len(value) != 1:
            raise BuildError(f"an OSC char is one character, got {value!r}")
        return super().__new__(cls, value)

    def __repr__(self) -> str:
        return f"Char({str.__repr__(self)})"


class RGBA(int):
    """An OSC RGBA colour (tag ``r``): an int 0xRRGGBBAA."""

    __slots__ = ()

    def __new__(cls, value: int = 0) -> RGBA:
        self = super().__new__(cls, value)
        if not 0 <= self <= 0xFFFFFFFF:
            raise BuildError(f"an RGBA colour is 32 unsigned bits, got {value!r}")
        return self

    @classmethod
    def from_components(cls, r: int, g: int, b: int, a: int = 255) -> RGBA:
        """Build from four 0..255 components."""
        return cls(((r & 0xFF) << 24) | ((g & 0xFF) << 16) | ((b & 0xFF) << 8) | (a & 0xFF))

    @property
    def components(self) -> tuple[int, int, int, int]:
        """``(r, g, b, a)``, each 0..255."""
        v = int(self)
        return (v >> 24, (v >> 16) & 0xFF, (v >> 8) & 0xFF, v & 0xFF)

    def __repr__(self) -> str:
        return f"RGBA(0x{int(self):08x})"


class MidiPacket(NamedTuple):
    """An OSC MIDI message (tag ``m``): port id, status byte, data1, data2 (each 0..255)."""

    port: int
    status: int
    data1: int
    data2: int


class Infinitum:
    """The OSC Infinitum / Impulse argument (tag ``I``, no data bytes). Use ``INFINITUM``."""

    __slots__ = ()
    _instance: Infinitum | None = None

    def __new__(cls) -> Infinitum:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "INFINITUM"

    def __reduce__(self) -> str:
        return "INFINITUM"


INFINITUM = Infinitum()


class TimeTag(NamedTuple):
    """An OSC timetag argument (tag ``t``).

    Shaped as python-osc's parsed timetag: ``(utc, fraction)`` where ``utc`` is a naive UTC
    datetime of the whole seconds and ``fraction`` the 32-bit fraction of a second.  NTP eras
    are resolved (see :mod:`osc_live.parsing.ntp`): a raw value with its top bit clear is a
    time in 2036-2104, except 0 and 1 (1900-01-01; 1 is "immediately").
    """

    utc: datetime.datetime
    fraction: int

    @classmethod
    def from_ntp(cls, value: int) -> TimeTag:
        """From a raw 64-bit NTP value."""
        if not 0 <= value <= ntp.NTP_MAX:
            raise NtpError(f"an NTP timetag is 64 unsigned bits, got {value!r}")
        seconds = ntp.unwrap(value) >> 32
        return cls(ntp._NTP_EPOCH_DT + datetime.timedelta(seconds=seconds), value & 0xFFFFFFFF)

    @classmethod
    def from_unix(cls, seconds: float) -> TimeTag:
        """From Unix time in seconds."""
        return cls.from_ntp(ntp.unix_to_ntp(seconds))

    @classmethod
    def from_datetime(cls, dt: datetime.datetime) -> TimeTag:
        """From a datetime (naive means UTC)."""
        return cls.from_ntp(ntp.datetime_to_ntp(dt))

    @property
    def ntp(self) -> int:
        """The raw 64-bit NTP value (era 1 times wrap; NtpError outside 1968-2104)."""
        delta = self.utc - ntp._NTP_EPOCH_DT
        full = ((delta.days * 86400 + delta.seconds) << 32) | (self.fraction & 0xFFFFFFFF)
        if full <= 1:  # 0, and 1 = immediately: special, as they are
            return full
        return ntp._wrap(full, self.utc)

    @property
    def unix(self) -> float:
        """Unix time in seconds."""
        return ntp.ntp_to_unix(self.ntp)

    @property
    def immediately(self) -> bool:
        """True for the special value 1 meaning "now"."""
        return self.fraction == 1 and self.utc == ntp._NTP_EPOCH_DT


_I = struct.Struct(">i")
_UI = struct.Struct(">I")
_Q = struct.Struct(">Q")
_q = struct.Struct(">q")
_F = struct.Struct(">f")
_D = struct.Struct(">d")
PAD = (b"\0\0\0\0", b"\0\0\0", b"\0\0", b"\0")
"""``PAD[len(raw) & 3]`` terminates and pads ``raw`` to a multiple of 4 bytes (strings)."""
BLOB_PAD = (b"", b"\0\0\0", b"\0\0", b"\0")
"""``BLOB_PAD[len(raw) & 3]`` pads ``raw`` to a multiple of 4 bytes (blobs)."""


def _short(what: str, start: int, need: int, have: int) -> ParseError:
    return ParseError(
        f"datagram too short for {what} at byte {start}: needs {need} bytes, {max(have, 0)} left",
        offset=start,
    )


def _check_index(dgram: bytes, start_index: int) -> None:
    if not isinstance(start_index, int) or start_index < 0:
        raise ParseError(f"start_index must be a non-negative int, got {start_index!r}")
    if not isinstance(dgram, (bytes, bytearray, memoryview)):
        raise ParseError(f"datagram must be bytes, got {type(dgram).__name__}")


def encode_string_bytes(raw: bytes, what: str = "string") -> bytes:
    """UTF-8 bytes of an OSC string to their padded wire form; NUL inside is an error."""
    if b"\0" in raw:
        raise BuildError(f"an OSC {what} cannot contain a NUL character: {raw!r}")
    return raw + PAD[len(raw) & 3]


def write_string(val: str) -> bytes:
    """An OSC string: UTF-8, NUL-terminated, padded to 4 bytes."""
    try:
        raw = val.encode()
    except (UnicodeEncodeError, AttributeError) as exc:
        raise BuildError(f"Incorrect string, could not encode {exc}") from None
    return encode_string_bytes(raw)


def write_symbol(val: str) -> bytes:
    """An OSC symbol (``S``): same wire form as a string."""
    return write_string(val)


def get_string(dgram: bytes, start_index: int) -> tuple[str, int]:
    """Read an OSC string (UTF-8, NUL-terminated, padded to 4 bytes)."""
    _check_index(dgram, start_index)
    if not isinstance(dgram, bytes):
        dgram = bytes(dgram)
    end = dgram.find(b"\0", start_index)
    if end < 0:
        raise ParseError(
            f"OSC string at byte {start_index} is not NUL-terminated", offset=start_index
        )
    nxt = (end + 4) & ~3
    if nxt > len(dgram):
        raise ParseError(
            f"OSC string at byte {start_index} is missing its padding "
            f"(ends at {nxt}, datagram has {len(dgram)} bytes)",
            offset=start_index,
        )
    try:
        text = dgram[start_index:end].decode()
    except UnicodeDecodeError as exc:
        raise ParseError(
            f"OSC string at byte {start_index} is not valid UTF-8: {exc.reason} "
            f"at byte {start_index + exc.start}",
            offset=start_index + exc.start,
        ) from None
    return text, nxt


def get_symbol(dgram: bytes, start_index: int) -> tuple[Symbol, int]:
    """Read an OSC symbol (``S``)."""
    text, index = get_string(dgram, start_index)
    return Symbol(text), index


def _get_fixed(st: struct.Struct, what: str, dgram: bytes, start_index: int) -> tuple[Any, int]:
    _check_index(dgram, start_index)
    if len(dgram) - start_index < st.size:
        raise _short(what, start_index, st.size, len(dgram) - start_index)
    return st.unpack_from(dgram, start_index)[0], start_index + st.size


def _pack(st: struct.Struct, what: str, val: Any) -> bytes:
    try:
        return st.pack(val)
    except (struct.error, TypeError, OverflowError) as exc:
        raise BuildError(f"Wrong argument value passed for {what}: {val!r} ({exc})") from None


def write_int(val: int) -> bytes:
    """A 32-bit big-endian signed int (``i``)."""
    return _pack(_I, "int32", val)


def get_int(dgram: bytes, start_index: int) -> tuple[int, int]:
    """Read a 32-bit big-endian signed int (``i``)."""
    return _get_fixed(_I, "int32", dgram, start_index)  # type: ignore[no-any-return]


def write_int64(val: int) -> bytes:
    """A 64-bit big-endian signed int (``h``)."""
    return _pack(_q, "int64", val)


def get_int64(dgram: bytes, start_index: int) -> tuple[Int64, int]:
    """Read a 64-bit big-endian signed int (``h``) as ``Int64``, an int."""
    val, index = _get_fixed(_q, "int64", dgram, start_index)
    return Int64(val), index


def write_uint64(val: int) -> bytes:
    """A 64-bit big-endian unsigned int."""
    return _pack(_Q, "uint64", val)


def get_uint64(dgram: bytes, start_index: int) -> tuple[int, int]:
    """Read a 64-bit big-endian unsigned int."""
    return _get_fixed(_Q, "uint64", dgram, start_index)  # type: ignore[no-any-return]


def write_float(val: float) -> bytes:
    """A 32-bit big-endian IEEE 754 float (``f``)."""
    return _pack(_F, "float32", val)


def get_float(dgram: bytes, start_index: int) -> tuple[float, int]:
    """Read a 32-bit float (``f``).

    As python-osc does (for Reaktor), a float cut short by the end of the datagram (1 to 3 of
    its bytes present) is completed with zero bytes.
    """
    _check_index(dgram, start_index)
    left = len(dgram) - start_index
    if left < 4:
        if left <= 0:
            raise _short("float32", start_index, 4, left)
        chunk = bytes(dgram[start_index:]) + b"\0" * (4 - left)
        return _F.unpack(chunk)[0], start_index + 4
    return _F.unpack_from(dgram, start_index)[0], start_index + 4


def write_double(val: float) -> bytes:
    """A 64-bit big-endian IEEE 754 double (``d``)."""
    return _pack(_D, "float64", val)


def get_double(dgram: bytes, start_index: int) -> tuple[Double, int]:
    """Read a 64-bit double (``d``) as ``Double``, a float."""
    val, index = _get_fixed(_D, "float64", dgram, start_index)
    return Double(val), index


def write_blob(val: bytes) -> bytes:
    """An OSC blob (``b``): int32 size, the bytes, zero padding. Empty blobs are allowed."""
    if not isinstance(val, (bytes, bytearray, memoryview)):
        raise BuildError(f"a blob is bytes, got {type(val).__name__}")
    raw = bytes(val)
    if len(raw) > MAX_BLOB_SIZE:
        raise BuildError(f"blob of {len(raw)} bytes is too large for OSC")
    return _I.pack(len(raw)) + raw + BLOB_PAD[len(raw) & 3]


def get_blob(dgram: bytes, start_index: int) -> tuple[bytes, int]:
    """Read an OSC blob (``b``)."""
    size, data_start = _get_fixed(_I, "blob size", dgram, start_index)
    if size < 0:
        raise ParseError(f"negative blob size {size} at byte {start_index}", offset=start_index)
    end = data_start + size
    nxt = (end + 3) & ~3
    if nxt > len(dgram):
        raise ParseError(
            f"blob of {size} bytes at byte {start_index} runs past the end of the "
            f"{len(dgram)}-byte datagram",
            offset=start_index,
        )
    return bytes(dgram[data_start:end]), nxt


def write_char(val: str) -> bytes:
    """An OSC char (``c``): one character sent as its 32-bit code point."""
    if not isinstance(val, str) or len(val) != 1:
        raise BuildError(f"an OSC char is one character, got {val!r}")
    return _UI.pack(ord(val))


def decode_char(code: int, start_index: int) -> Char:
    """The ``Char`` of a 32-bit char argument read at ``start_index``.

    The specification sends the character's code in the low bits (``0x00000041`` for
    ``'A'``).  Some peers (osc4py3) write the character's byte first, padded like a one-byte
    string (``0x41000000``); such a value, a non-zero high byte and three zero bytes, is no
    Unicode code point, so reading it as the character of that byte (Latin-1) is
    unambiguous.  Any other value beyond U+10FFFF, and the surrogates, raise ParseError.
    """
    if code > 0x10FFFF and not code & 0xFFFFFF:
        return Char(chr(code >> 24))
    if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        raise ParseError(
            f"char at byte {start_index} is not a Unicode code point: 0x{code:08x}",
            offset=start_index,
        )
    return Char(chr(code))


def get_char(dgram: bytes, start_index: int) -> tuple[Char, int]:
    """Read an OSC char (``c``)."""
    code, index = _get_fixed(_UI, "char", dgram, start_index)
    return decode_char(code, start_index), index


def write_rgba(val: int) -> bytes:
    """An OSC RGBA colour (``r``): 32 unsigned bits 0xRRGGBBAA."""
    return _pack(_UI, "rgba32", val)


def get_rgba(dgram: bytes, start_index: int) -> tuple[RGBA, int]:
    """Read an OSC RGBA colour (``r``) as ``RGBA``, an int."""
    val, index = _get_fixed(_UI, "rgba32", dgram, start_index)
    return RGBA(val), index


def midi_to_int(val: Any) -> int:
    """A 4-item MIDI message (port, status, data1, data2) to its 32-bit wire value."""
    try:
        if len(val) != 4:
            raise BuildError(f"MIDI message length is invalid: {val!r} (needs 4 items)")
        port, status, data1, data2 = (int(x) for x in val)
    except (TypeError, ValueError) as exc:
        raise BuildError(f"a MIDI message is 4 ints 0..255, got {val!r} ({exc})") from None
    if not all(0 <= x <= 255 for x in (port, status, data1, data2)):
        raise BuildError(f"MIDI message bytes must be 0..255, got {val!r}")
    return (port << 24) | (status << 16) | (data1 << 8) | data2


def int_to_midi(val: int) -> MidiPacket:
    """A 32-bit wire value to ``MidiPacket(port, status, data1, data2)``."""
    return MidiPacket(val >> 24, (val >> 16) & 0xFF, (val >> 8) & 0xFF, val & 0xFF)


def write_midi(val: Any) -> bytes:
    """An OSC MIDI message (``m``) from (port id, status byte, data1, data2)."""
    return _UI.pack(midi_to_int(val))


def get_midi(dgram: bytes, start_index: int) -> tuple[MidiPacket, int]:
    """Read an OSC MIDI message (``m``) as ``MidiPacket``, a 4-tuple."""
    val, index = _get_fixed(_UI, "midi", dgram, start_index)
    return int_to_midi(val), index


def timetag_to_ntp(val: Any) -> int:
    """A ``t`` argument value to its raw NTP value.

    ``TimeTag`` → its value; datetime → exact conversion; int/float → Unix seconds, with
    python-osc's ``IMMEDIATELY`` (0) meaning the special value 1.
    """
    try:
        if isinstance(val, TimeTag):
            return val.ntp
        if isinstance(val, datetime.datetime):
            return ntp.datetime_to_ntp(val)
        if isinstance(val, bool) or not isinstance(val, (int, float)):
            raise BuildError(
                f"a timetag is a TimeTag, datetime or Unix seconds, got {type(val).__name__}"
            )
        if val == IMMEDIATELY:
            return ntp.IMMEDIATELY_NTP
        return ntp.unix_to_ntp(val)
    except NtpError as exc:
        raise BuildError(str(exc)) from None


def write_timetag(val: Any) -> bytes:
    """An OSC timetag argument (``t``) from a ``TimeTag``, datetime or Unix seconds."""
    return _Q.pack(timetag_to_ntp(val))


def get_timetag(dgram: bytes, start_index: int) -> tuple[TimeTag, int]:
    """Read an OSC timetag argument (``t``) as ``TimeTag((utc, fraction))``."""
    val, index = _get_fixed(_Q, "timetag", dgram, start_index)
    return TimeTag.from_ntp(val), index


def get_date(dgram: bytes, start_index: int) -> tuple[float, int]:
    """Read a bundle timetag as Unix seconds; ``IMMEDIATELY`` (0) for the special value 1."""
    val, index = _get_fixed(_Q, "timetag", dgram, start_index)
    if val == ntp.IMMEDIATELY_NTP:
        return IMMEDIATELY, index
    return ntp.ntp_to_unix(val), index


def write_date(system_time: float) -> bytes:
    """A bundle timetag from Unix seconds, ``IMMEDIATELY`` (0), a datetime or a ``TimeTag``."""
    return _Q.pack(timetag_to_ntp(system_time))
