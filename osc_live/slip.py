"""SLIP (RFC 1055) encoding as used by OSC 1.1 over streams, python-osc compatible.

``encode`` frames one message as ``END + escaped + END`` ("double-ENDed"), ``decode``
unframes exactly one packet (leading and trailing ``END`` bytes are ignored) and
``is_valid`` tells whether a packet may be decoded.  Every operation works with
``bytes.replace`` / ``bytes.count`` (no per-byte Python loop).

For a stream of packets use :class:`osc_live.framing.SlipFramer`, which buffers partial
packets and resynchronises after errors.
"""

from __future__ import annotations

__all__ = [
    "END",
    "END_END",
    "ESC",
    "ESC_END",
    "ESC_ESC",
    "ProtocolError",
    "decode",
    "encode",
    "is_valid",
]

END = b"\xc0"
"""Frame delimiter."""
ESC = b"\xdb"
"""Escape byte: the next byte stands for ``END`` or ``ESC``."""
ESC_END = b"\xdc"
"""After ``ESC``: a literal ``END`` byte."""
ESC_ESC = b"\xdd"
"""After ``ESC``: a literal ``ESC`` byte."""
END_END = b"\xc0\xc0"
"""Two ``END`` bytes (an empty frame; what sits between two double-ENDed packets)."""

_ESC_SEQ_END = ESC + ESC_END
_ESC_SEQ_ESC = ESC + ESC_ESC


class ProtocolError(ValueError):
    """A SLIP packet holds an invalid byte sequence.

    Invalid sequences are an ``END`` byte inside the packet, an ``ESC`` followed by
    anything but ``ESC_END`` / ``ESC_ESC``, or a trailing ``ESC``.  As in python-osc the
    offending packet is the only element of ``args``.
    """


def encode(msg: bytes | bytearray | memoryview) -> bytes:
    """Return ``msg`` SLIP-encoded: ``END`` + escaped ``msg`` + ``END``.

    An empty or ``None``-ish message encodes to ``END + END``.
    """
    data = bytes(msg) if msg else b""
    if ESC in data:
        data = data.replace(ESC, _ESC_SEQ_ESC)
    if END in data:
        data = data.replace(END, _ESC_SEQ_END)
    return END + data + END


def _escapes_valid(body: bytes) -> bool:
    """Whether every ``ESC`` in ``body`` (which has no ``END``) starts a valid pair.

    The two valid pairs cannot overlap (their second byte is not ``ESC``), so counting
    is enough: each ``ESC`` belongs to a valid pair iff the counts agree.  A trailing
    ``ESC`` is counted but pairs with nothing.
    """
    n_esc = body.count(ESC)
    if not n_esc:
        return True
    return n_esc == body.count(_ESC_SEQ_END) + body.count(_ESC_SEQ_ESC)


def _unescape(body: bytes) -> bytes:
    """Undo the escaping of a validated frame body (no ``END`` inside)."""
    if ESC not in body:
        return body
    return body.replace(_ESC_SEQ_END, END).replace(_ESC_SEQ_ESC, ESC)


def is_valid(packet: bytes | bytearray | memoryview) -> bool:
    """Return True if ``packet`` is one valid SLIP packet.

    Leading and trailing ``END`` bytes are allowed; inside, there must be no ``END`` and
    every ``ESC`` must be followed by ``ESC_END`` or ``ESC_ESC``.
    """
    body = bytes(packet).strip(END)
    return END not in body and _escapes_valid(body)


def decode(packet: bytes | bytearray | memoryview) -> bytes:
    """Return the message carried by one SLIP ``packet``.

    Leading and trailing ``END`` bytes are stripped.  Raises :class:`ProtocolError` (with
    the packet as its argument) if the packet is not valid; no buffering is done.
    """
    body = bytes(packet).strip(END)
    if END in body or not _escapes_valid(body):
        raise ProtocolError(packet)
    return _unescape(body)
