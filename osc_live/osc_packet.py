"""OSC packets: a datagram holding a message or a (nested) bundle, flattened to timed messages."""

from __future__ import annotations

import time
from typing import NamedTuple

from osc_live.errors import BuildError, ParseError
from osc_live.osc_bundle import OscBundle
from osc_live.osc_message import OscMessage
from osc_live.parsing import osc_types

__all__ = ["BuildError", "OscPacket", "ParseError", "TimedMessage", "parse_packet"]


class TimedMessage(NamedTuple):
    """A message and the Unix time (seconds) at which it should be handled."""

    time: float
    message: OscMessage


def parse_packet(dgram: bytes) -> OscMessage | OscBundle:
    """Parse a datagram into an OscMessage ('/...') or an OscBundle ('#bundle').

    Raises ParseError.
    """
    if not isinstance(dgram, bytes):
        if not isinstance(dgram, (bytearray, memoryview)):
            raise ParseError(f"an OSC datagram is bytes, got {type(dgram).__name__}")
        dgram = bytes(dgram)
    if dgram.startswith(b"/"):
        return OscMessage(dgram)
    if dgram.startswith(b"#bundle\x00"):
        return OscBundle(dgram)
    raise ParseError(f"an OSC packet starts with '/' or '#bundle', got {dgram[:16]!r}", offset=0)


def _flatten(bundle: OscBundle, now: float, out: list[TimedMessage]) -> None:
    stamp = bundle.timestamp
    when = now if stamp == osc_types.IMMEDIATELY or stamp < now else stamp
    for content in bundle:
        if isinstance(content, OscMessage):
            out.append(TimedMessage(when, content))
        else:
            _flatten(content, now, out)


def timed_messages(packet: OscMessage | OscBundle, now: float) -> list[TimedMessage]:
    """The messages of a parsed packet with their times, sorted by time (stable).

    Messages due now or in the past get ``now``.
    """
    if isinstance(packet, OscMessage):
        return [TimedMessage(now, packet)]
    out: list[TimedMessage] = []
    _flatten(packet, now, out)
    out.sort(key=lambda item: item.time)
    return out


class OscPacket:
    """One unit of OSC transmission: ``messages`` lists its messages in time order."""

    __slots__ = ("_messages", "_packet")

    def __init__(self, dgram: bytes) -> None:
        now = time.time()
        self._packet = parse_packet(dgram)
        self._messages = timed_messages(self._packet, now)

    @property
    def messages(self) -> list[TimedMessage]:
        """The messages, flattened from nested bundles and sorted by time."""
        return self._messages

    @property
    def packet(self) -> OscMessage | OscBundle:
        """The parsed message or bundle."""
        return self._packet
