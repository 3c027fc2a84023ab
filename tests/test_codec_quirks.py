"""Peers' quirks read leniently where the bytes are unambiguous, and never a silent loss."""

from __future__ import annotations

import logging
import struct

import pytest
from osc4py3 import oscbuildparse

from osc_live._parse_careful import parse_careful
from osc_live.dispatcher import Dispatcher
from osc_live.errors import ParseError
from osc_live.osc_message import OscMessage
from osc_live.parsing.osc_types import Char

CLIENT = ("127.0.0.1", 5555)


def _char_message(raw: int) -> bytes:
    return b"/c\0\0,ici\0\0\0\0" + struct.pack(">iIi", 1, raw, 2)


def test_osc4py3_chars_in_the_high_byte_are_read_as_that_character() -> None:
    dgram = bytes(oscbuildparse.encode_packet(oscbuildparse.OSCMessage("/c", ",ici", [1, "A", 2])))
    assert dgram == _char_message(0x41000000)  # osc4py3's layout: the byte first
    for _ in range(40):  # the interpreted plan, then the generated parser
        msg = OscMessage(dgram)
        assert msg.params == [1, "A", 2]
        assert type(msg.params[1]) is Char
    assert parse_careful(dgram)[2] == [1, "A", 2]


def test_standard_chars_are_unchanged() -> None:
    assert OscMessage(_char_message(0x41)).params == [1, "A", 2]
    assert OscMessage(_char_message(0x1F3B5)).params == [1, "\U0001f3b5", 2]
    assert OscMessage(_char_message(0xE9000000)).params == [1, "\xe9", 2]  # Latin-1 byte


@pytest.mark.parametrize("raw", [0x41420000, 0x00110000, 0xD800, 0xFFFFFFFF])
def test_ambiguous_chars_reject_the_message_loudly(
    raw: int, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(ParseError, match="char at byte 16"):
        OscMessage(_char_message(raw))
    with caplog.at_level(logging.WARNING, logger="osc_live.dispatcher"), Dispatcher() as d:
        d.set_default_handler(lambda *a: None)
        assert d.call_handlers_for_packet(_char_message(raw), CLIENT) == []
        assert d.stats.parse_errors == 1  # counted, and logged: not a silent loss
    assert any("malformed" in r.getMessage() for r in caplog.records)
