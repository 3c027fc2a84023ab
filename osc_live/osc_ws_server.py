"""OSC servers over WebSocket: one binary WebSocket message per OSC packet (osc.js convention).

- :class:`AsyncOSCWSServer` -- asyncio; every connection in the running loop.
- :class:`BlockingOSCWSServer` -- ``serve_forever()`` in the calling thread (the same server on
  a private event loop); handlers run one at a time there, ``shutdown()`` from another thread.

Both take ``(server_address, port, dispatcher)`` like :class:`~osc_live.osc_tcp_server.
AsyncOSCTCPServer` and keyword options: ``path`` (only this request path is served; ``None``:
any), ``origins`` (allowed ``Origin`` header values; ``None``: any; include ``None`` in the list
to also allow clients that send no origin, such as non-browser ones), ``limits``
(:class:`~osc_live._ws.WSLimits`, or the stream servers' :class:`~osc_live._limits.Limits`) or
the limits' fields themselves (``max_packet_size=``, ``max_connections=``, ``text="json"``...).
Needs the extra ``osc-live[websocket]``.

Behaviour, shared with the TCP servers:

- handler return values (``"/addr"`` or ``("/addr", *args)``) go back on the same connection,
  one binary message each -- also those of future-dated bundles, scheduled by the dispatcher;
- a hostile peer is cut and counted in :attr:`stats` (:class:`~osc_live._ws.WSServerStats`)
  while the others are served: a text frame (close 1003 with a reason; or read as osc.js JSON
  with ``text="json"``), a binary message that is no OSC packet (1003), a message over
  ``max_packet_size`` (1009), a WebSocket protocol error (1002), a peer that stops answering
  pings or stops reading its replies; each is logged once per peer at WARNING on
  ``osc_live.websocket``.  Malformed OSC (the right shape, bad content) is counted by the
  dispatcher (``parse_errors``) and dropped, as over TCP;
- connections beyond ``max_connections`` (or ``max_connections_per_host`` from one address) are
  refused during the handshake (HTTP 503), counted in ``refused``; bytes a connection holds
  (the message being handled, replies queued) count against ``max_buffered`` and
  ``max_buffered_total`` (cut, ``over_buffer``), as over TCP;
- with no address the servers bind ``127.0.0.1`` on a free port (:attr:`port`).
"""

from __future__ import annotations

import asyncio
import contextlib
import http
import logging
import threading
from collections import deque
from collections.abc import Iterable, Sequence
from typing import Any

from osc_live._limits import ConnectionGate, Limits, PeerLog, Ticket
from osc_live._net import DEFAULT_BIND_HOST, format_address, strip_brackets
from osc_live._serving import AsyncServing
from osc_live._ws import Cut, PeerPolicy, WSLimits, WSServerStats, websockets_module
from osc_live.dispatcher import Dispatcher

__all__ = [
    "AsyncOSCWSServer",
    "BlockingOSCWSServer",
    "ServerFront",
    "WSLimits",
    "WSPeer",
    "WSServerStats",
]

logger = logging.getLogger("osc_live.websocket")

MAX_PENDING_REPLIES = 1024
"""Reply packets queued per connection behind a slow peer; more are dropped and counted."""


