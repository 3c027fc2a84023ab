"""The asyncio UDP server: :class:`AsyncIOOSCUDPServer` (python-osc's, with our fixes).

Public face: :mod:`osc_live.osc_server`.  Datagrams wait in a bounded
:class:`~osc_live._udp_server_base.PendingQueue` (a share per sender host) for the one task that
hands them to the dispatcher in order; coroutine handlers are awaited there.
"""

from __future__ import annotations

import asyncio
import socket
from types import TracebackType
from typing import Any, cast

from osc_live._limits import PeerLog
from osc_live._net import (
    DEFAULT_UDP_RECV_BUFFER,
    check_recv_buffer,
    recv_buffer_size,
    set_recv_buffer,
)
from osc_live._udp_server_base import (
    DEFAULT_MAX_PENDING,
    DEFAULT_MAX_PENDING_BYTES,
    Address,
    PendingQueue,
    ServerStats,
    check_parsed,
    drop,
    format_peer,
    infer_family,
    logger,
    looks_like_osc,
    loopback_default,
    overflow,
    parse_errors,
)
from osc_live.dispatcher import Dispatcher
from osc_live.errors import OscError
from osc_live.udp_client import named_os_error, send_replies

__all__ = ["AsyncIOOSCUDPServer"]


class AsyncIOOSCUDPServer:
    """asyncio UDP server: a datagram endpoint whose packets go to the dispatcher.

    Handlers (plain functions or coroutine functions) run in order on the event loop, in one
    task per server; future-dated bundles are scheduled with the loop's timer, so the loop never
    sleeps on them.
    """

    def __init__(
        self,
        server_address: tuple[str | None, int],
        dispatcher: Dispatcher,
        loop: asyncio.AbstractEventLoop | None = None,
        family: socket.AddressFamily | None = None,
        *,
        recv_buffer_size: int | None = DEFAULT_UDP_RECV_BUFFER,
        max_pending: int = DEFAULT_MAX_PENDING,
        max_pending_bytes: int = DEFAULT_MAX_PENDING_BYTES,
    ) -> None:
        """Prepare the server; nothing is bound until :meth:`create_serve_endpoint`.

        Args:
            server_address: ``(host, port)``; port 0 picks a free one; host ``None`` means
                loopback (``127.0.0.1``), ``""`` every interface.
            dispatcher: the :class:`Dispatcher` that routes the messages.
            loop: the event loop to serve on; ``None``: the running one.
            family: ``AF_INET`` or ``AF_INET6``; ``None`` infers it from the host.
            recv_buffer_size: ``SO_RCVBUF`` to ask for (default 4 MiB, capped by the kernel);
                ``None`` keeps the system default.
            max_pending, max_pending_bytes: datagrams (and bytes) that may wait for the
                handlers (4096, 8 MiB; a quarter of them per sender host); more are dropped,
                counted in ``stats.overflow`` and logged once per host.
        """
        self._max_pending = (max_pending, max_pending_bytes)
        PendingQueue(max_pending, max_pending_bytes)  # validate now
        self._recv_buffer_request = check_recv_buffer(recv_buffer_size)
        self._server_address = loopback_default(server_address)
        self._dispatcher = dispatcher
        self._loop = loop
        self._family = family
        self.stats = ServerStats()
        self.log = PeerLog(logger)
        self.transport: asyncio.DatagramTransport | None = None
        self.protocol: AsyncIOOSCUDPServer._OSCProtocolFactory | None = None

    @property
    def dispatcher(self) -> Dispatcher:
        return self._dispatcher

    @property
    def recv_buffer_size(self) -> int:
        """The socket's effective receive buffer in bytes once serving (0 before)."""
        if self.transport is None:
            return 0
        return recv_buffer_size(self.transport.get_extra_info("socket"))

    @property
    def server_address(self) -> Address:
        """The bound address (with the real port) once serving, else the requested one."""
        if self.transport is not None:
            return cast(Address, self.transport.get_extra_info("sockname"))
        return self._server_address

    class _OSCProtocolFactory(asyncio.DatagramProtocol):
        """Queues datagrams; one task per endpoint hands them to the dispatcher in order."""

        def __init__(
            self, dispatcher: Dispatcher, server: AsyncIOOSCUDPServer | None = None
        ) -> None:
            # (dispatcher) as in python-osc; our server also passes itself for its stats.
            self.dispatcher = dispatcher
            self.stats = server.stats if server is not None else ServerStats()
            self._log = server.log if server is not None else PeerLog(logger)
            limits = (
                server._max_pending
                if server is not None
                else (DEFAULT_MAX_PENDING, DEFAULT_MAX_PENDING_BYTES)
            )
            self.transport: asyncio.DatagramTransport | None = None
            self._pending = PendingQueue(*limits)
            self._wakeup: asyncio.Future[None] | None = None
            self._worker: asyncio.Task[None] | None = None
            self.closed: asyncio.Future[None] | None = None

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self.transport = cast(asyncio.DatagramTransport, transport)
            loop = asyncio.get_running_loop()
            self.closed = loop.create_future()
            self._worker = loop.create_task(self._work(), name="osc_live AsyncIOOSCUDPServer")

        def datagram_received(self, data: bytes, addr: Address) -> None:
            if not looks_like_osc(data):
                drop(self.stats, data, addr, "not an OSC message or bundle")
                return
            if not self._pending.put((data, addr), str(addr[0]), len(data)):
                overflow(self.stats, self._log, addr, self._pending)
                return
            if self._wakeup is not None and not self._wakeup.done():
                self._wakeup.set_result(None)

        def error_received(self, exc: Exception) -> None:
            logger.debug("UDP socket error: %s", exc)

        def connection_lost(self, exc: Exception | None) -> None:
            if self._worker is not None:
                self._worker.cancel()
            if self.closed is not None and not self.closed.done():
                self.closed.set_result(None)

        def _reply(self, client_address: Address, results: list[Any]) -> None:
            transport = self.transport
            if not results or transport is None or transport.is_closing():
                return

            def send(packet: bytes) -> None:
                transport.sendto(packet, client_address)

            self.stats.add("replies", send_replies(self.dispatcher, results, send, client_address))

        async def _work(self) -> None:
            loop = asyncio.get_running_loop()
            stats = self.stats
            while True:
                if not self._pending:
                    self._wakeup = loop.create_future()
                    await self._wakeup
                    self._wakeup = None
                    continue
                data, addr = self._pending.get()
                stats.add("packets")

                def late(results: list[Any], addr: Address = addr) -> None:
                    self._reply(addr, results)

                before = parse_errors(self.dispatcher)
                try:
                    results = await self.dispatcher.async_call_handlers_for_packet(
                        data, addr, reply=late
                    )
                except OscError as exc:
                    drop(stats, data, addr, exc)
                    continue
                except Exception:
                    stats.add("handler_errors")
                    logger.exception("error while handling a packet from %s", format_peer(addr))
                    continue
                check_parsed(stats, self.dispatcher, before, data, addr)
                self._reply(addr, results)

    def serve(self) -> None:
        """Bind and register the endpoint on the loop (from synchronous code).

        Afterwards run the loop (``loop.run_forever()``) to serve; stop with :meth:`close`.
        """
        loop = self._loop or asyncio.get_event_loop()
        self._loop = loop
        loop.run_until_complete(self.create_serve_endpoint())

    async def create_serve_endpoint(
        self,
    ) -> tuple[asyncio.DatagramTransport, asyncio.DatagramProtocol]:
        """Bind the datagram endpoint in the running loop; return ``(transport, protocol)``."""
        loop = asyncio.get_running_loop()
        if self._loop is None:
            self._loop = loop
        host, port = self._server_address[0], self._server_address[1]
        family = infer_family(host, port, self._family)
        try:
            transport, protocol = await loop.create_datagram_endpoint(
                lambda: self._OSCProtocolFactory(self._dispatcher, self),
                local_addr=(host or ("::" if family == socket.AF_INET6 else "0.0.0.0"), port),
                family=family,
            )
        except OSError as exc:
            raise named_os_error(exc, host, port, "binding UDP") from exc
        set_recv_buffer(transport.get_extra_info("socket"), self._recv_buffer_request)
        self.transport = transport
        self.protocol = protocol
        return transport, protocol

    def close(self) -> None:
        """Close the endpoint; its worker task ends and the port is free at once."""
        if self.transport is not None:
            self.transport.close()

    async def aclose(self) -> None:
        """Close the endpoint and wait until its socket and task are gone."""
        self.close()
        protocol = self.protocol
        if protocol is not None:
            if protocol.closed is not None:
                await protocol.closed
            if protocol._worker is not None:
                await asyncio.gather(protocol._worker, return_exceptions=True)
        self.transport = None
        self.protocol = None

    async def __aenter__(self) -> AsyncIOOSCUDPServer:
        await self.create_serve_endpoint()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        await self.aclose()
