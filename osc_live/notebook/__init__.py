"""The notebook layer: the live session, its targets and listeners, the traffic table, live
views, the virtual synth (and the widgets, :mod:`osc_live.widgets`).

Below the commands (``%osc`` / ``osc-live``), above the transports: this package imports the
transports and the protocol, never ``osc_live.commands`` or ``osc_live.magics``; IPython only
inside :meth:`~osc_live.notebook.views.LiveView.show` (to display a view). Public face:
:func:`session`, :class:`OscSession`.
"""

from __future__ import annotations

from osc_live.notebook.kernel_session import OscSession, SessionOptions, reset_session, session

__all__ = ["OscSession", "SessionOptions", "reset_session", "session"]
