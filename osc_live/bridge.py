"""A WebSocket <-> UDP/TCP bridge: browsers reach an OSC synth that speaks UDP or TCP.

Browsers cannot send UDP.  A page using osc.js ``WebSocketPort`` (or any client sending one
binary WebSocket message per OSC packet) connects to the bridge; the bridge relays:

- each client's packets to the target (``udp://host:port`` or ``tcp://host:port``; a
  ``ws://`` target works too), through a link of that client's own -- for UDP a socket of its
  own -- so the target's replies (``/done``, ``/n_go``, ``/status.reply``...) go back to the
  client that asked;
- with ``broadcast=True``, every reply to every client instead.

Packets are checked before they are relayed: a message that is not OSC never reaches the
synth (counted in ``malformed``; a peer sending garbage or text is cut, see
:mod:`osc_live.osc_ws_server`).  The WebSocket side binds loopback by default; any other
address needs ``lan=True`` (the synth is then open to the network).  ``origins`` restricts the
web pages allowed to connect (``Origin`` header), ``None`` allows any.

``on_packet(direction, peer, data)``, if given, sees every relayed packet (``"in"`` from a
client, ``"out"`` a reply back) -- the notebook's monitor and recorder hang there.
Counters are in :attr:`OscBridge.stats`.  Needs the extra ``osc-live[websocket]``.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
from collections.abc import Callable, Sequence
from typing import Any

from osc_live._links import Link, open_link
from osc_live._ws import WSServerStats
from osc_live.endpoints import EndpointError, parse_endpoint
from osc_live.errors import OscError
from osc_live.osc_packet import parse_packet
from osc_live.osc_ws_server import AsyncOSCWSServer, ServerFront, WSPeer

__all__ = ["BridgeStats", "OscBridge", "is_loopback"]

logger = logging.getLogger("osc_live.bridge")


def is_loopback(host: str) -> bool:
    """True for ``localhost``, 127.0.0.0/8 and ``::1``."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


class BridgeStats(WSServerStats):
    """The WebSocket server's counters plus the bridge's.

    - ``to_target``: packets relayed to the target; ``from_target``: packets it sent back;
    - ``broadcasts``: replies sent to every client (``broadcast=True``);
    - ``target_errors``: packets that could not be sent to the target, or links that could not
      be opened (target down, unreachable);
    - ``replies`` (from the server's counters): packets delivered to WebSocket clients.
    """

    FIELDS: tuple[str, ...] = (
        *WSServerStats.FIELDS,
        "to_target",
        "from_target",
        "broadcasts",
        "target_errors",
    )

    to_target: int
    from_target: int
    broadcasts: int
    target_errors: int


Observer = Callable[[str, str, bytes], Any]


class _BridgeServer(AsyncOSCWSServer):
    """The WebSocket side: packets go to the client's link instead of a dispatcher."""

    def __init__(self, bridge: OscBridge, host: str, port: int, **kwargs: Any) -> None:
        super().__init__(host, port, **kwargs)
        self.stats = BridgeStats()
        self.bridge = bridge

    async def handle_packet(self, peer: WSPeer, packet: bytes) -> None:
        await self.bridge._from_client(peer, packet)

    async def peer_closed(self, peer: WSPeer) -> None:
        await self.bridge._drop_link(peer)


