"""Replay timing: how far packets land from the recorded schedule, at 1x, 2x and 0.5x.

A recording of 10 s at 1,000 msg/s (10,000 messages, 1 ms apart; written in the documented
format) is replayed over UDP to a receiver on 127.0.0.1 that takes the kernel's arrival time of
each datagram (``SO_TIMESTAMPNS``).  For each packet, offset = arrival - scheduled time (the
recorded time divided by the speed); the error reported is the offset minus the smallest offset
of the run (the start of a replay is arbitrary, lateness is what matters).  ``drift`` is the
median offset of the last 1,000 packets minus that of the first 1,000: a replayer that sleeps
the gaps between packets accumulates its overshoot there.

Peers, interleaved round by round (order rotated):

- ``osc_live``: :class:`osc_live.replay.Replayer` on an asyncio loop (absolute schedule);
- ``sleep(delta)``: what Python replayers seen in the wild do, ``time.sleep(t[i] - t[i-1])``
  then send -- the drift they accumulate is why they run long (or "fast" when they skip);
- ``raw spin``: the ceiling, a plain thread that busy-waits on ``time.monotonic_ns()`` until
  each due time and calls ``sendto`` (100 % of a core; no event loop).

Goal (issue 12): p99 <= 2 ms at 1x for osc_live.  Nothing is asserted: the table reports.

    .venv/bin/python benchmarks/bench_replay.py [--seconds 10] [--rate 1000] [--rounds 1]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import socket
import statistics
import struct
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from osc_live.osc_message import encode_message
from osc_live.recording import read_records
from osc_live.replay import Replayer

SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)


def write_recording(path: Path, seconds: float, rate: int) -> int:
    """A recording with packets exactly 1/rate s apart (the documented format)."""
    n = int(seconds * rate)
    step = 1_000_000_000 // rate
    with open(path, "w") as f:
        header = {"format": "osc-live-recording", "version": 1, "clock": "monotonic_ns"}
        header.update({"wall_ns": time.time_ns(), "created": "", "source": "bench"})
        f.write(json.dumps(header) + "\n")
        for i in range(n):
            data = base64.b64encode(encode_message("/bench/x", [i, 0.5])).decode()
            f.write(
                json.dumps(
                    {"t": i * step, "dir": "in", "peer": "", "addr": "/bench/x", "data": data}
                )
                + "\n"
            )
        f.write(json.dumps({"end": True, "t": n * step, "packets": n, "dropped": 0}) + "\n")
    return n


class Receiver:
    """UDP socket on 127.0.0.1 recording the kernel arrival time (ns, realtime) of each packet."""

    def __init__(self, expect: int) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(5)
        self.address = self.sock.getsockname()
        self.expect = expect
        self.arrivals: dict[int, int] = {}
        self.thread = threading.Thread(target=self._run, name="bench-receiver")
        self.thread.start()

    def _run(self) -> None:
        while len(self.arrivals) < self.expect:
            try:
                data, anc, _flags, _addr = self.sock.recvmsg(256, 64)
            except TimeoutError:
                break
            index = struct.unpack(">i", data[16:20])[0]  # "/bench/x\0\0\0\0" ",if\0" then i
            stamp = time.time_ns()
            for level, kind, raw in anc:
                if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                    sec, nsec = struct.unpack("qq", raw[:16])
                    stamp = sec * 1_000_000_000 + nsec
            self.arrivals[index] = stamp

    def close(self) -> dict[int, int]:
        self.thread.join(60)
        self.sock.close()
        return self.arrivals


def schedule(path: Path) -> tuple[list[int], list[bytes]]:
    records = list(read_records(path))
    return [r.t for r in records], [r.data for r in records]


def run_osc_live(path: Path, speed: float, target: tuple[str, int]) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:

        async def main() -> None:
            await Replayer(path, lambda data: tx.sendto(data, target), speed=speed).run()

        asyncio.run(main())


def run_sleep_delta(path: Path, speed: float, target: tuple[str, int]) -> None:
    times, packets = schedule(path)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
        previous = times[0]
        for t, data in zip(times, packets, strict=True):
            gap = (t - previous) / 1e9 / speed
            if gap > 0:
                time.sleep(gap)
            tx.sendto(data, target)
            previous = t


def run_raw_spin(path: Path, speed: float, target: tuple[str, int]) -> None:
    times, packets = schedule(path)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
        start = time.monotonic_ns() + 10_000_000
        first = times[0]
        for t, data in zip(times, packets, strict=True):
            due = start + int((t - first) / speed)
            while time.monotonic_ns() < due:
                pass
            tx.sendto(data, target)


PEERS: dict[str, Callable[[Path, float, tuple[str, int]], None]] = {
    "osc_live": run_osc_live,
    "sleep(delta)": run_sleep_delta,
    "raw spin": run_raw_spin,
}


def measure(path: Path, n: int, rate: int, speed: float, peer: str) -> dict[str, float]:
    receiver = Receiver(n)
    PEERS[peer](path, speed, receiver.address)
    arrivals = receiver.close()
    step = 1e9 / rate / speed
    offsets = [arrivals[i] - i * step for i in range(n) if i in arrivals]
    base = min(offsets)
    errors = sorted(o - base for o in offsets)
    k = max(1, len(offsets) // 10)
    return {
        "p50": errors[len(errors) // 2] / 1e6,
        "p99": errors[min(len(errors) - 1, int(len(errors) * 0.99))] / 1e6,
        "max": errors[-1] / 1e6,
        "drift": (statistics.median(offsets[-k:]) - statistics.median(offsets[:k])) / 1e6,
        "lost": float(n - len(offsets)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--speeds", default="1,2,0.5")
    parser.add_argument("--peers", default=",".join(PEERS))
    args = parser.parse_args(argv)
    speeds = [float(s) for s in args.speeds.split(",")]
    peers = args.peers.split(",")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.jsonl"
        n = write_recording(path, args.seconds, args.rate)
        print(f"recording: {n} messages, {args.seconds:g} s at {args.rate}/s; UDP to 127.0.0.1")
        results: dict[tuple[str, float], list[dict[str, float]]] = {}
        for r in range(args.rounds):
            for speed in speeds:
                order = peers[r % len(peers) :] + peers[: r % len(peers)]
                for peer in order:
                    results.setdefault((peer, speed), []).append(
                        measure(path, n, args.rate, speed, peer)
                    )
        heads = ("p50 ms", "p99 ms", "max ms")
        print(f"{'peer':<14}{'speed':>6}" + "".join(f"{h:>9}" for h in heads) + "  drift ms  lost")
        for speed in speeds:
            for peer in peers:
                runs = results[(peer, speed)]
                med = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
                print(
                    f"{peer:<14}{speed:>6g}{med['p50']:>9.3f}{med['p99']:>9.3f}{med['max']:>9.2f}"
                    f"{med['drift']:>10.2f}{med['lost']:>6.0f}"
                )
        p99 = statistics.median(run["p99"] for run in results.get(("osc_live", 1.0), [{"p99": 0}]))
        verdict = "met" if p99 <= 2.0 else "NOT met"
        rounds = f"medians of {args.rounds} round(s)"
        print(f"goal: osc_live p99 <= 2 ms at 1x -> {p99:.3f} ms, {verdict} ({rounds})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
