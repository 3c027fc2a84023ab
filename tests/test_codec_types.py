"""Golden bytes for every OSC type tag, both directions, cross-checked against python-osc."""

from __future__ import annotations

import datetime
import math
import struct
from typing import Any

import pytest
from pythonosc import osc_message as p_message
from pythonosc import osc_message_builder as p_builder

from osc_live import errors
from osc_live.osc_message import OscMessage, encode_message
from osc_live.osc_message_builder import OscMessageBuilder
from osc_live.parsing import osc_types
from osc_live.parsing.osc_types import (
    INFINITUM,
    RGBA,
    Char,
    Double,
    Infinitum,
    Int64,
    MidiPacket,
    Symbol,
    TimeTag,
)

A = b"/a\0\0"


def tags(t: str) -> bytes:
    raw = ("," + t).encode()
    return raw + b"\0" * (4 - len(raw) % 4)


# (tag, value, argument bytes, value after parsing)
GOLDEN: list[tuple[str, Any, bytes, Any]] = [
    ("i", 0, b"\0\0\0\0", 0),
    ("i", 1, b"\0\0\0\x01", 1),
    ("i", -1, b"\xff\xff\xff\xff", -1),
    ("i", 2**31 - 1, b"\x7f\xff\xff\xff", 2**31 - 1),
    ("i", -(2**31), b"\x80\0\0\0", -(2**31)),
    ("h", 2**40, b"\0\0\x01\0\0\0\0\0", Int64(2**40)),
    ("h", -(2**63), b"\x80" + b"\0" * 7, Int64(-(2**63))),
    ("h", 1, b"\0" * 7 + b"\x01", Int64(1)),
    ("h", Int64(2), b"\0" * 7 + b"\x02", Int64(2)),
    ("f", 0.5, b"\x3f\0\0\0", 0.5),
    ("f", -2.0, b"\xc0\0\0\0", -2.0),
    ("f", 0.1, b"\x3d\xcc\xcc\xcd", struct.unpack(">f", b"\x3d\xcc\xcc\xcd")[0]),
    ("f", math.inf, b"\x7f\x80\0\0", math.inf),
    ("d", 0.1, struct.pack(">d", 0.1), Double(0.1)),
    ("d", -1e300, struct.pack(">d", -1e300), Double(-1e300)),
    ("d", Double(2), struct.pack(">d", 2.0), Double(2)),
    ("d", 3, struct.pack(">d", 3.0), Double(3)),
    ("s", "", b"\0\0\0\0", ""),
    ("s", "abc", b"abc\0", "abc"),
    ("s", "abcd", b"abcd\0\0\0\0", "abcd"),
    ("s", "é", b"\xc3\xa9\0\0", "é"),
    ("S", Symbol("sym"), b"sym\0", Symbol("sym")),
    ("S", "plain", b"plain\0\0\0", Symbol("plain")),
    ("b", b"", b"\0\0\0\0", b""),
    ("b", b"\x01", b"\0\0\0\x01\x01\0\0\0", b"\x01"),
    ("b", b"\x01\x02\x03\x04", b"\0\0\0\x04\x01\x02\x03\x04", b"\x01\x02\x03\x04"),
    ("b", bytearray(b"xy"), b"\0\0\0\x02xy\0\0", b"xy"),
    ("c", Char("x"), b"\0\0\0x", Char("x")),
    ("c", "é", b"\0\0\0\xe9", Char("é")),
    ("r", RGBA(0x11223344), b"\x11\x22\x33\x44", RGBA(0x11223344)),
    ("r", 0xFFFFFFFF, b"\xff\xff\xff\xff", RGBA(0xFFFFFFFF)),
    ("m", MidiPacket(0, 0x90, 60, 100), b"\0\x90\x3c\x64", MidiPacket(0, 0x90, 60, 100)),
    ("m", (1, 2, 3, 4), b"\x01\x02\x03\x04", (1, 2, 3, 4)),
    ("t", TimeTag.from_ntp(1), b"\0" * 7 + b"\x01", TimeTag.from_ntp(1)),
    ("t", TimeTag.from_ntp(2**63 + 5), struct.pack(">Q", 2**63 + 5), TimeTag.from_ntp(2**63 + 5)),
    ("t", 0, b"\0" * 7 + b"\x01", TimeTag.from_ntp(1)),
    ("T", True, b"", True),
    ("F", False, b"", False),
    ("N", None, b"", None),
    ("I", INFINITUM, b"", INFINITUM),
]


