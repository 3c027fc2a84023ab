"""UDP servers: receive OSC datagrams, dispatch them, send handler results back to the sender.

API-compatible with ``pythonosc.osc_server`` 1.10.2: :class:`OSCUDPServer`,
:class:`BlockingOSCUDPServer`, :class:`ThreadingOSCUDPServer`, :class:`ForkingOSCUDPServer`
(POSIX) and :class:`AsyncIOOSCUDPServer` (``serve``, ``create_serve_endpoint``). Differences from
python-osc, all deliberate:

* datagrams up to 64 KiB are read whole (``socketserver`` reads 8192 bytes by default);
* future-dated bundles never block: the dispatcher schedules them and their handler results are
  sent to the sender when they run (python-osc sleeps in the handling thread, or on the loop);
* malformed datagrams are dropped, counted in :attr:`OSCUDPServer.stats` and warned about on the
  ``osc_live.osc_server`` logger; handler exceptions are logged there too (not printed to stderr)
  and the server keeps serving;
* ``"localhost"`` binds IPv4 first; the family of an IPv6 literal is inferred; a port that is busy
  raises an error naming host and port. ``SO_REUSEADDR`` is not set: a UDP port is free again the
  moment the server is closed, and nothing else can silently share it meanwhile;
* :class:`AsyncIOOSCUDPServer` takes ``loop=None`` (the running loop), runs coroutine handlers,
  and offers :meth:`~AsyncIOOSCUDPServer.close` and ``async with``;
* every server asks for a 4 MiB socket receive buffer (keyword ``recv_buffer_size``; ``None``
  keeps the system default), so bursts queue in the kernel instead of being dropped. The
  kernel caps it at ``net.core.rmem_max``; :attr:`OSCUDPServer.recv_buffer_size` tells what
  was granted.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import socketserver
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, cast

from osc_live._net import (
    DEFAULT_BIND_HOST,
    DEFAULT_UDP_RECV_BUFFER,
    check_recv_buffer,
    format_address,
    recv_buffer_size,
    set_recv_buffer,
)
from osc_live.dispatcher import Dispatcher
from osc_live.errors import OscError
from osc_live.osc_packet import OscPacket
from osc_live.udp_client import MAX_DATAGRAM_SIZE, named_os_error, resolve_udp

__all__ = [
    "AsyncIOOSCUDPServer",
    "BlockingOSCUDPServer",
    "OSCUDPServer",
    "ServerStats",
    "ThreadingOSCUDPServer",
]

logger = logging.getLogger("osc_live.osc_server")

_Address = tuple[Any, ...]
_RequestType = tuple[bytes, socket.socket]
#: recvfrom flag to read without waiting (0 where the platform has none: one per round).
_DONTWAIT = getattr(socket, "MSG_DONTWAIT", 0)
#: After this many warnings about dropped datagrams, only every 1000th drop is logged.
_WARN_FIRST = 20


@dataclass
class ServerStats:
    """Counters of a server (thread-safe increments).

    Attributes:
        packets: datagrams handed to the dispatcher.
        dropped: datagrams dropped because they are not valid OSC.
        handler_errors: exceptions raised by handlers (logged, the server keeps serving).
        replies: reply datagrams sent back to senders.
    """

    packets: int = 0
    dropped: int = 0
    handler_errors: int = 0
    replies: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def count_packet(self) -> None:
        with self._lock:
            self.packets += 1

    def add(self, name: str, count: int = 1) -> int:
        with self._lock:
            value = int(getattr(self, name)) + count
            setattr(self, name, value)
            return value


def looks_like_osc(data: bytes) -> bool:
    """Cheap first check of a datagram: an OSC message starts with ``/``, a bundle ``#bundle``."""
    return data[:1] == b"/" or data[:8] == b"#bundle\0"


def _loopback_default(server_address: tuple[str | None, int]) -> tuple[str, int]:
    """``(None, port)`` binds loopback (``127.0.0.1``), never every interface."""
    host, port = server_address[0], server_address[1]
    return (DEFAULT_BIND_HOST if host is None else host, port)


def infer_family(host: str, port: int, family: socket.AddressFamily | None) -> socket.AddressFamily:
    """The address family to bind ``host`` with: given, or IPv4 unless ``host`` is IPv6-only."""
    if family is not None:
        return family
    if not host:
        return socket.AF_INET
    try:
        return resolve_udp(host, port)[0]
    except OSError:
        return socket.AF_INET  # let bind() report the problem with the address


