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
  was granted;
* :class:`ThreadingOSCUDPServer` runs handlers in a bounded pool (``max_workers``, 16) instead of
  a thread per datagram; it and :class:`AsyncIOOSCUDPServer` queue at most ``max_pending``
  datagrams / ``max_pending_bytes`` (4096, 8 MiB; a quarter per sender host) -- the rest is
  dropped, counted in ``stats.overflow`` and logged once per host.

The asyncio server lives in :mod:`osc_live._udp_server_async`, what the servers share (counters,
the bounded queue, the worker pool) in :mod:`osc_live._udp_server_base`.
"""

from __future__ import annotations

import os
import socket
import socketserver
import time
from typing import Any, cast

from osc_live._limits import PeerLog
from osc_live._net import (
    DEFAULT_UDP_RECV_BUFFER,
    check_recv_buffer,
    recv_buffer_size,
    set_recv_buffer,
)
from osc_live._udp_server_async import AsyncIOOSCUDPServer
from osc_live._udp_server_base import (
    DEFAULT_MAX_PENDING,
    DEFAULT_MAX_PENDING_BYTES,
    DEFAULT_MAX_WORKERS,
    Address,
    PendingQueue,
    ServerStats,
    WorkerPool,
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
from osc_live.osc_packet import OscPacket
from osc_live.udp_client import MAX_DATAGRAM_SIZE, named_os_error, send_replies

__all__ = [
    "AsyncIOOSCUDPServer",
    "BlockingOSCUDPServer",
    "OSCUDPServer",
    "ServerStats",
    "ThreadingOSCUDPServer",
    "looks_like_osc",
]

_RequestType = tuple[bytes, socket.socket]
#: recvfrom flag to read without waiting (0 where the platform has none: one per round).
_DONTWAIT = getattr(socket, "MSG_DONTWAIT", 0)


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
        server_address = loopback_default(server_address)
        self.address_family = infer_family(server_address[0], server_address[1], family)
        self._dispatcher = dispatcher
        self.stats = ServerStats()
        super().__init__(server_address, _UDPHandler, bind_and_activate)
        self.timeout = timeout
        self._batch = 1
        cls = type(self)
        # Datagrams may bypass socketserver's per-request machinery only if nothing in it was
        # customised (the forking server overrides process_request; the threading server's own
        # process_request queues for its pool, which _handle_batch does in one go).
        self._direct = (
            cls.process_request
            in (socketserver.BaseServer.process_request, _pool_process_request())
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
        batch: list[tuple[bytes, Address]] = []
        for _ in range(self._batch if _DONTWAIT else 1):
            try:
                data, client_address = sock.recvfrom(size, flags)
            except OSError:  # nothing more queued (or the socket was closed meanwhile)
                break
            flags = _DONTWAIT
            if direct:  # no subclass hook overridden: skip the per-datagram handler object
                if data[:1] == b"/" or data[:8] == b"#bundle\0":
                    batch.append((data, client_address))
                else:
                    drop(self.stats, data, client_address, "not an OSC message or bundle")
            else:
                self._process_one((data, sock), client_address)
        if batch:
            self._handle_batch(batch, sock)

    def _handle_batch(self, batch: list[tuple[bytes, Address]], sock: socket.socket) -> None:
        """Handle the OSC-looking datagrams of one wake-up, in order (in this thread)."""
        handle = self.handle_datagram
        for data, client_address in batch:
            try:
                handle(data, sock, client_address)
            except Exception:
                self.handle_error((data, sock), client_address)

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
        drop(self.stats, data, client_address, "not an OSC message or bundle")
        return False

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A handler raised: log it on ``osc_live.osc_server`` and keep serving."""
        self.stats.add("handler_errors")
        logger.exception("error while handling a packet from %s", format_peer(client_address))

    def send_replies(
        self, sock: socket.socket, client_address: Address, results: list[Any]
    ) -> None:
        """Encode handler results and send them to ``client_address`` from the server socket."""
        if results:

            def send(packet: bytes) -> None:
                sock.sendto(packet, client_address)

            sent = send_replies(self._dispatcher, results, send, client_address)
            self.stats.add("replies", sent)

    def handle_datagram(self, data: bytes, sock: socket.socket, client_address: Address) -> None:
        """Dispatch one datagram; results now go back at once, scheduled ones when they run."""
        self.stats.count_packet()
        self._dispatch(data, sock, client_address)

    def _dispatch(self, data: bytes, sock: socket.socket, client_address: Address) -> None:
        """:meth:`handle_datagram` without the count (the threading server counts batches)."""
        dispatcher = self._dispatcher

        def late(results: list[Any]) -> None:
            self.send_replies(sock, client_address, results)

        before = parse_errors(dispatcher)
        try:
            results = dispatcher.call_handlers_for_packet(data, client_address, reply=late)
        except OscError as exc:
            drop(self.stats, data, client_address, exc)
            return
        if parse_errors(dispatcher) != before:
            check_parsed(self.stats, dispatcher, before, data, client_address)
        if results:
            self.send_replies(sock, client_address, results)


