"""OSC over WebSocket: clients and servers of osc_live (sync and asyncio), limits, hostile peers.

Interop with osc.js is in tests/test_ws_oscjs.py; these tests use websockets' own client for the
hostile peers (it can send what our client never would) and raw sockets below the WebSocket layer.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from osc_live._ws import WSLimits, looks_like_osc
from osc_live.dispatcher import Dispatcher
from osc_live.osc_bundle_builder import OscBundleBuilder
from osc_live.osc_message import encode_message
from osc_live.osc_message_builder import build_msg
from osc_live.osc_ws_server import AsyncOSCWSServer, BlockingOSCWSServer
from osc_live.ws_client import AsyncWSClient, WSClient, ws_url

pytestmark = pytest.mark.timeout(30)


def _echo_dispatcher() -> Dispatcher:
    d = Dispatcher()
    d.map("/ping", lambda address, *args: ("/pong", *args))
    return d


def _plain(url: str, **kwargs: Any) -> Any:
    """websockets' asyncio client with no proxy or compression (a bare hostile peer)."""
    kwargs.setdefault("proxy", None)
    kwargs.setdefault("compression", None)
    return connect(url, **kwargs)


async def _pong_of(url: str, value: int) -> list[Any]:
    async with AsyncWSClient(url, timeout=5) as client:
        await client.send_message("/ping", value)
        async for message in client.get_messages(2):
            return [message.address, *message.params]
    return []


# ------------------------------------------------------------------------------- round trips
def test_async_round_trip_every_type_and_bundles() -> None:
    got: list[tuple[str, list[Any]]] = []
    d = Dispatcher()
    d.map("/*", lambda address, *args: got.append((address, list(args))))
    d.map("/ping", lambda address, *args: ("/pong", *args))
    args = [1, 2.5, "text", b"\x00\x01\xff", True, False, None, [1, [2, "x"]], 1 << 40]

    async def main() -> list[Any]:
        async with AsyncOSCWSServer("127.0.0.1", 0, d) as server:
            async with AsyncWSClient(server.url, timeout=5) as client:
                await client.send_message("/data", args)
                bundle = OscBundleBuilder(0)
                bundle.add_content(build_msg("/b/1", 1))
                bundle.add_content(build_msg("/ping", 7))
                await client.send(bundle.build())
                replies = [m async for m in client.get_messages(1)]
            return [(m.address, m.params) for m in replies]

    replies = asyncio.run(main())
    assert replies == [("/pong", [7])]
    assert got[0] == ("/data", args)
    assert got[1:] == [("/b/1", [1]), ("/ping", [7])]


def test_future_bundle_replies_reach_the_sender_later() -> None:
    async def main() -> tuple[float, list[Any]]:
        async with AsyncOSCWSServer("127.0.0.1", 0, _echo_dispatcher()) as server:
            client = AsyncWSClient(server.url, timeout=5)
            async with client:
                bundle = OscBundleBuilder(time.time() + 0.3)
                bundle.add_content(build_msg("/ping", 1))
                t0 = time.monotonic()
                await client.send(bundle.build())
                async for message in client.get_messages(2):
                    return time.monotonic() - t0, [message.address, *message.params]
        return 0.0, []

    elapsed, reply = asyncio.run(main())
    assert reply == ["/pong", 1]
    assert 0.2 < elapsed < 1.5


def test_blocking_server_and_client() -> None:
    server = BlockingOSCWSServer(("127.0.0.1", 0), _echo_dispatcher())
    thread = threading.Thread(target=server.serve_forever, name="ws-serve")
    thread.start()
    try:
        with WSClient("127.0.0.1", server.port, timeout=5) as client:
            for i in range(50):
                client.send_message("/ping", i)
            replies = [m.params[0] for m in client.get_messages(1)]
        assert replies == list(range(50))
        stats = server.stats.as_dict()
        assert stats["packets"] == 50 and stats["replies"] == 50
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_client_dispatcher_answers_the_server() -> None:
    """handle_messages: what the server sends is dispatched; results go back to it."""
    seen: list[Any] = []
    server_d = Dispatcher()
    server_d.map("/hello", lambda address, *args: ("/question", 41))
    server_d.map("/answer", lambda address, *args: seen.append(args))
    client_d = Dispatcher()
    client_d.map("/question", lambda address, n: ("/answer", n + 1))

    server = BlockingOSCWSServer(("127.0.0.1", 0), server_d)
    thread = threading.Thread(target=server.serve_forever, name="ws-serve")
    thread.start()
    try:
        with WSClient(server.url, timeout=5, dispatcher=client_d) as client:
            client.send_message("/hello")
            client.handle_messages(0.5)
        deadline = time.monotonic() + 2
        while not seen and time.monotonic() < deadline:
            time.sleep(0.01)
        assert seen == [(42,)]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_ws_url_forms() -> None:
    assert ws_url("127.0.0.1", 8080) == "ws://127.0.0.1:8080/"
    assert ws_url("::1", 8080, "osc") == "ws://[::1]:8080/osc"
    assert ws_url("ws://h:1/p") == "ws://h:1/p"
    with pytest.raises(ValueError):
        ws_url("http://h:1/")
    with pytest.raises(ValueError):
        ws_url("h")


