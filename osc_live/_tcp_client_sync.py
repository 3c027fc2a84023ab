"""The blocking OSC TCP clients: :class:`TCPClient` and :class:`SimpleTCPClient` (the
dispatch client is in :mod:`osc_live._tcp_client_dispatch`).

Public face: :mod:`osc_live.tcp_client` (see its docstring for the behaviour).  The logic the
asyncio clients share lives in :mod:`osc_live._tcp_client_base`; here is the socket code.

Sending is one ``send`` system call per message (or per batch) on a blocking socket whose
kernel send timeout (``SO_SNDTIMEO``) is the client's timeout, so a send waits at most that
long.  A send that times out in the middle of a frame leaves the stream out of frame: the
connection is closed and the error says so (with reconnection on, the whole message goes out
again on the next connection, before anything sent later).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import select
import socket
import threading
import time
from collections.abc import Iterable, Iterator
from types import TracebackType
from typing import Any

from osc_live._net import (
    RECV_SIZE,
    connect_tcp,
    local_host_port,
    named_error,
    set_send_timeout,
    unsent_bytes,
)
from osc_live._tcp_client_base import (
    LIVENESS_INTERVAL,
    ClientBase,
    args_of,
    call_hook,
    flatten,
    parse,
    unconfirmed,
)
from osc_live.osc_bundle import OscBundle
from osc_live.osc_message import ADDRESS_PLANS, LOOKUP_OR_FAST_FAIL, OscMessage, encode_message
from osc_live.osc_message_builder import ArgValue

__all__ = ["SimpleTCPClient", "TCPClient"]

logger = logging.getLogger("osc_live.tcp_client")

_POLL_IN = select.POLLIN | getattr(select, "POLLRDHUP", 0)
_POLL_GONE = select.POLLHUP | select.POLLERR | getattr(select, "POLLRDHUP", 0)
_FLUSH_BATCH = 1 << 16
"""Bytes of queued packets written per system call when a reconnection flushes the queue."""


def _graceful_close(sock: socket.socket, timeout: float) -> str | None:
    """Half-close, then read (and drop) replies until the server's EOF, at most ``timeout`` s.

    Closing a socket with unread input makes the kernel send a reset instead of a FIN, and a
    reset destroys what the server has not read yet (and what the kernel has not delivered);
    the server's EOF says it has read everything.  Returns None once confirmed so, else why
    not (for :meth:`~osc_live._tcp_client_base.ClientBase._warn_unconfirmed_close`).
    """
    try:
        sock.shutdown(socket.SHUT_WR)
        poller = select.poll()
        poller.register(sock.fileno(), select.POLLIN)
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not poller.poll(remaining * 1000):
                return unconfirmed(timeout, unsent_bytes(sock.fileno()))
            if not sock.recv(RECV_SIZE):
                return None
    except OSError as exc:
        if exc.errno == errno.ENOTCONN:
            return None  # the connection had ended already
        return f"the connection failed while closing ({exc})"
    finally:
        sock.close()


def _quick_close(sock: socket.socket) -> None:
    """Close without waiting (the peer does not read: lingering would outlast the timeout)."""
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_WR)
    sock.close()


class _Conn:
    """One connected socket of a blocking client plus its poller."""

    __slots__ = ("poller", "send", "sock")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.send = sock.send
        self.poller = select.poll()
        self.poller.register(sock.fileno(), _POLL_IN)


class _WriteFailed(Exception):
    """Internal: a write did not complete; ``unsent`` packets are whole and oldest first."""

    def __init__(self, unsent: list[bytes], error: OSError, out_of_frame: bool) -> None:
        super().__init__(error)
        self.unsent = unsent
        self.error = error
        self.out_of_frame = out_of_frame


class TCPClient(ClientBase):
    """OSC client over TCP with blocking sockets; connects in the constructor (as python-osc).

    ``send`` / ``send_message`` write one framed packet; ``receive`` / ``get_messages`` yield
    what the server sends back.  Thread-safe for sending.  Use as a context manager or call
    :meth:`close`.  ``timeout`` bounds connecting, each send and the default wait of
    ``receive`` (``None``: no bound).

    Keyword-only extensions: ``reconnect`` (``True`` or a :class:`ReconnectPolicy`),
    ``on_disconnect(exc_or_None)``, ``on_reconnect()`` callbacks (called from the sending or
    the reconnecting thread) and ``max_packet_size`` for what is read back.
    """

    def _start_io(self) -> None:
        """Connect to ``address:port`` (see the class docstring for the options)."""
        self._lock = threading.Lock()
        self._conn: _Conn | None = None
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._idle = threading.Condition(self._lock)
        self._reconnector: threading.Thread | None = None
        self._last_check = 0.0
        try:
            sock = connect_tcp(self.address, self.port, self.family, self._timeout)
        except OSError as exc:
            self._first_connect_failed(exc)
            with self._lock:
                self._start_reconnector_locked()
            return
        self._conn = _Conn(sock)
        self._connected.set()

    # -- context manager and life cycle ---------------------------------------------------------

    def __enter__(self) -> TCPClient:
        """Return the connected client."""
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        """Close the client."""
        self.close()

    @property
    def socket(self) -> socket.socket | None:
        """The connected socket (python-osc attribute), None while disconnected."""
        conn = self._conn
        return conn.sock if conn is not None else None

    @property
    def local_address(self) -> tuple[str, int] | None:
        """``(host, port)`` of the connected socket's local end (a new one after a reconnect),
        None while not connected."""
        conn = self._conn
        return local_host_port(conn.sock) if conn is not None else None

    @property
    def connected(self) -> bool:
        """True while a connection is up."""
        return self._conn is not None

    def wait_connected(self, timeout: float | None = None) -> bool:
        """Block until connected (True) or ``timeout`` seconds pass (False)."""
        return self._connected.wait(timeout)

    def flush(self, timeout: float | None = None) -> bool:
        """Block until no message waits in the reconnect queue; False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._idle:
            while len(self._queue) and not self._closed:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._idle.wait(remaining)
            return not len(self._queue)

    def close(self, timeout: float | None = None) -> None:
        """Close the connection and stop reconnecting (idempotent).

        Half-closes, then waits for the server to close its side -- its confirmation that it
        has read everything sent -- at most ``timeout`` seconds (default: the client's
        timeout, or :data:`~osc_live._tcp_client_base.CLOSE_TIMEOUT` when it has none);
        replies arriving meanwhile are dropped.  Without that confirmation in time, the
        connection is closed anyway and a WARNING on ``osc_live.tcp_client`` says what may be
        lost.
        """
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._stop.set()
            conn, self._conn = self._conn, None
            thread = self._reconnector
            self._idle.notify_all()
        if conn is not None:
            trouble = _graceful_close(conn.sock, self._close_timeout(timeout))
            if trouble is not None:
                self._warn_unconfirmed_close(trouble)
        self._warn_unsent_on_close()
        if thread is not None and thread is not threading.current_thread():
            thread.join()

    # -- sending -------------------------------------------------------------------------------

    def send(self, content: OscMessage | OscBundle | bytes) -> None:
        """Send an :class:`OscMessage` or :class:`OscBundle` (or a raw packet as bytes)."""
        dgram = content if isinstance(content, (bytes, bytearray)) else content.dgram
        self._send_packets([bytes(dgram)])

    def send_message(self, address: str, value: ArgValue | Iterable[ArgValue] = "") -> None:
        """Build and send one message: ``value`` is one argument or a list of them."""
        cls = type(value)
        if cls is list or cls is tuple:
            try:  # encode_message's fast path, inlined: one lookup, one call
                packet = ADDRESS_PLANS[address].encode(value)
            except LOOKUP_OR_FAST_FAIL:
                packet = encode_message(address, value)  # type: ignore[arg-type]
        else:
            packet = encode_message(address, args_of(value))
        if self._policy is None:  # the hot path: one system call, nothing else
            with self._lock:
                conn = self._conn
                if conn is not None:
                    data = self._frame(packet)
                    total = len(data)
                    try:
                        written = conn.send(data)
                    except OSError as exc:
                        failed = self._failure([packet], [total], exc)
                    else:
                        if written == total:
                            return
                        failed = self._failure([packet], [total], written)
                    raise self._failed_without_reconnect(conn, failed) from failed.error
        self._send_packets([packet])

    def send_messages(self, messages: Iterable[tuple[str, Any]]) -> None:
        """Send many ``(address, value)`` messages with one system call (batching)."""
        packets = [encode_message(a, args_of(v)) for a, v in messages]
        if packets:
            self._send_packets(packets)

    def _send_packets(self, packets: list[bytes]) -> None:
        """Write packets on the connection, or queue them while reconnecting."""
        hook: tuple[BaseException | None] | None = None
        with self._lock:
            if self._closed:
                raise self._closed_error()
            conn = self._conn
            if self._policy is None:
                if conn is None:
                    raise self._lost_error()
                try:
                    self._write_locked(conn, packets)
                except _WriteFailed as failed:
                    raise self._failed_without_reconnect(conn, failed) from failed.error
                return
            if conn is not None:
                now = time.monotonic()
                if now - self._last_check >= LIVENESS_INTERVAL:
                    self._last_check = now
                    if self._peer_closed_locked(conn):
                        self._drop_locked(conn)
                        hook = (None,)
                        conn = None
            unsent: list[bytes] | None = None
            if conn is not None:
                try:
                    self._write_locked(conn, packets)
                    return
                except _WriteFailed as failed:
                    self._drop_locked(conn, quick=failed.out_of_frame)
                    unsent = failed.unsent
                    hook = (named_error(failed.error, self.address, self.port, "sending to"),)
            if self._gave_up is not None:
                raise self._gave_up
            if unsent is not None:
                # Accepted for sending when the connection failed: they go first, whatever
                # max_queue says (they were never refused).
                self._queue.requeue(unsent)
            else:
                self._queue.put_all(packets, self.address, self.port)
            self._start_reconnector_locked()
        if hook is not None:
            logger.warning(
                "connection to %s lost (%s); reconnecting", self._where, hook[0] or "EOF"
            )
            call_hook(self.on_disconnect, hook[0])

    def _write_locked(self, conn: _Conn, packets: list[bytes]) -> None:
        """Write ``packets`` framed in one system call; raise _WriteFailed if it did not finish."""
        frame = self._frame
        if len(packets) == 1:
            data = frame(packets[0])
            sizes = [len(data)]
        else:
            frames = [frame(p) for p in packets]
            sizes = [len(f) for f in frames]
            data = b"".join(frames)
        try:
            written = conn.send(data)
        except OSError as exc:
            raise self._failure(packets, sizes, exc) from exc
        if written != len(data):
            raise self._failure(packets, sizes, written)

    def _failure(
        self, packets: list[bytes], sizes: list[int], outcome: OSError | int
    ) -> _WriteFailed:
        """What went wrong with a write of ``packets`` (``sizes``: their framed lengths).

        ``outcome``: the exception ``send`` raised (``BlockingIOError``: the kernel send
        timeout fired before any byte went), or the bytes written before it fired.
        """
        total = sum(sizes)
        if isinstance(outcome, BlockingIOError):
            return _WriteFailed(packets, self._send_timeout(0, total, len(packets)), False)
        if isinstance(outcome, OSError):
            return _WriteFailed(packets, outcome, False)
        end = 0
        unsent = packets
        for index, size in enumerate(sizes):
            end += size
            if end > outcome:
                unsent = packets[index:]
                break
        return _WriteFailed(unsent, self._send_timeout(outcome, total, len(unsent)), True)

    def _failed_without_reconnect(self, conn: _Conn, failed: _WriteFailed) -> OSError:
        """The error a client without reconnection raises for a failed write (lock held).

        Out of frame, the connection is closed: later sends raise the same error instead of
        "succeeding" on a stream the server can no longer frame.
        """
        error = failed.error
        if failed.out_of_frame:
            self._broken = error
            if self._conn is conn:
                self._conn = None
                self._connected.clear()
            _quick_close(conn.sock)
            return error
        return named_error(error, self.address, self.port, "sending to")

    def _peer_closed_locked(self, conn: _Conn) -> bool:
        """Non-blocking check: has the server closed (or reset) the connection?"""
        events = conn.poller.poll(0)
        if not events:
            return False
        if events[0][1] & _POLL_GONE:
            return True
        # Readable without RDHUP support: read what is there (replies are kept for receive()).
        return not self._read_available(conn)

    def _read_available(self, conn: _Conn) -> bool:
        """Read once (the poller said readable) into the pending packets; False on EOF/error."""
        try:
            data = conn.sock.recv(RECV_SIZE)
        except (BlockingIOError, InterruptedError):
            return True
        except OSError:
            return False
        if not data:
            return False
        if self._feed(self._framer, data):
            self._eof = True
        return True

    def _drop_locked(self, conn: _Conn, quick: bool = False) -> None:
        """Forget a broken connection, keeping whatever the server had already sent."""
        if self._conn is conn:
            self._conn = None
            self._connected.clear()
        with contextlib.suppress(OSError):
            conn.sock.setblocking(False)
            while True:
                try:
                    data = conn.sock.recv(RECV_SIZE)
                except OSError:
                    break
                if not data:
                    break
                self._feed(self._framer, data)
        if quick:
            _quick_close(conn.sock)
        else:
            conn.sock.close()

    def _start_reconnector_locked(self) -> None:
        """Start the reconnecting thread unless it runs already."""
        if self._reconnector is not None or self._closed:
            return
        thread = threading.Thread(
            target=self._reconnect_loop,
            name=f"osc_live-reconnect-{self._where}",
            daemon=True,
        )
        self._reconnector = thread
        thread.start()

    def _flush_queue_locked(self, conn: _Conn) -> None:
        """Send the queue on a new connection, in order; raise _WriteFailed (queue intact)."""
        queue = self._queue
        while len(queue):
            batch = queue.take(_FLUSH_BATCH)
            try:
                self._write_locked(conn, batch)
            except _WriteFailed as failed:
                queue.requeue(failed.unsent)
                raise

    def _reconnect_loop(self) -> None:
        """Reconnect with backoff, then flush the queue in order (reconnecting thread)."""
        assert self._policy is not None
        attempts = 0
        last: BaseException | None = None
        for delay in self._policy.delays():
            if self._stop.wait(delay):
                break
            attempts += 1
            try:
                sock = connect_tcp(
                    self.address, self.port, self.family, self._policy.connect_timeout
                )
            except OSError as exc:
                last = exc
                logger.debug("reconnect attempt %d to %s failed: %s", attempts, self._where, exc)
                continue
            set_send_timeout(sock, self._timeout)
            conn = _Conn(sock)
            with self._lock:
                if self._closed:
                    sock.close()
                    self._reconnector = None
                    return
                self._new_stream()
                try:
                    self._flush_queue_locked(conn)
                except _WriteFailed as failed:
                    last = failed.error
                    _quick_close(sock)
                    continue
                self._conn = conn
                self._reconnector = None
                self.reconnects += 1
                self._connected.set()
                self._idle.notify_all()
            logger.info("reconnected to %s after %d attempt(s)", self._where, attempts)
            call_hook(self.on_reconnect)
            return
        with self._lock:
            self._reconnector = None
            if self._closed:
                return
            gave_up = self._give_up(attempts)
            self._idle.notify_all()
        logger.error("%s (last error: %s)", gave_up, last)

    # -- receiving -----------------------------------------------------------------------------

    def _next_raw(self, timeout: float | None) -> bytes | None:
        """The next received packet, or None once ``timeout`` passes quietly or on EOF."""
        if self._pending:
            return self._pending.popleft()
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            conn = self._conn
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            if conn is None:
                if self._policy is None or self._closed or self._gave_up is not None:
                    return None
                if not self._connected.wait(remaining) or remaining == 0:
                    return None
                continue
            if self._eof and self._policy is None:
                return None
            try:
                ready = conn.poller.poll(None if remaining is None else remaining * 1000)
            except OSError:
                ready = [(0, select.POLLERR)]
            if not ready:
                return None
            try:
                data = conn.sock.recv(RECV_SIZE)
            except (TimeoutError, BlockingIOError, InterruptedError):
                data = None
            except OSError as exc:
                if self._closed:
                    return None
                if self._policy is None:
                    self._eof = True
                    raise named_error(exc, self.address, self.port, "receiving from") from exc
                logger.debug("receive from %s failed: %s", self._where, exc)
                data = b""
            if data:
                if self._feed(self._framer, data):
                    self._eof = True
                if self._pending:
                    return self._pending.popleft()
                continue
            if data is None:
                continue
            # EOF: the server closed the connection.
            self._eof = True
            if self._policy is None or self._closed:
                return None
            with self._lock:
                lost = self._conn is conn
                if lost:
                    self._drop_locked(conn)
                    self._start_reconnector_locked()
            if lost:
                call_hook(self.on_disconnect, None)
            if self._pending:
                return self._pending.popleft()
            if remaining is not None and remaining <= 0:
                return None

    def _effective(self, timeout: float | None) -> float | None:
        """``timeout`` or, when None, the client's default timeout."""
        return self._timeout if timeout is None else timeout

    def receive(self, timeout: float | None = None) -> Iterator[OscMessage | OscBundle]:
        """Yield parsed messages and bundles as they arrive.

        Ends once ``timeout`` seconds (default: the client's timeout) pass without a new
        packet, or when the server closes the connection.  Malformed packets are logged on
        ``osc_live.tcp_client`` and skipped.
        """
        t = self._effective(timeout)
        while True:
            data = self._next_raw(t)
            if data is None:
                return
            packet = parse(data, self._where)
            if packet is not None:
                yield packet

    def get_messages(self, timeout: float | None = None) -> Iterator[OscMessage]:
        """Like :meth:`receive` but yields only messages, the contents of bundles flattened."""
        for packet in self.receive(timeout):
            if isinstance(packet, OscMessage):
                yield packet
            else:
                out: list[OscMessage] = []
                flatten(packet, out)
                yield from out

    def receive_raw(self, timeout: float | None = None) -> list[bytes]:
        """python-osc's ``receive``: the raw packets of the next read, ``[]`` after ``timeout``."""
        first = self._next_raw(self._effective(timeout))
        if first is None:
            return []
        packets = [first]
        packets.extend(self._pending)
        self._pending.clear()
        return packets


class SimpleTCPClient(TCPClient):
    """TCP client with ``send_message(address, value)`` (every client of osc_live has it)."""