@pytest.mark.parametrize(("tag", "value", "data", "parsed"), GOLDEN)
def test_golden_explicit_tag(tag: str, value: Any, data: bytes, parsed: Any) -> None:
    expected = A + tags(tag) + data
    assert encode_message("/a", [value], tag) == expected
    builder = OscMessageBuilder("/a")
    builder.add_arg(value, tag)
    built = builder.build()
    assert built.dgram == expected
    assert built.params == [parsed]
    msg = OscMessage(expected)
    assert msg.params == [parsed]
    assert type(msg.params[0]) is type(parsed) or isinstance(parsed, tuple)
    assert msg.type_tags == tag
    assert OscMessage.from_parts("/a", [value], tag) == msg


@pytest.mark.parametrize(("tag", "value", "data", "parsed"), GOLDEN)
def test_parsed_value_round_trips_with_same_tag(
    tag: str, value: Any, data: bytes, parsed: Any
) -> None:
    """The parsed value, sent again with inferred types, gives the same bytes."""
    msg = OscMessage(A + tags(tag) + data)
    assert encode_message("/a", msg.params) == msg.dgram


INFERRED: list[tuple[Any, str]] = [
    (0, "i"),
    (2**31 - 1, "i"),
    (2**31, "h"),
    (-(2**31) - 1, "h"),
    (1.5, "f"),
    ("s", "s"),
    (b"b", "b"),
    (bytearray(b"b"), "b"),
    (True, "T"),
    (False, "F"),
    (None, "N"),
    (Symbol("x"), "S"),
    (Char("x"), "c"),
    (RGBA(1), "r"),
    (Int64(1), "h"),
    (Double(0.5), "d"),
    (MidiPacket(1, 2, 3, 4), "m"),
    ((1, 2, 3, 4), "m"),
    (TimeTag.from_ntp(1), "t"),
    (INFINITUM, "I"),
    ([1, "x"], "[is]"),
    ((1.0, 2.0), "[ff]"),
    ([], "[]"),
    ([[1], [[True]]], "[[i][[T]]]"),
]


@pytest.mark.parametrize(("value", "tag"), INFERRED)
def test_type_inference(value: Any, tag: str) -> None:
    msg = OscMessage(encode_message("/a", [value]))
    assert msg.type_tags == tag
    assert OscMessage.from_parts("/a", [value]).type_tags == tag
    builder = OscMessageBuilder("/a")
    builder.add_arg(value)
    assert builder.build().type_tags == tag


@pytest.mark.parametrize(
    ("tag", "value"),
    [
        (t, v)
        for t, v, _, _ in GOLDEN
        if t in "ihfdsbTFNrm"
        and type(v) in (int, float, str, bytes)
        and (t, v) != ("d", 3)
        and v != b""
    ],
)
def test_same_bytes_as_python_osc(tag: str, value: Any) -> None:
    pb = p_builder.OscMessageBuilder("/a")
    pb.add_arg(value, tag)
    expected = pb.build().dgram
    assert encode_message("/a", [value], tag) == expected
    mine = OscMessage(expected).params
    theirs = p_message.OscMessage(expected).params
    assert mine == theirs


def test_inferred_bytes_match_python_osc() -> None:
    values = [60, 127, 0.5, "saw", 2**40, True, False, None, b"\x01\x02", [1, [2.5, "x"]]]
    expected = p_builder.build_msg("/synth/note", values).dgram
    assert encode_message("/synth/note", values) == expected
    assert OscMessage(expected).params == p_message.OscMessage(expected).params


def test_numpy_scalars_and_arrays() -> None:
    np = pytest.importorskip("numpy")
    values = [np.int32(3), np.int64(2**40), np.float32(0.5), np.float64(0.25), np.bool_(True)]
    msg = OscMessage.from_parts("/n", values)
    assert msg.type_tags == "ihffT"
    assert msg.params == [3, 2**40, 0.5, 0.25, True]
    assert OscMessage(msg.dgram) == msg
    assert encode_message("/n", [np.arange(3)]) == encode_message("/n", [[0, 1, 2]])
    assert encode_message("/n", [np.float64(1.5)], "d") == encode_message("/n", [1.5], "d")
    assert encode_message("/n", [np.int16(7)], "i") == encode_message("/n", [7], "i")


