"""liblo (liblo-tools 0.31) against osc_live: oscsend → our servers, our clients → oscdump.

oscdump prints one line per message: ``<ntp stamp> <path> <tags> <args...>`` (see
``tests/peers/liblo.py`` for the format and docs/peers.md for the quirks). Loopback only: oscdump
binds every IPv4 interface, so we only ever send to it on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from osc_live.dispatcher import Dispatcher
from osc_live.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from osc_live.osc_message_builder import OscMessageBuilder
from osc_live.osc_server import ThreadingOSCUDPServer
from osc_live.udp_client import AsyncUDPClient, SimpleUDPClient, UDPClient
from tests.peers.fixtures import oscdump_tcp, oscdump_udp, oscsend  # noqa: F401
from tests.peers.liblo import STAMP, Oscdump
from tests.peers.running import Inbox, serving

pytestmark = pytest.mark.peers

#: What oscsend sends (every type it supports) and how oscdump prints our equivalent.
OSCSEND_TYPES = "ihfdsScTFNIm"
OSCSEND_VALUES = ["1", "1099511627776", "3.5", "4.25", "str", "sym", "x", "01903c64"]

MESSAGE_ARGS: list[Any] = [1, 2.5, "hello", True, False, None, b"\x01\x02\x03"]
MESSAGE_LINE = '/v/m ifsTFNb 1 2.500000 "hello" #T #F Nil [3b 0x1 0x2 0x3]'


def _stamp(timetag: int) -> str:
    """oscdump's rendering of an NTP timetag."""
    return f"{timetag >> 32:08x}.{timetag & 0xFFFFFFFF:08x}"


def _bundle(timestamp: float, *addresses: str) -> Any:
    builder = OscBundleBuilder(timestamp)
    for i, address in enumerate(addresses):
        message = OscMessageBuilder(address)
        message.add_arg(i)
        builder.add_content(message.build())
    return builder.build()


@pytest.fixture
def recorder() -> Iterator[tuple[Dispatcher, Inbox]]:
    dispatcher = Dispatcher()
    inbox = Inbox()
    dispatcher.map("/from/*", lambda address, *args: inbox.put((address, list(args))))
    yield dispatcher, inbox
    dispatcher.close()


def _check_oscsend_args(address: str, args: list[Any]) -> None:
    assert address == "/from/oscsend"
    i, h, f, d, s, sym, c, t, false, nil, inf, midi = args
    assert (i, h, f, d, s) == (1, 1099511627776, 3.5, 4.25, "str")
    assert str(sym) == "sym"
    assert str(c) == "x"
    assert (t, false, nil) == (True, False, None)
    assert inf is not None
    assert tuple(midi) == (1, 0x90, 0x3C, 0x64)


# ---------------------------------------------------------------------- oscsend → our servers


def test_oscsend_udp_to_our_server(
    oscsend: Callable[..., Any],  # noqa: F811
    recorder: tuple[Dispatcher, Inbox],
) -> None:
    dispatcher, inbox = recorder
    with serving(ThreadingOSCUDPServer(("127.0.0.1", 0), dispatcher)) as server:
        port = server.server_address[1]
        oscsend(port, "/from/oscsend", OSCSEND_TYPES, *OSCSEND_VALUES)
        oscsend(port, "/from/noargs")
        got = dict(inbox.wait_for(2))  # (two datagrams, two handler threads: any order)
    _check_oscsend_args("/from/oscsend", got["/from/oscsend"])
    assert got["/from/noargs"] == []


@pytest.mark.parametrize("mode", ["1.0", "auto"])
def test_oscsend_tcp_to_our_server(
    oscsend: Callable[..., Any],  # noqa: F811
    recorder: tuple[Dispatcher, Inbox],
    mode: str,
) -> None:
    from osc_live.osc_tcp_server import ThreadingOSCTCPServer

    dispatcher, inbox = recorder
    with serving(ThreadingOSCTCPServer(("127.0.0.1", 0), dispatcher, mode=mode)) as server:
        port = server.server_address[1]
        oscsend(port, "/from/oscsend", OSCSEND_TYPES, *OSCSEND_VALUES, proto="tcp")
        oscsend(port, "/from/tcp", "s", "second connection", proto="tcp")
        got = dict(inbox.wait_for(2))  # (two connections, two threads: any order)
    _check_oscsend_args("/from/oscsend", got["/from/oscsend"])
    assert got["/from/tcp"] == ["second connection"]


