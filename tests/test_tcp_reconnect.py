"""Reconnecting TCP clients: server stopped and restarted mid-stream, queue limits, give-up."""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time

import pytest

from osc_live import tcp_client
from osc_live.framing import make_framer
from osc_live.osc_message import OscMessage, encode_message
from osc_live.osc_packet import parse_packet
from osc_live.tcp_client import ReconnectGaveUp, ReconnectPolicy, ReconnectQueueFull
from tests.tcp_support import RunningServer, wait_until

pytestmark = pytest.mark.timeout(90)

FAST = ReconnectPolicy(initial_delay=0.02, max_delay=0.2)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _values(*servers: RunningServer) -> list[int]:
    return [args[0] for srv in servers for addr, args in srv.messages if addr == "/seq"]


@pytest.mark.parametrize("kind", ["threading", "asyncio"])
@pytest.mark.parametrize("mode", ["1.0", "1.1"])
def test_sync_client_survives_server_restart(kind: str, mode: str) -> None:
    events: list[str] = []
    first = RunningServer(kind, mode=mode, reply=False).start()
    port = first.port
    second = RunningServer(kind, mode=mode, reply=False, port=port)
    client = tcp_client.SimpleTCPClient(
        "127.0.0.1",
        port,
        mode=mode,
        reconnect=FAST,
        on_disconnect=lambda exc: events.append("down"),
        on_reconnect=lambda: events.append("up"),
    )

    def restart() -> None:
        time.sleep(0.2)
        first.stop()
        time.sleep(0.3)
        second.start()

    bouncer = threading.Thread(target=restart, name="bouncer")
    bouncer.start()
    n = 600
    try:
        for i in range(n):
            client.send_message("/seq", i)
            time.sleep(0.002)
        bouncer.join(20)
        assert client.flush(10)
        assert wait_until(lambda: len(_values(first, second)) >= n, timeout=10)
        assert _values(first, second) == list(range(n))  # every one, once, in order
        assert _values(first) and _values(second)  # the restart happened mid-stream
        assert events == ["down", "up"] and client.reconnects == 1
    finally:
        client.close()
        bouncer.join(20)
        second.stop()
        first.stop()


@pytest.mark.parametrize("kind", ["threading", "asyncio"])
def test_async_client_survives_server_restart(kind: str) -> None:
    events: list[str] = []
    first = RunningServer(kind, reply=False).start()
    port = first.port
    second = RunningServer(kind, reply=False, port=port)
    n = 600

    async def on_reconnect() -> None:
        events.append("up")

    async def main() -> None:
        client = tcp_client.AsyncSimpleTCPClient(
            "127.0.0.1",
            port,
            reconnect=FAST,
            on_disconnect=lambda exc: events.append("down"),
            on_reconnect=on_reconnect,
        )
        loop = asyncio.get_running_loop()

        async def restart() -> None:
            await asyncio.sleep(0.2)
            await loop.run_in_executor(None, first.stop)
            await asyncio.sleep(0.3)
            await loop.run_in_executor(None, second.start)

        bouncer = asyncio.ensure_future(restart())
        try:
            for i in range(n):
                await client.send_message("/seq", i)
                await asyncio.sleep(0.002)
            await bouncer
            for _ in range(500):
                if client.queued == 0 and client.connected:
                    break
                await asyncio.sleep(0.02)
        finally:
            await client.close()
            await asyncio.gather(bouncer, return_exceptions=True)

    try:
        asyncio.run(main())
        assert wait_until(lambda: len(_values(first, second)) >= n, timeout=10)
        assert _values(first, second) == list(range(n))
        assert _values(first) and _values(second)
        assert events == ["down", "up"]
    finally:
        second.stop()
        first.stop()


def test_client_started_before_server_sends_queued_messages() -> None:
    port = _free_port()
    client = tcp_client.SimpleTCPClient("127.0.0.1", port, reconnect=FAST)
    try:
        assert not client.connected
        for i in range(5):
            client.send_message("/seq", i)
        assert client.queued == 5
        with RunningServer("threading", reply=False, port=port) as srv:
            assert client.wait_connected(10)
            assert client.flush(10)
            assert wait_until(lambda: len(_values(srv)) == 5)
            assert _values(srv) == [0, 1, 2, 3, 4]
            client.close()
    finally:
        client.close()