@pytest.mark.parametrize(
    ("tag", "value"),
    [
        ("i", 2**31),
        ("i", 1.5),
        ("i", "x"),
        ("h", 2**63),
        ("f", "x"),
        ("f", 1e300),
        ("d", "x"),
        ("s", b"bytes"),
        ("s", "nul\0inside"),
        ("s", "\ud800"),
        ("S", 3),
        ("b", "text"),
        ("c", "ab"),
        ("c", ""),
        ("r", -1),
        ("r", 2**32),
        ("m", (1, 2, 3)),
        ("m", (1, 2, 3, 256)),
        ("t", "now"),
        ("t", -1e12),
        ("t", datetime.datetime(2105, 1, 1)),  # beyond NTP era 1 (2104-02-26)
        ("[", 5),
    ],
)
def test_bad_values_raise_build_error(tag: str, value: Any) -> None:
    with pytest.raises(errors.BuildError):
        encode_message("/a", [value], tag)
    with pytest.raises(errors.BuildError):
        OscMessage.from_parts("/a", [value], tag)


def test_bad_inferred_values() -> None:
    with pytest.raises(errors.BuildError):
        encode_message("/a", [object()])
    with pytest.raises(errors.BuildError):
        encode_message("/a", [{1: 2}])
    nested: list[Any] = []
    nested.append(nested)
    with pytest.raises(errors.BuildError):
        encode_message("/a", [nested])
    with pytest.raises(errors.BuildError):
        encode_message("/a\0b", [])
    with pytest.raises(errors.BuildError):
        encode_message("/a", [1, 2], "i")
    with pytest.raises(errors.BuildError):
        encode_message("/a", [1], "ii")
    with pytest.raises(errors.BuildError):
        encode_message("/a", [1], "x")


def test_explicit_array_tags() -> None:
    data = encode_message("/a", [1, [2.0, "x", [True]], 3], "i[fs[T]]h")
    msg = OscMessage(data)
    assert msg.type_tags == "i[fs[T]]h"
    assert msg.params == [1, [2.0, "x", [True]], 3]
    assert encode_message("/a", [1], ",i") == encode_message("/a", [1], "i")
    with pytest.raises(errors.BuildError):
        encode_message("/a", [[1, 2]], "[i]")
    with pytest.raises(errors.BuildError):
        encode_message("/a", [[1]], "[ii]")


def test_marker_types() -> None:
    assert Symbol("x") == "x" and repr(Symbol("x")) == "Symbol('x')"
    assert Char("x") == "x" and repr(Char("x")) == "Char('x')"
    with pytest.raises(errors.BuildError):
        Char("xy")
    assert RGBA(0x01020304).components == (1, 2, 3, 4)
    assert RGBA.from_components(1, 2, 3, 4) == 0x01020304
    assert repr(RGBA(0xFF)) == "RGBA(0x000000ff)"
    assert Infinitum() is INFINITUM and repr(INFINITUM) == "INFINITUM"
    assert MidiPacket(1, 2, 3, 4) == (1, 2, 3, 4)
    tt = TimeTag.from_unix(1700000000.5)
    assert tt.unix == 1700000000.5
    assert tt.utc == datetime.datetime(2023, 11, 14, 22, 13, 20)
    assert tt.fraction == 1 << 31
    assert TimeTag.from_ntp(1).immediately
    assert TimeTag.from_datetime(datetime.datetime(2023, 11, 14, 22, 13, 20)).ntp == tt.ntp - (
        1 << 31
    )
    import pickle

    assert pickle.loads(pickle.dumps(INFINITUM)) is INFINITUM


