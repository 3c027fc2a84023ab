"""OSC over TCP: clients (python-osc 1.10.2 ``tcp_client`` API, reference document semantics).

Clients: :class:`TCPClient`, :class:`SimpleTCPClient`, :class:`TCPDispatchClient` (blocking
sockets) and :class:`AsyncTCPClient`, :class:`AsyncSimpleTCPClient`,
:class:`AsyncDispatchTCPClient` (asyncio).  Each takes
``(address, port, family=socket.AF_INET, mode="1.1", timeout=30.0)``; ``mode`` is
:data:`MODE_1_1` (SLIP, the default) or :data:`MODE_1_0` (4-byte size prefix).

Every client has ``send(message_or_bundle)``, ``send_message(address, value)``,
``receive(timeout)`` and ``get_messages(timeout)``, and is a context manager (``with`` /
``async with``).  Differences from python-osc, on purpose:

- ``receive(timeout)`` yields parsed :class:`OscMessage` / :class:`OscBundle` objects (the
  reference document's API) instead of returning a list of raw ``bytes``; it keeps yielding
  while packets arrive and ends quietly once ``timeout`` seconds pass with nothing new (or the
  server closes the connection), so ``for``/``async for`` loops finish.  ``receive_raw(timeout)``
  returns python-osc's list of raw packets, and on the async clients ``await
  client.receive(timeout)`` does too, so python-osc code keeps working.
- ``get_messages(timeout)`` yields :class:`OscMessage`, the contents of bundles flattened.
- ``send_message`` exists on every client (the reference calls it on ``TCPClient``).
- Reading uses the stream framers of :mod:`osc_live.framing`: split headers, packets split
  over many reads, several packets in one read and SLIP with a single ``END`` all work.
- An IPv6 literal such as ``"::1"`` connects over IPv6 even with the default
  ``family=socket.AF_INET``.
- Errors name the peer: ``ConnectionRefusedError``, ``ConnectionResetError``,
  ``TimeoutError``... are raised as subclasses (see :mod:`osc_live._net`) whose message
  contains ``host:port``.
- Opt-in reconnection: ``reconnect=True`` or ``reconnect=ReconnectPolicy(...)``.  See
  :mod:`osc_live._reconnect` and ``docs/transports.md``: on a broken connection the client
  reconnects with exponential backoff; messages sent meanwhile wait in a bounded queue and go
  out in order; a full queue raises :class:`ReconnectQueueFull`; ``on_disconnect(exc)`` and
  ``on_reconnect()`` callbacks report the events.
- ``AsyncDispatchTCPClient`` and ``TCPDispatchClient`` send handler return values back to the
  server (python-osc drops them), including those of future-dated bundles run later.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import select
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from types import TracebackType
from typing import Any

from osc_live._net import (
    RECV_SIZE,
    connect_tcp,
    family_for_host,
    format_address,
    named_error,
    set_send_timeout,
    strip_brackets,
)
from osc_live._reconnect import (
    ReconnectGaveUp,
    ReconnectPolicy,
    ReconnectQueueFull,
    SendQueue,
)
from osc_live.dispatcher import Dispatcher
from osc_live.errors import FramingError, OscError
from osc_live.framing import DEFAULT_MAX_PACKET_SIZE, Framer, make_framer
from osc_live.osc_bundle import OscBundle
from osc_live.osc_message import OscMessage, encode_message
from osc_live.osc_message_builder import ArgValue
from osc_live.osc_packet import parse_packet

__all__ = [
    "MODE_1_0",
    "MODE_1_1",
    "AsyncDispatchTCPClient",
    "AsyncSimpleTCPClient",
    "AsyncTCPClient",
    "ReconnectGaveUp",
    "ReconnectPolicy",
    "ReconnectQueueFull",
    "SimpleTCPClient",
    "TCPClient",
    "TCPDispatchClient",
]

logger = logging.getLogger("osc_live.tcp_client")

MODE_1_0 = "1.0"
"""OSC 1.0 stream framing: every packet preceded by its size (4 bytes, big-endian)."""
MODE_1_1 = "1.1"
"""OSC 1.1 stream framing: SLIP (RFC 1055), double-END; the default."""

DEFAULT_TIMEOUT = 30.0
"""Default timeout of the clients, in seconds (as python-osc)."""

_LIVENESS_INTERVAL = 0.002
"""Reconnecting clients check for a server close at most this often (seconds) before sending."""

CLOSE_LINGER = 0.5
"""Seconds ``close()`` waits for the server to close its side after the client's EOF."""

_MAX_PENDING = 100_000
"""Received packets an async client buffers before it stops reading (backpressure)."""

_SETTLE_TIMEOUT = 5.0
"""Seconds a reconnecting async client lets a dying connection flush what it still buffers."""

Packet = OscMessage | OscBundle
DisconnectHook = Callable[[BaseException | None], Any]
ReconnectHook = Callable[[], Any]


def _check_mode(mode: str) -> str:
    """Validate a client framing mode (clients send, so they cannot auto-detect)."""
    if mode not in (MODE_1_0, MODE_1_1):
        raise ValueError(f"OSC mode must be {MODE_1_0!r} or {MODE_1_1!r}, not {mode!r}")
    return mode


def _args_of(value: Any) -> Sequence[Any]:
    """python-osc's ``build_msg`` rule: ``""`` -> no argument, a scalar/str/bytes -> one."""
    if isinstance(value, str):
        return () if value == "" else (value,)
    if isinstance(value, (list, tuple)):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)) or not isinstance(value, Iterable):
        return (value,)
    if type(value).__module__ == "numpy" and getattr(value, "ndim", 1) == 0:
        return (value,)
    return list(value)


