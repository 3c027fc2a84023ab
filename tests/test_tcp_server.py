"""TCP servers: framings and auto, replies, future bundles, reuse, stop, hostile peers."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from typing import Any

import pytest

from osc_live import osc_tcp_server, tcp_client
from osc_live._tcp_server_base import ServerCore
from osc_live.dispatcher import Dispatcher
from osc_live.osc_bundle import OscBundle
from osc_live.osc_message import OscMessage, encode_message
from osc_live.parsing.ntp import unix_to_ntp
from tests.tcp_support import SERVER_KINDS, RunningServer, wait_until

pytestmark = pytest.mark.timeout(60)

PING = encode_message("/ping", [1, "a"])
ECHO = encode_message("/echo/ping", [1, "a"])


def size_frame(p: bytes) -> bytes:
    return len(p).to_bytes(4, "big") + p


def slip_frame(p: bytes) -> bytes:
    return b"\xc0" + p.replace(b"\xdb", b"\xdb\xdd").replace(b"\xc0", b"\xdb\xdc") + b"\xc0"


def recv_until(sock: socket.socket, predicate: Any, timeout: float = 5.0) -> bytes:
    """Read from ``sock`` until ``predicate(data)`` or EOF/timeout."""
    sock.settimeout(timeout)
    data = b""
    deadline = time.monotonic() + timeout
    while not predicate(data) and time.monotonic() < deadline:
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            break
        if not chunk:
            break
        data += chunk
    return data


def connect(port: int, host: str = "127.0.0.1") -> socket.socket:
    sock = socket.create_connection((host, port), timeout=5)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


@pytest.mark.parametrize("kind", SERVER_KINDS)
@pytest.mark.parametrize("framing", ["1.0", "1.1", "1.1-no-leading-end"])
def test_auto_mode_detects_and_replies_in_kind(kind: str, framing: str) -> None:
    with RunningServer(kind, mode="auto") as srv, connect(srv.port) as sock:
        if framing == "1.0":
            sock.sendall(size_frame(PING))
            expected = size_frame(encode_message("/echo/ping", [1, "a"]))
        else:
            frame = slip_frame(PING)
            sock.sendall(frame[1:] if framing.endswith("end") else frame)
            expected = slip_frame(encode_message("/echo/ping", [1, "a"]))[1:]  # stream start
        assert recv_until(sock, lambda d: len(d) >= len(expected)) == expected


@pytest.mark.parametrize("kind", ["blocking", "threading", "asyncio"])
def test_stats_and_dispatch_in_fixed_modes(kind: str) -> None:
    for mode, frame in (("1.0", size_frame), ("1.1", slip_frame)):
        with RunningServer(kind, mode=mode) as srv:
            with connect(srv.port) as sock:
                sock.sendall(frame(PING) * 3)
                echo = frame(ECHO) * 3
                if mode == "1.1":
                    echo = echo[1:]  # the first SLIP frame of a stream has no leading END
                n = len(echo)
                assert recv_until(sock, lambda d, n=n: len(d) >= n) == echo
            assert srv.wait_for(3) == [("/ping", [1, "a"])] * 3
            assert wait_until(lambda s=srv: s.stats.active == 0)
            stats = srv.stats.as_dict()
            assert stats["connections"] == 1 and stats["packets"] == 3 and stats["replies"] == 3


@pytest.mark.parametrize("kind", ["blocking", "threading", "asyncio"])
def test_future_bundle_replies_later_without_blocking(kind: str) -> None:
    with RunningServer(kind, mode="1.1") as srv:
        client = tcp_client.SimpleTCPClient("127.0.0.1", srv.port)
        try:
            when = time.time() + 0.4
            bundle = OscBundle.from_contents(
                unix_to_ntp(when), [OscMessage(encode_message("/later", [1]))]
            )
            client.send(bundle)
            client.send_message("/now", 2)
            got = []
            for msg in client.get_messages(timeout=2):
                got.append((msg.address, msg.params, time.time()))
                if len(got) == 2:
                    break
        finally:
            client.close()
    assert [g[:2] for g in got] == [("/echo/now", [2]), ("/echo/later", [1])]
    assert got[0][2] < when  # the immediate message was not held up by the bundle
    assert got[1][2] >= when - 0.01


@pytest.mark.parametrize("kind", SERVER_KINDS)
def test_address_reusable_at_once_after_stop(kind: str) -> None:
    first = RunningServer(kind).start()
    port = first.port
    client = tcp_client.SimpleTCPClient("127.0.0.1", port)
    client.send_message("/one", 1)
    assert [m.address for m in client.get_messages(timeout=2)][:1] == ["/echo/one"]
    first.stop()  # with the client still connected: drained, then closed
    client.close()
    with RunningServer(kind, port=port) as second:
        assert second.port == port
        with tcp_client.SimpleTCPClient("127.0.0.1", port) as c2:
            c2.send_message("/two", 2)
            assert next(iter(c2.get_messages(timeout=2))).address == "/echo/two"


@pytest.mark.parametrize("kind", ["threading", "asyncio"])
def test_stop_with_connected_idle_clients_is_quick(kind: str) -> None:
    srv = RunningServer(kind, shutdown_grace=0.2).start()
    socks = [connect(srv.port) for _ in range(3)]
    try:
        assert wait_until(lambda: srv.stats.active == 3)
        t0 = time.monotonic()
        srv.stop()
        assert time.monotonic() - t0 < 5
        for s in socks:  # the server closed them: EOF
            assert recv_until(s, lambda d: False, timeout=2) == b""
    finally:
        for s in socks:
            s.close()


def _warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    assert all(r.name != "root" for r in caplog.records)
    return [r for r in caplog.records if r.name == "osc_live.osc_tcp_server"]


@pytest.mark.parametrize("kind", ["blocking", "threading", "asyncio"])
def test_size_prefix_beyond_limit_closes_connection(
    kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    with RunningServer(kind, mode="1.0", max_packet_size=1024) as srv:
        with connect(srv.port) as sock:
            sock.sendall(size_frame(PING) + (1 << 30).to_bytes(4, "big") + b"xxxx")
            data = recv_until(sock, lambda d: False, timeout=3)
            assert data == size_frame(encode_message("/echo/ping", [1, "a"]))  # then EOF
        assert wait_until(lambda: srv.stats.oversized == 1)
        assert srv.messages == [("/ping", [1, "a"])]
        with tcp_client.SimpleTCPClient("127.0.0.1", srv.port, mode="1.0") as c:
            c.send_message("/still", 1)
            assert next(iter(c.get_messages(timeout=2))).address == "/echo/still"
    assert _warnings(caplog)


@pytest.mark.parametrize("kind", ["blocking", "threading", "asyncio"])
def test_garbage_is_dropped_and_counted(kind: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    with RunningServer(kind, mode="1.1") as srv:
        with connect(srv.port) as sock:
            sock.sendall(
                b"\xc0garbage\xdbX\xc0"  # bad SLIP escape: framing error, dropped
                + slip_frame(b"not osc at all!!")  # well framed, not OSC: parse error
                + slip_frame(b"/x\x00\x00,i\x00\x00\x01")  # truncated message
                + slip_frame(PING)
            )
            expected = slip_frame(encode_message("/echo/ping", [1, "a"]))[1:]  # stream start
            assert recv_until(sock, lambda d: len(d) >= len(expected)) == expected
        assert srv.messages == [("/ping", [1, "a"])]
        assert srv.stats.framing_errors == 1
        assert srv.dispatcher.stats.parse_errors == 2
    assert _warnings(caplog) or caplog.records


@pytest.mark.parametrize("kind", ["blocking", "threading", "asyncio"])
def test_disconnect_mid_frame_is_counted(kind: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    with RunningServer(kind, mode="1.0") as srv:
        with connect(srv.port) as sock:
            sock.sendall(size_frame(PING) + size_frame(PING)[:7])
            echo = size_frame(ECHO)
            assert recv_until(sock, lambda d: len(d) >= len(echo)) == echo
        assert wait_until(lambda: srv.stats.partial_frames == 1)
        assert srv.messages == [("/ping", [1, "a"])]
    assert _warnings(caplog)


@pytest.mark.parametrize("kind", ["threading", "asyncio"])
def test_trickling_peer_is_cut_and_others_are_served(
    kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    with RunningServer(kind, mode="1.0", frame_timeout=0.6) as srv:
        stop = threading.Event()
        frame = size_frame(PING)
        closed_at: list[float] = []

        def trickle() -> None:
            with connect(srv.port) as sock:
                for b in frame:
                    try:
                        sock.sendall(bytes([b]))
                        if stop.wait(0.2):
                            break
                        # the server closing shows up as EOF (or a reset)
                        sock.setblocking(False)
                        if sock.recv(1) == b"":
                            closed_at.append(time.monotonic())
                            break
                    except BlockingIOError:
                        pass
                    except OSError:
                        closed_at.append(time.monotonic())
                        break
                    finally:
                        sock.setblocking(True)

        t = threading.Thread(target=trickle, name="trickler")
        t.start()
        try:
            with tcp_client.SimpleTCPClient("127.0.0.1", srv.port, mode="1.0") as c:
                for i in range(5):
                    c.send_message("/other", i)
                    time.sleep(0.05)
                got = [m.params[0] for m in c.get_messages(timeout=0.5)]
            assert got == [0, 1, 2, 3, 4]
            assert wait_until(lambda: srv.stats.timeouts == 1, timeout=5)
            assert wait_until(lambda: bool(closed_at), timeout=5)
        finally:
            stop.set()
            t.join(10)
        assert closed_at, "the trickling connection was not closed"
    assert _warnings(caplog)


@pytest.mark.parametrize("kind", ["threading", "asyncio"])
def test_handler_exception_keeps_connection(kind: str, caplog: pytest.LogCaptureFixture) -> None:
    def boom(address: str, *args: Any) -> None:
        raise RuntimeError("boom")

    with RunningServer(kind, setup=lambda d: d.map("/boom", boom)) as srv:
        with tcp_client.SimpleTCPClient("127.0.0.1", srv.port) as c:
            c.send_message("/boom", 1)
            c.send_message("/fine", 2)
            assert [m.address for m in c.get_messages(timeout=1)] == ["/echo/fine"]
        assert srv.stats.handler_errors == 1
    assert any(r.name == "osc_live.osc_tcp_server" for r in caplog.records)


@pytest.mark.parametrize("kind", ["threading", "asyncio"])
def test_peer_not_reading_replies_is_cut(kind: str) -> None:
    big = b"\x00" * 60_000

    def setup(d: Dispatcher) -> None:
        d.map("/big", lambda address, *args: ("/blob", big))

    with RunningServer(kind, mode="1.0", send_timeout=0.5, setup=setup) as srv:
        with connect(srv.port) as sock:
            request = size_frame(encode_message("/big"))
            sent = 0
            sock.settimeout(0.2)
            try:
                for _ in range(2000):
                    sock.sendall(request)
                    sent += 1
                    if srv.stats.send_timeouts or srv.stats.over_buffer:
                        break
            except OSError:
                pass
            # Cut after send_timeout, or sooner when its unread replies pass max_buffered (the
            # asyncio server queues the replies of a whole read in the connection's buffer).
            assert wait_until(
                lambda: srv.stats.send_timeouts + srv.stats.over_buffer == 1, timeout=10
            )
        with tcp_client.SimpleTCPClient("127.0.0.1", srv.port, mode="1.0") as c:
            c.send_message("/ok", 1)
            assert next(iter(c.get_messages(timeout=2))).address == "/echo/ok"


def test_constructor_defaults_and_signatures() -> None:
    srv = osc_tcp_server.ThreadingOSCTCPServer()
    try:
        assert srv.server_address[0] == "127.0.0.1" and srv.port > 0
        assert srv.mode == "1.1" and isinstance(srv.dispatcher, Dispatcher)
        assert srv.allow_reuse_address
    finally:
        srv.server_close()
    with pytest.raises(ValueError):
        osc_tcp_server.BlockingOSCTCPServer(("127.0.0.1", 0), Dispatcher(), mode="2.0")
    d = Dispatcher()
    s2 = osc_tcp_server.BlockingOSCTCPServer(("127.0.0.1", 0), d, "1.0", socket.AF_INET)
    assert s2.dispatcher is d and s2.mode == "1.0"
    s2.server_close()

    async def main() -> None:
        server = osc_tcp_server.AsyncOSCTCPServer("127.0.0.1", 0, d, "auto")
        assert server.dispatcher is d
        async with server:
            assert server.port > 0
        task = asyncio.ensure_future(server.start())
        await asyncio.sleep(0.05)
        await server.stop()
        await asyncio.wait_for(task, 5)  # start() returns normally after stop()

    asyncio.run(main())
    d.close()


def test_forking_server_serves_each_connection() -> None:
    if "forking" not in SERVER_KINDS:
        pytest.skip("no fork")
    with RunningServer("forking", mode="auto") as srv:
        for mode in ("1.0", "1.1"):
            with tcp_client.SimpleTCPClient("127.0.0.1", srv.port, mode=mode) as c:
                c.send_message("/fork", mode)
                assert [(m.address, m.params) for m in c.get_messages(timeout=1)] == [
                    ("/echo/fork", [mode])
                ]


@pytest.mark.parametrize("kind", ["threading", "asyncio"])
@pytest.mark.parametrize("framing", ["1.0", "1.1"])
def test_random_chunking_keeps_every_packet(kind: str, framing: str) -> None:
    import random

    rng = random.Random(f"{kind}-{framing}")
    frame = size_frame if framing == "1.0" else slip_frame
    packets = [
        encode_message(f"/r/{i}", [i, "s" * rng.randrange(0, 40), b"\xc0\xdb" * rng.randrange(3)])
        for i in range(300)
    ]
    bundle = OscBundle.from_contents(1, [OscMessage(p) for p in packets[:3]]).dgram
    stream = b"".join(frame(p) for p in packets) + frame(bundle)
    with RunningServer(kind, mode="auto", reply=False) as srv, connect(srv.port) as sock:
        pos = 0
        while pos < len(stream):
            step = rng.choice([1, 2, 3, 5, 64, 1000, 4096])
            sock.sendall(stream[pos : pos + step])
            pos += step
            if rng.random() < 0.02:
                time.sleep(0.001)
        got = srv.wait_for(303)
    assert [a for a, _ in got] == [f"/r/{i}" for i in range(300)] + ["/r/0", "/r/1", "/r/2"]
    # Arguments (blobs holding SLIP END/ESC bytes included) survive any chunking.
    assert [params for _, params in got[:300]] == [OscMessage(p).params for p in packets]


def _stream(mode: str, **options: Any) -> Any:
    """A server connection's sans-I/O state, without a socket."""
    limits = osc_tcp_server.Limits(max_packet_size=options.get("max_packet_size", 1 << 20))
    return ServerCore(mode, limits).stream(("127.0.0.1", 9), 0.0, None)


