"""Serve the kernel's namespace over OSCQuery: what ``%osc advertise`` runs.

::

    service = advertise("my kernel")            # the session's listener and its namespace
    service = advertise("synth", synth=True)    # the virtual synth's commands and values
    service.url                                 # "http://127.0.0.1:40123/"
    service.close()                             # server, zeroconf, observers: all gone

The kernel namespace (``synth=False``) lists

* every plain address mapped with ``%osc on`` (no TYPE until a message arrives: then the tags
  and values of the last one, pushed to LISTEN clients);
* every bound control (``osc_live.widgets``; not those of remote panels): TYPE from what it
  sends, RANGE from its min/max, VALUE live (pushed to LISTEN clients as the control moves),
  ACCESS 3 (2 for a button), DESCRIPTION from its label.

``HOST_INFO`` names the OSC receiver: the session's first listener (UDP preferred); with none,
one is started (UDP, loopback; on all interfaces with ``lan=True``). OSC packets LISTEN
clients send over the WebSocket go to the session dispatcher, as if they had arrived at that
listener. The namespace follows the session without polling: it is brought up to date before
each query and LISTEN, and when a control is created or closed or a handler mapped.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
from typing import Any

from osc_live.osc_message import infer_tag
from osc_live.oscquery import discovery
from osc_live.oscquery.mdns import Advertisement
from osc_live.oscquery.model import Range, check_path
from osc_live.oscquery.namespace import Namespace, NodeSpec
from osc_live.oscquery.panel import is_remote_control
from osc_live.oscquery.server import OscQueryServer
from osc_live.oscquery.synth_ns import SynthNamespace

__all__ = ["Advertised", "advertise", "advertised", "control_spec"]

_log = logging.getLogger("osc_live.oscquery.kernel")


def _tags(args: Any) -> str | None:
    try:
        return "".join(infer_tag(a) for a in args).replace("F", "T")
    except ValueError:
        return None


def control_spec(binding: Any) -> NodeSpec | None:
    """The node of one bound control (None when its address is not a plain OSC path), from
    its :meth:`~osc_live.notebook._binding.Binding.describe`."""
    try:
        check_path(binding.address)
    except ValueError:
        return None
    info = binding.describe()
    tags = info.type_tags.replace("F", "T") or None
    button = info.kind == "button"
    lead = len(info.args)
    ranges: list[Any] = [None] * lead
    for bounds, options in zip(info.ranges, info.options, strict=False):
        if bounds is not None:
            ranges.append(Range(bounds[0], bounds[1]))
        elif options is not None:
            ranges.append(Range(vals=tuple(options)))
        else:
            ranges.append(None)
    has_range = any(r is not None for r in ranges)
    return NodeSpec(
        type=tags,
        access=2 if button else 3 if tags else None,
        value=None if button or not tags else tuple(info.value),
        range=tuple(ranges) if has_range and tags and len(ranges) == len(info.value) else None,
        description=info.label,
    )


class Advertised:
    """One served namespace: server, zeroconf announcement, and what keeps it current.

    The kernel namespace follows the session without polling: the server brings it up to
    date before each query and LISTEN (:meth:`refresh`, under a lock, on the server's
    thread), and creating or closing a control or mapping ``%osc on`` schedules one refresh
    on the session loop, so LISTEN clients get ``PATH_ADDED`` / ``PATH_REMOVED`` at once.
    Values follow through :meth:`Binding.on_value` and the handlers' own mappings.
    """

    def __init__(
        self,
        session: Any,
        name: str,
        namespace: Namespace,
        server: OscQueryServer,
        announcement: Advertisement | None,
        osc: tuple[str, int, str],
        synth: SynthNamespace | None = None,
    ) -> None:
        self.session = session
        self.name = name
        self.namespace = namespace
        self.server = server
        self.announcement = announcement
        self.osc = osc
        self.synth = synth
        self.closed = False
        #: a caveat shown with the status (a LAN service whose OSC receiver is loopback only)
        self.warning = ""
        #: how often the namespace was brought up to date (queries, LISTENs, changes)
        self.refreshes = 0
        self._lock = threading.RLock()  # refresh runs on the server thread and the loop
        self._mapped: dict[str, Any] = {}
        self._followed: dict[int, Any] = {}  # id(binding) -> binding, its on_value followed
        self._scheduled = False
        self._watching = False

    @property
    def url(self) -> str:
        """The OSCQuery server's ``http://host:port/``."""
        return self.server.url

    @property
    def zeroconf_name(self) -> str | None:
        """The instance name announced over zeroconf (None when not announced)."""
        return None if self.announcement is None else self.announcement.name

    # -- following the session -------------------------------------------------------------

    def refresh(self) -> None:
        """Make the namespace match the session now (any thread)."""
        with self._lock:
            if self.closed or self.synth is not None:
                return
            self.refreshes += 1
            mapped = list(self.session.mapped.copy())
            specs: dict[str, NodeSpec] = {}
            for pattern in mapped:
                try:
                    check_path(pattern)
                except ValueError:
                    continue  # a pattern (/fx/*) is not a node
                current = self.namespace.get(pattern)
                specs[pattern] = NodeSpec(
                    type=current.type if current else None,
                    value=tuple(current.value) if current and current.value is not None else None,
                    description="handled by %osc on",
                )
            bindings = [b for b in _bindings() if not (b.closed or is_remote_control(b))]
            for binding in bindings:
                if binding.address not in specs:
                    spec = control_spec(binding)
                    if spec is not None:
                        specs[binding.address] = spec
            self.namespace.sync(specs)
            self._follow_handlers({p for p in specs if p in mapped})
            self._follow_controls([b for b in bindings if b.address in specs])

    def _follow_handlers(self, paths: set[str]) -> None:
        dispatcher = self.session.dispatcher
        for path in [p for p in self._mapped if p not in paths]:
            with contextlib.suppress(Exception):
                dispatcher.unmap(path, self._mapped.pop(path))
        for path in paths - set(self._mapped):
            self._mapped[path] = dispatcher.map(path, self._arrived)

    def _arrived(self, address: str, *args: Any) -> None:
        self.namespace.set_value(address, args, type=_tags(args))

    def _follow_controls(self, bindings: list[Any]) -> None:
        alive = {id(b): b for b in bindings if b.kind != "button"}
        for key in [k for k in self._followed if k not in alive]:
            self._followed.pop(key).on_value(self._moved, remove=True)
        for key, binding in alive.items():
            if key not in self._followed:
                self._followed[key] = binding
                binding.on_value(self._moved)

    def _moved(self, change: Any) -> None:
        binding = change.binding
        if not binding.closed:
            self.namespace.set_value(binding.address, change.args, type=_tags(change.args))

    def _changed(self, *_what: Any) -> None:
        """A control was created or closed, or a handler mapped: refresh once, soon."""
        with self._lock:
            if self.closed or self._scheduled:
                return
            self._scheduled = True
        try:
            self.session.runner.call_soon(self._scheduled_refresh)
        except Exception:  # the session is closing: queries still refresh
            with self._lock:
                self._scheduled = False

    def _scheduled_refresh(self) -> None:
        with self._lock:
            self._scheduled = False
        try:
            self.refresh()
        except Exception:
            _log.exception("refreshing the OSCQuery namespace failed")

    def start_following(self) -> None:
        """Refresh now, then on each query, LISTEN and change of the session's controls."""
        from osc_live.notebook import _binding  # the registry only: no ipywidgets import

        self.refresh()
        with self._lock:
            if self.closed:
                return
            self._watching = True
            _binding.watch(self._changed)
            self.session.map_hooks.append(self._changed)
        self.server.before_request = self.refresh

    # -- stopping --------------------------------------------------------------------------

    def close(self) -> None:
        """Withdraw the announcement, stop the server, undo every hook (idempotent)."""
        with self._lock:
            if self.closed:
                return
            self.closed = True
        if self.announcement is not None:
            self.announcement.close()
        discovery.forget(self.name, self.server.url if self.server.address else None)
        self.server.close()  # not under the lock: its thread may be waiting for it
        if self.synth is not None:
            self.synth.close()
        with self._lock:
            if self._watching:
                self._watching = False
                from osc_live.notebook import _binding

                _binding.watch(self._changed, remove=True)
                with contextlib.suppress(ValueError):
                    self.session.map_hooks.remove(self._changed)
            for path, handler in list(self._mapped.items()):
                with contextlib.suppress(Exception):
                    self.session.dispatcher.unmap(path, handler)
            self._mapped.clear()
            for binding in self._followed.values():
                binding.on_value(self._moved, remove=True)
            self._followed.clear()
        if self.session.resources.get(self.name) is self:  # closed directly: leave the session
            with contextlib.suppress(LookupError):
                self.session.close(self.name)

    def status(self) -> str:
        """One line: name, URL, the OSC endpoint it describes, how it is announced."""
        host, port, transport = self.osc
        where = f"zeroconf {self.zeroconf_name!r}" if self.announcement else "not announced"
        line = f"{self.name}: {self.url}  OSC {transport}://{host}:{port}  {where}"
        return f"{line}  ({self.warning})" if self.warning else line

    def __repr__(self) -> str:
        return f"<Advertised {self.status()}>"


