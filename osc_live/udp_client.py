"""UDP clients: send OSC messages and bundles, receive the answers.

API-compatible with ``pythonosc.udp_client`` 1.10.2 (:class:`UDPClient`, :class:`SimpleUDPClient`,
:class:`DispatchClient`), plus :class:`AsyncUDPClient` for asyncio code. Differences from
python-osc, all deliberate:

* the destination is resolved once, in the constructor, not on every ``send``; ``"localhost"``
  prefers IPv4 (as our servers do), an IPv6 literal such as ``"::1"`` works;
* datagrams are read whole, up to 64 KiB (python-osc reads 4096 bytes and fails on longer ones);
* ``send_message`` encodes through the fast :func:`osc_live.osc_message.encode_message`;
* ``get_messages`` flattens bundles into their messages instead of failing on them, and skips
  (with a warning on the ``osc_live.udp_client`` logger) datagrams that are not OSC;
* :class:`DispatchClient` sends handler return values back to the server, as the servers do, and
  takes a dispatcher per instance as well as the class attribute;
* the sockets ask for a 4 MiB receive buffer (keyword ``recv_buffer_size``; ``None`` keeps the
  system default) so that a burst of replies is not dropped; the kernel caps it at
  ``net.core.rmem_max``.
"""

from __future__ import annotations

import asyncio
import logging
import select
import socket
from collections import deque
from collections.abc import AsyncIterator, Callable, Generator, Iterable, Sequence
from types import TracebackType
from typing import Any

from osc_live._net import (
    DEFAULT_UDP_RECV_BUFFER,
    RECV_SIZE,
    check_recv_buffer,
    format_address,
    named_error,
    recv_buffer_size,
    resolve,
    set_recv_buffer,
)
from osc_live.dispatcher import Dispatcher
from osc_live.errors import OscError
from osc_live.osc_bundle import OscBundle
from osc_live.osc_message import ADDRESS_PLANS, LOOKUP_OR_FAST_FAIL, OscMessage, encode_message
from osc_live.osc_message_builder import ArgValue
from osc_live.osc_packet import OscPacket

__all__ = ["MAX_DATAGRAM_SIZE", "AsyncUDPClient", "DispatchClient", "SimpleUDPClient", "UDPClient"]

logger = logging.getLogger("osc_live.udp_client")

#: Largest UDP payload; every receive reads this much so no datagram is ever cut.
MAX_DATAGRAM_SIZE = min(RECV_SIZE, 65535)

_SockAddr = tuple[Any, ...]


def resolve_udp(
    address: str, port: int, family: socket.AddressFamily | int = socket.AF_UNSPEC
) -> tuple[socket.AddressFamily, _SockAddr]:
    """Resolve ``address:port`` for UDP once: ``(family, sockaddr)``.

    With ``AF_UNSPEC`` an IPv4 result is preferred (``"localhost"`` then means 127.0.0.1, like
    our servers' default), an IPv6 literal still gives IPv6. ``"<broadcast>"`` is accepted as in
    the socket module. Errors name the host and port.
    """
    if address == "<broadcast>":
        return socket.AF_INET, ("255.255.255.255", port)
    infos = resolve(address, port, family, socket.SOCK_DGRAM)
    infos.sort(key=lambda info: info[0] != socket.AF_INET)
    return infos[0]


def named_os_error(exc: OSError, host: object, port: object, action: str) -> OSError:
    """``exc`` again, its message naming ``host:port``, keeping its class (PermissionError...)."""
    err = named_error(exc, host, port, action)
    if isinstance(err, type(exc)):
        return err
    reason = exc.strerror or str(exc)
    message = f"{action} {format_address(host, port)}: {reason}"
    return type(exc)(exc.errno, message) if exc.errno is not None else type(exc)(message)


def _wait_ready(sock: socket.socket, write: bool, timeout: float) -> bool:
    """Wait until ``sock`` is readable (or writable); False on timeout. No FD_SETSIZE limit."""
    if hasattr(select, "poll"):
        poller = select.poll()
        poller.register(sock, select.POLLOUT if write else select.POLLIN)
        return bool(poller.poll(timeout * 1000.0))
    readable, writable, _ = select.select(
        [] if write else [sock], [sock] if write else [], [], timeout
    )
    return bool(readable or writable)