def _flatten(packet: Packet, out: list[OscMessage]) -> None:
    """Append the messages of ``packet`` (bundles recursively) to ``out``, in order."""
    if isinstance(packet, OscMessage):
        out.append(packet)
        return
    for item in packet:
        _flatten(item, out)


def _parse(data: bytes, where: str) -> Packet | None:
    """Parse one received packet; a malformed one is logged and skipped (None)."""
    try:
        return parse_packet(data)
    except OscError as exc:
        logger.warning("ignoring a malformed packet (%d bytes) from %s: %s", len(data), where, exc)
        return None


def _reply_packets(dispatcher: Any, results: Sequence[Any]) -> list[bytes]:
    """Encode handler results (``"/addr"`` or ``("/addr", *args)``) as OSC messages."""
    encode = getattr(dispatcher, "encode_replies", None)
    if encode is not None:
        return list(encode(results))
    packets = []
    for result in results:
        if isinstance(result, str):
            packets.append(encode_message(result))
        elif isinstance(result, (tuple, list)) and result and isinstance(result[0], str):
            packets.append(encode_message(result[0], list(result[1:])))
    return packets


def _linger_close(sock: socket.socket) -> None:
    """Close gracefully: half-close, read until the server's EOF (at most CLOSE_LINGER s).

    Closing a socket with unread input makes the kernel send a reset instead of a FIN, and a
    reset can destroy what the server has not read yet; waiting for its EOF avoids that.
    """
    try:
        sock.shutdown(socket.SHUT_WR)
        poller = select.poll()
        poller.register(sock.fileno(), select.POLLIN)
        deadline = time.monotonic() + CLOSE_LINGER
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not poller.poll(remaining * 1000):
                break
            if not sock.recv(RECV_SIZE):
                break
    except OSError:
        pass
    finally:
        sock.close()


def _call_hook(hook: Callable[..., Any] | None, *args: Any) -> Any:
    """Run a user callback; its exceptions are logged, never propagated."""
    if hook is None:
        return None
    try:
        return hook(*args)
    except Exception:
        logger.exception("error in reconnect callback %r", hook)
        return None


class _ClientState:
    """What the blocking and the asyncio clients share: where, how framed, the reconnect queue."""

    def __init__(
        self,
        address: str,
        port: int,
        family: socket.AddressFamily,
        mode: str,
        timeout: float | None,
        reconnect: bool | ReconnectPolicy,
        on_disconnect: DisconnectHook | None,
        on_reconnect: ReconnectHook | None,
        max_packet_size: int,
    ) -> None:
        """Set the shared state; nothing touches the network."""
        self.address = address
        self.port = port
        self.family = family_for_host(strip_brackets(address), family)
        self.mode = _check_mode(mode)
        self._timeout = timeout
        self._where = format_address(address, port)
        self._framer: Framer = make_framer(mode, max_packet_size)
        self._frame = self._framer.send
        self._pending: deque[bytes] = deque()
        self._policy = ReconnectPolicy.coerce(reconnect)
        self._queue = SendQueue(self._policy.max_queue if self._policy else 0)
        self.on_disconnect = on_disconnect
        self.on_reconnect = on_reconnect
        self._closed = False
        self._eof = False
        self._gave_up: ReconnectGaveUp | None = None
        self.reconnects = 0
        """Number of successful reconnections so far."""


class _SyncConnection:
    """One connected socket of a blocking client plus its poller."""

    __slots__ = ("fresh", "poller", "sock")

    def __init__(self, sock: socket.socket, slip: bool) -> None:
        self.sock = sock
        # SLIP needs no END before the first frame of a stream; liblo even misreads a stream
        # starting with END + "#bundle", so the first frame goes without its leading END.
        self.fresh = False  # the framer writes the first frame without its END
        self.poller = select.poll()
        mask = select.POLLIN | getattr(select, "POLLRDHUP", 0)
        self.poller.register(sock.fileno(), mask)


