"""Serve the kernel's namespace over OSCQuery: what ``%osc advertise`` runs.

::

    service = advertise("my kernel")            # the session's listener and its namespace
    service = advertise("synth", synth=True)    # the virtual synth's commands and values
    service.url                                 # "http://127.0.0.1:40123/"
    service.close()                             # server, zeroconf, observers: all gone

The kernel namespace (``synth=False``) lists

* every plain address mapped with ``%osc on`` (no TYPE until a message arrives: then the tags
  and values of the last one, pushed to LISTEN clients);
* every bound control (``osc_live.widgets``): TYPE from what it sends, RANGE from its min/max,
  VALUE live (pushed to LISTEN clients as the control moves), ACCESS 3 (2 for a button),
  DESCRIPTION from its label.

``HOST_INFO`` names the OSC receiver: the session's first listener (UDP preferred); with none,
one is started (UDP, loopback; on all interfaces with ``lan=True``). OSC packets LISTEN
clients send over the WebSocket go to the session dispatcher, as if they had arrived at that
listener. The namespace follows the session every ``refresh`` seconds (0.5) on the session
loop, and immediately when served.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from collections.abc import Callable
from typing import Any

from osc_live.osc_message import infer_tag
from osc_live.oscquery import discovery
from osc_live.oscquery.mdns import Advertisement
from osc_live.oscquery.model import Range, check_path
from osc_live.oscquery.namespace import Namespace, NodeSpec
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
    """The node of one bound control (None when its address is not a plain OSC path)."""
    try:
        check_path(binding.address)
    except ValueError:
        return None
    widget = binding.widget
    label = getattr(widget, "description", "") or getattr(binding, "address", "")
    args = binding.message_args()
    lead = len(binding.args)
    is_button = type(widget).__name__ == "Button"
    tags = _tags(args)
    if tags and binding.type_tag and len(args) == lead + 1:
        tags = tags[:lead] + binding.type_tag
    ranges: list[Any] = [None] * lead
    for part in _parts(widget):
        lo, hi = getattr(part, "min", None), getattr(part, "max", None)
        if lo is None or hi is None:
            ranges.append(None)
            continue
        base = getattr(part, "base", None)
        if base is not None:  # FloatLogSlider: min/max are exponents
            lo, hi = base**lo, base**hi
        ranges.append(Range(lo, hi))
    has_range = any(r is not None for r in ranges)
    return NodeSpec(
        type=tags or None,
        access=2 if is_button else 3 if tags else None,
        value=None if is_button or not tags else tuple(args),
        range=tuple(ranges) if has_range and tags and len(ranges) == len(args) else None,
        description=str(label),
    )


def _parts(widget: Any) -> list[Any]:
    """The value widgets of a control (``xy``: its two sliders)."""
    if hasattr(widget, "x") and hasattr(widget, "y"):
        return [widget.x, widget.y]
    return [widget] if hasattr(widget, "value") else []


class Advertised:
    """One served namespace: server, zeroconf announcement, and what keeps it current."""

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
        self._mapped: dict[str, Any] = {}
        self._observed: dict[int, tuple[Any, list[Callable[[], None]]]] = {}
        self._timer: Any = None

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
        """Make the namespace match the session now (called on the session loop)."""
        if self.closed or self.synth is not None:
            return
        specs: dict[str, NodeSpec] = {}
        for pattern in list(self.session.mapped):
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
        bindings = _bindings()
        for binding in bindings:
            spec = control_spec(binding)
            if spec is not None and binding.address not in specs:
                specs[binding.address] = spec
        self.namespace.sync(specs)
        self._follow_handlers({p for p in specs if p in self.session.mapped})
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
        alive = {id(b) for b in bindings}
        for key in [k for k in self._observed if k not in alive]:
            for stop in self._observed.pop(key)[1]:
                stop()
        for binding in bindings:
            if id(binding) in self._observed or type(binding.widget).__name__ == "Button":
                continue
            stops: list[Callable[[], None]] = []
            for part in _parts(binding.widget):

                def changed(_change: Any, binding: Any = binding) -> None:
                    if not binding.closed:
                        args = binding.message_args()
                        self.namespace.set_value(binding.address, args, type=_tags(args))

                part.observe(changed, names="value")
                stops.append(_unobserver(part, changed))
            self._observed[id(binding)] = (binding, stops)

    def _tick(self) -> None:
        if self.closed:
            return
        try:
            self.refresh()
        except Exception:
            _log.exception("refreshing the OSCQuery namespace failed")
        self._timer = self.session.loop.call_later(0.5, self._tick)

    def start_following(self) -> None:
        """Refresh now and then every 0.5 s on the session loop."""
        self.session.runner.call_soon(self._tick)

    # -- stopping --------------------------------------------------------------------------

    def close(self) -> None:
        """Withdraw the announcement, stop the server, undo every hook (idempotent)."""
        if self.closed:
            return
        self.closed = True
        timer, self._timer = self._timer, None
        if timer is not None:
            self.session.runner.call_soon(timer.cancel)
        if self.announcement is not None:
            self.announcement.close()
        discovery.forget(self.name, self.server.url if self.server.address else None)
        self.server.close()
        if self.synth is not None:
            self.synth.close()
        for path, handler in list(self._mapped.items()):
            with contextlib.suppress(Exception):
                self.session.dispatcher.unmap(path, handler)
        self._mapped.clear()
        for _binding, stops in self._observed.values():
            for stop in stops:
                with contextlib.suppress(Exception):
                    stop()
        self._observed.clear()
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


def _unobserver(part: Any, handler: Callable[[Any], None]) -> Callable[[], None]:
    def stop() -> None:
        part.unobserve(handler, names="value")

    return stop


def _bindings() -> list[Any]:
    for name in ("osc_live.notebook._binding", "osc_live.widgets"):  # never imported from here
        module = sys.modules.get(name)
        if module is not None and hasattr(module, "bindings"):
            return list(module.bindings())
    return []


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
