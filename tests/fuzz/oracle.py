"""The fuzz oracle: what must hold for any input (shared by the atheris target and the test
that replays the committed corpus)."""

from __future__ import annotations

import math
from typing import Any

from osc_live import _codec_base
from osc_live._encode_careful import encode_careful
from osc_live._encode_plans import encode
from osc_live._parse_careful import parse_careful
from osc_live.errors import BuildError, FramingError, ParseError
from osc_live.framing import AutoFramer, SizePrefixFramer, SlipFramer
from osc_live.osc_bundle import OscBundle
from osc_live.osc_message import OscMessage
from osc_live.osc_packet import OscPacket

MAX_PACKET = 4096
"""Framers are fuzzed with a small ``max_packet_size`` so that the limits are reached."""

_FRAMERS = (SizePrefixFramer, SlipFramer, AutoFramer)


def typed(value: Any) -> Any:
    """A comparable picture of a parsed value: type and repr (NaN-safe), recursively."""
    if isinstance(value, list):
        return ["list", [typed(v) for v in value]]
    if isinstance(value, float) and math.isnan(value):
        return [type(value).__name__, "nan"]
    return [type(value).__name__, repr(value)]


def check_message(data: bytes) -> None:
    """The fast parser (every plan state) and the careful one agree; so do the encoders."""
    try:
        careful = parse_careful(data)
    except ParseError:
        careful = None
    # Cold (plan compiled), interpreted, then generated: parse past GENERATE_AFTER.
    for _ in range(_codec_base.GENERATE_AFTER + 1):
        try:
            msg = OscMessage(data)
        except ParseError:
            assert careful is None, "the fast parser refused what the careful one read"
            continue
        assert careful is not None, "the fast parser read what the careful one refused"
        got = (msg.address, msg.type_tags, typed(msg.params))
        assert got == (careful[0], careful[1], typed(careful[2])), "parsers disagree"
    if careful is None:
        return
    address, tags, params = careful
    try:
        careful_bytes = encode_careful(_codec_base.encode_address(address), params, tags, None)[0]
    except BuildError:
        return  # an address or a value the parser reads but we never write (e.g. a bad char)
    for _ in range(_codec_base.GENERATE_AFTER + 1):
        assert encode(address, params, tags, None)[0] == careful_bytes, "encoders disagree"
    assert parse_careful(careful_bytes)[1] == tags


def check_packet(data: bytes, kind: int) -> None:
    """Parse as a message, a bundle or any packet: only ParseError may escape."""
    try:
        if kind == 0:
            check_message(data)
        elif kind == 1:
            for content in OscBundle(data):
                if isinstance(content, OscMessage):
                    check_message(content.dgram)
        else:
            for timed in OscPacket(data).messages:
                check_message(timed.message.dgram)
    except ParseError:
        pass


def check_framer(data: bytes, kind: int) -> None:
    """Feed a framer in data-driven chunks; only FramingError escapes; parse what it yields."""
    if not data:
        return
    framer = _FRAMERS[kind](MAX_PACKET)
    step = data[0] % 17 + 1
    body = data[1:]
    for start in range(0, len(body), step):
        try:
            packets = framer.feed(body[start : start + step])
        except FramingError as exc:
            packets = exc.packets
            if exc.fatal:
                framer.reset()
        assert framer.buffered <= MAX_PACKET + 8, "a framer buffered more than its limit"
        for packet in packets:
            assert 0 < len(packet) <= MAX_PACKET
            check_packet(packet, 2)


def check_input(data: bytes) -> None:
    """The fuzz entry point: the first byte picks the target (see fuzz_codec.py)."""
    if not data:
        return
    target = data[0] % 6
    if target < 3:
        check_packet(data[1:], target)
    else:
        check_framer(data[1:], target - 3)
