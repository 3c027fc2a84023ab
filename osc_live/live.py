"""``osc_live.live``: the documented home of the notebook session (``session()``).

The session now lives in :mod:`osc_live.notebook`; this module keeps
``from osc_live.live import session`` and ``osc_live.live.enable_nested_asyncio()`` working.
"""

from __future__ import annotations

from osc_live.notebook._loop import LoopRunner, enable_nested_asyncio
from osc_live.notebook.kernel_session import (
    MAX_REFRESH_HZ,
    OscSession,
    SessionOptions,
    reset_session,
    session,
)
from osc_live.notebook.listeners import Listener
from osc_live.notebook.targets import Target
from osc_live.notebook.traffic import Traffic, TrafficRow
from osc_live.notebook.views import LiveView, LogView, MonitorView, PlotView

__all__ = [
    "MAX_REFRESH_HZ",
    "Listener",
    "LiveView",
    "LogView",
    "LoopRunner",
    "MonitorView",
    "OscSession",
    "PlotView",
    "SessionOptions",
    "Target",
    "Traffic",
    "TrafficRow",
    "enable_nested_asyncio",
    "reset_session",
    "session",
]
