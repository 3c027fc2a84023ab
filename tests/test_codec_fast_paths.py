"""Every fast path gives exactly what the careful codec gives: the per-address remembered plans
of build_msg / OscMessageBuilder / encode_message, and the head-length hint of OscMessage."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from osc_live import _codec_base
from osc_live._encode_careful import encode_careful
from osc_live._parse_careful import parse_careful
from osc_live.errors import BuildError, ParseError
from osc_live.osc_bundle import OscBundle
from osc_live.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from osc_live.osc_message import OscMessage, encode_message
from osc_live.osc_message_builder import OscMessageBuilder, build_msg
from osc_live.parsing.osc_types import INFINITUM, Double, Int64, Symbol

WARM = _codec_base.GENERATE_AFTER + 2


class Name(str):
    pass


class Count(int):
    pass


SHAPES: list[list[Any]] = [
    [60, 127, 0.5, "saw"],
    [60, 127, 0.5, Name("saw")],  # a str subclass: same tags, not the same exact types
    [60.0, 127, 0.5, "saw"],
    [60, 2**40, 0.5, "saw"],  # beyond 32 bits: h
    [True, 127, 0.5, "saw"],
    [Count(60), 127, 0.5, "saw"],
    [None, 127, 0.5, b"saw"],
    [Int64(60), Double(1.5), 0.5, "saw"],
    [60, 127, 0.5],
    [60, 127, 0.5, "saw", 1],
    [INFINITUM, Symbol("x"), [1, 2], "saw"],
    [],
]


def careful(address: str, args: list[Any]) -> bytes:
    return encode_careful(_codec_base.encode_address(address), args, None, None)[0]


def _builder(address: str, args: list[Any], tags: list[str | None]) -> OscMessage:
    builder = OscMessageBuilder(address)
    for value, tag in zip(args, tags, strict=True):
        builder.add_arg(value, tag)
    return builder.build()


@pytest.mark.parametrize("order", range(3))
def test_remembered_plans_never_apply_to_other_types(order: int) -> None:
    """Warm one shape per address, then send every shape to it, in several orders."""
    address = f"/fast/{order}"
    for _ in range(WARM):
        build_msg(address, SHAPES[order])
        encode_message(address, SHAPES[order])
    shapes = SHAPES[order:] + SHAPES[:order]
    for args in itertools.chain(shapes, reversed(shapes), shapes):
        want = careful(address, args)
        assert encode_message(address, args) == want
        msg = build_msg(address, args)
        assert msg.dgram == want
        assert msg.params == OscMessage(want).params
        assert OscMessage.from_parts(address, args).dgram == want
        built = _builder(address, args, [None] * len(args))
        assert built.dgram == want and built.params == msg.params


def test_builder_remembered_plan_checks_explicit_tags() -> None:
    address = "/fast/tags"
    for _ in range(WARM):
        _builder(address, [1, 2.0], [None, None])
    assert _builder(address, [1, 2.0], ["h", "d"]).type_tags == "hd"
    assert _builder(address, [1, 2.0], ["i", "f"]).type_tags == "if"
    assert _builder(address, [1, 2], ["f", "i"]).dgram == encode_message(
        address, [1, 2], type_tags="fi"
    )
    with pytest.raises(BuildError):
        _builder(address, [1, "x"], ["i", "f"])
    mutated = OscMessageBuilder(address)
    mutated.add_arg(1)
    mutated.add_arg(2.0)
    mutated.args[1] = ("s", "two")  # python-osc lets a program edit args: it is honoured
    assert mutated.build().params == [1, "two"]


def test_build_msg_keeps_python_osc_value_semantics() -> None:
    for _ in range(WARM):
        build_msg("/fast/one", [1])
    assert build_msg("/fast/one", 1).params == [1]
    assert build_msg("/fast/one", "abc").params == ["abc"]
    assert build_msg("/fast/one", b"abc").params == [b"abc"]
    assert build_msg("/fast/one", "").params == []
    assert build_msg("/fast/one", (1, 2, 3, 4)).params == [1, 2, 3, 4]
    values = [1]
    msg = build_msg("/fast/one", values)
    values[0] = 2  # the message keeps what it was built from
    assert msg.params == [1]
    with pytest.raises(BuildError):
        build_msg("", [1])
    with pytest.raises(BuildError):
        build_msg("/fast/one", [1, "a\0b"])


def test_head_hint_is_checked_before_it_is_trusted() -> None:
    short = encode_message("/h", [1, 2])
    longer = encode_message("/h", [1, 2, 3.5])  # the same bytes up to the shorter head
    other = encode_message("/hh", ["x"])
    for data in [short, longer, other, short, short, longer, other, longer] * WARM:
        assert OscMessage(data).params == parse_careful(data)[2]
    head = short[: short.index(0, 4)]
    with pytest.raises(ParseError):
        OscMessage(head)  # exactly a known head: no NUL after the tags
    OscMessage(short)
    with pytest.raises(ParseError):
        OscMessage(short[:-2])  # known head, arguments cut short
    assert OscMessage(bytearray(short)).params == [1, 2]
    assert OscMessage(memoryview(longer)).params == [1, 2, 3.5]


def test_bundle_from_contents_fast_path_and_checks() -> None:
    msgs = [build_msg("/b", [i]) for i in range(3)]
    inner = OscBundle.from_contents(1, msgs[:1])
    mixed = OscBundle.from_contents(1, [msgs[0], inner, msgs[1]])
    kinds = [type(c).__name__ for c in OscBundle(mixed.dgram)]
    assert kinds == ["OscMessage", "OscBundle", "OscMessage"]
    builder = OscBundleBuilder(IMMEDIATELY)
    for m in msgs:
        builder.add_content(m)
    assert [m.params for m in OscBundle(builder.build().dgram)] == [[0], [1], [2]]
    with pytest.raises(BuildError, match="Content must be"):
        OscBundle.from_contents(1, [msgs[0], "x"])  # type: ignore[list-item]


def _python_osc_args(value: Any) -> list[Any]:
    """python-osc's send_message rule: a list/tuple is the arguments, "" or None none."""
    if isinstance(value, (list, tuple)):
        return list(value)
    return [] if value is None or value == "" else [value]