def test_ipv6_loopback() -> None:
    if not socket.has_ipv6:
        pytest.skip("no IPv6")

    async def main() -> list[Any]:
        async with AsyncOSCWSServer("::1", 0, _echo_dispatcher()) as server:
            assert server.url.startswith("ws://[::1]:")
            return await _pong_of(server.url, 5)

    assert asyncio.run(main()) == ["/pong", 5]


def test_connection_refused_names_the_server() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(ConnectionRefusedError, match=f"127.0.0.1:{port}"):
        WSClient("127.0.0.1", port, timeout=2)


# ---------------------------------------------------------------------------- hostile peers
def _server_log(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "osc_live.websocket" and r.levelno >= 30]


def test_text_frame_is_cut_with_a_reason_others_served(caplog: pytest.LogCaptureFixture) -> None:
    async def main() -> tuple[Any, Any, dict[str, int]]:
        async with AsyncOSCWSServer("127.0.0.1", 0, _echo_dispatcher()) as server:
            async with _plain(server.url) as bad:
                await bad.send("/ping 1")
                await bad.send("again")
                with pytest.raises(ConnectionClosed) as closed:
                    await bad.recv()
            good = await _pong_of(server.url, 3)
            return closed.value.rcvd, good, server.stats.as_dict()

    with caplog.at_level(logging.DEBUG, "osc_live.websocket"):
        close, good, stats = asyncio.run(main())
    assert close.code == 1003 and "binary" in close.reason
    assert good == ["/pong", 3]
    assert stats["text_frames"] == 1 and stats["packets"] == 1
    assert len([r for r in _server_log(caplog) if "text frame" in r.getMessage()]) == 1


def test_text_frames_read_as_osc_js_json_when_asked() -> None:
    got: list[Any] = []
    d = Dispatcher()
    d.map("/*", lambda address, *args: got.append((address, list(args))))

    async def main() -> dict[str, int]:
        async with AsyncOSCWSServer("127.0.0.1", 0, d, text="json") as server:
            async with _plain(server.url) as peer:
                await peer.send('{"address": "/a", "args": [1, "s", true, null]}')
                await peer.send('{"address": "/b", "args": [{"type": "i", "value": 3}]}')
                await peer.send('{"timeTag": {"raw": [0, 1]}, "packets": [{"address": "/c"}]}')
                await peer.send("{not json")
                with pytest.raises(ConnectionClosed) as closed:
                    await peer.recv()
                assert closed.value.rcvd is not None and closed.value.rcvd.code == 1007
            return server.stats.as_dict()

    stats = asyncio.run(main())
    assert got == [("/a", [1.0, "s", True, None]), ("/b", [3]), ("/c", [])]
    assert stats["json_packets"] == 3 and stats["malformed"] == 1


def test_garbage_binary_is_cut_malformed_osc_is_dropped() -> None:
    async def main() -> tuple[Any, list[Any], dict[str, int], int]:
        d = _echo_dispatcher()
        async with AsyncOSCWSServer("127.0.0.1", 0, d) as server:
            async with _plain(server.url) as peer:
                await peer.send(b"/bad\x00\x00\x00\x00,i\x00\x00")  # OSC shape, missing int
                await peer.send(encode_message("/ping", [9]))
                assert await asyncio.wait_for(peer.recv(), 2) == encode_message("/pong", [9])
                await peer.send(os.urandom(64).replace(b"/", b"x").replace(b"#", b"y"))
                with pytest.raises(ConnectionClosed) as closed:
                    await peer.recv()
            good = await _pong_of(server.url, 4)
            return closed.value.rcvd, good, server.stats.as_dict(), d.stats.parse_errors

    close, good, stats, parse_errors = asyncio.run(main())
    assert close.code == 1003
    assert good == ["/pong", 4]
    assert stats["malformed"] == 1 and parse_errors == 1


