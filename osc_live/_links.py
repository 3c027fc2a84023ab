"""Two-way packet links to one OSC peer (UDP, TCP or WebSocket), for the bridge and replay.

``await open_link("udp://127.0.0.1:57120", on_packet)`` returns a :class:`Link`: ``send(data)``
sends one raw packet, every packet the peer sends back is given to ``on_packet(data)``, and
``await link.close()`` ends it.  A UDP link is a *connected* socket of its own, so the peer's
replies (scsynth answers the sender's address) come back to this link only: the bridge opens one
link per WebSocket client and each client gets its own answers.

URLs are :mod:`osc_live.endpoints`' (``udp://host:port``, ``tcp://host:port`` with ``mode``
``"1.0"`` size prefix or ``"1.1"`` SLIP, ``ws://host:port/path``; bracketed IPv6 hosts).

:func:`serve_raw` is the other direction: a server on such a URL handing every raw packet it
receives to a callback (the ``osc-live record`` command).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Awaitable, Callable
from typing import Any

from osc_live._net import resolve
from osc_live.endpoints import Endpoint, parse_endpoint
from osc_live.tcp_client import AsyncTCPClient
from osc_live.ws_client import AsyncWSClient

__all__ = ["Link", "open_link", "serve_raw"]

_log = logging.getLogger("osc_live.bridge")


class Link:
    """A two-way link to one peer (see the module docstring)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.sent = 0
        self.received = 0

    @property
    def alive(self) -> bool:
        """False once the peer closed a stream link (a UDP link stays alive until closed)."""
        return True

    async def send(self, data: bytes) -> None:
        """Send one raw OSC packet."""
        raise NotImplementedError

    async def close(self) -> None:
        """Close the link."""


class _UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, link: _UdpLink) -> None:
        self.link = link

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.link.received += 1
        self.link.on_packet(data)

    def error_received(self, exc: Exception) -> None:
        # ICMP port unreachable: nobody listens at the target (yet); UDP goes on.
        _log.debug("%s: %s", self.link.url, exc)


class _UdpLink(Link):
    def __init__(self, url: str, on_packet: Callable[[bytes], Any]) -> None:
        super().__init__(url)
        self.on_packet = on_packet
        self.transport: asyncio.DatagramTransport | None = None

    async def open(self, host: str, port: int) -> None:
        loop = asyncio.get_running_loop()
        where = host or "127.0.0.1"
        family, sockaddr = resolve(where, port, socket.AF_UNSPEC, socket.SOCK_DGRAM)[0]
        transport, _ = await loop.create_datagram_endpoint(
            lambda: _UdpProtocol(self), remote_addr=sockaddr[:2], family=family
        )
        self.transport = transport

    async def send(self, data: bytes) -> None:
        assert self.transport is not None
        self.transport.sendto(data)
        self.sent += 1

    async def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
            self.transport = None


class _StreamLink(Link):
    """TCP or WebSocket: a client of ours plus a task that reads what the peer sends."""

    def __init__(self, url: str, client: Any, on_packet: Callable[[bytes], Any]) -> None:
        super().__init__(url)
        self.client = client
        self.on_packet = on_packet
        self._reader: asyncio.Task[None] | None = None
        self._closing = False

    async def open(self) -> None:
        await self.client.connect()
        self._reader = asyncio.get_running_loop().create_task(self._read(), name=f"link {self.url}")

    async def _read(self) -> None:
        client = self.client
        while not self._closing:
            packets = await client.receive_raw(3600.0)
            if not packets:
                if not client.connected:  # the peer closed: the link is over
                    return
                continue
            for data in packets:
                self.received += 1
                self.on_packet(data)

    @property
    def alive(self) -> bool:
        return not self._closing and bool(self.client.connected)

    async def send(self, data: bytes) -> None:
        await self.client.send(data)
        self.sent += 1

    async def close(self) -> None:
        self._closing = True
        reader = self._reader
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader
        await self.client.close()


async def open_link(
    url: str,
    on_packet: Callable[[bytes], Any],
    *,
    mode: str = "1.1",
    timeout: float = 10.0,
) -> Link:
    """Open a two-way link to ``url`` (see the module docstring); errors name the peer."""
    where = parse_endpoint(url)
    if where.scheme == "udp":
        link = _UdpLink(url, on_packet)
        await link.open(where.host, where.port)
        return link
    client: Any
    if where.scheme == "tcp":
        client = AsyncTCPClient(where.host, where.port, mode=mode or "1.1", timeout=timeout)
    else:
        client = AsyncWSClient(where.url, timeout=timeout)
    stream = _StreamLink(url, client, on_packet)
    await stream.open()
    return stream


class _RawDispatcher:
    """Stands for a Dispatcher in our servers: hands each raw packet to ``on_packet``."""

    def __init__(self, on_packet: Callable[[bytes, Any], Any]) -> None:
        self.on_packet = on_packet

    def call_handlers_for_packet(self, data: bytes, client_address: Any, **kw: Any) -> list[Any]:
        self.on_packet(data, client_address)
        return []

    async def async_call_handlers_for_packet(
        self, data: bytes, client_address: Any, **kw: Any
    ) -> list[Any]:
        self.on_packet(data, client_address)
        return []

    def encode_replies(self, results: Any) -> list[bytes]:
        return []

    def close(self) -> None:
        """Nothing to close."""


async def serve_raw(
    where: Endpoint, on_packet: Callable[[bytes, Any], Any], *, mode: str = "auto"
) -> tuple[tuple[Any, ...], Callable[[], Awaitable[None]]]:
    """Serve ``where`` (udp, tcp, ws) on the running loop; every packet received goes to
    ``on_packet(data, client_address)``.  Returns the bound address and the coroutine function
    that stops the server."""
    dispatcher: Any = _RawDispatcher(on_packet)
    if where.scheme == "udp":
        from osc_live.osc_server import AsyncIOOSCUDPServer

        udp = AsyncIOOSCUDPServer((where.host, where.port), dispatcher)
        await udp.create_serve_endpoint()
        return tuple(udp.server_address), udp.aclose
    if where.scheme == "tcp":
        from osc_live.osc_tcp_server import AsyncOSCTCPServer

        tcp = AsyncOSCTCPServer(where.host, where.port, dispatcher, mode=mode or "auto")
        await tcp.listen()
        return tuple(tcp.server_address), tcp.stop
    from osc_live.osc_ws_server import AsyncOSCWSServer

    ws = AsyncOSCWSServer(where.host, where.port, dispatcher, path=where.path or None)
    await ws.listen()
    return tuple(ws.server_address), ws.stop
