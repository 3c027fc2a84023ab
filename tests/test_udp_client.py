"""UDP clients of osc_live against plain sockets: python-osc's shapes and our additions."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator

import pytest
from pythonosc import udp_client as py_udp_client

from osc_live.dispatcher import Dispatcher
from osc_live.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from osc_live.osc_message import OscMessage
from osc_live.osc_message_builder import OscMessageBuilder
from osc_live.udp_client import (
    MAX_DATAGRAM_SIZE,
    AsyncUDPClient,
    DispatchClient,
    SimpleUDPClient,
    UDPClient,
)

# Near the largest UDP payload over IPv4 (65507), as one OSC message with a blob.
BIG_BLOB = bytes(range(256)) * 254  # 65024 bytes


def _ipv6_loopback() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


needs_ipv6 = pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback (::1)")


@pytest.fixture
def peer() -> Iterator[socket.socket]:
    """A raw UDP socket on 127.0.0.1 playing the server."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.settimeout(5.0)
        yield sock


def _port(sock: socket.socket) -> int:
    return int(sock.getsockname()[1])


def _message(address: str, *args: object) -> bytes:
    builder = OscMessageBuilder(address)
    for arg in args:
        builder.add_arg(arg)  # type: ignore[arg-type]
    return builder.build().dgram


@pytest.mark.parametrize(
    "value",
    [None, 1, 2.5, "hi", b"\x00\x01", True, [1, 2.5, "three"], (4, 5), [], [[1, 2], "x"], 2**40],
    ids=repr,
)
def test_send_message_bytes_equal_python_osc(peer: socket.socket, value: object) -> None:
    with SimpleUDPClient("127.0.0.1", _port(peer)) as ours:
        ours.send_message("/a/b", value)  # type: ignore[arg-type]
    theirs = py_udp_client.SimpleUDPClient("127.0.0.1", _port(peer))
    try:
        theirs.send_message("/a/b", value)  # type: ignore[arg-type]
    finally:
        theirs._sock.close()
    assert peer.recv(MAX_DATAGRAM_SIZE) == peer.recv(MAX_DATAGRAM_SIZE)


def test_send_message_and_bundle_objects(peer: socket.socket) -> None:
    message = OscMessage(_message("/m", 1))
    bundle = OscBundleBuilder(IMMEDIATELY)
    bundle.add_content(message)
    with UDPClient("127.0.0.1", _port(peer)) as client:
        client.send(message)
        client.send(bundle.build())
    assert peer.recv(MAX_DATAGRAM_SIZE) == message.dgram
    assert peer.recv(MAX_DATAGRAM_SIZE).startswith(b"#bundle\0")


def test_receive_times_out_quietly(peer: socket.socket) -> None:
    with SimpleUDPClient("127.0.0.1", _port(peer), timeout=0.05) as client:
        assert client.receive() == b""  # constructor default
        assert client.receive(0.01) == b""
        assert list(client.get_messages(0.01)) == []
    with SimpleUDPClient("127.0.0.1", _port(peer)) as client:
        assert client.receive() == b""  # no timeout at all: does not wait, as in python-osc


def test_receive_64k_datagram_whole(peer: socket.socket) -> None:
    big = _message("/big", BIG_BLOB)
    assert len(big) > 65000
    with SimpleUDPClient("127.0.0.1", _port(peer)) as client:
        client.send_message("/hello", [])
        _, where = peer.recvfrom(MAX_DATAGRAM_SIZE)
        peer.sendto(big, where)
        peer.sendto(big, where)
        assert client.receive(5.0) == big
        (message,) = list(client.get_messages(0.5))
    assert message.address == "/big"
    assert message.params == [BIG_BLOB]


def test_send_64k_datagram(peer: socket.socket) -> None:
    with SimpleUDPClient("127.0.0.1", _port(peer)) as client:
        client.send_message("/big", BIG_BLOB)
    data = peer.recv(MAX_DATAGRAM_SIZE)
    assert OscMessage(data).params == [BIG_BLOB]


