"""The two-way link between a widget and an OSC address (:class:`Binding`), and its helpers.

A :class:`Binding` is reached as ``control.osc`` on every control of :mod:`osc_live.widgets`.
It uses the public API of ipywidgets/traitlets only:

* **outgoing** — ``widget.observe(handler, names="value")``: every change of the value trait
  (a drag or key press in the page, a cell's ``slider.value = v``) goes through a per-control
  :class:`~osc_live._throttle.Throttle` to the target; a change smaller than float32 resolution
  (see :func:`_same`) is float noise, not a move, and sends nothing;
* **incoming** — ``dispatcher.map(address, ...)``: a message on the address moves the control
  inside :meth:`Binding.suppressed`, so the observer sends nothing back. The suppression is per
  thread: a page change handled on another thread at the same moment (ipykernel 7 subshells) is
  still a move and still sends.

Values are validated once, by the control itself (see :mod:`osc_live.notebook._sliders`): the slider
classes snap every value — from code, from OSC, from the page — to the grid the page uses, so the
page has nothing left to round and never sends a rounded copy back (the echo of issue 8).

Threads. With ipykernel 7 (JupyterLab sends comm messages over subshells) the observer may run
on a subshell thread instead of the main one; counters are updated under a lock, the throttle
is thread-safe, and incoming messages from a threaded listener are handed to the loop the control
was created on. :mod:`osc_live.notebook._ipykernel_compat` is installed with the first
binding: it keeps ipykernel 7.4.0 from leaving every widget dead after a change made while a
cell ``await``\\s.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import re
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from osc_live._throttle import Throttle
from osc_live.notebook._args import (
    _NO_VALUE,
    _named_value,
    _same,
)
from osc_live.notebook._info import ControlInfo, label_of, options_of, range_of
from osc_live.notebook._subshells import PageRoute
from osc_live.osc_message import infer_tag

__all__ = [
    "DEFAULT_THROTTLE_HZ",
    "Binding",
    "ControlInfo",
    "SupportsSendMessage",
    "ValueChange",
    "bindings",
    "close_all",
    "css_class",
    "watch",
]

_log = logging.getLogger("osc_live.widgets")


class _DefaultRate(float):
    """The default ``throttle_hz``: 60, or the session's ``%config OscLive.throttle_hz``."""

    __slots__ = ()


#: Default of every ``throttle_hz`` parameter: 60 sends a second unless the live session was
#: configured otherwise (``%config OscLive.throttle_hz = 30``) when the control is made.
DEFAULT_THROTTLE_HZ: float = _DefaultRate(60.0)


def _rate(throttle_hz: float | None) -> float | None:
    if isinstance(throttle_hz, _DefaultRate):
        try:
            return float(_session().options.throttle_hz)
        except Exception:  # no live layer, or a session without options
            return float(throttle_hz)
    return throttle_hz


def _session_float_type() -> str:
    """``"f"`` or ``"d"``: the session's ``%config OscLive.float_type`` for Python floats."""
    try:
        tag = _session().options.float_type
    except Exception:
        return "f"
    return "d" if tag == "d" else "f"


@runtime_checkable
class SupportsSendMessage(Protocol):
    """Anything that can send an OSC message python-osc style."""

    def send_message(self, address: str, value: Any) -> Any:
        """Send one message to ``address`` with ``value`` (an argument or a list of them)."""


# ---------------------------------------------------------------------------- CSS classes
_CSS_BAD = re.compile(r"[^A-Za-z0-9_-]+")


def _css_token(text: str) -> str:
    return _CSS_BAD.sub("-", text).strip("-")


def css_class(address: str, args: Sequence[Any] = ()) -> str:
    """The stable CSS class of a control bound to ``address`` (with leading ``args``).

    ``css_class("/fx/reverb") == "osc-addr--fx-reverb"``;
    ``css_class("/n_set", (1000, "freq")) == "osc-addr--n_set--1000-freq"``.
    Characters other than letters, digits, ``_`` and ``-`` become ``-`` (runs collapsed).
    """
    cls = "osc-addr--" + _css_token(address)
    if args:
        cls += "--" + _css_token(" ".join(str(a) for a in args))
    return cls


