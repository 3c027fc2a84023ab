"""What :meth:`OscSession.on` needs around a user's handler: capturing what the handler's own
thread prints (for its log view) and telling whether two handler functions are "the same" (a
cell run again replaces its handler instead of adding a second one)."""

from __future__ import annotations

import io
import threading
from typing import Any

__all__ = ["ThreadOutput", "function_key", "wrapped_function"]


class ThreadOutput(io.TextIOBase):
    """``sys.stdout`` while a handler runs on the loop: what *this* thread prints is kept for
    the handler's log view; what other threads print meanwhile (a cell on a kernel subshell,
    a listener's thread) goes on to where it went before."""

    def __init__(self, previous: Any) -> None:
        super().__init__()
        self._previous = previous
        self._thread = threading.current_thread()
        self._buffer = io.StringIO()

    def write(self, text: str) -> int:
        if threading.current_thread() is self._thread:
            return self._buffer.write(text)
        return int(self._previous.write(text) or 0)

    def flush(self) -> None:
        if threading.current_thread() is not self._thread:
            self._previous.flush()

    def writable(self) -> bool:
        return True

    def captured(self) -> str:
        """What the handler's thread printed."""
        return self._buffer.getvalue()


def wrapped_function(handler: Any) -> Any:
    """The user's function behind a handler :meth:`OscSession.on` mapped."""
    return getattr(handler.callback, "__wrapped__", None)


def function_key(function: Any) -> tuple[str, str] | None:
    """What makes two handler functions "the same" for :meth:`OscSession.on`: module and
    qualified name (``None`` for lambdas and callables without a name)."""
    qualname = getattr(function, "__qualname__", None)
    if not isinstance(qualname, str) or "<lambda>" in qualname:
        return None
    return (str(getattr(function, "__module__", "")), qualname)