def test_primitives_python_osc_shapes() -> None:
    assert osc_types.write_string("abc") == b"abc\0"
    assert osc_types.get_string(b"abc\0xyz\0", 4) == ("xyz", 8)
    assert osc_types.write_int(5) == b"\0\0\0\x05"
    assert osc_types.get_int(b"\0\0\0\x05", 0) == (5, 4)
    assert osc_types.get_int64(osc_types.write_int64(-5), 0) == (-5, 8)
    assert repr(osc_types.get_int64(osc_types.write_int64(-5), 0)[0]) == "-5"
    assert repr(osc_types.get_double(osc_types.write_double(0.5), 0)[0]) == "0.5"
    assert osc_types.get_uint64(osc_types.write_uint64(2**64 - 1), 0) == (2**64 - 1, 8)
    assert osc_types.get_float(osc_types.write_float(0.5), 0) == (0.5, 4)
    assert osc_types.get_double(osc_types.write_double(0.1), 0) == (0.1, 8)
    assert osc_types.get_blob(osc_types.write_blob(b"ab"), 0) == (b"ab", 8)
    assert osc_types.write_blob(b"") == b"\0\0\0\0"
    assert osc_types.get_rgba(osc_types.write_rgba(7), 0) == (7, 4)
    assert osc_types.get_midi(osc_types.write_midi((1, 2, 3, 4)), 0) == ((1, 2, 3, 4), 4)
    assert osc_types.get_char(osc_types.write_char("z"), 0) == ("z", 4)
    assert osc_types.get_symbol(osc_types.write_symbol("q"), 0) == ("q", 4)
    assert osc_types.write_date(osc_types.IMMEDIATELY) == b"\0" * 7 + b"\x01"
    assert osc_types.get_date(b"\0" * 7 + b"\x01", 0) == (0, 8)
    assert osc_types.get_date(osc_types.write_date(1700000000.25), 0) == (1700000000.25, 8)
    (utc, fraction), index = osc_types.get_timetag(osc_types.write_timetag(1700000000.5), 0)
    assert (utc, fraction, index) == (datetime.datetime(2023, 11, 14, 22, 13, 20), 1 << 31, 8)
    # python-osc's Reaktor allowance: a float cut short at the end is zero-padded.
    assert osc_types.get_float(b"\x3f\x80", 0) == (1.0, 4)


@pytest.mark.parametrize(
    ("func", "data", "index"),
    [
        (osc_types.get_string, b"abc", 0),
        (osc_types.get_string, b"abcd\0", 0),
        (osc_types.get_string, b"\xff\0\0\0", 0),
        (osc_types.get_string, b"abc\0", -1),
        (osc_types.get_int, b"\0\0\0", 0),
        (osc_types.get_int, b"\0\0\0\0", 2),
        (osc_types.get_int64, b"\0" * 7, 0),
        (osc_types.get_double, b"\0" * 7, 0),
        (osc_types.get_float, b"\0" * 4, 5),
        (osc_types.get_blob, b"\0\0\0\x05abcd", 0),
        (osc_types.get_blob, b"\xff\xff\xff\xff", 0),
        (osc_types.get_char, b"\xff\xff\xff\xff", 0),
        (osc_types.get_timetag, b"\0" * 7, 0),
        (osc_types.get_date, b"\0" * 7, 0),
        (osc_types.get_midi, b"\0", 0),
        (osc_types.get_rgba, b"", 0),
    ],
)
def test_primitive_parse_errors(func: Any, data: bytes, index: int) -> None:
    with pytest.raises(osc_types.ParseError):
        func(data, index)


def test_error_classes_are_shared() -> None:
    from osc_live import (
        osc_bundle,
        osc_bundle_builder,
        osc_message,
        osc_message_builder,
        osc_packet,
    )

    assert (
        osc_message.ParseError
        is osc_bundle.ParseError
        is osc_packet.ParseError
        is osc_types.ParseError
        is errors.ParseError
    )
    assert (
        osc_message_builder.BuildError
        is osc_bundle_builder.BuildError
        is osc_types.BuildError
        is errors.BuildError
    )
    assert issubclass(errors.ParseError, ValueError) and issubclass(
        errors.ParseError, errors.OscError
    )
    assert issubclass(errors.BuildError, ValueError) and issubclass(
        errors.BuildError, errors.OscError
    )
    err = errors.FramingError("bad", packets=[b"x"], fatal=True)
    assert isinstance(err, errors.ParseError) and err.packets == [b"x"] and err.fatal
    assert errors.FramingError("x").packets == [] and not errors.FramingError("x").fatal


def test_marker_types_pickle_and_copy() -> None:
    import copy
    import pickle

    values = [
        Int64(5),
        Double(0.5),
        Symbol("s"),
        Char("c"),
        RGBA(7),
        MidiPacket(1, 2, 3, 4),
        TimeTag.from_ntp(5),
        INFINITUM,
    ]
    for protocol in range(pickle.HIGHEST_PROTOCOL + 1):
        back = pickle.loads(pickle.dumps(values, protocol=protocol))
        assert back == values
        assert [type(v) for v in back] == [type(v) for v in values]
    assert copy.deepcopy(values) == values
