"""TCP clients: reading (framers, chunking), receive/get_messages semantics, errors, async use."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from osc_live import tcp_client
from osc_live.dispatcher import Dispatcher
from osc_live.osc_bundle import OscBundle
from osc_live.osc_message import OscMessage, encode_message
from tests.tcp_support import HOSTS, RunningServer, ipv6_available, wait_until

pytestmark = pytest.mark.timeout(60)

MSG_A = encode_message("/a", [1, "x"])
MSG_B = encode_message("/b/c", [2.5])
BUNDLE = OscBundle.from_contents(
    1, [OscMessage(MSG_A), OscBundle.from_contents(1, [OscMessage(MSG_B)])]
).dgram


def size_frame(p: bytes) -> bytes:
    return len(p).to_bytes(4, "big") + p


def slip_frame(p: bytes) -> bytes:
    return b"\xc0" + p.replace(b"\xdb", b"\xdb\xdd").replace(b"\xc0", b"\xdb\xdc") + b"\xc0"


class RawPeer:
    """A bare listening socket: accepts one connection, runs ``script(conn)``, records input."""

    def __init__(self, script: Callable[[socket.socket], None], host: str = "127.0.0.1") -> None:
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.listener = socket.socket(fam, socket.SOCK_STREAM)
        self.listener.bind((host, 0))
        self.listener.listen(1)
        self.port = self.listener.getsockname()[1]
        self.script = script
        self.received = bytearray()
        self.thread = threading.Thread(target=self._run, name="raw-peer")
        self.thread.start()

    def _run(self) -> None:
        self.listener.settimeout(10)
        try:
            conn, _ = self.listener.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(10)
            self.script(conn)
            conn.settimeout(0.5)
            try:
                while True:
                    data = conn.recv(65536)
                    if not data:
                        break
                    self.received += data
            except OSError:
                pass

    def close(self) -> None:
        self.listener.close()
        self.thread.join(15)


@pytest.fixture
def raw_peer() -> Iterator[Callable[..., RawPeer]]:
    peers: list[RawPeer] = []

    def make(script: Callable[[socket.socket], None], host: str = "127.0.0.1") -> RawPeer:
        peer = RawPeer(script, host)
        peers.append(peer)
        return peer

    yield make
    for peer in peers:
        peer.close()


def _chunks(data: bytes, sizes: list[int]) -> list[bytes]:
    out, pos = [], 0
    for n in sizes:
        out.append(data[pos : pos + n])
        pos += n
    if pos < len(data):
        out.append(data[pos:])
    return out


def _sender(chunks: list[bytes], close: bool = False) -> Callable[[socket.socket], None]:
    def script(conn: socket.socket) -> None:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for c in chunks:
            conn.sendall(c)
            threading.Event().wait(0.01)
        if close:
            conn.shutdown(socket.SHUT_WR)

    return script


STREAMS = {
    "1.0-split-header": ("1.0", _chunks(size_frame(MSG_A) + size_frame(BUNDLE), [2, 3, 1, 7])),
    "1.0-byte-by-byte": ("1.0", [bytes([b]) for b in size_frame(MSG_A) + size_frame(MSG_B)]),
    "1.0-one-chunk": ("1.0", [size_frame(MSG_A) + size_frame(BUNDLE)]),
    "1.1-split": ("1.1", _chunks(slip_frame(MSG_A) + slip_frame(BUNDLE), [1, 5, 3])),
    "1.1-byte-by-byte": ("1.1", [bytes([b]) for b in slip_frame(MSG_A) + slip_frame(MSG_B)]),
    "1.1-single-end": ("1.1", [MSG_A + b"\xc0" + MSG_B + b"\xc0"]),
}


@pytest.mark.parametrize("name", list(STREAMS))
def test_receive_parses_any_chunking(raw_peer: Callable[..., RawPeer], name: str) -> None:
    mode, chunks = STREAMS[name]
    peer = raw_peer(_sender(chunks))
    with tcp_client.TCPClient("127.0.0.1", peer.port, mode=mode) as client:
        got = list(client.receive(timeout=0.5))
    assert got[0] == OscMessage(MSG_A)
    assert isinstance(got[0], OscMessage) and got[0].params == [1, "x"]
    if BUNDLE in b"".join(chunks) or BUNDLE.replace(b"\xc0", b"\xdb\xdc") in b"".join(chunks):
        assert isinstance(got[1], OscBundle) and got[1].num_contents == 2
    else:
        assert got[1] == OscMessage(MSG_B)
    assert len(got) == 2


def test_get_messages_flattens_bundles(raw_peer: Callable[..., RawPeer]) -> None:
    peer = raw_peer(_sender([slip_frame(BUNDLE), slip_frame(MSG_B)]))
    with tcp_client.SimpleTCPClient("127.0.0.1", peer.port) as client:
        got = [(m.address, m.params) for m in client.get_messages(timeout=0.5)]
    assert got == [("/a", [1, "x"]), ("/b/c", [2.5]), ("/b/c", [2.5])]


def test_receive_ends_when_server_closes(raw_peer: Callable[..., RawPeer]) -> None:
    peer = raw_peer(_sender([slip_frame(MSG_A)], close=True))
    with tcp_client.TCPClient("127.0.0.1", peer.port) as client:
        # A long timeout: the loop must end on EOF, not on the timeout.
        got = list(client.receive(timeout=30))
    assert got == [OscMessage(MSG_A)]


def test_receive_raw_is_python_osc_shaped(raw_peer: Callable[..., RawPeer]) -> None:
    peer = raw_peer(_sender([slip_frame(MSG_A) + slip_frame(MSG_B)]))
    with tcp_client.TCPClient("127.0.0.1", peer.port) as client:
        assert client.receive_raw(timeout=2) == [MSG_A, MSG_B]
        assert client.receive_raw(timeout=0.2) == []


def test_malformed_packet_is_skipped_and_logged(
    raw_peer: Callable[..., RawPeer], caplog: pytest.LogCaptureFixture
) -> None:
    peer = raw_peer(_sender([slip_frame(b"/bad\x00\x00\x00\x00,ii\x00\x01") + slip_frame(MSG_A)]))
    with (
        caplog.at_level(logging.WARNING, logger="osc_live.tcp_client"),
        tcp_client.TCPClient("127.0.0.1", peer.port) as client,
    ):
        got = list(client.receive(timeout=0.5))
    assert got == [OscMessage(MSG_A)]
    assert any(r.name == "osc_live.tcp_client" for r in caplog.records)


@pytest.mark.parametrize("mode", ["1.0", "1.1"])
def test_wire_format_and_first_slip_frame(raw_peer: Callable[..., RawPeer], mode: str) -> None:
    peer = raw_peer(lambda conn: None)
    client = tcp_client.TCPClient("127.0.0.1", peer.port, mode=mode)
    client.send_message("/a", [1, "x"])
    client.send(OscMessage(MSG_B))
    client.close()
    peer.thread.join(10)
    if mode == "1.0":
        assert bytes(peer.received) == size_frame(MSG_A) + size_frame(MSG_B)
    else:
        # The first SLIP frame of a connection goes without its leading END (liblo quirk).
        assert bytes(peer.received) == slip_frame(MSG_A)[1:] + slip_frame(MSG_B)


def test_send_message_values(raw_peer: Callable[..., RawPeer]) -> None:
    peer = raw_peer(lambda conn: None)
    client = tcp_client.TCPClient("127.0.0.1", peer.port, mode="1.0")
    client.send_message("/none")
    client.send_message("/nil", None)
    client.send_message("/list", [1, 2.0, "s", b"b", True])
    client.send_message("/tuple", (1, 2))
    client.send_message("/str", "hello")
    client.send_messages([("/m1", 1), ("/m2", [2, 3])])
    client.close()
    peer.thread.join(10)
    data = bytes(peer.received)
    packets = []
    while data:
        n = int.from_bytes(data[:4], "big")
        packets.append(OscMessage(data[4 : 4 + n]))
        data = data[4 + n :]
    assert [(m.address, m.params) for m in packets] == [
        ("/none", []),
        ("/nil", [None]),
        ("/list", [1, 2.0, "s", b"b", True]),
        ("/tuple", [1, 2]),
        ("/str", ["hello"]),
        ("/m1", [1]),
        ("/m2", [2, 3]),
    ]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_connection_refused_names_host_and_port() -> None:
    port = _free_port()
    with pytest.raises(ConnectionRefusedError) as info:
        tcp_client.SimpleTCPClient("127.0.0.1", port)
    assert f"127.0.0.1:{port}" in str(info.value)
    assert isinstance(info.value, OSError)


def test_async_connection_refused_names_host_and_port() -> None:
    port = _free_port()

    async def main() -> None:
        client = tcp_client.AsyncTCPClient("127.0.0.1", port)
        with pytest.raises(ConnectionRefusedError) as info:
            await client.send_message("/x", 1)
        assert f"127.0.0.1:{port}" in str(info.value)
        await client.close()

    asyncio.run(main())


def test_bad_mode_is_rejected() -> None:
    with pytest.raises(ValueError):
        tcp_client.AsyncTCPClient("127.0.0.1", 1, mode="2.0")
    assert tcp_client.MODE_1_0 == "1.0" and tcp_client.MODE_1_1 == "1.1"


@pytest.mark.skipif(not ipv6_available(), reason="no IPv6 loopback")
def test_ipv6_literal_with_default_family() -> None:
    with RunningServer("threading", host="::1") as srv:
        with tcp_client.SimpleTCPClient("::1", srv.port) as client:  # family left AF_INET
            assert client.family == socket.AF_INET6
            client.send_message("/v6", 6)
            got = [(m.address, m.params) for m in client.get_messages(timeout=2) if m]
            assert got[:1] == [("/echo/v6", [6])]
        assert srv.wait_for(1)[0] == ("/v6", [6])


def test_async_connects_on_await_on_async_with_and_on_first_use() -> None:
    with RunningServer("threading") as srv:

        async def main() -> None:
            c1 = await tcp_client.AsyncTCPClient("127.0.0.1", srv.port)
            assert c1.connected
            await c1.close()
            async with tcp_client.AsyncSimpleTCPClient("127.0.0.1", srv.port) as c2:
                assert c2.connected
            c3 = tcp_client.AsyncTCPClient("127.0.0.1", srv.port)
            assert not c3.connected
            await c3.send_message("/first", 1)
            assert c3.connected
            raw = await c3.receive(timeout=2)  # python-osc style: list of raw packets
            assert raw and OscMessage(raw[0]).address == "/echo/first"
            await c3.close()
            await c3.close()  # idempotent

        asyncio.run(main())


def test_async_receive_and_get_messages_end_quietly() -> None:
    with RunningServer("asyncio") as srv:

        async def main() -> None:
            async with tcp_client.AsyncTCPClient("127.0.0.1", srv.port) as client:
                await client.send_message("/a", [1, 2])
                await client.send(OscBundle.from_contents(1, [OscMessage(MSG_A)]))
                got = [m async for m in client.get_messages(timeout=0.5)]
                assert [(m.address, m.params) for m in got] == [
                    ("/echo/a", [1, 2]),
                    ("/echo/a", [1, "x"]),
                ]
                assert [m async for m in client.receive(timeout=0.1)] == []

        asyncio.run(main())


def test_tcp_dispatch_client_replies_and_instance_dispatcher() -> None:
    seen: list[Any] = []

    def on_echo(address: str, *args: Any) -> Any:
        seen.append((address, args))
        return ("/thanks", *args)

    mine = Dispatcher()
    mine.map("/echo/*", on_echo)
    try:
        with RunningServer("threading") as srv:
            client = tcp_client.TCPDispatchClient("127.0.0.1", srv.port, dispatcher=mine)
            assert client.dispatcher is mine
            assert tcp_client.TCPDispatchClient.dispatcher is not mine
            client.send_message("/ping", 7)
            client.handle_messages(0.5)
            client.close()
            got = srv.wait_for(2)
        assert seen == [("/echo/ping", (7,))]
        assert ("/thanks", [7]) in got
    finally:
        mine.close()


def test_async_dispatch_client_class_attribute_and_replies() -> None:
    saved = tcp_client.AsyncDispatchTCPClient.dispatcher
    seen: list[Any] = []

    async def on_echo(address: str, *args: Any) -> Any:
        seen.append((address, args))
        return ("/thanks", *args)

    try:
        tcp_client.AsyncDispatchTCPClient.dispatcher = Dispatcher()
        tcp_client.AsyncDispatchTCPClient.dispatcher.map("/echo/*", on_echo)
        with RunningServer("asyncio") as srv:

            async def main() -> None:
                client = tcp_client.AsyncDispatchTCPClient("127.0.0.1", srv.port)
                try:
                    await client.send_message("/ping", 8)
                    await client.handle_messages(timeout=0.5)
                finally:
                    await client.close()

            asyncio.run(main())
            got = srv.wait_for(2)
        assert seen == [("/echo/ping", (8,))]
        assert ("/thanks", [8]) in got
    finally:
        tcp_client.AsyncDispatchTCPClient.dispatcher.close()
        tcp_client.AsyncDispatchTCPClient.dispatcher = saved


@pytest.mark.parametrize("host", HOSTS)
def test_send_on_plain_clients(host: str) -> None:
    with RunningServer("threading", host=host) as srv:
        with tcp_client.TCPClient(
            host, srv.port, family=socket.AF_INET6 if ":" in host else socket.AF_INET
        ) as c:
            c.send_message("/plain", "x")

        async def main() -> None:
            async with tcp_client.AsyncTCPClient(host, srv.port) as ac:
                await ac.send_message("/async/plain", ["a", "b"])

        asyncio.run(main())
        assert sorted(srv.wait_for(2)) == [("/async/plain", ["a", "b"]), ("/plain", ["x"])]


def test_send_after_close_raises() -> None:
    with RunningServer("threading") as srv:
        client = tcp_client.TCPClient("127.0.0.1", srv.port)
        client.close()
        with pytest.raises(OSError):
            client.send_message("/x", 1)


def _reset(conn: socket.socket) -> None:
    """Abort the connection: SO_LINGER 0 makes close() send a RST."""
    conn.sendall(slip_frame(MSG_A))
    threading.Event().wait(0.2)
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")


def test_reset_during_receive_names_the_peer(raw_peer: Callable[..., RawPeer]) -> None:
    peer = raw_peer(_reset)
    with tcp_client.TCPClient("127.0.0.1", peer.port) as client:
        got = []
        with pytest.raises(ConnectionResetError) as info:
            for packet in client.receive(timeout=5):
                got.append(packet)
                peer.listener.close()
                peer.thread.join(10)
        assert got == [OscMessage(MSG_A)]
        assert f"127.0.0.1:{peer.port}" in str(info.value)


def test_async_reset_during_receive_names_the_peer(raw_peer: Callable[..., RawPeer]) -> None:
    peer = raw_peer(_reset)

    async def main() -> None:
        async with tcp_client.AsyncTCPClient("127.0.0.1", peer.port) as client:
            got = []
            with pytest.raises(ConnectionResetError) as info:
                async for packet in client.receive(timeout=5):
                    got.append(packet)
            assert got == [OscMessage(MSG_A)]
            assert f"127.0.0.1:{peer.port}" in str(info.value)

    asyncio.run(main())


@pytest.mark.parametrize("kind", ["threading", "asyncio"])
def test_close_with_unread_replies_loses_nothing(kind: str) -> None:
    # Closing with unread input would send a reset that can destroy unread requests.
    n = 20_000
    with RunningServer(kind) as srv:
        client = tcp_client.SimpleTCPClient("127.0.0.1", srv.port)
        for i in range(n):
            client.send_message("/n", i)
        client.close()

        async def main() -> None:
            async with tcp_client.AsyncSimpleTCPClient("127.0.0.1", srv.port) as ac:
                for i in range(n):
                    await ac.send_message("/a", i)

        asyncio.run(main())
        got = srv.wait_for(2 * n, timeout=30)
    assert [p[0] for a, p in got if a == "/n"] == list(range(n))
    assert [p[0] for a, p in got if a == "/a"] == list(range(n))


@pytest.mark.parametrize("kind", ["threading", "asyncio"])
@pytest.mark.parametrize("client", ["blocking", "asyncio"])
def test_close_waits_for_a_slow_server(kind: str, client: str) -> None:
    # The server needs ~0.8 s for what was sent, and answers everything: close() must wait
    # for its EOF (a fixed short wait used to close with replies unread: a reset, and the
    # asyncio server lost the rest).  Not a time bound: the wait ends with the server's EOF.
    n = 800
    got: list[int] = []

    def slow(address: str, value: int) -> tuple[str, int]:
        threading.Event().wait(0.001)
        got.append(value)
        return ("/echo", value)

    with RunningServer(kind, setup=lambda d: d.map("/slow", slow)) as srv:
        if client == "blocking":
            c = tcp_client.SimpleTCPClient("127.0.0.1", srv.port)
            for i in range(n):
                c.send_message("/slow", i)
            c.close()
        else:

            async def main() -> None:
                async with tcp_client.AsyncSimpleTCPClient("127.0.0.1", srv.port) as ac:
                    for i in range(n):
                        await ac.send_message("/slow", i)

            asyncio.run(main())
        wait_until(lambda: len(got) == n, timeout=30)
    assert got == list(range(n))


def _reads_but_never_closes(conn: socket.socket) -> None:
    conn.settimeout(0.1)
    end = threading.Event()
    for _ in range(30):  # 3 s, then RawPeer reads to the client's close
        with contextlib.suppress(TimeoutError):
            if not conn.recv(65536):
                end.wait(1.0)  # the client's EOF: keep our side open a while longer
                return


@pytest.mark.parametrize("client", ["blocking", "asyncio"])
def test_close_without_the_servers_confirmation_says_so(
    raw_peer: Callable[..., RawPeer], caplog: pytest.LogCaptureFixture, client: str
) -> None:
    # A server that does not close its side after the client's EOF: close(timeout) gives up
    # after that long and a WARNING names the server and what may be lost.
    peer = raw_peer(_reads_but_never_closes)
    with caplog.at_level(logging.WARNING, logger="osc_live.tcp_client"):
        if client == "blocking":
            c = tcp_client.SimpleTCPClient("127.0.0.1", peer.port)
            c.send_message("/a", 1)
            c.close(timeout=0.2)
            c.close(timeout=0.2)  # idempotent, says nothing twice
        else:

            async def main() -> None:
                ac = await tcp_client.AsyncSimpleTCPClient("127.0.0.1", peer.port)
                await ac.send_message("/a", 1)
                await ac.close(timeout=0.2)
                await ac.close(timeout=0.2)

            asyncio.run(main())
    warnings = [r.getMessage() for r in caplog.records if "confirmation" in r.getMessage()]
    assert len(warnings) == 1
    assert f"127.0.0.1:{peer.port}" in warnings[0]
    assert "had not closed its side after 0.2 s" in warnings[0]


@pytest.mark.parametrize("client", ["blocking", "asyncio"])
def test_close_with_a_server_that_closes_says_nothing(
    caplog: pytest.LogCaptureFixture, client: str
) -> None:
    with (
        caplog.at_level(logging.WARNING, logger="osc_live.tcp_client"),
        RunningServer("threading") as srv,
    ):
        if client == "blocking":
            with tcp_client.SimpleTCPClient("127.0.0.1", srv.port) as c:
                c.send_message("/a", 1)
        else:

            async def main() -> None:
                async with tcp_client.AsyncSimpleTCPClient("127.0.0.1", srv.port) as ac:
                    await ac.send_message("/a", 1)

            asyncio.run(main())
        srv.wait_for(1)
    assert not [r for r in caplog.records if r.name == "osc_live.tcp_client"]


def test_hostile_server_cannot_crash_the_client(
    raw_peer: Callable[..., RawPeer], caplog: pytest.LogCaptureFixture
) -> None:
    # A good packet, then a size prefix far beyond the limit: the good one is delivered, the
    # stream is given up with a warning, receive() ends quietly.
    peer = raw_peer(_sender([size_frame(MSG_A) + (1 << 31).to_bytes(4, "big") + b"junk"]))
    with (
        caplog.at_level(logging.WARNING, logger="osc_live.tcp_client"),
        tcp_client.TCPClient("127.0.0.1", peer.port, mode="1.0", max_packet_size=4096) as c,
    ):
        assert list(c.receive(timeout=1)) == [OscMessage(MSG_A)]
    assert any("max_packet_size" in r.getMessage() for r in caplog.records)


# --- local_address --------------------------------------------------------------------------


def _listener(host: str) -> socket.socket:
    lst = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    lst.bind((host, 0))
    lst.listen(4)
    lst.settimeout(0.05)
    return lst


def _accept(lst: socket.socket) -> tuple[socket.socket, tuple[str, int]] | None:
    try:
        conn, peer = lst.accept()
    except TimeoutError:
        return None
    return conn, (peer[0], peer[1])


@pytest.mark.parametrize("host", HOSTS)
def test_local_address_of_the_blocking_client_follows_reconnects(host: str) -> None:
    fast = tcp_client.ReconnectPolicy(initial_delay=0.01, max_delay=0.05)
    with _listener(host) as lst:
        client = tcp_client.SimpleTCPClient(host, lst.getsockname()[1], reconnect=fast)
        try:
            accepted = _accept(lst)
            assert accepted is not None
            first, first_peer = accepted
            assert client.local_address == first_peer  # what the server sees as our address
            assert client.local_address[0] == host
            first.close()  # the server cuts the connection: the client reconnects
            second = None
            for i in range(400):
                client.send_message("/seq", i)
                second = _accept(lst)
                if second is not None:
                    break
            assert second is not None
            conn, second_peer = second
            with conn:
                assert wait_until(lambda: client.local_address == second_peer)
                assert second_peer != first_peer
        finally:
            client.close()
        assert client.local_address is None


@pytest.mark.parametrize("host", HOSTS)
def test_local_address_of_the_async_client_follows_reconnects(host: str) -> None:
    peers: list[tuple[str, int]] = []
    writers: list[asyncio.StreamWriter] = []

    async def accepted(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peername = writer.get_extra_info("peername")
        peers.append((peername[0], peername[1]))
        writers.append(writer)
        with contextlib.suppress(OSError):
            await reader.read()  # until the client closes: then confirm its close
        writer.close()

    async def main() -> None:
        server = await asyncio.start_server(accepted, host, 0)
        port = server.sockets[0].getsockname()[1]
        fast = tcp_client.ReconnectPolicy(initial_delay=0.01, max_delay=0.05)
        client = tcp_client.AsyncSimpleTCPClient(host, port, reconnect=fast)
        try:
            assert client.local_address is None  # not connected yet
            await client.connect()
            for _ in range(200):
                if peers:
                    break
                await asyncio.sleep(0.01)
            assert client.local_address == peers[0] and peers[0][0] == host
            writers[0].close()  # the server cuts the connection: the client reconnects
            for _ in range(400):
                if len(peers) == 2 and client.connected:
                    break
                await asyncio.sleep(0.01)
            assert len(peers) == 2 and peers[1] != peers[0]
            assert client.local_address == peers[1]
        finally:
            await client.close()
            server.close()
            await server.wait_closed()
        assert client.local_address is None

    asyncio.run(main())
