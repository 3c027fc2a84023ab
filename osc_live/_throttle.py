"""A per-control rate limiter with a leading and a trailing edge.

:class:`Throttle` forwards values to a ``send`` callable at most ``rate_hz`` times a second:

* **leading edge** — a value submitted when the last send is at least ``1 / rate_hz`` seconds
  old goes out at once, inside :meth:`Throttle.submit` (no timer, no thread hop: this is the
  latency path of a widget);
* **trailing edge** — a value submitted sooner is parked (a newer one replaces it: last value
  wins) and a single timer sends it when the interval has elapsed, so the final value of a drag
  is always delivered.

Timers. When :meth:`Throttle.submit` runs inside a running asyncio event loop (in a Jupyter
kernel: widget observers and cells run on the kernel's loop) the trailing edge is scheduled with
``loop.call_later`` and fires on that loop, the same thread as the widget code; nothing else is
started. Without a running loop (a plain script, a listener thread) a daemon
:class:`threading.Timer` is used instead. A loop timer fires between cells and during ``await``,
so a cell that blocks in ``time.sleep`` delays the trailing value until it ends; a thread timer
does not wait, but calls ``send`` from its own thread. Either way :meth:`Throttle.flush` sends a
parked value now and :meth:`Throttle.close` cancels the timer (joining a timer thread).

The module uses the standard library only and knows nothing about OSC or widgets.
"""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

__all__ = ["Throttle"]

T = TypeVar("T")

_log = logging.getLogger("osc_live.throttle")
_NOTHING = object()


class Throttle(Generic[T]):
    """Forward values to ``send`` at most ``rate_hz`` times a second, always the final one.

    ``rate_hz`` of ``None``, ``0`` or ``inf`` disables throttling (every value is sent at once).
    ``clock`` is the monotonic clock used to space the sends (injectable for tests).
    ``on_error`` receives any exception raised by ``send`` from a timer (where nobody could catch
    it); by default it is logged to ``osc_live.throttle``. Exceptions raised by a leading-edge
    send propagate to the caller of :meth:`submit`.
    """

    def __init__(
        self,
        send: Callable[[T], object],
        rate_hz: float | None = 60.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        on_error: Callable[[BaseException], object] | None = None,
    ) -> None:
        if rate_hz is not None and (math.isnan(rate_hz) or rate_hz < 0):
            raise ValueError(f"rate_hz must be positive, 0, inf or None, not {rate_hz!r}")
        self._send = send
        self._clock = clock
        self._on_error = on_error
        self._interval = 0.0 if not rate_hz or math.isinf(rate_hz) else 1.0 / rate_hz
        self._lock = threading.RLock()
        self._last_sent = -math.inf
        self._pending: object = _NOTHING
        self._loop_handle: asyncio.TimerHandle | None = None
        self._thread_timer: threading.Timer | None = None
        self._closed = False
        self.sent = 0
        """Number of values passed to ``send`` so far."""
        self.dropped = 0
        """Number of values replaced by a newer one before they could be sent."""

    # ------------------------------------------------------------------ properties
    @property
    def rate_hz(self) -> float:
        """The configured rate (``inf`` when unthrottled)."""
        return math.inf if self._interval == 0.0 else 1.0 / self._interval

    @property
    def interval(self) -> float:
        """The minimum spacing between two sends, in seconds (0 when unthrottled)."""
        return self._interval

    @property
    def pending(self) -> bool:
        """True while a value waits for the trailing edge."""
        return self._pending is not _NOTHING

    @property
    def timer_kind(self) -> str | None:
        """``"loop"``, ``"thread"`` or ``None``: how the trailing edge is currently scheduled."""
        if self._loop_handle is not None:
            return "loop"
        if self._thread_timer is not None:
            return "thread"
        return None

    # ------------------------------------------------------------------ API
    def submit(self, value: T) -> bool:
        """Offer a value; return True if it was sent now, False if it waits (or was dropped).

        After :meth:`close` values are ignored.
        """
        with self._lock:
            if self._closed:
                return False
            now = self._clock()
            wait = self._last_sent + self._interval - now
            if wait <= 0.0 and not self.pending:
                self._last_sent = now
                self.sent += 1
                # Send while holding the lock: values leave in submission order.
                self._send(value)
                return True
            if self.pending:
                self.dropped += 1
            self._pending = value
            if self._loop_handle is None and self._thread_timer is None:
                self._schedule(max(wait, 0.0))
            return False

    def flush(self) -> bool:
        """Send the parked value now, if any (ignoring the rate); return True if one was sent."""
        with self._lock:
            self._cancel_timer()
            return self._send_pending()

    def cancel(self) -> None:
        """Forget the parked value, if any, and cancel its timer."""
        with self._lock:
            self._cancel_timer()
            self._pending = _NOTHING

    def close(self, flush: bool = False) -> None:
        """Stop for good: cancel the timer (optionally sending the parked value first)."""
        with self._lock:
            timer = self._thread_timer
            if flush:
                self.flush()
            self.cancel()
            self._closed = True
        if timer is not None and timer is not threading.current_thread():
            timer.join(timeout=1.0)

    # ------------------------------------------------------------------ internals
    def _schedule(self, delay: float) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is not None and not loop.is_closed():
            self._loop_handle = loop.call_later(delay, self._fire_loop)
            return
        timer = threading.Timer(delay, self._fire_thread)
        timer.name = "osc_live-throttle"
        timer.daemon = True
        self._thread_timer = timer
        timer.start()

    def _cancel_timer(self) -> None:
        if self._loop_handle is not None:
            self._loop_handle.cancel()
            self._loop_handle = None
        if self._thread_timer is not None:
            self._thread_timer.cancel()
            self._thread_timer = None

    def _fire_loop(self) -> None:
        with self._lock:
            self._loop_handle = None  # a cancelled handle never runs: this one is current
            self._fire()

    def _fire_thread(self) -> None:
        with self._lock:
            if self._thread_timer is not threading.current_thread():
                return  # cancelled (or replaced) while waiting for the lock
            self._thread_timer = None
            self._fire()

    def _fire(self) -> None:
        if not self._closed:
            try:
                self._send_pending()
            except Exception as exc:  # a timer has no caller to raise to
                if self._on_error is not None:
                    self._on_error(exc)
                else:
                    _log.exception("throttled send failed")

    def _send_pending(self) -> bool:
        if self._pending is _NOTHING:
            return False
        value = self._pending
        self._pending = _NOTHING
        self._last_sent = self._clock()
        self.sent += 1
        self._send(value)  # type: ignore[arg-type]
        return True

    def __repr__(self) -> str:
        return (
            f"<Throttle {self.rate_hz:g} Hz sent={self.sent} dropped={self.dropped}"
            f" pending={self.pending} timer={self.timer_kind}>"
        )