VALUES: list[Any] = [
    *SHAPES,
    tuple(SHAPES[0]),
    (1, 2, 3, 4),  # a tuple of four ints: MIDI, as python-osc
    [2**31 - 1, -(2**31), 2**31],  # the last one beyond 32 bits
    1,
    2.5,
    "x",
    b"\x00\x01",
]


@pytest.mark.parametrize("client", ["udp", "async-udp", "tcp", "async-tcp"])
def test_every_clients_send_message_sends_what_the_careful_encoder_gives(client: str) -> None:
    """The clients inline encode_message's per-address fast path: warm one shape for an
    address, then send every value to it; the bytes on the wire are the careful encoder's."""
    import asyncio
    import socket

    from osc_live import tcp_client, udp_client
    from osc_live.framing import make_framer

    address = f"/fast/client/{client}"
    values = VALUES + VALUES[:1] * WARM + VALUES
    want = [careful(address, _python_osc_args(v)) for v in values]
    if client.endswith("udp"):
        sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sink.bind(("127.0.0.1", 0))
        sink.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        sink.settimeout(5)
        port = sink.getsockname()[1]
        with sink:
            if client == "udp":
                with udp_client.SimpleUDPClient("127.0.0.1", port) as c:
                    for v in values:
                        c.send_message(address, v)
            else:

                async def main() -> None:
                    async with udp_client.AsyncUDPClient("127.0.0.1", port) as ac:
                        for v in values:
                            await ac.send_message(address, v)

                asyncio.run(main())
            got = [sink.recv(65536) for _ in values]
        assert got == want
        return
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(5)
    port = listener.getsockname()[1]

    def read_all(conn: socket.socket) -> list[bytes]:
        conn.settimeout(5)
        framer = make_framer("1.0")
        packets: list[bytes] = []
        while len(packets) < len(want):
            data = conn.recv(65536)
            if not data:
                break
            packets.extend(framer.feed(data))
        return packets

    with listener:
        if client == "tcp":
            with tcp_client.SimpleTCPClient("127.0.0.1", port, mode="1.0") as c:
                conn, _ = listener.accept()
                with conn:
                    for v in values:
                        c.send_message(address, v)
                    got = read_all(conn)
        else:

            async def main_tcp() -> list[bytes]:
                loop = asyncio.get_running_loop()
                async with tcp_client.AsyncSimpleTCPClient("127.0.0.1", port, mode="1.0") as ac:
                    accepted, _ = await loop.run_in_executor(None, listener.accept)
                    with accepted:
                        for v in values:
                            await ac.send_message(address, v)
                        return await loop.run_in_executor(None, read_all, accepted)

            got = asyncio.run(main_tcp())
    assert got == want