def test_get_messages_flattens_bundles_and_skips_garbage(peer: socket.socket) -> None:
    bundle = OscBundleBuilder(IMMEDIATELY)
    bundle.add_content(OscMessage(_message("/one", 1)))
    bundle.add_content(OscMessage(_message("/two", 2)))
    with SimpleUDPClient("127.0.0.1", _port(peer)) as client:
        client.send_message("/hello", None)
        _, where = peer.recvfrom(MAX_DATAGRAM_SIZE)
        peer.sendto(bundle.build().dgram, where)
        peer.sendto(b"garbage", where)
        peer.sendto(_message("/three", 3), where)
        got = [(m.address, m.params) for m in client.get_messages(0.5)]
    assert got == [("/one", [1]), ("/two", [2]), ("/three", [3])]


@needs_ipv6
def test_ipv6_loopback() -> None:
    with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as server:
        server.bind(("::1", 0))
        server.settimeout(5.0)
        with SimpleUDPClient("::1", _port(server)) as client:
            client.send_message("/v6", 6)
            data, where = server.recvfrom(MAX_DATAGRAM_SIZE)
            assert OscMessage(data).params == [6]
            server.sendto(_message("/back", 7), where)
            assert [m.params for m in client.get_messages(2.0)] == [[7]]


def test_family_is_honoured(peer: socket.socket) -> None:
    with SimpleUDPClient("localhost", _port(peer), family=socket.AF_INET) as client:
        client.send_message("/fam", 4)
        assert client._sock.family == socket.AF_INET
    assert OscMessage(peer.recv(MAX_DATAGRAM_SIZE)).params == [4]


def test_localhost_prefers_ipv4(peer: socket.socket) -> None:
    with SimpleUDPClient("localhost", _port(peer)) as client:
        client.send_message("/lh", 1)
    assert OscMessage(peer.recv(MAX_DATAGRAM_SIZE)).address == "/lh"


def test_broadcast_flag() -> None:
    with UDPClient("127.255.255.255", 9, allow_broadcast=True) as client:
        assert client._sock.getsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST) == 1
    with UDPClient("127.255.255.255", 9) as client:
        assert client._sock.getsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST) == 0
        with pytest.raises(PermissionError):
            client.send(OscMessage(_message("/nope")))


def test_broadcast_reaches_a_listener_on_the_loopback_broadcast_address() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as listener:
        try:
            listener.bind(("127.255.255.255", 0))
        except OSError:
            pytest.skip("cannot bind the loopback broadcast address here")
        listener.settimeout(5.0)
        with SimpleUDPClient("127.255.255.255", _port(listener), allow_broadcast=True) as client:
            client.send_message("/all", 1)
        assert OscMessage(listener.recv(MAX_DATAGRAM_SIZE)).address == "/all"


def test_unknown_host_names_host_and_port() -> None:
    with pytest.raises(socket.gaierror, match=r"no-such-host\.invalid:9000"):
        UDPClient("no-such-host.invalid", 9000)


def test_close_is_idempotent(peer: socket.socket) -> None:
    client = UDPClient("127.0.0.1", _port(peer))
    client.close()
    client.close()
    assert client.fileno() == -1


