"""Reading and comparing OSC arguments for bound controls: float32-aware equality, tidied
floats, and finding a control's value in an incoming message's arguments.

No ipywidgets here: the binding (``_binding``) and the value converters (``_values``,
``_controls``) share these."""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from typing import Any

#: Relative tolerance used to decide that an incoming value equals the control's value
#: (float32 has a 24-bit mantissa: 2**-24 ≈ 6e-8; 1e-6 leaves room for a decimal round trip).
REL_TOL = 1e-6
ABS_TOL = 1e-9

#: What a ``from_args`` returns for arguments the control cannot use.
_NO_VALUE = object()


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


def _named_value(bound: tuple[Any, ...], args: Sequence[Any]) -> list[Any] | None:
    """``[value]`` of the control named by ``bound[-1]`` in name/value pairs after the other
    leading args (``(1003, "amp")`` in ``[1003, "freq", 440.0, "amp", 0.2]`` → ``[0.2]``), or
    None when ``args`` are not such pairs or do not name it."""
    if not bound or not isinstance(bound[-1], str):
        return None
    head = len(bound) - 1
    pairs = args[head:]
    if len(pairs) < 4 or len(pairs) % 2:
        return None
    if not all(_same(a, b) for a, b in zip(args[:head], bound[:head], strict=True)):
        return None
    names = pairs[0::2]
    if not all(isinstance(n, str) for n in names):
        return None
    value: list[Any] | None = None
    for name, v in zip(names, pairs[1::2], strict=True):
        if name == bound[-1]:
            value = [v]  # the last one wins, as in the synth
    return value
