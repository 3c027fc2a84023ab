"""UDP servers of osc_live: every flavour answers, survives hostile datagrams, never blocks."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Iterator

import pytest

from osc_live.dispatcher import Dispatcher
from osc_live.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from osc_live.osc_message import OscMessage
from osc_live.osc_message_builder import OscMessageBuilder
from osc_live.osc_server import (
    AsyncIOOSCUDPServer,
    BlockingOSCUDPServer,
    OSCUDPServer,
    ThreadingOSCUDPServer,
)
from osc_live.udp_client import MAX_DATAGRAM_SIZE, AsyncUDPClient, SimpleUDPClient
from tests.peers.running import Inbox, serving

SYNC_SERVERS: list[type[OSCUDPServer]] = [BlockingOSCUDPServer, ThreadingOSCUDPServer]
if hasattr(os, "fork"):
    from osc_live.osc_server import ForkingOSCUDPServer

    SYNC_SERVERS.append(ForkingOSCUDPServer)

BIG_BLOB = b"\xc0\xdb" * 32500  # 65000 bytes: one datagram near the UDP maximum

HOSTILE = [
    b"",
    b"\x00",
    b"garbage!",
    b"/",  # no terminator
    b"/bad\0\0\0\0,zzz\0\0\0\0",  # unknown type tags
    b"/short\0\0,i\0\0\0\0",  # int tag without its four bytes
    b"/str\0\0\0\0,s\0\0abc",  # unterminated string
    b"/blob\0\0\0,b\0\0\x7f\xff\xff\xff",  # blob size beyond the datagram
    b"#bundle\0",  # bundle without a timetag
    b"#bundle\0" + b"\0" * 8 + b"\x00\x00\x01\x00/x\0\0",  # element size beyond the datagram
    b"#bundle\0" + b"\0" * 8 + b"\x00\x00\x00\x03abc",  # element size not a multiple of 4
    b"\xff" * 1000,
]


def _message(address: str, *args: object) -> bytes:
    builder = OscMessageBuilder(address)
    for arg in args:
        builder.add_arg(arg)  # type: ignore[arg-type]
    return builder.build().dgram


def _future_bundle(delay: float, address: str) -> bytes:
    builder = OscBundleBuilder(time.time() + delay)
    builder.add_content(OscMessage(_message(address)))
    return builder.build().dgram


def _replies(client: SimpleUDPClient, count: int, timeout: float = 5.0) -> list[tuple[str, list]]:
    got: list[tuple[str, list]] = []
    deadline = time.monotonic() + timeout
    while len(got) < count and time.monotonic() < deadline:
        got += [(m.address, m.params) for m in client.get_messages(0.2)]
    return got


@pytest.fixture
def dispatcher() -> Iterator[Dispatcher]:
    d = Dispatcher()
    d.map("/ping", lambda address, *args: ("/pong", *args))
    d.map("/len", lambda address, blob: ("/len", len(blob)))
    d.map("/who", lambda client, address: ("/you", client[1]), needs_reply_address=True)
    d.map("/late", lambda address: "/late.done")
    d.map("/now", lambda address: "/now.done")
    yield d
    d.close()


@pytest.mark.parametrize("server_class", SYNC_SERVERS, ids=lambda c: c.__name__)
def test_handler_results_go_back_to_the_sender(
    server_class: type[OSCUDPServer], dispatcher: Dispatcher
) -> None:
    with serving(server_class(("127.0.0.1", 0), dispatcher)) as server:
        port = server.server_address[1]
        with SimpleUDPClient("127.0.0.1", port) as client:
            client.send_message("/ping", [1, "a", 2.5])
            assert _replies(client, 1) == [("/pong", [1, "a", 2.5])]
            client.send_message("/who", None)
            local_port = client._sock.getsockname()[1]
            assert _replies(client, 1) == [("/you", [local_port])]
            bundle = OscBundleBuilder(IMMEDIATELY)
            bundle.add_content(OscMessage(_message("/ping", 1)))
            bundle.add_content(OscMessage(_message("/ping", 2)))
            client.send(bundle.build())
            assert _replies(client, 2) == [("/pong", [1]), ("/pong", [2])]


@pytest.mark.parametrize("server_class", SYNC_SERVERS, ids=lambda c: c.__name__)
def test_64k_datagram_received_whole(
    server_class: type[OSCUDPServer], dispatcher: Dispatcher
) -> None:
    with (
        serving(server_class(("127.0.0.1", 0), dispatcher)) as server,
        SimpleUDPClient("127.0.0.1", server.server_address[1]) as client,
    ):
        client.send_message("/len", BIG_BLOB)
        assert _replies(client, 1) == [("/len", [len(BIG_BLOB)])]


@pytest.mark.parametrize("server_class", [BlockingOSCUDPServer, ThreadingOSCUDPServer])
def test_hostile_datagrams_are_dropped_counted_and_logged(
    server_class: type[OSCUDPServer], dispatcher: Dispatcher, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="osc_live.osc_server")
    with serving(server_class(("127.0.0.1", 0), dispatcher)) as server:
        port = server.server_address[1]
        with SimpleUDPClient("127.0.0.1", port) as client:
            for junk in HOSTILE:
                client.send(junk)
            client.send_message("/ping", 1)
            assert _replies(client, 1) == [("/pong", [1])]
        assert server.stats.dropped == len(HOSTILE)
        assert server.stats.packets >= 1
    warnings = [r for r in caplog.records if r.name == "osc_live.osc_server"]
    assert len(warnings) == len(HOSTILE)
    assert all(r.levelno == logging.WARNING for r in warnings)
    assert not [r for r in caplog.records if r.name == "root"]


def test_handler_exception_is_logged_and_serving_goes_on(
    dispatcher: Dispatcher, caplog: pytest.LogCaptureFixture
) -> None:
    def boom(address: str) -> None:
        raise RuntimeError("handler failed")

    dispatcher.map("/boom", boom)
    caplog.set_level(logging.ERROR, logger="osc_live.osc_server")
    with serving(BlockingOSCUDPServer(("127.0.0.1", 0), dispatcher)) as server:
        with SimpleUDPClient("127.0.0.1", server.server_address[1]) as client:
            client.send_message("/boom", None)
            client.send_message("/ping", 2)
            assert _replies(client, 1) == [("/pong", [2])]
        assert server.stats.handler_errors == 1
    assert any("handler failed" in (r.exc_text or "") for r in caplog.records)


@pytest.mark.parametrize("server_class", SYNC_SERVERS, ids=lambda c: c.__name__)
def test_future_bundle_does_not_block(
    server_class: type[OSCUDPServer], dispatcher: Dispatcher
) -> None:
    with (
        serving(server_class(("127.0.0.1", 0), dispatcher)) as server,
        SimpleUDPClient("127.0.0.1", server.server_address[1]) as client,
    ):
        client.send(_future_bundle(1.0, "/late"))
        client.send_message("/now", None)
        # The immediate message is answered first; the bundle's result follows at its time.
        assert _replies(client, 2) == [("/now.done", []), ("/late.done", [])]


def test_address_reusable_right_after_stop(dispatcher: Dispatcher) -> None:
    with serving(ThreadingOSCUDPServer(("127.0.0.1", 0), dispatcher)) as first:
        port = first.server_address[1]
    with (
        serving(BlockingOSCUDPServer(("127.0.0.1", port), dispatcher)) as second,
        SimpleUDPClient("127.0.0.1", port) as client,
    ):
        client.send_message("/ping", 3)
        assert _replies(client, 1) == [("/pong", [3])]
    assert second.server_address[1] == port


def test_busy_port_error_names_host_and_port(dispatcher: Dispatcher) -> None:
    with BlockingOSCUDPServer(("127.0.0.1", 0), dispatcher) as server:
        port = server.server_address[1]
        with pytest.raises(OSError, match=rf"127\.0\.0\.1:{port}"):
            BlockingOSCUDPServer(("127.0.0.1", port), dispatcher)


def test_localhost_binds_ipv4(dispatcher: Dispatcher) -> None:
    with BlockingOSCUDPServer(("localhost", 0), dispatcher) as server:
        assert server.socket.family == socket.AF_INET


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback (::1)")
def test_ipv6_server(dispatcher: Dispatcher) -> None:
    with serving(ThreadingOSCUDPServer(("::1", 0), dispatcher)) as server:
        assert server.socket.family == socket.AF_INET6
        with SimpleUDPClient("::1", server.server_address[1]) as client:
            client.send_message("/ping", 6)
            assert _replies(client, 1) == [("/pong", [6])]


def test_broadcast_datagram_reaches_a_server_on_the_loopback_broadcast_address(
    dispatcher: Dispatcher,
) -> None:
    inbox = Inbox()
    dispatcher.map("/all", inbox)
    try:
        server = BlockingOSCUDPServer(("127.255.255.255", 0), dispatcher)
    except OSError:
        pytest.skip("cannot bind the loopback broadcast address here")
    with serving(server):
        with SimpleUDPClient(
            "127.255.255.255", server.server_address[1], allow_broadcast=True
        ) as client:
            client.send_message("/all", 1)
        assert inbox.wait_for(1) == [("/all", 1)]


# ---------------------------------------------------------------------- asyncio server


def test_asyncio_server_replies_and_survives_hostile_datagrams(
    dispatcher: Dispatcher, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="osc_live.osc_server")

    async def coroutine_handler(address: str, value: int) -> tuple[str, int]:
        await asyncio.sleep(0)
        return ("/async", value + 1)

    dispatcher.map("/coro", coroutine_handler)

    async def main() -> tuple[list[tuple[str, list]], int]:
        async with AsyncIOOSCUDPServer(("127.0.0.1", 0), dispatcher) as server:
            port = server.server_address[1]
            async with AsyncUDPClient("127.0.0.1", port, timeout=5.0) as client:
                # (asyncio's sendto() skips empty datagrams: send the junk with a plain socket)
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as raw:
                    for junk in HOSTILE:
                        raw.sendto(junk, ("127.0.0.1", port))
                await client.send_message("/ping", [1, "x"])
                await client.send_message("/coro", 41)
                await client.send_message("/len", BIG_BLOB)
                got = []
                while len(got) < 3:
                    data = await client.receive()
                    assert data
                    message = OscMessage(data)
                    got.append((message.address, message.params))
            return got, server.stats.dropped

    got, dropped = asyncio.run(main())
    assert got == [("/pong", [1, "x"]), ("/async", [42]), ("/len", [len(BIG_BLOB)])]
    assert dropped == len(HOSTILE)
    assert len([r for r in caplog.records if r.name == "osc_live.osc_server"]) == len(HOSTILE)


def test_asyncio_server_future_bundle_does_not_block_the_loop(dispatcher: Dispatcher) -> None:
    async def main() -> tuple[list[str], int]:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        async with AsyncIOOSCUDPServer(("127.0.0.1", 0), dispatcher) as server:
            tick_task = asyncio.create_task(ticker())
            async with AsyncUDPClient("127.0.0.1", server.server_address[1]) as client:
                await client.send(_future_bundle(1.0, "/late"))
                await client.send_message("/now", None)
                first = OscMessage(await client.receive(5.0)).address
                ticks_when_first = ticks
                second = OscMessage(await client.receive(5.0)).address
            tick_task.cancel()
            await asyncio.gather(tick_task, return_exceptions=True)
            # The loop kept running while the bundle waited: the ticker advanced meanwhile.
            return [first, second], ticks - ticks_when_first

    order, ticks_while_waiting = asyncio.run(main())
    assert order == ["/now.done", "/late.done"]
    assert ticks_while_waiting > 0


def test_asyncio_server_python_osc_style_serve(dispatcher: Dispatcher) -> None:
    loop = asyncio.new_event_loop()
    try:
        server = AsyncIOOSCUDPServer(("127.0.0.1", 0), dispatcher, loop)
        server.serve()
        transport = server.transport
        assert transport is not None
        port = server.server_address[1]
        with SimpleUDPClient("127.0.0.1", port) as client:
            client.send_message("/ping", 9)
            data = b""

            async def pump() -> None:
                nonlocal data
                deadline = time.monotonic() + 5.0
                while not data and time.monotonic() < deadline:
                    await asyncio.sleep(0.01)
                    data = client.receive()

            loop.run_until_complete(pump())
        assert OscMessage(data).params == [9]
        loop.run_until_complete(server.aclose())
        # The port is free again at once.
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind(("127.0.0.1", port))
    finally:
        loop.close()


def test_asyncio_server_closed_through_its_transport_leaves_no_task(dispatcher: Dispatcher) -> None:
    async def main() -> None:
        server = AsyncIOOSCUDPServer(("127.0.0.1", 0), dispatcher)
        transport, _ = await server.create_serve_endpoint()  # python-osc style
        transport.close()
        await asyncio.sleep(0)
        await asyncio.sleep(0)
        assert asyncio.all_tasks() == {asyncio.current_task()}

    asyncio.run(main())


def test_asyncio_server_busy_port_names_host_and_port(dispatcher: Dispatcher) -> None:
    async def main() -> None:
        async with AsyncIOOSCUDPServer(("127.0.0.1", 0), dispatcher) as first:
            port = first.server_address[1]
            with pytest.raises(OSError, match=rf"127\.0\.0\.1:{port}"):
                await AsyncIOOSCUDPServer(("127.0.0.1", port), dispatcher).create_serve_endpoint()

    asyncio.run(main())


def test_max_datagram_constant() -> None:
    assert MAX_DATAGRAM_SIZE == 65535


def test_host_none_binds_loopback(dispatcher: Dispatcher) -> None:
    with BlockingOSCUDPServer((None, 0), dispatcher) as server:  # type: ignore[arg-type]
        assert server.server_address[0] == "127.0.0.1"

    async def main() -> str:
        async with AsyncIOOSCUDPServer((None, 0), dispatcher) as aserver:
            return str(aserver.server_address[0])

    assert asyncio.run(main()) == "127.0.0.1"


def test_subclass_hooks_are_still_called(dispatcher: Dispatcher) -> None:
    class Picky(BlockingOSCUDPServer):
        def verify_request(self, request: object, client_address: object) -> bool:
            data = request[0]  # type: ignore[index]
            return super().verify_request(request, client_address) and b"secret" not in data

    with serving(Picky(("127.0.0.1", 0), dispatcher)) as server:
        assert not server._direct
        with SimpleUDPClient("127.0.0.1", server.server_address[1]) as client:
            client.send_message("/ping", "secret")
            client.send_message("/ping", "public")
            assert _replies(client, 1) == [("/pong", ["public"])]


def test_a_burst_is_handled_whole(dispatcher: Dispatcher) -> None:
    inbox = Inbox()
    dispatcher.map("/burst", inbox)
    server = BlockingOSCUDPServer(("127.0.0.1", 0), dispatcher)
    server.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    with SimpleUDPClient("127.0.0.1", server.server_address[1]) as client:
        for i in range(200):  # queued before the server even starts serving
            client.send_message("/burst", i)
        with serving(server):
            got = inbox.wait_for(200)
    assert [args[1] for args in got] == list(range(200))
    assert server.stats.packets == 200


@pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback (::1)")
def test_asyncio_server_ipv6(dispatcher: Dispatcher) -> None:
    async def main() -> bytes:
        async with AsyncIOOSCUDPServer(("::1", 0), dispatcher) as server:
            assert server.transport is not None
            assert server.transport.get_extra_info("socket").family == socket.AF_INET6
            async with AsyncUDPClient("::1", server.server_address[1], timeout=5.0) as client:
                await client.send_message("/ping", 6)
                return await client.receive()

    assert OscMessage(asyncio.run(main())).params == [6]


def test_handle_request_handles_exactly_one(dispatcher: Dispatcher) -> None:
    inbox = Inbox()
    dispatcher.map("/one", inbox)
    with (
        BlockingOSCUDPServer(("127.0.0.1", 0), dispatcher, timeout=5.0) as server,
        SimpleUDPClient("127.0.0.1", server.server_address[1]) as client,
    ):
        client.send_message("/one", 1)
        client.send_message("/one", 2)
        server.handle_request()
        assert inbox.items == [("/one", 1)]
        server.handle_request()
        assert inbox.items == [("/one", 1), ("/one", 2)]


# --- receive buffer ---------------------------------------------------------------------


def _granted(size: int | None) -> int:
    """What the kernel reports for a fresh UDP socket that asked for ``size`` (None: default)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        if size is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)
        return sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)