def test_full_queue_raises_and_nothing_is_dropped_silently(
    caplog: pytest.LogCaptureFixture,
) -> None:
    port = _free_port()
    policy = ReconnectPolicy(initial_delay=0.05, max_delay=0.1, max_queue=3)
    client = tcp_client.TCPClient("127.0.0.1", port, reconnect=policy)
    try:
        for i in range(3):
            client.send_message("/q", i)
        with pytest.raises(ReconnectQueueFull) as info:
            client.send_message("/q", 3)
        assert isinstance(info.value, ConnectionError)
        assert f"127.0.0.1:{port}" in str(info.value)
    finally:
        with caplog.at_level(logging.WARNING, logger="osc_live.tcp_client"):
            client.close()
    assert any("3 queued messages" in r.getMessage() for r in caplog.records)


def test_async_full_queue_raises() -> None:
    port = _free_port()

    async def main() -> None:
        policy = ReconnectPolicy(initial_delay=0.05, max_delay=0.1, max_queue=2)
        client = tcp_client.AsyncTCPClient("127.0.0.1", port, reconnect=policy)
        try:
            await client.send_message("/q", 0)
            await client.send_message("/q", 1)
            with pytest.raises(ReconnectQueueFull):
                await client.send_message("/q", 2)
        finally:
            await client.close()

    asyncio.run(main())


def test_gives_up_after_max_attempts() -> None:
    port = _free_port()
    policy = ReconnectPolicy(initial_delay=0.01, max_delay=0.02, max_attempts=3)
    client = tcp_client.TCPClient("127.0.0.1", port, reconnect=policy)
    try:
        client.send_message("/lost", 1)
        assert wait_until(lambda: client._gave_up is not None, timeout=10)
        with pytest.raises(ReconnectGaveUp) as info:
            client.send_message("/lost", 2)
        assert len(info.value.unsent) == 1 and info.value.attempts == 3
    finally:
        client.close()


def test_policy_backoff_and_validation() -> None:
    policy = ReconnectPolicy(initial_delay=0.1, factor=2, max_delay=0.5, jitter=0, max_attempts=6)
    assert list(policy.delays()) == [0.0, 0.1, 0.2, 0.4, 0.5, 0.5]
    assert ReconnectPolicy.coerce(True) == ReconnectPolicy()
    assert ReconnectPolicy.coerce(False) is None
    with pytest.raises(ValueError):
        ReconnectPolicy(factor=0.5)


def test_without_reconnect_a_dead_server_raises_named_errors() -> None:
    with RunningServer("threading") as srv:
        client = tcp_client.SimpleTCPClient("127.0.0.1", srv.port)
        port = srv.port
    try:
        with pytest.raises(OSError) as info:
            for _ in range(100):
                client.send_message("/x", 1)
                time.sleep(0.01)
        assert f"127.0.0.1:{port}" in str(info.value)
    finally:
        client.close()


def test_async_client_started_before_server_and_give_up() -> None:
    port = _free_port()
    server = RunningServer("asyncio", reply=False, port=port)

    async def main() -> None:
        client = tcp_client.AsyncSimpleTCPClient("127.0.0.1", port, reconnect=FAST)
        try:
            await client.send_message("/seq", 0)  # nobody listens yet: queued
            await client.send_message("/seq", 1)
            assert client.queued == 2 and not client.connected
            await asyncio.get_running_loop().run_in_executor(None, server.start)
            for _ in range(500):
                if client.connected and client.queued == 0:
                    break
                await asyncio.sleep(0.01)
            await client.send_message("/seq", 2)
        finally:
            await client.close()

        gives_up = tcp_client.AsyncTCPClient(
            "127.0.0.1",
            _free_port(),
            reconnect=ReconnectPolicy(initial_delay=0.01, max_delay=0.02, max_attempts=2),
        )
        try:
            await gives_up.send_message("/lost", 1)
            for _ in range(500):
                if gives_up._gave_up is not None:
                    break
                await asyncio.sleep(0.01)
            with pytest.raises(ReconnectGaveUp) as info:
                await gives_up.send_message("/lost", 2)
            assert len(info.value.unsent) == 1
        finally:
            await gives_up.close()

    try:
        asyncio.run(main())
        assert wait_until(lambda: len(_values(server)) == 3)
        assert _values(server) == [0, 1, 2]
    finally:
        server.stop()