class WSPeer:
    """One WebSocket connection of a server: where it came from, and a way to send to it.

    :meth:`send` may be called from any thread; packets go out in order, at most
    :data:`MAX_PENDING_REPLIES` wait behind a peer that reads slowly (more are dropped and
    counted in ``replies_dropped``), and a send that waits longer than ``send_timeout`` cuts
    the peer (``send_timeouts``).
    """

    def __init__(
        self,
        connection: Any,
        policy: PeerPolicy,
        loop: asyncio.AbstractEventLoop,
        ticket: Ticket | None = None,
    ) -> None:
        self.connection = connection
        self.policy = policy
        self.loop = loop
        self.ticket = ticket
        self.pending_bytes = 0
        remote = connection.remote_address
        self.client_address: Any = tuple(remote) if remote else ("", 0)
        self.peer = policy.peer
        request = getattr(connection, "request", None)
        headers = getattr(request, "headers", None)
        self.origin: str | None = headers.get("Origin") if headers is not None else None
        self.path: str = getattr(request, "path", "/") or "/"
        self.open = True
        self._pending: deque[bytes] = deque()
        self._writer: asyncio.Task[None] | None = None

    def send(self, packets: Iterable[bytes]) -> None:
        """Queue OSC packets for this peer (any thread)."""
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is not self.loop:
            items = list(packets)
            with contextlib.suppress(RuntimeError):  # the loop is closed: nothing to send to
                self.loop.call_soon_threadsafe(self.send, items)
            return
        stats = self.policy.stats
        for data in packets:
            if not self.open or len(self._pending) >= MAX_PENDING_REPLIES:
                stats.add("replies_dropped")
                continue
            self._pending.append(data)
            self.pending_bytes += len(data)
        if not self.hold(0):
            return
        if self._pending and self._writer is None:
            self._writer = self.loop.create_task(self._write(), name=f"osc_live ws {self.peer}")

    async def _write(self) -> None:
        connection = self.connection
        stats = self.policy.stats
        timeout = self.policy.limits.send_timeout
        wsexc = websockets_module("exceptions")
        try:
            while self._pending and self.open:
                data = self._pending.popleft()
                self.pending_bytes -= len(data)
                try:
                    await asyncio.wait_for(connection.send(data), timeout)
                except asyncio.TimeoutError:
                    stats.add("send_timeouts")
                    self.policy.warn("send_timeout", "cut: it does not read its replies (%s s)",
                                     timeout)  # fmt: skip
                    self.abort()
                    return
                except wsexc.ConnectionClosed:
                    stats.add("replies_dropped", 1 + len(self._pending))
                    self._pending.clear()
                    return
                stats.add("replies")
        finally:
            self._writer = None

    def hold(self, extra: int) -> bool:
        """Tell the byte budget what this peer holds (replies queued + ``extra``); False (and
        the connection is cut) when that is over ``max_buffered`` or ``max_buffered_total``."""
        if self.ticket is None or not self.open:
            return self.open
        if self.ticket.hold(self.pending_bytes + extra, self.peer) is None:
            return True
        self.abort()
        return False

    def reply(self, results: Sequence[Any], dispatcher: Dispatcher) -> None:
        """Send handler ``results`` back as OSC messages (any thread)."""
        if results:
            self.send(dispatcher.encode_replies(results))

    def abort(self) -> None:
        """Drop the connection at once (no closing handshake)."""
        self.open = False
        transport = getattr(self.connection, "transport", None)
        if transport is not None:
            transport.abort()

    async def close(self) -> None:
        """Wait for the reply writer to finish (the connection is closing)."""
        self.open = False
        if self.ticket is not None:
            self.ticket.release()
        writer = self._writer
        if writer is not None:
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await writer

    def __repr__(self) -> str:
        return f"<WSPeer {self.peer} origin={self.origin!r}>"


