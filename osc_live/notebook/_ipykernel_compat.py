"""The one place where osc_live touches ipykernel internals: the missing ``idle`` of ipykernel 7.4.

Why. ipykernel 7.4.0 dispatches a ``comm_msg`` that arrives while a cell holds the shell lock
(a cell that ``await``\\s: ``await asyncio.sleep(1)``, a receive loop...) *concurrently*, so that
the cell may await a widget's reply (``Kernel.shell_main``, ``dispatch_shell(...,
concurrent=True)``). That path publishes neither ``busy`` nor ``idle`` for the message. The
ipywidgets frontend sends one state update at a time and holds every later change until it sees
the ``idle`` status whose parent is the update it sent (``WidgetModel._pending_msgs``,
``_handle_status``): without it the control looks alive in the page but never sends again — a
dead slider, for every ipywidgets widget, until the page is reloaded. ipykernel 6.x and 7.0 to 7.3
publish the status on every path.

What. :func:`install` wraps the kernel's ``dispatch_shell`` (an instance attribute; the class is
untouched) so that after a concurrently dispatched comm message it publishes the ``idle`` status
that ipykernel 7.3 would have published, with that message as parent. Nothing else changes:
the message is handled by ipykernel's own code, in the same task and context.

Gate. It is installed only when ``dispatch_shell`` has the ``concurrent`` keyword (ipykernel
7.4.x, the newest release when this was written); on any other kernel :func:`install` does
nothing and returns ``False`` (the public-API fallback: those kernels need no help). Remove this
module once ipykernel publishes the status itself.
"""

from __future__ import annotations

import inspect
import logging
from typing import Any

__all__ = ["install", "installed", "running_kernel"]

_log = logging.getLogger("osc_live.widgets")
_MARK = "_osc_live_publishes_idle"
_COMM_TYPES = frozenset({"comm_open", "comm_msg", "comm_close"})


def _kernel() -> Any:
    try:
        from IPython import get_ipython
    except ImportError:  # pragma: no cover - the notebook extra brings IPython
        return None
    shell = get_ipython()
    return getattr(shell, "kernel", None)


def running_kernel() -> Any:
    """The running IPython kernel object, or None (a script, a terminal, tests)."""
    return _kernel()


def installed(kernel: Any = None) -> bool:
    """True if the ``idle`` fix is active on ``kernel`` (default: the running IPython kernel)."""
    kernel = kernel if kernel is not None else _kernel()
    return bool(getattr(getattr(kernel, "dispatch_shell", None), _MARK, False))


def _needs_fix(dispatch: Any) -> bool:
    try:
        params = inspect.signature(dispatch).parameters
    except (TypeError, ValueError):
        return False
    return "concurrent" in params


def install(kernel: Any = None) -> bool:
    """Publish the missing ``idle`` after concurrently dispatched comm messages (ipykernel 7.4).

    ``kernel`` defaults to the running IPython kernel. Returns True when the fix is active (also
    when it already was), False when this kernel does not need it (or there is no kernel).
    """
    kernel = kernel if kernel is not None else _kernel()
    original = getattr(kernel, "dispatch_shell", None)
    if original is None or not callable(original):
        return False
    if getattr(original, _MARK, False):
        return True
    publish = getattr(kernel, "_publish_status", None)
    if not _needs_fix(original) or publish is None:
        return False

    async def dispatch_shell(
        msg: Any, /, subshell_id: str | None = None, *, concurrent: bool = False
    ) -> None:
        before = kernel.get_parent("shell") if concurrent else None
        await original(msg, subshell_id=subshell_id, concurrent=concurrent)
        if not concurrent:
            return
        parent = kernel.get_parent("shell")  # dispatch_shell set it in this task's context
        header = parent.get("header", {}) if isinstance(parent, dict) else {}
        if parent is before or header.get("msg_type") not in _COMM_TYPES:
            return  # not deserialized / not a comm message: nothing to close
        try:
            publish("idle", "shell", parent=parent)
        except Exception:  # never break the kernel's dispatch for a status message
            _log.debug("could not publish the idle status of a comm message", exc_info=True)

    setattr(dispatch_shell, _MARK, True)
    kernel.dispatch_shell = dispatch_shell
    return True