class BlockingOSCUDPServer(OSCUDPServer):
    """Handles every datagram in the serving thread, one after the other."""


class ThreadingOSCUDPServer(socketserver.ThreadingMixIn, OSCUDPServer):
    """Handles datagrams concurrently in a bounded pool of worker threads.

    A slow handler occupies one worker while the others go on, as with python-osc's thread per
    datagram, but at most ``max_workers`` (16) threads run; datagrams wait for a free worker in
    a queue of at most ``max_pending`` datagrams / ``max_pending_bytes`` bytes (4096, 8 MiB; a
    quarter of them per sender host).  A datagram that does not fit is dropped, counted in
    ``stats.overflow`` and logged once per sender host.  Handlers may run in any order, as
    with threads.  ``server_close`` drops what still waits and joins the workers.
    """

    def __init__(
        self,
        server_address: tuple[str | None, int],
        dispatcher: Dispatcher,
        bind_and_activate: bool = True,
        timeout: float | None = None,
        family: socket.AddressFamily | None = None,
        *,
        recv_buffer_size: int | None = DEFAULT_UDP_RECV_BUFFER,
        max_workers: int = DEFAULT_MAX_WORKERS,
        max_pending: int = DEFAULT_MAX_PENDING,
        max_pending_bytes: int = DEFAULT_MAX_PENDING_BYTES,
    ) -> None:
        """As :class:`OSCUDPServer`, plus the pool's bounds (see the class docstring)."""
        self.log = PeerLog(logger)
        self._pool = WorkerPool(
            self._work,
            PendingQueue(max_pending, max_pending_bytes),
            max_workers,
            name="osc_live-udp-worker",
        )
        super().__init__(
            server_address,
            dispatcher,
            bind_and_activate,
            timeout,
            family,
            recv_buffer_size=recv_buffer_size,
        )

    @property
    def workers(self) -> int:
        """Worker threads started so far (at most ``max_workers``)."""
        return self._pool.workers

    def process_request(self, request: Any, client_address: Any) -> None:
        """Queue the datagram for a worker (instead of starting a thread for it)."""
        data = cast(_RequestType, request)[0]
        if not self._pool.submit((request, client_address), str(client_address[0]), len(data)):
            overflow(self.stats, self.log, client_address, self._pool.queue)

    def _handle_batch(self, batch: list[tuple[bytes, Address]], sock: socket.socket) -> None:
        """Queue the datagrams of one wake-up for the workers in one go."""
        refused = self._pool.submit_many(
            [(((data, sock), address), address[0], len(data)) for data, address in batch]
        )
        if len(refused) < len(batch):
            self.stats.add("packets", len(batch) - len(refused))
        for (_request, address), _host, _size in refused:
            overflow(self.stats, self.log, address, self._pool.queue)

    def _work(self, item: tuple[Any, Any]) -> None:
        """A worker handles one queued datagram (as socketserver's thread would)."""
        request, client_address = item
        if self._direct:  # counted when queued (_handle_batch)
            data, sock = request
            try:
                self._dispatch(data, sock, client_address)
            except Exception:
                self.handle_error(request, client_address)
            return
        try:
            self.finish_request(request, client_address)
        except Exception:
            self.handle_error(request, client_address)
        finally:
            self.shutdown_request(request)

    def server_close(self) -> None:
        """Close the socket; drop the datagrams still waiting, join the workers."""
        super().server_close()
        self._pool.close()


def _pool_process_request() -> Any:
    """ThreadingOSCUDPServer's own process_request (not a customisation: see _direct)."""
    return ThreadingOSCUDPServer.process_request


if hasattr(os, "fork"):

    class ForkingOSCUDPServer(socketserver.ForkingMixIn, OSCUDPServer):
        """Handles every datagram in a forked child process (POSIX only).

        The child runs the messages of a future-dated bundle at their times (it may wait: it is
        its own process) and sends their results back before it exits.
        """

        def handle_datagram(
            self, data: bytes, sock: socket.socket, client_address: Address
        ) -> None:
            self.stats.add("packets")
            try:
                timed_messages = OscPacket(data).messages
            except OscError as exc:
                drop(self.stats, data, client_address, exc)
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
