"""The kernel-wide OSC session behind ``%osc``, the widgets and ``osc-live``.

One :class:`OscSession` per kernel (:func:`session`) owns every target, listener, the virtual
synth and the live outputs (monitor, plot, handler logs). Everything received goes through
:attr:`OscSession.dispatcher` (users and widgets ``map`` on it); everything sent goes through
:meth:`Target.send` / :meth:`Target.send_message`, so the traffic table counts both
directions. Targets and listeners of each endpoint scheme come from :mod:`.links`.

Threads: sends, receptions and counters may happen on any thread (a listener's thread, a
widget callback on a kernel subshell, the virtual synth's thread); the session's state is
guarded by locks, and everything that touches the event loop goes through
:meth:`LoopRunner.call_soon` (``call_soon_threadsafe`` off the loop's thread).

Live outputs never print from callbacks: a view is shown once with a display id and refreshed
with ``DisplayHandle.update`` at most ``refresh_hz`` (≤ 10) times a second, from a
``loop.call_later`` timer. Counters are updated on every message; only frames are skipped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from osc_live.dispatcher import Dispatcher
from osc_live.endpoints import parse_endpoint
from osc_live.errors import ParseError
from osc_live.notebook import links
from osc_live.notebook._handler_output import ThreadOutput, function_key, wrapped_function
from osc_live.notebook._loop import LoopRunner, enable_nested_asyncio
from osc_live.notebook.listeners import Listener
from osc_live.notebook.targets import Target, format_peer
from osc_live.notebook.traffic import DEFAULT_MAX_ROWS, Traffic
from osc_live.notebook.views import LiveView, LogView, MonitorView, PlotView
from osc_live.osc_bundle import OscBundle
from osc_live.osc_message import OscMessage

__all__ = [
    "MAX_REFRESH_HZ",
    "OscSession",
    "SessionOptions",
    "enable_nested_asyncio",
    "reset_session",
    "session",
]

logger = logging.getLogger("osc_live.notebook")
MAX_REFRESH_HZ = 10.0


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
    #: rows of the traffic table (distinct direction/address/peer) kept, least recent dropped
    traffic_rows: int = DEFAULT_MAX_ROWS
    #: seconds a TCP connect or send may take
    send_timeout: float = 5.0


class _SessionDispatcher(Dispatcher):
    """The session's Dispatcher: counts every packet for the monitor from the one parse the
    dispatch itself does (no second parse), through the public packet hooks."""

    def __init__(self, owner: OscSession) -> None:
        super().__init__()
        self._owner = owner

    def packet_parsed(
        self, timed_messages: Sequence[tuple[float, OscMessage]], client_address: Any
    ) -> None:
        self._owner._tap([message for _, message in timed_messages], client_address)

    def packet_rejected(self, exc: ParseError, data: Any, client_address: Any) -> None:
        self._owner.traffic.add("errors")

    def call_handlers_for_packet(
        self, data: bytes, client_address: Any, *, reply: Any = None
    ) -> list[Any]:
        if self._owner.packet_hooks:
            self._owner._packet_seen(data, client_address)
        return super().call_handlers_for_packet(data, client_address, reply=reply)

    async def async_call_handlers_for_packet(
        self, data: bytes, client_address: Any, *, reply: Any = None
    ) -> list[Any]:
        if self._owner.packet_hooks:
            self._owner._packet_seen(data, client_address)
        return await super().async_call_handlers_for_packet(data, client_address, reply=reply)


def _flatten(content: OscMessage | OscBundle) -> Iterable[OscMessage]:
    if isinstance(content, OscMessage):
        yield content
    else:
        for item in content:
            yield from _flatten(item)


class OscSession:
    """Targets, listeners, the virtual synth, the dispatcher and the live views of a kernel."""

    def __init__(self, options: SessionOptions | None = None) -> None:
        self.options = options or SessionOptions()
        self.dispatcher: Dispatcher = _SessionDispatcher(self)
        self.traffic = Traffic(max_rows=self.options.traffic_rows)
        self.targets: dict[str, Target] = {}
        self.listeners: dict[str, Listener] = {}
        #: other things to close with the session: name -> object with ``close()``
        self.resources: dict[str, Any] = {}
        self.views: list[LiveView] = []
        self.synth: Any = None
        self.handler_errors: deque[str] = deque(maxlen=20)
        self.mapped: dict[str, list[Any]] = {}
        #: called as ``hook(content, target)`` after every send (widgets count sends here)
        self.send_hooks: list[Callable[[OscMessage | OscBundle, Target], None]] = []
        #: called as ``hook(data, client_address)`` with every raw packet received (recorders)
        self.packet_hooks: list[Callable[[bytes, Any], None]] = []
        #: called as ``hook(pattern)`` after :meth:`on` maps a handler (OSCQuery follows it)
        self.map_hooks: list[Callable[[str], None]] = []
        #: extra sources of addresses for tab completion: ``source(session) -> iterable``
        self.address_sources: list[Callable[[OscSession], Iterable[str]]] = []
        self.live_display = False
        self._default: str | None = None
        self._runner: LoopRunner | None = None
        self._lock = threading.RLock()
        self._refresh_lock = threading.Lock()
        self._refresh_pending = False
        self._last_refresh = 0.0
        self._plots_for: dict[str, list[PlotView]] = {}

    # -- loop ------------------------------------------------------------------------------

    @property
    def runner(self) -> LoopRunner:
        """The session's loop (created on first use)."""
        with self._lock:
            if self._runner is None or self._runner.loop.is_closed():
                self._runner = LoopRunner()
            return self._runner

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        """The asyncio loop listeners and replies run on."""
        return self.runner.loop

    # -- targets ---------------------------------------------------------------------------

    def connect(self, url: str | None = None, name: str | None = None, mode: str = "") -> Target:
        """Add a target and make it the default. ``url`` None: the virtual synth over UDP;
        ``"udp://h:p"``, ``"tcp://h:p"`` (``mode`` "1.0"/"1.1"), ``"tcp://synth"``."""
        endpoint = parse_endpoint(url or "udp://synth")
        synth_instance = None
        if endpoint.is_synth:
            synth_instance = self.start_synth()
            address = (
                synth_instance.udp_address
                if endpoint.scheme == "udp"
                else synth_instance.tcp_address
            )
            endpoint = parse_endpoint(f"{endpoint.scheme}://{format_peer(address)}")
            name = name or "synth"
        else:
            name = name or f"{endpoint.scheme}:{format_peer((endpoint.host, endpoint.port))}"
        with self._lock:
            old = self.targets.pop(name, None)
        if old is not None:
            old.close()
        target: Target = links.connector(endpoint.scheme)(
            self, endpoint, name, mode, synth_instance=synth_instance
        )
        with self._lock:
            self.targets[name] = target
            self._default = name
        return target

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
        """Start (once) and return the embedded :class:`~osc_live.notebook.synth.VirtualSynth`."""
        from osc_live.notebook.synth import VirtualSynth

        with self._lock:
            if self.synth is None or not self.synth.running:
                self.synth = VirtualSynth(on_message=self._synth_saw).start()
            return self.synth

    def _synth_saw(self, item: Any) -> None:
        self.traffic.record(
            "synth", item.address, item.source, item.type_tags, item.args, time.time()
        )
        self._mark_dirty(item.address, item.args, "synth")

    def _record_sent(self, content: OscMessage | OscBundle, target: Target) -> None:
        now = time.time()
        for message in _flatten(content):
            self.traffic.record(
                "sent", message.address, target.name, message.type_tags, message.params, now
            )
            self._mark_dirty(message.address, message.params, "sent")
        for hook in list(self.send_hooks):
            try:
                hook(content, target)
            except Exception:
                logger.exception("send hook failed")

    # -- receiving -------------------------------------------------------------------------

    def _tap(self, messages: Sequence[OscMessage], client_address: Any) -> None:
        """Count a packet arriving at the dispatcher (a listener, a target's replies), from the
        messages the dispatcher parsed (called by :class:`_SessionDispatcher`)."""
        now = time.time()
        peer = format_peer(client_address)
        self.traffic.add("packets")
        for message in messages:
            self.traffic.record(
                "received", message.address, peer, message.type_tags, message.params, now
            )
            self._mark_dirty(message.address, message.params, "received")

    def _packet_seen(self, data: bytes, client_address: Any) -> None:
        for hook in list(self.packet_hooks):
            try:
                hook(data, client_address)
            except Exception:
                logger.exception("packet hook failed")

    def listen(
        self,
        url: str | int = 0,
        *,
        thread: bool = False,
        name: str | None = None,
        mode: str = "",
    ) -> Listener:
        """Receive on ``url`` (``9000``, ``"udp://0.0.0.0:9000"``, ``"tcp://:9000"``) into
        :attr:`dispatcher`; on the session loop, or in a thread with ``thread=True``.

        Listening again on a port this session already listens on (running a cell twice), or
        under a name already taken, replaces that listener: it is closed first, so that its
        port is free for the new one."""
        endpoint = parse_endpoint(str(url), listening=True, default_host=self.options.listen_host)
        for replaced in self._listeners_in_the_way(endpoint.scheme, endpoint.port, name):
            replaced.close()
        listener: Listener = links.listener(endpoint.scheme)(self, endpoint, thread, mode)
        listener.name = name or f"{endpoint.scheme}:{listener.port}"
        listener.url = f"{endpoint.scheme}://{format_peer((endpoint.host, listener.port))}"
        with self._lock:
            old = self.listeners.pop(listener.name, None)
            self.listeners[listener.name] = listener
        if old is not None:
            old.close()
        return listener

    def _listeners_in_the_way(self, kind: str, port: int, name: str | None) -> list[Listener]:
        """This session's listeners that a new ``kind`` listener on ``port`` (0: any free
        one) named ``name`` replaces, taken out of :attr:`listeners`: the same name, or the
        same port on the same kind of socket (UDP, or a TCP/WebSocket stream)."""
        stream = kind != "udp"
        with self._lock:
            out = [
                (key, old)
                for key, old in self.listeners.items()
                if key == name or (port and old.port == port and (old.kind != "udp") == stream)
            ]
            for key, _ in out:
                del self.listeners[key]
        return [old for _, old in out]

    def on(self, pattern: str, function: Callable[..., Any], *, log: bool = False) -> Any:
        """Map ``function(address, *args)`` on ``pattern``; exceptions are kept (see
        ``status``), never raised into the receiver.

        ``log=True`` (what ``%osc on`` does in a kernel): what the function prints while it
        runs on the session loop is captured into a :class:`LogView` (``self.logs[-1]``),
        since ``print`` from a receiver callback shows nothing in ipykernel 7.
        """
        name = getattr(function, "__name__", "handler")
        self._unmap_same(pattern, function)
        view: LogView | None = None
        if log:
            view = LogView(self, pattern, name)
            self._add_view(view)
        runner = self.runner

        def call(address: str, args: tuple[Any, ...]) -> Any:
            if view is None:
                return function(address, *args)
            if threading.current_thread() is not runner.owner_thread:
                try:  # a listener's thread: its prints go where that thread's prints go
                    return function(address, *args)
                finally:
                    view.called("")
                    self._request_refresh()
            out = ThreadOutput(sys.stdout)
            with contextlib.redirect_stdout(out):
                try:
                    return function(address, *args)
                finally:
                    view.called(out.captured())
                    self._request_refresh()

        def guarded(address: str, *args: Any) -> Any:
            try:
                return call(address, args)
            except Exception as exc:
                self.traffic.add("errors")
                self.handler_errors.append(f"{name}({address}): {type(exc).__name__}: {exc}")
                if view is not None:
                    view.failed(f"{type(exc).__name__}: {exc}")
                    self._request_refresh()
                return None

        guarded.__name__ = name
        guarded.__wrapped__ = function  # type: ignore[attr-defined]
        guarded.log_view = view  # type: ignore[attr-defined]
        handler = self.dispatcher.map(pattern, guarded)
        with self._lock:
            self.mapped.setdefault(pattern, []).append(handler)
        for hook in list(self.map_hooks):
            try:
                hook(pattern)
            except Exception:
                logger.exception("map hook %r failed for %s", hook, pattern)
        return handler

    def _unmap_same(self, pattern: str, function: Callable[..., Any]) -> None:
        """Unmap the handlers ``on`` mapped on ``pattern`` from a function of the same qualified
        name: a cell that defines and maps a handler, run again, replaces it (one call per
        message, not two). Lambdas have no name to tell them apart and are never replaced."""
        key = function_key(function)
        if key is None:
            return
        with self._lock:
            handlers = self.mapped.get(pattern, [])
            same = [h for h in handlers if function_key(wrapped_function(h)) == key]
            for handler in same:
                handlers.remove(handler)
            for handler in same:
                old_view = getattr(handler.callback, "log_view", None)
                if old_view is not None:
                    old_view.closed = True
                    with contextlib.suppress(ValueError):
                        self.views.remove(old_view)
        for handler in same:
            with contextlib.suppress(ValueError):
                self.dispatcher.unmap(pattern, handler)

    @property
    def logs(self) -> list[LogView]:
        """The output views of ``on`` handlers."""
        return [v for v in list(self.views) if isinstance(v, LogView)]

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
                if len(self._plots_for) >= 4096:  # a cache, not a record of every address
                    self._plots_for.clear()
                self._plots_for[address] = plots
        return plots

    def _mark_dirty(self, address: str, args: Sequence[Any], direction: str) -> None:
        """Note a message for the views; schedule one refresh (≤ refresh_hz) if none is."""
        views = self.views
        if not views:
            return
        now = time.time()
        if direction != "sent":  # what arrives: at a listener or at the virtual synth
            for plot in self._plots(address):
                plot.add(args, now)
        for view in list(views):
            if view.kind == "monitor" and view.matches(address):
                view.dirty = True
        self._request_refresh()

    def _request_refresh(self) -> None:
        runner = self._runner
        if runner is None:
            return
        with self._refresh_lock:
            if self._refresh_pending:
                return
            self._refresh_pending = True
        runner.call_soon(self._schedule_refresh)

    def _schedule_refresh(self) -> None:
        hz = min(max(self.options.refresh_hz, 0.1), MAX_REFRESH_HZ)
        delay = max(0.0, self._last_refresh + 1.0 / hz - time.monotonic())
        self.loop.call_later(delay, self._refresh)

    def _refresh(self) -> None:
        with self._refresh_lock:
            self._refresh_pending = False
        self._last_refresh = time.monotonic()
        again = False
        for view in list(self.views):
            if view.dirty and not view.closed:
                view.refresh()
            again = again or view.wants_refresh()
        if again:  # e.g. a monitor whose rates are still decaying to 0
            self._request_refresh()

    # -- other resources -------------------------------------------------------------------

    def add_resource(self, name: str, resource: Any) -> None:
        """Keep ``resource`` (anything with ``close()``) until ``close(name)`` or ``close()``;
        ``%osc status`` lists it (its ``repr``). Replaces (and closes) one of the same name."""
        with self._lock:
            old = self.resources.pop(name, None)
            self.resources[name] = resource
        if old is not None and old is not resource:
            old.close()

    # -- status and closing ----------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """Targets, listeners, the synth and the counters, as plain data."""
        synth = self.synth
        with self._lock:
            targets = dict(self.targets)
            listeners = dict(self.listeners)
            resources = dict(self.resources)
        local_ports: dict[str, list[str]] = {"udp": [], "tcp": []}  # where replies come back
        for target in targets.values():
            local = target.local_address if target.kind in local_ports else None
            if local is not None and format_peer(local) not in local_ports[target.kind]:
                local_ports[target.kind].append(format_peer(local))
        runner = self._runner
        return {
            "default": self.default_target_name,
            "targets": {n: t.url for n, t in targets.items()},
            "listeners": {n: repr(lis) for n, lis in listeners.items()},
            "resources": {n: repr(r) for n, r in resources.items()},
            "synth": None
            if synth is None or not synth.running
            else {
                "udp": format_peer(synth.udp_address),
                "tcp": format_peer(synth.tcp_address),
                "received": synth.count,
            },
            "reply_ports": local_ports["udp"],
            "tcp_ports": local_ports["tcp"],
            "totals": self.traffic.totals_copy(),
            "traffic_rows": len(self.traffic),
            "views": len(self.views),
            "handler_errors": list(self.handler_errors),
            "loop": "none" if runner is None else "thread" if runner.private else "kernel",
        }

    def close(self, name: str | None = None) -> list[str]:
        """Close a target, listener or resource by name; None or "all": everything this
        session opened (targets, listeners, resources, the synth, views, the private loop).

        ``"synth"`` stops the virtual synth and closes the target named ``synth`` *and every
        other target pointing at that synth*, whatever its name (they would otherwise send
        to a dead port); the default target falls back to the last remaining one. Returns
        the names closed (``["synth", "fx"]``), or ``["all"]``.
        """
        if name not in (None, "all"):
            return self._close_one(name)
        with self._lock:
            items: list[Any] = [*self.targets.values(), *self.listeners.values()]
            items += list(self.resources.values())
            self.targets, self.listeners, self.resources = {}, {}, {}
            views, self.views = self.views, []
            self._plots_for.clear()
            self._default = None
            synth, self.synth = self.synth, None
        for item in items:
            try:
                item.close()
            except Exception:
                logger.exception("closing %r", item)
        for view in views:
            view.closed = True
        if synth is not None:
            synth.close()
        close_dispatcher = getattr(self.dispatcher, "close", None)
        if callable(close_dispatcher):
            close_dispatcher()
        with self._lock:
            runner, self._runner = self._runner, None
        if runner is not None:
            runner.close()
        with self._refresh_lock:
            self._refresh_pending = False
        return ["all"]

    def _close_one(self, name: str) -> list[str]:
        with self._lock:
            found: list[Any] = [
                self.targets.pop(name, None),
                self.listeners.pop(name, None),
                self.resources.pop(name, None),
            ]
            closed = [name] if any(item is not None for item in found) else []
            synth = self.synth if name == "synth" else None
            if synth is not None:
                for other in [n for n, t in self.targets.items() if t.synth_instance is synth]:
                    found.append(self.targets.pop(other))
                    closed.append(other)
                self.synth = None
                if name not in closed:
                    closed.insert(0, name)
        if not closed:
            known = ", ".join([*self.targets, *self.listeners, *self.resources]) or "none"
            raise LookupError(f"nothing named {name!r} to close (open: {known})")
        if synth is not None:
            synth.close()
        for item in found:
            if item is not None:
                item.close()
        return closed


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