@pytest.mark.parametrize("server_class", SYNC_SERVERS, ids=lambda c: c.__name__)
def test_server_asks_for_a_large_receive_buffer(
    server_class: type[OSCUDPServer], dispatcher: Dispatcher
) -> None:
    from osc_live._net import DEFAULT_UDP_RECV_BUFFER

    assert DEFAULT_UDP_RECV_BUFFER == 4 << 20
    cases: list[tuple[dict[str, int | None], int]] = [
        ({}, _granted(4 << 20)),  # the default: 4 MiB, as far as net.core.rmem_max allows
        ({"recv_buffer_size": 65536}, _granted(65536)),
        ({"recv_buffer_size": None}, _granted(None)),  # the system default, untouched
        ({"recv_buffer_size": 0}, _granted(None)),
        ({"recv_buffer_size": 1 << 40}, _granted((1 << 31) - 1)),  # capped, quietly
    ]
    for kwargs, expected in cases:
        server = server_class(("127.0.0.1", 0), dispatcher, **kwargs)  # type: ignore[arg-type]
        try:
            assert server.recv_buffer_size == expected, kwargs
            got = server.socket.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
            assert got == expected
        finally:
            server.server_close()
    assert _granted(4 << 20) >= _granted(None)  # never smaller than the default


def test_server_receive_buffer_is_applied_before_serving(dispatcher: Dispatcher) -> None:
    with serving(BlockingOSCUDPServer(("127.0.0.1", 0), dispatcher)) as server:
        assert server.recv_buffer_size == _granted(4 << 20)
        with SimpleUDPClient("127.0.0.1", server.server_address[1]) as client:
            client.send_message("/ping", [1])
            assert _replies(client, 1) == [("/pong", [1])]


