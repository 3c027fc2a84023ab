"""The asyncio OSC TCP server: :class:`AsyncOSCTCPServer`, every connection in the running loop.

Public face: :mod:`osc_live.osc_tcp_server` (see its docstring for the behaviour).  Each
connection is driven through the sans-I/O :class:`~osc_live._tcp_server_base.Stream` the
socketserver-based servers use too; replies waiting in a connection's write buffer count
against ``max_buffered`` with the frame it is reading.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import Any

from osc_live._limits import Limits, Ticket
from osc_live._net import (
    DEFAULT_BIND_HOST,
    RECV_SIZE,
    format_address,
    running_loop,
    strip_brackets,
)
from osc_live._serving import AsyncServing
from osc_live._tcp_server_base import MODE_1_1, ServerCore, host_family, logger, peer_of
from osc_live.dispatcher import Dispatcher

__all__ = ["AsyncOSCTCPServer"]


class _AsyncConnection:
    """One connection of :class:`AsyncOSCTCPServer` (lives in the server's loop)."""

    def __init__(
        self,
        server: AsyncOSCTCPServer,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        loop: asyncio.AbstractEventLoop,
        ticket: Ticket,
    ) -> None:
        self.server = server
        self.reader = reader
        self.writer = writer
        self.loop = loop
        sock = writer.get_extra_info("socket")
        peername = writer.get_extra_info("peername")
        self.client_address: Any = peername if peername is not None else ("", 0)
        if sock is not None and peername is None:  # pragma: no cover - unusual transports
            with contextlib.suppress(OSError):
                self.client_address = sock.getpeername()
        self.stream = server._core.stream(self.client_address, loop.time(), ticket)
        self.peer = self.stream.peer
        self.open = True
        self.draining = False
        self._timer: asyncio.TimerHandle | None = None
        self.cut = False

    def reply(self, results: list[Any]) -> None:
        """Send handler results back (scheduled results too; safe from other threads)."""
        if not results:
            return
        if running_loop() is not self.loop:
            with contextlib.suppress(RuntimeError):
                self.loop.call_soon_threadsafe(self.reply, results)
            return
        count = len(results)
        if not self.open or self.draining or self.writer.is_closing():
            self.server.stats.add("replies_dropped", count)
            return
        stream = self.stream
        data = stream.encode(self.server.dispatcher, results)
        if data:
            transport = self.writer.transport
            transport.write(data)
            self.server.stats.add("replies", count)
            unsent = transport.get_write_buffer_size()
            if unsent and stream.hold(stream.framer.buffered + unsent):
                self.cut = True  # replies pile up: the peer does not read (over max_buffered)
                transport.abort()

    def arm_timer(self) -> None:
        """(Re)arm the timeout watchdog for the stream's current deadline."""
        deadline = self.stream.deadline()
        if deadline is None or self._timer is not None:
            return
        self._timer = self.loop.call_at(deadline, self._on_timer)

    def _on_timer(self) -> None:
        self._timer = None
        if not self.open:
            return
        if self.stream.expired(self.loop.time()):
            self.cut = True
            self.writer.transport.abort()
            return
        self.arm_timer()

    def cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def start_draining(self) -> None:
        """Stop writing (the peer sees EOF); reading goes on during the grace period."""
        if self.draining or not self.open:
            return
        self.draining = True
        with contextlib.suppress(OSError, RuntimeError):
            if self.writer.can_write_eof() and not self.writer.is_closing():
                self.writer.write_eof()

    async def run(self) -> None:
        """Read, frame and dispatch until the peer closes, an error, a timeout or a stop."""
        server = self.server
        stream = self.stream
        reader = self.reader
        writer = self.writer
        transport = writer.transport
        call = server.dispatcher.async_call_handlers_for_packet
        reply = self.reply
        client_address = self.client_address
        limits = server._core.limits
        send_timeout = limits.send_timeout
        loop = self.loop
        while True:
            try:
                data = await reader.read(RECV_SIZE)
            except (ConnectionError, OSError) as exc:
                if not self.cut:
                    logger.debug("%s: connection error: %s", self.peer, exc)
                    stream.ended()
                return
            if not data:
                if not self.cut:
                    stream.ended()
                return
            packets, cut = stream.feed(data, loop.time(), transport.get_write_buffer_size())
            if stream.frame_started is not None or limits.idle_timeout is not None:
                self.arm_timer()
            for packet in packets:
                try:
                    results = await call(packet, client_address, reply=reply)
                except Exception:
                    stream.stats.add("handler_errors")
                    logger.exception("%s: an OSC handler raised", self.peer)
                    continue
                if results:
                    reply(results)
            if transport.get_write_buffer_size() > 0 and not transport.is_closing():
                try:
                    await asyncio.wait_for(writer.drain(), send_timeout)
                except asyncio.TimeoutError:
                    stream.send_timed_out()
                    return
                except (ConnectionError, OSError):
                    return
            if cut:
                return

    async def close(self) -> None:
        """Close the transport and wait for it; free the connection's slot."""
        self.open = False
        self.cancel_timer()
        self.stream.close()
        writer = self.writer
        if not writer.is_closing():
            writer.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(writer.wait_closed(), 1.0)


class AsyncOSCTCPServer(AsyncServing):
    """asyncio OSC TCP server (python-osc signature ``(server_address, port, dispatcher, mode)``).

    ``await server.start()`` listens and serves until :meth:`stop` (it then returns);
    ``async with AsyncOSCTCPServer(...) as server`` listens on entry (so :attr:`port` is known
    at once) and stops on exit; :meth:`listen` only opens the listening socket.  Defaults:
    ``127.0.0.1``, a free port, a new dispatcher (closed by :meth:`stop`).  Keyword-only
    options as the other servers, plus ``family``.
    """

    def __init__(
        self,
        server_address: str | None = DEFAULT_BIND_HOST,
        port: int = 0,
        dispatcher: Dispatcher | None = None,
        mode: str = MODE_1_1,
        *,
        family: socket.AddressFamily | None = None,
        limits: Limits | None = None,
        **limit_options: Any,
    ) -> None:
        """Remember the settings; nothing is bound until :meth:`listen` / :meth:`start`.

        ``limits`` / ``limit_options``: as :class:`~osc_live._tcp_server_sync.OSCTCPServer`.
        """
        if server_address is None:
            server_address = DEFAULT_BIND_HOST
        self._server_address = strip_brackets(server_address)
        self._port = port
        self._family = family
        self._core = ServerCore(mode, Limits.build(limits, **limit_options))
        self._mode = mode
        self.limits = self._core.limits
        self.stats = self._core.stats
        self._owns_dispatcher = dispatcher is None
        self._dispatcher = dispatcher if dispatcher is not None else Dispatcher()
        self._server: asyncio.Server | None = None
        self._connections: dict[asyncio.Task[Any], _AsyncConnection] = {}
        self._stopping = False

    @property
    def dispatcher(self) -> Dispatcher:
        """The dispatcher handling the packets of every connection."""
        return self._dispatcher

    @property
    def mode(self) -> str:
        """The framing mode (``"1.0"``, ``"1.1"`` or ``"auto"``)."""
        return self._mode

    @property
    def sockets(self) -> tuple[Any, ...]:
        """The listening sockets (empty before :meth:`listen`)."""
        return tuple(self._server.sockets) if self._server is not None else ()

    @property
    def server_address(self) -> tuple[Any, ...]:
        """``(host, port, ...)`` actually bound (after :meth:`listen`)."""
        socks = self.sockets
        if not socks:
            return (self._server_address, self._port)
        return tuple(socks[0].getsockname())

    @property
    def port(self) -> int:
        """The port actually bound (after :meth:`listen`)."""
        return int(self.server_address[1])

    async def listen(self) -> None:
        """Open the listening socket and start accepting (idempotent)."""
        if self._server is not None:
            return
        self._stopping = False
        self._serving()
        host = self._server_address
        family = host_family(host, self._family)
        self._server = await asyncio.start_server(
            self.handle,
            host or None,
            self._port,
            family=family,
            reuse_address=True,
            limit=max(RECV_SIZE * 2, 1 << 17),
            backlog=300,
        )
        logger.debug("serving OSC over TCP on %s", format_address(*self.server_address[:2]))

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Serve one connection (called by asyncio for every accepted connection)."""
        loop = asyncio.get_running_loop()
        host, peer = peer_of(writer.get_extra_info("peername"))
        ticket = self._core.gate.admit(host, peer)
        if ticket is None:  # max_connections(_per_host) reached: counted and logged
            writer.transport.abort()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
            return
        conn = _AsyncConnection(self, reader, writer, loop, ticket)
        task = asyncio.current_task()
        assert task is not None
        self.stats.add("connections")
        self.stats.add("active")
        self._connections[task] = conn
        try:
            if self._stopping:
                conn.start_draining()
            await conn.run()
        except asyncio.CancelledError:
            pass
        finally:
            self._connections.pop(task, None)
            self.stats.add("active", -1)
            await conn.close()

    async def stop(self) -> None:
        """Stop listening, drain the connections for ``shutdown_grace`` s, close them."""
        self._stopping = True
        server, self._server = self._server, None
        if server is not None:
            server.close()
        conns = dict(self._connections)
        for conn in conns.values():
            conn.start_draining()
        if conns:
            _done, pending = await asyncio.wait(list(conns), timeout=self.limits.shutdown_grace)
            for task in pending:
                conn = conns[task]
                conn.open = False
                conn.writer.transport.abort()
            if pending:
                _done, still = await asyncio.wait(pending, timeout=1.0)
                for task in still:
                    task.cancel()
                if still:
                    await asyncio.wait(still)
        if server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 1.0)
        self._served()
        if self._owns_dispatcher:
            self._dispatcher.close()
