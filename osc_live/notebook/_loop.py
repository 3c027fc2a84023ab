"""The session's event loop: the kernel's running asyncio loop, or a private one in a thread.

In a Jupyter kernel the session uses the kernel's running loop (listeners and replies are
handled between cells and during ``await``); with no running loop (terminal IPython, tests,
scripts, the ``osc-live`` command) it starts a private loop in a thread named
``osc_live-loop``. :meth:`LoopRunner.call_soon` is safe from any thread (it uses
``call_soon_threadsafe`` off the loop's thread).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

__all__ = ["LoopRunner", "enable_nested_asyncio"]

logger = logging.getLogger("osc_live.notebook")
T = TypeVar("T")


def enable_nested_asyncio(loop: asyncio.AbstractEventLoop | None = None) -> bool:
    """Let ``asyncio.run`` / ``run_until_complete`` work inside a running loop (a notebook).

    Applies ``nest_asyncio2`` to ``loop`` (default: the running loop) once. Returns True when
    the loop is (now) re-entrant, False when there is no running loop or nest_asyncio2 is
    missing. ``%load_ext osc_live`` calls it; the protocol modules never do.
    """
    if loop is None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return False
    if getattr(loop, "_nest_patched", False):
        return True
    try:
        import nest_asyncio2
    except ImportError:  # pragma: no cover - a dependency of ipykernel 7.4 and of [notebook]
        logger.warning("nest_asyncio2 is not installed: asyncio.run() in a cell will fail")
        return False
    nest_asyncio2.apply(loop)
    return True


class LoopRunner:
    """The running (kernel) loop, or a private one served by a daemon thread."""

    def __init__(self) -> None:
        try:
            self.loop = asyncio.get_running_loop()
            self.thread: threading.Thread | None = None
            self.owner_thread = threading.current_thread()
        except RuntimeError:
            self.loop = asyncio.new_event_loop()
            ready = threading.Event()
            self.thread = threading.Thread(
                target=self._serve, args=(ready,), name="osc_live-loop", daemon=True
            )
            self.owner_thread = self.thread
            self.thread.start()
            ready.wait(5)

    @property
    def private(self) -> bool:
        """True when the loop is our own (served by the ``osc_live-loop`` thread)."""
        return self.thread is not None

    def _serve(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.call_soon(ready.set)
        self.loop.run_forever()
        # drain what close() cancelled, then free the loop's resources
        pending = [t for t in asyncio.all_tasks(self.loop) if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            self.loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self.loop.run_until_complete(self.loop.shutdown_asyncgens())
        self.loop.close()

    @property
    def in_loop_thread(self) -> bool:
        """True when called from the thread that runs the loop."""
        return threading.current_thread() is self.owner_thread

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 10.0) -> T:
        """Run ``coro`` on the loop from synchronous code (any thread) and return its result.

        On the loop's own thread (a cell, a handler) the loop is re-entered
        (``nest_asyncio2``); from another thread the call waits up to ``timeout`` seconds.
        """
        if self.in_loop_thread:
            if self.loop.is_running():
                enable_nested_asyncio(self.loop)
            return self.loop.run_until_complete(asyncio.wait_for(coro, timeout))
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise TimeoutError(f"timed out after {timeout} s") from None

    def call_soon(self, func: Callable[..., Any], *args: Any) -> None:
        """Schedule ``func(*args)`` on the loop, from any thread (nothing once closed)."""
        if self.loop.is_closed():
            return
        if self.in_loop_thread:
            self.loop.call_soon(func, *args)
        else:
            with contextlib.suppress(RuntimeError):  # closed between the check and the call
                self.loop.call_soon_threadsafe(func, *args)

    def close(self) -> None:
        """Stop the private loop thread (the kernel's loop is left alone)."""
        if self.thread is None or self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        if threading.current_thread() is not self.thread:
            self.thread.join(5)
        self.thread = None