@pytest.mark.parametrize("bad", [-1, "big", 1.5, True])
def test_bad_receive_buffer_size_is_refused_without_leaking(
    bad: object, dispatcher: Dispatcher
) -> None:
    with pytest.raises((TypeError, ValueError)):
        BlockingOSCUDPServer(("127.0.0.1", 0), dispatcher, recv_buffer_size=bad)  # type: ignore[arg-type]
    with pytest.raises((TypeError, ValueError)):
        AsyncIOOSCUDPServer(("127.0.0.1", 0), dispatcher, recv_buffer_size=bad)  # type: ignore[arg-type]


def test_async_server_asks_for_a_large_receive_buffer(dispatcher: Dispatcher) -> None:
    async def main() -> list[int]:
        sizes = []
        for kwargs in ({}, {"recv_buffer_size": 65536}, {"recv_buffer_size": None}):
            server = AsyncIOOSCUDPServer(("127.0.0.1", 0), dispatcher, **kwargs)  # type: ignore[arg-type]
            assert server.recv_buffer_size == 0  # not bound yet
            async with server:
                sizes.append(server.recv_buffer_size)
                sock = server.transport.get_extra_info("socket")  # type: ignore[union-attr]
                assert sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) == sizes[-1]
        return sizes

    assert asyncio.run(main()) == [_granted(4 << 20), _granted(65536), _granted(None)]
