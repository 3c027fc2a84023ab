"""Replay a recording: packets sent at their recorded times on the event loop's clock.

:class:`Replayer` reads a file written by :class:`~osc_live.recording.Recorder` and sends
its packets through a ``send(data)`` callable (plain or coroutine function) with the recorded
spacing divided by ``speed``:

- the schedule is absolute: packet *i* is due at ``start + (t_i - t_first) / speed`` on
  ``loop.time()``; the replayer waits for that instant and sends every packet already due
  (a late wake-up never shifts later packets: no ``sleep``-drift);
- bundles' timetags are shifted consistently: a bundle recorded ``d`` seconds before its
  timetag is sent with a timetag ``d / speed`` seconds after its send time (nested bundles
  alike); ``1`` (immediately) stays;
- ``loop=True`` starts over after the recording's length (the time from its first packet to
  its stop), ``pattern`` keeps packets with a matching address, ``directions`` which
  recorded directions are sent (``("in",)``: what was received);
- :meth:`stop` (any thread) ends it; :attr:`stats` counts sent packets, loops and lateness
  (how far after its due time each packet left: its p50/p99/max in ``lateness_ms()``).

The file is checked completely before the first packet goes (a damaged line raises
:class:`~osc_live.recording.RecordingError` naming it) and then streamed, so memory stays
constant whatever its length.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from osc_live._pattern import compile_pattern
from osc_live.osc_packet import parse_packet
from osc_live.parsing import ntp
from osc_live.recording import Record, RecordingInfo, packet_matches, read_records, scan

__all__ = ["ReplayStats", "Replayer", "shift_timetags"]

_Q = struct.Struct(">Q")
_I = struct.Struct(">i")
_BUNDLE = b"#bundle\x00"
LATENESS_SAMPLES = 100_000
"""Lateness samples kept for the percentiles (a ring: the most recent ones)."""


def shift_timetags(data: bytes, recorded_unix: float, sent_unix: float, speed: float) -> bytes:
    """``data`` with every bundle timetag moved to ``sent + (tag - recorded) / speed``.

    ``recorded_unix`` is when the packet was recorded, ``sent_unix`` when it is sent now.
    Messages and ``immediately`` (1) timetags are returned unchanged.  ``data`` must be a valid
    packet (recordings are checked when read).
    """
    if not data.startswith(_BUNDLE):
        return data
    out = bytearray(data)
    _shift(out, 0, len(out), recorded_unix, sent_unix, speed)
    return bytes(out)


def _shift(
    buf: bytearray, start: int, end: int, recorded: float, sent: float, speed: float
) -> None:
    tag = _Q.unpack_from(buf, start + 8)[0]
    if tag != 1:
        when = ntp.ntp_to_unix(tag)
        new = sent + (when - recorded) / speed
        _Q.pack_into(buf, start + 8, ntp.unix_to_ntp(max(new, 0.0)) if new > 0 else 1)
    idx = start + 16
    while idx + 4 <= end:
        size = _I.unpack_from(buf, idx)[0]
        idx += 4
        if buf[idx : idx + 8] == _BUNDLE:
            _shift(buf, idx, idx + size, recorded, sent, speed)
        idx += size


@dataclass
class ReplayStats:
    """Counters of a replay."""

    sent: int = 0
    skipped: int = 0
    loops: int = 0
    send_errors: int = 0
    lateness_ns: list[int] = field(default_factory=list, repr=False)

    def lateness_ms(self) -> dict[str, float]:
        """p50, p99 and max of how late packets left after their due time (ms)."""
        samples = sorted(self.lateness_ns)
        if not samples:
            return {"p50": 0.0, "p99": 0.0, "max": 0.0}

        def pct(q: float) -> float:
            return samples[min(len(samples) - 1, int(q * len(samples)))] / 1e6

        return {"p50": pct(0.5), "p99": pct(0.99), "max": samples[-1] / 1e6}


class Replayer:
    """Sends a recording's packets at their recorded times (see the module docstring)."""

    def __init__(
        self,
        path: str | os.PathLike[str],
        send: Callable[[bytes], Any],
        *,
        speed: float = 1.0,
        loop: bool = False,
        pattern: str | None = None,
        directions: tuple[str, ...] = ("in",),
        shift: bool = True,
        on_sent: Callable[[Record, bytes], Any] | None = None,
        lead: float = 0.01,
    ) -> None:
        """Check the file now (RecordingError names a bad line); replay in :meth:`run`."""
        if not speed > 0:
            raise ValueError(f"speed must be > 0, not {speed!r}")
        if pattern is not None and compile_pattern(pattern) is None:
            raise ValueError(f"malformed OSC address pattern {pattern!r}")
        self.path = os.fspath(path)
        self.info: RecordingInfo = scan(path)
        self.send = send
        self.speed = float(speed)
        self.loop = loop
        self.pattern = pattern
        self.directions = directions
        self.shift = shift
        self.on_sent = on_sent
        self.lead = lead
        self.stats = ReplayStats()
        self._task: asyncio.Task[ReplayStats] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False
        self._finished = False

    @property
    def running(self) -> bool:
        """True while the replay task runs."""
        return self._task is not None and not self._task.done()

    @property
    def finished(self) -> bool:
        """True once the replay has ended (all sent, or stopped)."""
        return self._finished

    def start(self) -> asyncio.Task[ReplayStats]:
        """Start :meth:`run` as a task of the running loop and return it."""
        self._task = asyncio.get_running_loop().create_task(self.run(), name=f"replay {self.path}")
        return self._task

    def stop(self) -> None:
        """End the replay (any thread); the task returns its stats."""
        self._stopping = True
        task, loop = self._task, self._loop
        if task is None or loop is None or task.done():
            if task is None:
                self._finished = True  # never started: it will not start
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            task.cancel()
        else:
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(task.cancel)

    async def run(self) -> ReplayStats:
        """Replay (once, or until stopped with ``loop``) on the running loop; the stats."""
        loop = asyncio.get_running_loop()
        self._loop = loop
        if self._task is None:
            self._task = asyncio.current_task()  # type: ignore[assignment]
        info = self.info
        period = max(info.duration_ns, 1_000_000) / self.speed / 1e9
        start = loop.time() + self.lead
        try:
            while not self._stopping and info.first_t is not None:
                await self._one_pass(loop, start)
                self.stats.loops += 1
                if not self.loop:
                    break
                start += period
        except asyncio.CancelledError:
            if not self._stopping:
                raise
        finally:
            self._finished = True
        return self.stats

    async def _one_pass(self, loop: asyncio.AbstractEventLoop, start: float) -> None:
        info = self.info
        first_t = info.first_t or 0
        scale = 1e-9 / self.speed
        wall0 = info.wall_ns / 1e9
        stats = self.stats
        samples = stats.lateness_ns
        burst = 0
        for record in read_records(self.path):
            if record.direction not in self.directions:
                continue
            if self.pattern is not None and not packet_matches(
                parse_packet(record.data), self.pattern
            ):
                stats.skipped += 1
                continue
            due = start + (record.t - first_t) * scale
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
                burst = 0
            else:
                burst += 1
                if burst >= 256:  # far behind: let the loop breathe between packets sent late
                    await asyncio.sleep(0)
                    burst = 0
            data = record.data
            if self.shift and data[:1] == b"#":
                data = shift_timetags(data, wall0 + record.t / 1e9, time.time(), self.speed)
            late = loop.time() - due
            try:
                result = self.send(data)
                if inspect.isawaitable(result):
                    await result
            except (OSError, ConnectionError):
                stats.send_errors += 1
                continue
            if len(samples) >= LATENESS_SAMPLES:
                del samples[: LATENESS_SAMPLES // 2]
            samples.append(int(late * 1e9))
            stats.sent += 1
            if self.on_sent is not None:
                self.on_sent(record, data)
