"""An OSCQuery server: the namespace over HTTP and LISTEN over a WebSocket, on one port.

::

    ns = Namespace()
    ns.add("/fx/reverb", "f", value=[0.3], range=(0.0, 1.0), description="reverb")
    server = OscQueryServer(ns, name="my synth", osc_port=57120).start()
    server.url                                  # "http://127.0.0.1:40123/"
    ns.set_value("/fx/reverb", [0.5])           # LISTEN clients receive /fx/reverb 0.5
    server.close()

HTTP (the Vidvox proposal): ``GET /path`` returns the node and its CONTENTS as JSON,
``GET /path?ATTR`` one attribute (``{}`` when the node does not have it, 204 for ``VALUE`` of a
node that is not readable), ``GET /?HOST_INFO`` the server's HOST_INFO. 404 for an unknown
path, 400 for an unknown attribute or several at once.

WebSocket (same port): text frames ``{"COMMAND": "LISTEN"|"IGNORE", "DATA": "/path"}``
subscribe to exact paths; every value change of a listened path is pushed as one binary frame
holding the OSC message; ``PATH_ADDED`` / ``PATH_REMOVED`` go to every client. Binary frames
from a client are OSC packets, handed to ``on_osc`` (default: each message sets the VALUE of
its node, which LISTEN clients then receive).

The server runs its own asyncio loop in a thread (``osc_live-oscquery:PORT``), so it answers
while a notebook cell blocks. Bounds: ``max_clients`` WebSocket clients (more get 503),
``max_listens`` paths per client, ``queue_size`` frames waiting per client (a client that
falls behind is cut), 64 KiB per incoming frame, HTTP handshakes within ``open_timeout``.
A client breaking a rule (non-JSON text, malformed OSC, too many LISTENs) is disconnected and
counted in :attr:`stats`; others are served. WebSocket connections from web pages are accepted
only from loopback origins unless ``origins`` says otherwise. ``before_request()`` (optional)
runs before each HTTP request and LISTEN is answered: a namespace mirroring something else is
brought up to date there, so what a client reads is what exists when it asks.

Needs ``websockets`` (``pip install osc-live[discovery]``), imported when the server starts.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import json
import logging
import re
import threading
import urllib.parse
from collections.abc import Callable, Sequence
from typing import Any

from osc_live._net import format_address
from osc_live._ws import websockets_module
from osc_live.errors import OscError
from osc_live.osc_message import encode_message
from osc_live.osc_packet import OscPacket
from osc_live.oscquery.model import ATTRIBUTES, EXTENSIONS, HostInfo
from osc_live.oscquery.namespace import Change, Namespace

__all__ = ["OscQueryServer", "ServerStats", "answer"]

_log = logging.getLogger("osc_live.oscquery.server")

MAX_FRAME = 64 * 1024
_PENDING_LIMIT = 10_000
_PHRASES = {200: "OK", 204: "No Content", 400: "Bad Request", 404: "Not Found"}
_LOOPBACK_ORIGIN = re.compile(r"https?://(localhost|127\.\d+\.\d+\.\d+|\[::1\])(:\d+)?")


@dataclasses.dataclass
class ServerStats:
    """What the server did (read at any time; updated on the server thread)."""

    http_requests: int = 0
    http_errors: int = 0
    ws_clients: int = 0
    ws_accepted: int = 0
    ws_refused: int = 0
    ws_cut: int = 0
    listens: int = 0
    pushed: int = 0
    dropped: int = 0
    osc_in: int = 0
    bad_input: int = 0


def answer(namespace: Namespace, host_info: HostInfo, target: str) -> tuple[int, Any]:
    """The reply to ``GET target``: ``(status, JSON object or error text)``. Sans-I/O."""
    parts = urllib.parse.urlsplit(target)
    path = urllib.parse.unquote(parts.path) or "/"
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    names = [item.split("=", 1)[0].upper() for item in parts.query.split("&") if item]
    if "HOST_INFO" in names:
        return 200, host_info.to_json()
    if len(names) > 1:
        return 400, f"one attribute per query, got {', '.join(names)}"
    attribute = names[0] if names else None
    if attribute is not None and attribute not in ATTRIBUTES:
        return 400, f"attribute {attribute} is not supported by this server"
    exists, access, _typed = namespace.node_access(path)
    if not exists:
        return 404, f"no node at {path}"
    if attribute == "VALUE" and access is not None and not access & 1:
        return 204, ""
    data = namespace.to_json(path, attribute)
    if data is None:  # removed in between
        return 404, f"no node at {path}"
    return 200, data


class _Client:
    """One WebSocket client: its connection, LISTENed paths and outgoing queue."""

    def __init__(self, connection: Any, queue_size: int) -> None:
        self.connection = connection
        self.listens: set[str] = set()
        self.queue: asyncio.Queue[str | bytes] = asyncio.Queue(queue_size)
        self.peer = _peer(getattr(connection, "remote_address", None))
        self.cut = False


def _peer(address: Any) -> str:
    if isinstance(address, tuple) and len(address) >= 2:
        return format_address(address[0], address[1])
    return "?"


class OscQueryServer:
    """Serves ``namespace`` over HTTP and WebSocket; see the module documentation."""

    def __init__(
        self,
        namespace: Namespace,
        *,
        name: str = "osc_live",
        host: str = "127.0.0.1",
        port: int = 0,
        osc_port: int | None = None,
        osc_ip: str | None = None,
        osc_transport: str = "UDP",
        on_osc: Callable[[bytes, Any], None] | None = None,
        before_request: Callable[[], None] | None = None,
        max_clients: int = 64,
        max_listens: int = 1024,
        queue_size: int = 1024,
        open_timeout: float = 5.0,
        origins: Sequence[Any] | None = None,
    ) -> None:
        if osc_transport.upper() not in ("UDP", "TCP"):
            raise ValueError(f"osc_transport is UDP or TCP, got {osc_transport!r}")
        self.namespace = namespace
        self.name = name
        self.host = host
        self.requested_port = port
        self.osc_port = osc_port
        self.osc_ip = osc_ip
        self.osc_transport = osc_transport.upper()
        self.on_osc = on_osc if on_osc is not None else self._set_values
        #: called on the server thread before each HTTP request and LISTEN is answered, so a
        #: namespace that mirrors something else (the kernel's controls) is current for it
        self.before_request = before_request
        self.max_clients = max_clients
        self.max_listens = max_listens
        self.queue_size = queue_size
        self.open_timeout = open_timeout
        self.origins = list(origins) if origins is not None else [None, _LOOPBACK_ORIGIN]
        self.stats = ServerStats()
        self.address: tuple[str, int] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._server: Any = None
        self._stop: asyncio.Event | None = None
        self._clients: set[_Client] = set()
        self._by_path: dict[str, set[_Client]] = {}
        self._listened: frozenset[str] = frozenset()
        self._pending: collections.deque[Change] = collections.deque()
        self._pending_lock = threading.Lock()
        self._drain_scheduled = False
        self._unsubscribe: Callable[[], None] | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- lifecycle -------------------------------------------------------------------------

    @property
    def port(self) -> int:
        """The bound TCP port (the one chosen when ``port`` was 0)."""
        if self.address is None:
            raise RuntimeError("the OSCQuery server is not running")
        return self.address[1]

    @property
    def url(self) -> str:
        """``http://host:port/``."""
        host = self.host if self.host not in ("0.0.0.0", "", "::") else "127.0.0.1"
        return f"http://{format_address(host, self.port)}/"

    @property
    def running(self) -> bool:
        """True between :meth:`start` and :meth:`close`."""
        return self._thread is not None and self._thread.is_alive()

    def host_info(self) -> HostInfo:
        """The HOST_INFO this server answers."""
        return HostInfo(
            name=self.name,
            extensions=dict(EXTENSIONS),
            osc_ip=self.osc_ip,
            osc_port=self.osc_port,
            osc_transport=self.osc_transport,
            ws_ip=None,
            ws_port=self.address[1] if self.address else None,
        )

    def start(self, timeout: float = 5.0) -> OscQueryServer:
        """Bind and serve in a thread; returns once the port is open (OSError if it cannot)."""
        if self.running:
            return self
        websockets_module("asyncio.server")  # ImportError naming the extra, before the thread
        ready = threading.Event()
        failure: list[BaseException] = []
        self._thread = threading.Thread(
            target=self._run, args=(ready, failure), name="osc_live-oscquery", daemon=True
        )
        self._thread.start()
        if not ready.wait(timeout):
            self.close()
            raise TimeoutError(f"the OSCQuery server did not start within {timeout} s")
        if failure:
            self._thread.join(timeout)
            self._thread = None
            raise failure[0]
        self._thread.name = f"osc_live-oscquery:{self.port}"
        self._unsubscribe = self.namespace.subscribe(self._changed)
        return self

    def close(self) -> None:
        """Stop serving: close every connection and the port, end the thread (idempotent)."""
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        thread, loop, stop = self._thread, self._loop, self._stop
        if thread is None:
            return
        if loop is not None and stop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stop.set)
        if thread is not threading.current_thread():
            thread.join(10)
        self._thread = None

    def __enter__(self) -> OscQueryServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = self.url if self.running else "closed"
        return f"<OscQueryServer {self.name!r} {state} clients={self.stats.ws_clients}>"

    # -- the thread ------------------------------------------------------------------------

    def _run(self, ready: threading.Event, failure: list[BaseException]) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._main(ready, failure))
            # what is left (closing handshakes of cut clients): finish or cancel it
            pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
            for task in pending:
                task.cancel()
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        finally:
            with contextlib.suppress(Exception):
                loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()
            ready.set()

    async def _main(self, ready: threading.Event, failure: list[BaseException]) -> None:
        from websockets.asyncio.server import serve

        self._stop = asyncio.Event()
        try:
            self._server = await serve(
                self._ws,
                self.host,
                self.requested_port,
                process_request=self._http,
                origins=self.origins,
                compression=None,
                max_size=MAX_FRAME,
                max_queue=16,
                open_timeout=self.open_timeout,
                ping_interval=20,
                ping_timeout=20,
                close_timeout=2,
                server_header="osc_live OSCQuery",
                logger=_log,
            )
        except OSError as exc:
            failure.append(exc)
            ready.set()
            return
        sock = next(iter(self._server.sockets))
        host, port = sock.getsockname()[:2]
        self.address = (str(host), int(port))
        ready.set()
        try:
            await self._stop.wait()
        finally:
            self._server.close()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), 5)

    # -- HTTP ------------------------------------------------------------------------------

    def _http(self, connection: Any, request: Any) -> Any:
        from websockets.datastructures import Headers
        from websockets.http11 import Response

        upgrade = request.headers.get("Upgrade", "")
        if upgrade.lower() == "websocket":
            if len(self._clients) >= self.max_clients:
                self.stats.ws_refused += 1
                return connection.respond(503, "too many WebSocket clients\n")
            return None  # the WebSocket handshake goes on
        self.stats.http_requests += 1
        self._bring_up_to_date()
        status, payload = answer(self.namespace, self.host_info(), request.path)
        if status >= 400:
            self.stats.http_errors += 1
        if isinstance(payload, str):
            body, kind = (payload + "\n").encode() if payload else b"", "text/plain; charset=utf-8"
        else:
            body, kind = json.dumps(payload, allow_nan=False).encode(), "application/json"
        headers = Headers(
            [
                ("Content-Type", kind),
                ("Content-Length", str(len(body))),
                ("Connection", "close"),
                ("Cache-Control", "no-store"),
            ]
        )
        phrase = _PHRASES.get(status, "Error")
        return Response(status, phrase, headers, b"" if status == 204 else body)

    def _bring_up_to_date(self) -> None:
        if self.before_request is not None:
            try:
                self.before_request()
            except Exception:  # answer with what the namespace holds
                _log.exception("OSCQuery: updating the namespace before a request failed")

    # -- WebSocket -------------------------------------------------------------------------

    async def _ws(self, connection: Any) -> None:
        client = _Client(connection, self.queue_size)
        self._clients.add(client)
        self.stats.ws_accepted += 1
        self.stats.ws_clients = len(self._clients)
        writer = asyncio.get_running_loop().create_task(self._writer(client))
        try:
            async for message in connection:
                if client.cut:
                    break
                if isinstance(message, str):
                    self._command(client, message)
                else:
                    self._binary(client, message)
        except Exception as exc:  # a connection error: the client is gone
            _log.debug("WebSocket client %s: %s", client.peer, exc)
        finally:
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
            self._forget(client)

    async def _writer(self, client: _Client) -> None:
        while True:
            frame = await client.queue.get()
            await client.connection.send(frame)

    def _command(self, client: _Client, text: str) -> None:
        try:
            command = json.loads(text)
        except ValueError:
            command = None
        if not isinstance(command, dict) or not isinstance(command.get("COMMAND"), str):
            self._cut(client, 1007, "expected a JSON object with a COMMAND")
            return
        name, data = command["COMMAND"].upper(), command.get("DATA")
        if name not in ("LISTEN", "IGNORE"):
            _log.debug("ignoring unknown command %r from %s", name, client.peer)
            return
        if not isinstance(data, str) or not data.startswith("/"):
            self._cut(client, 1007, f"{name} needs an OSC path in DATA")
            return
        path = data.rstrip("/") or "/"
        if name == "LISTEN":
            if path not in client.listens and len(client.listens) >= self.max_listens:
                self._cut(client, 1008, f"more than {self.max_listens} LISTENed paths")
                return
            self._bring_up_to_date()
            client.listens.add(path)
            self._by_path.setdefault(path, set()).add(client)
            self.stats.listens += 1
        else:
            client.listens.discard(path)
            listeners = self._by_path.get(path)
            if listeners is not None:
                listeners.discard(client)
                if not listeners:
                    del self._by_path[path]
        self._listened = frozenset(self._by_path)

    def _binary(self, client: _Client, data: bytes) -> None:
        try:
            OscPacket(data)
        except OscError as exc:
            self._cut(client, 1007, f"malformed OSC packet: {exc}".splitlines()[0][:100])
            return
        self.stats.osc_in += 1
        try:
            self.on_osc(bytes(data), client.connection.remote_address)
        except Exception:
            _log.exception("on_osc failed for a packet from %s", client.peer)

    def _set_values(self, data: bytes, client_address: Any) -> None:
        """Default ``on_osc``: each message sets the VALUE of its node (if there is one)."""
        for _when, message in OscPacket(data).messages:
            self.namespace.set_value(
                message.address, message.params, type=message.type_tags, packet=message.dgram
            )

    def _cut(self, client: _Client, code: int, reason: str) -> None:
        if client.cut:
            return
        client.cut = True
        self.stats.ws_cut += 1
        self.stats.bad_input += code == 1007
        _log.warning("OSCQuery: disconnecting %s: %s", client.peer, reason)
        task = asyncio.get_running_loop().create_task(client.connection.close(code, reason[:120]))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _forget(self, client: _Client) -> None:
        self._clients.discard(client)
        for path in client.listens:
            listeners = self._by_path.get(path)
            if listeners is not None:
                listeners.discard(client)
                if not listeners:
                    del self._by_path[path]
        client.listens.clear()
        self._listened = frozenset(self._by_path)
        self.stats.ws_clients = len(self._clients)

    # -- namespace changes (any thread) → clients (server thread) ---------------------------

    def _changed(self, change: Change) -> None:
        if change.kind == "value" and change.path not in self._listened:
            return
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        with self._pending_lock:
            if len(self._pending) >= _PENDING_LIMIT:
                self.stats.dropped += 1
                return
            self._pending.append(change)
            if self._drain_scheduled:
                return
            self._drain_scheduled = True
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            loop.call_soon_threadsafe(self._drain)

    def _drain(self) -> None:
        with self._pending_lock:
            changes = list(self._pending)
            self._pending.clear()
            self._drain_scheduled = False
        for change in changes:
            if change.kind == "value":
                self._push_value(change)
            else:
                self._push_structure(change)

    def _push_value(self, change: Change) -> None:
        listeners = self._by_path.get(change.path)
        if not listeners:
            return
        packet = change.packet
        if packet is None:
            try:
                packet = encode_message(change.path, list(change.value), change.type)
            except (OscError, ValueError, TypeError) as exc:
                _log.debug("cannot push %s %r: %s", change.path, change.value, exc)
                return
        for client in list(listeners):
            self._enqueue(client, packet)

    def _push_structure(self, change: Change) -> None:
        command = "PATH_ADDED" if change.kind == "added" else "PATH_REMOVED"
        text = json.dumps({"COMMAND": command, "DATA": change.path})
        if change.kind == "removed":
            prefix = change.path.rstrip("/") + "/"
            for path in [p for p in self._by_path if p == change.path or p.startswith(prefix)]:
                for client in self._by_path.pop(path):
                    client.listens.discard(path)
            self._listened = frozenset(self._by_path)
        for client in list(self._clients):
            self._enqueue(client, text)

    def _enqueue(self, client: _Client, frame: str | bytes) -> None:
        if client.cut:
            return
        try:
            client.queue.put_nowait(frame)
            self.stats.pushed += 1
        except asyncio.QueueFull:
            self._cut(client, 1008, f"more than {self.queue_size} frames waiting: too slow")
