"""ipywidgets controls bound to OSC addresses: two-way, rate-limited, any target.

::

    import osc_live
    osc_live.slider("/fx/reverb", 0.0, 1.0)            # a real ipywidgets FloatSlider
    osc_live.slider("/n_set", 20, 2000, args=(1000, "freq"), log=True)  # /n_set 1000 "freq" <v>
    osc_live.panel({"/fx/reverb": (0.0, 1.0), "/fx/on": True, "/pad": {"kind": "xy"}})

Every control returned here is a genuine ipywidgets widget (``FloatSlider``, ``IntSlider``,
``FloatLogSlider``, ``ToggleButton``, ``Button``, or a ``Box`` for :func:`xy` and :func:`panel`)
with an extra attribute ``.osc``, its :class:`Binding`. The binding

* **sends** the control's value to ``address`` on its target whenever the value changes, through
  a per-control :class:`~osc_live._throttle.Throttle` (at most ``throttle_hz`` sends a second,
  leading edge immediate, trailing edge always delivering the final value);
* **receives**: it maps ``address`` on the kernel session's dispatcher
  (``osc_live.live.session().dispatcher``), so with a listener running an incoming message on that
  address moves the control *without sending it back*: the value observer is suppressed during
  the programmatic update, a pending trailing send is cancelled, and a value equal to the current
  one within a float32 tolerance is ignored altogether;
* carries stable CSS classes: ``osc-control`` and ``osc-addr--<address>`` (``/fx/reverb`` →
  ``osc-addr--fx-reverb``; with leading ``args`` a second, more specific class
  ``osc-addr--n_set--1000-freq``), so tests and stylesheets can find it.

Session settings apply: ``%config OscLive.throttle_hz = 30`` changes the default rate of the
controls made afterwards, ``%config OscLive.float_type = 'd'`` makes float controls (without an
explicit ``type_tag``) send float64.

``target`` may be a ``Target`` of the live session, a target *name* of that session, ``None``
(the session's default target, looked up at each send, so ``%osc connect`` re-points every
control bound to the default), or any object with a python-osc style ``send_message`` (a
``SimpleUDPClient``, an osc_live TCP client, ...). Names and ``None`` are resolved lazily: a
control may be created before the target is connected.

The value observer runs where ipywidgets runs it: on the kernel's asyncio loop for changes made
in the browser or by cell code. Messages arriving on a threaded listener are handed over to the
loop the control was created on (``call_soon_threadsafe``), so widget state is only ever touched
from one thread. For an update coming from the browser the OSC message is sent before
ipywidgets' ``echo_update`` reply to the page (see :meth:`Binding._install_send_first`); for a
change made in kernel code (``slider.value = v``) it is sent before ipywidgets syncs the new state
to the page (see :meth:`Binding._install_early_send`).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import math
import re
import struct
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import ipywidgets as W

from osc_live._throttle import Throttle

__all__ = [
    "DEFAULT_THROTTLE_HZ",
    "Binding",
    "SupportsSendMessage",
    "bind",
    "bindings",
    "button",
    "close_all",
    "css_class",
    "panel",
    "slider",
    "toggle",
    "xy",
]

_log = logging.getLogger("osc_live.widgets")

#: Relative tolerance used to decide that an incoming value equals the control's value
#: (float32 has a 24-bit mantissa: 2**-24 ≈ 6e-8; 1e-6 leaves room for a decimal round trip).
REL_TOL = 1e-6
ABS_TOL = 1e-9

_NO_VALUE = object()


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


# ---------------------------------------------------------------------------- values
def _tidy_float(value: float) -> float:
    """Undo a float32 round trip: 0.30000001192092896 → 0.3 (other floats unchanged)."""
    try:
        as32 = struct.unpack(">f", struct.pack(">f", value))[0]
    except (OverflowError, struct.error):
        return value
    if as32 != value or not math.isfinite(value) or value == 0.0:
        return value
    return float(f"{value:.7g}")


def _same(a: Any, b: Any) -> bool:
    """Equality with a float32-aware tolerance for numbers (tuples compared element-wise)."""
    if isinstance(a, tuple | list) and isinstance(b, tuple | list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, bool) or isinstance(b, bool):
        return bool(a) == bool(b)
    if isinstance(a, int | float) and isinstance(b, int | float):
        return math.isclose(a, b, rel_tol=REL_TOL, abs_tol=ABS_TOL)
    return bool(a == b)


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _infer_tag(arg: Any) -> str:
    if arg is True:
        return "T"
    if arg is False:
        return "F"
    if arg is None:
        return "N"
    if isinstance(arg, int):
        return "i" if -(2**31) <= arg < 2**31 else "h"
    if isinstance(arg, float):
        return "f"
    if isinstance(arg, str):
        return "s"
    if isinstance(arg, bytes | bytearray):
        return "b"
    raise TypeError(f"cannot infer an OSC type tag for {arg!r}; give type_tag")


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


# ---------------------------------------------------------------------------- the binding
_REGISTRY: set[Binding] = set()
_REGISTRY_LOCK = threading.Lock()


class Binding:
    """The two-way link between one widget (or group of widgets) and one OSC address.

    Usually made by :func:`slider`, :func:`toggle`, :func:`xy` or :func:`bind` and reached as
    ``control.osc``. Attributes worth knowing:

    ``address``, ``args`` (leading arguments sent before the value), ``target`` (as given),
    ``throttle`` (the :class:`~osc_live._throttle.Throttle`), ``sent`` / ``received`` /
    ``ignored_echoes`` counters, ``last_sent`` (the argument list of the last message sent),
    ``last_error`` (the last exception raised by a send, also logged to ``osc_live.widgets``).
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
    ) -> None:
        if not isinstance(address, str) or not address.startswith("/"):
            raise ValueError(f"an OSC address starts with '/', got {address!r}")
        self.widget = widget
        self.address = address
        self.args: tuple[Any, ...] = tuple(args)
        self.target = target
        self.type_tag = type_tag
        self._floats = floats and type_tag is None
        self._read = read
        self._write = write
        self._to_args = to_args
        self._from_args = from_args
        self._sources = list(sources) or [widget]
        self._trait = trait
        self.sent = 0
        self.received = 0
        self.ignored_echoes = 0
        self.last_sent: list[Any] | None = None
        self.last_error: BaseException | None = None
        self._suppress = 0
        self._closed = False
        self.throttle: Throttle[list[Any]] = Throttle(
            self._send_args, _rate(throttle_hz), on_error=self._record_error
        )
        try:
            self._loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            self._loop = None
        self._fast_paths: list[tuple[Any, Any, Any]] = []
        self._early_hooks: dict[int, tuple[Any, Callable[[Any], None]]] = {}
        self._early: list[Any] = []  # changes already submitted by the notify_change hook
        for source in self._sources:
            source.observe(self._on_change, names=trait)
            self._install_send_first(source)
            self._install_early_send(source)
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

    # ------------------------------------------------------------------ outgoing
    @property
    def value(self) -> Any:
        """The control's current value (a tuple for :func:`xy`)."""
        return self._read()

    def message_args(self, value: Any = _NO_VALUE) -> list[Any]:
        """The full argument list that ``value`` (default: the current value) is sent as."""
        return [*self.args, *self._to_args(self._read() if value is _NO_VALUE else value)]

    def send(self) -> None:
        """Send the current value now (bypassing and resetting the throttle's pending value)."""
        self.throttle.cancel()
        self._send_args(self.message_args())

    def _install_send_first(self, source: Any) -> None:
        """Send the OSC message before ipywidgets' echo of a browser update, not after it.

        ipywidgets 8 answers every update from the page with an ``echo_update`` message, sent in
        ``set_state`` *before* the new value is applied: in a kernel that puts a ZMQ send
        (~0.3 ms) in front of ours. For bound widgets the comm callback is wrapped so that echo
        messages produced while handling an update are held back and sent right after it: the
        value, its validation and the observers are ipywidgets' own, only the order of the two
        sends changes. Widgets without a comm callback (closed, or no kernel machinery) are left
        alone.
        """
        comm = getattr(source, "comm", None)
        callback = getattr(comm, "_msg_callback", None)
        if comm is None or callback is None or not hasattr(comm, "on_msg"):
            return
        send = source._send  # the bound method of the class

        def send_first(msg: Any) -> None:
            held: list[tuple[Any, Any]] = []

            def hold_echo(message: Any, buffers: Any = None) -> None:
                if isinstance(message, dict) and message.get("method") == "echo_update":
                    held.append((message, buffers))
                else:
                    send(message, buffers=buffers)

            source._send = hold_echo
            try:
                callback(msg)
            finally:
                with contextlib.suppress(AttributeError):
                    del source._send  # back to the class method
                for message, buffers in held:
                    send(message, buffers=buffers)
                self._arm(source)  # set_state's hold_trait_notifications removed the hook

        comm.on_msg(send_first)
        self._fast_paths.append((comm, callback, send_first))

    def _install_early_send(self, source: Any) -> None:
        """Send the OSC message before ipywidgets' state sync of a change made in kernel code.

        ipywidgets 8's ``Widget.notify_change`` first sends the new state to the page (a ZMQ
        send, ~0.3 ms) and only then runs the traitlets observers, ours included. For bound
        widgets an instance-level ``notify_change`` submits the message first and then calls
        the class's own ``notify_change`` unchanged (validation already happened, the frontend
        sync, ``_property_lock`` and every observer are ipywidgets'/traitlets'; our observer
        skips the change already submitted). traitlets' ``hold_trait_notifications`` (used by
        ``set_state``) deletes instance attributes named ``notify_change``: the hook is put back
        after each browser update and by the observer, so at worst one change goes out in the
        old order. Objects that are not ipywidgets widgets are left alone.
        """
        if not isinstance(source, W.Widget):
            return
        original = type(source).notify_change
        name = self._trait

        def notify_change_osc_first(change: Any) -> None:
            early = (
                not self._suppress
                and not self._closed
                and isinstance(change, Mapping)
                and change.get("name") == name
                and change.get("type") == "change"
            )
            if not early:
                original(source, change)
                return
            self._early.append(change)
            try:
                try:
                    self.throttle.submit(self.message_args())
                except Exception as exc:  # as in _on_change: an observer has no one to raise to
                    self._record_error(exc)
                original(source, change)
            finally:
                self._early.remove(change)

        self._early_hooks[id(source)] = (source, notify_change_osc_first)
        self._arm(source)

    def _arm(self, source: Any) -> None:
        """(Re)install the early-send hook on ``source`` unless something else is installed."""
        entry = self._early_hooks.get(id(source))
        if entry is None or self._closed or entry[0] is not source:
            return
        if "notify_change" not in vars(source):  # never replace traitlets' own hold()
            source.notify_change = entry[1]

    def _on_change(self, change: Mapping[str, Any]) -> None:
        if self._suppress or self._closed:
            return
        if any(c is change for c in self._early):
            return  # already submitted before ipywidgets' state sync
        self._arm(change.get("owner"))
        try:
            self.throttle.submit(self.message_args())
        except Exception as exc:  # shown as a class + log: an observer has no one to raise to
            self._record_error(exc)

    def _type_tags(self, args: Sequence[Any]) -> str | None:
        tag = self.type_tag
        if tag is None and self._floats:
            tag = _session_float_type()  # %config OscLive.float_type = 'd'
        if tag is None or tag in ("f", "i", "T", "F"):
            return None  # inferred by every send_message from the Python value
        n = len(args) - len(self.args)
        return "".join(_infer_tag(a) for a in self.args) + tag * n

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
        self.sent += 1
        self.last_sent = args
        if self.last_error is not None:
            self.last_error = None
            if hasattr(self.widget, "remove_class"):
                self.widget.remove_class("osc-error")

    def _record_error(self, exc: BaseException) -> None:
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
        are ignored). Nothing is sent back.
        """
        if self._closed:
            return False
        k = len(self.args)
        if len(args) < k or not all(_same(a, b) for a, b in zip(args[:k], self.args, strict=True)):
            return False
        value = self._from_args(args[k:])
        if value is _NO_VALUE:
            return False
        self.received += 1
        if _same(value, self._read()):
            self.ignored_echoes += 1
            return False
        self.throttle.cancel()  # the remote value is newer than anything still pending here
        with self.suppressed():
            self._write(value)
        return True

    @contextlib.contextmanager
    def suppressed(self) -> Iterator[None]:
        """Change the control inside this block without sending anything."""
        self._suppress += 1
        try:
            yield
        finally:
            self._suppress -= 1

    # ------------------------------------------------------------------ lifetime
    def close(self) -> None:
        """Unbind: stop observing, unmap from the dispatcher, cancel any pending send."""
        if self._closed:
            return
        self._closed = True
        for source in self._sources:
            with contextlib.suppress(ValueError):
                source.unobserve(self._on_change, names=self._trait)
        for comm, original, ours in self._fast_paths:
            if getattr(comm, "_msg_callback", None) is ours:
                comm.on_msg(original)
        self._fast_paths.clear()
        for source, hook in self._early_hooks.values():
            if vars(source).get("notify_change") is hook:
                del source.notify_change  # back to the class method
        self._early_hooks.clear()
        if self._dispatcher is not None and self._handler is not None:
            with contextlib.suppress(Exception):
                self._dispatcher.unmap(self.address, self._handler)
        self.throttle.close()
        with _REGISTRY_LOCK:
            _REGISTRY.discard(self)

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


def close_all() -> None:
    """Close every binding (the widgets stay on screen but no longer send or follow)."""
    for b in bindings():
        b.close()


# ---------------------------------------------------------------------------- bind()
def _scalar_from_args(kind: Callable[[Any], Any]) -> Callable[[Sequence[Any]], Any]:
    def from_args(args: Sequence[Any]) -> Any:
        if not args or not _is_number(args[0]):
            return _NO_VALUE
        x = args[0]
        if kind is int:
            return round(x)
        return _tidy_float(float(x))

    return from_args


def bind(
    widget: Any,
    address: str,
    *,
    args: Sequence[Any] = (),
    target: Any = None,
    throttle_hz: float | None = DEFAULT_THROTTLE_HZ,
    type_tag: str | None = None,
    dispatcher: Any = None,
) -> Any:
    """Bind any existing ipywidgets value widget to ``address`` and return it.

    Numbers are sent as one argument (``int`` for integer widgets, ``float`` otherwise), booleans
    as ``1`` / ``0``, anything else as is. See the module documentation for ``target``,
    ``throttle_hz`` and ``dispatcher`` (``False``: send only, do not follow incoming messages).
    """
    current = widget.value
    to_args: Callable[[Any], list[Any]]
    from_args: Callable[[Sequence[Any]], Any]
    if isinstance(current, bool):
        to_args = _bool_to_args(1, 0)
        from_args = _bool_from_args(1, 0)
    elif isinstance(current, int) or type_tag == "i":
        to_args = _int_to_args
        from_args = _scalar_from_args(int)
    elif isinstance(current, float):
        to_args = _float_to_args
        from_args = _scalar_from_args(float)
    else:
        to_args = _any_to_args
        from_args = _first_arg

    def write(v: Any) -> None:
        widget.value = v

    widget.osc = Binding(
        widget,
        address,
        read=lambda: widget.value,
        write=write,
        to_args=to_args,
        from_args=from_args,
        args=args,
        target=target,
        throttle_hz=throttle_hz,
        type_tag=type_tag,
        dispatcher=dispatcher,
        floats=to_args is _float_to_args,
    )
    return widget


def _float_to_args(v: Any) -> list[Any]:
    return [float(v)]


def _int_to_args(v: Any) -> list[Any]:
    return [int(v)]


def _any_to_args(v: Any) -> list[Any]:
    return [v]


def _first_arg(args: Sequence[Any]) -> Any:
    return args[0] if args else _NO_VALUE


def _bool_to_args(on: Any, off: Any) -> Callable[[Any], list[Any]]:
    def to_args(v: Any) -> list[Any]:
        return [on if v else off]

    return to_args


def _bool_from_args(on: Any, off: Any) -> Callable[[Sequence[Any]], Any]:
    def from_args(args: Sequence[Any]) -> Any:
        if not args:
            return _NO_VALUE
        x = args[0]
        if _same(x, on):
            return True
        if _same(x, off):
            return False
        return bool(x)

    return from_args


# ---------------------------------------------------------------------------- slider
def _decimals(step: float) -> int:
    if step <= 0 or not math.isfinite(step):
        return 2
    return max(0, min(8, math.ceil(-math.log10(step) - 1e-9)))


def slider(
    address: str,
    min: float = 0.0,
    max: float = 1.0,
    step: float | None = None,
    *,
    target: Any = None,
    log: bool = False,
    throttle_hz: float | None = DEFAULT_THROTTLE_HZ,
    value: float | None = None,
    type_tag: str | None = None,
    args: Sequence[Any] = (),
    description: str | None = None,
    dispatcher: Any = None,
    **widget_kwargs: Any,
) -> Any:
    """A slider bound to ``address``: ``FloatSlider``, ``IntSlider`` or ``FloatLogSlider``.

    ``min``/``max`` are the real bounds (also with ``log=True``, which needs ``min > 0``).
    An ``IntSlider`` is made when ``min``, ``max`` (and ``step`` and ``value`` when given) are
    ints, or when ``type_tag="i"``. ``step`` defaults to 1 for ints and ``(max - min) / 100``
    otherwise; for log sliders ``step`` is in decades (default 1/1000 of the range). ``value``
    defaults to ``min``; creating the slider sends nothing. ``type_tag`` forces the tag of the
    value (``"d"`` for doubles; ``"f"`` and ``"i"`` are what is inferred anyway).
    ``args`` are sent before the value:
    ``slider("/n_set", 20, 2000, args=(1000, "freq"))`` sends ``/n_set 1000 "freq" 440.0``.
    Remaining keyword arguments go to the ipywidgets constructor (``layout``, ``style``,
    ``continuous_update``, ``readout_format``...).
    """
    lo, hi = min, max
    if not (_is_number(lo) and _is_number(hi)) or not lo < hi:
        raise ValueError(f"slider needs numbers min < max, got {lo!r}, {hi!r}")
    is_int = type_tag == "i" or (
        not log
        and all(isinstance(x, int) and not isinstance(x, bool) for x in (lo, hi))
        and (step is None or isinstance(step, int))
        and (value is None or isinstance(value, int))
    )
    kwargs: dict[str, Any] = {
        "description": address if description is None else description,
        "continuous_update": True,
        "style": {"description_width": "initial"},
    }
    widget: Any
    if log:
        if lo <= 0:
            raise ValueError(f"a log slider needs min > 0, got {lo!r}")
        # A hair beyond the bounds: 10 ** log10(20) is 20.000000000000004, which would clamp
        # value=20 upwards.
        lmin, lmax = math.log10(lo) - 1e-12, math.log10(hi) + 1e-12
        # fine enough that the page's snap to the step grid stays within the 3-digit readout
        lstep = float(step) if step is not None else (lmax - lmin) / 1000
        start = float(value) if value is not None else float(lo)
        kwargs.update(
            min=lmin, max=lmax, step=lstep, base=10.0, value=start,
            readout_format=".3g",
        )  # fmt: skip
        kwargs.update(widget_kwargs)
        widget = W.FloatLogSlider(**kwargs)
    elif is_int:
        kwargs.update(
            min=int(lo), max=int(hi), step=int(step or 1),
            value=int(value) if value is not None else int(lo),
        )  # fmt: skip
        kwargs.update(widget_kwargs)
        widget = W.IntSlider(**kwargs)
    else:
        fstep = float(step) if step is not None else (float(hi) - float(lo)) / 100
        kwargs.update(
            min=float(lo), max=float(hi), step=fstep,
            value=float(value) if value is not None else float(lo),
            readout_format=f".{_decimals(fstep)}f",
        )  # fmt: skip
        kwargs.update(widget_kwargs)
        widget = W.FloatSlider(**kwargs)
    widget.add_class("osc-slider")
    return bind(
        widget, address, args=args, target=target, throttle_hz=throttle_hz,
        type_tag="i" if is_int and type_tag is None else type_tag, dispatcher=dispatcher,
    )  # fmt: skip


# ---------------------------------------------------------------------------- toggle
def toggle(
    address: str,
    value: bool = False,
    *,
    on: Any = 1,
    off: Any = 0,
    target: Any = None,
    throttle_hz: float | None = DEFAULT_THROTTLE_HZ,
    args: Sequence[Any] = (),
    description: str | None = None,
    dispatcher: Any = None,
    **widget_kwargs: Any,
) -> Any:
    """A ``ToggleButton`` bound to ``address``: sends ``on`` (default ``1``) or ``off`` (``0``).

    Use ``on=True, off=False`` for devices that want OSC ``T``/``F``. Incoming ``on``/``off``
    (or any truthy / falsy argument) sets the button.
    """
    kwargs: dict[str, Any] = {"description": address if description is None else description}
    kwargs.update(widget_kwargs)
    widget = W.ToggleButton(value=bool(value), **kwargs)
    widget.add_class("osc-toggle")

    def write(v: Any) -> None:
        widget.value = bool(v)

    widget.osc = Binding(
        widget, address, read=lambda: widget.value, write=write,
        to_args=_bool_to_args(on, off), from_args=_bool_from_args(on, off), args=args,
        target=target, throttle_hz=throttle_hz, dispatcher=dispatcher,
    )  # fmt: skip
    return widget


# ---------------------------------------------------------------------------- button
class _Clicks:
    """The state a ``Button`` does not have: how many times it was pressed."""

    def __init__(self) -> None:
        self.count = 0


def button(
    address: str,
    *values: Any,
    target: Any = None,
    args: Sequence[Any] = (),
    description: str | None = None,
    dispatcher: Any = False,
    **widget_kwargs: Any,
) -> Any:
    """A ``Button`` that sends ``address`` with ``args`` + ``values`` on every click.

    Clicks are not throttled (each one is an event). ``button.osc.send()`` clicks from code.
    With ``dispatcher=None`` an incoming message on the address counts as a remote press
    (``button.osc.received``) without sending anything.
    """
    kwargs: dict[str, Any] = {"description": address if description is None else description}
    kwargs.update(widget_kwargs)
    widget = W.Button(**kwargs)
    widget.add_class("osc-button")
    clicks = _Clicks()
    payload = list(values)

    def from_args(a: Sequence[Any]) -> Any:
        return clicks.count + 1

    def write(v: Any) -> None:
        clicks.count = int(v)

    binding = Binding(
        widget, address, read=lambda: clicks.count, write=write,
        to_args=lambda _v: list(payload), from_args=from_args, sources=[_NullSource()],
        args=args, target=target, throttle_hz=None, dispatcher=dispatcher,
    )  # fmt: skip

    def on_click(_b: Any) -> None:
        clicks.count += 1
        try:
            binding.throttle.submit(binding.message_args())
        except Exception as exc:
            binding._record_error(exc)

    widget.on_click(on_click)
    widget.osc = binding
    return widget


class _NullSource:
    """A stand-in observable for controls that have no value trait (``Button``)."""

    def observe(self, handler: Any, names: Any = None) -> None:
        """Nothing to observe."""

    def unobserve(self, handler: Any, names: Any = None) -> None:
        """Nothing to stop observing."""


# ---------------------------------------------------------------------------- xy
def xy(
    address: str,
    x: tuple[float, float] = (0.0, 1.0),
    y: tuple[float, float] = (0.0, 1.0),
    value: tuple[float, float] | None = None,
    *,
    step: float | None = None,
    target: Any = None,
    throttle_hz: float | None = DEFAULT_THROTTLE_HZ,
    type_tag: str | None = None,
    args: Sequence[Any] = (),
    description: str | None = None,
    dispatcher: Any = None,
) -> Any:
    """Two sliders sending one message with two arguments: ``address x y``.

    Returns a ``VBox`` (classes ``osc-control osc-xy osc-addr--…``) whose ``.x`` and ``.y`` are
    the sliders; ``box.osc.value`` is the ``(x, y)`` tuple. An incoming ``address x y`` moves
    both without sending back.
    """
    x0, y0 = value if value is not None else (x[0], y[0])

    def make(name: str, lo: float, hi: float, v: float) -> Any:
        s = (hi - lo) / 100 if step is None else step
        w = W.FloatSlider(
            min=float(lo), max=float(hi), step=s, value=float(v), description=name,
            continuous_update=True, readout_format=f".{_decimals(s)}f",
        )  # fmt: skip
        w.add_class(f"osc-{name}")
        return w

    xs, ys = make("x", x[0], x[1], x0), make("y", y[0], y[1], y0)
    title = W.Label(address if description is None else description)
    box = W.VBox([title, xs, ys])
    box.add_class("osc-xy")
    box.x, box.y = xs, ys

    def write(v: Any) -> None:
        xs.value, ys.value = v

    def from_args(a: Sequence[Any]) -> Any:
        if len(a) < 2 or not (_is_number(a[0]) and _is_number(a[1])):
            return _NO_VALUE
        return (_tidy_float(float(a[0])), _tidy_float(float(a[1])))

    box.osc = Binding(
        box, address, read=lambda: (xs.value, ys.value), write=write,
        to_args=lambda v: [float(v[0]), float(v[1])], from_args=from_args, sources=[xs, ys],
        args=args, target=target, throttle_hz=throttle_hz, type_tag=type_tag,
        dispatcher=dispatcher, floats=True,
    )  # fmt: skip
    return box


# ---------------------------------------------------------------------------- panel
def _parse_key(key: str) -> tuple[str, tuple[Any, ...]]:
    """``"/n_set 1000 freq"`` → ``("/n_set", (1000, "freq"))``."""
    address, *rest = key.split()
    lead: list[Any] = []
    for tok in rest:
        for conv in (int, float):
            try:
                lead.append(conv(tok))
                break
            except ValueError:
                continue
        else:
            lead.append(tok)
    return address, tuple(lead)


def _make_control(key: str, spec: Any, common: dict[str, Any]) -> tuple[str, Any]:
    """Build one control of a panel; return ``(label, widget)``."""
    if hasattr(spec, "osc") and isinstance(getattr(spec, "osc", None), Binding):
        return key, spec  # an already bound control
    address, lead = _parse_key(key)
    options: dict[str, Any]
    if isinstance(spec, bool):
        options = {"kind": "toggle", "value": spec}
    elif isinstance(spec, str):
        options = {"kind": spec}
    elif isinstance(spec, Mapping):
        options = dict(spec)
    elif isinstance(spec, tuple | list) and 2 <= len(spec) <= 3:
        options = {"kind": "slider", "min": spec[0], "max": spec[1]}
        if len(spec) == 3:
            options["step"] = spec[2]
    elif spec is None:
        options = {"kind": "slider"}
    else:
        raise TypeError(
            f"panel: cannot make a control for {key!r} from {spec!r} (use (min, max[, step]), "
            "a dict, True/False for a toggle, 'button', 'xy' or a bound control)"
        )
    kind = options.pop("kind", "slider")
    label = options.pop("label", key)
    if "args" in options:
        lead = lead + tuple(options.pop("args"))
    kw = {**common, **options, "args": lead, "description": ""}
    if kind == "slider":
        return label, slider(address, **kw)
    if kind == "toggle":
        kw["description"] = options.get("description", "on")
        return label, toggle(address, **kw)
    if kind == "button":
        kw.pop("throttle_hz", None)
        values = kw.pop("values", ())
        kw["description"] = options.get("description", "send")
        return label, button(address, *values, **kw)
    if kind == "xy":
        kw["description"] = options.get("description", "")
        return label, xy(address, **kw)
    raise ValueError(f"panel: unknown kind {kind!r} for {key!r} (slider, toggle, button, xy)")


def panel(
    controls: Mapping[str, Any],
    *,
    target: Any = None,
    throttle_hz: float | None = DEFAULT_THROTTLE_HZ,
    title: str | None = None,
    label_width: str = "12em",
    dispatcher: Any = None,
) -> Any:
    """Lay out several bound controls with labels; return a ``VBox`` (class ``osc-panel``).

    Keys are addresses, optionally followed by leading arguments (``"/n_set 1000 freq"``).
    Values ("specs"): ``(min, max)`` or ``(min, max, step)`` for a slider; a ``dict`` of
    :func:`slider` / :func:`toggle` / :func:`button` / :func:`xy` keyword arguments with an
    optional ``"kind"`` (default ``"slider"``) and ``"label"``; ``True``/``False`` for a toggle;
    ``"button"``, ``"toggle"``, ``"xy"``; or a control already made by this module.
    ``target``, ``throttle_hz`` and ``dispatcher`` apply to every control made here.
    ``box.controls`` maps each key to its control.
    """
    common: dict[str, Any] = {"target": target, "throttle_hz": throttle_hz}
    if dispatcher is not None:
        common["dispatcher"] = dispatcher
    rows: list[Any] = []
    made: dict[str, Any] = {}
    if title:
        heading = W.HTML(f"<b>{_escape(title)}</b>")
        rows.append(heading)
    for key, spec in controls.items():
        if not isinstance(key, str) or not key.startswith("/"):
            raise ValueError(f"panel keys are OSC addresses starting with '/', got {key!r}")
        label, control = _make_control(key, spec, dict(common))
        made[key] = control
        lab = W.Label(str(label), layout=W.Layout(width=label_width))
        lab.add_class("osc-label")
        rows.append(W.HBox([lab, control]))
    box = W.VBox(rows)
    box.add_class("osc-panel")
    box.controls = made
    return box


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
