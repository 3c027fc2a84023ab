"""osc_live.slip against python-osc's slip module (the oracle) and by properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pythonosc import slip as ref

from osc_live import slip

SAMPLES = [
    b"",
    b"abc",
    b"\xc0",
    b"\xdb",
    b"\xc0\xdb\xdc\xdd",
    b"\xdb\xdc",
    b"\xdb\xdd",
    bytes(range(256)),
]

PACKETS = [
    b"",
    b"\xc0",
    b"\xc0\xc0",
    b"abc",
    b"\xc0abc\xc0",
    b"\xc0\xc0abc\xc0\xc0",
    b"a\xc0b",
    b"\xdb",
    b"\xdb\xc0",
    b"\xdb\xdb",
    b"\xdb\xdc",
    b"\xdb\xdd",
    b"\xdb\xdcx\xdb\xdd",
    b"\xdb\xdd\xdc",
    b"\xdb\xdc\xdb",
    b"x\xdbx",
]


def test_constants_match_python_osc() -> None:
    assert (slip.END, slip.ESC, slip.ESC_END, slip.ESC_ESC, slip.END_END) == (
        ref.END,
        ref.ESC,
        ref.ESC_END,
        ref.ESC_ESC,
        ref.END_END,
    )


@pytest.mark.parametrize("msg", SAMPLES)
def test_encode_like_python_osc(msg: bytes) -> None:
    assert slip.encode(msg) == ref.encode(msg)
    assert slip.encode(msg).startswith(slip.END) and slip.encode(msg).endswith(slip.END)


@pytest.mark.parametrize("packet", PACKETS)
def test_is_valid_and_decode_like_python_osc(packet: bytes) -> None:
    assert slip.is_valid(packet) == ref.is_valid(packet)
    if ref.is_valid(packet):
        assert slip.decode(packet) == ref.decode(packet)
    else:
        with pytest.raises(slip.ProtocolError) as info:
            slip.decode(packet)
        assert info.value.args == (packet,)
        assert isinstance(info.value, ValueError)


def test_encode_accepts_bytearray_and_none_like_empty() -> None:
    assert slip.encode(bytearray(b"\xc0")) == b"\xc0\xdb\xdc\xc0"
    assert slip.encode(None) == slip.END_END  # type: ignore[arg-type]


@given(st.binary(max_size=300))
def test_round_trip(msg: bytes) -> None:
    encoded = slip.encode(msg)
    assert slip.END not in encoded[1:-1]
    assert slip.is_valid(encoded)
    assert slip.decode(encoded) == msg
    assert encoded == ref.encode(msg)


@given(st.binary(max_size=60))
def test_random_packets_agree_with_python_osc(packet: bytes) -> None:
    assert slip.is_valid(packet) == ref.is_valid(packet)
    if ref.is_valid(packet):
        assert slip.decode(packet) == ref.decode(packet)
