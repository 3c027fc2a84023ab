"""OSC servers over TCP (python-osc 1.10.2 ``osc_tcp_server`` API), safe on hostile input.

Servers:

- :class:`BlockingOSCTCPServer` -- one connection at a time, in the thread of
  ``serve_forever``;
- :class:`ThreadingOSCTCPServer` -- a thread per connection;
- :class:`ForkingOSCTCPServer` -- a process per connection (POSIX);
- :class:`AsyncOSCTCPServer` -- asyncio, every connection in the running loop.

The socketserver-based ones take ``(server_address, dispatcher, mode="1.1", family=None)``
(as python-osc); :class:`AsyncOSCTCPServer` takes ``(server_address, port, dispatcher,
mode="1.1")``.  ``mode`` is ``"1.0"`` (size prefix), ``"1.1"`` (SLIP) or ``"auto"``: the
framing is then detected per connection from its first byte.  Keyword-only options, on all
of them: ``max_packet_size`` (larger packets are refused), ``frame_timeout`` (seconds a
started frame may take to complete: trickling peers are disconnected), ``idle_timeout``
(seconds without any data before a connection is closed, ``None`` = never),
``send_timeout`` (seconds a reply may wait for a peer that does not read),
``shutdown_grace`` (seconds connections are drained when the server stops).

Behaviour (differences from python-osc are on purpose):

- handler return values (``"/addr"`` or ``("/addr", *args)``) go back to the sender on the
  same connection with the same framing -- also those of future-dated bundles, which are
  scheduled by the dispatcher and never block the connection;
- bad input never stops the server: garbage, a size prefix beyond ``max_packet_size`` (the
  connection is closed), a peer that disconnects mid-frame, a frame that does not complete
  within ``frame_timeout`` -- each is counted in :attr:`stats` and logged as a warning on the
  ``osc_live.osc_tcp_server`` logger (never the root logger); malformed packets are counted by
  the dispatcher (``dispatcher.stats.parse_errors``).  A handler that raises is logged and
  counted; the connection goes on;
- addresses are reusable at once after a server stops (``allow_reuse_address``);
- stopping (``shutdown()`` / ``server_close()`` / ``stop()``) closes the open connections
  gracefully: the server stops writing, reads and dispatches what the peer still sends for
  ``shutdown_grace`` seconds or until the peer closes, then closes (python-osc waits for
  every client to disconnect);
- with no address given the servers bind ``127.0.0.1`` on a free port; the
  socketserver-based ones also create their own dispatcher when given none (and close it
  when they close).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import select
import socket
import socketserver
import threading
import time
from collections.abc import Sequence
from typing import Any

from osc_live._net import (
    DEFAULT_BIND_HOST,
    RECV_SIZE,
    format_address,
    is_ipv6_literal,
    set_send_timeout,
    strip_brackets,
    tune_stream_socket,
)
from osc_live.dispatcher import Dispatcher
from osc_live.errors import FramingError
from osc_live.framing import DEFAULT_MAX_PACKET_SIZE, MODES, Framer, make_framer

__all__ = [
    "MODE_1_0",
    "MODE_1_1",
    "MODE_AUTO",
    "AsyncOSCTCPServer",
    "BlockingOSCTCPServer",
    "OSCTCPServer",
    "ServerStats",
    "ThreadingOSCTCPServer",
]
if hasattr(os, "fork"):
    __all__ += ["ForkingOSCTCPServer"]

logger = logging.getLogger("osc_live.osc_tcp_server")

MODE_1_0 = "1.0"
"""OSC 1.0 stream framing: 4-byte big-endian size prefix."""
MODE_1_1 = "1.1"
"""OSC 1.1 stream framing: SLIP (the default)."""
MODE_AUTO = "auto"
"""Detect the framing of each connection from its first byte."""

DEFAULT_FRAME_TIMEOUT = 10.0
"""Seconds a started frame may take to complete before the connection is closed."""
DEFAULT_SEND_TIMEOUT = 10.0
"""Seconds a reply may wait for a peer that does not read before the connection is closed."""
DEFAULT_SHUTDOWN_GRACE = 0.25
"""Seconds connections are drained when a server stops."""

_WARN_INTERVAL = 1.0


def _check_mode(mode: str) -> str:
    """Validate a server framing mode."""
    if mode not in MODES:
        raise ValueError(f"OSC mode must be one of {', '.join(map(repr, MODES))}, not {mode!r}")
    return mode


class ServerStats:
    """Counters of a server (thread-safe; per process for the forking server).

    - ``connections``: connections accepted; ``active``: open now;
    - ``packets``: complete packets read and given to the dispatcher;
    - ``replies``: reply packets sent; ``replies_dropped``: replies whose connection had gone;
    - ``framing_errors``: recoverable framing errors (bad SLIP escape, SLIP packet too big,
      empty size-prefixed packet) -- the bad packet is dropped, the connection goes on;
    - ``oversized``: size prefixes beyond ``max_packet_size`` -- the connection is closed;
    - ``partial_frames``: connections that ended in the middle of a frame (the part is dropped);
    - ``timeouts``: connections closed because a frame did not complete within
      ``frame_timeout`` or nothing came for ``idle_timeout``;
    - ``send_timeouts``: connections closed because the peer did not read its replies;
    - ``handler_errors``: exceptions raised by handlers (logged; the connection goes on).
    """

    FIELDS = (
        "connections",
        "active",
        "packets",
        "replies",
        "replies_dropped",
        "framing_errors",
        "oversized",
        "partial_frames",
        "timeouts",
        "send_timeouts",
        "handler_errors",
    )

    def __init__(self) -> None:
        """All counters at zero."""
        self._lock = threading.Lock()
        self.connections = 0
        self.active = 0
        self.packets = 0
        self.replies = 0
        self.replies_dropped = 0
        self.framing_errors = 0
        self.oversized = 0
        self.partial_frames = 0
        self.timeouts = 0
        self.send_timeouts = 0
        self.handler_errors = 0

    def add(self, name: str, n: int = 1) -> None:
        """Add ``n`` to counter ``name``."""
        with self._lock:
            setattr(self, name, getattr(self, name) + n)

    def as_dict(self) -> dict[str, int]:
        """The counters as a dict."""
        with self._lock:
            return {name: getattr(self, name) for name in self.FIELDS}

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v}" for k, v in self.as_dict().items())
        return f"ServerStats({inner})"


class _Options:
    """Per-server settings shared by the connection logic."""

    __slots__ = (
        "frame_timeout",
        "idle_timeout",
        "max_packet_size",
        "mode",
        "send_timeout",
        "shutdown_grace",
    )

    def __init__(
        self,
        mode: str,
        max_packet_size: int,
        frame_timeout: float | None,
        idle_timeout: float | None,
        send_timeout: float | None,
        shutdown_grace: float,
    ) -> None:
        self.mode = _check_mode(mode)
        self.max_packet_size = max_packet_size
        self.frame_timeout = frame_timeout
        self.idle_timeout = idle_timeout
        self.send_timeout = send_timeout
        self.shutdown_grace = shutdown_grace


class _Stream:
    """Sans-I/O state of one connection: framing, partial-frame tracking, counting, warnings."""

    __slots__ = (
        "_last_warning",
        "frame",
        "frame_started",
        "framer",
        "last_rx",
        "options",
        "peer",
        "stats",
    )

    def __init__(self, options: _Options, stats: ServerStats, peer: str, now: float) -> None:
        self.options = options
        self.stats = stats
        self.peer = peer
        self.framer: Framer = make_framer(options.mode, options.max_packet_size)
        self.frame = self.framer.send
        self.frame_started: float | None = None
        self.last_rx = now
        self._last_warning = -_WARN_INTERVAL

    def warn(self, message: str, *args: Any) -> None:
        """Log a warning about this peer (at most once a second, debug otherwise)."""
        now = time.monotonic()
        level = logging.DEBUG
        if now - self._last_warning >= _WARN_INTERVAL:
            self._last_warning = now
            level = logging.WARNING
        logger.log(level, "%s: " + message, self.peer, *args)

    def feed(self, data: bytes, now: float) -> tuple[list[bytes], bool]:
        """Frame ``data``: return (complete packets, fatal); errors are counted and logged."""
        self.last_rx = now
        framer = self.framer
        try:
            packets = framer.feed(data)
        except FramingError as exc:
            packets = exc.packets
            if exc.fatal:
                self.stats.add("oversized")
                self.warn("closing the connection: %s", exc)
                self.frame_started = None
                return packets, True
            self.stats.add("framing_errors")
            self.warn("dropped a bad frame: %s", exc)
        # In the middle of a frame: bytes are held towards it, or an oversized SLIP frame is
        # being skipped up to its END (a peer trickling one is cut by frame_timeout too).
        if not (framer.buffered or framer.discarding):
            self.frame_started = None
        elif packets or self.frame_started is None:
            self.frame_started = now
        if packets:
            self.stats.add("packets", len(packets))
        return packets, False

    def deadline(self) -> float | None:
        """Monotonic time at which this connection times out (None: never)."""
        options = self.options
        deadline: float | None = None
        if self.frame_started is not None and options.frame_timeout is not None:
            deadline = self.frame_started + options.frame_timeout
        if options.idle_timeout is not None:
            idle = self.last_rx + options.idle_timeout
            deadline = idle if deadline is None else min(deadline, idle)
        return deadline

    def expired(self, now: float) -> bool:
        """Count and log a timeout when the deadline has passed; True if so."""
        deadline = self.deadline()
        if deadline is None or now < deadline:
            return False
        self.stats.add("timeouts")
        if self.frame_started is not None and (
            self.options.frame_timeout is not None
            and now >= self.frame_started + self.options.frame_timeout
        ):
            self.warn(
                "closing the connection: a frame did not complete within %.3g s (slow or stalled"
                " peer)",
                self.options.frame_timeout,
            )
        else:
            self.warn("closing the idle connection after %.3g s", self.options.idle_timeout)
        return True

    def ended(self) -> None:
        """The peer closed: count a frame left incomplete."""
        if self.frame_started is not None:
            self.stats.add("partial_frames")
            self.warn("the peer disconnected in the middle of a frame; partial frame dropped")
            self.frame_started = None

    def encode(self, dispatcher: Any, results: Sequence[Any]) -> bytes:
        """Frame the replies for handler ``results``."""
        frame = self.frame
        packets = dispatcher.encode_replies(results)
        return b"".join(frame(p) for p in packets)


def _host_family(host: Any, family: socket.AddressFamily | None) -> socket.AddressFamily:
    """The family to bind ``host`` with: IPv6 literals and IPv6-only names get AF_INET6."""
    if family is not None:
        return family
    if not isinstance(host, str):
        return socket.AF_INET
    if is_ipv6_literal(host):
        return socket.AF_INET6
    if host == "" or ("." in host and host.replace(".", "").isdigit()):
        return socket.AF_INET
    try:
        infos = socket.getaddrinfo(host, None, socket.AF_UNSPEC, socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return socket.AF_INET
    families = [info[0] for info in infos]
    if socket.AF_INET in families or not families:
        return socket.AF_INET
    return families[0]


class _SyncConnection:
    """One connection of a socketserver-based server (runs in the handling thread/process)."""

    def __init__(self, server: OSCTCPServer, sock: socket.socket, client_address: Any) -> None:
        self.server = server
        self.sock = sock
        self.client_address = client_address
        self.peer = format_address(*client_address[:2]) if client_address else "?"
        self.stream = _Stream(server._options, server.stats, self.peer, time.monotonic())
        self.send_lock = threading.Lock()
        self.open = True
        self.draining = False

    def reply(self, results: list[Any]) -> None:
        """Send handler results back (any thread: also the dispatcher's scheduler)."""
        if not results:
            return
        data = self.stream.encode(self.server.dispatcher, results)
        if not data:
            return
        count = len(results)
        with self.send_lock:
            if not self.open or self.draining:
                self.server.stats.add("replies_dropped", count)
                return
            try:
                self.sock.sendall(data)
            except (TimeoutError, BlockingIOError):
                self.server.stats.add("send_timeouts")
                self.stream.warn("closing the connection: the peer does not read its replies")
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
        set_send_timeout(sock, server._options.send_timeout)
        tune_stream_socket(sock)
        poller = select.poll()
        poller.register(sock.fileno(), select.POLLIN)
        stop_fd = server._stop_fd()
        if stop_fd is not None:
            poller.register(stop_fd, select.POLLIN)
        grace_deadline: float | None = None
        sock_fd = sock.fileno()
        while True:
            deadline = stream.deadline()
            if grace_deadline is not None:
                deadline = grace_deadline if deadline is None else min(deadline, grace_deadline)
            if deadline is None:
                wait_ms: float | None = None
            else:
                wait_ms = max(0.0, (deadline - time.monotonic()) * 1000.0)
            try:
                events = poller.poll(wait_ms)
            except InterruptedError:  # pragma: no cover - PEP 475 retries
                continue
            now = time.monotonic()
            if not events:
                if grace_deadline is not None and now >= grace_deadline:
                    return
                if stream.expired(now):
                    return
                continue
            readable = False
            for fd, _mask in events:
                if fd == sock_fd:
                    readable = True
                elif fd == stop_fd:
                    poller.unregister(stop_fd)
                    self.start_draining()
                    grace_deadline = now + server._options.shutdown_grace
            if not readable:
                continue
            try:
                data = sock.recv(RECV_SIZE)
            except (BlockingIOError, InterruptedError, TimeoutError):
                continue
            except OSError as exc:
                logger.debug("%s: connection error: %s", self.peer, exc)
                stream.ended()
                return
            if not data:
                stream.ended()
                return
            packets, fatal = stream.feed(data, now)
            for packet in packets:
                try:
                    results = call(packet, client_address, reply=reply)
                except Exception:
                    server.stats.add("handler_errors")
                    logger.exception("%s: an OSC handler raised", self.peer)
                    continue
                if results:
                    reply(results)
            if fatal:
                return

    def close(self) -> None:
        """Mark closed (the socketserver closes the socket itself)."""
        with self.send_lock:
            self.open = False


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
        max_packet_size: int = DEFAULT_MAX_PACKET_SIZE,
        frame_timeout: float | None = DEFAULT_FRAME_TIMEOUT,
        idle_timeout: float | None = None,
        send_timeout: float | None = DEFAULT_SEND_TIMEOUT,
        shutdown_grace: float = DEFAULT_SHUTDOWN_GRACE,
    ) -> None:
        """Bind and listen (see the class docstring)."""
        self.mode = _check_mode(mode)
        self._options = _Options(
            mode, max_packet_size, frame_timeout, idle_timeout, send_timeout, shutdown_grace
        )
        self.stats = ServerStats()
        self._owns_dispatcher = dispatcher is None
        self._dispatcher = dispatcher if dispatcher is not None else Dispatcher()
        self._connections: set[_SyncConnection] = set()
        self._connections_lock = threading.Lock()
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
        self.address_family = _host_family(host, family)
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

    def _serve_connection(self, sock: socket.socket, client_address: Any) -> None:
        """Serve one accepted connection (in whatever thread/process socketserver chose)."""
        if os.getpid() != self._parent_pid and self._stop_w is not None:
            # Forked child: its copy of the write end would keep the stop pipe open.
            with contextlib.suppress(OSError):
                os.close(self._stop_w)
            self._stop_w = None
        conn = _SyncConnection(self, sock, client_address)
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
        deadline = time.monotonic() + self._options.shutdown_grace + 0.05
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
        Children are told to drain and exit when the server shuts down.
        """

        block_on_close = True


# ---------------------------------------------------------------------------------------------
# asyncio
# ---------------------------------------------------------------------------------------------


class _AsyncConnection:
    """One connection of :class:`AsyncOSCTCPServer` (lives in the server's loop)."""

    def __init__(
        self,
        server: AsyncOSCTCPServer,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        loop: asyncio.AbstractEventLoop,
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
        self.peer = format_address(*self.client_address[:2])
        self.stream = _Stream(server._options, server.stats, self.peer, loop.time())
        self.open = True
        self.draining = False
        self._timer: asyncio.TimerHandle | None = None
        self.timed_out = False

    def reply(self, results: list[Any]) -> None:
        """Send handler results back (scheduled results too; safe from other threads)."""
        if not results:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is not self.loop:
            with contextlib.suppress(RuntimeError):
                self.loop.call_soon_threadsafe(self.reply, results)
            return
        count = len(results)
        if not self.open or self.draining or self.writer.is_closing():
            self.server.stats.add("replies_dropped", count)
            return
        data = self.stream.encode(self.server.dispatcher, results)
        if data:
            self.writer.write(data)
            self.server.stats.add("replies", count)

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
            self.timed_out = True
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
        send_timeout = server._options.send_timeout
        loop = self.loop
        while True:
            try:
                data = await reader.read(RECV_SIZE)
            except (ConnectionError, OSError) as exc:
                if not self.timed_out:
                    logger.debug("%s: connection error: %s", self.peer, exc)
                    stream.ended()
                return
            if not data:
                if not self.timed_out:
                    stream.ended()
                return
            packets, fatal = stream.feed(data, loop.time())
            if stream.frame_started is not None or server._options.idle_timeout is not None:
                self.arm_timer()
            for packet in packets:
                try:
                    results = await call(packet, client_address, reply=reply)
                except Exception:
                    server.stats.add("handler_errors")
                    logger.exception("%s: an OSC handler raised", self.peer)
                    continue
                if results:
                    reply(results)
            if transport.get_write_buffer_size() > 0 and not transport.is_closing():
                try:
                    await asyncio.wait_for(writer.drain(), send_timeout)
                except asyncio.TimeoutError:
                    server.stats.add("send_timeouts")
                    stream.warn("closing the connection: the peer does not read its replies")
                    return
                except (ConnectionError, OSError):
                    return
            if fatal:
                return

    async def close(self) -> None:
        """Close the transport and wait for it."""
        self.open = False
        self.cancel_timer()
        writer = self.writer
        if not writer.is_closing():
            writer.close()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(writer.wait_closed(), 1.0)


class AsyncOSCTCPServer:
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
        max_packet_size: int = DEFAULT_MAX_PACKET_SIZE,
        frame_timeout: float | None = DEFAULT_FRAME_TIMEOUT,
        idle_timeout: float | None = None,
        send_timeout: float | None = DEFAULT_SEND_TIMEOUT,
        shutdown_grace: float = DEFAULT_SHUTDOWN_GRACE,
    ) -> None:
        """Remember the settings; nothing is bound until :meth:`listen` / :meth:`start`."""
        if server_address is None:
            server_address = DEFAULT_BIND_HOST
        self._server_address = strip_brackets(server_address)
        self._port = port
        self._family = family
        self._mode = _check_mode(mode)
        self._options = _Options(
            mode, max_packet_size, frame_timeout, idle_timeout, send_timeout, shutdown_grace
        )
        self._owns_dispatcher = dispatcher is None
        self._dispatcher = dispatcher if dispatcher is not None else Dispatcher()
        self.stats = ServerStats()
        self._server: asyncio.Server | None = None
        self._connections: dict[asyncio.Task[Any], _AsyncConnection] = {}
        self._stopped: asyncio.Event | None = None
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

    async def __aenter__(self) -> AsyncOSCTCPServer:
        """Listen and return the server."""
        await self.listen()
        return self

    async def __aexit__(self, exc_type: Any, exc_val: Any, exc_tb: Any) -> None:
        """Stop the server."""
        await self.stop()

    async def listen(self) -> None:
        """Open the listening socket and start accepting (idempotent)."""
        if self._server is not None:
            return
        self._stopping = False
        self._stopped = asyncio.Event()
        host = self._server_address
        family = _host_family(host, self._family)
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

    async def start(self) -> None:
        """Listen and serve until :meth:`stop` is called (then return normally)."""
        await self.listen()
        assert self._stopped is not None
        try:
            await self._stopped.wait()
        except asyncio.CancelledError:
            await self.stop()
            raise

    async def serve(self) -> None:
        """Alias of :meth:`start`."""
        await self.start()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Serve one connection (called by asyncio for every accepted connection)."""
        loop = asyncio.get_running_loop()
        conn = _AsyncConnection(self, reader, writer, loop)
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
            _done, pending = await asyncio.wait(list(conns), timeout=self._options.shutdown_grace)
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
        if self._stopped is not None:
            self._stopped.set()
        if self._owns_dispatcher:
            self._dispatcher.close()