def _args_of(value: ArgValue | Iterable[ArgValue] | None) -> Sequence[Any]:
    """python-osc's rule: ``None`` → no argument, a str/bytes or scalar → one, else each item."""
    if value is None:
        return ()
    if isinstance(value, (str, bytes, bytearray)) or not isinstance(value, Iterable):
        return (value,)
    return value if isinstance(value, (list, tuple)) else list(value)


def send_replies(
    dispatcher: Any, results: Sequence[Any], send: Callable[[bytes], object], peer: Any
) -> int:
    """Send handler ``results`` back with ``send``, one datagram each; return how many went.

    ``dispatcher.encode_replies`` encodes them (what is not a reply is logged and skipped).  An
    ``OSError`` ends the sending (the socket was closed before a late reply of a future-dated
    bundle), logged at DEBUG naming ``peer``.
    """
    if not results:
        return 0
    sent = 0
    for packet in dispatcher.encode_replies(results):
        try:
            send(packet)
        except OSError as exc:
            logger.debug("reply to %s not sent: %s", format_address(*peer[:2]), exc)
            break
        sent += 1
    return sent


def _messages_of(dgram: bytes) -> list[OscMessage]:
    """The messages of one datagram, bundles flattened; [] (and a warning) if it is not OSC."""
    if dgram[:1] == b"/":
        try:
            return [OscMessage(dgram)]
        except OscError as exc:
            logger.warning("ignoring a malformed OSC datagram (%d bytes): %s", len(dgram), exc)
            return []
    try:
        return [timed.message for timed in OscPacket(dgram).messages]
    except OscError as exc:
        logger.warning("ignoring a malformed OSC datagram (%d bytes): %s", len(dgram), exc)
        return []


class _UDPEndpoint:
    """What both UDP clients tell about their socket: peer, local address, receive buffer."""

    _address: str
    _port: int

    def _socket(self) -> Any:
        """The client's socket, None before it exists."""
        raise NotImplementedError

    @property
    def address(self) -> str:
        return self._address

    @property
    def port(self) -> int:
        return self._port

    @property
    def recv_buffer_size(self) -> int:
        """The socket's effective receive buffer in bytes, as the kernel reports it (Linux
        reports twice what it granted; it grants at most ``net.core.rmem_max``); 0 before the
        socket exists."""
        return recv_buffer_size(self._socket())

    @property
    def local_address(self) -> _SockAddr | None:
        """The socket's local address once bound (replies go there), None before or after
        ``close``."""
        try:
            local = self._socket().getsockname()
        except (OSError, AttributeError):
            return None
        return None if not local[1] else tuple(local)