def _bindings() -> list[Any]:
    module = sys.modules.get("osc_live.notebook._binding")  # loaded by every control
    return [] if module is None else list(module.bindings())


def advertised(session: Any = None) -> dict[str, Advertised]:
    """The namespaces ``session`` (default: the kernel's) serves, by name."""
    if session is None:
        from osc_live.notebook.kernel_session import session as current

        session = current()
    return {n: r for n, r in dict(session.resources).items() if isinstance(r, Advertised)}


def _osc_endpoint(session: Any, lan: bool) -> tuple[str, int, str]:
    listeners = list(session.listeners.values())
    listeners.sort(key=lambda lis: lis.kind != "udp")
    if not listeners:
        url = "udp://0.0.0.0:0" if lan else "udp://127.0.0.1:0"
        listeners = [session.listen(url, name="oscquery")]
    listener = listeners[0]
    host = str(listener.address[0])
    return host, listener.port, listener.kind


def advertise(
    name: str | None = None,
    *,
    http_port: int = 0,
    lan: bool = False,
    synth: bool = False,
    zeroconf: bool = True,
    session: Any = None,
) -> Advertised:
    """Serve the kernel's namespace (or the virtual synth's with ``synth=True``) over
    OSCQuery on ``http_port`` (0: a free one) and announce it over zeroconf.

    Loopback unless ``lan``. The service is a session resource named ``name``: ``%osc close
    NAME`` or closing the session stops it; serving again under the same name replaces it.
    """
    if session is None:
        from osc_live.notebook.kernel_session import session as current

        session = current()
    from osc_live.oscquery.mdns import default_name

    label = name or default_name()
    old = session.resources.get(label)
    if isinstance(old, Advertised):
        old.close()  # frees its port and name before the new one binds and registers
    follower: SynthNamespace | None = None
    transports: tuple[str, ...]
    if synth:
        instance = session.start_synth()
        follower = SynthNamespace(instance)
        namespace = follower.namespace
        host, port = instance.udp_address
        osc = (host, port, "udp")
        transports = ("udp",)
    else:
        namespace = Namespace(description="osc_live kernel")
        osc = _osc_endpoint(session, lan)
        transports = (osc[2],)
    on_osc = None
    if not synth:
        dispatcher = session.dispatcher

        def on_osc(data: bytes, peer: Any) -> None:
            session.runner.call_soon(dispatcher.call_handlers_for_packet, data, peer)

    wildcard = osc[0] in ("0.0.0.0", "::")
    server = OscQueryServer(
        namespace,
        name=label,
        host="0.0.0.0" if lan else "127.0.0.1",
        port=http_port,
        osc_port=osc[1],
        osc_ip=None if wildcard or osc[0] == "127.0.0.1" else osc[0],
        osc_transport=osc[2].upper(),
        on_osc=on_osc,
    )
    try:
        server.start()
        announcement = None
        if zeroconf:
            announcement = Advertisement(
                label, http_port=server.port, osc_port=osc[1], osc_transports=transports, lan=lan
            ).start()
    except BaseException:
        server.close()
        if follower is not None:
            follower.close()
        raise
    service = Advertised(session, label, namespace, server, announcement, osc, follower)
    if lan and osc[0].startswith("127."):
        service.warning = "its OSC receiver listens on loopback only: other machines cannot send"
    session.add_resource(label, service)
    host = "127.0.0.1" if osc[0] in ("0.0.0.0", "::") else osc[0]
    discovery.remember(discovery.Found(label, host, osc[1], osc[2], server.url))
    if not synth:
        service.start_following()
    return service
