"""The same code against python-osc 1.10.2 and osc_live: the API shapes match.

Each test takes ``pkg``, the package (``pythonosc`` or ``osc_live``), and uses only python-osc's
documented API on cases where python-osc is correct.
"""

from __future__ import annotations

import importlib
import time
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

MODULES = (
    "osc_message",
    "osc_message_builder",
    "osc_bundle",
    "osc_bundle_builder",
    "osc_packet",
    "parsing.osc_types",
    "parsing.ntp",
)


def load(package: str) -> SimpleNamespace:
    mods = {name.split(".")[-1]: importlib.import_module(f"{package}.{name}") for name in MODULES}
    return SimpleNamespace(**mods)


@pytest.fixture(params=["pythonosc", "osc_live"])
def pkg(request: pytest.FixtureRequest) -> SimpleNamespace:
    return load(request.param)


def public_names(module: ModuleType) -> set[str]:
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_")
        and not isinstance(value, ModuleType)
        and getattr(value, "__module__", module.__name__).startswith("pythonosc")
    }


@pytest.mark.parametrize("name", MODULES)
def test_every_python_osc_name_exists(name: str) -> None:
    theirs = importlib.import_module(f"pythonosc.{name}")
    ours = importlib.import_module(f"osc_live.{name}")
    names = public_names(theirs) | ({"ArgValue", "MidiPacket"} & set(vars(theirs)))
    assert names
    missing = {n for n in names if not hasattr(ours, n)}
    # typing helpers python-osc happens to import at module level are not API
    missing -= {"List", "Iterator", "Any", "Union", "Tuple", "Optional", "Iterable", "cast"}
    assert not missing


def test_builder_constants_match() -> None:
    p = load("pythonosc").osc_message_builder.OscMessageBuilder
    o = load("osc_live").osc_message_builder.OscMessageBuilder
    for name in dir(p):
        if name.startswith("ARG_TYPE_"):
            assert getattr(o, name) == getattr(p, name)


NOTE_ARGS = [60, 127, 0.5, "saw"]
NOTE_DGRAM = b"/synth/note\0,iifs\0\0\0\0\0\0<\0\0\0\x7f?\0\0\0saw\0"


def test_build_msg(pkg: SimpleNamespace) -> None:
    msg = pkg.osc_message_builder.build_msg("/synth/note", NOTE_ARGS)
    assert msg.address == "/synth/note"
    assert msg.params == NOTE_ARGS
    assert list(msg) == NOTE_ARGS
    assert msg.dgram == NOTE_DGRAM
    assert msg.size == len(NOTE_DGRAM)
    assert str(msg) == "/synth/note 60 127 0.5 saw"
    assert pkg.osc_message_builder.build_msg("/a").params == []
    assert pkg.osc_message_builder.build_msg("/a", 1.0).params == [1.0]


def test_parse(pkg: SimpleNamespace) -> None:
    msg = pkg.osc_message.OscMessage(NOTE_DGRAM)
    assert (msg.address, msg.params) == ("/synth/note", NOTE_ARGS)
    assert pkg.osc_message.OscMessage.dgram_is_message(NOTE_DGRAM)


TYPED: list[tuple[Any, str]] = [
    (1, "i"),
    (-(2**40), "h"),
    (0.25, "f"),
    (0.1, "d"),
    ("str", "s"),
    (b"\x00\x01\x02", "b"),
    (0x11223344, "r"),
    ((0, 0x90, 60, 100), "m"),
    (True, "T"),
    (False, "F"),
    (None, "N"),
    ([1, [2.0, "x"]], ["i", ["f", "s"]]),
]


@pytest.mark.parametrize(("value", "arg_type"), TYPED)
def test_builder_explicit_types(pkg: SimpleNamespace, value: Any, arg_type: Any) -> None:
    builder = pkg.osc_message_builder.OscMessageBuilder("/t")
    builder.add_arg(value, arg_type)
    msg = builder.build()
    expected = [value]
    assert msg.params == expected
    assert pkg.osc_message.OscMessage(msg.dgram).params == expected


def test_builder_dgrams_are_identical() -> None:
    dgrams = []
    for package in ("pythonosc", "osc_live"):
        builder = load(package).osc_message_builder.OscMessageBuilder("/all")
        for value, arg_type in TYPED:
            builder.add_arg(value, arg_type)
            builder.add_arg(value)
        dgrams.append(builder.build().dgram)
    assert dgrams[0] == dgrams[1]


def test_builder_args_property(pkg: SimpleNamespace) -> None:
    builder = pkg.osc_message_builder.OscMessageBuilder()
    assert builder.address is None
    builder.address = "/x"
    builder.add_arg(1)
    builder.add_arg([2, 3])
    assert builder.args == [("i", 1), ("[", None), ("i", 2), ("i", 3), ("]", None)]


def test_builder_errors(pkg: SimpleNamespace) -> None:
    mb = pkg.osc_message_builder
    with pytest.raises(mb.BuildError):
        mb.OscMessageBuilder().build()
    with pytest.raises(ValueError):
        mb.OscMessageBuilder("/a").add_arg(1, "unknown")
    with pytest.raises(ValueError):
        mb.OscMessageBuilder("/a").add_arg(object())
    builder = mb.OscMessageBuilder("/a")
    builder.add_arg("x", "i")
    with pytest.raises(mb.BuildError):
        builder.build()


