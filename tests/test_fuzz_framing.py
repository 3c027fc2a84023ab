"""Fuzz the framers: random bytes and mutated valid streams raise only FramingError.

The quick tests run a few thousand cases; the ``slow`` test runs 1,000,000 by default,
``OSC_LIVE_FUZZ_CASES`` shortens (or lengthens) it.
"""

from __future__ import annotations

import contextlib
import os
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from osc_live.errors import FramingError
from osc_live.framing import make_framer

MODES = ("1.0", "1.1", "auto")
SEEDS = [
    b"/a\x00\x00,i\x00\x00\x00\x00\x00\x01",
    b"#bundle\x00" + bytes(8) + b"\x00\x00\x00\x0c/a\x00\x00,i\x00\x00\x00\x00\x00\x01",
    b"/x\xc0\xdb\x00,\x00\x00\x00",
]
SPECIAL = (0x00, 0xC0, 0xDB, 0xDC, 0xDD, 0x2F, 0x23, 0xFF)


def _mutate(rng: random.Random, data: bytearray) -> None:
    """Apply one random mutation in place."""
    op = rng.randrange(5)
    if op == 0 and data:
        data[rng.randrange(len(data))] = rng.randrange(256)
    elif op == 1:
        data.insert(rng.randrange(len(data) + 1), rng.choice(SPECIAL))
    elif op == 2 and data:
        del data[rng.randrange(len(data))]
    elif op == 3 and data:
        i = rng.randrange(len(data))
        data[i : i + 4] = rng.randrange(1 << 32).to_bytes(4, "big")
    else:
        i = rng.randrange(len(data) + 1)
        data[i:i] = rng.randbytes(rng.randrange(8))


def _one_case(rng: random.Random, max_size: int) -> None:
    """Frame a random stream, mutate it, feed it in random chunks to a random framer."""
    mode = rng.choice(MODES)
    sender = make_framer(
        "1.1" if mode == "auto" and rng.random() < 0.5 else mode.replace("auto", "1.0")
    )
    if rng.random() < 0.2:
        wire = bytearray(rng.randbytes(rng.randrange(64)))
    else:
        wire = bytearray(
            b"".join(sender.frame(rng.choice(SEEDS)) for _ in range(rng.randrange(1, 4)))
        )
        for _ in range(rng.randrange(4)):
            _mutate(rng, wire)
    framer = make_framer(mode, max_size)
    pos = 0
    total = 0
    while pos < len(wire):
        step = rng.randrange(1, 16)
        try:
            got = framer.feed(bytes(wire[pos : pos + step]))
        except FramingError as err:
            got = err.packets
            assert isinstance(err.fatal, bool)
        for p in got:
            assert isinstance(p, bytes) and 0 < len(p) <= max_size
        total += len(got)
        pos += step
    assert total <= len(wire)


def run_cases(n: int, seed: int) -> None:
    """Run ``n`` fuzz cases from ``seed``."""
    rng = random.Random(seed)
    for _ in range(n):
        _one_case(rng, rng.choice((16, 40, 1 << 20)))


@pytest.mark.timeout(60)
def test_fuzz_quick() -> None:
    run_cases(3000, seed=1)


@settings(max_examples=300, deadline=None)
@given(data=st.binary(max_size=200), mode=st.sampled_from(MODES), step=st.integers(1, 50))
def test_random_bytes_raise_only_framing_error(data: bytes, mode: str, step: int) -> None:
    framer = make_framer(mode, 64)
    for i in range(0, len(data), step):
        with contextlib.suppress(FramingError):
            framer.feed(data[i : i + step])


@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_fuzz_long() -> None:
    run_cases(int(os.environ.get("OSC_LIVE_FUZZ_CASES", "1000000")), seed=2)
