"""Sans-I/O stream framing for OSC over TCP (and any other byte stream).

Bytes in, packets out; no sockets here.  A transport owns one framer per connection:

- ``framer.feed(data)`` returns the complete packets that ``data`` finished, whatever
  the chunking (byte by byte included).  Partial packets are buffered; the cost of a
  call is proportional to ``len(data)`` (scanning resumes where it stopped, it never
  re-scans the buffer).
- ``framer.frame(packet)`` returns one packet framed (SLIP: double-ENDed), whatever the
  stream; ``framer.send(packet)`` returns the bytes to write next on *this* stream: the same,
  except that SLIP writes the first frame of a stream without its leading ``END`` (the one
  place this rule lives; transports never strip bytes themselves).
- ``framer.reset()`` forgets everything (buffer, errors, detected mode) and starts a new
  stream (call it for a new connection).
- ``framer.buffered`` is the number of bytes held towards an incomplete frame (0 between
  frames); ``framer.discarding`` is True while an oversized SLIP frame is being skipped up
  to its ``END`` (those bytes are not held).  Together they tell a transport whether the
  peer is in the middle of a frame (``buffered > 0 or discarding``).

Framers:

- :class:`SizePrefixFramer` -- OSC 1.0: every packet is preceded by its size as a 4-byte
  big-endian unsigned integer.
- :class:`SlipFramer` -- OSC 1.1: SLIP (RFC 1055).  Sends ``END + escaped + END`` (the
  first frame of a stream without its leading ``END``); reads packets with or without the
  leading ``END``; empty frames (``END END``) are ignored.
- :class:`AutoFramer` -- looks at the first byte of the connection: ``0xC0`` (SLIP
  ``END``), ``/`` (a message) or ``#`` (a bundle) means SLIP, anything else is taken as
  the high byte of an OSC 1.0 size prefix.

Errors.  ``feed`` always processes the whole chunk.  If anything in it was bad it then
raises :class:`~osc_live.errors.FramingError`; ``err.packets`` holds every good packet the
call completed (the caller must still deliver them) and ``err.fatal`` tells whether the
stream can continue:

- fatal (close the connection): a size prefix larger than ``max_packet_size`` -- the
  rest of the stream cannot be framed.  Further ``feed`` calls raise again until
  ``reset()``.
- non fatal (the framer has already resynchronised): a SLIP frame with a bad escape
  (``ESC`` followed by anything but ``ESC_END``/``ESC_ESC``, or ``ESC`` right before
  ``END``) is dropped and reading resumes after its ``END`` -- detected as soon as the bad
  pair arrives, nothing more of that frame is held; a SLIP frame growing beyond
  ``max_packet_size`` is discarded up to the next ``END`` (it is never buffered); a size
  prefix of 0 (an empty packet is not an OSC packet) is skipped.

Sizes are checked before anything is allocated: a size prefix as soon as its 4 bytes
have arrived, a SLIP frame while it accumulates (its decoded length, escape pairs counted
as one byte).  A framer therefore holds at most ``max_packet_size + 4`` bytes (OSC 1.0) or
``2 * max_packet_size + 1`` bytes (SLIP, every byte escaped) of an unfinished frame.
"""

from __future__ import annotations

import struct
from typing import Protocol

from osc_live.errors import FramingError

__all__ = [
    "DEFAULT_MAX_PACKET_SIZE",
    "MODES",
    "AutoFramer",
    "Framer",
    "FramingError",
    "SizePrefixFramer",
    "SlipFramer",
    "make_framer",
]

DEFAULT_MAX_PACKET_SIZE = 1 << 20
"""Largest packet a framer accepts by default (1 MiB)."""

MODES = ("1.0", "1.1", "auto")
"""Framing modes accepted by :func:`make_framer`."""

Buffer = bytes | bytearray | memoryview
"""What ``feed`` and ``frame`` accept."""