def test_dispatch_client_handles_and_replies(peer: socket.socket) -> None:
    dispatcher = Dispatcher()
    seen: list[tuple[object, ...]] = []

    def on_ping(address: str, *args: object) -> tuple[str, int]:
        seen.append((address, *args))
        return ("/pong", len(seen))

    dispatcher.map("/ping", on_ping)
    try:
        with DispatchClient("127.0.0.1", _port(peer), dispatcher=dispatcher) as client:
            assert client.dispatcher is dispatcher
            assert DispatchClient.dispatcher is not dispatcher
            client.send_message("/hello", None)
            _, where = peer.recvfrom(MAX_DATAGRAM_SIZE)
            peer.sendto(_message("/ping", 1, "a"), where)
            peer.sendto(_message("/ping", 2), where)
            client.handle_messages(0.3)
        assert seen == [("/ping", 1, "a"), ("/ping", 2)]
        replies = [OscMessage(peer.recv(MAX_DATAGRAM_SIZE)) for _ in range(2)]
        assert [(m.address, m.params) for m in replies] == [("/pong", [1]), ("/pong", [2])]
    finally:
        dispatcher.close()


def test_dispatch_client_class_attribute(peer: socket.socket) -> None:
    original = DispatchClient.dispatcher
    dispatcher = Dispatcher()
    seen: list[object] = []
    dispatcher.map("/x", lambda address, *args: seen.append(args))
    DispatchClient.dispatcher = dispatcher
    try:
        with DispatchClient("127.0.0.1", _port(peer)) as client:
            client.send_message("/hello", None)
            _, where = peer.recvfrom(MAX_DATAGRAM_SIZE)
            peer.sendto(_message("/x", 5), where)
            client.handle_messages(0.3)
        assert seen == [(5,)]
    finally:
        DispatchClient.dispatcher = original
        dispatcher.close()


# ---------------------------------------------------------------------- AsyncUDPClient


def test_async_client_roundtrip(peer: socket.socket) -> None:
    async def main() -> list[tuple[str, list[object]]]:
        client = AsyncUDPClient("127.0.0.1", _port(peer), timeout=2.0)
        assert client.local_address is None  # lazy: nothing created yet
        async with client:
            assert client.local_address is not None
            await client.send_message("/a", [1, "two"])
            data, where = peer.recvfrom(MAX_DATAGRAM_SIZE)
            assert OscMessage(data).params == [1, "two"]
            await client.send(OscMessage(_message("/b", 3.5)))
            assert OscMessage(peer.recv(MAX_DATAGRAM_SIZE)).params == [3.5]
            peer.sendto(_message("/r", 1), where)
            peer.sendto(_message("/big", BIG_BLOB), where)
            assert await client.receive() == _message("/r", 1)
            got = [(m.address, m.params) async for m in client.get_messages(0.3)]
            assert await client.receive(0.01) == b""
        return got

    assert asyncio.run(main()) == [("/big", [BIG_BLOB])]


def test_async_client_await_connects_and_first_use_connects(peer: socket.socket) -> None:
    async def main() -> None:
        client = await AsyncUDPClient("127.0.0.1", _port(peer))
        assert client.local_address is not None
        await client.aclose()
        lazy = AsyncUDPClient("127.0.0.1", _port(peer))
        await lazy.send_message("/lazy", None)
        await lazy.aclose()

    asyncio.run(main())
    assert peer.recv(MAX_DATAGRAM_SIZE) == _message("/lazy")


@needs_ipv6
def test_async_client_ipv6() -> None:
    with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as server:
        server.bind(("::1", 0))
        server.settimeout(5.0)

        async def main() -> None:
            async with AsyncUDPClient("::1", _port(server), timeout=2.0) as client:
                await client.send_message("/v6", 1)
                _, where = server.recvfrom(MAX_DATAGRAM_SIZE)
                server.sendto(_message("/ok"), where)
                assert (await client.receive()) == _message("/ok")

        asyncio.run(main())


def test_async_client_handle_messages_replies(peer: socket.socket) -> None:
    dispatcher = Dispatcher()
    dispatcher.map("/ping", lambda address, value: ("/pong", value * 2))

    async def main() -> None:
        async with AsyncUDPClient("127.0.0.1", _port(peer), dispatcher=dispatcher) as client:
            await client.send_message("/hello", None)
            _, where = peer.recvfrom(MAX_DATAGRAM_SIZE)
            peer.sendto(_message("/ping", 21), where)
            await client.handle_messages(0.3)

    try:
        asyncio.run(main())
    finally:
        dispatcher.close()
    reply = OscMessage(peer.recv(MAX_DATAGRAM_SIZE))
    assert (reply.address, reply.params) == ("/pong", [42])


