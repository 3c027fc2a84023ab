"""OSC clients over WebSocket: one binary WebSocket message per OSC packet (osc.js convention).

- :class:`WSClient` -- blocking; connects in the constructor (as the TCP clients).
- :class:`AsyncWSClient` -- asyncio; connects on first use, ``await client.connect()`` or
  ``async with``.

Both take a URL (``ws://host:port/path``; ``wss://`` with an ``ssl`` context) or a host and a
port, and offer ``send(message_or_bundle_or_bytes)``, ``send_message(address, value)``
(python-osc's rule for ``value``), ``receive(timeout)`` (parsed packets until ``timeout``
seconds of quiet or the server closes), ``get_messages(timeout)`` (messages, bundles
flattened), ``receive_raw(timeout)`` and ``handle_messages(timeout)`` (packets to a
``dispatcher``; handler results go back to the server).  Text frames from the server are not
OSC: they are skipped with a warning on ``osc_live.websocket``.  Errors name the server.
Needs the extra ``osc-live[websocket]``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

from osc_live._limits import DEFAULT_MAX_PACKET_SIZE
from osc_live._net import format_address, named_error
from osc_live._ws import websockets_module, websockets_version
from osc_live.dispatcher import Dispatcher, encode_replies
from osc_live.errors import OscError
from osc_live.osc_bundle import OscBundle
from osc_live.osc_message import OscMessage
from osc_live.osc_message_builder import ArgValue, build_msg
from osc_live.osc_packet import parse_packet
from osc_live.udp_client import _messages_of

__all__ = ["AsyncWSClient", "WSClient", "ws_url"]

logger = logging.getLogger("osc_live.websocket")


def ws_url(host_or_url: str, port: int | None = None, path: str = "/") -> str:
    """``ws://host:port/path`` from a URL (returned as is) or a host and a port."""
    if "://" in host_or_url:
        if port is not None:
            raise ValueError("give either a ws:// URL or a host and a port, not both")
        if not host_or_url.startswith(("ws://", "wss://")):
            raise ValueError(f"a WebSocket URL starts with ws:// or wss://, not {host_or_url!r}")
        return host_or_url
    if port is None:
        raise ValueError("a port is needed with a host name")
    if not path.startswith("/"):
        path = "/" + path
    return f"ws://{format_address(host_or_url, port)}{path}"


def _bytes_of(content: OscMessage | OscBundle | bytes | bytearray) -> bytes:
    if isinstance(content, (bytes, bytearray, memoryview)):
        return bytes(content)
    return content.dgram


def _parse(data: bytes, where: str) -> OscMessage | OscBundle | None:
    try:
        return parse_packet(data)
    except OscError as exc:
        logger.warning("%s: ignoring a malformed OSC packet (%d bytes): %s", where, len(data), exc)
        return None


def _legacy_connect() -> bool:
    """Whether websockets' sync ``connect`` takes ``legacy=`` (17.x and later)."""
    found = websockets_version(websockets_module())
    return found >= (17, 0) or found == (0, 0)  # unknown: the current API


def _connect_kwargs(
    timeout: float | None, max_packet_size: int, origin: str | None, options: dict[str, Any]
) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "open_timeout": timeout,
        "max_size": max_packet_size,
        "compression": None,
        "origin": origin,
        "proxy": None,  # a notebook's HTTP(S)_PROXY must not capture ws://127.0.0.1
        "user_agent_header": None,
    }
    kwargs.update(options)
    return kwargs


class _Wait:
    """How long the next read may wait so that reading ends after ``timeout`` s (None: never).

    Sans-I/O: the caller gives the clock's readings (``time.monotonic`` or ``loop.time``)."""

    __slots__ = ("deadline",)

    def __init__(self, timeout: float | None, now: float) -> None:
        self.deadline = None if timeout is None else now + timeout

    def left(self, now: float) -> float | None:
        """Seconds still allowed (0.0 once past the deadline)."""
        return None if self.deadline is None else max(0.0, self.deadline - now)


