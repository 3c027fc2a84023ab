"""A labelled panel of bound controls built from a mapping of addresses (:func:`panel`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import ipywidgets as W

from osc_live.notebook._binding import DEFAULT_THROTTLE_HZ, Binding
from osc_live.notebook._controls import button, slider, text, toggle, xy

__all__ = ["panel"]


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
    if kind == "text":
        kw.pop("throttle_hz", None)
        return label, text(address, **kw)
    raise ValueError(f"panel: unknown kind {kind!r} for {key!r} (slider, toggle, button, xy, text)")


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
    optional ``"kind"`` (default ``"slider"``; ``"text"`` for :func:`text`) and ``"label"``;
    ``True``/``False`` for a toggle; ``"button"``, ``"toggle"``, ``"xy"``, ``"text"``; or a
    control already made by this module.
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
        control.osc.label = str(label)
        made[key] = control
        xy_title = getattr(control, "title", None)
        if isinstance(xy_title, W.Label) and xy_title.value == str(label):
            xy_title.layout.display = "none"  # the row's label already names it
        lab = W.Label(str(label), layout=W.Layout(width=label_width))
        lab.add_class("osc-label")
        rows.append(W.HBox([lab, control]))
    box = W.VBox(rows)
    box.add_class("osc-panel")
    box.controls = made
    return box


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