# ---------------------------------------------------------------------------- targets
def _session() -> Any:
    from osc_live.live import session

    return session()


def _resolve_target(spec: Any) -> Any:
    if spec is None:
        return _session().target()
    if isinstance(spec, str):
        return _session().target(spec)
    return spec


_TAGS_SUPPORT: dict[type, bool] = {}


def _accepts_type_tags(target: Any) -> bool:
    """Does ``target.send_message`` take a ``type_tags`` keyword (osc_live live targets do)?"""
    kind = type(target)
    known = _TAGS_SUPPORT.get(kind)
    if known is None:
        try:
            params = inspect.signature(target.send_message).parameters
        except (TypeError, ValueError):
            params = {}  # type: ignore[assignment]
        known = "type_tags" in params or any(
            p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()
        )
        _TAGS_SUPPORT[kind] = known
    return known


def _describe_target(spec: Any) -> str:
    if spec is None:
        return "default target"
    if isinstance(spec, str):
        return f"target {spec!r}"
    return type(spec).__name__


# ---------------------------------------------------------------------------- changes
@dataclass(frozen=True)
class ValueChange:
    """One change of a bound control's value, given to :meth:`Binding.on_value` callbacks.

    ``args`` is the full argument list the value is sent as (leading ``args`` included);
    ``remote`` is True when an incoming OSC message made the change (nothing was sent), False
    for a move in the page, a cell's ``control.value = v`` or a click.
    """

    binding: Binding
    value: Any
    args: list[Any]
    remote: bool


# ---------------------------------------------------------------------------- the binding
_REGISTRY: set[Binding] = set()
_REGISTRY_LOCK = threading.Lock()
_WATCHERS: list[Callable[[Binding, bool], Any]] = []


def _fix_kernel() -> Any:
    """Install the ipykernel 7.4 ``idle`` fix once a control exists (no-op elsewhere); return
    the running kernel (None outside one)."""
    try:
        from osc_live.notebook import _ipykernel_compat

        _ipykernel_compat.install()
        return _ipykernel_compat.running_kernel()
    except Exception:  # a kernel we do not know: the controls still work without the fix
        _log.debug("ipykernel compatibility fix not installed", exc_info=True)
        return None