def _drop(stats: ServerStats, data: bytes, client_address: _Address, why: object) -> None:
    dropped = stats.add("dropped")
    if dropped <= _WARN_FIRST or dropped % 1000 == 0:
        logger.warning(
            "dropped a malformed datagram (%d bytes) from %s: %s [%d dropped so far]",
            len(data),
            _format_address(client_address),
            why,
            dropped,
        )


def _parse_errors(dispatcher: Dispatcher) -> int:
    """The dispatcher's count of malformed packets (0 if it keeps none)."""
    try:
        return dispatcher.stats.parse_errors
    except AttributeError:
        return 0


def _malformed(data: bytes) -> OscError | None:
    """Why ``data`` is not a valid OSC packet, or None if it is one."""
    try:
        OscPacket(data)
    except OscError as exc:
        return exc
    return None


def _check_parsed(
    stats: ServerStats, dispatcher: Dispatcher, before: int, data: bytes, address: _Address
) -> None:
    """After a dispatch: if the dispatcher counted a malformed packet meanwhile, find out
    whether it was this datagram (another thread may have dispatched concurrently) and, if so,
    drop-count it. Valid datagrams pay nothing extra."""
    if _parse_errors(dispatcher) != before:
        error = _malformed(data)
        if error is not None:
            _drop(stats, data, address, error)


def _format_address(address: _Address) -> str:
    if isinstance(address, tuple) and len(address) >= 2:
        return format_address(address[0], address[1])
    return str(address)


class _UDPHandler(socketserver.BaseRequestHandler):
    """Hands one datagram to the server's dispatcher (run by every server flavour)."""

    def handle(self) -> None:
        data, sock = cast(_RequestType, self.request)
        cast(OSCUDPServer, self.server).handle_datagram(data, sock, self.client_address)