class OscBridge(ServerFront):
    """Relays OSC between WebSocket clients and one UDP/TCP target (see the module docstring).

    ``async with OscBridge("ws://127.0.0.1:8080", "udp://127.0.0.1:57120") as bridge`` listens
    on entry; or ``await bridge.start()`` / ``await bridge.stop()``.  ``mode`` is the TCP
    framing (``"1.0"`` size prefix, as scsynth; ``"1.1"`` SLIP).  Other keywords go to the
    WebSocket server (``max_connections``, ``max_packet_size``, ``text``...).
    """

    def __init__(
        self,
        listen: str = "ws://127.0.0.1:8080",
        target: str = "udp://127.0.0.1:57120",
        *,
        lan: bool = False,
        origins: Sequence[str | None] | None = None,
        broadcast: bool = False,
        mode: str = "1.1",
        on_packet: Observer | None = None,
        **options: Any,
    ) -> None:
        """Check the addresses; nothing is bound until :meth:`start`."""
        if "://" not in listen:
            listen = "ws://" + listen
        where = parse_endpoint(listen, listening=True, default_host="")
        if where.scheme != "ws":
            raise ValueError(f"the bridge listens on ws://host:port, not {listen!r}")
        host, port, path = where.host, where.port, where.path or "/"
        if not host:
            host = "" if lan else "127.0.0.1"
        elif not lan and not is_loopback(host):
            raise ValueError(
                f"listening on {host} opens the synth to the network: pass lan=True"
                " (--lan) to allow it"
            )
        try:
            parse_endpoint(target)
        except EndpointError as exc:
            raise ValueError(f"the bridge's target: {exc}") from None
        self.target = target
        self.mode = mode
        self.broadcast = broadcast
        self.on_packet = on_packet
        self.lan = lan
        self._server = _BridgeServer(
            self, host, port, path=None if path == "/" else path, origins=origins, **options
        )
        self._links: dict[WSPeer, Link | asyncio.Future[Link | None]] = {}

    @property
    def stats(self) -> BridgeStats:
        """The bridge's counters."""
        stats = self._server.stats
        assert isinstance(stats, BridgeStats)
        return stats

    @property
    def clients(self) -> list[WSPeer]:
        """The connected WebSocket clients."""
        return self.peers

    async def start(self) -> None:
        """Start listening (returns at once; the bridge runs on the running loop)."""
        await self._server.listen()
        logger.info("bridging %s <-> %s", self.url, self.target)

    async def stop(self) -> None:
        """Close every client and link, stop listening."""
        await self._server.stop()
        for peer in list(self._links):
            await self._drop_link(peer)

    async def __aenter__(self) -> OscBridge:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def serve_forever(self) -> None:
        """Start and serve until cancelled (for the CLI)."""
        await self.start()
        try:
            await asyncio.Event().wait()
        finally:
            await self.stop()

    def _observe(self, direction: str, peer: str, data: bytes) -> None:
        if self.on_packet is not None:
            try:
                self.on_packet(direction, peer, data)
            except Exception:
                logger.exception("the bridge's on_packet observer raised")

    async def _link_for(self, peer: WSPeer) -> Link | None:
        """The peer's link to the target, opened on its first packet (None if it fails)."""
        existing = self._links.get(peer)
        if isinstance(existing, Link):
            if existing.alive:
                return existing
            await self._drop_link(peer)  # the target closed it (a TCP synth restarted): reopen
            existing = None
        if existing is not None:
            return await existing
        future: asyncio.Future[Link | None] = asyncio.get_running_loop().create_future()
        self._links[peer] = future
        link: Link | None
        try:
            link = await open_link(
                self.target, lambda data: self._from_target(peer, data), mode=self.mode
            )
        except (OSError, ConnectionError, OscError, asyncio.TimeoutError) as exc:
            self.stats.add("target_errors")
            peer.policy.warn("target", "cannot reach the target %s: %s", self.target, exc)
            link = None
        if link is None or peer not in self._links:  # failed, or the client left meanwhile
            self._links.pop(peer, None)
            if link is not None:
                await link.close()
                link = None
        else:
            self._links[peer] = link
        future.set_result(link)
        return link

    async def _from_client(self, peer: WSPeer, packet: bytes) -> None:
        try:
            parse_packet(packet)
        except OscError as exc:
            self.stats.add("malformed")
            peer.policy.warn("malformed", "dropped a malformed OSC packet: %s", exc)
            return
        link = await self._link_for(peer)
        if link is None:
            return
        try:
            await link.send(packet)
        except (OSError, ConnectionError) as exc:
            self.stats.add("target_errors")
            peer.policy.warn("target", "sending to %s failed: %s", self.target, exc)
            await self._drop_link(peer)  # the next packet opens a new link
            return
        self.stats.add("to_target")
        self._observe("in", peer.peer, packet)

    def _from_target(self, peer: WSPeer, data: bytes) -> None:
        self.stats.add("from_target")
        self._observe("out", peer.peer, data)
        if self.broadcast:
            self.stats.add("broadcasts")
            self._server.broadcast([data])
        else:
            peer.send([data])

    async def _drop_link(self, peer: WSPeer) -> None:
        entry = self._links.pop(peer, None)
        if isinstance(entry, Link):
            with contextlib.suppress(Exception):
                await entry.close()

    def __repr__(self) -> str:
        return f"<OscBridge {self.url} <-> {self.target} clients={len(self.clients)}>"
