"""The kernel-wide OSC session behind ``%osc`` and the widgets.

One :class:`OscSession` per kernel (:func:`session`) owns every target, listener, the virtual
synth and the live outputs (monitor, plot). Everything received goes through
:attr:`OscSession.dispatcher` (users and widgets ``map`` on it); everything sent goes through
:meth:`Target.send_message` / :meth:`Target.send`, so the traffic table counts both directions.

Event loop: in a Jupyter kernel the session uses the kernel's running asyncio loop (listeners
run between cells and during ``await``); with no running loop (terminal IPython, tests, scripts)
it starts a private loop in a thread named ``osc_live-loop``. ``close("all")`` stops it.

Live outputs never print from callbacks: a :class:`LiveView` is shown once with a display id and
refreshed with ``DisplayHandle.update`` at most ``refresh_hz`` (≤ 10) times a second, from a
``loop.call_later`` timer. Counters are updated on every message; only frames are skipped.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import io
import ipaddress
import logging
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from osc_live.dispatcher import Dispatcher
from osc_live.errors import ParseError
from osc_live.magics.traffic import Traffic, TrafficRow, pattern_regex
from osc_live.magics.views import LiveView, LogView, MonitorView, PlotView
from osc_live.osc_bundle import OscBundle
from osc_live.osc_message import OscMessage

__all__ = [
    "Listener",
    "LiveView",
    "LogView",
    "MonitorView",
    "OscSession",
    "PlotView",
    "SessionOptions",
    "Target",
    "Traffic",
    "TrafficRow",
    "enable_nested_asyncio",
    "pattern_regex",
    "session",
]

logger = logging.getLogger("osc_live.live")
T = TypeVar("T")
MAX_REFRESH_HZ = 10.0


# ------------------------------------------------------------------------------------------
# asyncio plumbing


def enable_nested_asyncio(loop: asyncio.AbstractEventLoop | None = None) -> bool:
    """Let ``asyncio.run`` / ``run_until_complete`` work inside a running loop (a notebook).

    Applies ``nest_asyncio2`` to ``loop`` (default: the running loop) once. Returns True when
    the loop is (now) re-entrant, False when there is no running loop or nest_asyncio2 is
    missing. ``%load_ext osc_live`` calls it; the protocol modules never do.
    """
    if loop is None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return False
    if getattr(loop, "_nest_patched", False):
        return True
    try:
        import nest_asyncio2
    except ImportError:  # pragma: no cover - a dependency of ipykernel 7.4 and of [notebook]
        logger.warning("nest_asyncio2 is not installed: asyncio.run() in a cell will fail")
        return False
    nest_asyncio2.apply(loop)
    return True


class _LoopRunner:
    """The session's event loop: the running (kernel) loop, or a private one in a thread."""

    def __init__(self) -> None:
        try:
            self.loop = asyncio.get_running_loop()
            self.thread: threading.Thread | None = None
            self.owner_thread = threading.current_thread()
        except RuntimeError:
            self.loop = asyncio.new_event_loop()
            ready = threading.Event()
            self.thread = threading.Thread(
                target=self._serve, args=(ready,), name="osc_live-loop", daemon=True
            )
            self.owner_thread = self.thread
            self.thread.start()
            ready.wait(5)

    def _serve(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(ready.set)
        self.loop.run_forever()
        # drain what close() cancelled, then free the loop's resources
        pending = [t for t in asyncio.all_tasks(self.loop) if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        self.loop.close()

    @property
    def in_loop_thread(self) -> bool:
        """True when called from the thread that runs the loop."""
        return threading.current_thread() is self.owner_thread

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 10.0) -> T:
        """Run ``coro`` on the session loop from synchronous code and return its result."""
        if self.in_loop_thread:
            if self.loop.is_running():
                enable_nested_asyncio(self.loop)
            return self.loop.run_until_complete(asyncio.wait_for(coro, timeout))
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise TimeoutError(f"timed out after {timeout} s") from None

    def call_soon(self, func: Callable[..., Any], *args: Any) -> None:
        """Schedule ``func(*args)`` on the loop, from any thread."""
        if self.loop.is_closed():
            return
        if self.thread is None and self.in_loop_thread:
            self.loop.call_soon(func, *args)
        else:
            self.loop.call_soon_threadsafe(func, *args)

    def close(self) -> None:
        """Stop the private loop thread (the kernel's loop is left alone)."""
        if self.thread is None or self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        if threading.current_thread() is not self.thread:
            self.thread.join(5)
        self.thread = None


# ------------------------------------------------------------------------------------------
# options


@dataclass
class SessionOptions:
    """Settings of the session; ``%config OscLive.<name> = value`` sets them in a notebook."""

    default_target: str = ""
    throttle_hz: float = 60.0
    float_type: str = "f"
    refresh_hz: float = MAX_REFRESH_HZ
    listen_host: str = "127.0.0.1"
    plot_points: int = 200
    monitor_rows: int = 50


# ------------------------------------------------------------------------------------------
# targets and listeners


class Target:
    """Where ``%osc send`` goes: UDP (through one of the session's reply ports) or TCP.

    ``synth`` is True for a target of the virtual synth; it then keeps the
    :class:`~osc_live.synth.VirtualSynth` it points at (``synth_instance``), and sending once
    that synth has stopped raises a one-line ``ConnectionError`` instead of talking to a port
    nobody listens on (``OscSession.close("synth")`` also closes such targets).
    """

    def __init__(
        self,
        owner: OscSession,
        name: str,
        url: str,
        kind: str,
        sockaddr: tuple[Any, ...],
        mode: str = "1.1",
        client: Any = None,
        synth: bool = False,
        *,
        reply_key: tuple[int, str] | None = None,
        synth_instance: Any = None,
    ) -> None:
        self.owner = owner
        self.name = name
        self.url = url
        self.kind = kind
        self.mode = mode
        self.sockaddr = sockaddr
        self.synth = synth
        self.synth_instance = synth_instance
        self.reply_key = reply_key
        self._client = client
        self._reader: threading.Thread | None = None
        self.sent = 0
        self.closed = False

    @property
    def local_address(self) -> tuple[Any, ...] | None:
        """The local ``(host, port)`` this target sends from (UDP: the session reply port
        replies come back to; TCP: the connected socket); None when closed."""
        if self.closed:
            return None
        if self.kind == "udp":
            server = self.owner._reply_ports.get(self.reply_key) if self.reply_key else None
            if server is None or server.transport is None:
                return None
            return tuple(server.server_address)
        sock = getattr(self._client, "socket", None)
        if sock is None:
            return None
        with contextlib.suppress(OSError):
            return tuple(sock.getsockname())
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
        """Send a message or a bundle (every send of the session comes through here)."""
        if self.closed:
            raise ConnectionError(f"target {self.name!r} is closed")
        synth = self.synth_instance
        if synth is not None and not synth.running:
            raise ConnectionError(
                f"target {self.name!r} points at a virtual synth that was closed"
                " (%osc connect starts a new one)"
            )
        data = content.dgram
        if self.kind == "udp":
            self.owner._send_udp(data, self.sockaddr, self.reply_key)
        else:
            self._client.send(content)
        self.sent += 1
        self.owner._record_sent(content, self)

    def close(self) -> None:
        """Close the connection (TCP); UDP targets share the session's socket."""
        self.closed = True
        if self._client is not None:
            with contextlib.suppress(OSError):
                self._client.close()
            self._client = None

    def __repr__(self) -> str:
        return f"<Target {self.name} {self.url}>"


class Listener:
    """A receiver feeding the session dispatcher (UDP or TCP, on the loop or in a thread)."""

    def __init__(
        self,
        name: str,
        url: str,
        kind: str,
        threaded: bool,
        server: Any,
        close: Callable[[], None],
        address: tuple[Any, ...],
    ) -> None:
        self.name = name
        self.url = url
        self.kind = kind
        self.threaded = threaded
        self.server = server
        self.address = address
        self._close = close
        self.closed = False

    @property
    def port(self) -> int:
        """The bound port (useful with port 0)."""
        return int(self.address[1])

    def close(self) -> None:
        """Stop receiving and free the port."""
        if not self.closed:
            self.closed = True
            self._close()

    def __repr__(self) -> str:
        how = "thread" if self.threaded else "loop"
        return f"<Listener {self.name} {self.url} ({how})>"


def _peer(address: Any) -> str:
    if isinstance(address, tuple) and len(address) >= 2:
        host = str(address[0])
        return f"[{host}]:{address[1]}" if ":" in host else f"{host}:{address[1]}"
    return str(address) if address else "?"


def _flatten(content: OscMessage | OscBundle) -> Iterable[OscMessage]:
    if isinstance(content, OscMessage):
        yield content
    else:
        for item in content:
            yield from _flatten(item)


_LOOPBACK = {socket.AF_INET: "127.0.0.1", socket.AF_INET6: "::1"}
_WILDCARD = {socket.AF_INET: "0.0.0.0", socket.AF_INET6: "::"}


def _ip(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """``host`` as an IP address (zone and brackets ignored), None for a name."""
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


def _is_loopback(host: str) -> bool:
    ip = _ip(host)
    return ip is not None and ip.is_loopback


def _url(scheme: str, host: str, port: int) -> str:
    return f"{scheme}://{_peer((host, port))}"


class _SessionDispatcher(Dispatcher):
    """The session's Dispatcher: counts every packet for the monitor from the one parse the
    dispatch itself does (no second parse), through the public packet hooks.

    :meth:`Dispatcher.packet_parsed` records each packet that parsed on arrival (before its
    handlers, future-dated bundle messages included); :meth:`Dispatcher.packet_rejected`
    counts malformed ones.
    """

    def __init__(self, owner: OscSession) -> None:
        super().__init__()
        self._owner = owner

    def packet_parsed(
        self, timed_messages: Sequence[tuple[float, OscMessage]], client_address: Any
    ) -> None:
        self._owner._tap([message for _, message in timed_messages], client_address)

    def packet_rejected(self, exc: ParseError, data: Any, client_address: Any) -> None:
        self._owner.traffic.add("errors")


# ------------------------------------------------------------------------------------------
# the session


def _serve_in_thread(server: Any, name: str) -> Callable[[], None]:
    """Run a socketserver-style ``server`` in a daemon thread; return what stops and closes it."""
    worker = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, name=name, daemon=True
    )
    worker.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()
        worker.join(5)

    return stop


class OscSession:
    """Targets, listeners, the virtual synth, the dispatcher and the live views of a kernel."""

    def __init__(self, options: SessionOptions | None = None) -> None:
        self.options = options or SessionOptions()
        self.dispatcher: Dispatcher = _SessionDispatcher(self)
        self.traffic = Traffic()
        self.targets: dict[str, Target] = {}
        self.listeners: dict[str, Listener] = {}
        self.views: list[LiveView] = []
        self.synth: Any = None
        self.handler_errors: deque[str] = deque(maxlen=20)
        self.mapped: dict[str, list[Any]] = {}
        #: called as ``hook(content, target)`` after every send (widgets count sends here)
        self.send_hooks: list[Callable[[OscMessage | OscBundle, Target], None]] = []
        self.live_display = False
        self._default: str | None = None
        self._runner: _LoopRunner | None = None
        #: (family, bound host) -> the AsyncIOOSCUDPServer UDP targets send from
        self._reply_ports: dict[tuple[int, str], Any] = {}
        self._reply_lock = threading.RLock()
        self._refresh_pending = False
        self._last_refresh = 0.0
        self._plots_for: dict[str, list[PlotView]] = {}
        self._lock = threading.RLock()

    # -- loop ------------------------------------------------------------------------------

    @property
    def runner(self) -> _LoopRunner:
        """The session's loop (created on first use)."""
        if self._runner is None or self._runner.loop.is_closed():
            self._runner = _LoopRunner()
        return self._runner

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The asyncio loop listeners run on."""
        return self.runner.loop

    # -- targets ---------------------------------------------------------------------------

    def connect(self, url: str | None = None, name: str | None = None, mode: str = "1.1") -> Target:
        """Add a target and make it the default. ``url`` None: the virtual synth over UDP;
        ``"udp://h:p"``, ``"tcp://h:p"`` (``mode`` "1.0"/"1.1"), ``"tcp://synth"``."""
        from osc_live.magics.grammar import parse_endpoint

        endpoint = parse_endpoint(url or "udp://synth")
        if endpoint.is_synth:
            synth = self.start_synth()
            host, port = synth.udp_address if endpoint.scheme == "udp" else synth.tcp_address
            name = name or "synth"
        else:
            host, port = endpoint.host, endpoint.port
            name = name or f"{endpoint.scheme}:{_peer((host, port))}"
        with self._lock:
            if name in self.targets:
                self.targets.pop(name).close()
        synth_instance = self.synth if endpoint.is_synth else None
        if endpoint.scheme == "udp":
            family, sockaddr = self._resolve(host, port)
            key = (family, self._reply_host(family, str(sockaddr[0])))
            self._ensure_reply_port(*key)
            url = _url("udp", host, port) + (" (virtual synth)" if endpoint.is_synth else "")
            target = Target(
                self,
                name,
                url,
                "udp",
                sockaddr,
                synth=endpoint.is_synth,
                reply_key=key,
                synth_instance=synth_instance,
            )
        else:
            target = self._connect_tcp(name, host, port, mode, endpoint.is_synth)
            target.synth_instance = synth_instance
        with self._lock:
            self.targets[name] = target
            self._default = name
        return target

    def _connect_tcp(self, name: str, host: str, port: int, mode: str, synth: bool) -> Target:
        """A TCP target; a reader thread feeds what the peer sends back to the dispatcher."""
        from osc_live.tcp_client import SimpleTCPClient

        client = SimpleTCPClient(host, port, mode=mode)
        url = _url("tcp", host, port) + f" (OSC {mode}{', virtual synth' if synth else ''})"
        target = Target(self, name, url, "tcp", (host, port), mode, client, synth=synth)
        runner = self.runner
        peer = (host, port)

        def read_replies() -> None:
            while not target.closed:
                try:
                    packets = client.receive_raw(timeout=0.2)
                except (OSError, ValueError):
                    return
                for packet in packets:
                    runner.call_soon(self.dispatcher.call_handlers_for_packet, packet, peer)

        target._reader = threading.Thread(
            target=read_replies, name=f"osc_live-tcp-replies:{name}", daemon=True
        )
        target._reader.start()
        return target

    @staticmethod
    def _resolve(host: str, port: int) -> tuple[socket.AddressFamily, tuple[Any, ...]]:
        """``(family, sockaddr)`` of a UDP target: IPv4 preferred for names (``localhost`` is
        127.0.0.1), IPv6 for IPv6 literals (``::1``, ``fe80::1%eth0``)."""
        try:
            infos = socket.getaddrinfo(host, port, socket.AF_UNSPEC, socket.SOCK_DGRAM)
        except socket.gaierror as exc:
            raise OSError(f"cannot resolve {host!r}: {exc.strerror}") from None
        infos = [i for i in infos if i[0] in (socket.AF_INET, socket.AF_INET6)]
        if not infos:
            raise OSError(f"cannot resolve {host!r}: no IPv4 or IPv6 address")
        infos.sort(key=lambda info: info[0] != socket.AF_INET)
        return infos[0][0], tuple(infos[0][4])

    def _reply_host(self, family: socket.AddressFamily, dest: str) -> str:
        """The host the reply port for ``dest`` binds: loopback (127.0.0.1 / ::1) for a
        loopback ``dest``; otherwise ``listen_host`` when it is a non-loopback address of the
        family (an interface's address, or 0.0.0.0 / ::), else the family's wildcard."""
        if _is_loopback(dest):
            return _LOOPBACK[family]
        configured = self.options.listen_host
        ip = _ip(configured) if configured else None
        if ip is not None and not ip.is_loopback:
            want = 6 if family == socket.AF_INET6 else 4
            if ip.version == want:
                return configured.strip("[]")
        return _WILDCARD[family]

    def target(self, name: str | None = None) -> Target:
        """A target by name; None: the default (``%config OscLive.default_target`` or the last
        connected). Raises LookupError with a one-line message when there is none."""
        with self._lock:
            if name is None:
                name = self.options.default_target or self._default
                if name is None or name not in self.targets:
                    if not self.targets:
                        raise LookupError("no target: %osc connect [udp://host:port] first")
                    name = next(reversed(self.targets))
            if name not in self.targets:
                known = ", ".join(self.targets) or "none"
                raise LookupError(f"no target named {name!r} (targets: {known})")
            return self.targets[name]

    @property
    def default_target_name(self) -> str | None:
        """Name of the target used when none is given."""
        try:
            return self.target().name
        except LookupError:
            return None

    def start_synth(self) -> Any:
        """Start (once) and return the embedded :class:`~osc_live.synth.VirtualSynth`."""
        from osc_live.synth import VirtualSynth

        with self._lock:
            if self.synth is None or not self.synth.running:
                self.synth = VirtualSynth(on_message=self._synth_saw).start()
            return self.synth

    def _synth_saw(self, item: Any) -> None:
        self.traffic.record(
            "synth", item.address, item.source, item.type_tags, item.args, time.time()
        )
        self._mark_dirty(item.address, item.args, "synth")

    # -- sending ---------------------------------------------------------------------------

    def _ensure_reply_port(
        self, family: socket.AddressFamily = socket.AF_INET, host: str = "127.0.0.1"
    ) -> Any:
        """The UDP socket UDP targets of ``family`` send from, bound to ``host`` on an
        ephemeral port (one per family and host, shared by the targets); replies to it
        reach the dispatcher. Loopback unless a target is not (see :meth:`_reply_host`)."""
        key = (int(family), host)
        with self._reply_lock:
            server = self._reply_ports.get(key)
            if server is None or server.transport is None:
                from osc_live.osc_server import AsyncIOOSCUDPServer

                server = AsyncIOOSCUDPServer((host, 0), self.dispatcher, self.loop, family)
                self.runner.run(server.create_serve_endpoint())
                self._reply_ports[key] = server
            return server

    def _send_udp(
        self, data: bytes, sockaddr: tuple[Any, ...], key: tuple[int, str] | None = None
    ) -> None:
        if key is None:
            family = socket.AF_INET6 if len(sockaddr) == 4 else socket.AF_INET
            key = (family, self._reply_host(family, str(sockaddr[0])))
        server = self._reply_ports.get(key)
        if server is None or server.transport is None:
            server = self._ensure_reply_port(socket.AddressFamily(key[0]), key[1])
        transport = server.transport
        if self.runner.in_loop_thread:
            transport.sendto(data, sockaddr)
        else:
            self.runner.call_soon(transport.sendto, data, sockaddr)

    def _record_sent(self, content: OscMessage | OscBundle, target: Target) -> None:
        now = time.time()
        peer = target.name
        for message in _flatten(content):
            self.traffic.record(
                "sent", message.address, peer, message.type_tags, message.params, now
            )
            self._mark_dirty(message.address, message.params, "sent")
        for hook in list(self.send_hooks):
            try:
                hook(content, target)
            except Exception:
                logger.exception("send hook failed")

    # -- receiving -------------------------------------------------------------------------

    def _tap(self, messages: Sequence[OscMessage], client_address: Any) -> None:
        """Count a packet arriving at the dispatcher (any listener, a reply port), from the
        messages the dispatcher parsed (called by :class:`_SessionDispatcher`)."""
        now = time.time()
        peer = _peer(client_address)
        self.traffic.add("packets")
        for message in messages:
            self.traffic.record(
                "received", message.address, peer, message.type_tags, message.params, now
            )
            self._mark_dirty(message.address, message.params, "received")

    def listen(
        self,
        url: str | int = 0,
        *,
        thread: bool = False,
        name: str | None = None,
        mode: str = "auto",
    ) -> Listener:
        """Receive on ``url`` (``9000``, ``"udp://0.0.0.0:9000"``, ``"tcp://:9000"``) into
        :attr:`dispatcher`; on the session loop, or in a thread with ``thread=True``."""
        from osc_live.magics.grammar import parse_endpoint

        endpoint = parse_endpoint(str(url), listening=True, default_host=self.options.listen_host)
        host, port = endpoint.host, endpoint.port
        if endpoint.scheme == "udp":
            listener = self._listen_udp(host, port, thread)
        else:
            listener = self._listen_tcp(host, port, thread, mode)
        listener.name = name or f"{endpoint.scheme}:{listener.port}"
        listener.url = _url(endpoint.scheme, host, listener.port)
        with self._lock:
            if listener.name in self.listeners:
                self.listeners.pop(listener.name).close()
            self.listeners[listener.name] = listener
        return listener

    def _listen_udp(self, host: str, port: int, threaded: bool) -> Listener:
        from osc_live import osc_server

        if threaded:
            blocking = osc_server.BlockingOSCUDPServer((host, port), self.dispatcher)
            stop = _serve_in_thread(blocking, f"osc_live-listen-udp:{port}")
            return Listener("", "", "udp", True, blocking, stop, tuple(blocking.server_address))
        server = osc_server.AsyncIOOSCUDPServer((host, port), self.dispatcher, self.loop)
        self.runner.run(server.create_serve_endpoint())

        def stop_async() -> None:
            self._close_async_udp(server)

        return Listener("", "", "udp", False, server, stop_async, tuple(server.server_address))

    def _close_async_udp(self, server: Any) -> None:
        if self._runner is None or self.loop.is_closed():
            return
        try:
            self.runner.run(server.aclose(), timeout=5)
        except (TimeoutError, RuntimeError):
            server.close()

    def _listen_tcp(self, host: str, port: int, threaded: bool, mode: str) -> Listener:
        from osc_live import osc_tcp_server

        if threaded:
            tserver = osc_tcp_server.ThreadingOSCTCPServer((host, port), self.dispatcher, mode=mode)
            stop = _serve_in_thread(tserver, f"osc_live-listen-tcp:{port}")
            return Listener("", "", "tcp", True, tserver, stop, tuple(tserver.server_address))
        aserver = osc_tcp_server.AsyncOSCTCPServer(host, port, self.dispatcher, mode=mode)
        self.runner.run(aserver.listen())

        def stop_async() -> None:
            if self._runner is not None and not self.loop.is_closed():
                self.runner.run(aserver.stop(), timeout=5)

        return Listener("", "", "tcp", False, aserver, stop_async, tuple(aserver.server_address))

    def on(self, pattern: str, function: Callable[..., Any], *, log: bool = False) -> Any:
        """Map ``function(address, *args)`` on ``pattern``; exceptions are kept (see
        ``status``), never raised into the receiver.

        ``log=True`` (what ``%osc on`` does in a kernel): what the function prints while it
        runs on the session loop is captured into a :class:`LogView` (``self.logs[-1]``),
        since ``print`` from a receiver callback shows nothing in ipykernel 7.
        """
        name = getattr(function, "__name__", "handler")
        view: LogView | None = None
        if log:
            view = LogView(self, pattern, name)
            self._add_view(view)
        runner = self.runner

        def call(address: str, args: tuple[Any, ...]) -> Any:
            if view is None or threading.current_thread() is not runner.owner_thread:
                return function(address, *args)
            buffer = io.StringIO()
            with contextlib.redirect_stdout(buffer):
                try:
                    return function(address, *args)
                finally:
                    if buffer.tell():
                        view.append(buffer.getvalue())
                        self._request_refresh()

        def guarded(address: str, *args: Any) -> Any:
            try:
                return call(address, args)
            except Exception as exc:
                self.traffic.add("errors")
                self.handler_errors.append(f"{name}({address}): {type(exc).__name__}: {exc}")
                return None

        guarded.__name__ = name
        guarded.__wrapped__ = function  # type: ignore[attr-defined]
        handler = self.dispatcher.map(pattern, guarded)
        self.mapped.setdefault(pattern, []).append(handler)
        return handler

    @property
    def logs(self) -> list[LogView]:
        """The output views of ``on`` handlers."""
        return [v for v in self.views if isinstance(v, LogView)]

    # -- live views ------------------------------------------------------------------------

    def monitor(self, pattern: str | None = None) -> MonitorView:
        """A live table of traffic (display it, or let ``%osc monitor`` do so)."""
        view = MonitorView(self, pattern, self.options.monitor_rows)
        self._add_view(view)
        return view

    def plot(self, address: str, points: int | None = None) -> PlotView:
        """A live plot of the numeric arguments received or sent on ``address``."""
        view = PlotView(self, address, points or self.options.plot_points)
        self._add_view(view)
        return view

    def _add_view(self, view: LiveView) -> None:
        with self._lock:
            self.views.append(view)
            self._plots_for.clear()
        self.runner  # noqa: B018 - make sure the loop exists for refreshes

    def _plots(self, address: str) -> list[PlotView]:
        plots = self._plots_for.get(address)
        if plots is None:
            with self._lock:
                plots = [v for v in self.views if isinstance(v, PlotView) and v.matches(address)]
                self._plots_for[address] = plots
        return plots

    def _mark_dirty(self, address: str, args: Sequence[Any], direction: str) -> None:
        """Note a message for the views; schedule one refresh (≤ refresh_hz) if none is."""
        if not self.views:
            return
        now = time.time()
        if direction != "sent":  # what arrives: at a listener or at the virtual synth
            for plot in self._plots(address):
                plot.add(args, now)
        for view in self.views:
            if view.kind == "monitor" and view.matches(address):
                view.dirty = True
        self._request_refresh()

    def _request_refresh(self) -> None:
        if not self._refresh_pending and self._runner is not None:
            self._refresh_pending = True
            self._runner.call_soon(self._schedule_refresh)

    def _schedule_refresh(self) -> None:
        hz = min(max(self.options.refresh_hz, 0.1), MAX_REFRESH_HZ)
        delay = max(0.0, self._last_refresh + 1.0 / hz - time.monotonic())
        self.loop.call_later(delay, self._refresh)

    def _refresh(self) -> None:
        self._refresh_pending = False
        self._last_refresh = time.monotonic()
        for view in list(self.views):
            if view.dirty and not view.closed:
                view.refresh()

    # -- status and closing ----------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """Targets, listeners, the synth and the counters, as plain data."""
        synth = self.synth
        return {
            "default": self.default_target_name,
            "targets": {n: t.url for n, t in self.targets.items()},
            "listeners": {n: repr(lis) for n, lis in self.listeners.items()},
            "synth": None
            if synth is None or not synth.running
            else {
                "udp": "{}:{}".format(*synth.udp_address),
                "tcp": "{}:{}".format(*synth.tcp_address),
                "received": synth.count,
            },
            "reply_ports": [
                _peer(server.server_address)
                for server in list(self._reply_ports.values())
                if server.transport is not None
            ],
            "totals": dict(self.traffic.totals),
            "views": len(self.views),
            "handler_errors": list(self.handler_errors),
            "loop": "kernel"
            if self._runner is not None and self._runner.thread is None
            else "thread"
            if self._runner is not None
            else "none",
        }

    def close(self, name: str | None = None) -> list[str]:
        """Close a target or listener by name; None or "all": everything this session opened
        (targets, listeners, the synth, the reply ports, views, the private loop thread).

        ``"synth"`` stops the virtual synth and closes the target named ``synth`` *and every
        other target pointing at that synth*, whatever its name (they would otherwise send
        to a dead port); the default target falls back to the last remaining one. Returns
        the names closed (``["synth", "fx"]``), or ``["all"]``.
        """
        if name not in (None, "all"):
            with self._lock:
                found: list[Any] = [self.targets.pop(name, None), self.listeners.pop(name, None)]
                closed = [name] if any(found) else []
                synth = self.synth if name == "synth" else None
                if synth is not None:
                    for other in [n for n, t in self.targets.items() if t.synth_instance is synth]:
                        found.append(self.targets.pop(other))
                        closed.append(other)
                    self.synth = None
                    if name not in closed:
                        closed.insert(0, name)
            if not closed:
                known = ", ".join([*self.targets, *self.listeners]) or "none"
                raise LookupError(f"nothing named {name!r} to close (open: {known})")
            if synth is not None:
                synth.close()
            for item in found:
                if item is not None:
                    item.close()
            return closed
        with self._lock:
            targets, self.targets = list(self.targets.values()), {}
            listeners, self.listeners = list(self.listeners.values()), {}
            views, self.views = self.views, []
            self._plots_for.clear()
            self._default = None
        for target in targets:
            target.close()
        for listener in listeners:
            try:
                listener.close()
            except Exception:
                logger.exception("closing %r", listener)
        for view in views:
            view.closed = True
        if self.synth is not None:
            self.synth.close()
            self.synth = None
        with self._reply_lock:
            ports, self._reply_ports = list(self._reply_ports.values()), {}
        for port in ports:
            self._close_async_udp(port)
        close_dispatcher = getattr(self.dispatcher, "close", None)
        if callable(close_dispatcher):
            close_dispatcher()
        if self._runner is not None:
            self._runner.close()
            self._runner = None
        self._refresh_pending = False
        return ["all"]


_SESSION: OscSession | None = None
_SESSION_LOCK = threading.Lock()


def session() -> OscSession:
    """The kernel-wide :class:`OscSession` (created on first use)."""
    global _SESSION
    with _SESSION_LOCK:
        if _SESSION is None:
            _SESSION = OscSession()
        return _SESSION


def reset_session() -> None:
    """Close everything and forget the session (``%unload_ext osc_live``)."""
    global _SESSION
    with _SESSION_LOCK:
        current, _SESSION = _SESSION, None
    if current is not None:
        current.close("all")
