"""What a bound control is, for whoever serves or mirrors it: :class:`ControlInfo`, made by
:meth:`osc_live.notebook._binding.Binding.describe` (OSCQuery namespaces, remote panels)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["ControlInfo", "label_of", "options_of", "range_of"]


@dataclass(frozen=True)
class ControlInfo:
    """What a bound control is, for whoever serves or mirrors it (:meth:`Binding.describe`).

    ``value`` and ``type_tags`` cover the whole message as it is sent now (leading ``args``
    included); ``ranges`` and ``options`` have one entry per *value* argument (after the
    leading ones): ``(min, max)`` in real units (a log slider's bounds, not exponents), or None.
    """

    address: str
    args: tuple[Any, ...]
    kind: str  # "slider", "toggle", "button", "xy", "text", "dropdown" or "value"
    type_tags: str
    value: tuple[Any, ...]
    ranges: tuple[tuple[float, float] | None, ...]
    options: tuple[tuple[Any, ...] | None, ...]
    label: str
    log: bool = False
    step: float | None = None
    writable: bool = True  # False for a button: it sends, it has no value to set
    follows: bool = True  # incoming messages on the address move it


def label_of(widget: Any, address: str) -> str:
    """A control's name for people: an xy's title, a widget's description, else the address."""
    title = getattr(widget, "title", None)  # xy: the label above its sliders
    text = getattr(title, "value", None) if title is not None else None
    if text is None:
        text = getattr(widget, "description", None)
    return str(text) if text else address


def range_of(part: Any) -> tuple[float, float] | None:
    """A value widget's ``(min, max)`` in real units (log sliders: not exponents), or None."""
    bounds = getattr(part, "bounds", None)  # OscLogSlider: real bounds
    if isinstance(bounds, tuple) and len(bounds) == 2:
        return (float(bounds[0]), float(bounds[1]))
    lo, hi = getattr(part, "min", None), getattr(part, "max", None)
    if not (isinstance(lo, int | float) and isinstance(hi, int | float)):
        return None
    base = getattr(part, "base", None)
    if isinstance(base, int | float):  # a stock FloatLogSlider: min/max are exponents
        return (float(base**lo), float(base**hi))
    return (lo, hi)


def options_of(part: Any) -> tuple[Any, ...] | None:
    """A selection widget's option *values* (``options`` may hold ``(label, value)`` pairs);
    None for a widget without options."""
    if getattr(part, "options", None) is None:
        return None
    return tuple(o[1] if isinstance(o, tuple) and len(o) == 2 else o for o in part.options)
