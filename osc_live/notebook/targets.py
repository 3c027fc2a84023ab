"""Targets: where ``%osc send`` and bound widgets send, through ``udp_client`` / ``tcp_client``.

* :class:`UdpTarget` sends with a :class:`~osc_live.udp_client.UDPClient` connected to the
  target (``connect=True``): the send is a synchronous ``send()`` on the socket, so it leaves
  at once from a cell that blocks and from any thread (a widget callback on a subshell). The
  operating system binds the socket to the address that routes to the target (127.0.0.1 for a
  loopback target: nothing outside the machine can reach it), and it accepts datagrams from the
  target only. Replies are read on the session loop (``loop.add_reader``) into the session
  dispatcher.
* :class:`TcpTarget` is an :class:`~osc_live.tcp_client.AsyncTCPClient` on the session loop;
  a task on that loop feeds what the peer sends back to the dispatcher. Sends from synchronous
  code run the client's ``send`` on the loop (re-entering it from the loop's own thread).

A scheme's targets are made by the ``connect`` function of its link (:mod:`.links`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from osc_live.osc_bundle import OscBundle
from osc_live.osc_message import OscMessage

if TYPE_CHECKING:
    from osc_live.endpoints import Endpoint
    from osc_live.notebook.kernel_session import OscSession

__all__ = ["Target", "TcpTarget", "UdpTarget", "format_peer"]

logger = logging.getLogger("osc_live.notebook")

#: datagrams read per wake-up of the loop before letting other callbacks run
_READ_BATCH = 256


def format_peer(address: Any) -> str:
    """``host:port`` of a socket address, IPv6 hosts in brackets; ``?`` when unknown."""
    if isinstance(address, tuple) and len(address) >= 2:
        host = str(address[0])
        return f"[{host}]:{address[1]}" if ":" in host else f"{host}:{address[1]}"
    return str(address) if address else "?"


class Target:
    """Base of the session's targets: a name, a URL, counters, and :meth:`send`.

    ``synth_instance``: the :class:`~osc_live.notebook.synth.VirtualSynth` a target of the
    virtual synth points at; sending once that synth has stopped raises a one-line
    ``ConnectionError`` instead of talking to a port nobody listens on.
    """

    kind = "?"

    def __init__(
        self,
        owner: OscSession,
        name: str,
        url: str,
        sockaddr: tuple[Any, ...],
        mode: str = "",
        *,
        synth_instance: Any = None,
    ) -> None:
        self.owner = owner
        self.name = name
        self.url = url
        self.mode = mode
        self.sockaddr = sockaddr
        self.synth_instance = synth_instance
        self.sent = 0
        self.closed = False
        self._count_lock = threading.Lock()

    @property
    def synth(self) -> bool:
        """True for a target of the virtual synth."""
        return self.synth_instance is not None

    @property
    def local_address(self) -> tuple[Any, ...] | None:
        """The local ``(host, port)`` this target sends from (replies come back there)."""
        return None

    def send_message(
        self, address: str, args: Any = (), type_tags: str | None = None
    ) -> OscMessage:
        """Encode and send one message; returns the :class:`OscMessage` sent."""
        if isinstance(args, (str, bytes)) or not isinstance(args, Iterable):
            args = [args]
        message = OscMessage.from_parts(address, list(args), type_tags)
        self.send(message)
        return message

    def send(self, content: OscMessage | OscBundle) -> None:
        """Send a message or a bundle (every send of the session comes through here); safe
        from any thread."""
        if self.closed:
            raise ConnectionError(f"target {self.name!r} is closed")
        synth = self.synth_instance
        if synth is not None and not synth.running:
            raise ConnectionError(
                f"target {self.name!r} points at a virtual synth that was closed"
                " (%osc connect starts a new one)"
            )
        self._transmit(content)
        with self._count_lock:
            self.sent += 1
        self.owner._record_sent(content, self)

    def _transmit(self, content: OscMessage | OscBundle) -> None:  # pragma: no cover
        raise NotImplementedError

    def close(self) -> None:
        """Close the connection and stop reading replies (idempotent)."""
        self.closed = True

    def __repr__(self) -> str:
        return f"<Target {self.name} {self.url}>"


class UdpTarget(Target):
    """A UDP target: a connected :class:`~osc_live.udp_client.UDPClient` (see the module)."""

    kind = "udp"

    def __init__(
        self, owner: OscSession, name: str, url: str, host: str, port: int, **kw: Any
    ) -> None:
        from osc_live.udp_client import UDPClient, resolve_udp

        family, sockaddr = resolve_udp(host, port)
        super().__init__(owner, name, url, tuple(sockaddr), **kw)
        self._client = UDPClient(str(sockaddr[0]), port, family=family, connect=True)
        self._fd = self._client.fileno()
        self._reading = False
        runner = owner.runner
        if runner.in_loop_thread:
            self._start_reading()
        else:
            runner.run(self._astart())

    async def _astart(self) -> None:
        self._start_reading()

    def _start_reading(self) -> None:
        try:
            self.owner.loop.add_reader(self._fd, self._readable)
            self._reading = True
        except NotImplementedError:  # pragma: no cover - loops without add_reader (Proactor)
            logger.warning("replies to %s cannot be read on this event loop", self.url)

    def _readable(self) -> None:
        """Replies waiting on the socket: hand each to the session dispatcher."""
        dispatcher = self.owner.dispatcher
        for _ in range(_READ_BATCH):
            try:
                data = self._client.receive(timeout=0)
            except OSError:
                return
            if not data:
                return
            results = dispatcher.call_handlers_for_packet(
                data, self.sockaddr, reply=self._send_replies
            )
            self._send_replies(results)

    def _send_replies(self, results: list[Any]) -> None:
        from osc_live.udp_client import send_replies

        if not self.closed:
            send_replies(self.owner.dispatcher, results, self._client.send, self.sockaddr)

    @property
    def local_address(self) -> tuple[Any, ...] | None:
        if self.closed:
            return None
        with contextlib.suppress(OSError):
            local = self._client.local_address
            return None if local is None else tuple(local)[:2]
        return None

    def _transmit(self, content: OscMessage | OscBundle) -> None:
        self._client.send(content)

    def close(self) -> None:
        if self.closed:
            return
        super().close()
        runner = self.owner._runner
        if self._reading and runner is not None and not runner.loop.is_closed():
            self._reading = False
            try:
                if runner.in_loop_thread:
                    runner.loop.remove_reader(self._fd)
                else:
                    runner.run(self._astop(), timeout=5)
            except (RuntimeError, TimeoutError):
                logger.debug("could not unregister %s from the loop", self.url, exc_info=True)
        self._client.close()

    async def _astop(self) -> None:
        asyncio.get_running_loop().remove_reader(self._fd)


class TcpTarget(Target):
    """A TCP target: an :class:`~osc_live.tcp_client.AsyncTCPClient` on the session loop."""

    kind = "tcp"

    def __init__(
        self, owner: OscSession, name: str, url: str, host: str, port: int, mode: str, **kw: Any
    ) -> None:
        from osc_live.tcp_client import AsyncTCPClient

        super().__init__(owner, name, url, (host, port), mode, **kw)
        self._client = AsyncTCPClient(host, port, mode=mode, timeout=owner.options.send_timeout)
        self._reader: asyncio.Task[None] | None = None
        owner.runner.run(self._open(), timeout=owner.options.send_timeout + 1)

    async def _open(self) -> None:
        await self._client.connect()
        self._reader = asyncio.get_running_loop().create_task(
            self._read(), name=f"osc_live-tcp-replies:{self.name}"
        )

    async def _read(self) -> None:
        """What the peer sends back, to the session dispatcher, until the connection ends."""
        client, dispatcher = self._client, self.owner.dispatcher
        while not self.closed:
            try:
                packets = await client.receive_raw(timeout=3600.0)
            except OSError:
                return
            if not packets and not client.connected:
                return
            for packet in packets:
                dispatcher.call_handlers_for_packet(packet, self.sockaddr)

    @property
    def local_address(self) -> tuple[Any, ...] | None:
        return None if self.closed else self._client.local_address

    def _transmit(self, content: OscMessage | OscBundle) -> None:
        self.owner.runner.run(self._client.send(content), timeout=self.owner.options.send_timeout)

    def close(self) -> None:
        if self.closed:
            return
        super().close()
        runner = self.owner._runner
        if runner is None or runner.loop.is_closed():
            return
        try:
            runner.run(self._aclose(), timeout=5)
        except (RuntimeError, TimeoutError):
            logger.debug("closing %s", self.url, exc_info=True)

    async def _aclose(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
        await self._client.close()


def connect_udp(owner: OscSession, endpoint: Endpoint, name: str, mode: str, **kw: Any) -> Target:
    """The ``udp://`` link's ``connect``."""
    del mode
    url = endpoint.url + (" (virtual synth)" if kw.get("synth_instance") is not None else "")
    return UdpTarget(owner, name, url, endpoint.host, endpoint.port, **kw)


def connect_tcp(owner: OscSession, endpoint: Endpoint, name: str, mode: str, **kw: Any) -> Target:
    """The ``tcp://`` link's ``connect``."""
    synth = ", virtual synth" if kw.get("synth_instance") is not None else ""
    url = f"{endpoint.url} (OSC {mode or '1.1'}{synth})"
    return TcpTarget(owner, name, url, endpoint.host, endpoint.port, mode or "1.1", **kw)