class _RawServer:
    """A bare asyncio TCP server in the test's loop whose connections the test drives."""

    def __init__(self) -> None:
        self.conns: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = (
            asyncio.Queue()
        )
        self.server: asyncio.Server | None = None
        self.writers: list[asyncio.StreamWriter] = []

    async def start(self) -> int:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.writers.append(writer)
            await self.conns.put((reader, writer))

        self.server = await asyncio.start_server(handle, "127.0.0.1", 0)
        return int(self.server.sockets[0].getsockname()[1])

    async def next_conn(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.wait_for(self.conns.get(), 10)

    async def close(self) -> None:
        # Connections first: since Python 3.12.1 Server.wait_closed() waits for them too.
        for writer in self.writers:
            writer.transport.abort()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
        await asyncio.sleep(0.01)


def _seq_values(data: bytes, mode: str = "1.1") -> list[int]:
    framer = make_framer(mode)
    values = []
    for packet in framer.feed(data):
        message = parse_packet(packet)
        assert isinstance(message, OscMessage)
        values.append(message.params[0])
    assert not framer.buffered, "a partial frame"
    return values


def test_async_client_writes_nothing_after_the_server_eof() -> None:
    """A send racing the server's EOF (seen, connection not yet lost) is queued, not lost.

    The liveness yield of ``_write`` lets the loop read the EOF -- asyncio then closes the
    transport -- before the write; asyncio silently discards writes to a closing transport.
    """

    async def main() -> None:
        raw = _RawServer()
        port = await raw.start()
        client = tcp_client.AsyncSimpleTCPClient("127.0.0.1", port, reconnect=FAST)
        try:
            await client.send_message("/seq", 0)
            reader1, writer1 = await raw.next_conn()
            writer1.write_eof()  # the server closes its side (as ours do when draining)
            time.sleep(0.05)  # the EOF is waiting when the loop looks next
            await asyncio.sleep(0)  # ... which it does while the next send yields
            await client.send_message("/seq", 1)
            reader2, _writer2 = await raw.next_conn()
            for _ in range(500):
                if client.connected and client.queued == 0:
                    break
                await asyncio.sleep(0.01)
            first = await asyncio.wait_for(reader1.read(), 10)  # up to the client's EOF
            try:
                second = await asyncio.wait_for(reader2.read(4096), 2)
            except asyncio.TimeoutError:
                second = b""
            assert _seq_values(first) == [0]
            assert _seq_values(second) == [1]
            assert client.reconnects == 1
        finally:
            await raw.close()
            await client.close()

    asyncio.run(main())


def test_async_client_requeues_what_a_reset_connection_had_not_sent() -> None:
    """Frames still in the transport's buffer when the server resets are sent again.

    What the kernel had accepted is lost with the reset (TCP cannot tell); the second
    connection gets the rest: a gapless run up to the last message, each frame whole.
    """
    n = 3000
    blob = b"x" * 2000

    async def main() -> None:
        raw = _RawServer()
        port = await raw.start()
        # Mode 1.0: every frame has the same size.
        client = tcp_client.AsyncSimpleTCPClient("127.0.0.1", port, mode="1.0", reconnect=FAST)
        written = 0
        try:

            async def send_all() -> None:
                nonlocal written
                for i in range(n):
                    written = i + 1  # written before send_message waits for the buffer
                    await client.send_message("/seq", [i, blob])

            sender = asyncio.ensure_future(send_all())
            _reader1, writer1 = await raw.next_conn()
            frame_size = len(client._frame(encode_message("/seq", [0, blob])))
            for _ in range(1000):  # the server does not read: wait for the client to block
                proto = client._proto
                if proto is not None and proto.transport is not None:
                    buffered = proto.transport.get_write_buffer_size()
                    if buffered > 0 and proto.paused:
                        break
                await asyncio.sleep(0.01)
            else:
                pytest.fail("the client's write buffer never filled")
            # Frames from this one on had not wholly left the transport's buffer.
            first_unsent = written - -(-buffered // frame_size)
            writer1.transport.abort()  # unread data: the client gets a reset
            reader2, _writer2 = await raw.next_conn()
            framer = make_framer("1.0")
            values: list[int] = []
            while not values or values[-1] != n - 1:
                chunk = await asyncio.wait_for(reader2.read(1 << 16), 10)
                assert chunk, "the client closed before sending everything"
                for packet in framer.feed(chunk):
                    message = parse_packet(packet)
                    assert isinstance(message, OscMessage)
                    values.append(message.params[0])
            await sender
            assert values == list(range(values[0], n))  # in order, no gap, no duplicate
            assert 0 < values[0] <= first_unsent  # the kernel's part went with the reset
            assert client.reconnects == 1
        finally:
            await raw.close()
            await client.close()

    asyncio.run(main())