class TCPClient(_ClientState):
    """OSC client over TCP with blocking sockets; connects in the constructor (as python-osc).

    ``send`` / ``send_message`` write one framed packet; ``receive`` / ``get_messages`` yield
    what the server sends back.  Thread-safe for sending.  Use as a context manager or call
    :meth:`close`.

    Keyword-only extensions: ``reconnect`` (``True`` or a :class:`ReconnectPolicy`),
    ``on_disconnect(exc_or_None)``, ``on_reconnect()`` callbacks (called from the sending or
    the reconnecting thread) and ``max_packet_size`` for what is read back.
    """

    def __init__(
        self,
        address: str,
        port: int,
        family: socket.AddressFamily = socket.AF_INET,
        mode: str = MODE_1_1,
        timeout: float | None = DEFAULT_TIMEOUT,
        *,
        reconnect: bool | ReconnectPolicy = False,
        on_disconnect: DisconnectHook | None = None,
        on_reconnect: ReconnectHook | None = None,
        max_packet_size: int = DEFAULT_MAX_PACKET_SIZE,
    ) -> None:
        """Connect to ``address:port`` (see the class docstring for the options)."""
        _ClientState.__init__(
            self, address, port, family, mode, timeout,
            reconnect, on_disconnect, on_reconnect, max_packet_size,
        )  # fmt: skip
        self._lock = threading.Lock()
        self._conn: _SyncConnection | None = None
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._idle = threading.Condition(self._lock)
        self._reconnector: threading.Thread | None = None
        self._last_check = 0.0
        self._fast: Callable[[bytes], None] | None = None
        try:
            sock = connect_tcp(address, port, self.family, timeout)
        except socket.gaierror:
            raise
        except OSError as exc:
            if self._policy is None:
                raise
            logger.warning("%s; reconnecting in the background", exc)
            with self._lock:
                self._start_reconnector_locked()
            return
        self._conn = _SyncConnection(sock, self.mode == MODE_1_1)
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
    def connected(self) -> bool:
        """True while a connection is up."""
        return self._conn is not None

    @property
    def queued(self) -> int:
        """Messages waiting for a reconnection."""
        return len(self._queue)

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

    def close(self) -> None:
        """Close the connection and stop reconnecting (idempotent)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            self._fast = None
            self._stop.set()
            conn, self._conn = self._conn, None
            thread = self._reconnector
            left = len(self._queue)
            self._idle.notify_all()
        if conn is not None:
            _linger_close(conn.sock)
        if left:
            logger.warning(
                "closing the client of %s with %d queued messages that were never sent",
                self._where,
                left,
            )
        if thread is not None and thread is not threading.current_thread():
            thread.join()

    # -- sending -------------------------------------------------------------------------------

    def send(self, content: OscMessage | OscBundle | bytes) -> None:
        """Send an :class:`OscMessage` or :class:`OscBundle` (or a raw packet as bytes)."""
        dgram = content if isinstance(content, (bytes, bytearray)) else content.dgram
        self._send_frame(self._frame(dgram))

    def send_message(self, address: str, value: ArgValue | Iterable[ArgValue] = "") -> None:
        """Build and send one message: ``value`` is one argument or a list of them."""
        cls = type(value)
        args: Sequence[Any] = value if cls is list or cls is tuple else _args_of(value)  # type: ignore[assignment]
        data = self._frame(encode_message(address, args))
        fast = self._fast
        if fast is not None:  # the hot path of _send_frame, inlined
            with self._lock:
                try:
                    fast(data)
                except OSError as exc:
                    raise named_error(exc, self.address, self.port, "sending to") from exc
            return
        self._send_frame(data)

    def send_messages(self, messages: Iterable[tuple[str, Any]]) -> None:
        """Send many ``(address, value)`` messages with one system call (batching)."""
        frame = self._frame
        data = b"".join(frame(encode_message(a, _args_of(v))) for a, v in messages)
        if data:
            self._send_frame(data)

    def _send_frame(self, data: bytes) -> None:
        """Write framed bytes, or queue them while reconnecting."""
        fast = self._fast
        if fast is not None:  # connected, not reconnecting, first frame gone: just write
            with self._lock:
                try:
                    fast(data)
                except OSError as exc:
                    raise named_error(exc, self.address, self.port, "sending to") from exc
            return
        dropped: BaseException | None = None
        lost = False
        with self._lock:
            conn = self._conn
            if self._policy is None:
                if conn is None or self._closed:
                    raise OSError(f"the client of {self._where} is closed")
                if conn.fresh:
                    conn.fresh = False
                    data = data[1:]
                try:
                    conn.sock.sendall(data)
                except OSError as exc:
                    raise named_error(exc, self.address, self.port, "sending to") from exc
                self._fast = conn.sock.sendall
                return
            if self._closed:
                raise OSError(f"the client of {self._where} is closed")
            if conn is not None:
                now = time.monotonic()
                if now - self._last_check >= _LIVENESS_INTERVAL:
                    self._last_check = now
                    if self._peer_closed_locked(conn):
                        lost = True
                if not lost:
                    try:
                        if conn.fresh:
                            conn.fresh = False
                            conn.sock.sendall(data[1:])
                        else:
                            conn.sock.sendall(data)
                        return
                    except OSError as exc:
                        dropped = named_error(exc, self.address, self.port, "sending to")
                        lost = True
                self._drop_locked(conn)
            if self._gave_up is not None:
                raise self._gave_up
            self._queue.put(data, self.address, self.port)
            self._start_reconnector_locked()
        if lost:
            logger.warning(
                "connection to %s lost (%s); reconnecting", self._where, dropped or "EOF"
            )
            _call_hook(self.on_disconnect, dropped)

    def _peer_closed_locked(self, conn: _SyncConnection) -> bool:
        """Non-blocking check: has the server closed (or reset) the connection?"""
        events = conn.poller.poll(0)
        if not events:
            return False
        mask = events[0][1]
        if mask & (select.POLLHUP | select.POLLERR | getattr(select, "POLLRDHUP", 0)):
            return True
        # Readable without RDHUP support: read what is there (replies are kept for receive()).
        return not self._read_available(conn)

    def _read_available(self, conn: _SyncConnection) -> bool:
        """Read once (the poller said readable) into the pending packets; False on EOF/error."""
        try:
            data = conn.sock.recv(RECV_SIZE)
        except (BlockingIOError, InterruptedError):
            return True
        except OSError:
            return False
        if not data:
            return False
        self._feed(data)
        return True

    def _drop_locked(self, conn: _SyncConnection) -> None:
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
                self._feed(data)
        conn.sock.close()
        self._framer.reset()

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
            conn = _SyncConnection(sock, self.mode == MODE_1_1)
            with self._lock:
                if self._closed:
                    sock.close()
                    self._reconnector = None
                    return
                try:
                    while len(self._queue):
                        frame = self._queue.peek()
                        if conn.fresh:
                            conn.fresh = False
                            frame = frame[1:]
                        sock.sendall(frame)
                        self._queue.pop()
                except OSError as exc:
                    last = exc
                    sock.close()
                    continue
                self._conn = conn
                self._eof = False
                self._framer.reset()
                self._reconnector = None
                self.reconnects += 1
                self._connected.set()
                self._idle.notify_all()
            logger.info("reconnected to %s after %d attempt(s)", self._where, attempts)
            _call_hook(self.on_reconnect)
            return
        with self._lock:
            self._reconnector = None
            if self._closed:
                return
            self._gave_up = ReconnectGaveUp(
                self.address, self.port, attempts, self._queue.take_all()
            )
            self._idle.notify_all()
        logger.error("%s (last error: %s)", self._gave_up, last)

    # -- receiving -----------------------------------------------------------------------------

    def _feed(self, data: bytes) -> None:
        """Frame received bytes into pending packets (framing errors are logged)."""
        try:
            self._pending.extend(self._framer.feed(data))
        except FramingError as exc:
            self._pending.extend(exc.packets)
            logger.warning("framing error in data from %s: %s", self._where, exc)
            if exc.fatal:
                self._framer.reset()
                self._eof = True

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
                self._feed(data)
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
                if self._conn is conn:
                    self._drop_locked(conn)
                    self._start_reconnector_locked()
                    lost = True
                else:
                    lost = False
            if self._pending:
                if lost:
                    _call_hook(self.on_disconnect, None)
                return self._pending.popleft()
            if lost:
                _call_hook(self.on_disconnect, None)
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
            packet = _parse(data, self._where)
            if packet is not None:
                yield packet

    def get_messages(self, timeout: float | None = None) -> Iterator[OscMessage]:
        """Like :meth:`receive` but yields only messages, the contents of bundles flattened."""
        for packet in self.receive(timeout):
            if isinstance(packet, OscMessage):
                yield packet
            else:
                out: list[OscMessage] = []
                _flatten(packet, out)
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


class TCPDispatchClient(SimpleTCPClient):
    """TCP client whose :attr:`dispatcher` handles what the server sends.

    ``dispatcher`` is a class attribute as in python-osc and may be replaced per class
    (``TCPDispatchClient.dispatcher = Dispatcher()``) or given per instance
    (``dispatcher=`` keyword).
    """

    dispatcher: Dispatcher = Dispatcher()

    def __init__(
        self,
        address: str,
        port: int,
        family: socket.AddressFamily = socket.AF_INET,
        mode: str = MODE_1_1,
        timeout: float | None = DEFAULT_TIMEOUT,
        *,
        dispatcher: Dispatcher | None = None,
        **kwargs: Any,
    ) -> None:
        """Connect as :class:`TCPClient`; ``dispatcher`` overrides the class attribute."""
        if dispatcher is not None:
            self.dispatcher = dispatcher
        super().__init__(address, port, family, mode, timeout, **kwargs)

    def _send_replies(self, results: Sequence[Any]) -> None:
        """Send handler return values back to the server (also called by the scheduler)."""
        if not results:
            return
        frame = self._frame
        data = b"".join(frame(p) for p in _reply_packets(self.dispatcher, results))
        if not data:
            return
        try:
            self._send_frame(data)
        except OSError as exc:
            logger.warning("could not send %d replies to %s: %s", len(results), self._where, exc)

    def handle_messages(self, timeout_sec: float | None = None) -> None:
        """Dispatch what arrives until ``timeout_sec`` passes quietly; answer with results."""
        t = self._effective(timeout_sec)
        client_address = (self.address, self.port)
        reply = self._send_replies
        while True:
            data = self._next_raw(t)
            if data is None:
                return
            try:
                results = self.dispatcher.call_handlers_for_packet(
                    data, client_address, reply=reply
                )
            except Exception:
                logger.exception("error while handling a packet from %s", self._where)
                continue
            if results:
                reply(results)


# ---------------------------------------------------------------------------------------------
# asyncio clients
# ---------------------------------------------------------------------------------------------


class _ClientProtocol(asyncio.Protocol):
    """asyncio side of one connection of an async client: framing and flow control.

    A reconnecting client also tracks the frames it wrote that may still sit in the
    transport's write buffer (:meth:`track`, :meth:`unsent`): if the connection dies before
    they are handed to the kernel, they are queued again instead of being lost.
    """

    def __init__(self, owner: AsyncTCPClient) -> None:
        self.owner = owner
        self.transport: asyncio.Transport | None = None
        self.lost = False
        self.eof = False
        self.exc: BaseException | None = None
        self.closed = asyncio.get_running_loop().create_future()
        self.fresh = False  # the framer writes the first frame without its END
        self._paused = False
        self._drain: asyncio.Future[None] | None = None
        self._reading_paused = False
        self.written = 0
        """Bytes given to ``transport.write`` so far (tracked frames only)."""
        self.inflight: deque[tuple[int, bytes]] = deque()
        """``(end offset, whole frame)`` of tracked frames maybe still in the write buffer."""

    @property
    def dead(self) -> bool:
        """True once nothing may be written any more (lost, server EOF, or closing)."""
        if self.lost or self.eof:
            return True
        transport = self.transport
        return transport is None or transport.is_closing()

    def track(self, frames: list[bytes], nbytes: int) -> None:
        """Remember ``frames``, of which ``nbytes`` are about to be written, until they left.

        Call it right before ``transport.write``: the buffer is sampled first, while its size
        still means something (a failing write clears it).  ``nbytes`` may be one less than
        the frames' length (the first SLIP frame of a connection goes without its END).
        """
        self._prune()
        end = self.written + nbytes - sum(len(frame) for frame in frames)
        inflight = self.inflight
        for frame in frames:
            end += len(frame)
            inflight.append((end, frame))
        self.written += nbytes

    def _prune(self) -> None:
        """Forget the tracked frames the transport has handed to the kernel entirely.

        Called only while the buffer's size is meaningful: before a write (and before a failed
        write could clear the buffer), on EOF, and while the transport flushes after a close.
        """
        transport = self.transport
        if transport is None or self.lost:
            return  # after a loss the buffer is cleared: its size says nothing any more
        sent = self.written - transport.get_write_buffer_size()
        inflight = self.inflight
        while inflight and inflight[0][0] <= sent:
            inflight.popleft()

    def unsent(self) -> list[bytes]:
        """Tracked frames not known to have left the write buffer (whole, oldest first).

        Exact while the connection is not lost; after a loss, what the last sample said.  A
        frame partly handed to the kernel counts as unsent: the peer cannot have handled it.
        """
        self._prune()
        frames = [frame for _end, frame in self.inflight]
        self.inflight.clear()
        return frames

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        owner = self.owner
        owner._feed(data)
        if len(owner._pending) > _MAX_PENDING and self.transport is not None:
            self.transport.pause_reading()
            self._reading_paused = True
        owner._wake()

    def eof_received(self) -> bool:
        # The server stopped writing (it is closing, ours drain): write nothing more to this
        # connection.  Returning False closes the transport once its write buffer is flushed.
        self.eof = True
        self._prune()
        self.owner._peer_eof(self)
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        if exc is None:
            # Closed after a complete flush (or aborted by the client, which took the unsent
            # frames before): nothing tracked is left to send.
            self.inflight.clear()
        self.lost = True
        self.exc = exc
        if not self.closed.done():
            self.closed.set_result(None)
        if self._drain is not None and not self._drain.done():
            self._drain.set_result(None)
        self.owner._connection_lost(self, exc)

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        if self._drain is not None and not self._drain.done():
            self._drain.set_result(None)

    def resume_reading_if_paused(self) -> None:
        if self._reading_paused and self.transport is not None and not self.lost:
            self._reading_paused = False
            self.transport.resume_reading()

    async def drain(self) -> None:
        """Wait while the transport's write buffer is above its high-water mark."""
        while self._paused and not self.lost:
            self._drain = asyncio.get_running_loop().create_future()
            await self._drain
            self._drain = None