def test_async_client_queue_bound_counts_drops(peer: socket.socket) -> None:
    async def main() -> int:
        async with AsyncUDPClient("127.0.0.1", _port(peer), max_queue=2) as client:
            await client.send_message("/hello", None)
            _, where = peer.recvfrom(MAX_DATAGRAM_SIZE)
            for i in range(5):
                peer.sendto(_message("/n", i), where)
            deadline = time.monotonic() + 5  # let the loop read all five (one per loop turn)
            while client.dropped < 3 and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            got = []
            while data := await client.receive(0.3):
                got.append(OscMessage(data).params[0])
            assert got == [0, 1]
            return client.dropped

    assert asyncio.run(main()) == 3


def test_connected_client_sends_receives_and_ignores_unreachable(peer: socket.socket) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as closed:
        closed.bind(("127.0.0.1", 0))
        nobody = _port(closed)
    with SimpleUDPClient("127.0.0.1", nobody, connect=True) as client:
        for i in range(3):  # the ICMP "port unreachable" of each send must not surface
            client.send_message("/void", i)
        assert client.receive(0.05) == b""
    with SimpleUDPClient("127.0.0.1", _port(peer), connect=True, timeout=2.0) as client:
        client.send_message("/c", [1, 2.5])
        data, where = peer.recvfrom(MAX_DATAGRAM_SIZE)
        assert OscMessage(data).params == [1, 2.5]
        peer.sendto(_message("/back", 3), where)
        assert [m.params for m in client.get_messages(0.5)] == [[3]]


# --- receive buffer ---------------------------------------------------------------------


def _granted(size: int | None) -> int:
    """What the kernel reports for a fresh UDP socket that asked for ``size`` (None: default)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        if size is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)
        return sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)


@pytest.mark.parametrize("cls", [UDPClient, SimpleUDPClient, DispatchClient])
def test_client_asks_for_a_large_receive_buffer(peer: socket.socket, cls: type[UDPClient]) -> None:
    cases: list[tuple[dict[str, int | None], int]] = [
        ({}, _granted(4 << 20)),
        ({"recv_buffer_size": 65536}, _granted(65536)),
        ({"recv_buffer_size": None}, _granted(None)),
    ]
    for kwargs, expected in cases:
        with cls("127.0.0.1", _port(peer), **kwargs) as client:  # type: ignore[arg-type]
            assert client.recv_buffer_size == expected
            assert client._sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF) == expected
            client.send(_message("/x", 1))  # still sends and receives as before
            data, addr = peer.recvfrom(MAX_DATAGRAM_SIZE)
            assert data == _message("/x", 1)
            peer.sendto(_message("/y", 2), addr)
            assert client.receive(5.0) == _message("/y", 2)
    with pytest.raises(ValueError):
        cls("127.0.0.1", _port(peer), recv_buffer_size=-1)


def test_async_client_asks_for_a_large_receive_buffer(peer: socket.socket) -> None:
    async def main() -> list[int]:
        sizes = []
        for kwargs in ({}, {"recv_buffer_size": 65536}, {"recv_buffer_size": None}):
            client = AsyncUDPClient("127.0.0.1", _port(peer), **kwargs)  # type: ignore[arg-type]
            assert client.recv_buffer_size == 0  # no socket yet
            async with client:
                sizes.append(client.recv_buffer_size)
        return sizes

    assert asyncio.run(main()) == [_granted(4 << 20), _granted(65536), _granted(None)]
    with pytest.raises(TypeError):
        AsyncUDPClient("127.0.0.1", _port(peer), recv_buffer_size="4M")  # type: ignore[arg-type]
