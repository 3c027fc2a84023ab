"""Stream framers: OSC 1.0 size prefix, OSC 1.1 SLIP, auto detection, errors, limits."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from osc_live import framing
from osc_live.errors import FramingError, ParseError
from osc_live.framing import (
    AutoFramer,
    SizePrefixFramer,
    SlipFramer,
    make_framer,
)

END = b"\xc0"
MSG = b"/a\x00\x00,i\x00\x00\x00\x00\x00\x01"
BUNDLE = b"#bundle\x00" + bytes(8) + len(MSG).to_bytes(4, "big") + MSG


def feed_all(framer: framing.Framer, chunks: list[bytes]) -> list[bytes]:
    out: list[bytes] = []
    for chunk in chunks:
        out += framer.feed(chunk)
    return out


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    pieces, last = [], 0
    for p in [*points, len(data)]:
        pieces.append(data[last:p])
        last = p
    return pieces


# --- basic framing -------------------------------------------------------------------


def test_make_framer_modes() -> None:
    assert isinstance(make_framer("1.0"), SizePrefixFramer)
    assert isinstance(make_framer("1.1"), SlipFramer)
    assert isinstance(make_framer("auto"), AutoFramer)
    assert make_framer("1.0", 10).max_packet_size == 10
    assert framing.DEFAULT_MAX_PACKET_SIZE == 1 << 20
    with pytest.raises(ValueError):
        make_framer("2.0")
    with pytest.raises(ValueError):
        make_framer("1.0", 0)


def test_size_prefix_frame() -> None:
    f = SizePrefixFramer()
    assert f.mode == "1.0"
    assert f.frame(MSG) == len(MSG).to_bytes(4, "big") + MSG
    assert f.feed(f.frame(MSG) + f.frame(BUNDLE)) == [MSG, BUNDLE]


def test_slip_frame_is_double_ended() -> None:
    f = SlipFramer()
    assert f.mode == "1.1"
    assert f.frame(b"a\xc0b\xdb") == b"\xc0a\xdb\xdcb\xdb\xdd\xc0"
    assert f.frame(MSG) == END + MSG + END


def test_slip_reads_with_or_without_leading_end_and_ignores_empty_frames() -> None:
    f = SlipFramer()
    assert f.feed(MSG + END) == [MSG]
    assert f.feed(END + END + END + MSG + END + END + MSG + END) == [MSG, MSG]
    assert f.feed(MSG) == []
    assert f.feed(END) == [MSG]


def test_frame_refuses_too_big() -> None:
    for f in (SizePrefixFramer(8), SlipFramer(8)):
        with pytest.raises(ValueError):
            f.frame(bytes(9))


def test_accepts_bytearray_and_memoryview() -> None:
    for mode in ("1.0", "1.1"):
        f = make_framer(mode)
        wire = f.frame(MSG)
        assert f.feed(bytearray(wire)) == [MSG]
        assert f.feed(memoryview(wire)) == [MSG]


@pytest.mark.parametrize("mode", ["1.0", "1.1", "auto"])
def test_byte_by_byte(mode: str) -> None:
    packets = [MSG, BUNDLE, b"/x\xc0\xdb" + bytes(4), MSG]
    sender = SlipFramer() if mode == "auto" else make_framer(mode)
    wire = b"".join(sender.frame(p) for p in packets)
    f = make_framer(mode)
    assert feed_all(f, [wire[i : i + 1] for i in range(len(wire))]) == packets


# --- auto detection ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "mode"),
    [(END + MSG + END, "1.1"), (MSG + END, "1.1"), (BUNDLE + END, "1.1")],
)
def test_auto_detects_slip(first: bytes, mode: str) -> None:
    f = AutoFramer()
    assert f.mode == "auto"
    assert f.feed(b"") == []
    assert f.mode == "auto"
    assert f.feed(first) == [first.strip(END)]
    assert f.mode == mode
    assert f.frame(MSG) == END + MSG + END


def test_auto_detects_size_prefix() -> None:
    f = AutoFramer()
    wire = SizePrefixFramer().frame(MSG)
    assert f.feed(wire[:1]) == []
    assert f.mode == "1.0"
    assert f.feed(wire[1:]) == [MSG]
    assert f.frame(MSG) == wire
    f.reset()
    assert f.mode == "auto"
    assert f.frame(MSG) == END + MSG + END  # SLIP before detection


# --- errors -----------------------------------------------------------------------------


def test_framing_error_is_parse_error() -> None:
    assert issubclass(FramingError, ParseError)
    assert framing.FramingError is FramingError


def test_slip_bad_escape_resynchronises_and_keeps_good_packets() -> None:
    f = SlipFramer()
    wire = END + MSG + END + END + b"/bad\xdbx" + END + END + BUNDLE + END
    with pytest.raises(FramingError) as info:
        f.feed(wire)
    assert info.value.packets == [MSG, BUNDLE]
    assert not info.value.fatal
    assert "escape" in str(info.value)
    assert f.feed(END + MSG + END) == [MSG]


@pytest.mark.parametrize("bad", [b"/x\xdb", b"\xdb\xdb", b"/x\xdb\xc1"])
def test_slip_bad_escape_variants(bad: bytes) -> None:
    f = SlipFramer()
    with pytest.raises(FramingError) as info:
        f.feed(END + bad + END + MSG + END)
    assert info.value.packets == [MSG]


def test_slip_bad_escape_split_across_chunks() -> None:
    f = SlipFramer()
    assert f.feed(END + b"/x\xdb") == []
    with pytest.raises(FramingError) as info:
        f.feed(b"\x00" + END + MSG + END)
    assert info.value.packets == [MSG]


def test_slip_oversized_is_discarded_not_buffered() -> None:
    f = SlipFramer(max_packet_size=16)
    assert f.feed(END + bytes(10)) == []
    with pytest.raises(FramingError) as info:
        f.feed(bytes(10))
    assert not info.value.fatal
    assert info.value.packets == []
    assert len(f._buf) == 0  # nothing accumulates while discarding
    assert f.feed(bytes(1000)) == []
    assert len(f._buf) == 0
    assert f.feed(END + MSG[:12] + END) == [MSG[:12]]


def test_slip_limit_counts_decoded_bytes() -> None:
    f = SlipFramer(max_packet_size=4)
    wire = f.frame(b"\xc0\xc0\xdb\xdb")  # 8 escaped bytes, 4 decoded
    assert feed_all(f, [wire[i : i + 1] for i in range(len(wire))]) == [b"\xc0\xc0\xdb\xdb"]
    with pytest.raises(FramingError) as info:
        f.feed(END + bytes(5) + END + b"ok" + END)
    assert info.value.packets == [b"ok"]


def test_size_prefix_too_big_is_fatal_after_header_only() -> None:
    f = SizePrefixFramer(max_packet_size=100)
    good = f.frame(MSG)
    with pytest.raises(FramingError) as info:
        f.feed(good + (101).to_bytes(4, "big"))  # no body needed to refuse
    assert info.value.fatal
    assert info.value.packets == [MSG]
    with pytest.raises(FramingError) as again:
        f.feed(good)
    assert again.value.fatal and again.value.packets == []
    f.reset()
    assert f.feed(good) == [MSG]


def test_size_prefix_negative_looking_is_fatal() -> None:
    f = SizePrefixFramer()
    assert f.feed(b"\xff\xff") == []
    with pytest.raises(FramingError) as info:
        f.feed(b"\xff\xf0")
    assert info.value.fatal


def test_size_prefix_zero_is_skipped_non_fatal() -> None:
    f = SizePrefixFramer()
    with pytest.raises(FramingError) as info:
        f.feed(bytes(4) + f.frame(MSG))
    assert not info.value.fatal
    assert info.value.packets == [MSG]
    assert f.feed(f.frame(MSG)) == [MSG]


def test_several_errors_in_one_chunk_are_one_exception() -> None:
    f = SlipFramer()
    with pytest.raises(FramingError) as info:
        f.feed(b"\xdb!" + END + MSG + END + b"\xdb!" + END)
    assert info.value.packets == [MSG]
    assert "1 more" in str(info.value)


# --- linear cost -----------------------------------------------------------------------


@pytest.mark.timeout(20)
@pytest.mark.parametrize("mode", ["1.0", "1.1"])
def test_large_packet_byte_by_byte_is_linear(mode: str) -> None:
    big = b"/big\x00\x00\x00\x00,b\x00\x00" + bytes(200_000)
    f = make_framer(mode)
    wire = f.frame(big)
    out: list[bytes] = []
    feed = f.feed
    for i in range(len(wire)):
        out += feed(wire[i : i + 1])
    assert out == [big]


@pytest.mark.timeout(20)
@pytest.mark.parametrize("mode", ["1.0", "1.1"])
def test_many_packets_in_one_chunk(mode: str) -> None:
    f = make_framer(mode)
    wire = f.frame(MSG) * 50_000
    assert len(f.feed(wire)) == 50_000


# --- properties -----------------------------------------------------------------------

packets_st = st.lists(st.binary(min_size=1, max_size=64), max_size=20)


@settings(max_examples=200, deadline=None)
@given(packets=packets_st, cuts=st.lists(st.integers(min_value=0), max_size=30))
@pytest.mark.parametrize("mode", ["1.0", "1.1"])
def test_any_chunking_gives_same_packets(mode: str, packets: list[bytes], cuts: list[int]) -> None:
    sender = make_framer(mode)
    wire = b"".join(sender.frame(p) for p in packets)
    assert feed_all(make_framer(mode), split(wire, cuts)) == packets


@settings(max_examples=100, deadline=None)
@given(packets=packets_st, cuts=st.lists(st.integers(min_value=0), max_size=30))
def test_slip_single_ended_any_chunking(packets: list[bytes], cuts: list[int]) -> None:
    sender = SlipFramer()
    wire = b"".join(sender.frame(p)[1:] for p in packets)  # no leading END
    assert feed_all(SlipFramer(), split(wire, cuts)) == packets


@settings(max_examples=100, deadline=None)
@given(
    packets=st.lists(st.binary(min_size=1, max_size=64), min_size=1, max_size=10),
    cuts=st.lists(st.integers(min_value=0), max_size=20),
    slip_mode=st.booleans(),
)
def test_auto_any_chunking(packets: list[bytes], cuts: list[int], slip_mode: bool) -> None:
    packets = [b"/" + p for p in packets]
    sender = make_framer("1.1" if slip_mode else "1.0")
    wire = b"".join(sender.frame(p) for p in packets)
    f = AutoFramer()
    assert feed_all(f, split(wire, cuts)) == packets
    assert f.mode == sender.mode


def test_slip_oversized_completion_of_buffered_frame() -> None:
    f = SlipFramer(max_packet_size=8)
    assert f.feed(END + bytes(6)) == []
    with pytest.raises(FramingError) as info:
        f.feed(bytes(3) + END + b"ok" + END)
    assert info.value.packets == [b"ok"]
    assert not info.value.fatal
    assert f.feed(b"\xdb\xdc" * 4 + b"\xdb\xdd" * 4) == []  # 16 raw bytes, 8 decoded
    assert f.feed(END) == [b"\xc0" * 4 + b"\xdb" * 4]
