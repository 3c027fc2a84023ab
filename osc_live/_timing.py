"""Future-dated bundle messages of one dispatcher: where they wait, and how much may wait.

:class:`FutureWork` owns the sync path's :class:`~osc_live._scheduler.Scheduler` thread and
the asyncio timers and tasks of the async path, and counts what is held: *messages* (not
bundles: a bundle of 100 messages counts 100) and their *datagram bytes*.  ``admit`` refuses a
batch that would take either count over its limit; the batch is then dropped whole (it is
all the messages of one timetag of one packet) and the caller counts and logs it.  The counts
go down when a batch starts running or is cancelled by ``close``.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable
from typing import Any

from osc_live._scheduler import Scheduler

__all__ = ["DEFAULT_MAX_SCHEDULED", "DEFAULT_MAX_SCHEDULED_BYTES", "FutureWork"]

DEFAULT_MAX_SCHEDULED = 100_000
"""Default limit of future-dated messages waiting in one dispatcher."""

DEFAULT_MAX_SCHEDULED_BYTES = 32 * 1024 * 1024
"""Default limit of the datagram bytes of the messages waiting in one dispatcher (32 MiB; the
parsed arguments are held too, so memory is up to about twice this)."""

AsyncItem = asyncio.TimerHandle | asyncio.Task[Any]


class FutureWork:
    """Scheduled batches of one dispatcher, their counts and their limits."""

    def __init__(self, max_messages: int, max_bytes: int) -> None:
        self.max_messages = max_messages
        self.max_bytes = max_bytes
        self.messages = 0
        """Messages waiting for their time (scheduled, not started)."""
        self.bytes = 0
        """Datagram bytes of those messages."""
        self.scheduler = Scheduler()
        self.async_pending: dict[AsyncItem, asyncio.AbstractEventLoop] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """Pending jobs: sync batches + asyncio timers and tasks."""
        return len(self.scheduler) + len(self.async_pending)

    def admit(self, count: int, size: int) -> bool:
        """Reserve room for ``count`` messages of ``size`` bytes; False if over a limit."""
        with self._lock:
            if self.messages + count > self.max_messages or self.bytes + size > self.max_bytes:
                return False
            self.messages += count
            self.bytes += size
            return True

    def release(self, count: int, size: int) -> None:
        """A batch started running (or was dropped): give its room back."""
        with self._lock:
            self.messages = max(0, self.messages - count)
            self.bytes = max(0, self.bytes - size)

    def schedule(self, when: float, count: int, size: int, run: Callable[[], None]) -> None:
        """Run ``run()`` in the scheduler thread at Unix time ``when`` (room already admitted)."""

        def job() -> None:
            self.release(count, size)
            run()

        self.scheduler.schedule(when, job)

    def call_at(
        self,
        loop: asyncio.AbstractEventLoop,
        when: float,
        count: int,
        size: int,
        start: Callable[[], Any],
    ) -> None:
        """At Unix time ``when``, run the coroutine ``start()`` as a task of ``loop``."""
        handle: asyncio.TimerHandle | None = None

        def fire() -> None:
            self.async_pending.pop(handle, None)  # type: ignore[arg-type]
            self.release(count, size)
            task = loop.create_task(start())
            self.track(task, loop)
            task.add_done_callback(self.forget)

        handle = loop.call_at(loop.time() + (when - time.time()), fire)
        self.track(handle, loop)

    def track(self, item: AsyncItem, loop: asyncio.AbstractEventLoop) -> None:
        """Remember an asyncio timer or task so that ``close`` can cancel it."""
        self.async_pending[item] = loop

    def forget(self, item: AsyncItem) -> None:
        """A task ended: stop tracking it."""
        self.async_pending.pop(item, None)

    def close(self) -> None:
        """Cancel everything pending and stop the scheduler thread (idempotent, reusable).

        Safe from any thread: asyncio timers and tasks are cancelled in their own loop.
        """
        self.scheduler.close()
        pending, self.async_pending = self.async_pending, {}
        with self._lock:
            self.messages = 0
            self.bytes = 0
        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        for item, loop in pending.items():
            if loop is running:
                item.cancel()
            elif not loop.is_closed():
                with contextlib.suppress(RuntimeError):  # closed meanwhile
                    loop.call_soon_threadsafe(item.cancel)
