"""``osc_live.widgets``: the documented import path of the bound controls.

The code lives in :mod:`osc_live.notebook.widgets` (the notebook layer); every public name is
re-exported here unchanged (``from osc_live.widgets import slider, Binding``).
"""

from __future__ import annotations

from osc_live.notebook.widgets import (
    DEFAULT_THROTTLE_HZ,
    Binding,
    ControlInfo,
    OscFloatSlider,
    OscIntSlider,
    OscLogSlider,
    SupportsSendMessage,
    ValueChange,
    bind,
    bindings,
    button,
    close_all,
    css_class,
    panel,
    slider,
    text,
    toggle,
    xy,
)

__all__ = [
    "DEFAULT_THROTTLE_HZ",
    "Binding",
    "ControlInfo",
    "OscFloatSlider",
    "OscIntSlider",
    "OscLogSlider",
    "SupportsSendMessage",
    "ValueChange",
    "bind",
    "bindings",
    "button",
    "close_all",
    "css_class",
    "panel",
    "slider",
    "text",
    "toggle",
    "xy",
]