# ---------------------------------------------------------------------- our clients → oscdump


def test_udp_client_to_oscdump(oscdump_udp: Oscdump) -> None:  # noqa: F811
    with SimpleUDPClient("127.0.0.1", oscdump_udp.port) as client:
        client.send_message("/v/m", MESSAGE_ARGS)
        client.send_message("/v/noargs", None)
        client.send_message("/v/h", 2**40)
        double = OscMessageBuilder("/v/d")
        double.add_arg(0.25, OscMessageBuilder.ARG_TYPE_DOUBLE)
        client.send(double.build())
        client.send(_bundle(IMMEDIATELY, "/v/b1", "/v/b2"))
        lines = oscdump_udp.wait_for_count(6)
    assert lines[:4] == [MESSAGE_LINE, "/v/noargs ", "/v/h h 1099511627776", "/v/d d 0.250000"]
    assert lines[4:] == ["/v/b1 i 0", "/v/b2 i 1"]
    raw = oscdump_udp.lines()
    assert raw[4].split()[0] == raw[5].split()[0]  # one bundle, one stamp


def test_udp_future_bundle_printed_with_its_timetag(oscdump_udp: Oscdump) -> None:  # noqa: F811
    bundle = _bundle(time.time() + 0.3, "/v/later")
    with UDPClient("127.0.0.1", oscdump_udp.port) as client:
        client.send(bundle)
    line = oscdump_udp.wait_for(r" /v/later i 0$")
    assert line.split()[0] == _stamp(bundle.timetag)


def test_async_udp_client_to_oscdump(oscdump_udp: Oscdump) -> None:  # noqa: F811
    async def main() -> None:
        async with AsyncUDPClient("127.0.0.1", oscdump_udp.port) as client:
            await client.send_message("/v/m", MESSAGE_ARGS)
            await client.send(_bundle(IMMEDIATELY, "/v/ab"))

    asyncio.run(main())
    assert oscdump_udp.wait_for_count(2) == [MESSAGE_LINE, "/v/ab i 0"]


@pytest.mark.parametrize("mode", ["1.0", "1.1"])
def test_tcp_client_to_oscdump(oscdump_tcp: Oscdump, mode: str) -> None:  # noqa: F811
    from osc_live.tcp_client import SimpleTCPClient

    with SimpleTCPClient("127.0.0.1", oscdump_tcp.port, mode=mode) as client:
        client.send_message("/v/m", MESSAGE_ARGS)
        client.send(_bundle(IMMEDIATELY, "/v/tb1", "/v/tb2"))
        client.send_message("/v/blob", b"\xc0\xdb\xdc\xdd")  # SLIP's special bytes in a blob
        lines = oscdump_tcp.wait_for_count(4)
    assert lines == [MESSAGE_LINE, "/v/tb1 i 0", "/v/tb2 i 1", "/v/blob b [4b 0xc0 0xdb 0xdc 0xdd]"]
    assert all(re.match(STAMP, line) for line in oscdump_tcp.lines())


def test_tcp_1_1_stream_starting_with_a_bundle(oscdump_tcp: Oscdump) -> None:  # noqa: F811
    """liblo takes a SLIP stream starting with END + "#bundle" for a size-prefixed one and prints
    nothing from it: our 1.1 client sends a connection's first frame without its leading END."""
    from osc_live.tcp_client import SimpleTCPClient

    with SimpleTCPClient("127.0.0.1", oscdump_tcp.port, mode="1.1") as client:
        client.send(_bundle(IMMEDIATELY, "/v/first"))
        client.send_message("/v/then", 1)
        lines = oscdump_tcp.wait_for_count(2, timeout=2.0)
    assert lines == ["/v/first i 0", "/v/then i 1"]