class AsyncOSCWSServer(AsyncServing):
    """asyncio OSC-over-WebSocket server (see the module docstring).

    ``async with AsyncOSCWSServer(...) as server`` listens on entry (:attr:`port` is known at
    once) and stops on exit; ``await server.start()`` serves until :meth:`stop`.
    Subclasses may override :meth:`handle_packet` (the bridge does) and
    :meth:`peer_closed`.
    """

    def __init__(
        self,
        server_address: str | None = DEFAULT_BIND_HOST,
        port: int = 0,
        dispatcher: Dispatcher | None = None,
        *,
        path: str | None = None,
        origins: Sequence[str | None] | None = None,
        limits: WSLimits | Limits | None = None,
        **options: Any,
    ) -> None:
        """Remember the settings; nothing is bound until :meth:`listen` / :meth:`start`."""
        websockets_module()  # fail now, with the install hint, rather than at listen()
        self._host = strip_brackets(
            server_address if server_address is not None else DEFAULT_BIND_HOST
        )
        self._port = port
        self._path = path
        self._origins = list(origins) if origins is not None else None
        self.limits = WSLimits.build(limits, **options)
        self._owns_dispatcher = dispatcher is None
        self._dispatcher = dispatcher if dispatcher is not None else Dispatcher()
        self.stats: WSServerStats = WSServerStats()
        self._log = PeerLog(logger)
        self._gate = ConnectionGate(self.limits.stream, self.stats, self._log)
        self._tickets: dict[Any, Ticket] = {}
        self._server: Any = None
        self._peers: dict[Any, WSPeer] = {}

    @property
    def dispatcher(self) -> Dispatcher:
        """The dispatcher handling the packets of every connection."""
        return self._dispatcher

    @property
    def peers(self) -> list[WSPeer]:
        """The open connections."""
        return list(self._peers.values())

    @property
    def server_address(self) -> tuple[Any, ...]:
        """``(host, port, ...)`` actually bound (after :meth:`listen`)."""
        if self._server is None or not self._server.sockets:
            return (self._host, self._port)
        return tuple(self._server.sockets[0].getsockname())

    @property
    def port(self) -> int:
        """The port actually bound (after :meth:`listen`)."""
        return int(self.server_address[1])

    @property
    def url(self) -> str:
        """``ws://host:port/path`` of the server (after :meth:`listen`)."""
        return f"ws://{format_address(*self.server_address[:2])}{self._path or '/'}"

    def _process_request(self, connection: Any, request: Any) -> Any:
        """Refuse a handshake for another path or beyond the connection limits (the gate
        counts and logs those)."""
        remote = connection.remote_address or ("?", 0)
        host, peer = str(remote[0]), format_address(*remote[:2])
        if self._path is not None and request.path.split("?", 1)[0] != self._path:
            self.stats.add("refused")
            self._log.warn(host, "path", "%s: refused: path %r is not served", peer, request.path)
            return connection.respond(http.HTTPStatus.NOT_FOUND, f"OSC is served on {self._path}\n")
        ticket = self._gate.admit(host, peer)
        if ticket is None:
            return connection.respond(
                http.HTTPStatus.SERVICE_UNAVAILABLE, "too many OSC WebSocket connections\n"
            )
        self._tickets[connection] = ticket
        return None

    def _process_response(self, connection: Any, request: Any, response: Any) -> Any:
        """A handshake refused after admission (a forbidden origin: 403) frees its slot."""
        if response.status_code == http.HTTPStatus.SWITCHING_PROTOCOLS:
            return None
        ticket = self._tickets.pop(connection, None)
        if ticket is not None:
            ticket.release()
            remote = connection.remote_address or ("?", 0)
            self.stats.add("refused")
            self._log.warn(
                str(remote[0]), "origin", "%s: refused (%d): origin %r is not allowed",
                format_address(*remote[:2]), response.status_code, request.headers.get("Origin"),
            )  # fmt: skip
        return None

    async def listen(self) -> None:
        """Open the listening socket and start accepting (idempotent)."""
        if self._server is not None:
            return
        self._serving()
        serve = websockets_module("asyncio.server").serve
        self._server = await serve(
            self._connection,
            self._host or None,
            self._port,
            origins=self._origins,
            process_request=self._process_request,
            process_response=self._process_response,
            server_header=None,
            logger=logging.getLogger("osc_live.websocket.protocol"),
            **self.limits.serve_kwargs(),
        )
        logger.debug("serving OSC over WebSocket on %s", self.url)

    async def _connection(self, connection: Any) -> None:
        """Serve one connection (websockets calls this after the handshake)."""
        loop = asyncio.get_running_loop()
        remote = connection.remote_address
        peer_name = format_address(*remote[:2]) if remote else "?"
        host = str(remote[0]) if remote else "?"
        policy = PeerPolicy(self.limits, self.stats, self._log, host, peer_name)
        peer = WSPeer(connection, policy, loop, self._tickets.pop(connection, None))
        wsexc = websockets_module("exceptions")
        self._peers[connection] = peer
        self.stats.add("connections")
        self.stats.add("active")
        ended: BaseException | None = None
        try:
            while True:
                try:
                    message = await connection.recv()
                except wsexc.ConnectionClosedOK:
                    break
                except wsexc.ConnectionClosed as exc:
                    ended = exc
                    break
                try:
                    packet = policy.packet(message)
                except Cut as cut:
                    await connection.close(cut.code, cut.reason)
                    break
                if not peer.hold(len(packet)):
                    break
                try:
                    await self.handle_packet(peer, packet)
                except Exception:
                    self.stats.add("handler_errors")
                    logger.exception("%s: an OSC handler raised", peer_name)
        finally:
            policy.closed(ended)
            self._peers.pop(connection, None)
            self.stats.add("active", -1)
            await peer.close()
            await self.peer_closed(peer)

    async def handle_packet(self, peer: WSPeer, packet: bytes) -> None:
        """Dispatch one OSC packet of ``peer``; replies go back to it."""
        dispatcher = self._dispatcher

        def reply(results: list[Any]) -> None:
            peer.reply(results, dispatcher)

        results = await dispatcher.async_call_handlers_for_packet(
            packet, peer.client_address, reply=reply
        )
        if results:
            peer.reply(results, dispatcher)

    async def peer_closed(self, peer: WSPeer) -> None:
        """Called when a connection has ended (for subclasses)."""

    def broadcast(self, packets: Sequence[bytes]) -> None:
        """Send ``packets`` to every open connection."""
        for peer in list(self._peers.values()):
            peer.send(packets)

    async def stop(self) -> None:
        """Stop listening and close every connection (1001 going away)."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), (self.limits.close_timeout or 2) + 1)
        self._served()
        if self._owns_dispatcher:
            self._dispatcher.close()


class ServerFront:
    """The read-only faces of a class that runs an :class:`AsyncOSCWSServer` as ``_server``
    (the blocking server, the bridge)."""

    _server: AsyncOSCWSServer

    @property
    def stats(self) -> WSServerStats:
        """The server's counters."""
        return self._server.stats

    @property
    def server_address(self) -> tuple[Any, ...]:
        """``(host, port, ...)`` bound (after it listens)."""
        return self._server.server_address

    @property
    def port(self) -> int:
        """The WebSocket port bound (after it listens)."""
        return self._server.port

    @property
    def url(self) -> str:
        """``ws://host:port/path`` the clients connect to (after it listens)."""
        return self._server.url

    @property
    def peers(self) -> list[WSPeer]:
        """The connected WebSocket clients."""
        return self._server.peers


