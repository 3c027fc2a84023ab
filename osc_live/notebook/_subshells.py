"""Keep a bound control's page messages on ipykernel's widget subshell (ipykernel 7.4+).

Why. JupyterLab sends widget messages over a subshell, so ipykernel 7 can apply a drag while
the main thread is busy (a cell in ``time.sleep``, a long loop). ipykernel 7.4 routes each
widget message to the subshell that last *published* on that widget's comm, not to the one the
page asked for: once the kernel changes a control from the main thread (an incoming OSC value, a
cell's ``slider.value = v``), ipywidgets publishes that change with the cell's request as parent,
and the next drag waits on the main thread behind the blocking cell (measured: a key press made
1.5 s into a ``time.sleep(5)`` cell reached the wire 5.4 s after the cell started).

What. Only public API: when the page changes a control, the binding keeps a copy of the
``contextvars`` context the change was handled in (ipykernel's current parent message lives in
a context variable, and that message carries the page's ``subshell_id``). After a change made
elsewhere, the binding sends the widget one small custom message (``Widget.send``, ignored by
the page) inside that context: ipykernel records the page's subshell as the comm's route again.
Nothing happens until the page has changed the control once, on kernels that do not route by
publisher (6.x: no subshells; 7.0 to 7.3: the page's choice is used), or outside a kernel.
"""

from __future__ import annotations

import contextvars
import logging
import threading
from typing import Any

__all__ = ["PageRoute"]

_log = logging.getLogger("osc_live.widgets")
#: the custom message that re-points a comm (the ipywidgets page ignores custom messages of
#: models that do not listen for them; no "id" key: ipykernel would take it for a request id)
ROUTE_MESSAGE = {"osc_live": "route"}


def _routes_by_publisher(kernel: Any) -> bool:
    """Does this ipykernel route a comm's messages to the subshell that last published on it?

    A capability check, nothing is called: ipykernel 7.4 comms answer to
    ``_reply_subshell_for`` (the routing), earlier ones do not.
    """
    try:
        from ipykernel.comm.comm import BaseComm
    except ImportError:
        return False
    return kernel is not None and hasattr(BaseComm, "_reply_subshell_for")


def _header(kernel: Any) -> dict[str, Any]:
    try:
        parent = kernel.get_parent("shell")
    except Exception:
        return {}
    header = parent.get("header") if isinstance(parent, dict) else None
    return header if isinstance(header, dict) else {}


class PageRoute:
    """Where one control's page messages are handled; see the module documentation."""

    def __init__(self, kernel: Any) -> None:
        self._kernel = kernel if _routes_by_publisher(kernel) else None
        # (context of the page's last change, its subshell id): one tuple, swapped atomically
        self._page: tuple[contextvars.Context, str] | None = None
        self.republished = 0
        self._lock = threading.Lock()

    @property
    def active(self) -> bool:
        """True when this kernel needs the route kept (ipykernel 7.4+)."""
        return self._kernel is not None

    def changed(self, widget: Any) -> None:
        """Call after ``widget``'s value changed (ipywidgets has published it): remember the
        page's context when the page made the change, else put the route back to it."""
        kernel = self._kernel
        if kernel is None:
            return
        header = _header(kernel)
        subshell = header.get("subshell_id")
        if header.get("msg_type") == "comm_msg" and subshell:
            self._page = (contextvars.copy_context(), subshell)
            return
        page = self._page
        if page is None or subshell == page[1]:
            return  # the page never moved it, or this change was published on its subshell
        try:
            page[0].copy().run(widget.send, ROUTE_MESSAGE)
        except Exception:  # never break a change for a routing hint
            _log.debug("could not keep the widget's messages on the page's subshell", exc_info=True)
            return
        with self._lock:
            self.republished += 1
