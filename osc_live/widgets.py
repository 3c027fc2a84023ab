"""ipywidgets controls bound to OSC addresses: two-way, rate-limited, any target.

::

    import osc_live
    osc_live.slider("/fx/reverb", 0.0, 1.0)            # an ipywidgets FloatSlider
    osc_live.slider("/n_set", 20, 2000, args=(1000, "freq"), log=True)  # /n_set 1000 "freq" <v>
    osc_live.panel({"/fx/reverb": (0.0, 1.0), "/fx/on": True, "/pad": {"kind": "xy"}})

Every control returned here is a genuine ipywidgets widget (subclasses of ``FloatSlider``,
``IntSlider`` and ``FloatLogSlider`` that validate their value, ``ToggleButton``, ``Button``, or
a ``Box`` for :func:`xy` and :func:`panel`) with an extra attribute ``.osc``, its
:class:`~osc_live.notebook._binding.Binding`. The binding

* **sends** the control's value to ``address`` on its target whenever the value changes (a drag,
  a key press, ``control.value = v`` in a cell), through a per-control throttle (at most
  ``throttle_hz`` sends a second, leading edge immediate, trailing edge always delivering the
  final value);
* **receives**: it maps ``address`` on the kernel session's dispatcher
  (``osc_live.live.session().dispatcher``), so with a listener running an incoming message on that
  address moves the control *without sending it back*;
* carries stable CSS classes: ``osc-control`` and ``osc-addr--<address>`` (``/fx/reverb`` →
  ``osc-addr--fx-reverb``; with leading ``args`` a second, more specific class
  ``osc-addr--n_set--1000-freq``), so tests and stylesheets can find it.

What the page shows is what the kernel holds: a slider's value is validated once, in the kernel,
onto the grid the page uses (:mod:`osc_live.notebook._sliders`), so displaying a control sends
nothing and keeps its value, an incoming value is never rounded by the page and sent back, and
a drag after any number of incoming values sends.

Session settings apply: ``%config OscLive.throttle_hz = 30`` changes the default rate of the
controls made afterwards, ``%config OscLive.float_type = 'd'`` makes float controls (without an
explicit ``type_tag``) send float64.

``target`` may be a ``Target`` of the live session, a target *name* of that session, ``None``
(the session's default target, looked up at each send, so ``%osc connect`` re-points every
control bound to the default), or any object with a python-osc style ``send_message`` (a
``SimpleUDPClient``, an osc_live TCP client, ...). Names and ``None`` are resolved lazily: a
control may be created before the target is connected.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import ipywidgets as W

from osc_live.notebook._binding import (
    _NO_VALUE,
    DEFAULT_THROTTLE_HZ,
    Binding,
    SupportsSendMessage,
    _is_number,
    _same,
    _tidy_float,
    bindings,
    close_all,
    css_class,
)
from osc_live.notebook._sliders import (
    OscFloatSlider,
    OscIntSlider,
    OscLogSlider,
    decimals,
    default_step,
    readout_decimals,
    snap_linear,
    snap_log,
)

__all__ = [
    "DEFAULT_THROTTLE_HZ",
    "Binding",
    "OscFloatSlider",
    "OscIntSlider",
    "OscLogSlider",
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

    Incoming values for a stock ipywidgets slider (``FloatSlider``, ``IntSlider``,
    ``FloatLogSlider``) are put on its step grid before they are set, so its page has nothing
    to round. Values a cell assigns to a stock slider are not validated: the page rounds one off
    its grid and sends the rounded value back, which is a move (it is sent). The sliders made by
    :func:`slider` validate every value and have no such case.
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
        to_args = _grid_to_args(widget)
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
        floats=isinstance(current, float) and not isinstance(current, bool),
        snap=_stock_snap(widget),
    )
    return widget


def _stock_snap(widget: Any) -> Callable[[Any], Any] | None:
    """The grid of a stock ipywidgets slider (None for ours, which validate themselves)."""
    if isinstance(widget, OscFloatSlider | OscIntSlider | OscLogSlider):
        return None
    if isinstance(widget, W.FloatLogSlider):
        base = widget.base

        def snap_stock_log(v: Any) -> Any:
            lo, hi = base**widget.min, base**widget.max
            if base != 10:
                return min(max(v, lo), hi)
            return snap_log(v, lo, hi, widget.step, 15)

        return snap_stock_log
    if isinstance(widget, W.FloatSlider | W.IntSlider):
        kind = int if isinstance(widget, W.IntSlider) else float

        def snap_stock(v: Any) -> Any:
            return kind(snap_linear(v, widget.min, widget.max, widget.step))

        return snap_stock
    return None


def _float_to_args(v: Any) -> list[Any]:
    return [float(v)]


def _grid_decimals(widget: Any) -> int | None:
    """Decimals of a linear slider's grid (its value is the page's double, 440.00000000000006:
    the message carries 440.0); None when the grid is not decimal or the widget has none."""
    if isinstance(widget, W.FloatLogSlider) or not isinstance(widget, W.FloatSlider):
        return None
    step, lo = widget.step, widget.min
    if not step or decimals(step) is None or decimals(lo) is None:
        return None
    return max(decimals(step) or 0, decimals(lo) or 0)


def _grid_to_args(widget: Any) -> Callable[[Any], list[Any]]:
    def to_args(v: Any) -> list[Any]:
        d = _grid_decimals(widget)
        return [float(v) if d is None else round(float(v), d)]

    return to_args


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
    """A slider bound to ``address``: an ``OscFloatSlider``, ``OscIntSlider`` or ``OscLogSlider``.

    ``min``/``max`` are the real bounds (also with ``log=True``, which needs ``min > 0``).
    An int slider is made when ``min``, ``max`` (and ``step`` and ``value`` when given) are
    ints, or when ``type_tag="i"``. ``step`` defaults to 1 for ints and otherwise to the largest
    power of ten ≤ ``(max - min) / 100`` of which ``min`` is a multiple (``0..1``: 0.01,
    ``20..2000``: 10); every value (from code, OSC or the page) is put on ``min + k * step``.
    For log sliders ``step`` is in decades and optional: without it the page moves continuously
    and values keep 6 significant digits (880 stays 880); with it values snap to
    ``min * 10 ** (k * step)`` and the arrow keys move one step. ``value`` defaults to ``min``;
    creating or displaying the slider sends nothing. ``type_tag`` forces the tag of the value
    (``"d"`` for doubles; ``"f"`` and ``"i"`` are what is inferred anyway). ``args`` are sent
    before the value:
    ``slider("/n_set", 20, 2000, args=(1000, "freq"))`` sends ``/n_set 1000 "freq" 440.0``.
    Remaining keyword arguments go to the ipywidgets constructor (``layout``, ``style``,
    ``continuous_update``, ``readout_format``...). The readout shows the step's decimals (linear)
    or 4 significant digits without an exponent (log: ``1760``, ``55``, ``499.9``).
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
        kwargs.update(step=None if step is None else float(step))
        kwargs.update(widget_kwargs)
        start = float(value) if value is not None else float(lo)
        widget = OscLogSlider(lo=float(lo), hi=float(hi), value=start, **kwargs)
    elif is_int:
        kwargs.update(
            min=int(lo), max=int(hi), step=int(step or 1),
            value=int(value) if value is not None else int(lo),
        )  # fmt: skip
        kwargs.update(widget_kwargs)
        widget = OscIntSlider(**kwargs)
    else:
        fstep = float(step) if step is not None else default_step(float(lo), float(hi))
        kwargs.update(
            min=float(lo), max=float(hi), step=fstep,
            value=float(value) if value is not None else float(lo),
            readout_format=f".{readout_decimals(fstep)}f",
        )  # fmt: skip
        kwargs.update(widget_kwargs)
        widget = OscFloatSlider(**kwargs)
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
    the sliders and ``.title`` the label above them (``description``, default the address;
    ``""`` hides it; :func:`panel` hides it when the row's label says the same);
    ``box.osc.value`` is the ``(x, y)`` tuple. An incoming ``address x y`` moves both without
    sending back.
    """
    x0, y0 = value if value is not None else (x[0], y[0])

    def make(name: str, lo: float, hi: float, v: float) -> Any:
        s = default_step(float(lo), float(hi)) if step is None else step
        w = OscFloatSlider(
            min=float(lo), max=float(hi), step=s, value=float(v), description=name,
            continuous_update=True, readout_format=f".{readout_decimals(s)}f",
        )  # fmt: skip
        w.add_class(f"osc-{name}")
        return w

    xs, ys = make("x", x[0], x[1], x0), make("y", y[0], y[1], y0)
    title = W.Label(address if description is None else description)
    title.add_class("osc-xy-title")
    if not title.value:
        title.layout.display = "none"
    box = W.VBox([title, xs, ys])
    box.add_class("osc-xy")
    box.x, box.y, box.title = xs, ys, title

    def write(v: Any) -> None:
        xs.value, ys.value = v

    def from_args(a: Sequence[Any]) -> Any:
        if len(a) < 2 or not (_is_number(a[0]) and _is_number(a[1])):
            return _NO_VALUE
        return (_tidy_float(float(a[0])), _tidy_float(float(a[1])))

    box.osc = Binding(
        box, address, read=lambda: (xs.value, ys.value), write=write,
        to_args=lambda v: [*_grid_to_args(xs)(v[0]), *_grid_to_args(ys)(v[1])],
        from_args=from_args, sources=[xs, ys],
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
        title = getattr(control, "title", None)
        if isinstance(title, W.Label) and title.value == str(label):
            title.layout.display = "none"  # the row's label already names it
        lab = W.Label(str(label), layout=W.Layout(width=label_width))
        lab.add_class("osc-label")
        rows.append(W.HBox([lab, control]))
    box = W.VBox(rows)
    box.add_class("osc-panel")
    box.controls = made
    return box


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