class _AsyncReceive:
    """What the async clients' ``receive`` / ``get_messages`` return.

    ``async for`` over it yields parsed packets (or flattened messages) until ``timeout``
    passes quietly; ``await`` on it returns python-osc's list of raw packets.
    """

    def __init__(self, client: AsyncTCPClient, timeout: float | None, flatten: bool) -> None:
        self._client = client
        self._timeout = timeout
        self._flatten = flatten
        self._buffer: deque[OscMessage] = deque()

    def __aiter__(self) -> _AsyncReceive:
        return self

    async def __anext__(self) -> Any:
        if self._buffer:
            return self._buffer.popleft()
        client = self._client
        while True:
            data = await client._next_raw(self._timeout)
            if data is None:
                raise StopAsyncIteration
            packet = _parse(data, client._where)
            if packet is None:
                continue
            if not self._flatten or isinstance(packet, OscMessage):
                return packet
            out: list[OscMessage] = []
            _flatten(packet, out)
            if out:
                self._buffer.extend(out[1:])
                return out[0]

    def __await__(self) -> Generator[Any, None, list[bytes]]:
        return self._client.receive_raw(self._timeout).__await__()


class AsyncTCPClient(_ClientState):
    """asyncio OSC client over TCP.

    Connects on first use, on ``await client`` or on ``async with``.  ``send`` /
    ``send_message`` are coroutines; ``receive`` / ``get_messages`` are used with ``async for``
    (see the module docstring).  Keyword-only extensions as :class:`TCPClient`
    (``reconnect``, ``on_disconnect``, ``on_reconnect`` -- callbacks may be coroutine functions --
    and ``max_packet_size``).
    """

    def __init__(
        self,
        address: str,
        port: int,
        family: socket.AddressFamily = socket.AF_INET,
        mode: str = MODE_1_1,
        timeout: float | None = DEFAULT_TIMEOUT,
        *,
        reconnect: bool | ReconnectPolicy = False,
        on_disconnect: DisconnectHook | None = None,
        on_reconnect: ReconnectHook | None = None,
        max_packet_size: int = DEFAULT_MAX_PACKET_SIZE,
    ) -> None:
        """Remember where to connect; nothing happens on the network yet."""
        _ClientState.__init__(
            self, address, port, family, mode, timeout,
            reconnect, on_disconnect, on_reconnect, max_packet_size,
        )  # fmt: skip
        self._proto: _ClientProtocol | None = None
        self._waiter: asyncio.Future[None] | None = None
        self._connect_lock: asyncio.Lock | None = None
        self._reconnect_task: asyncio.Task[None] | None = None
        self._hook_tasks: set[asyncio.Task[Any]] = set()
        self._ever_connected = False
        self._lost_exc: BaseException | None = None
        self._last_yield = 0.0
        self._retiring: deque[_ClientProtocol] = deque()

    # -- connection ----------------------------------------------------------------------------

    def __await__(self) -> Generator[Any, None, AsyncTCPClient]:
        """``client = await AsyncTCPClient(...)`` connects and returns the client."""
        return self._open_self().__await__()

    async def _open_self(self) -> AsyncTCPClient:
        await self.connect()
        return self

    async def __aenter__(self) -> AsyncTCPClient:
        """Connect and return the client."""
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        """Close the client."""
        await self.close()

    async def __open__(self) -> None:
        """python-osc's name for :meth:`connect`."""
        await self.connect()

    @property
    def connected(self) -> bool:
        """True while a connection is up (and the server has not closed its side)."""
        return self._proto is not None and not self._proto.dead

    @property
    def queued(self) -> int:
        """Messages waiting for a reconnection."""
        return len(self._queue)

    async def connect(self) -> None:
        """Connect now if not connected (reconnecting clients retry in the background).

        Without reconnection a failure raises (``ConnectionRefusedError`` naming host:port...);
        with reconnection only an unresolvable host raises, other failures start the
        background reconnection and sends are queued meanwhile.
        """
        if self._closed:
            raise OSError(f"the client of {self._where} is closed")
        if self._connect_lock is None:
            self._connect_lock = asyncio.Lock()
        async with self._connect_lock:
            if self.connected or self._closed:
                return
            if self._policy is not None and self._ever_connected:
                return  # the reconnect task is on it
            try:
                await self._open(self._timeout)
            except socket.gaierror:
                raise
            except OSError as exc:
                if self._policy is None:
                    raise
                logger.warning("%s; reconnecting in the background", exc)
                self._ever_connected = True
                self._start_reconnect()

    async def _open(self, timeout: float | None) -> _ClientProtocol:
        """Open one connection (errors name host:port)."""
        loop = asyncio.get_running_loop()
        host = strip_brackets(self.address)
        try:
            _transport, proto = await asyncio.wait_for(
                loop.create_connection(
                    lambda: _ClientProtocol(self), host, self.port, family=self.family
                ),
                timeout,
            )
        except (OSError, asyncio.TimeoutError) as exc:
            if isinstance(exc, socket.gaierror):
                raise socket.gaierror(exc.errno, f"cannot resolve {self._where}: {exc}") from exc
            if not isinstance(exc, OSError):
                exc = TimeoutError("timed out")
            raise named_error(exc, self.address, self.port, "connecting to") from exc
        self._proto = proto
        self._ever_connected = True
        self._eof = False
        self._framer.reset()
        return proto

    def _connection_lost(self, proto: _ClientProtocol, exc: BaseException | None) -> None:
        """The current connection is unusable: wake readers, start reconnecting when enabled.

        Called by the protocol on EOF (the server closes: nothing more may be written, what
        the transport still buffers is flushed while our servers drain) and on the loss.  A
        reconnecting client retires the connection: :meth:`_settle` later queues again what it
        could not send.
        """
        if proto is not self._proto:
            return
        self._eof = True
        self._lost_exc = exc
        self._wake()
        if self._closed or self._policy is None:
            return
        self._proto = None
        self._retiring.append(proto)
        logger.warning("connection to %s lost (%s); reconnecting", self._where, exc or "EOF")
        self._run_hook(self.on_disconnect, exc)
        self._start_reconnect()

    def _peer_eof(self, proto: _ClientProtocol) -> None:
        """The server closed its side: stop writing to ``proto`` (see _connection_lost)."""
        self._connection_lost(proto, None)

    async def _settle(self, timeout: float) -> None:
        """Let retired connections finish flushing; queue again, in front, what they could not.

        A connection still flushing after ``timeout`` seconds is aborted, its unsent frames
        taken exactly before.  After a reset, the frames not known to have left the write
        buffer are sent again (the kernel's own send queue is lost with a reset anyway).
        """
        retiring = self._retiring
        for proto in list(retiring):
            if not proto.lost:
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(asyncio.shield(proto.closed), timeout)
        # No await from here on: a cancellation cannot lose frames taken from a connection.
        frames: list[bytes] = []
        aborted: list[asyncio.Future[None]] = []
        for proto in retiring:
            frames.extend(proto.unsent())
            if not proto.lost and proto.transport is not None:
                proto.transport.abort()
                aborted.append(proto.closed)
        retiring.clear()
        if frames:
            logger.info(
                "%d messages not sent before the connection to %s was lost: queued again",
                len(frames),
                self._where,
            )
            self._queue.requeue(frames)
        if aborted:
            await asyncio.wait(aborted, timeout=1.0)

    def _run_hook(self, hook: Callable[..., Any] | None, *args: Any) -> None:
        """Call a callback; a coroutine result runs as a task (kept until done)."""
        result = _call_hook(hook, *args)
        if inspect.isawaitable(result):
            task = asyncio.ensure_future(result)
            self._hook_tasks.add(task)
            task.add_done_callback(self._hook_tasks.discard)

    def _start_reconnect(self) -> None:
        """Start the reconnect task unless it runs already."""
        if self._reconnect_task is None and not self._closed:
            self._reconnect_task = asyncio.get_running_loop().create_task(self._reconnect_loop())

    async def _reconnect_loop(self) -> None:
        """Reconnect with backoff, then flush the queue in order."""
        assert self._policy is not None
        attempts = 0
        last: BaseException | None = None
        try:
            # What the old connection still buffers goes first, to its server or queued again.
            await self._settle(_SETTLE_TIMEOUT)
            for delay in self._policy.delays():
                if delay:
                    await asyncio.sleep(delay)
                if self._closed:
                    return
                attempts += 1
                try:
                    proto = await self._open(self._policy.connect_timeout)
                except OSError as exc:
                    last = exc
                    logger.debug(
                        "reconnect attempt %d to %s failed: %s", attempts, self._where, exc
                    )
                    continue
                assert proto.transport is not None
                frames = self._queue.take_all()
                if frames:
                    data = b"".join(frames)
                    if proto.fresh:  # the first SLIP frame goes without its leading END
                        proto.fresh = False
                        data = data[1:]
                    proto.track(frames, len(data))
                    proto.transport.write(data)
                self.reconnects += 1
                self._reconnect_task = None
                logger.info("reconnected to %s after %d attempt(s)", self._where, attempts)
                self._wake()
                self._run_hook(self.on_reconnect)
                return
            self._gave_up = ReconnectGaveUp(
                self.address, self.port, attempts, self._queue.take_all()
            )
            logger.error("%s (last error: %s)", self._gave_up, last)
            self._wake()
        finally:
            if self._reconnect_task is asyncio.current_task():
                self._reconnect_task = None

    async def close(self) -> None:
        """Close the connection, stop reconnecting (idempotent)."""
        if self._closed:
            return
        self._closed = True
        task, self._reconnect_task = self._reconnect_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._retiring:
            await self._settle(CLOSE_LINGER)
        if len(self._queue):
            logger.warning(
                "closing the client of %s with %d queued messages that were never sent",
                self._where,
                len(self._queue),
            )
        proto, self._proto = self._proto, None
        self._wake()
        if proto is not None and proto.transport is not None:
            transport = proto.transport
            if not proto.lost:
                # Half-close, then let the server close its side (its EOF closes the
                # transport): closing with replies unread would reset the connection, and a
                # reset can destroy messages the server has not read yet.
                with contextlib.suppress(OSError, RuntimeError):
                    if transport.can_write_eof():
                        transport.write_eof()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(asyncio.shield(proto.closed), CLOSE_LINGER)
                transport.close()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(asyncio.shield(proto.closed), 5.0)
        for hook_task in list(self._hook_tasks):
            with contextlib.suppress(BaseException):
                await hook_task

    # -- sending -------------------------------------------------------------------------------

    async def send(self, content: OscMessage | OscBundle | bytes) -> None:
        """Send an :class:`OscMessage` or :class:`OscBundle` (or a raw packet as bytes)."""
        dgram = content if isinstance(content, (bytes, bytearray)) else content.dgram
        await self._write(self._frame(dgram))

    async def send_message(self, address: str, value: ArgValue | Iterable[ArgValue] = "") -> None:
        """Build and send one message: ``value`` is one argument or a list of them."""
        cls = type(value)
        args: Sequence[Any] = value if cls is list or cls is tuple else _args_of(value)  # type: ignore[assignment]
        await self._write(self._frame(encode_message(address, args)))

    async def send_messages(self, messages: Iterable[tuple[str, Any]]) -> None:
        """Send many ``(address, value)`` messages in one write (batching)."""
        frame = self._frame
        data = b"".join(frame(encode_message(a, _args_of(v))) for a, v in messages)
        if data:
            await self._write(data)

    async def _write(self, data: bytes) -> None:
        """Write framed bytes, connecting first, or queue them while reconnecting."""
        proto = self._proto
        if proto is None or proto.dead:
            proto = await self._ensure_for_write()
            if proto is None:
                self._queue.put(data, self.address, self.port)
                return
        elif self._policy is not None:
            # Let the loop notice a server close before we write (at most every 2 ms).
            now = time.monotonic()
            if now - self._last_yield >= _LIVENESS_INTERVAL:
                self._last_yield = now
                await asyncio.sleep(0)
                if self._proto is not proto or proto.dead:
                    await self._write(data)
                    return
        transport = proto.transport
        assert transport is not None
        frame = data
        if proto.fresh:
            proto.fresh = False
            data = data[1:]
        if self._policy is not None:
            proto.track([frame], len(data))  # before the write: a failing write clears the buffer
        transport.write(data)
        if proto._paused:
            await proto.drain()

    async def _ensure_for_write(self) -> _ClientProtocol | None:
        """The live connection to write to, or None when the data must be queued."""
        if self._closed:
            raise OSError(f"the client of {self._where} is closed")
        if self._gave_up is not None:
            raise self._gave_up
        if self._policy is None:
            if self._ever_connected:
                raise named_error(
                    ConnectionResetError(104, "connection closed"),
                    self.address,
                    self.port,
                    "sending to",
                )
            await self.connect()
        else:
            if not self._ever_connected:
                await self.connect()
            proto = self._proto
            if proto is not None and proto.dead:
                # Closing without having told us yet (framing error...): retire it now, so
                # that what it could not send is queued again before the reconnection.
                self._connection_lost(proto, proto.exc)
            if self._reconnect_task is not None or not self.connected:
                if len(self._queue) and self._queue.full():
                    raise ReconnectQueueFull(self.address, self.port, len(self._queue))
                self._start_reconnect()
                return None
        proto = self._proto
        if proto is None or proto.dead:
            if self._policy is not None:
                self._start_reconnect()
                return None
            raise named_error(
                ConnectionResetError(104, "connection closed"),
                self.address,
                self.port,
                "sending to",
            )
        return proto

    # -- receiving -----------------------------------------------------------------------------

    def _feed(self, data: bytes) -> None:
        """Frame received bytes into pending packets (framing errors are logged)."""
        try:
            self._pending.extend(self._framer.feed(data))
        except FramingError as exc:
            self._pending.extend(exc.packets)
            logger.warning("framing error in data from %s: %s", self._where, exc)
            if exc.fatal:
                self._framer.reset()
                proto = self._proto
                if proto is not None and proto.transport is not None:
                    proto.transport.close()
                    if self._policy is not None:
                        self._connection_lost(proto, None)  # write nothing more to it

    def _wake(self) -> None:
        """Wake a reader waiting in :meth:`_next_raw`."""
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def _next_raw(self, timeout: float | None) -> bytes | None:
        """The next received packet, or None once ``timeout`` passes quietly or on EOF."""
        t = self._timeout if timeout is None else timeout
        if not self._pending and not self._closed and not self._ever_connected:
            await self.connect()
        loop = asyncio.get_running_loop()
        deadline = None if t is None else loop.time() + t
        while True:
            if self._pending:
                data = self._pending.popleft()
                proto = self._proto
                if proto is not None and len(self._pending) < _MAX_PENDING // 2:
                    proto.resume_reading_if_paused()
                return data
            if self._closed or self._gave_up is not None:
                return None
            if not self.connected and self._policy is None:
                exc, self._lost_exc = self._lost_exc, None
                if exc is not None and not self._closed:
                    raise named_error(exc, self.address, self.port, "receiving from") from exc
                return None
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                return None
            waiter = loop.create_future()
            self._waiter = waiter
            handle = None
            if remaining is not None:
                handle = loop.call_later(remaining, _resolve, waiter)
            try:
                await waiter
            finally:
                self._waiter = None
                if handle is not None:
                    handle.cancel()

    def receive(self, timeout: float | None = None) -> _AsyncReceive:
        """Yield parsed messages and bundles as they arrive (``async for``).

        Ends once ``timeout`` seconds (default: the client's timeout) pass without a new
        packet, or when the server closes the connection.  ``await client.receive(t)``
        instead returns python-osc's list of raw packets.
        """
        return _AsyncReceive(self, timeout, flatten=False)

    async def receive_raw(self, timeout: float | None = None) -> list[bytes]:
        """python-osc's ``receive``: raw packets of the next read, ``[]`` after ``timeout``."""
        first = await self._next_raw(timeout)
        if first is None:
            return []
        packets = [first]
        packets.extend(self._pending)
        self._pending.clear()
        proto = self._proto
        if proto is not None:
            proto.resume_reading_if_paused()
        return packets

    def get_messages(self, timeout: float | None = None) -> _AsyncReceive:
        """Like :meth:`receive` but yields only :class:`OscMessage`, bundles flattened.

        ``await client.get_messages(t)`` returns python-osc's list of raw packets.
        """
        return _AsyncReceive(self, timeout, flatten=True)

    async def _send_replies(self, results: Sequence[Any], dispatcher: Any) -> None:
        """Send handler return values back to the server."""
        if not results:
            return
        frame = self._frame
        data = b"".join(frame(p) for p in _reply_packets(dispatcher, results))
        if data:
            try:
                await self._write(data)
            except OSError as exc:
                logger.warning("could not send replies to %s: %s", self._where, exc)