def test_bundle(pkg: SimpleNamespace) -> None:
    bb = pkg.osc_bundle_builder
    assert bb.IMMEDIATELY == 0
    msg = pkg.osc_message_builder.build_msg("/synth/note", NOTE_ARGS)
    inner_builder = bb.OscBundleBuilder(1700000000.5)
    inner_builder.add_content(msg)
    inner = inner_builder.build()
    builder = bb.OscBundleBuilder(bb.IMMEDIATELY)
    builder.add_content(msg)
    builder.add_content(inner)
    bundle = builder.build()
    assert bundle.timestamp == 0
    assert bundle.num_contents == 2
    assert bundle.content(0).params == NOTE_ARGS
    assert bundle.content(1).timestamp == 1700000000.5
    assert [type(c).__name__ for c in bundle] == ["OscMessage", "OscBundle"]
    assert bundle.size == len(bundle.dgram)
    assert pkg.osc_bundle.OscBundle.dgram_is_bundle(bundle.dgram)
    parsed = pkg.osc_bundle.OscBundle(bundle.dgram)
    assert parsed.num_contents == 2 and parsed.content(1).content(0).params == NOTE_ARGS


def test_bundle_dgrams_are_identical() -> None:
    dgrams = []
    for package in ("pythonosc", "osc_live"):
        p = load(package)
        builder = p.osc_bundle_builder.OscBundleBuilder(1700000000.25)
        builder.add_content(p.osc_message_builder.build_msg("/a", [1, "x"]))
        dgrams.append(builder.build().dgram)
    assert dgrams[0] == dgrams[1]


def test_packet(pkg: SimpleNamespace) -> None:
    bb = pkg.osc_bundle_builder
    future = time.time() + 100
    builder = bb.OscBundleBuilder(future)
    builder.add_content(pkg.osc_message_builder.build_msg("/late", [1]))
    now_builder = bb.OscBundleBuilder(bb.IMMEDIATELY)
    now_builder.add_content(pkg.osc_message_builder.build_msg("/now", [2]))
    builder.add_content(now_builder.build())
    messages = pkg.osc_packet.OscPacket(builder.build().dgram).messages
    assert [m.message.address for m in messages] == ["/now", "/late"]
    assert messages[1].time == pytest.approx(future, abs=1e-6)
    assert messages[0].time <= time.time()
    assert isinstance(messages[0], pkg.osc_packet.TimedMessage)
    single = pkg.osc_packet.OscPacket(NOTE_DGRAM).messages
    assert single[0].message.params == NOTE_ARGS


@pytest.mark.parametrize(
    "dgram",
    [b"", b"nothing", b"/a\0\0,i\0\0", b"/a\0\0,s\0\0abcd", b"/a\0\0,[\0\0"],
)
def test_packet_parse_errors(pkg: SimpleNamespace, dgram: bytes) -> None:
    with pytest.raises(pkg.osc_packet.ParseError):
        pkg.osc_packet.OscPacket(dgram)


def test_message_parse_errors(pkg: SimpleNamespace) -> None:
    with pytest.raises(pkg.osc_message.ParseError):
        pkg.osc_message.OscMessage(b"/a\0\0,i\0\0")
    with pytest.raises(pkg.osc_message.ParseError):
        pkg.osc_message.OscMessage(b"/a\0\0i\0\0\0")


def test_osc_types(pkg: SimpleNamespace) -> None:
    t = pkg.osc_types
    assert t.write_string("ab") == b"ab\0\0"
    assert t.get_string(b"abc\0", 0) == ("abc", 4)
    assert t.get_int(t.write_int(-3), 0) == (-3, 4)
    assert t.get_int64(t.write_int64(2**40), 0) == (2**40, 8)
    assert t.get_float(t.write_float(0.5), 0) == (0.5, 4)
    assert t.get_double(t.write_double(0.1), 0) == (0.1, 8)
    assert t.get_blob(t.write_blob(b"abc"), 0) == (b"abc", 8)
    assert t.get_rgba(t.write_rgba(0x11223344), 0) == (0x11223344, 4)
    assert t.get_midi(t.write_midi((1, 2, 3, 4)), 0) == ((1, 2, 3, 4), 4)
    assert t.get_uint64(b"\xff" * 8, 0) == (2**64 - 1, 8)
    assert t.write_date(t.IMMEDIATELY) == b"\0" * 7 + b"\x01"
    assert t.get_date(t.write_date(1700000000.5), 0) == (1700000000.5, 8)
    (utc, fraction), index = t.get_timetag(t.write_date(1700000000.5), 0)
    assert (str(utc), fraction, index) == ("2023-11-14 22:13:20", 2**31, 8)
    for func, data in ((t.get_int, b"\0"), (t.get_string, b"abc"), (t.get_double, b"\0" * 4)):
        with pytest.raises(t.ParseError):
            func(data, 0)
    with pytest.raises(t.BuildError):
        t.write_int(2**40)


def test_ntp(pkg: SimpleNamespace) -> None:
    n = pkg.ntp
    assert n.IMMEDIATELY == b"\0" * 7 + b"\x01"
    assert n.ntp_to_system_time(n.system_time_to_ntp(1700000000.5)) == 1700000000.5
    assert n.parse_timestamp((3 << 32) + 4) == (3, 4)
    assert n.parse_timestamp(5).seconds == 0
    assert n.ntp_time_to_system_epoch(n.system_time_to_ntp_epoch(12.0)) == 12.0
    with pytest.raises(n.NtpError):
        n.ntp_to_system_time(b"bad")
