"""Stream framers: OSC 1.0 size prefix, OSC 1.1 SLIP, auto detection, errors, limits."""

from __future__ import annotations

import contextlib

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


def test_slip_send_writes_the_first_frame_of_a_stream_without_its_leading_end() -> None:
    f = SlipFramer()
    assert f.send(MSG) == MSG + END  # liblo misreads a stream starting with END #bundle
    assert f.send(b"a\xc0b\xdb") == b"\xc0a\xdb\xdcb\xdb\xdd\xc0"
    assert f.frame(MSG) == END + MSG + END  # frame() does not depend on the stream
    f.reset()  # a new connection: a new stream
    assert f.send(MSG) == MSG + END
    size = SizePrefixFramer()
    assert size.send(MSG) == size.frame(MSG)


def test_auto_framer_first_frame_rule_survives_detection() -> None:
    f = AutoFramer()
    assert f.send(MSG) == MSG + END
    f.feed(END + MSG + END)
    assert f.send(MSG) == END + MSG + END  # the stream's first frame went already
    f.reset()
    assert f.send(MSG) == MSG + END


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
    wire = b"".join(SlipFramer().send(p) for p in packets)  # no leading END (new streams)
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


# --- buffered / discarding --------------------------------------------------------------


def test_buffered_size_prefix_counts_header_and_body_and_clears() -> None:
    f = SizePrefixFramer()
    wire = f.frame(MSG)
    assert f.buffered == 0 and not f.discarding
    assert f.feed(wire[:2]) == []
    assert f.buffered == 2  # half a size prefix
    assert f.feed(wire[2:9]) == []
    assert f.buffered == 9
    assert f.feed(wire[9:] + wire[:5]) == [MSG]
    assert f.buffered == 5
    f.reset()
    assert f.buffered == 0


def test_buffered_size_prefix_after_errors() -> None:
    f = SizePrefixFramer(max_packet_size=100)
    wire = f.frame(MSG)
    with pytest.raises(FramingError) as info:
        f.feed(bytes(4) + wire + wire[:7])  # empty packet skipped, then a partial one
    assert not info.value.fatal
    assert f.buffered == 7
    with pytest.raises(FramingError) as fatal:
        f.feed(wire[7:] + (101).to_bytes(4, "big") + b"xy")
    assert fatal.value.fatal and fatal.value.packets == [MSG]
    assert f.buffered == 0  # nothing is kept of an unusable stream


def test_buffered_slip_and_discarding() -> None:
    f = SlipFramer(max_packet_size=16)
    assert f.feed(END + b"/a\xdb") == []
    assert f.buffered == 3 and not f.discarding  # escaped bytes held, leading END not
    assert f.feed(b"\xdc" + END) == [b"/a\xc0"]
    assert f.buffered == 0
    assert f.feed(END) == [] and f.buffered == 0  # an END alone holds nothing
    with pytest.raises(FramingError):
        f.feed(bytes(20))  # beyond the limit: skipped, not held
    assert f.buffered == 0 and f.discarding
    assert f.feed(bytes(5)) == [] and f.discarding
    assert f.feed(END + b"/b") == []
    assert not f.discarding and f.buffered == 2
    f.reset()
    assert f.buffered == 0 and not f.discarding


def test_buffered_auto_follows_detected_framer() -> None:
    f = AutoFramer()
    assert f.buffered == 0 and not f.discarding
    assert f.feed(b"") == [] and f.buffered == 0
    wire = SizePrefixFramer().frame(MSG)
    assert f.feed(wire[:6]) == []
    assert f.buffered == 6
    assert f.feed(wire[6:]) == [MSG]
    assert f.buffered == 0
    slip = AutoFramer(max_packet_size=4)
    with pytest.raises(FramingError):
        slip.feed(END + bytes(10))
    assert slip.discarding and slip.buffered == 0


@settings(max_examples=100, deadline=None)
@given(packets=packets_st, cuts=st.lists(st.integers(min_value=0), max_size=30))
@pytest.mark.parametrize("mode", ["1.0", "1.1", "auto"])
def test_buffered_is_the_unfinished_tail(mode: str, packets: list[bytes], cuts: list[int]) -> None:
    packets = [b"/" + p for p in packets]
    wire = b"".join(make_framer("1.1" if mode == "auto" else mode).frame(p) for p in packets)
    f = make_framer(mode)
    fed = b""
    for chunk in split(wire, cuts):
        f.feed(chunk)
        fed += chunk
        if f.mode == "1.0":
            done, n = 0, 0  # bytes of the complete frames fed so far
            while n < len(packets) and done + 4 + len(packets[n]) <= len(fed):
                done += 4 + len(packets[n])
                n += 1
            assert f.buffered == len(fed) - done
        else:
            assert f.buffered == len(fed) - (fed.rfind(END) + 1)
        assert not f.discarding
    assert f.buffered == 0


# --- escape bytes count towards the limit (issue 9 item 1) -------------------------------


def test_slip_run_of_escape_bytes_is_not_buffered() -> None:
    f = SlipFramer(8)
    with pytest.raises(FramingError) as info:
        f.feed(b"\xc0" + b"\xdb" * 100)
    assert not info.value.fatal and "escape" in str(info.value)
    assert f.buffered == 0 and f.discarding
    assert f.feed(bytes(10_000)) == [] and f.buffered == 0  # skipped up to the next END
    assert f.feed(END + b"/ok" + END) == [b"/ok"]


@pytest.mark.parametrize("step", [1, 2, 3, 7, 64])
def test_slip_escape_run_in_any_chunking_holds_at_most_twice_the_limit(step: int) -> None:
    limit = 16
    f = SlipFramer(limit)
    wire = END + b"\xdb" * 5000
    errors = 0
    for i in range(0, len(wire), step):
        try:
            f.feed(wire[i : i + step])
        except FramingError:
            errors += 1
        assert f.buffered <= 2 * limit + 1
    assert errors == 1


@given(st.binary(max_size=300), st.integers(1, 40), st.integers(1, 17))
def test_slip_holds_at_most_twice_the_limit_plus_one(data: bytes, limit: int, step: int) -> None:
    f = SlipFramer(limit)
    for i in range(0, len(data), step):
        with contextlib.suppress(FramingError):
            f.feed(data[i : i + step])
        assert f.buffered <= 2 * limit + 1


def test_slip_valid_escapes_up_to_the_limit_still_pass_in_pieces() -> None:
    f = SlipFramer(8)
    packet = b"\xc0\xdb" * 4  # 8 decoded, 16 on the wire
    wire = SlipFramer(8).frame(packet)
    assert feed_all(f, [wire[i : i + 3] for i in range(0, len(wire), 3)]) == [packet]