_END = b"\xc0"
_ESC = b"\xdb"
_ESC_SEQ_END = b"\xdb\xdc"
_ESC_SEQ_ESC = b"\xdb\xdd"
_END_INT = 0xC0
_ESC_INT = 0xDB
_SLIP_FIRST_BYTES = frozenset({0xC0, ord("/"), ord("#")})
_DOUBLE_ENDED = b"\xc0%b\xc0"
_END_ENDED = b"%b\xc0"
_SIZE = struct.Struct(">I")
_pack_size = _SIZE.pack
_unpack_size = _SIZE.unpack_from


class Framer(Protocol):
    """What every framer offers (see the module docstring for the semantics)."""

    max_packet_size: int

    @property
    def mode(self) -> str:
        """``"1.0"``, ``"1.1"`` or ``"auto"`` (auto turns into the detected mode)."""
        ...

    @property
    def buffered(self) -> int:
        """Bytes held towards an incomplete frame (wire bytes, header/escapes included)."""
        ...

    @property
    def discarding(self) -> bool:
        """True while an oversized frame is being skipped (SLIP only; never buffered)."""
        ...

    def feed(self, data: Buffer) -> list[bytes]:
        """Consume ``data``; return the packets it completed."""
        ...

    def frame(self, packet: Buffer) -> bytes:
        """Return ``packet`` framed for the wire."""
        ...

    def send(self, packet: Buffer) -> bytes:
        """Return the bytes to write next on this stream for ``packet``."""
        ...

    def reset(self) -> None:
        """Forget buffered data, errors and (for auto) the detected mode."""
        ...


def _as_bytes(data: Buffer) -> bytes | bytearray:
    """Accept any bytes-like object; only memoryviews (no ``find``) are copied."""
    if isinstance(data, (bytes, bytearray)):
        return data
    return bytes(data)


def _check_max(max_packet_size: int) -> int:
    """Validate a ``max_packet_size`` argument."""
    if isinstance(max_packet_size, bool) or not isinstance(max_packet_size, int):
        raise TypeError("max_packet_size must be an int")
    if max_packet_size < 1:
        raise ValueError("max_packet_size must be >= 1")
    return max_packet_size


def _raise(message: str, packets: list[bytes], fatal: bool) -> None:
    """Raise a FramingError carrying the packets completed by the current call."""
    raise FramingError(message, packets=packets, fatal=fatal)


class SizePrefixFramer:
    """OSC 1.0 framing: a 4-byte big-endian size, then that many bytes of packet."""

    mode = "1.0"

    def __init__(self, max_packet_size: int = DEFAULT_MAX_PACKET_SIZE) -> None:
        """Create a framer refusing packets larger than ``max_packet_size`` bytes."""
        self.max_packet_size = _check_max(max_packet_size)
        self._buf = bytearray()
        self._broken: str | None = None

    @property
    def buffered(self) -> int:
        """Bytes held towards the next packet (its size prefix included); 0 between frames."""
        return len(self._buf)

    @property
    def discarding(self) -> bool:
        """Always False: an oversized size prefix is fatal, nothing is skipped."""
        return False

    def reset(self) -> None:
        """Drop buffered bytes and a previous fatal error."""
        self._buf = bytearray()
        self._broken = None

    def frame(self, packet: Buffer) -> bytes:
        """Return ``size + packet``; refuses packets beyond ``max_packet_size``."""
        n = len(packet)
        if n > self.max_packet_size:
            raise ValueError(f"packet of {n} bytes exceeds max_packet_size {self.max_packet_size}")
        if type(packet) is not bytes:
            packet = bytes(packet)
        return _pack_size(n) + packet

    send = frame

    def feed(self, data: Buffer) -> list[bytes]:
        """Consume ``data``; return the packets it completed (see module docstring)."""
        if self._broken is not None:
            _raise(self._broken, [], True)
        chunk = _as_bytes(data)
        had_tail = bool(self._buf)
        if had_tail:
            self._buf += chunk
            src: bytes | bytearray = self._buf
        else:
            src = chunk
        packets: list[bytes] = []
        errors: list[str] = []
        pos = 0
        n = len(src)
        limit = self.max_packet_size
        # bytes slice into bytes (one copy); a bytearray (the buffered tail) through a view.
        whole = type(src) is bytes
        with memoryview(src) as view:
            while n - pos >= 4:
                size = _unpack_size(src, pos)[0]
                if size > limit:
                    self._broken = (
                        f"OSC 1.0 size prefix {size} exceeds max_packet_size {limit}"
                        f" (header bytes {bytes(view[pos : pos + 4]).hex()}); stream unusable"
                    )
                    break
                if size == 0:
                    errors.append("OSC 1.0 size prefix 0 (an empty packet) skipped")
                    pos += 4
                    continue
                end = pos + 4 + size
                if end > n:
                    break
                packets.append(src[pos + 4 : end] if whole else bytes(view[pos + 4 : end]))  # type: ignore[arg-type]
                pos = end
        if self._broken is not None:
            self._buf = bytearray()
            _raise(self._broken, packets, True)
        if had_tail:
            if pos:
                del self._buf[:pos]
        elif pos < n:
            self._buf = bytearray(src[pos:])
        if errors:
            _raise(_summary(errors), packets, False)
        return packets


