"""How a control's value becomes OSC arguments and back, per kind of value widget.

Each kind of control has a pair of converters: ``to_args(value) -> list`` (what is sent after
the binding's leading arguments) and ``from_args(args) -> value`` (an incoming message's
arguments after the leading ones, or :data:`NO_VALUE` when they do not fit the control).
:func:`stock_snap` puts an incoming value on the step grid of a *stock* ipywidgets slider (ours
validate themselves, :mod:`osc_live.notebook._sliders`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import ipywidgets as W

from osc_live.notebook._args import _NO_VALUE, _is_number, _same, _tidy_float
from osc_live.notebook._sliders import (
    OscFloatSlider,
    OscIntSlider,
    OscLogSlider,
    decimals,
    snap_linear,
    snap_log,
)

__all__ = [
    "NO_VALUE",
    "any_to_args",
    "bool_from_args",
    "bool_to_args",
    "converters",
    "first_arg",
    "grid_to_args",
    "int_to_args",
    "scalar_from_args",
    "stock_snap",
]

#: What ``from_args`` returns for arguments the control cannot use (the message is ignored).
NO_VALUE = _NO_VALUE

ToArgs = Callable[[Any], list[Any]]
FromArgs = Callable[[Sequence[Any]], Any]


def scalar_from_args(kind: Callable[[Any], Any]) -> FromArgs:
    """The first argument as an ``int`` (rounded) or a tidied ``float``; nothing else fits."""

    def from_args(args: Sequence[Any]) -> Any:
        if not args or not _is_number(args[0]):
            return _NO_VALUE
        x = args[0]
        if kind is int:
            return round(x)
        return _tidy_float(float(x))

    return from_args


def grid_decimals(widget: Any) -> int | None:
    """Decimals of a linear slider's grid (its value is the page's double, 440.00000000000006:
    the message carries 440.0); None when the grid is not decimal or the widget has none."""
    if isinstance(widget, W.FloatLogSlider) or not isinstance(widget, W.FloatSlider):
        return None
    step, lo = widget.step, widget.min
    if not step or decimals(step) is None or decimals(lo) is None:
        return None
    return max(decimals(step) or 0, decimals(lo) or 0)


def grid_to_args(widget: Any) -> ToArgs:
    """A float widget's value as one float, written with its grid's decimals when it has one."""

    def to_args(v: Any) -> list[Any]:
        d = grid_decimals(widget)
        return [float(v) if d is None else round(float(v), d)]

    return to_args


def int_to_args(v: Any) -> list[Any]:
    """An int value as one int argument."""
    return [int(v)]


def any_to_args(v: Any) -> list[Any]:
    """Any other value as one argument, as it is (a string, a dropdown's option...)."""
    return [v]


def first_arg(args: Sequence[Any]) -> Any:
    """The first argument as it is."""
    return args[0] if args else _NO_VALUE


def bool_to_args(on: Any, off: Any) -> ToArgs:
    """``True`` → ``[on]``, ``False`` → ``[off]``."""

    def to_args(v: Any) -> list[Any]:
        return [on if v else off]

    return to_args


def bool_from_args(on: Any, off: Any) -> FromArgs:
    """``on`` → True, ``off`` → False, any other argument by its truth."""

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


def converters(widget: Any, type_tag: str | None) -> tuple[ToArgs, FromArgs, bool]:
    """``(to_args, from_args, floats)`` for a value widget, chosen by its current value:
    booleans send 1/0, ints (or ``type_tag="i"``) one int, floats one float on the widget's
    grid, anything else as it is. ``floats``: the value is a Python float (its tag follows
    ``%config OscLive.float_type``)."""
    current = widget.value
    if isinstance(current, bool):
        return bool_to_args(1, 0), bool_from_args(1, 0), False
    if isinstance(current, int) or type_tag == "i":
        return int_to_args, scalar_from_args(int), False
    if isinstance(current, float):
        return grid_to_args(widget), scalar_from_args(float), True
    return any_to_args, first_arg, False


def stock_snap(widget: Any) -> Callable[[Any], Any] | None:
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