class _Common:
    """The settings, reading rules and errors both clients share; :meth:`_opened` is where a
    client connects (the blocking one) or not (the asyncio one: on first use)."""

    def __init__(
        self,
        host_or_url: str,
        port: int | None = None,
        *,
        path: str = "/",
        timeout: float | None = 30.0,
        origin: str | None = None,
        max_packet_size: int = DEFAULT_MAX_PACKET_SIZE,
        dispatcher: Dispatcher | None = None,
        **options: Any,
    ) -> None:
        """``ws://host:port/path`` (or the URL); ``options`` go to websockets' ``connect``."""
        self.url = ws_url(host_or_url, port, path)
        self._where = self.url
        self._timeout = timeout
        self.dispatcher = dispatcher
        self._kwargs = _connect_kwargs(timeout, max_packet_size, origin, options)
        self._opened()

    def _opened(self) -> None:
        """Called at the end of the constructor."""

    def _effective(self, timeout: float | None) -> float | None:
        return self._timeout if timeout is None else timeout

    def _error(self, exc: BaseException, action: str) -> OSError:
        rest = self.url.split("://", 1)[1]
        hostport = rest.split("/", 1)[0]
        host, _, port = hostport.rpartition(":")
        return named_error(exc, host.strip("[]"), int(port) if port.isdigit() else 0, action)

    def _binary(self, message: str | bytes) -> bytes | None:
        """The OSC packet a received WebSocket message carries; None for a text frame (not
        OSC: skipped with a warning)."""
        if isinstance(message, str):
            logger.warning(
                "%s: skipping a text frame (%d chars): not OSC", self._where, len(message)
            )
            return None
        return bytes(message)

    def _parsed(self, data: bytes) -> list[OscMessage | OscBundle]:
        """The packet parsed, in a list; ``[]`` when it is malformed (logged)."""
        packet = _parse(data, self._where)
        return [] if packet is None else [packet]


class WSClient(_Common):
    """Blocking OSC-over-WebSocket client: ``WSClient(url_or_host, port=None, *, path="/",
    timeout=30, origin=None, max_packet_size=1 MiB, dispatcher=None, **websockets_options)``
    connects in the constructor."""

    def _opened(self) -> None:
        connect = websockets_module("sync.client").connect
        options = self._kwargs
        if _legacy_connect():
            # websockets >= 17: the connection itself, not a reconnecting context manager
            # (what connect() always returned before 17; 16.x is the one Python 3.10 gets).
            options = {"legacy": True, **options}
        try:
            self._ws = connect(self.url, **options)
        except OSError as exc:
            raise self._error(exc, "connecting to") from exc
        except Exception as exc:  # websockets' handshake errors (InvalidStatus...)
            raise ConnectionError(f"connecting to {self.url}: {exc}") from exc

    @property
    def connection(self) -> Any:
        """The underlying ``websockets`` connection."""
        return self._ws

    @property
    def connected(self) -> bool:
        """True while the connection is open."""
        return bool(self._ws.state.name == "OPEN")

    def close(self) -> None:
        """Close the connection (closing handshake, bounded by websockets' close_timeout)."""
        self._ws.close()

    def __enter__(self) -> WSClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def send(self, content: OscMessage | OscBundle | bytes) -> None:
        """Send one packet as one binary message."""
        wsexc = websockets_module("exceptions")
        try:
            self._ws.send(_bytes_of(content))
        except wsexc.ConnectionClosed as exc:
            raise ConnectionResetError(f"sending to {self.url}: connection closed ({exc})") from exc

    def send_message(self, address: str, value: ArgValue | Iterable[ArgValue] = "") -> None:
        """Build and send one message (``""``: no argument, a scalar: one, a list: each)."""
        self.send(build_msg(address, value))

    def _next_raw(self, timeout: float | None) -> bytes | None:
        """The next binary message, or None after ``timeout`` s of quiet or at the close."""
        wsexc = websockets_module("exceptions")
        wait = _Wait(timeout, time.monotonic())
        while True:
            try:
                message = self._ws.recv(wait.left(time.monotonic()))
            except (TimeoutError, wsexc.ConnectionClosed):
                return None
            data = self._binary(message)
            if data is not None:
                return data

    def receive(self, timeout: float | None = None) -> Iterator[OscMessage | OscBundle]:
        """Yield parsed packets until ``timeout`` s pass without one or the server closes."""
        t = self._effective(timeout)
        while (data := self._next_raw(t)) is not None:
            yield from self._parsed(data)

    def get_messages(self, timeout: float | None = None) -> Iterator[OscMessage]:
        """Like :meth:`receive`, yielding messages only (bundles flattened in order)."""
        t = self._effective(timeout)
        while (data := self._next_raw(t)) is not None:
            yield from _messages_of(data)

    def receive_raw(self, timeout: float | None = None) -> list[bytes]:
        """The next packet as raw bytes in a list, ``[]`` after ``timeout``."""
        data = self._next_raw(self._effective(timeout))
        return [] if data is None else [data]

    def handle_messages(self, timeout: float | None = None) -> None:
        """Dispatch packets to :attr:`dispatcher` until ``timeout`` s of quiet; reply."""
        if self.dispatcher is None:
            raise ValueError("handle_messages needs a dispatcher (dispatcher= keyword)")
        dispatcher = self.dispatcher

        def reply(results: list[Any]) -> None:
            for data in encode_replies(results):
                self.send(data)

        t = self._effective(timeout)
        while (data := self._next_raw(t)) is not None:
            reply(dispatcher.call_handlers_for_packet(data, self.url, reply=reply))