def test_oversized_message_is_cut_and_counted() -> None:
    async def main() -> tuple[Any, list[Any], dict[str, int]]:
        async with AsyncOSCWSServer(
            "127.0.0.1", 0, _echo_dispatcher(), max_packet_size=1024
        ) as server:
            async with _plain(server.url) as peer:
                await peer.send(encode_message("/big", [b"x" * 4096]))
                with pytest.raises(ConnectionClosed) as closed:
                    await peer.recv()
            good = await _pong_of(server.url, 2)
            return closed.value.rcvd, good, server.stats.as_dict()

    close, good, stats = asyncio.run(main())
    assert close.code == 1009
    assert good == ["/pong", 2]
    assert stats["oversized"] == 1


def test_connections_beyond_the_limit_are_refused() -> None:
    async def main() -> tuple[int, dict[str, int], list[Any]]:
        async with AsyncOSCWSServer(
            "127.0.0.1", 0, _echo_dispatcher(), max_connections=2
        ) as server:
            async with _plain(server.url), _plain(server.url):
                with pytest.raises(InvalidStatus) as refused:
                    async with _plain(server.url):
                        pass
                status = refused.value.response.status_code
            await asyncio.sleep(0.05)
            return status, server.stats.as_dict(), await _pong_of(server.url, 1)

    status, stats, good = asyncio.run(main())
    assert status == 503
    assert stats["refused"] == 1
    assert good == ["/pong", 1]


def test_origin_allow_list_and_path() -> None:
    async def main() -> tuple[int, int, list[Any], dict[str, int]]:
        async with AsyncOSCWSServer(
            "127.0.0.1", 0, _echo_dispatcher(), origins=["http://127.0.0.1:8000", None],
            path="/osc",
        ) as server:  # fmt: skip
            assert server.url.endswith("/osc")
            with pytest.raises(InvalidStatus) as forbidden:
                async with _plain(server.url, origin="http://evil.example"):
                    pass
            with pytest.raises(InvalidStatus) as wrong_path:
                async with _plain(server.url.replace("/osc", "/other")):
                    pass
            ok = await _pong_of(server.url, 6)
            async with _plain(server.url, origin="http://127.0.0.1:8000") as page:
                await page.send(encode_message("/ping", [8]))
                assert await asyncio.wait_for(page.recv(), 2) == encode_message("/pong", [8])
            return (
                forbidden.value.response.status_code,
                wrong_path.value.response.status_code,
                ok,
                server.stats.as_dict(),
            )

    forbidden, wrong_path, ok, stats = asyncio.run(main())
    assert forbidden == 403 and wrong_path == 404
    assert ok == ["/pong", 6]
    assert stats["refused"] == 2