class UDPClient(_UDPEndpoint):
    """Send :class:`OscMessage` / :class:`OscBundle` over UDP and receive raw datagrams."""

    def __init__(
        self,
        address: str,
        port: int,
        allow_broadcast: bool = False,
        family: socket.AddressFamily = socket.AF_UNSPEC,
        timeout: float | None = None,
        *,
        connect: bool = False,
        recv_buffer_size: int | None = DEFAULT_UDP_RECV_BUFFER,
    ) -> None:
        """Create the socket; nothing is sent until :meth:`send`.

        Args:
            address: host name or IP address of the server (IPv6 literals work).
            port: UDP port of the server.
            allow_broadcast: set ``SO_BROADCAST`` so a broadcast address may be the target.
            family: ``AF_UNSPEC`` (default), ``AF_INET`` or ``AF_INET6`` for the resolution.
            timeout: default seconds :meth:`receive` waits; ``None``: do not wait.
            connect: opt-in: ``connect()`` the socket to the server. Sending gets much
                cheaper (about 1.7x on Linux loopback), but only datagrams *from that address
                and port* can then be received: leave it off for devices that answer from
                another port. "Port unreachable" errors are ignored, as UDP sends always are.
            recv_buffer_size: ``SO_RCVBUF`` to ask for, in bytes (default 4 MiB: replies that
                arrive faster than they are read wait in the kernel instead of being dropped;
                capped quietly at ``net.core.rmem_max``); ``None`` keeps the system default.
        """
        rcvbuf = check_recv_buffer(recv_buffer_size)
        af, self._sockaddr = resolve_udp(address, port, family)
        self._sock = socket.socket(af, socket.SOCK_DGRAM)
        self._sock.setblocking(False)
        set_recv_buffer(self._sock, rcvbuf)
        self._sendto = self._sock.sendto
        self._send = self._sock.send
        self._connected = connect
        if allow_broadcast:
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        if connect:
            try:
                self._sock.connect(self._sockaddr)
            except OSError as exc:
                self._sock.close()
                raise named_os_error(exc, address, port, "connecting UDP to") from exc
        self._timeout = timeout
        self._address = address
        self._port = port

    def _socket(self) -> socket.socket:
        return self._sock

    def __enter__(self) -> UDPClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the socket (idempotent)."""
        self._sock.close()

    def fileno(self) -> int:
        return self._sock.fileno()

    def _send_bytes(self, data: bytes) -> None:
        try:
            if self._connected:
                self._send(data)
            else:
                self._sendto(data, self._sockaddr)
        except OSError as exc:
            self._send_failed(data, exc)

    def _send_failed(self, data: bytes, exc: OSError) -> None:
        """A send raised: wait out a full buffer, else re-raise naming host and port."""
        if isinstance(exc, (BlockingIOError, ConnectionRefusedError)):
            # BlockingIOError: the socket buffer is full; wait until it drains rather than
            # dropping the packet. ConnectionRefusedError (connected sockets only): an earlier
            # datagram found no listener; that error is now consumed, send this one.
            if isinstance(exc, BlockingIOError):
                _wait_ready(self._sock, True, 5.0)
            try:
                if self._connected:
                    self._send(data)
                else:
                    self._sendto(data, self._sockaddr)
                return
            except ConnectionRefusedError:
                return  # nobody listens there: silent, as UDP is without connect
            except OSError as again:
                exc = again
        raise named_os_error(exc, self._address, self._port, "sending to") from exc

    def send(self, content: OscMessage | OscBundle | bytes) -> None:
        """Send one message or bundle (or already-encoded bytes) as one datagram."""
        self._send_bytes(content if isinstance(content, (bytes, bytearray)) else content.dgram)

    def receive(self, timeout: float | None = None) -> bytes:
        """Wait up to ``timeout`` seconds for one datagram and return it whole; ``b""`` if none.

        Args:
            timeout: seconds to wait; ``None`` uses the constructor's timeout (``None``: no wait).
        """
        wait = self._timeout if timeout is None else timeout
        if wait is not None and wait > 0 and not _wait_ready(self._sock, False, wait):
            return b""
        return self._recv()

    def _recv(self) -> bytes:
        try:
            return self._sock.recv(MAX_DATAGRAM_SIZE)
        except (BlockingIOError, InterruptedError):
            return b""
        except ConnectionRefusedError:
            # Connected socket: an earlier datagram found no listener. Consumed; read again.
            try:
                return self._sock.recv(MAX_DATAGRAM_SIZE)
            except (BlockingIOError, InterruptedError, ConnectionRefusedError):
                return b""


class SimpleUDPClient(UDPClient):
    """A :class:`UDPClient` that builds the message from an address and values."""

    def send_message(self, address: str, value: ArgValue | Iterable[ArgValue] | None) -> None:
        """Encode ``address`` with ``value`` (one argument, a list of them, or ``None``) and send.

        Args:
            address: OSC address pattern, e.g. ``"/synth/freq"``.
            value: a single argument, a list/tuple of arguments, or ``None`` for none.
        """
        cls = type(value)
        if cls is list or cls is tuple:
            try:  # encode_message's fast path, inlined: one lookup, one call
                data = ADDRESS_PLANS[address].encode(value)
            except LOOKUP_OR_FAST_FAIL:
                data = encode_message(address, value)  # type: ignore[arg-type]
        else:
            data = encode_message(address, _args_of(value))
        try:
            if self._connected:
                self._send(data)
            else:
                self._sendto(data, self._sockaddr)
        except OSError as exc:
            self._send_failed(data, exc)

    def get_messages(self, timeout: float | None = None) -> Generator[OscMessage, None, None]:
        """Yield received messages (bundles flattened) until ``timeout`` passes with nothing new."""
        data = self.receive(timeout)
        while data:
            yield from _messages_of(data)
            data = self.receive(timeout)


class DispatchClient(SimpleUDPClient):
    """A :class:`SimpleUDPClient` that hands received messages to a :class:`Dispatcher`.

    ``dispatcher`` is a class attribute as in python-osc (``DispatchClient.dispatcher = ...``);
    one given to the constructor is used by that instance only.
    """

    dispatcher: Dispatcher = Dispatcher()

    def __init__(
        self,
        address: str,
        port: int,
        allow_broadcast: bool = False,
        family: socket.AddressFamily = socket.AF_UNSPEC,
        timeout: float | None = None,
        dispatcher: Dispatcher | None = None,
        *,
        connect: bool = False,
        recv_buffer_size: int | None = DEFAULT_UDP_RECV_BUFFER,
    ) -> None:
        super().__init__(
            address,
            port,
            allow_broadcast,
            family,
            timeout,
            connect=connect,
            recv_buffer_size=recv_buffer_size,
        )
        if dispatcher is not None:
            self.dispatcher = dispatcher

    def _send_replies(self, results: list[Any]) -> None:
        send_replies(self.dispatcher, results, self._send_bytes, (self._address, self._port))

    def handle_messages(self, timeout: float | None = None) -> None:
        """Dispatch received packets until ``timeout`` passes with nothing new.

        Handler return values are sent back to the server; those of future-dated bundles are
        sent when the dispatcher runs them.
        """
        data = self.receive(timeout)
        while data:
            results = self.dispatcher.call_handlers_for_packet(
                data, (self._address, self._port), reply=self._send_replies
            )
            self._send_replies(results)
            data = self.receive(timeout)


class _AsyncUDPProtocol(asyncio.DatagramProtocol):
    """Queues received datagrams for :class:`AsyncUDPClient`."""

    def __init__(self, max_queue: int) -> None:
        self.queue: deque[bytes] = deque()
        self.max_queue = max_queue
        self.dropped = 0
        self.waiter: asyncio.Future[None] | None = None
        self.closed: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def _wake(self) -> None:
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)

    def datagram_received(self, data: bytes, addr: _SockAddr) -> None:
        if len(self.queue) >= self.max_queue:
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 1000 == 0:
                logger.warning(
                    "receive queue full (%d datagrams): %d dropped", self.max_queue, self.dropped
                )
            return
        self.queue.append(data)
        self._wake()

    def error_received(self, exc: Exception) -> None:
        logger.debug("UDP error: %s", exc)

    def connection_lost(self, exc: Exception | None) -> None:
        self._wake()
        if not self.closed.done():
            self.closed.set_result(None)


class AsyncUDPClient(_UDPEndpoint):
    """asyncio UDP client: ``await send(...)``, ``await receive()``, ``async for`` messages.

    The socket is created on first use, on ``await client`` or on ``async with client``, in the
    running event loop. Received datagrams wait in a bounded queue (``max_queue``; the excess is
    dropped, counted in :attr:`dropped` and logged). The socket asks for a ``recv_buffer_size``
    receive buffer (4 MiB by default, capped by the kernel; ``None``: the system default).
    """

    dispatcher: Dispatcher | None = None

    def __init__(
        self,
        address: str,
        port: int,
        allow_broadcast: bool = False,
        family: socket.AddressFamily = socket.AF_UNSPEC,
        timeout: float | None = 30.0,
        *,
        dispatcher: Dispatcher | None = None,
        max_queue: int = 10_000,
        recv_buffer_size: int | None = DEFAULT_UDP_RECV_BUFFER,
    ) -> None:
        self._recv_buffer_request = check_recv_buffer(recv_buffer_size)
        self._address = address
        self._port = port
        self._family, self._sockaddr = resolve_udp(address, port, family)
        self._allow_broadcast = allow_broadcast
        self._timeout = timeout
        self._max_queue = max_queue
        self._transport: asyncio.DatagramTransport | None = None
        self._protocol: _AsyncUDPProtocol | None = None
        self._connecting: asyncio.Lock | None = None
        if dispatcher is not None:
            self.dispatcher = dispatcher

    def _socket(self) -> Any:
        transport = self._transport
        return None if transport is None else transport.get_extra_info("socket")

    @property
    def dropped(self) -> int:
        """Datagrams dropped because the receive queue was full."""
        return self._protocol.dropped if self._protocol else 0

    async def connect(self) -> AsyncUDPClient:
        """Create the socket in the running loop (idempotent)."""
        if self._transport is not None and not self._transport.is_closing():
            return self
        if self._connecting is None:
            self._connecting = asyncio.Lock()
        async with self._connecting:
            if self._transport is not None and not self._transport.is_closing():
                return self
            sock = socket.socket(self._family, socket.SOCK_DGRAM)
            try:
                sock.setblocking(False)
                set_recv_buffer(sock, self._recv_buffer_request)
                if self._allow_broadcast:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
                # Bind now so the local address exists before the first send (for receive()).
                sock.bind(("::" if self._family == socket.AF_INET6 else "0.0.0.0", 0))
                loop = asyncio.get_running_loop()
                transport, protocol = await loop.create_datagram_endpoint(
                    lambda: _AsyncUDPProtocol(self._max_queue), sock=sock
                )
            except BaseException:
                sock.close()
                raise
            self._transport = transport
            self._protocol = protocol
        return self

    def __await__(self) -> Generator[Any, None, AsyncUDPClient]:
        return self.connect().__await__()

    async def __aenter__(self) -> AsyncUDPClient:
        return await self.connect()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def close(self) -> None:
        """Close the socket (it is released on the loop's next iteration; see :meth:`aclose`)."""
        if self._transport is not None:
            self._transport.close()

    async def aclose(self) -> None:
        """Close the socket and wait until it is released."""
        self.close()
        if self._protocol is not None:
            await self._protocol.closed
        self._transport = None
        self._protocol = None

    async def _ensure(self) -> tuple[asyncio.DatagramTransport, _AsyncUDPProtocol]:
        if self._transport is None or self._transport.is_closing():
            await self.connect()
        assert self._transport is not None and self._protocol is not None
        return self._transport, self._protocol

    async def send(self, content: OscMessage | OscBundle | bytes) -> None:
        """Send one message or bundle (or encoded bytes) as one datagram."""
        transport, _ = await self._ensure()
        data = content if isinstance(content, (bytes, bytearray)) else content.dgram
        transport.sendto(data, self._sockaddr)

    async def send_message(self, address: str, value: ArgValue | Iterable[ArgValue] | None) -> None:
        """Encode ``address`` with ``value`` (python-osc rules) and send it."""
        transport, _ = await self._ensure()
        cls = type(value)
        if cls is list or cls is tuple:
            try:  # encode_message's fast path, inlined
                data = ADDRESS_PLANS[address].encode(value)
            except LOOKUP_OR_FAST_FAIL:
                data = encode_message(address, value)  # type: ignore[arg-type]
        else:
            data = encode_message(address, _args_of(value))
        transport.sendto(data, self._sockaddr)

    async def receive(self, timeout: float | None = None) -> bytes:
        """One received datagram, whole; ``b""`` once ``timeout`` passes with nothing.

        ``None`` uses the constructor's timeout (30 s by default; ``None`` there waits forever).
        """
        _, protocol = await self._ensure()
        wait = self._timeout if timeout is None else timeout
        if not protocol.queue and (wait is None or wait > 0):
            protocol.waiter = asyncio.get_running_loop().create_future()
            try:
                await asyncio.wait_for(protocol.waiter, wait)
            except asyncio.TimeoutError:
                pass
            finally:
                protocol.waiter = None
        return protocol.queue.popleft() if protocol.queue else b""

    async def get_messages(self, timeout: float | None = None) -> AsyncIterator[OscMessage]:
        """Yield received messages (bundles flattened) until ``timeout`` passes with nothing new."""
        data = await self.receive(timeout)
        while data:
            for message in _messages_of(data):
                yield message
            data = await self.receive(timeout)

    async def handle_messages(self, timeout: float | None = None) -> None:
        """Dispatch received packets with :attr:`dispatcher` until ``timeout`` passes quietly.

        Handler return values are sent back to the server (late ones of future bundles too).
        """
        dispatcher = self.dispatcher
        if dispatcher is None:
            raise RuntimeError("AsyncUDPClient.handle_messages needs a dispatcher")
        transport, _ = await self._ensure()

        def send(packet: bytes) -> None:
            transport.sendto(packet, self._sockaddr)

        def reply(results: list[Any]) -> None:
            if not transport.is_closing():
                send_replies(dispatcher, results, send, self._sockaddr)

        data = await self.receive(timeout)
        while data:
            results = await dispatcher.async_call_handlers_for_packet(
                data, (self._address, self._port), reply=reply
            )
            reply(results)
            data = await self.receive(timeout)
