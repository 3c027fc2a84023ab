"""OscBundle, OscBundleBuilder and OscPacket: nesting, element checks, time ordering."""

from __future__ import annotations

import datetime
import pickle
import struct
import time

import pytest

from osc_live.errors import BuildError, ParseError
from osc_live.osc_bundle import MAX_BUNDLE_DEPTH, OscBundle
from osc_live.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from osc_live.osc_message import OscMessage
from osc_live.osc_packet import OscPacket, TimedMessage, parse_packet
from osc_live.parsing import ntp
from osc_live.parsing.osc_types import TimeTag

M1 = OscMessage.from_parts("/one", [1])
M2 = OscMessage.from_parts("/two", [2.5, "x"])


def element(content: bytes) -> bytes:
    return struct.pack(">i", len(content)) + content


def bundle_bytes(timetag: int, *contents: bytes) -> bytes:
    return b"#bundle\0" + struct.pack(">Q", timetag) + b"".join(element(c) for c in contents)


def test_builder_immediately() -> None:
    assert IMMEDIATELY == 0
    builder = OscBundleBuilder(IMMEDIATELY)
    builder.add_content(M1)
    builder.add_content(M2)
    bundle = builder.build()
    assert bundle.dgram == bundle_bytes(1, M1.dgram, M2.dgram)
    assert bundle.timestamp == 0 and bundle.timetag == 1
    assert bundle.num_contents == 2
    assert bundle.content(0) == M1 and bundle.content(1) == M2
    assert list(bundle) == [M1, M2]
    assert bundle.size == len(bundle.dgram)
    assert OscBundle(bundle.dgram) == bundle
    assert hash(OscBundle(bundle.dgram)) == hash(bundle)
    assert repr(bundle) == (
        "OscBundle(timestamp=IMMEDIATELY, contents=[OscMessage('/one', [1]), "
        "OscMessage('/two', [2.5, 'x'])])"
    )
    assert pickle.loads(pickle.dumps(bundle)) == bundle


def test_builder_timestamps() -> None:
    bundle = OscBundleBuilder(1700000000.25).build()
    assert bundle.timestamp == 1700000000.25
    assert bundle.timetag == ntp.unix_to_ntp(1700000000.25)
    when = datetime.datetime(2024, 1, 2, 3, 4, 5, 250000)
    assert OscBundleBuilder(when).build().timetag == ntp.datetime_to_ntp(when)  # type: ignore[arg-type]
    tag = TimeTag.from_ntp(12345 << 32)
    assert OscBundleBuilder(tag).build().timetag == 12345 << 32  # type: ignore[arg-type]
    with pytest.raises(BuildError):
        OscBundleBuilder(-1e10).build()
    with pytest.raises(BuildError):
        OscBundleBuilder("soon").build()  # type: ignore[arg-type]
    builder = OscBundleBuilder(IMMEDIATELY)
    builder.add_content("not a message")  # type: ignore[arg-type]
    with pytest.raises(BuildError):
        builder.build()


def test_nested_bundles_and_from_contents() -> None:
    inner = OscBundle.from_contents(ntp.unix_to_ntp(2000000000.0), [M2])
    outer = OscBundle.from_contents(1, [M1, inner, M1])
    parsed = OscBundle(outer.dgram)
    assert parsed == outer
    assert isinstance(parsed.content(1), OscBundle)
    assert parsed.content(1).timestamp == 2000000000.0
    assert parsed.content(1).content(0).params == [2.5, "x"]
    with pytest.raises(BuildError):
        OscBundle.from_contents(-1, [])
    with pytest.raises(BuildError):
        OscBundle.from_contents(1 << 64, [])


def test_empty_bundle() -> None:
    bundle = OscBundle(bundle_bytes(1))
    assert bundle.num_contents == 0 and list(bundle) == []


def test_bundle_depth_limit() -> None:
    data = M1.dgram
    for _ in range(MAX_BUNDLE_DEPTH):
        data = bundle_bytes(1, data)
    assert parse_packet(data).num_contents == 1  # type: ignore[union-attr]
    with pytest.raises(ParseError, match="deeper"):
        OscBundle(bundle_bytes(1, data))
    built = OscBundle.from_contents(1, [M1])
    for _ in range(MAX_BUNDLE_DEPTH - 1):
        built = OscBundle.from_contents(1, [built])
    with pytest.raises(BuildError):
        OscBundle.from_contents(1, [built])


BAD_BUNDLES: list[tuple[bytes, str, int]] = [
    (b"#bundle\0", "too short for the bundle timetag", 8),
    (b"#bundle\0" + b"\0" * 7, "too short", 8),
    (b"#bundlx\0" + b"\0" * 8, "starts with", 0),
    (bundle_bytes(1) + b"\0\0", "cut short", 16),
    (bundle_bytes(1) + b"\0\0\0\0", "bad bundle element size 0", 16),
    (bundle_bytes(1) + b"\xff\xff\xff\xfc" + M1.dgram, "bad bundle element size -4", 16),
    (bundle_bytes(1) + b"\0\0\0\x06/a\0\0\0\0", "bad bundle element size 6", 16),
    (bundle_bytes(1) + b"\0\0\0\x10" + M1.dgram[:8], "bad bundle element size 16", 16),
    (bundle_bytes(1, b"xyz\0"), "neither a message", 20),
    (bundle_bytes(1, b"/a\0\0,x\0\0"), "unknown OSC type tag 'x' at byte 5", 25),
    (bundle_bytes(1, bundle_bytes(1, b"/a\0\0,i\0\0")), "int32 at byte 8", 48),
]


@pytest.mark.parametrize(("dgram", "text", "offset"), BAD_BUNDLES)
def test_bad_bundles(dgram: bytes, text: str, offset: int) -> None:
    with pytest.raises(ParseError, match=text) as info:
        OscBundle(dgram)
    assert info.value.offset == offset
    with pytest.raises(ParseError):
        OscPacket(dgram)


def test_parse_packet() -> None:
    assert parse_packet(M1.dgram) == M1
    assert isinstance(parse_packet(bundle_bytes(1, M1.dgram)), OscBundle)
    for bad in (b"", b"x", b"\0\0\0\0", b"#bundl"):
        with pytest.raises(ParseError):
            parse_packet(bad)


def test_packet_flattens_and_sorts_by_time() -> None:
    now = time.time()
    late = ntp.unix_to_ntp(now + 1000)
    early = ntp.unix_to_ntp(now + 500)
    past = ntp.unix_to_ntp(now - 500)
    m3 = OscMessage.from_parts("/three", [])
    dgram = bundle_bytes(
        late,
        M1.dgram,
        bundle_bytes(early, M2.dgram, bundle_bytes(1, m3.dgram)),
        bundle_bytes(past, m3.dgram),
    )
    messages = OscPacket(dgram).messages
    assert [m.message.address for m in messages] == ["/three", "/three", "/two", "/one"]
    assert all(isinstance(m, TimedMessage) for m in messages)
    assert messages[0].time == messages[1].time <= time.time()
    assert messages[0].time >= now
    assert messages[2].time == pytest.approx(now + 500, abs=1e-6)
    assert messages[3].time == pytest.approx(now + 1000, abs=1e-6)
    single = OscPacket(M1.dgram).messages
    assert len(single) == 1 and single[0].message == M1
