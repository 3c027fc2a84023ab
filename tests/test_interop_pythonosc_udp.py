"""python-osc 1.10.2 both ways over UDP: its clients to our servers, our clients to its servers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest
from pythonosc import dispatcher as py_dispatcher
from pythonosc import osc_bundle_builder as py_bundle_builder
from pythonosc import osc_message_builder as py_message_builder
from pythonosc import osc_server as py_osc_server
from pythonosc import udp_client as py_udp_client

from osc_live.dispatcher import Dispatcher
from osc_live.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from osc_live.osc_message_builder import OscMessageBuilder
from osc_live.osc_server import AsyncIOOSCUDPServer, BlockingOSCUDPServer, ThreadingOSCUDPServer
from osc_live.udp_client import AsyncUDPClient, DispatchClient, SimpleUDPClient
from tests.peers.running import Inbox, serving

# Values both libraries encode and decode the same way (python-osc cannot parse S, c, I).
VALUES: list[Any] = [1, -2, 2.5, "hello", b"\x01\x02\xc0", True, False, None, 2**40, [1, "a"]]


def _py_close(client: py_udp_client.UDPClient) -> None:
    client._sock.close()  # python-osc 1.10.2 clients have close(), older ones not: be explicit


@pytest.fixture
def ours() -> Iterator[tuple[Dispatcher, Inbox]]:
    dispatcher = Dispatcher()
    inbox = Inbox()

    def record(address: str, *args: Any) -> tuple[Any, ...]:
        inbox.put((address, list(args)))
        return ("/ack", address, len(args))

    dispatcher.map("/v/*", record)
    yield dispatcher, inbox
    dispatcher.close()


@pytest.mark.parametrize("server_class", [BlockingOSCUDPServer, ThreadingOSCUDPServer])
def test_python_osc_client_to_our_server(
    server_class: type[BlockingOSCUDPServer], ours: tuple[Dispatcher, Inbox]
) -> None:
    dispatcher, inbox = ours
    with serving(server_class(("127.0.0.1", 0), dispatcher)) as server:
        client = py_udp_client.SimpleUDPClient("127.0.0.1", server.server_address[1])
        try:
            client.send_message("/v/all", VALUES)
            client.send_message("/v/none", None)
            got = inbox.wait_for(2)
            replies = []
            deadline = time.monotonic() + 5
            while len(replies) < 2 and time.monotonic() < deadline:
                replies += [(m.address, m.params) for m in client.get_messages(0.2)]
        finally:
            _py_close(client)
    # (the threading server handles each datagram in its own thread: any order)
    assert sorted(got, key=repr) == [("/v/all", VALUES), ("/v/none", [])]
    assert sorted(replies, key=repr) == [
        ("/ack", ["/v/all", len(VALUES)]),
        ("/ack", ["/v/none", 0]),
    ]


def test_python_osc_bundle_to_our_server(ours: tuple[Dispatcher, Inbox]) -> None:
    dispatcher, inbox = ours
    builder = py_bundle_builder.OscBundleBuilder(py_bundle_builder.IMMEDIATELY)
    for i in range(3):
        message = py_message_builder.OscMessageBuilder(f"/v/{i}")
        message.add_arg(i)
        builder.add_content(message.build())
    inner = py_bundle_builder.OscBundleBuilder(time.time() + 0.2)
    inner.add_content(py_message_builder.OscMessageBuilder("/v/late").build())
    builder.add_content(inner.build())
    with serving(ThreadingOSCUDPServer(("127.0.0.1", 0), dispatcher)) as server:
        client = py_udp_client.UDPClient("127.0.0.1", server.server_address[1])
        try:
            client.send(builder.build())
            got = inbox.wait_for(4)
        finally:
            _py_close(client)
    assert got == [("/v/0", [0]), ("/v/1", [1]), ("/v/2", [2]), ("/v/late", [])]


def test_python_osc_dispatch_client_gets_our_replies(ours: tuple[Dispatcher, Inbox]) -> None:
    dispatcher, _ = ours
    replies = Inbox()
    their_dispatcher = py_dispatcher.Dispatcher()
    their_dispatcher.map("/ack", replies)
    with serving(BlockingOSCUDPServer(("127.0.0.1", 0), dispatcher)) as server:
        client = py_udp_client.DispatchClient("127.0.0.1", server.server_address[1])
        client.dispatcher = their_dispatcher
        try:
            client.send_message("/v/x", [1, 2])
            deadline = time.monotonic() + 5
            while not replies.items and time.monotonic() < deadline:
                client.handle_messages(0.2)
        finally:
            _py_close(client)
    assert replies.items == [("/ack", "/v/x", 2)]


def test_python_osc_client_to_our_asyncio_server(ours: tuple[Dispatcher, Inbox]) -> None:
    dispatcher, inbox = ours

    async def main() -> list[tuple[str, list[Any]]]:
        async with AsyncIOOSCUDPServer(("127.0.0.1", 0), dispatcher) as server:
            client = py_udp_client.SimpleUDPClient("127.0.0.1", server.server_address[1])
            try:
                client.send_message("/v/async", VALUES)
                replies: list[tuple[str, list[Any]]] = []
                deadline = time.monotonic() + 5
                while not replies and time.monotonic() < deadline:
                    await asyncio.sleep(0.01)
                    replies = [(m.address, m.params) for m in client.get_messages()]
            finally:
                _py_close(client)
        return replies

    assert asyncio.run(main()) == [("/ack", ["/v/async", len(VALUES)])]
    assert inbox.items == [("/v/async", VALUES)]


# ---------------------------------------------------------------------- our clients → python-osc


@pytest.fixture
def theirs() -> Iterator[tuple[py_osc_server.ThreadingOSCUDPServer, Inbox]]:
    dispatcher = py_dispatcher.Dispatcher()
    inbox = Inbox()

    def record(address: str, *args: Any) -> tuple[Any, ...]:
        inbox.put((address, list(args)))
        return ("/ack", address, len(args))

    dispatcher.map("/v/*", record)
    server = py_osc_server.ThreadingOSCUDPServer(("127.0.0.1", 0), dispatcher)
    with serving(server):
        yield server, inbox


def _drain(client: SimpleUDPClient, count: int) -> list[tuple[str, list[Any]]]:
    got: list[tuple[str, list[Any]]] = []
    deadline = time.monotonic() + 5
    while len(got) < count and time.monotonic() < deadline:
        got += [(m.address, m.params) for m in client.get_messages(0.2)]
    return got


def test_our_client_to_python_osc_server(
    theirs: tuple[py_osc_server.ThreadingOSCUDPServer, Inbox],
) -> None:
    server, inbox = theirs
    with SimpleUDPClient("127.0.0.1", server.server_address[1]) as client:
        client.send_message("/v/all", VALUES)
        client.send_message("/v/one", 7)
        client.send_message("/v/none", None)
        got = inbox.wait_for(3)
        replies = _drain(client, 3)
    assert sorted(got) == sorted([("/v/all", VALUES), ("/v/one", [7]), ("/v/none", [])])
    assert sorted(replies) == sorted(
        [("/ack", ["/v/all", len(VALUES)]), ("/ack", ["/v/one", 1]), ("/ack", ["/v/none", 0])]
    )


def test_our_bundle_to_python_osc_server(
    theirs: tuple[py_osc_server.ThreadingOSCUDPServer, Inbox],
) -> None:
    server, inbox = theirs
    bundle = OscBundleBuilder(IMMEDIATELY)
    for i in range(3):
        message = OscMessageBuilder(f"/v/{i}")
        message.add_arg(float(i) + 0.5)
        bundle.add_content(message.build())
    with SimpleUDPClient("127.0.0.1", server.server_address[1]) as client:
        client.send(bundle.build())
        got = inbox.wait_for(3)
    assert got == [("/v/0", [0.5]), ("/v/1", [1.5]), ("/v/2", [2.5])]


def test_our_dispatch_client_with_python_osc_server(
    theirs: tuple[py_osc_server.ThreadingOSCUDPServer, Inbox],
) -> None:
    server, _ = theirs
    dispatcher = Dispatcher()
    acks = Inbox()
    dispatcher.map("/ack", acks)
    try:
        with DispatchClient("127.0.0.1", server.server_address[1], dispatcher=dispatcher) as c:
            c.send_message("/v/d", ["x", 1])
            deadline = time.monotonic() + 5
            while not acks.items and time.monotonic() < deadline:
                c.handle_messages(0.2)
    finally:
        dispatcher.close()
    assert acks.items == [("/ack", "/v/d", 2)]


def test_our_async_client_with_python_osc_asyncio_server() -> None:
    dispatcher = py_dispatcher.Dispatcher()
    inbox = Inbox()
    dispatcher.map("/v/*", lambda address, *args: inbox.put((address, list(args))) or "/ok")

    async def main() -> bytes:
        loop = asyncio.get_running_loop()
        server = py_osc_server.AsyncIOOSCUDPServer(("127.0.0.1", 0), dispatcher, loop)
        transport, _ = await server.create_serve_endpoint()
        try:
            port = transport.get_extra_info("sockname")[1]
            async with AsyncUDPClient("127.0.0.1", port, timeout=5.0) as client:
                await client.send_message("/v/a", VALUES)
                return await client.receive()
        finally:
            transport.close()
            await asyncio.sleep(0)

    reply = asyncio.run(main())
    assert inbox.items == [("/v/a", VALUES)]
    assert reply == py_message_builder.OscMessageBuilder("/ok").build().dgram


def _ipv6_loopback() -> bool:
    import socket

    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback (::1)")
def test_ipv6_both_ways(ours: tuple[Dispatcher, Inbox]) -> None:
    dispatcher, inbox = ours
    with serving(ThreadingOSCUDPServer(("::1", 0), dispatcher)) as server:
        client = py_udp_client.SimpleUDPClient("::1", server.server_address[1])
        try:
            client.send_message("/v/six", [6])
            assert inbox.wait_for(1) == [("/v/six", [6])]
        finally:
            _py_close(client)
    their_dispatcher = py_dispatcher.Dispatcher()
    theirs = Inbox()
    their_dispatcher.map("/v/*", theirs)
    with (
        serving(py_osc_server.ThreadingOSCUDPServer(("::1", 0), their_dispatcher)) as py_server,
        SimpleUDPClient("::1", py_server.server_address[1]) as ours_client,
    ):
        ours_client.send_message("/v/back", 7)
        assert theirs.wait_for(1) == [("/v/back", 7)]