def _resolve(fut: asyncio.Future[None]) -> None:
    """Timer callback: end a wait."""
    if not fut.done():
        fut.set_result(None)


class AsyncSimpleTCPClient(AsyncTCPClient):
    """asyncio TCP client with ``send_message`` (every client of osc_live has it)."""


class AsyncDispatchTCPClient(AsyncTCPClient):
    """asyncio TCP client whose :attr:`dispatcher` handles what the server sends.

    ``dispatcher`` is a class attribute (the reference assigns
    ``AsyncDispatchTCPClient.dispatcher = Dispatcher()``) and may be given per instance with
    the ``dispatcher=`` keyword.
    """

    dispatcher: Dispatcher = Dispatcher()

    def __init__(
        self,
        address: str,
        port: int,
        family: socket.AddressFamily = socket.AF_INET,
        mode: str = MODE_1_1,
        timeout: float | None = DEFAULT_TIMEOUT,
        *,
        dispatcher: Dispatcher | None = None,
        **kwargs: Any,
    ) -> None:
        """As :class:`AsyncTCPClient`; ``dispatcher`` overrides the class attribute."""
        if dispatcher is not None:
            self.dispatcher = dispatcher
        super().__init__(address, port, family, mode, timeout, **kwargs)

    async def handle_messages(self, timeout: float | None = None) -> None:
        """Dispatch what arrives until ``timeout`` passes quietly; answer with results.

        Handler return values (``"/addr"`` or ``("/addr", *args)``) are sent back to the
        server, those of future-dated bundles when they run.
        """
        dispatcher = self.dispatcher
        client_address = (self.address, self.port)
        loop = asyncio.get_running_loop()
        pending_replies: set[asyncio.Task[None]] = set()

        def reply_later(results: list[Any]) -> None:
            task = loop.create_task(self._send_replies(results, dispatcher))
            pending_replies.add(task)
            self._hook_tasks.add(task)
            task.add_done_callback(pending_replies.discard)
            task.add_done_callback(self._hook_tasks.discard)

        def reply(results: list[Any]) -> None:
            if not results:
                return
            try:
                running = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is loop:
                reply_later(results)
            else:
                loop.call_soon_threadsafe(reply_later, results)

        while True:
            data = await self._next_raw(timeout)
            if data is None:
                break
            try:
                results = await dispatcher.async_call_handlers_for_packet(
                    data, client_address, reply=reply
                )
            except Exception:
                logger.exception("error while handling a packet from %s", self._where)
                continue
            if results:
                await self._send_replies(results, dispatcher)
        if pending_replies:
            await asyncio.gather(*pending_replies, return_exceptions=True)