class Binding:
    """The two-way link between one widget (or group of widgets) and one OSC address.

    Usually made by :func:`~osc_live.widgets.slider`, :func:`~osc_live.widgets.toggle`,
    :func:`~osc_live.widgets.xy` or :func:`~osc_live.widgets.bind` and reached as
    ``control.osc``. Attributes worth knowing:

    ``address``, ``args`` (leading arguments sent before the value), ``target`` (as given),
    ``throttle`` (the :class:`~osc_live._throttle.Throttle`), ``sent`` / ``received`` /
    ``ignored_echoes`` counters (``ignored_echoes``: incoming values equal to the control's
    value, nothing to do), ``last_sent`` (the argument list of the last message sent),
    ``last_error`` (the last exception raised by a send, also logged to ``osc_live.widgets``).

    ``read``/``write`` get and set the control's value, ``to_args``/``from_args`` convert it to
    and from OSC arguments (``from_args`` returns ``_NO_VALUE`` for arguments it cannot use),
    ``snap`` (optional) maps an incoming value onto the control's grid when the widget does not
    validate it itself, ``sources`` are the objects observed (default: the widget).
    """

    def __init__(
        self,
        widget: Any,
        address: str,
        *,
        read: Callable[[], Any],
        write: Callable[[Any], None],
        to_args: Callable[[Any], list[Any]],
        from_args: Callable[[Sequence[Any]], Any],
        sources: Sequence[Any] = (),
        trait: str = "value",
        args: Sequence[Any] = (),
        target: Any = None,
        throttle_hz: float | None = DEFAULT_THROTTLE_HZ,
        type_tag: str | None = None,
        dispatcher: Any = None,
        floats: bool = False,
        snap: Callable[[Any], Any] | None = None,
        kind: str = "value",
        label: str | None = None,
    ) -> None:
        if not isinstance(address, str) or not address.startswith("/"):
            raise ValueError(f"an OSC address starts with '/', got {address!r}")
        self.widget = widget
        self.address = address
        self.kind = kind
        #: the control's name for people (a panel's row label; default: its description)
        self.label = label if label is not None else label_of(widget, address)
        self.args: tuple[Any, ...] = tuple(args)
        self.target = target
        self.type_tag = type_tag
        self._floats = floats and type_tag is None
        self._read = read
        self._write = write
        self._to_args = to_args
        self._from_args = from_args
        self._snap = snap
        self._sources = list(sources) or [widget]
        self._trait = trait
        self._lock = threading.Lock()  # counters: observers may run on a subshell thread
        self._local = threading.local()  # suppression depth, per thread
        self.sent = 0
        self.received = 0
        self.ignored_echoes = 0
        self.last_sent: list[Any] | None = None
        self.last_error: BaseException | None = None
        self._closed = False
        self._callbacks: list[Callable[[ValueChange], Any]] = []
        self.throttle: Throttle[list[Any]] = Throttle(
            self._send_args, _rate(throttle_hz), on_error=self._record_error
        )
        try:
            self._loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            self._loop = None
        for source in self._sources:
            source.observe(self._on_change, names=trait)
        self._dispatcher: Any = None
        self._handler: Any = None
        if dispatcher is not False:
            self._attach(dispatcher)
        for w in {id(widget): widget, **{id(s): s for s in self._sources}}.values():
            if hasattr(w, "add_class"):
                w.add_class("osc-control")
        if hasattr(widget, "add_class"):
            widget.add_class(css_class(address))
            if self.args:
                widget.add_class(css_class(address, self.args))
        with _REGISTRY_LOCK:
            _REGISTRY.add(self)
        #: keeps the page's widget messages on ipykernel's subshell after kernel-side changes
        self.route = PageRoute(_fix_kernel())
        _tell_watchers(self, True)

    # ------------------------------------------------------------------ outgoing
    @property
    def value(self) -> Any:
        """The control's current value (a tuple for :func:`~osc_live.widgets.xy`)."""
        return self._read()

    def message_args(self, value: Any = _NO_VALUE) -> list[Any]:
        """The full argument list that ``value`` (default: the current value) is sent as."""
        return [*self.args, *self._to_args(self._read() if value is _NO_VALUE else value)]

    def send(self) -> None:
        """Send the current value now (bypassing and resetting the throttle's pending value)."""
        self.throttle.cancel()
        self._send_args(self.message_args())

    def submit(self) -> None:
        """Offer the current value to the throttle (what a move of the control does)."""
        try:
            self.throttle.submit(self.message_args())
        except Exception as exc:  # shown as a class + log: an observer has no one to raise to
            self._record_error(exc)

    def _on_change(self, change: Any) -> None:
        if self._closed:
            return
        self.route.changed(change.get("owner", self.widget))
        if self._suppressed_here():
            return  # an incoming value: receive() tells the callbacks once it is applied
        if _same(change.get("old"), change.get("new")):
            return  # float noise (a page's log/pow round trip), not a move
        self.submit()
        self._tell(remote=False)

    def on_value(self, callback: Callable[[ValueChange], Any], *, remove: bool = False) -> None:
        """Call ``callback(change)`` (a :class:`ValueChange`) after every change of the value:
        a move in the page, a cell's assignment, a click (``remote=False``: it was also sent)
        or an incoming message (``remote=True``: nothing was sent). ``remove=True`` stops it.

        Callbacks run in the thread that made the change (the kernel's, or a subshell's with
        ipykernel 7); an exception is logged on ``osc_live.widgets``, never raised.
        """
        with self._lock:
            if remove:
                with contextlib.suppress(ValueError):
                    self._callbacks.remove(callback)
            elif callback not in self._callbacks:
                self._callbacks.append(callback)

    def _tell(self, *, remote: bool) -> None:
        with self._lock:
            callbacks = list(self._callbacks)
        if not callbacks:
            return
        value = self._read()
        change = ValueChange(self, value, self.message_args(value), remote)
        for callback in callbacks:
            try:
                callback(change)
            except Exception:
                _log.exception("on_value callback %r of %s failed", callback, self.address)

    def describe(self) -> ControlInfo:
        """What this control is and holds now: kind, type tags, value, ranges, label
        (see :class:`ControlInfo`)."""
        args = self.message_args()
        parts = [s for s in self._sources if hasattr(s, "value")] or [self.widget]
        if self.kind == "button":
            parts = []
        ranges, options = [], []
        for part in parts:
            ranges.append(range_of(part))
            options.append(options_of(part))
        step = getattr(self.widget, "step", None)
        log = range_of(self.widget) is not None and hasattr(self.widget, "base")
        return ControlInfo(
            address=self.address,
            args=self.args,
            kind=self.kind,
            type_tags=self._full_type_tags(args),
            value=tuple(args),
            ranges=tuple(ranges),
            options=tuple(options),
            label=self.label,
            log=log,
            step=float(step) if isinstance(step, int | float) else None,
            writable=self.kind != "button",
            follows=self._dispatcher is not None,
        )

    def _full_type_tags(self, args: Sequence[Any]) -> str:
        tags = self._type_tags(args)
        if tags is not None:
            return tags
        return "".join(infer_tag(a) for a in args)

    def _type_tags(self, args: Sequence[Any]) -> str | None:
        tag = self.type_tag
        if tag is None and self._floats:
            tag = _session_float_type()  # %config OscLive.float_type = 'd'
        if tag is None or tag in ("f", "i", "T", "F"):
            return None  # inferred by every send_message from the Python value
        n = len(args) - len(self.args)
        return "".join(infer_tag(a) for a in self.args) + tag * n

    def _send_args(self, args: list[Any]) -> None:
        target = _resolve_target(self.target)
        tags = self._type_tags(args)
        if tags is None:
            target.send_message(self.address, args)
        elif _accepts_type_tags(target):
            target.send_message(self.address, args, type_tags=tags)
        else:  # a python-osc style client: encode here, send the bytes as a message
            from osc_live.osc_message import OscMessage

            target.send(OscMessage.from_parts(self.address, args, tags))
        with self._lock:
            self.sent += 1
            self.last_sent = args
            recovered = self.last_error is not None
            self.last_error = None
        if recovered and hasattr(self.widget, "remove_class"):
            self.widget.remove_class("osc-error")

    def _record_error(self, exc: BaseException) -> None:
        with self._lock:
            first = self.last_error is None
            self.last_error = exc
        _log.warning(
            "sending %s to %s failed: %s", self.address, _describe_target(self.target), exc
        )
        if first and hasattr(self.widget, "add_class"):
            self.widget.add_class("osc-error")

    # ------------------------------------------------------------------ incoming
    def _attach(self, dispatcher: Any) -> None:
        if dispatcher is None:
            try:
                dispatcher = _session().dispatcher
            except ImportError:  # pragma: no cover - the live layer ships with the package
                _log.debug("no live session: %s is send-only", self.address)
                return
        self._dispatcher = dispatcher
        self._handler = dispatcher.map(self.address, self._on_incoming)

    def _on_incoming(self, address: str, *args: Any) -> None:
        """Dispatcher callback: may run on the kernel loop or on a listener thread."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            try:
                running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
            except RuntimeError:
                running = None
            if running is not loop and loop.is_running():
                loop.call_soon_threadsafe(self.receive, args)
                return
        self.receive(args)

    def receive(self, args: Sequence[Any]) -> bool:
        """Apply the arguments of an incoming message; return True if the control moved.

        The leading ``args`` of the binding must match (messages for another node or control
        are ignored). A binding whose leading args end with a control name also reads that
        control out of name/value pairs (SuperCollider's ``/n_set 1003 freq 440 amp 0.2`` moves
        the ``[1003, "amp"]`` control to 0.2). The value is put on the control's grid (by the
        control's validation, or ``snap``) and nothing is sent back.
        """
        if self._closed:
            return False
        k = len(self.args)
        if len(args) >= k and all(_same(a, b) for a, b in zip(args[:k], self.args, strict=True)):
            rest: Sequence[Any] = args[k:]
        else:
            found = _named_value(self.args, args)
            if found is None:
                return False
            rest = found
        value = self._from_args(rest)
        if value is _NO_VALUE:
            return False
        if self._snap is not None:
            value = self._snap(value)
        with self._lock:
            self.received += 1
        if _same(value, self._read()):
            with self._lock:
                self.ignored_echoes += 1
            return False
        self.throttle.cancel()  # the remote value is newer than anything still pending here
        with self.suppressed():
            self._write(value)
        self._tell(remote=True)
        return True

    def _suppressed_here(self) -> bool:
        depth: int = getattr(self._local, "depth", 0)
        return depth > 0

    @contextlib.contextmanager
    def suppressed(self) -> Iterator[None]:
        """Change the control inside this block without sending anything (this thread only)."""
        depth = getattr(self._local, "depth", 0)
        self._local.depth = depth + 1
        try:
            yield
        finally:
            self._local.depth = depth

    # ------------------------------------------------------------------ lifetime
    def close(self) -> None:
        """Unbind: stop observing, unmap from the dispatcher, cancel any pending send."""
        if self._closed:
            return
        self._closed = True
        for source in self._sources:
            with contextlib.suppress(ValueError):
                source.unobserve(self._on_change, names=self._trait)
        if self._dispatcher is not None and self._handler is not None:
            with contextlib.suppress(Exception):
                self._dispatcher.unmap(self.address, self._handler)
        self.throttle.close()
        with self._lock:
            self._callbacks.clear()
        with _REGISTRY_LOCK:
            _REGISTRY.discard(self)
        _tell_watchers(self, False)

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._closed

    def __repr__(self) -> str:
        lead = " ".join(repr(a) for a in self.args)
        return (
            f"<osc Binding {self.address}{' ' + lead if lead else ''} → "
            f"{_describe_target(self.target)} sent={self.sent} received={self.received}"
            f"{' closed' if self._closed else ''}>"
        )


def bindings() -> list[Binding]:
    """Every open binding in this process."""
    with _REGISTRY_LOCK:
        return list(_REGISTRY)


def watch(callback: Callable[[Binding, bool], Any], *, remove: bool = False) -> None:
    """Call ``callback(binding, alive)`` after every binding of this process is created
    (``alive=True``, once it is complete and listed by :func:`bindings`) or closed (``False``);
    ``remove=True`` stops it. A served OSCQuery namespace follows the controls this way.

    Callbacks run in the thread that created or closed the binding and must be quick; an
    exception is logged on ``osc_live.widgets``, never raised.
    """
    with _REGISTRY_LOCK:
        if remove:
            with contextlib.suppress(ValueError):
                _WATCHERS.remove(callback)
        elif callback not in _WATCHERS:
            _WATCHERS.append(callback)


def _tell_watchers(binding: Binding, alive: bool) -> None:
    with _REGISTRY_LOCK:
        watchers = list(_WATCHERS)
    for callback in watchers:
        try:
            callback(binding, alive)
        except Exception:
            _log.exception("binding watcher %r failed for %s", callback, binding.address)


def close_all() -> None:
    """Close every binding (the widgets stay on screen but no longer send or follow)."""
    for b in bindings():
        b.close()