@pytest.mark.parametrize("mode", ["1.0", "1.1", "auto"])
def test_stream_partial_frame_follows_the_framer(mode: str) -> None:
    frame = size_frame if mode == "1.0" else slip_frame
    stream = _stream(mode)
    assert stream.feed(frame(PING)[:5], 1.0) == ([], False)
    assert stream.frame_started == 1.0
    assert stream.feed(frame(PING)[5:9], 2.0) == ([], False)
    assert stream.frame_started == 1.0  # the same frame goes on
    assert stream.feed(frame(PING)[9:] + frame(PING)[:3], 3.0) == ([PING], False)
    assert stream.frame_started == 3.0  # a new frame started
    assert stream.feed(frame(PING)[3:], 4.0) == ([PING], False)
    assert stream.frame_started is None
    stream.ended()
    assert stream.stats.partial_frames == 0


def test_stream_partial_frame_after_empty_size_prefix() -> None:
    stream = _stream("1.0")
    packets, fatal = stream.feed(bytes(4) + size_frame(PING) + size_frame(PING)[:6], 1.0)
    assert (packets, fatal) == ([PING], False)
    assert stream.stats.framing_errors == 1
    assert stream.frame_started == 1.0  # the partial frame after the error is tracked
    stream.ended()
    assert stream.stats.partial_frames == 1


def test_stream_skipped_oversized_slip_frame_is_in_progress() -> None:
    stream = _stream("1.1", max_packet_size=32)
    assert stream.feed(b"\xc0" + bytes(40), 1.0) == ([], False)
    assert stream.stats.framing_errors == 1
    assert stream.frame_started == 1.0  # skipped, not buffered, but still a frame in progress
    assert stream.feed(bytes(40), 2.0) == ([], False)
    assert stream.frame_started == 1.0
    assert stream.feed(b"\xc0" + slip_frame(PING), 3.0) == ([PING], False)
    assert stream.frame_started is None


@pytest.mark.parametrize("kind", ["blocking", "threading", "asyncio"])
def test_disconnect_mid_frame_after_framing_error_is_counted(kind: str) -> None:
    with RunningServer(kind, mode="1.0") as srv:
        with connect(srv.port) as sock:
            sock.sendall(bytes(4) + size_frame(PING) + size_frame(PING)[:7])
            echo = size_frame(ECHO)
            assert recv_until(sock, lambda d: len(d) >= len(echo)) == echo
        assert wait_until(lambda: srv.stats.partial_frames == 1)
        assert srv.stats.framing_errors == 1
        assert srv.messages == [("/ping", [1, "a"])]
