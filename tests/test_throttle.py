"""The widget rate limiter: leading edge at once, trailing edge always, both timer kinds."""

from __future__ import annotations

import asyncio
import itertools
import math
import threading
import time

import pytest

from osc_live._throttle import Throttle


class Recorder:
    """A thread-safe ``send`` that records (monotonic time, value, thread)."""

    def __init__(self) -> None:
        self.calls: list[tuple[float, object, threading.Thread]] = []
        self.event = threading.Event()
        self.lock = threading.Lock()

    def __call__(self, value: object) -> None:
        with self.lock:
            self.calls.append((time.monotonic(), value, threading.current_thread()))
        self.event.set()

    @property
    def values(self) -> list[object]:
        with self.lock:
            return [v for _, v, _ in self.calls]

    def wait_for(self, value: object, timeout: float = 2.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.values and self.values[-1] == value:
                return
            time.sleep(0.002)
        raise AssertionError(f"{value!r} never sent; got {self.values}")


def test_unthrottled_sends_everything_at_once() -> None:
    for rate in (None, 0, math.inf):
        rec = Recorder()
        th: Throttle[int] = Throttle(rec, rate)
        assert all(th.submit(i) for i in range(100))
        assert rec.values == list(range(100))
        assert th.timer_kind is None and th.rate_hz == math.inf
        th.close()


@pytest.mark.parametrize("rate", [-1.0, math.nan])
def test_bad_rate_is_refused(rate: float) -> None:
    with pytest.raises(ValueError, match="rate_hz"):
        Throttle(Recorder(), rate)


def test_leading_edge_is_synchronous_and_trailing_keeps_the_last_value() -> None:
    now = [100.0]
    rec = Recorder()
    th: Throttle[int] = Throttle(rec, 10.0, clock=lambda: now[0])  # 100 ms interval
    assert th.submit(1) is True  # leading edge: sent inside submit
    assert rec.values == [1]
    assert th.submit(2) is False and th.submit(3) is False
    assert th.pending and th.timer_kind == "thread" and th.dropped == 1
    now[0] += 0.1
    rec.wait_for(3)  # the real timer fires after ~100 ms and sends the *last* value
    assert rec.values == [1, 3]
    assert not th.pending and th.timer_kind is None and th.sent == 2
    th.close()


def test_flush_cancel_and_close() -> None:
    rec = Recorder()
    th: Throttle[str] = Throttle(rec, 1.0)  # one a second: the timer will not fire in this test
    th.submit("a")
    th.submit("b")
    assert th.flush() is True and rec.values == ["a", "b"]
    assert th.flush() is False
    th.submit("c")
    th.cancel()
    assert not th.pending and th.timer_kind is None
    th.submit("d")
    th.close(flush=True)
    assert rec.values == ["a", "b", "d"]
    assert th.submit("e") is False and rec.values == ["a", "b", "d"]  # closed: ignored


def test_rate_bound_and_final_value_with_thread_timer() -> None:
    """A 0.6 s 'drag' at ~2 kHz through a 60 Hz throttle: ≤ 60/s, spaced, last value sent."""
    rec = Recorder()
    th: Throttle[int] = Throttle(rec, 60.0)
    t0 = time.monotonic()
    i = 0
    while time.monotonic() - t0 < 0.6:
        i += 1
        th.submit(i)
        time.sleep(0.0005)
    rec.wait_for(i)
    elapsed = rec.calls[-1][0] - rec.calls[0][0]
    times = [t for t, _, _ in rec.calls]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= th.interval - 0.002, min(gaps)
    assert len(rec.calls) <= elapsed * 60 + 1
    assert len(rec.calls) >= 20  # it did keep sending during the drag, not only at the end
    assert rec.values == sorted(rec.values)
    assert any(t.name == "osc_live-throttle" for _, _, t in rec.calls)
    th.close()


def test_loop_timer_runs_on_the_event_loop_thread_without_threads() -> None:
    rec = Recorder()

    async def drag() -> Throttle[int]:
        th: Throttle[int] = Throttle(rec, 50.0)
        before = threading.active_count()
        kinds = set()
        for i in range(1, 31):
            th.submit(i)
            kinds.add(th.timer_kind)  # None right after a send that had nothing parked
            await asyncio.sleep(0.002)
        assert "loop" in kinds and "thread" not in kinds, kinds
        assert threading.active_count() == before  # call_later, not a thread
        await asyncio.sleep(0.05)
        return th

    th = asyncio.run(drag())
    assert rec.values[0] == 1 and rec.values[-1] == 30
    assert {t for _, _, t in rec.calls} == {threading.main_thread()}
    times = [t for t, _, _ in rec.calls]
    assert all(b - a >= 0.02 - 0.002 for a, b in itertools.pairwise(times))
    th.close()


def test_loop_timer_cancelled_by_close() -> None:
    rec = Recorder()

    async def main() -> None:
        th: Throttle[int] = Throttle(rec, 20.0)
        th.submit(1)
        th.submit(2)
        assert th.timer_kind == "loop"
        th.close()
        await asyncio.sleep(0.08)

    asyncio.run(main())
    assert rec.values == [1]


def test_errors_from_the_timer_go_to_on_error() -> None:
    errors: list[BaseException] = []
    calls: list[int] = []

    def send(v: int) -> None:
        calls.append(v)
        if v == 2:
            raise OSError("network down")

    th: Throttle[int] = Throttle(send, 100.0, on_error=errors.append)
    th.submit(1)
    th.submit(2)
    deadline = time.monotonic() + 2
    while not errors and time.monotonic() < deadline:
        time.sleep(0.005)
    assert calls == [1, 2] and isinstance(errors[0], OSError)
    th.close()


def test_leading_edge_errors_propagate() -> None:
    def send(v: int) -> None:
        raise OSError("refused")

    th: Throttle[int] = Throttle(send, 100.0)
    with pytest.raises(OSError, match="refused"):
        th.submit(1)
    th.close()