def _summary(errors: list[str]) -> str:
    """One message for all errors of a feed call."""
    if len(errors) == 1:
        return errors[0]
    return f"{errors[0]} (and {len(errors) - 1} more framing errors in this chunk)"


class SlipFramer:
    """OSC 1.1 framing: SLIP, double-ENDed on output, leading ``END`` optional on input.

    ``frame`` returns ``END + escaped + END``; ``send`` the same except for the first frame of
    a stream (after construction or :meth:`reset`), written without its leading ``END``: a
    SLIP reader does not need it, and liblo misreads a stream that starts with ``END #bundle``.

    Reading holds at most ``2 * max_packet_size + 1`` bytes of an unfinished frame (escapes
    take two bytes): its decoded length is checked as it accumulates, and a bad escape sends
    the framer to the next ``END`` at once -- nothing of a doomed frame is kept.
    """

    mode = "1.1"

    def __init__(self, max_packet_size: int = DEFAULT_MAX_PACKET_SIZE) -> None:
        """Create a framer refusing packets whose decoded size exceeds ``max_packet_size``."""
        self.max_packet_size = _check_max(max_packet_size)
        self._buf = bytearray()  # escaped bytes of the frame in progress (valid escapes only)
        self._pairs = 0  # complete escape pairs in _buf (decoded length = len(_buf) - _pairs)
        self._discarding = False  # dropping a doomed frame up to the next END
        self._started = False  # a frame was written on this stream (the next one gets its END)

    @property
    def buffered(self) -> int:
        """Escaped bytes held of the frame in progress; 0 between frames and while discarding."""
        return len(self._buf)

    @property
    def discarding(self) -> bool:
        """True while an oversized or badly escaped frame is being skipped up to its ``END``."""
        return self._discarding

    def reset(self) -> None:
        """Drop the frame in progress; the next frame written starts a new stream."""
        self._buf = bytearray()
        self._pairs = 0
        self._discarding = False
        self._started = False

    def frame(self, packet: Buffer) -> bytes:
        """Return ``END + escaped packet + END``; refuses packets beyond the limit."""
        return _DOUBLE_ENDED % self._escape(packet)

    def send(self, packet: Buffer) -> bytes:
        """Return :meth:`frame`, without the leading ``END`` for the first frame of a stream."""
        if type(packet) is not bytes or not packet.isascii() or len(packet) > self.max_packet_size:
            packet = self._escape(packet)  # (ASCII has neither END nor ESC: nothing to escape)
        if self._started:
            return _DOUBLE_ENDED % packet
        self._started = True
        return _END_ENDED % packet

    def _escape(self, packet: Buffer) -> bytes:
        """``packet`` with ``ESC`` and ``END`` escaped; refuses packets beyond the limit."""
        data = bytes(packet)
        if len(data) > self.max_packet_size:
            raise ValueError(
                f"packet of {len(data)} bytes exceeds max_packet_size {self.max_packet_size}"
            )
        if _ESC_INT in data:
            data = data.replace(_ESC, _ESC_SEQ_ESC)
        if _END_INT in data:
            data = data.replace(_END, _ESC_SEQ_END)
        return data

    def _decode_frame(self, body: bytes, packets: list[bytes], errors: list[str]) -> None:
        """Unescape one complete frame (without ENDs) into ``packets`` or record an error."""
        n_esc = body.count(_ESC)
        if n_esc:
            if n_esc != body.count(_ESC_SEQ_END) + body.count(_ESC_SEQ_ESC):
                errors.append(_BAD_ESCAPE)
                return
            if len(body) - n_esc > self.max_packet_size:
                errors.append(self._too_big(len(body) - n_esc))
                return
            body = body.replace(_ESC_SEQ_END, _END).replace(_ESC_SEQ_ESC, _ESC)
        elif len(body) > self.max_packet_size:
            errors.append(self._too_big(len(body)))
            return
        packets.append(body)

    def _too_big(self, size: int) -> str:
        return (
            f"SLIP packet of {size}+ bytes exceeds max_packet_size {self.max_packet_size}:"
            " discarded up to the next END"
        )

    def _doom(self, error: str, errors: list[str]) -> None:
        """Drop the frame in progress and skip the stream up to the next ``END``."""
        errors.append(error)
        self._buf.clear()
        self._pairs = 0
        self._discarding = True

    def feed(self, data: Buffer) -> list[bytes]:
        """Consume ``data``; return the packets it completed (see module docstring)."""
        chunk = _as_bytes(data)
        packets: list[bytes] = []
        errors: list[str] = []
        n = len(chunk)
        pos = 0
        buf = self._buf
        limit = self.max_packet_size
        if not buf and not self._discarding and type(chunk) is bytes:
            # Between frames (the common case): split the complete frames at once, in C.
            bodies = chunk.split(_END)
            pos = n - len(bodies.pop())  # the unterminated tail is left to the loop below
            for body in bodies:
                if not body:
                    continue
                if len(body) > limit or _ESC_INT in body:  # (an int: 15x faster than bytes)
                    self._decode_frame(body, packets, errors)
                else:
                    packets.append(body)
        while pos < n:
            i = chunk.find(_END_INT, pos)
            if self._discarding:
                if i < 0:
                    break
                self._discarding = False
                pos = i + 1
                continue
            if i < 0:
                # Unterminated tail: keep it unless its escapes are bad or it grows too big.
                pairs = _pairs_in(chunk, pos, n, bool(buf) and buf[-1] == _ESC_INT)
                if pairs < 0:
                    self._doom(_BAD_ESCAPE, errors)
                else:
                    size = len(buf) + (n - pos) - self._pairs - pairs
                    if size > limit:
                        self._doom(self._too_big(size), errors)
                    else:
                        buf += chunk[pos:]
                        self._pairs += pairs
                break
            if buf:
                pending = buf[-1] == _ESC_INT
                pairs = _pairs_in(chunk, pos, i, pending)
                if pairs < 0 or (i > pos and chunk[i - 1] == _ESC_INT) or (i == pos and pending):
                    errors.append(_BAD_ESCAPE)  # includes an ESC right before END
                else:
                    size = len(buf) + (i - pos) - self._pairs - pairs
                    if size > limit:
                        errors.append(self._too_big(size))
                    else:
                        buf += chunk[pos:i]
                        body = bytes(buf)
                        if self._pairs or pairs:
                            body = body.replace(_ESC_SEQ_END, _END).replace(_ESC_SEQ_ESC, _ESC)
                        packets.append(body)
                buf.clear()
                self._pairs = 0
                pos = i + 1
                continue
            raw = i - pos
            if raw > limit and raw - chunk.count(_ESC_INT, pos, i) > limit:
                # Complete but oversized: refuse without copying it.
                errors.append(self._too_big(raw - chunk.count(_ESC_INT, pos, i)))
            elif raw:
                self._decode_frame(bytes(chunk[pos:i]), packets, errors)
            pos = i + 1
        if errors:
            _raise(_summary(errors), packets, False)
        return packets


