"""Two-way packet links to one OSC peer (UDP, TCP or WebSocket), for the bridge and replay.

``await open_link("udp://127.0.0.1:57120", on_packet)`` returns a :class:`Link`: ``send(data)``
sends one raw packet, every packet the peer sends back is given to ``on_packet(data)``, and
``await link.close()`` ends it.  A UDP link is a *connected* socket of its own, so the peer's
replies (scsynth answers the sender's address) come back to this link only: the bridge opens one
link per WebSocket client and each client gets its own answers.

URLs: ``udp://host:port``, ``tcp://host:port`` (``mode`` ``"1.0"`` size prefix or ``"1.1"``
SLIP), ``ws://host:port/path``.  Hosts may be bracketed IPv6 literals.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from osc_live._net import format_address, resolve, strip_brackets
from osc_live.tcp_client import AsyncTCPClient
from osc_live.ws_client import AsyncWSClient

__all__ = ["SCHEMES", "Link", "open_link", "parse_url"]

SCHEMES = ("udp", "tcp", "ws", "wss")
_log = logging.getLogger("osc_live.bridge")


def parse_url(url: str, default_scheme: str = "udp") -> tuple[str, str, int, str]:
    """``(scheme, host, port, path)`` of an endpoint URL; ValueError naming what is wrong."""
    if "://" not in url:
        url = f"{default_scheme}://{url}"
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise ValueError(f"unknown scheme {scheme!r} in {url!r} (one of {', '.join(SCHEMES)})")
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"bad port in {url!r}: {exc}") from None
    if port is None:
        raise ValueError(f"no port in {url!r} (e.g. {scheme}://127.0.0.1:57120)")
    host = strip_brackets(parts.hostname or "")
    return scheme, host, port, parts.path or "/"


class Link:
    """A two-way link to one peer (see the module docstring)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.sent = 0
        self.received = 0

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
    scheme, host, port, path = parse_url(url)
    if scheme == "udp":
        link = _UdpLink(url, on_packet)
        await link.open(host, port)
        return link
    client: Any
    if scheme == "tcp":
        client = AsyncTCPClient(host or "127.0.0.1", port, mode=mode, timeout=timeout)
    else:
        client = AsyncWSClient(f"{scheme}://{format_address(host, port)}{path}", timeout=timeout)
    stream = _StreamLink(url, client, on_packet)
    await stream.open()
    return stream
