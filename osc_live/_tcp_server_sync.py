"""The socketserver-based OSC TCP servers: blocking, threading (a thread per connection) and
forking (a process per connection, POSIX).

Public face: :mod:`osc_live.osc_tcp_server` (see its docstring for the behaviour).  Each
connection is driven through the sans-I/O :class:`~osc_live._tcp_server_base.Stream` the
asyncio server uses too.  Admission (``max_connections``, ``max_connections_per_host``) runs in
``verify_request``, in the thread of ``serve_forever``: no thread or process is started for a
refused connection.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import socketserver
import threading
import time
from typing import Any

from osc_live._limits import Limits, Ticket
from osc_live._net import (
    DEFAULT_BIND_HOST,
    RECV_SIZE,
    set_send_timeout,
    strip_brackets,
    tune_stream_socket,
)
from osc_live._tcp_server_base import MODE_1_1, ServerCore, host_family, logger, peer_of
from osc_live.dispatcher import Dispatcher

__all__ = ["BlockingOSCTCPServer", "OSCTCPServer", "ThreadingOSCTCPServer"]

_DONTWAIT = getattr(socket, "MSG_DONTWAIT", 0)
_LOOK_INTERVAL = 0.05
"""Seconds between looks at the stop signal and the deadlines while data keeps flowing."""
if hasattr(os, "fork"):
    __all__ += ["ForkingOSCTCPServer"]


class _SyncConnection:
    """One connection of a socketserver-based server (runs in the handling thread/process)."""

    def __init__(
        self, server: OSCTCPServer, sock: socket.socket, client_address: Any, ticket: Ticket
    ) -> None:
        self.server = server
        self.sock = sock
        self.client_address = client_address
        self.stream = server._core.stream(client_address, time.monotonic(), ticket)
        self.peer = self.stream.peer
        self.send_lock = threading.Lock()
        self.open = True
        self.draining = False

    def reply(self, results: list[Any]) -> None:
        """Send handler results back (any thread: also the dispatcher's scheduler)."""
        if not results:
            return
        count = len(results)
        with self.send_lock:
            if not self.open or self.draining:
                self.server.stats.add("replies_dropped", count)
                return
            data = self.stream.encode(self.server.dispatcher, results)
            if not data:
                return
            try:
                self.sock.sendall(data)
            except (TimeoutError, BlockingIOError):
                self.stream.send_timed_out()
                self._shutdown(socket.SHUT_RDWR)
                self.open = False
                return
            except OSError as exc:
                self.server.stats.add("replies_dropped", count)
                logger.debug("%s: reply not sent: %s", self.peer, exc)
                return
        self.server.stats.add("replies", count)

    def _shutdown(self, how: int) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(how)

    def start_draining(self) -> None:
        """Stop writing (the peer sees EOF) and keep reading for the grace period."""
        with self.send_lock:
            if self.draining:
                return
            self.draining = True
            self._shutdown(socket.SHUT_WR)

    def abort(self) -> None:
        """Stop reading too: unblocks the connection's loop."""
        self._shutdown(socket.SHUT_RDWR)

    def run(self) -> None:
        """Read, frame and dispatch until the peer closes, an error, a timeout or a stop."""
        server = self.server
        stream = self.stream
        sock = self.sock
        dispatcher = server.dispatcher
        call = dispatcher.call_handlers_for_packet
        reply = self.reply
        client_address = self.client_address
        limits = server._core.limits
        set_send_timeout(sock, limits.send_timeout)
        tune_stream_socket(sock)
        poller = select.poll()
        poller.register(sock.fileno(), select.POLLIN)
        stop_fd = server._stop_fd()
        if stop_fd is not None:
            poller.register(stop_fd, select.POLLIN)
        grace_deadline: float | None = None
        recv = sock.recv
        monotonic = time.monotonic
        next_look = 0.0  # while data flows, look at the stop signal now and then
        while True:
            # Read what is already there without waiting: a busy peer costs one system call
            # per 64 KiB, not a poll and a recv per chunk.
            try:
                data: bytes | None = recv(RECV_SIZE, _DONTWAIT)
            except (BlockingIOError, InterruptedError):
                data = None
            except OSError as exc:
                logger.debug("%s: connection error: %s", self.peer, exc)
                stream.ended()
                return
            now = monotonic()
            if data is None or now >= next_look:
                # Nothing waiting (or time to look): block until data, the stop signal or
                # a deadline (frame_timeout, idle_timeout, the shutdown grace).
                deadline = stream.deadline()
                if grace_deadline is not None:
                    deadline = grace_deadline if deadline is None else min(deadline, grace_deadline)
                if data is not None:
                    wait_ms: float | None = 0.0
                elif deadline is None:
                    wait_ms = None
                else:
                    wait_ms = max(0.0, (deadline - monotonic()) * 1000.0)
                try:
                    events = poller.poll(wait_ms)
                except InterruptedError:  # pragma: no cover - PEP 475 retries
                    events = []
                now = monotonic()
                next_look = now + _LOOK_INTERVAL
                for fd, _mask in events:
                    if fd == stop_fd:
                        poller.unregister(stop_fd)
                        self.start_draining()
                        grace_deadline = now + limits.shutdown_grace
                if grace_deadline is not None and now >= grace_deadline:
                    return
                if stream.expired(now):
                    return
                if data is None:
                    continue
            if not data:
                stream.ended()
                return
            packets, cut = stream.feed(data, now)
            for packet in packets:
                try:
                    results = call(packet, client_address, reply=reply)
                except Exception:
                    stream.stats.add("handler_errors")
                    logger.exception("%s: an OSC handler raised", self.peer)
                    continue
                if results:
                    reply(results)
            if cut:
                return

    def close(self) -> None:
        """Mark closed (the socketserver closes the socket itself); free its slot."""
        with self.send_lock:
            self.open = False
        self.stream.close()


class _RequestHandler(socketserver.BaseRequestHandler):
    """socketserver glue: hands the connection to its server."""

    server: OSCTCPServer

    def handle(self) -> None:
        """Serve the connection until it ends."""
        self.server._serve_connection(self.request, self.client_address)


class OSCTCPServer(socketserver.TCPServer):
    """Base of the socketserver-based OSC TCP servers (see the module docstring).

    ``server_address`` defaults to ``("127.0.0.1", 0)``; a host of ``None`` means
    ``127.0.0.1`` too and ``""`` every interface (port 0: a free port: read it back from
    :attr:`server_address`); ``dispatcher`` defaults to a new :class:`Dispatcher` owned (and
    closed) by the server; ``family`` is inferred from the host when not given (IPv6 literals
    get ``AF_INET6``).
    """

    allow_reuse_address = True
    request_queue_size = 300

    def __init__(
        self,
        server_address: tuple[Any, int] = (DEFAULT_BIND_HOST, 0),
        dispatcher: Dispatcher | None = None,
        mode: str = MODE_1_1,
        family: socket.AddressFamily | None = None,
        *,
        limits: Limits | None = None,
        **limit_options: Any,
    ) -> None:
        """Bind and listen (see the class docstring).

        ``limits`` and ``limit_options`` (any field of :class:`~osc_live._limits.Limits`:
        ``max_packet_size=``, ``max_connections=``, ``frame_timeout=``...; they override
        ``limits``) set the server's limits; an unknown name raises ``TypeError``.
        """
        self._core = ServerCore(mode, Limits.build(limits, **limit_options))
        self.mode = mode
        self.limits = self._core.limits
        self.stats = self._core.stats
        self._owns_dispatcher = dispatcher is None
        self._dispatcher = dispatcher if dispatcher is not None else Dispatcher()
        self._connections: set[_SyncConnection] = set()
        self._connections_lock = threading.Lock()
        self._tickets: dict[Any, Ticket] = {}
        self._stop_r: int | None = None
        self._stop_w: int | None = None
        self._parent_pid = os.getpid()
        self._closed = False
        self._listener_closed = False
        host = server_address[0]
        if host is None:
            host = DEFAULT_BIND_HOST
            server_address = (host, server_address[1])
        if isinstance(host, str):
            host = strip_brackets(host)
            server_address = (host, *server_address[1:])  # type: ignore[assignment]
        self.address_family = host_family(host, family)
        self._new_stop_pipe()
        try:
            super().__init__(server_address, _RequestHandler)
        except BaseException:
            self._close_stop_pipe()
            raise

    @property
    def dispatcher(self) -> Dispatcher:
        """The dispatcher handling the packets of every connection."""
        return self._dispatcher

    @property
    def port(self) -> int:
        """The port the server listens on."""
        return int(self.server_address[1])

    # -- stop signalling -------------------------------------------------------------------

    def _new_stop_pipe(self) -> None:
        """A pipe whose write end is closed to tell every connection loop to stop."""
        self._stop_r, self._stop_w = os.pipe()

    def _close_stop_pipe(self) -> None:
        for name in ("_stop_w", "_stop_r"):
            fd = getattr(self, name)
            if fd is not None:
                setattr(self, name, None)
                with contextlib.suppress(OSError):
                    os.close(fd)

    def _stop_fd(self) -> int | None:
        """The fd connection loops poll for the stop signal (read end of the stop pipe)."""
        return self._stop_r

    def _signal_stop(self) -> None:
        """Close the stop pipe's write end: every connection loop starts draining."""
        fd, self._stop_w = self._stop_w, None
        if fd is not None:
            with contextlib.suppress(OSError):
                os.close(fd)

    # -- connections -----------------------------------------------------------------------

    def verify_request(self, request: Any, client_address: Any) -> bool:
        """Admit the connection unless ``max_connections(_per_host)`` is reached.

        Runs in the thread of ``serve_forever``, before a thread or process is started: a
        refused connection costs nothing more than its accept and close (counted in
        ``refused``, logged once per peer host).
        """
        host, peer = peer_of(client_address)
        ticket = self._core.gate.admit(host, peer)
        if ticket is None:
            return False
        with self._connections_lock:
            self._tickets[request] = ticket
        return True

    def shutdown_request(self, request: Any) -> None:
        """Close the connection's socket and free its slot if it was never served."""
        with self._connections_lock:
            ticket = self._tickets.pop(request, None)
        if ticket is not None:  # admitted, never served (process_request failed)
            ticket.release()
        super().shutdown_request(request)

    def _ticket(self, request: Any, client_address: Any) -> Ticket | None:
        """The admission ticket of ``request`` (admitted now if it skipped verify_request)."""
        with self._connections_lock:
            ticket = self._tickets.pop(request, None)
        if ticket is None:
            host, peer = peer_of(client_address)
            ticket = self._core.gate.admit(host, peer)
        return ticket

    def _serve_connection(self, sock: socket.socket, client_address: Any) -> None:
        """Serve one accepted connection (in whatever thread/process socketserver chose)."""
        if os.getpid() != self._parent_pid and self._stop_w is not None:
            # Forked child: its copy of the write end would keep the stop pipe open.
            with contextlib.suppress(OSError):
                os.close(self._stop_w)
            self._stop_w = None
        ticket = self._ticket(sock, client_address)
        if ticket is None:
            return
        conn = _SyncConnection(self, sock, client_address, ticket)
        self.stats.add("connections")
        self.stats.add("active")
        with self._connections_lock:
            self._connections.add(conn)
        try:
            if self._stop_w is None and os.getpid() == self._parent_pid:
                conn.start_draining()
            conn.run()
        finally:
            conn.close()
            with self._connections_lock:
                self._connections.discard(conn)
            self.stats.add("active", -1)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Log an unexpected error of a connection on our logger (not stderr)."""
        logger.exception("error while serving %s", client_address)

    def _close_connections(self) -> None:
        """Drain every open connection for ``shutdown_grace`` seconds, then cut it."""
        self._signal_stop()
        with self._connections_lock:
            conns = list(self._connections)
        for conn in conns:
            conn.start_draining()
        deadline = time.monotonic() + self.limits.shutdown_grace + 0.05
        while time.monotonic() < deadline:
            with self._connections_lock:
                if not self._connections:
                    return
            time.sleep(0.005)
        with self._connections_lock:
            conns = list(self._connections)
        for conn in conns:
            conn.abort()

    def _concurrent(self) -> bool:
        """True when connections run beside ``serve_forever`` (threads or processes)."""
        forking = getattr(socketserver, "ForkingMixIn", socketserver.ThreadingMixIn)
        return isinstance(self, (socketserver.ThreadingMixIn, forking))

    def _close_listener(self) -> None:
        """Stop accepting; connections already in the backlog are served (and drained)."""
        if self._listener_closed:
            return
        self._listener_closed = True
        try:
            self.socket.setblocking(False)
            while True:
                try:
                    request, client_address = self.socket.accept()
                except OSError:
                    break
                request.setblocking(True)
                if not self.verify_request(request, client_address):
                    self.shutdown_request(request)
                    continue
                try:
                    self.process_request(request, client_address)
                except Exception:
                    self.handle_error(request, client_address)
                    self.shutdown_request(request)
        finally:
            self.socket.close()

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        """Serve until :meth:`shutdown` (as socketserver)."""
        if self._listener_closed:
            raise OSError("this server was shut down; create a new one to serve again")
        super().serve_forever(poll_interval)

    def shutdown(self) -> None:
        """Stop ``serve_forever`` (from another thread), stop listening, drain connections.

        Connections are drained for ``shutdown_grace`` seconds (the peers see EOF, what they
        still send is dispatched), then closed.  The server cannot serve again afterwards.
        """
        if not self._concurrent():
            self._signal_stop()  # the connection runs inside serve_forever: end it first
        super().shutdown()
        self._close_listener()
        self._close_connections()

    def server_close(self) -> None:
        """Close the listening socket and every connection; wait for their threads."""
        if self._closed:
            return
        self._closed = True
        self._close_listener()
        self._close_connections()
        super().server_close()
        self._close_stop_pipe()
        if self._owns_dispatcher:
            self._dispatcher.close()


class BlockingOSCTCPServer(OSCTCPServer):
    """Handles one connection at a time in the thread of ``serve_forever``."""


class ThreadingOSCTCPServer(socketserver.ThreadingMixIn, OSCTCPServer):
    """Handles each connection in its own thread (joined when the server closes)."""

    daemon_threads = False
    block_on_close = True


if hasattr(os, "fork"):

    class ForkingOSCTCPServer(socketserver.ForkingMixIn, OSCTCPServer):
        """Handles each connection in its own process (POSIX only).

        Handlers run in the child, so their side effects and :attr:`stats` stay there.
        Children are told to drain and exit when the server shuts down.  The parent admits
        connections (``max_connections``...) and frees a slot when its child is reaped.
        """

        block_on_close = True

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            """As :class:`OSCTCPServer`; ``max_connections`` bounds the children too."""
            super().__init__(*args, **kwargs)
            # socketserver blocks accepting at max_children; the gate refuses instead.
            self.max_children = self.limits.max_connections + 1
            self._child_tickets: dict[int, Ticket] = {}

        def process_request(self, request: Any, client_address: Any) -> None:
            """Fork a child for the connection; remember which slot it holds."""
            with self._connections_lock:
                ticket = self._tickets.get(request)
            before = set(self.active_children or ())
            super().process_request(request, client_address)  # the child never returns
            for pid in set(self.active_children or ()) - before:
                if ticket is not None:
                    self._child_tickets[pid] = ticket
            with self._connections_lock:
                self._tickets.pop(request, None)

        def collect_children(self, *, blocking: bool = False) -> None:
            """Reap finished children and free their slots."""
            super().collect_children(blocking=blocking)
            alive = self.active_children or set()
            for pid in [pid for pid in self._child_tickets if pid not in alive]:
                self._child_tickets.pop(pid).release()
