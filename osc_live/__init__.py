"""osc_live: Open Sound Control for Python and Jupyter.

A python-osc compatible OSC library (replace ``pythonosc`` with ``osc_live``), plus the
notebook layer: ``%load_ext osc_live`` for the ``%osc`` magics and widgets bound to OSC
addresses (``osc_live.slider(...)``).
"""

from __future__ import annotations

from typing import Any

from osc_live.errors import BuildError, FramingError, NtpError, OscError, ParseError

__version__ = "0.1.0"

__all__ = [
    "BuildError",
    "FramingError",
    "NtpError",
    "OscError",
    "ParseError",
    "__version__",
    "button",
    "load_ipython_extension",
    "panel",
    "slider",
    "toggle",
    "unload_ipython_extension",
    "xy",
]

_WIDGET_NAMES = frozenset({"slider", "toggle", "button", "xy", "bind", "text"})


def load_ipython_extension(ipython: Any) -> None:
    """Register the ``%osc`` / ``%%osc`` magics (``%load_ext osc_live``)."""
    from osc_live.magics import load_ipython_extension as load

    load(ipython)


def unload_ipython_extension(ipython: Any) -> None:
    """Close everything osc_live opened in this kernel (``%unload_ext osc_live``)."""
    from osc_live.magics import unload_ipython_extension as unload

    unload(ipython)


def panel(controls: Any = None, /, *, oscquery: str | None = None, path: str | None = None,
          **kwargs: Any) -> Any:  # fmt: skip
    """A panel of bound controls: ``osc_live.widgets.panel(controls, **kwargs)``; or, with
    ``oscquery="http://host:port/"`` (and ``path="/fx"``), the controls of a remote OSCQuery
    namespace (:func:`osc_live.oscquery.panel.remote_panel`: they send to the remote's OSC
    port and follow it through LISTEN)."""
    if oscquery is not None:
        if controls:
            raise TypeError("panel: give controls or oscquery=URL, not both")
        from osc_live.oscquery.panel import remote_panel

        return remote_panel(oscquery, path, **kwargs)
    if controls is None:
        raise TypeError("panel needs controls (a mapping of addresses) or oscquery=URL")
    from osc_live import widgets

    return widgets.panel(controls, **kwargs)


def __getattr__(name: str) -> Any:
    # Widgets import ipywidgets: load them only when asked for, so the protocol stays stdlib-only.
    if name in _WIDGET_NAMES:
        from osc_live import widgets

        return getattr(widgets, name)
    raise AttributeError(f"module 'osc_live' has no attribute {name!r}")
