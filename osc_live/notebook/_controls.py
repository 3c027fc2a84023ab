"""The bound controls: :func:`bind` (any value widget), :func:`slider`, :func:`toggle`,
:func:`button`, :func:`xy` and :func:`text`. Public face: :mod:`osc_live.notebook.widgets`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import ipywidgets as W

from osc_live.notebook._args import _NO_VALUE, _is_number, _tidy_float
from osc_live.notebook._binding import DEFAULT_THROTTLE_HZ, Binding
from osc_live.notebook._sliders import (
    OscFloatSlider,
    OscIntSlider,
    OscLogSlider,
    default_step,
    readout_decimals,
)
from osc_live.notebook._values import (
    any_to_args,
    bool_from_args,
    bool_to_args,
    converters,
    first_arg,
    grid_to_args,
    stock_snap,
)

__all__ = ["bind", "button", "slider", "text", "toggle", "xy"]


# ---------------------------------------------------------------------------- bind()
def bind(
    widget: Any,
    address: str,
    *,
    args: Sequence[Any] = (),
    target: Any = None,
    throttle_hz: float | None = DEFAULT_THROTTLE_HZ,
    type_tag: str | None = None,
    dispatcher: Any = None,
    kind: str | None = None,
    label: str | None = None,
) -> Any:
    """Bind any existing ipywidgets value widget to ``address`` and return it.

    Numbers are sent as one argument (``int`` for integer widgets, ``float`` otherwise), booleans
    as ``1`` / ``0``, anything else as is. See the module documentation for ``target``,
    ``throttle_hz`` and ``dispatcher`` (``False``: send only, do not follow incoming messages).
    ``kind`` and ``label`` are what :meth:`Binding.describe` reports (default: from the widget's
    class and description).

    Incoming values for a stock ipywidgets slider (``FloatSlider``, ``IntSlider``,
    ``FloatLogSlider``) are put on its step grid before they are set, so its page has nothing
    to round. Values a cell assigns to a stock slider are not validated: the page rounds one off
    its grid and sends the rounded value back, which is a move (it is sent). The sliders made by
    :func:`slider` validate every value and have no such case.
    """
    to_args, from_args, floats = converters(widget, type_tag)

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
        floats=floats,
        snap=stock_snap(widget),
        kind=kind if kind is not None else _kind_of(widget),
        label=label,
    )
    return widget


def _kind_of(widget: Any) -> str:
    if isinstance(widget, W.FloatSlider | W.IntSlider | W.FloatLogSlider):
        return "slider"
    if isinstance(widget, W.ToggleButton | W.Checkbox):
        return "toggle"
    if isinstance(widget, W.Text | W.Textarea):
        return "text"
    if hasattr(widget, "options"):
        return "dropdown"
    return "value"


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
        to_args=bool_to_args(on, off), from_args=bool_from_args(on, off), args=args,
        target=target, throttle_hz=throttle_hz, dispatcher=dispatcher, kind="toggle",
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
        args=args, target=target, throttle_hz=None, dispatcher=dispatcher, kind="button",
    )  # fmt: skip

    def on_click(_b: Any) -> None:
        clicks.count += 1
        binding.submit()
        binding._tell(remote=False)

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
        to_args=lambda v: [*grid_to_args(xs)(v[0]), *grid_to_args(ys)(v[1])],
        from_args=from_args, sources=[xs, ys],
        args=args, target=target, throttle_hz=throttle_hz, type_tag=type_tag,
        dispatcher=dispatcher, floats=True, kind="xy",
    )  # fmt: skip
    return box


# ---------------------------------------------------------------------------- text
def text(
    address: str,
    value: str = "",
    *,
    target: Any = None,
    args: Sequence[Any] = (),
    description: str | None = None,
    continuous_update: bool = False,
    dispatcher: Any = None,
    **widget_kwargs: Any,
) -> Any:
    """A ``Text`` field bound to ``address``: sends its string (tag ``s``) when the user
    presses Enter or leaves the field (``continuous_update=True``: on every key, throttled);
    an incoming string replaces it without being sent back."""
    kwargs: dict[str, Any] = {"description": address if description is None else description}
    kwargs.update(widget_kwargs)
    widget = W.Text(value=str(value), continuous_update=continuous_update, **kwargs)
    widget.add_class("osc-text")

    def write(v: Any) -> None:
        widget.value = v

    def from_args(a: Sequence[Any]) -> Any:
        v = first_arg(a)
        return v if v is _NO_VALUE else str(v)

    widget.osc = Binding(
        widget, address, read=lambda: widget.value, write=write, to_args=any_to_args,
        from_args=from_args, args=args, target=target, dispatcher=dispatcher, kind="text",
    )  # fmt: skip
    return widget
