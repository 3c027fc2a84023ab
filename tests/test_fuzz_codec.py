"""Fuzzing the codec: random bytes and mutations of valid packets raise only ParseError, never
hang, and whatever parses, parses the same through the fast and the careful parser.

The long run is marked ``slow``: 1,000,000 cases by default, ``OSC_LIVE_FUZZ_CASES`` to change
it (CI sets 20000). ``OSC_LIVE_FUZZ_SEED`` replays a run.
"""

from __future__ import annotations

import contextlib
import os
import random
import struct
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from osc_live._parse_careful import parse_careful
from osc_live.errors import ParseError
from osc_live.osc_bundle import OscBundle
from osc_live.osc_message import OscMessage, encode_message
from osc_live.osc_packet import OscPacket, parse_packet
from osc_live.parsing.osc_types import (
    INFINITUM,
    RGBA,
    Char,
    Double,
    Int64,
    MidiPacket,
    Symbol,
    TimeTag,
)


def typed(value: Any) -> Any:
    if isinstance(value, list):
        return ["list", [typed(v) for v in value]]
    return [type(value).__name__, repr(value)]


def corpus() -> list[bytes]:
    """Valid packets covering every type tag, arrays and nested bundles."""
    everything = [
        1,
        Int64(-5),
        0.5,
        Double(0.25),
        "text",
        Symbol("sym"),
        Char("c"),
        b"blob!",
        b"",
        True,
        False,
        None,
        INFINITUM,
        RGBA(0x11223344),
        MidiPacket(0, 0x90, 60, 100),
        TimeTag.from_ntp(12345 << 32),
        [1, [2.0, "x"], []],
    ]
    msgs = [
        encode_message("/synth/note", [60, 127, 0.5, "saw"]),
        encode_message("/all", everything),
        encode_message("/f", [1.0, 2.0, 3.0]),
        encode_message("/s", ["a", "bb", "ccc", "dddd"]),
        encode_message("/b", [b"\x00\x01\x02", b"x" * 9]),
        encode_message("/empty"),
        b"/old\0\0\0\0",
    ]
    msg_objs = [OscMessage(m) for m in msgs]
    inner = OscBundle.from_contents(1, msg_objs[:2])
    bundles = [
        OscBundle.from_contents(1, msg_objs).dgram,
        OscBundle.from_contents((3_900_000_000 << 32) + 5, [msg_objs[0], inner, msg_objs[3]]).dgram,
        OscBundle.from_contents(7, [OscBundle.from_contents(1, [inner])]).dgram,
        OscBundle.from_contents(1, []).dgram,
    ]
    return msgs + bundles


CORPUS = corpus()
INTERESTING = [0, 1, 3, 4, 0x7F, 0x80, 0xFF, ord("/"), ord(","), ord("["), ord("]"), ord("#")]
INTERESTING_INTS = [0, 1, 3, 4, 5, 8, 0x7FFFFFFF, -1, -4, 0x80000000, 0xFFFFFFFF, 1 << 20]


def mutate(rng: random.Random, data: bytes) -> bytes:
    """One random mutation (sometimes several) of ``data``."""
    buf = bytearray(data)
    for _ in range(rng.choice((1, 1, 1, 2, 3))):
        kind = rng.randrange(10)
        n = len(buf)
        if kind == 0 and n:  # flip a bit
            i = rng.randrange(n)
            buf[i] ^= 1 << rng.randrange(8)
        elif kind == 1 and n:  # interesting byte
            buf[rng.randrange(n)] = rng.choice(INTERESTING)
        elif kind == 2 and n:  # truncate
            del buf[rng.randrange(n) :]
        elif kind == 3:  # insert bytes
            i = rng.randrange(n + 1)
            buf[i:i] = bytes(rng.choice(INTERESTING) for _ in range(rng.randrange(1, 9)))
        elif kind == 4 and n:  # delete a slice
            i = rng.randrange(n)
            del buf[i : i + rng.randrange(1, 9)]
        elif kind == 5 and n >= 4:  # an interesting 32-bit int at an aligned offset
            i = rng.randrange(n // 4) * 4
            buf[i : i + 4] = struct.pack(">I", rng.choice(INTERESTING_INTS) & 0xFFFFFFFF)
        elif kind == 6:  # splice with another packet
            other = rng.choice(CORPUS)
            buf = buf[: rng.randrange(n + 1)] + other[rng.randrange(len(other) + 1) :]
        elif kind == 7 and n:  # random byte anywhere
            buf[rng.randrange(n)] = rng.randrange(256)
        elif kind == 8:  # mutate the type tags region of a message
            j = buf.find(b",")
            if j >= 0:
                buf[j + 1 : j + 1] = bytes(rng.choice(b"ihfdsSbcrmtTFNI[]x") for _ in range(2))
        else:  # random bytes behind a valid start
            start = rng.choice((b"/", b"#bundle\0", b"/a\0\0,"))
            buf = bytearray(start + rng.randbytes(rng.randrange(0, 40)))
    return bytes(buf)


def check(data: bytes) -> None:
    """Parse ``data`` every way; only ParseError may escape, and the parsers must agree.

    No time is asserted (speed is measured in benchmarks/, never in tests): a pathological
    case would show as the test's pytest-timeout.
    """
    try:
        packet = parse_packet(data)
    except ParseError:
        packet = None
    if isinstance(packet, OscMessage):
        careful = parse_careful(data)
        assert (careful[0], careful[1]) == (packet.address, packet.type_tags), data
        assert typed(careful[2]) == typed(packet.params), data
        repr(packet)
    elif isinstance(packet, OscBundle):
        repr(packet)
    with contextlib.suppress(ParseError):
        OscPacket(data)


def run(cases: int, seed: int) -> None:
    rng = random.Random(seed)
    pool = list(CORPUS)
    for case in range(cases):
        if case % 4 == 0:
            data = rng.randbytes(rng.randrange(0, 64))
        else:
            data = mutate(rng, rng.choice(pool))
        try:
            check(data)
        except AssertionError:
            raise
        except BaseException as exc:  # pragma: no cover - the failure report
            raise AssertionError(
                f"case {case} (seed {seed}): {type(exc).__name__}: {exc} on {data!r}"
            ) from exc
        # Keep some packets that still parse: mutating them again reaches deeper states.
        if len(pool) < 2000 and case % 7 == 0 and data[:1] in (b"/", b"#"):
            try:
                parse_packet(data)
            except ParseError:
                continue
            pool.append(data)


def test_corpus_parses() -> None:
    for data in CORPUS:
        check(data)
        assert parse_packet(data).dgram == data


def test_fuzz_quick() -> None:
    run(5000, seed=1234)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=128))
def test_random_bytes(data: bytes) -> None:
    check(data)
    check(b"/a\0\0," + data)
    check(b"#bundle\0" + data)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(CORPUS), st.integers(0, 2**32 - 1))
def test_mutations(data: bytes, seed: int) -> None:
    check(mutate(random.Random(seed), data))


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_fuzz_long() -> None:
    cases = int(os.environ.get("OSC_LIVE_FUZZ_CASES", "1000000"))
    seed = int(os.environ.get("OSC_LIVE_FUZZ_SEED", str(random.randrange(2**32))))
    print(f"fuzzing {cases} cases, OSC_LIVE_FUZZ_SEED={seed}")
    run(cases, seed)
