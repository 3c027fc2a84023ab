"""Slider classes whose value always lies where the page can show it exactly.

Why. The ipywidgets slider views (noUiSlider) snap every value the kernel sets to the slider's
step grid and, with ``continuous_update``, send the snapped value back as if the user had moved
the slider; ``FloatLogSlider``'s view sends back ``base ** log(value)`` even for values on its
grid. A bound control took that for a move and sent OSC: sends on display, one echo per incoming
value (issue 8). Here every value — set by code, by an incoming OSC message or by the page — is
validated once, in the kernel, by a traitlets ``@validate("value")`` hook:

* :class:`OscFloatSlider` / :class:`OscIntSlider`: ``min + k * step`` (decimal-rounded, so
  ``0.1 + 2 * 0.01`` is ``0.12``), clamped; the partial last step ends at ``max`` like the page's;
* :class:`OscLogSlider`: without ``step`` the page has no grid (it moves continuously); a value
  set in the kernel is rounded to ``significant`` digits (6): 880 stays 880, and the page's
  ``10 ** log10(v)`` answer (off by an ulp) maps back onto the same value; a value the user
  moves to in the page is kept as the page sent it (a correction sent back in the middle of a
  drag would pull the handle back); with ``step`` (in decades) every value snaps to
  ``10 ** (log10(min) + k * step)`` like the page's grid.

A value the page sends back is therefore either the kernel's value to the last few bits (the
validation maps it onto the same value: no change, no notification, nothing sent) or a real move.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from typing import Any

import ipywidgets as W
from traitlets import TraitError, validate

__all__ = [
    "OscFloatSlider",
    "OscIntSlider",
    "OscLogSlider",
    "decimals",
    "default_step",
    "log_readout",
    "snap_linear",
    "snap_log",
]

_MAX_DECIMALS = 12
_PUSHED = 256  # values a log slider remembers having set since the page's last move


def decimals(x: float) -> int | None:
    """The fewest decimals (≤ 12) that write ``x`` exactly, or None (``1/3``)."""
    if not math.isfinite(x):
        return None
    for d in range(_MAX_DECIMALS + 1):
        if abs(round(x, d) - x) <= 1e-12 * max(1.0, abs(x)):
            return d
    return None


def readout_decimals(step: float) -> int:
    """Decimals a linear readout needs to tell two neighbouring steps apart (0..8)."""
    if not step > 0 or not math.isfinite(step):
        return 2
    return max(0, min(8, math.ceil(-math.log10(step) - 1e-9)))


def default_step(lo: float, hi: float) -> float:
    """The default step of a linear slider: a power of ten ≤ ``(hi - lo) / 100`` dividing ``lo``.

    ``0..1`` → 0.01, ``20..2000`` → 10 (440 is on the grid), ``55..1760`` → 1, ``-1..1`` → 0.01:
    round values stay reachable and typed values stay what was typed.
    """
    span = (hi - lo) / 100
    if not span > 0 or not math.isfinite(span):
        return 1.0
    step = 10.0 ** math.floor(math.log10(span))
    for _ in range(15):
        k = lo / step
        if abs(k - round(k)) <= 1e-9 * max(1.0, abs(k)):
            break
        step /= 10
    d = decimals(step)
    return round(step, d) if d is not None else step


def log_readout(hi: float, significant: int = 4) -> str:
    """The d3-format of a log slider's readout: ``1760``, ``55``, ``499.9``, never ``1.76e+3``.

    d3's empty type is ``g`` without insignificant zeros; its precision is at least the digits
    of the integer part of ``hi``, so no value of the slider needs an exponent.
    """
    digits = math.floor(math.log10(hi)) + 1 if hi >= 1 else 1
    return f".{max(significant, digits)}"


def page_value(value: float, lo: float, hi: float, step: float) -> float:
    """The value ipywidgets' slider view (noUiSlider 15) makes of ``value``, to the last bit.

    The page turns a value into a percentage of the range, rounds that to the step's
    percentage (``Math.round`` is ``floor(x + 0.5)``) and turns it back; these are the same
    IEEE-754 operations in the same order, so Python gets the same double. A value for which
    ``page_value(v) == v`` is never changed, hence never sent back, by the page.
    """
    if value >= hi:
        return hi
    span = hi - lo
    pct = 100 * (value - lo) / span / (100 / 100)
    step_pct = 100 * step / span / (100 / 100)
    snapped = 0 + math.floor((pct - 0) / step_pct + 0.5) * step_pct
    if snapped >= 100:
        return hi
    if snapped <= 0:
        return lo
    return (snapped - 0) * (100 / (100 - 0)) * span / 100 + lo


def snap_linear(value: float, lo: float, hi: float, step: float | None) -> float:
    """``value`` on the page's grid ``lo + k * step`` within ``[lo, hi]``, exactly as the page
    computes it (:func:`page_value`); the decimal ``round(lo + k * step, d)`` when the page
    leaves that unchanged (``0.12``, not ``0.12000000000000001``)."""
    v = min(max(value, lo), hi)
    if step is None or not step > 0 or not math.isfinite(v):
        return v
    x = page_value(v, lo, hi, step)
    d, d_lo = decimals(step), decimals(lo)
    if d is not None and d_lo is not None:
        pretty = round(x, max(d, d_lo))
        if page_value(pretty, lo, hi, step) == pretty:
            return pretty
    for _ in range(4):  # a fixed point of the page's arithmetic: nothing left for it to round
        y = page_value(x, lo, hi, step)
        if y == x:
            break
        x = y
    return x


def snap_log(value: float, lo: float, hi: float, step: float | None, significant: int) -> float:
    """``value`` for a log slider: on ``10 ** (log10(lo) + k * step)``, or rounded to digits."""
    v = min(max(value, lo), hi)
    if not v > 0 or not math.isfinite(v):
        return v
    if step is None or not step > 0:
        return min(max(float(f"{v:.{significant}g}"), lo), hi)
    e_lo, e_hi = math.log10(lo), math.log10(hi)
    full = math.floor((e_hi - e_lo) / step + 1e-9)
    k = min(max(round((math.log10(v) - e_lo) / step), 0), full)
    x = lo if k == 0 else float(f"{10 ** (e_lo + k * step):.15g}")
    if v > x and math.log10(hi / v) < math.log10(v / x):
        x = hi
    return min(max(x, lo), hi)


class OscFloatSlider(W.FloatSlider):  # type: ignore[misc]
    """A ``FloatSlider`` whose value always lies on its step grid (see the module docs)."""

    @validate("value")
    def _validate_value(self, proposal: Any) -> float:
        return snap_linear(float(proposal["value"]), self.min, self.max, self.step)


class OscIntSlider(W.IntSlider):  # type: ignore[misc]
    """An ``IntSlider`` whose value always lies on ``min + k * step``."""

    @validate("value")
    def _validate_value(self, proposal: Any) -> int:
        x = snap_linear(int(proposal["value"]), self.min, self.max, self.step)
        return math.floor(x + 0.5)  # the page's Math.round


class OscLogSlider(W.FloatLogSlider):  # type: ignore[misc]
    """A ``FloatLogSlider`` built from its real bounds ``lo``/``hi`` (not exponents).

    ``step`` (decades) is the page's grid and the kernel's; ``None`` (the default of
    :func:`osc_live.widgets.slider`) lets the page move continuously and keeps ``significant``
    digits of each value.
    """

    def __init__(
        self, *, lo: float, hi: float, significant: int = 6, base: float = 10.0, **kwargs: Any
    ) -> None:
        if not 0 < lo < hi:
            raise ValueError(f"a log slider needs 0 < min < max, got {lo!r}, {hi!r}")
        if base != 10.0:
            raise ValueError("osc_live log sliders use base 10")
        self._lo, self._hi, self._significant = float(lo), float(hi), int(significant)
        self._pushed: deque[float] = deque(maxlen=_PUSHED)
        self._page = threading.local()
        self._validated = float("nan")
        kwargs.setdefault("readout_format", log_readout(hi))
        super().__init__(min=math.log10(lo), max=math.log10(hi), base=10.0, **kwargs)

    @property
    def bounds(self) -> tuple[float, float]:
        """The real ``(min, max)`` of the value (``min``/``max`` traits are exponents)."""
        return self._lo, self._hi

    def set_state(self, sync_data: dict[str, Any]) -> None:
        """Apply a state update from the page; put the page right if it sent a stale value.

        The page answers every value the kernel sets with ``10 ** log10(value)`` (ipywidgets'
        log slider view has no equality check). When the kernel sets values faster than the
        page's round trip (a loop in a cell, a stream of OSC), such an answer arrives after the
        kernel moved on: it is recognised (it equals, to 1e-9, a value the kernel set since the
        page's last move), ignored, and the page is sent the kernel's current value.
        """
        self._page.active, self._page.stale = True, False
        try:
            super().set_state(sync_data)
        finally:
            self._page.active = False
        if self._page.stale:
            self._page.stale = False
            self.send_state("value")

    @validate("value")
    def _validate_value(self, proposal: Any) -> float:
        raw = float(proposal["value"])
        # The last value validated, not self.value: while traitlets holds notifications (as
        # ipywidgets' set_state does) the trait already holds the unvalidated proposal.
        current = self._validated
        if not getattr(self._page, "active", False):
            value = snap_log(raw, self._lo, self._hi, self.step, self._significant)
            self._pushed.append(value)  # set in the kernel: the page will answer with it
        elif math.isclose(raw, current, rel_tol=1e-9):
            return current  # the page's 10 ** log10(v) answer to the kernel's own value
        elif any(math.isclose(raw, old, rel_tol=1e-9) for old in list(self._pushed)):
            self._page.stale = True  # an answer to a value the kernel has moved on from
            return current
        else:
            # The user's move. Without a step the page has no grid: its value is kept as it
            # is, so ipywidgets has no corrected value to send back in the middle of a drag
            # (a correction that arrives late pulls the handle back to an earlier position).
            value = min(max(raw, self._lo), self._hi)
            if self.step is not None:
                value = snap_log(value, self._lo, self._hi, self.step, self._significant)
            self._pushed.clear()  # older answers can no longer be told apart from moves
        self._validated = value
        return value

    # ipywidgets' own min/max validators set value = 10 ** min (20.000000000000004 for 20),
    # bypassing the value validator while traitlets holds cross-validation: bounds are ours.
    @validate("min")
    def _validate_min(self, proposal: Any) -> float:
        if proposal["value"] > self.max:
            raise TraitError("setting min > max")
        return float(proposal["value"])

    @validate("max")
    def _validate_max(self, proposal: Any) -> float:
        if proposal["value"] < self.min:
            raise TraitError("setting max < min")
        return float(proposal["value"])
