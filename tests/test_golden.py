"""Golden bytes from a real third-party implementation: liblo.

``oscsend - /addr TYPES VALUES...`` writes the raw bytes of a message to stdout; osc_live must
encode the same message to the same bytes and parse liblo's bytes to the expected values. liblo's
``oscdump`` then checks the types oscsend cannot write (``b``, ``t``): it must accept and print
what osc_live sends. liblo 0.31 knows neither ``r`` nor arrays, so those are checked against
python-osc only (tests/test_codec_types.py).

A missing liblo skips these tests, or fails them when ``OSC_LIVE_REQUIRE_PEERS=1``.
"""

from __future__ import annotations

import re
import socket
import subprocess
from typing import Any

import pytest
from pythonosc import osc_message_builder as p_builder

from osc_live.osc_message import OscMessage, encode_message
from osc_live.parsing.osc_types import (
    INFINITUM,
    Char,
    Double,
    Int64,
    MidiPacket,
    Symbol,
    TimeTag,
)
from tests.peers.fixtures import oscdump_udp  # noqa: F401 - a fixture
from tests.peers.liblo import Oscdump
from tests.peers.process import require_binaries

pytestmark = pytest.mark.peers


def liblo_bytes(address: str, types: str, *values: str) -> bytes:
    """The message as liblo's ``oscsend -`` writes it."""
    require_binaries("oscsend")
    argv = ["oscsend", "-", address]
    if types:
        argv += [types, *values]
    result = subprocess.run(
        argv, capture_output=True, timeout=10, stdin=subprocess.DEVNULL, check=False
    )
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    return result.stdout


# (types, oscsend's values, the Python values)
CASES: list[tuple[str, list[str], list[Any]]] = [
    ("", [], []),
    ("i", ["0"], [0]),
    ("i", ["-1"], [-1]),
    ("i", ["2147483647"], [2147483647]),
    ("i", ["-2147483648"], [-2147483648]),
    ("h", ["-5"], [Int64(-5)]),
    ("h", ["9223372036854775807"], [Int64(2**63 - 1)]),
    ("f", ["0.5"], [0.5]),
    ("f", ["-2.25"], [-2.25]),
    ("f", ["3.14159"], [pytest.approx(3.14159, rel=1e-7)]),
    ("d", ["0.1"], [Double(0.1)]),
    ("d", ["-1e300"], [Double(-1e300)]),
    ("s", ["hello"], ["hello"]),
    ("s", [""], [""]),
    ("s", ["abcd"], ["abcd"]),
    ("s", ["héllo wörld"], ["héllo wörld"]),
    ("S", ["sym"], [Symbol("sym")]),
    ("S", ["four"], [Symbol("four")]),
    ("c", ["x"], [Char("x")]),
    ("c", ["/"], [Char("/")]),
    ("m", ["00904064"], [MidiPacket(0, 0x90, 0x40, 0x64)]),
    ("m", ["ff000102"], [MidiPacket(0xFF, 0, 1, 2)]),
    ("T", [], [True]),
    ("F", [], [False]),
    ("N", [], [None]),
    ("I", [], [INFINITUM]),
    (
        "ihfdsScmTFNI",
        ["60", "-7", "0.5", "0.25", "saw", "sym", "q", "01020304"],
        [
            60,
            Int64(-7),
            0.5,
            Double(0.25),
            "saw",
            Symbol("sym"),
            Char("q"),
            MidiPacket(1, 2, 3, 4),
            True,
            False,
            None,
            INFINITUM,
        ],
    ),
]


def python_values(types: str, values: list[Any]) -> list[Any]:
    """``values`` with the approximate float replaced by what liblo sends."""
    return [3.14159 if hasattr(v, "expected") else v for v in values]


@pytest.mark.parametrize(("types", "argv", "values"), CASES, ids=lambda x: repr(x)[:30])
def test_same_bytes_as_liblo(types: str, argv: list[str], values: list[Any]) -> None:
    expected = liblo_bytes("/golden", types, *argv)
    assert encode_message("/golden", python_values(types, values), types) == expected
    msg = OscMessage(expected)
    assert msg.address == "/golden"
    assert msg.type_tags == types
    assert msg.params == values
    for got, want in zip(msg.params, values, strict=True):
        assert type(got) is type(want) or hasattr(want, "expected")
    # Marker types make the parsed values go out again as the same bytes.
    assert encode_message("/golden", msg.params) == expected
    assert OscMessage.from_parts("/golden", msg.params).dgram == expected


@pytest.mark.parametrize(
    ("types", "argv", "values"),
    [case for case in CASES if set(case[0]) <= set("ihfdsmTFN")],  # what python-osc can build
    ids=lambda x: repr(x)[:30],
)
def test_liblo_bytes_match_python_osc(types: str, argv: list[str], values: list[Any]) -> None:
    expected = liblo_bytes("/golden", types, *argv)
    builder = p_builder.OscMessageBuilder("/golden")
    for tag, value in zip(types, python_values(types, values), strict=True):
        builder.add_arg(value, tag)
    assert builder.build().dgram == expected


def test_liblo_address_padding() -> None:
    for address in ("/", "/a", "/ab", "/abc", "/abcd", "/a/b/c/d/e"):
        assert encode_message(address, [1]) == liblo_bytes(address, "i", "1")


def test_oscdump_reads_what_osc_live_sends(oscdump_udp: Oscdump) -> None:  # noqa: F811
    """liblo parses every type osc_live writes (including b and t, which oscsend cannot)."""
    timetag = TimeTag.from_ntp((3_900_000_000 << 32) + (1 << 31))
    sends = [
        ("/blob", [b"\x01\x02\x03"], r"^/blob b \[3b 0x1 0x2 0x3\]$"),
        ("/empty", [b""], r"^/empty b \[0b ?\]$"),
        ("/time", [timetag], r"^/time t e8754700\.80000000$"),
        (
            "/all",
            [1, Int64(-5), 0.5, Double(0.25), "text", Symbol("sym"), Char("c")],
            r"^/all ihfdsSc 1 -5 0\.500000 0\.250000 \"text\" 'sym 'c'$",
        ),
        (
            "/more",
            [True, False, None, INFINITUM, MidiPacket(0, 0x90, 60, 100), b"xy"],
            r"^/more TFNImb #T #F Nil Infinitum MIDI \[0x00 0x90 0x3c 0x64\] \[2b 0x78 0x79\]$",
        ),
    ]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for address, args, _ in sends:
            sock.sendto(encode_message(address, args), (oscdump_udp.host, oscdump_udp.port))
    messages = oscdump_udp.wait_for_count(len(sends), timeout=10)
    assert oscdump_udp.errors() == ""
    by_address = {line.split()[0]: line for line in messages}
    for address, _, pattern in sends:
        assert re.match(pattern, by_address[address]), (address, by_address[address])