_BAD_ESCAPE = (
    "bad SLIP escape (ESC not followed by ESC_END/ESC_ESC): frame dropped, resynchronised at END"
)


def _pairs_in(chunk: bytes | bytearray, start: int, stop: int, pending: bool) -> int:
    """Valid escape pairs completed by ``chunk[start:stop]`` (no END inside), or -1 if bad.

    ``pending``: the bytes before ended with an ``ESC`` waiting for its second byte.  A
    trailing ``ESC`` is left pending (it is not counted).  Valid pairs cannot overlap (their
    second byte is not ``ESC``), so counting is exact.
    """
    pairs = 0
    if pending:
        if start >= stop:
            return 0
        if chunk[start] not in (0xDC, 0xDD):
            return -1
        pairs = 1
        start += 1
    n_esc = chunk.count(_ESC_INT, start, stop)
    if not n_esc:
        return pairs
    valid = chunk.count(_ESC_SEQ_END, start, stop) + chunk.count(_ESC_SEQ_ESC, start, stop)
    trailing = 1 if stop > start and chunk[stop - 1] == _ESC_INT else 0
    if n_esc != valid + trailing:
        return -1
    return pairs + valid


class AutoFramer:
    """Picks OSC 1.0 or 1.1 framing from the first byte of the connection.

    ``0xC0`` (SLIP ``END``), ``/`` or ``#`` select SLIP; any other first byte is read as
    the start of an OSC 1.0 size prefix.  ``mode`` is ``"auto"`` until then, ``"1.0"`` or
    ``"1.1"`` afterwards.  Before detection ``frame`` uses SLIP (python-osc's default TCP
    mode).  ``reset`` forgets the detected mode.
    """

    def __init__(self, max_packet_size: int = DEFAULT_MAX_PACKET_SIZE) -> None:
        """Create an undecided framer; ``max_packet_size`` is passed on to the real one."""
        self.max_packet_size = _check_max(max_packet_size)
        self._inner: SizePrefixFramer | SlipFramer | None = None
        self._undecided: SlipFramer | None = None  # frames written before detection

    @property
    def mode(self) -> str:
        """``"auto"`` until detection, then the detected mode."""
        return "auto" if self._inner is None else self._inner.mode

    @property
    def detected(self) -> SizePrefixFramer | SlipFramer | None:
        """The framer chosen for this connection, or None before the first byte."""
        return self._inner

    @property
    def buffered(self) -> int:
        """Bytes held by the detected framer (0 before detection)."""
        return 0 if self._inner is None else self._inner.buffered

    @property
    def discarding(self) -> bool:
        """Whether the detected framer is skipping an oversized frame."""
        return self._inner is not None and self._inner.discarding

    def reset(self) -> None:
        """Forget buffered data and the detected mode."""
        self._inner = None
        self._undecided = None

    def frame(self, packet: Buffer) -> bytes:
        """Frame with the detected mode (SLIP before detection)."""
        if self._inner is not None:
            return self._inner.frame(packet)
        return SlipFramer(self.max_packet_size).frame(packet)

    def send(self, packet: Buffer) -> bytes:
        """The next bytes of this stream, in the detected mode (SLIP before detection)."""
        if self._inner is not None:
            return self._inner.send(packet)
        if self._undecided is None:
            self._undecided = SlipFramer(self.max_packet_size)
        return self._undecided.send(packet)

    def feed(self, data: Buffer) -> list[bytes]:
        """Detect the mode on the first byte, then delegate."""
        if self._inner is None:
            if not data:
                return []
            first = data[0]
            if first in _SLIP_FIRST_BYTES:
                self._inner = self._undecided or SlipFramer(self.max_packet_size)
            else:
                self._inner = SizePrefixFramer(self.max_packet_size)
        return self._inner.feed(data)


def make_framer(mode: str, max_packet_size: int = DEFAULT_MAX_PACKET_SIZE) -> Framer:
    """Return a new framer for ``mode``: ``"1.0"`` (size prefix), ``"1.1"`` (SLIP), ``"auto"``."""
    if mode == "1.0":
        return SizePrefixFramer(max_packet_size)
    if mode == "1.1":
        return SlipFramer(max_packet_size)
    if mode == "auto":
        return AutoFramer(max_packet_size)
    raise ValueError(f"unknown OSC stream framing mode {mode!r}: use one of {', '.join(MODES)}")