class AsyncWSClient(_Common):
    """asyncio OSC-over-WebSocket client, the same constructor as :class:`WSClient`; connects
    on first use (or ``await client.connect()``, ``async with``)."""

    def _opened(self) -> None:
        self._ws: Any = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def connection(self) -> Any:
        """The underlying ``websockets`` connection (None before connecting)."""
        return self._ws

    @property
    def connected(self) -> bool:
        """True while the connection is open."""
        return self._ws is not None and self._ws.state.name == "OPEN"

    async def connect(self) -> None:
        """Open the connection (idempotent)."""
        if self._ws is not None:
            return
        connect = websockets_module("asyncio.client").connect
        try:
            self._ws = await connect(self.url, **self._kwargs)
        except OSError as exc:
            raise self._error(exc, "connecting to") from exc
        except asyncio.TimeoutError as exc:
            raise self._error(exc, "connecting to") from exc
        except Exception as exc:
            raise ConnectionError(f"connecting to {self.url}: {exc}") from exc

    def __await__(self) -> Any:
        async def _self() -> AsyncWSClient:
            await self.connect()
            return self

        return _self().__await__()

    async def __aenter__(self) -> AsyncWSClient:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the connection (closing handshake)."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=self._timeout)
        ws, self._ws = self._ws, None
        if ws is not None:
            await ws.close()

    async def send(self, content: OscMessage | OscBundle | bytes) -> None:
        """Send one packet as one binary message."""
        await self.connect()
        wsexc = websockets_module("exceptions")
        try:
            await self._ws.send(_bytes_of(content))
        except wsexc.ConnectionClosed as exc:
            raise ConnectionResetError(f"sending to {self.url}: connection closed ({exc})") from exc

    async def send_message(self, address: str, value: ArgValue | Iterable[ArgValue] = "") -> None:
        """Build and send one message."""
        await self.send(build_msg(address, value))

    async def _next_raw(self, timeout: float | None) -> bytes | None:
        await self.connect()
        wsexc = websockets_module("exceptions")
        loop = asyncio.get_running_loop()
        wait = _Wait(timeout, loop.time())
        while True:
            try:
                message = await asyncio.wait_for(self._ws.recv(), wait.left(loop.time()))
            except (asyncio.TimeoutError, wsexc.ConnectionClosed):
                return None
            data = self._binary(message)
            if data is not None:
                return data

    async def receive(self, timeout: float | None = None) -> AsyncIterator[OscMessage | OscBundle]:
        """Yield parsed packets until ``timeout`` s pass without one or the server closes."""
        t = self._effective(timeout)
        while (data := await self._next_raw(t)) is not None:
            for packet in self._parsed(data):
                yield packet

    async def get_messages(self, timeout: float | None = None) -> AsyncIterator[OscMessage]:
        """Like :meth:`receive`, yielding messages only (bundles flattened in order)."""
        t = self._effective(timeout)
        while (data := await self._next_raw(t)) is not None:
            for message in _messages_of(data):
                yield message

    async def receive_raw(self, timeout: float | None = None) -> list[bytes]:
        """The next packet as raw bytes in a list, ``[]`` after ``timeout``."""
        data = await self._next_raw(self._effective(timeout))
        return [] if data is None else [data]

    async def handle_messages(self, timeout: float | None = None) -> None:
        """Dispatch packets to :attr:`dispatcher` until ``timeout`` s of quiet; reply."""
        if self.dispatcher is None:
            raise ValueError(
                "handle_messages needs a dispatcher (AsyncWSClient(..., dispatcher=d))"
            )
        dispatcher = self.dispatcher
        loop = asyncio.get_running_loop()

        def reply(results: list[Any]) -> None:
            for data in encode_replies(results):
                task = loop.create_task(self.send(data))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)

        t = self._effective(timeout)
        while (data := await self._next_raw(t)) is not None:
            results = await dispatcher.async_call_handlers_for_packet(data, self.url, reply=reply)
            for out in encode_replies(results):
                await self.send(out)