def _handshake(port: int) -> socket.socket:
    """A raw TCP socket that completed the WebSocket opening handshake."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        (
            f"GET / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        ).encode()
    )
    response = b""
    while b"\r\n\r\n" not in response:
        chunk = sock.recv(4096)
        assert chunk, "server closed during the handshake"
        response += chunk
    assert response.startswith(b"HTTP/1.1 101")
    return sock


def _read_close_code(sock: socket.socket) -> int | None:
    """Read frames until a close frame; its code (None if the socket just ends)."""
    data = b""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            chunk = sock.recv(4096)
        except (TimeoutError, ConnectionResetError):
            return None
        if not chunk:
            break
        data += chunk
        while len(data) >= 2:
            opcode, length = data[0] & 0x0F, data[1] & 0x7F
            if len(data) < 2 + length:
                break
            if opcode == 0x8:
                return int.from_bytes(data[2:4], "big")
            data = data[2 + length :]
    return None


@pytest.fixture
def blocking_server() -> Iterator[BlockingOSCWSServer]:
    server = BlockingOSCWSServer(
        ("127.0.0.1", 0), _echo_dispatcher(), ping_interval=0.3, ping_timeout=0.3
    )
    thread = threading.Thread(target=server.serve_forever, name="ws-serve")
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_protocol_garbage_is_cut_and_counted(blocking_server: BlockingOSCWSServer) -> None:
    with _handshake(blocking_server.port) as sock:
        sock.sendall(b"\xff\xff" + os.urandom(30))  # reserved bits, unknown opcode, unmasked
        assert _read_close_code(sock) == 1002
    with WSClient(blocking_server.url, timeout=5) as good:
        good.send_message("/ping", 1)
        assert [m.params for m in good.get_messages(1)] == [[1]]
    stats = blocking_server.stats.as_dict()
    assert stats["protocol_errors"] == 1


def test_peer_stuck_in_a_frame_is_cut_by_the_ping(blocking_server: BlockingOSCWSServer) -> None:
    """A trickling peer cannot answer pings inside its frame: cut after ping_timeout."""
    with _handshake(blocking_server.port) as sock:
        # A masked binary frame announcing 100 bytes, of which 10 are sent, then nothing.
        sock.sendall(bytes([0x82, 0x80 | 100]) + os.urandom(4) + b"x" * 10)
        t0 = time.monotonic()
        _read_close_code(sock)
        elapsed = time.monotonic() - t0
    assert elapsed < 5
    deadline = time.monotonic() + 3
    while blocking_server.stats.timeouts == 0 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert blocking_server.stats.timeouts == 1


def _flood_without_reading(server: BlockingOSCWSServer, counter: str) -> None:
    """A peer asks for 60 kB replies and never reads them: cut (``counter``); others served."""
    with _handshake(server.port) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        frame = encode_message("/flood")
        mask = os.urandom(4)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(frame))
        for _ in range(200):
            sock.sendall(bytes([0x82, 0x80 | len(frame)]) + mask + masked)
        deadline = time.monotonic() + 10
        while getattr(server.stats, counter) == 0:
            assert time.monotonic() < deadline, server.stats
            time.sleep(0.05)
        with WSClient(server.url, timeout=5) as good:
            good.send_message("/ping", 1)
            assert [m.params for m in good.get_messages(1)] == [[1]]
    assert getattr(server.stats, counter) == 1


@pytest.mark.parametrize(
    ("options", "counter"),
    [
        # budget wide open: the send timeout cuts the peer
        ({"send_timeout": 0.3, "max_buffered": 64 << 20, "max_buffered_total": 64 << 20},
         "send_timeouts"),
        # default budget (4 MiB per connection): replies piling up cut the peer first
        ({"send_timeout": 30.0}, "over_buffer"),
    ],
)  # fmt: skip
def test_peer_that_does_not_read_its_replies_is_cut(options: dict[str, Any], counter: str) -> None:
    d = Dispatcher()
    d.map("/flood", lambda address: ("/blob", b"x" * 60_000))
    d.map("/ping", lambda address, *args: ("/pong", *args))
    server = BlockingOSCWSServer(("127.0.0.1", 0), d, write_limit=1024, **options)
    thread = threading.Thread(target=server.serve_forever, name="ws-serve")
    thread.start()
    try:
        _flood_without_reading(server, counter)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_connections_per_host_and_budget_use_the_shared_limits() -> None:
    from osc_live._limits import Limits

    async def main() -> tuple[int, dict[str, int]]:
        limits = Limits(max_connections=10, max_connections_per_host=1)
        async with AsyncOSCWSServer("127.0.0.1", 0, _echo_dispatcher(), limits=limits) as server:
            assert server.limits.max_connections == 10
            async with _plain(server.url):
                with pytest.raises(InvalidStatus) as refused:
                    async with _plain(server.url):
                        pass
            await asyncio.sleep(0.05)
            ok = await _pong_of(server.url, 9)  # the slot was freed
            assert ok == ["/pong", 9]
            return refused.value.response.status_code, server.stats.as_dict()

    status, stats = asyncio.run(main())
    assert status == 503 and stats["refused"] == 1


def test_shape_check() -> None:
    assert looks_like_osc(encode_message("/a", [1]))
    assert looks_like_osc(b"#bundle\x00" + b"\x00" * 8)
    assert not looks_like_osc(b"")
    assert not looks_like_osc(b"/ab")  # not a multiple of 4
    assert not looks_like_osc(b"GET / HTTP/1.1\r\n")


def test_limits_are_validated() -> None:
    with pytest.raises(ValueError):
        WSLimits.build(max_connections=0)
    with pytest.raises(ValueError):
        WSLimits(max_queue=0)
    with pytest.raises(ValueError):
        WSLimits(text="eval")
    with pytest.raises(TypeError, match="unknown WebSocket option"):
        AsyncOSCWSServer("127.0.0.1", 0, max_conections=3)


def test_missing_websockets_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    import importlib

    from osc_live import _ws

    real = importlib.import_module

    def fake(name: str, package: str | None = None) -> Any:
        if name.startswith("websockets"):
            raise ImportError("No module named 'websockets'")
        return real(name, package)

    monkeypatch.setattr(_ws.importlib, "import_module", fake)
    with pytest.raises(ImportError, match=r"osc-live\[websocket\]"):
        AsyncOSCWSServer("127.0.0.1", 0)


def test_websockets_too_old_is_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import websockets

    from osc_live import _ws

    assert _ws.websockets_version() >= _ws.MIN_WEBSOCKETS  # what is installed here
    monkeypatch.setattr(websockets, "__version__", "15.0.1")
    with pytest.raises(ImportError, match=r"needs websockets >= 16\.1, found 15\.0\.1"):
        AsyncOSCWSServer("127.0.0.1", 0)
    monkeypatch.setattr(websockets, "__version__", "16.1.1")
    assert _ws.websockets_version() == (16, 1)
    monkeypatch.setattr(websockets, "__version__", "17.0rc1")
    assert _ws.websockets_version() == (17, 0)