class BlockingOSCWSServer(ServerFront):
    """OSC over WebSocket for code without asyncio: ``serve_forever()`` blocks its thread.

    The server runs on a private event loop in the thread that calls :meth:`serve_forever`;
    handlers run there one at a time (as :class:`~osc_live.osc_tcp_server.BlockingOSCTCPServer`
    handles one connection at a time).  :meth:`shutdown` (any thread) makes it return;
    :meth:`server_close` closes it.  The socket is bound in the constructor, so :attr:`port`
    is known at once (as socketserver).  Arguments as :class:`AsyncOSCWSServer`, with
    ``server_address`` a ``(host, port)`` pair.
    """

    def __init__(
        self,
        server_address: tuple[str | None, int] = (DEFAULT_BIND_HOST, 0),
        dispatcher: Dispatcher | None = None,
        **kwargs: Any,
    ) -> None:
        """Bind now (on a private loop); serve in :meth:`serve_forever`."""
        self._loop = asyncio.new_event_loop()
        host, port = server_address
        self._server = AsyncOSCWSServer(host, port, dispatcher, **kwargs)
        self._shutdown = threading.Event()
        self._wake: asyncio.Event | None = None
        self._done = threading.Event()
        self._done.set()
        self._closed = False
        try:
            self._loop.run_until_complete(self._server.listen())
        except BaseException:
            self._loop.close()
            raise

    @property
    def dispatcher(self) -> Dispatcher:
        """The dispatcher handling the packets."""
        return self._server.dispatcher

    def serve_forever(self, poll_interval: float = 0.5) -> None:
        """Serve until :meth:`shutdown` (``poll_interval`` is accepted for socketserver's API)."""
        if self._closed:
            raise OSError("this server is closed; create a new one to serve again")
        self._done.clear()
        self._shutdown.clear()
        try:
            self._loop.run_until_complete(self._serve_until_shutdown())
        finally:
            self._done.set()

    async def _serve_until_shutdown(self) -> None:
        self._wake = asyncio.Event()
        if not self._shutdown.is_set():
            await self._wake.wait()

    def shutdown(self) -> None:
        """Make :meth:`serve_forever` return (call from another thread); wait for it."""
        self._shutdown.set()
        wake = self._wake
        if wake is not None and not self._done.is_set():
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(wake.set)
        self._done.wait()

    def server_close(self) -> None:
        """Close every connection and the listening socket."""
        if self._closed:
            return
        self._closed = True
        self.shutdown()
        try:
            self._loop.run_until_complete(self._server.stop())
            self._loop.run_until_complete(self._loop.shutdown_asyncgens())
        finally:
            self._loop.close()

    def __enter__(self) -> BlockingOSCWSServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.server_close()