class OSCUDPServer(socketserver.UDPServer):
    """Base class of the socketserver-based UDP servers."""

    max_packet_size = MAX_DATAGRAM_SIZE
    allow_reuse_address = False
    #: Datagrams handled per wake-up of ``serve_forever`` at most (see _handle_request_noblock).
    drain_batch = 256

    def __init__(
        self,
        server_address: tuple[str | None, int],
        dispatcher: Dispatcher,
        bind_and_activate: bool = True,
        timeout: float | None = None,
        family: socket.AddressFamily | None = None,
        *,
        recv_buffer_size: int | None = DEFAULT_UDP_RECV_BUFFER,
    ) -> None:
        """Create (and by default bind) the server.

        Args:
            server_address: ``(host, port)``; port 0 picks a free one (see ``server_address``);
                host ``None`` means loopback (``127.0.0.1``), ``""`` every interface.
            dispatcher: the :class:`Dispatcher` that routes the messages.
            bind_and_activate: bind at once (default), as ``socketserver`` does.
            timeout: ``socketserver``'s timeout for :meth:`handle_request`.
            family: ``AF_INET`` or ``AF_INET6``; ``None`` infers it from the host.
            recv_buffer_size: ``SO_RCVBUF`` to ask for, in bytes (default 4 MiB; the kernel
                caps it at ``net.core.rmem_max``, quietly); ``None`` keeps the system default.
        """
        self._recv_buffer_request = check_recv_buffer(recv_buffer_size)
        server_address = _loopback_default(server_address)
        self.address_family = infer_family(server_address[0], server_address[1], family)
        self._dispatcher = dispatcher
        self.stats = ServerStats()
        super().__init__(server_address, _UDPHandler, bind_and_activate)
        self.timeout = timeout
        self._batch = 1
        cls = type(self)
        # Datagrams may bypass socketserver's per-request machinery only if nothing in it was
        # customised (the threading and forking servers override process_request).
        self._direct = (
            cls.process_request is socketserver.BaseServer.process_request
            and cls.finish_request is socketserver.BaseServer.finish_request
            and cls.verify_request is OSCUDPServer.verify_request
            and cls.shutdown_request is socketserver.UDPServer.shutdown_request
            and self.RequestHandlerClass is _UDPHandler
        )

    @property
    def dispatcher(self) -> Dispatcher:
        return self._dispatcher

    @property
    def recv_buffer_size(self) -> int:
        """The socket's effective receive buffer in bytes, as the kernel reports it.

        Linux reports twice the size it granted (half is bookkeeping), and grants at most
        ``net.core.rmem_max``.
        """
        return recv_buffer_size(self.socket)

    def server_bind(self) -> None:
        set_recv_buffer(self.socket, self._recv_buffer_request)
        try:
            super().server_bind()
        except OSError as exc:
            self.socket.close()
            host, port = self.server_address[0], self.server_address[1]
            raise named_os_error(exc, host, port, "binding UDP") from exc

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        """Serve until :meth:`shutdown`; each wake-up handles every datagram already queued."""
        self._batch = self.drain_batch
        try:
            super().serve_forever(poll_interval)
        finally:
            self._batch = 1

    def _handle_request_noblock(self) -> None:
        """Handle the datagram ``select`` saw, then (in ``serve_forever``) up to ``drain_batch``
        more already queued; ``handle_request()`` still handles exactly one.

        ``socketserver`` handles one datagram per ``select()`` round; draining what is already
        in the socket buffer (without waiting) keeps a busy server from dropping datagrams.
        When a subclass customises ``verify_request`` / ``process_request`` /
        ``finish_request`` / ``shutdown_request`` (the threading and forking servers do), every
        datagram goes through them as in ``socketserver``; otherwise :meth:`handle_datagram` is
        called directly (same checks, no per-datagram handler object).
        """
        sock = self.socket
        size = self.max_packet_size
        direct = self._direct
        flags = 0
        for _ in range(self._batch if _DONTWAIT else 1):
            try:
                data, client_address = sock.recvfrom(size, flags)
            except OSError:  # nothing more queued (or the socket was closed meanwhile)
                return
            flags = _DONTWAIT
            if direct:  # no subclass hook overridden: skip the per-datagram handler object
                if data[:1] == b"/" or data[:8] == b"#bundle\0":
                    try:
                        self.handle_datagram(data, sock, client_address)
                    except Exception:
                        self.handle_error((data, sock), client_address)
                else:
                    _drop(self.stats, data, client_address, "not an OSC message or bundle")
            else:
                self._process_one((data, sock), client_address)

    def _process_one(self, request: _RequestType, client_address: Any) -> None:
        if self.verify_request(request, client_address):
            try:
                self.process_request(request, client_address)
            except Exception:
                self.handle_error(request, client_address)
                self.shutdown_request(request)
            except BaseException:
                self.shutdown_request(request)
                raise
        else:
            self.shutdown_request(request)

    def verify_request(self, request: Any, client_address: Any) -> bool:
        """Accept only datagrams that look like OSC; drop, count and log the others."""
        data = cast(_RequestType, request)[0]
        if looks_like_osc(data):
            return True
        _drop(self.stats, data, client_address, "not an OSC message or bundle")
        return False

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A handler raised: log it on ``osc_live.osc_server`` and keep serving."""
        self.stats.add("handler_errors")
        logger.exception("error while handling a packet from %s", _format_address(client_address))

    def send_replies(
        self, sock: socket.socket, client_address: _Address, results: list[Any]
    ) -> None:
        """Encode handler results and send them to ``client_address`` from the server socket."""
        if not results:
            return
        try:
            packets = self._dispatcher.encode_replies(results)
        except OscError as exc:
            logger.warning("cannot encode handler results %r: %s", results, exc)
            return
        for packet in packets:
            try:
                sock.sendto(packet, client_address)
            except OSError as exc:  # the server was closed before a late reply
                logger.debug("reply to %s not sent: %s", _format_address(client_address), exc)
                return
            self.stats.add("replies")

    def handle_datagram(self, data: bytes, sock: socket.socket, client_address: _Address) -> None:
        """Dispatch one datagram; results now go back at once, scheduled ones when they run."""
        self.stats.count_packet()
        dispatcher = self._dispatcher

        def late(results: list[Any]) -> None:
            self.send_replies(sock, client_address, results)

        before = _parse_errors(dispatcher)
        try:
            results = dispatcher.call_handlers_for_packet(data, client_address, reply=late)
        except OscError as exc:
            _drop(self.stats, data, client_address, exc)
            return
        if _parse_errors(dispatcher) != before:
            _check_parsed(self.stats, dispatcher, before, data, client_address)
        if results:
            self.send_replies(sock, client_address, results)


class BlockingOSCUDPServer(OSCUDPServer):
    """Handles every datagram in the serving thread, one after the other."""


class ThreadingOSCUDPServer(socketserver.ThreadingMixIn, OSCUDPServer):
    """Handles every datagram in a new thread (joined by ``server_close``)."""


if hasattr(os, "fork"):

    class ForkingOSCUDPServer(socketserver.ForkingMixIn, OSCUDPServer):
        """Handles every datagram in a forked child process (POSIX only).

        The child runs the messages of a future-dated bundle at their times (it may wait: it is
        its own process) and sends their results back before it exits.
        """

        def handle_datagram(
            self, data: bytes, sock: socket.socket, client_address: _Address
        ) -> None:
            self.stats.add("packets")
            try:
                timed_messages = OscPacket(data).messages
            except OscError as exc:
                _drop(self.stats, data, client_address, exc)
                return
            for timed in timed_messages:
                delay = timed.time - time.time()
                if delay > 0:
                    time.sleep(delay)
                results = self._dispatcher.call_handlers_for_packet(
                    timed.message.dgram, client_address
                )
                self.send_replies(sock, client_address, results)

    __all__ += ["ForkingOSCUDPServer"]


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
        """
        self._recv_buffer_request = check_recv_buffer(recv_buffer_size)
        self._server_address = _loopback_default(server_address)
        self._dispatcher = dispatcher
        self._loop = loop
        self._family = family
        self.stats = ServerStats()
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
    def server_address(self) -> _Address:
        """The bound address (with the real port) once serving, else the requested one."""
        if self.transport is not None:
            return cast(_Address, self.transport.get_extra_info("sockname"))
        return self._server_address

    class _OSCProtocolFactory(asyncio.DatagramProtocol):
        """Queues datagrams; one task per endpoint hands them to the dispatcher in order."""

        def __init__(
            self, dispatcher: Dispatcher, server: AsyncIOOSCUDPServer | None = None
        ) -> None:
            # (dispatcher) as in python-osc; our server also passes itself for its stats.
            self.dispatcher = dispatcher
            self.stats = server.stats if server is not None else ServerStats()
            self.transport: asyncio.DatagramTransport | None = None
            self._pending: deque[tuple[bytes, _Address]] = deque()
            self._wakeup: asyncio.Future[None] | None = None
            self._worker: asyncio.Task[None] | None = None
            self.closed: asyncio.Future[None] | None = None

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self.transport = cast(asyncio.DatagramTransport, transport)
            loop = asyncio.get_running_loop()
            self.closed = loop.create_future()
            self._worker = loop.create_task(self._work(), name="osc_live AsyncIOOSCUDPServer")

        def datagram_received(self, data: bytes, addr: _Address) -> None:
            if not looks_like_osc(data):
                _drop(self.stats, data, addr, "not an OSC message or bundle")
                return
            self._pending.append((data, addr))
            if self._wakeup is not None and not self._wakeup.done():
                self._wakeup.set_result(None)

        def error_received(self, exc: Exception) -> None:
            logger.debug("UDP socket error: %s", exc)

        def connection_lost(self, exc: Exception | None) -> None:
            if self._worker is not None:
                self._worker.cancel()
            if self.closed is not None and not self.closed.done():
                self.closed.set_result(None)

        def _reply(self, client_address: _Address, results: list[Any]) -> None:
            transport = self.transport
            if not results or transport is None or transport.is_closing():
                return
            try:
                packets = self.dispatcher.encode_replies(results)
            except OscError as exc:
                logger.warning("cannot encode handler results %r: %s", results, exc)
                return
            for packet in packets:
                transport.sendto(packet, client_address)
                self.stats.add("replies")

        async def _work(self) -> None:
            loop = asyncio.get_running_loop()
            stats = self.stats
            while True:
                if not self._pending:
                    self._wakeup = loop.create_future()
                    await self._wakeup
                    self._wakeup = None
                    continue
                data, addr = self._pending.popleft()
                stats.add("packets")

                def late(results: list[Any], addr: _Address = addr) -> None:
                    self._reply(addr, results)

                before = _parse_errors(self.dispatcher)
                try:
                    results = await self.dispatcher.async_call_handlers_for_packet(
                        data, addr, reply=late
                    )
                except OscError as exc:
                    _drop(stats, data, addr, exc)
                    continue
                except Exception:
                    stats.add("handler_errors")
                    logger.exception("error while handling a packet from %s", _format_address(addr))
                    continue
                _check_parsed(stats, self.dispatcher, before, data, addr)
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
