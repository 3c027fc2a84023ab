"""A timer thread for the messages of future-dated bundles (the sync dispatch path).

One :class:`Scheduler` per dispatcher: a heap of jobs keyed by wall-clock (Unix) time, a
Condition, and one daemon thread named ``osc_live-scheduler`` started lazily by the first
job.  Nothing else ever sleeps: dispatching a future bundle only pushes onto the heap.

- Jobs run in time order (ties in the order they were scheduled), one at a time, in the
  scheduler thread.  A job that raises is logged on ``osc_live.dispatcher`` and the thread
  goes on.
- The thread waits in slices of at most :data:`MAX_WAIT` seconds so it follows wall-clock
  adjustments, and exits by itself after :data:`IDLE_EXIT` seconds without jobs (it is
  restarted by the next job).
- :meth:`Scheduler.close` drops the pending jobs and stops and joins the thread; the
  scheduler stays usable afterwards.
"""

from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from collections.abc import Callable

__all__ = ["IDLE_EXIT", "MAX_WAIT", "THREAD_NAME", "Scheduler"]

logger = logging.getLogger("osc_live.dispatcher")

THREAD_NAME = "osc_live-scheduler"
"""Name of the scheduler threads."""

MAX_WAIT = 1.0
"""Longest single wait, in seconds (the wall clock is re-read after each)."""

IDLE_EXIT = 2.0
"""Seconds without any job after which the thread exits."""

_Job = tuple[float, int, Callable[[], None]]


class Scheduler:
    """Runs callables at given Unix times in one lazily started daemon thread."""

    def __init__(self, name: str = THREAD_NAME) -> None:
        """Create an idle scheduler; ``name`` names its thread."""
        self._name = name
        self._cond = threading.Condition(threading.Lock())
        self._heap: list[_Job] = []
        self._seq = itertools.count()
        self._thread: threading.Thread | None = None
        self._generation = 0  # bumped by close(): threads of older generations exit
        self.errors = 0
        """Jobs that raised (each was logged)."""

    def __len__(self) -> int:
        """Number of pending jobs."""
        return len(self._heap)

    def schedule(self, when: float, job: Callable[[], None]) -> None:
        """Run ``job()`` in the scheduler thread at Unix time ``when`` (or soon after)."""
        with self._cond:
            heapq.heappush(self._heap, (when, next(self._seq), job))
            thread = self._thread
            if thread is None or not thread.is_alive():
                thread = threading.Thread(
                    target=self._run, args=(self._generation,), name=self._name, daemon=True
                )
                self._thread = thread
                thread.start()
            elif self._heap[0][2] is job:
                self._cond.notify()

    def close(self, timeout: float | None = 5.0) -> None:
        """Drop pending jobs, stop the thread and wait (``timeout``) for it to end.

        A job running at that moment finishes first.  Called from a job (inside the
        scheduler thread), the thread is stopped but not joined.
        """
        with self._cond:
            self._heap.clear()
            self._generation += 1
            thread = self._thread
            self._thread = None
            self._cond.notify_all()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _run(self, generation: int) -> None:
        """Thread body: pop due jobs and run them until closed or idle."""
        cond = self._cond
        heap = self._heap
        while True:
            with cond:
                idle_since: float | None = None
                while True:
                    if self._generation != generation:
                        return
                    if heap:
                        idle_since = None
                        delay = heap[0][0] - time.time()
                        if delay <= 0:
                            job = heapq.heappop(heap)[2]
                            break
                        cond.wait(min(delay, MAX_WAIT))
                    else:
                        now = time.monotonic()
                        if idle_since is None:
                            idle_since = now
                        elif now - idle_since >= IDLE_EXIT:
                            if self._thread is threading.current_thread():
                                self._thread = None
                            return
                        cond.wait(IDLE_EXIT - (now - idle_since))
            try:
                job()
            except Exception:
                self.errors += 1
                logger.exception("a scheduled OSC job raised; the scheduler goes on")
