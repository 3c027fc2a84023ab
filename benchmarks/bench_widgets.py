"""Benchmark: widget value change → OSC datagram on the wire, and the send rate under a drag.

    .venv/bin/python benchmarks/bench_widgets.py            # full run (~30 s; --kernel ~80 s)
    .venv/bin/python benchmarks/bench_widgets.py --quick    # smaller samples (~15 s)

What is timed (kernel side, in one process, loopback UDP):

Everything runs inside one asyncio event loop, as widget observers do in a kernel.

1. **latency** — ``perf_counter_ns()`` right before the frontend's update message is handed to
   the widget's comm (``widget.comm.handle_msg`` with an ipywidgets ``update`` message: exactly
   what the kernel's comm manager calls when a slider moves in the browser: the shell's
   pre/post-execute events, trait validation, the echo message of ipywidgets 8, the osc_live
   observer, the throttle's leading edge, encoding, ``sendto``) until a blocking ``recv`` on the
   receiving socket returns the datagram.
   Changes are spaced further apart than the throttle interval, so every one takes the leading
   edge (the path a first touch or a slow drag takes). Reported: p50, p90, p99, max of the wall
   time, and p50/p99 of the CPU time of the send path alone (``thread_time_ns``, which other
   processes on the machine cannot inflate).
   Measured for an osc_live ``SimpleUDPClient`` target and, when the live layer is present, for a
   ``session().connect("udp://…")`` target (the notebook path), plus with ``throttle_hz=None``.
1b. **latency from the trait change** (rows ``trait: …``) — the same cases, but the clock starts
   right before ``widget.value = v`` in kernel code (what ``jslink``, ``Play`` or a loop in a
   cell does): traitlets validation, ipywidgets' ``notify_change`` (in a real kernel it sends the
   new state to the frontend on iopub *before* the observers run; outside a kernel the widget's
   comm is a ``DummyComm`` and nothing is sent), the osc_live observer, the throttle, encoding,
   ``sendto``; the clock stops when ``recv`` returns the datagram. Same samples, warm-up and
   spacing as the comm rows.
2. **drag** — 2 s of updates every ~2 ms (500 changes/s, faster than a browser sends them) through
   a 60 Hz throttle (its trailing edge a ``loop.call_later`` timer): messages per second on the
   wire, the smallest gap between two datagrams, and whether the final value arrived.

``--kernel`` runs the latency cases again inside a real ipykernel (started with jupyter_client):
there the widget has a real comm, so ipywidgets' echo message really goes out on iopub.

Numbers go to stdout as a small table; ``--json`` prints them as JSON too.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import socket
import statistics
import struct
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import ipywidgets as W

from osc_live import widgets
from osc_live.udp_client import SimpleUDPClient


def frontend_update(widget: Any, value: float) -> None:
    """Apply a change the way the kernel does when the browser moves the widget."""
    data = {"method": "update", "state": {"value": value}, "buffer_paths": []}
    widget.comm.handle_msg({"content": {"data": data}, "buffers": []})


# Linux: kernel arrival times (SO_TIMESTAMPNS is 35 on the generic ABI; Python 3.11 lacks the name).
_SO_TIMESTAMPNS = getattr(
    socket, "SO_TIMESTAMPNS", 35 if sys.platform.startswith("linux") else None
)


def receiver() -> socket.socket:
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.settimeout(2.0)
    if _SO_TIMESTAMPNS is not None:
        rx.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
    return rx


def recv_with_arrival(rx: socket.socket) -> tuple[bytes, int | None]:
    """One datagram and the kernel's arrival time (``time.time_ns`` clock), when it gives one.

    The arrival time is when the datagram reached the loopback socket, i.e. was on the wire:
    unlike the time ``recv`` returns, it does not include the rest of the setter (ipywidgets'
    frontend sync) that runs after osc_live has sent.
    """
    if _SO_TIMESTAMPNS is None:
        return rx.recv(65536), None
    data, ancdata, _flags, _addr = rx.recvmsg(65536, socket.CMSG_SPACE(16))
    for level, kind, payload in ancdata:
        if level == socket.SOL_SOCKET and kind == _SO_TIMESTAMPNS and len(payload) >= 16:
            sec, nsec = struct.unpack("qq", payload[:16])
            return data, sec * 1_000_000_000 + nsec
    return data, None


def last_float(data: bytes) -> float:
    return float(struct.unpack(">f", data[-4:])[0])


def pct(sorted_ns: list[int], p: float) -> float:
    """Percentile in microseconds (nearest rank)."""
    k = min(len(sorted_ns) - 1, max(0, round(p / 100 * len(sorted_ns)) - 1))
    return sorted_ns[k] / 1000


def trait_update(widget: Any, value: float) -> None:
    """Change the value from kernel code (a cell, ``jslink``, ``Play``): a traitlets change."""
    widget.value = value


async def bench_latency(
    name: str,
    make_target: Callable[[int], Any],
    n: int,
    throttle_hz: float | None,
    change: Callable[[Any, float], None] = frontend_update,
) -> dict[str, Any]:
    rx = receiver()
    target = make_target(rx.getsockname()[1])
    s = widgets.slider(
        "/fx/reverb", 0.0, 1.0, 0.0001, target=target, dispatcher=False, throttle_hz=throttle_hz
    )
    gap = 0.0 if throttle_hz is None else 1.0 / throttle_hz + 0.0005
    samples: list[int] = []
    wire: list[int] = []
    cpu: list[int] = []
    for i in range(n + 50):
        v = ((i * 37) % 9999 + 1) / 10000
        c0 = time.thread_time_ns()
        w0 = time.time_ns()
        t0 = time.perf_counter_ns()
        change(s, v)
        c1 = time.thread_time_ns()
        data, arrived = recv_with_arrival(rx)
        t1 = time.perf_counter_ns()
        assert abs(last_float(data) - v) < 1e-6, (last_float(data), v)
        if i >= 50:  # warm-up excluded
            samples.append(t1 - t0)
            cpu.append(c1 - c0)
            if arrived is not None:
                wire.append(max(0, arrived - w0))
        await asyncio.sleep(gap)  # let the loop run between changes, as in a kernel
    s.osc.close()
    rx.close()
    if hasattr(target, "close"):
        target.close()
    samples.sort()
    cpu.sort()
    wire.sort()
    return {
        "wire_p50_us": pct(wire, 50) if wire else float("nan"),
        "wire_p99_us": pct(wire, 99) if wire else float("nan"),
        "cpu_p50_us": pct(cpu, 50),
        "cpu_p99_us": pct(cpu, 99),
        "case": name,
        "n": len(samples),
        "p50_us": pct(samples, 50),
        "p90_us": pct(samples, 90),
        "p99_us": pct(samples, 99),
        "max_us": samples[-1] / 1000,
        "mean_us": statistics.fmean(samples) / 1000,
    }


async def bench_drag(seconds: float, throttle_hz: float) -> dict[str, Any]:
    """A fast drag; a receiver thread timestamps arrivals to measure the spacing on the wire."""
    rx = receiver()
    rx.settimeout(0.05)
    arrivals: list[tuple[int, float]] = []
    stop = threading.Event()

    def run() -> None:
        while not stop.is_set():
            try:
                data = rx.recv(65536)
            except TimeoutError:
                continue
            arrivals.append((time.perf_counter_ns(), last_float(data)))

    th = threading.Thread(target=run, name="bench-rx")
    th.start()
    target = SimpleUDPClient("127.0.0.1", rx.getsockname()[1])
    s = widgets.slider(
        "/fx/reverb", 0.0, 1.0, 0.0001, target=target, dispatcher=False, throttle_hz=throttle_hz
    )
    changes = 0
    v = 0.0
    t0 = time.monotonic()
    while time.monotonic() - t0 < seconds:
        v = round(min(1.0, v + 0.0001), 4)
        frontend_update(s, v)
        changes += 1
        await asyncio.sleep(0.002)  # the throttle's trailing edge is a loop timer here
    final = s.value
    await asyncio.sleep(0.2)  # the trailing edge
    stop.set()
    th.join()
    s.osc.close()
    rx.close()
    target.close()
    gaps = [(b[0] - a[0]) / 1e6 for a, b in itertools.pairwise(arrivals)]
    span_s = (arrivals[-1][0] - arrivals[0][0]) / 1e9 if len(arrivals) > 1 else 0.0
    return {
        "case": (
            f"drag {seconds:g} s, ~{changes / seconds:.0f} changes/s, throttle {throttle_hz:g} Hz"
        ),
        "changes": changes,
        "datagrams": len(arrivals),
        "rate_per_s": (len(arrivals) - 1) / span_s if span_s else float("nan"),
        "min_gap_ms": min(gaps) if gaps else float("nan"),
        "final_value_delivered": bool(arrivals) and abs(arrivals[-1][1] - final) < 1e-6,
        "values_increasing": all(a[1] < b[1] for a, b in itertools.pairwise(arrivals)),
    }


async def run(opts: argparse.Namespace) -> None:
    n_fast = 1000 if opts.quick else 5000
    n_lead = 120 if opts.quick else 400

    results: list[dict[str, Any]] = []

    def udp_client(port: int) -> Any:
        return SimpleUDPClient("127.0.0.1", port)

    results.append(await bench_latency("SimpleUDPClient, unthrottled", udp_client, n_fast, None))
    results.append(
        await bench_latency("SimpleUDPClient, 60 Hz leading edge", udp_client, n_lead, 60.0)
    )
    results.append(
        await bench_latency(
            "trait: SimpleUDPClient, unthrottled", udp_client, n_fast, None, trait_update
        )
    )
    results.append(
        await bench_latency(
            "trait: SimpleUDPClient, 60 Hz leading edge", udp_client, n_lead, 60.0, trait_update
        )
    )
    try:
        from osc_live.live import session
    except ImportError:
        session = None  # type: ignore[assignment]
    if session is not None:
        live = session()

        def live_target(port: int) -> Any:
            return live.connect(f"udp://127.0.0.1:{port}", name="bench")

        results.append(
            await bench_latency("session() udp Target, unthrottled", live_target, n_fast, None)
        )
        results.append(
            await bench_latency(
                "session() udp Target, 60 Hz leading edge", live_target, n_lead, 60.0
            )
        )
        results.append(
            await bench_latency(
                "trait: session() udp Target, unthrottled", live_target, n_fast, None, trait_update
            )
        )
        results.append(
            await bench_latency(
                "trait: session() udp Target, 60 Hz leading edge",
                live_target,
                n_lead,
                60.0,
                trait_update,
            )
        )
        live.close("all")
    drag = await bench_drag(1.0 if opts.quick else 2.0, 60.0)
    if opts.kernel:
        results += bench_in_kernel(n_fast // 2, n_lead)

    print(f"python {sys.version.split()[0]}, ipywidgets {W.__version__}")
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print(
        f"{'case':56} {'n':>5} {'p50 µs':>8} {'p90 µs':>8} {'p99 µs':>8} {'max µs':>8}"
        f" {'cpu p50':>8} {'cpu p99':>8} {'wire p50':>8} {'wire p99':>8}"
    )
    for r in results:
        print(
            f"{r['case']:56} {r['n']:5d} {r['p50_us']:8.1f} {r['p90_us']:8.1f} "
            f"{r['p99_us']:8.1f} {r['max_us']:8.1f} {r['cpu_p50_us']:8.1f} {r['cpu_p99_us']:8.1f}"
            f" {r.get('wire_p50_us', float('nan')):8.1f} {r.get('wire_p99_us', float('nan')):8.1f}"
        )
    print(
        f"{drag['case']}: {drag['datagrams']} datagrams for {drag['changes']} changes, "
        f"{drag['rate_per_s']:.1f}/s on the wire, min gap {drag['min_gap_ms']:.2f} ms, "
        f"final value delivered: {drag['final_value_delivered']}, "
        f"increasing: {drag['values_increasing']}"
    )
    if opts.json:
        print(json.dumps({"latency": results, "drag": drag}, indent=2))


KERNEL_CODE = """
import json, sys
sys.path.insert(0, {root!r})
from benchmarks.bench_widgets import bench_latency, SimpleUDPClient, trait_update
from osc_live.live import session

def udp(port):
    return SimpleUDPClient("127.0.0.1", port)

def live(port):
    return session().connect(f"udp://127.0.0.1:{{port}}", name="bench")

out = [
    await bench_latency("kernel: SimpleUDPClient, unthrottled", udp, {n_fast}, None),
    await bench_latency("kernel: SimpleUDPClient, 60 Hz leading edge", udp, {n_lead}, 60.0),
    await bench_latency("kernel: session() udp Target, unthrottled", live, {n_fast}, None),
    await bench_latency("kernel: session() udp Target, 60 Hz leading", live, {n_lead}, 60.0),
    await bench_latency(
        "kernel: trait: SimpleUDPClient, unthrottled", udp, {n_fast}, None, trait_update
    ),
    await bench_latency(
        "kernel: trait: SimpleUDPClient, 60 Hz leading edge", udp, {n_lead}, 60.0, trait_update
    ),
    await bench_latency(
        "kernel: trait: session() udp Target, unthrottled", live, {n_fast}, None, trait_update
    ),
    await bench_latency(
        "kernel: trait: session() udp Target, 60 Hz leading", live, {n_lead}, 60.0, trait_update
    ),
]
session().close("all")
print("RESULTS", json.dumps(out))
"""


def bench_in_kernel(n_fast: int, n_lead: int) -> list[dict[str, Any]]:
    """The latency cases inside a real ipykernel (widgets with a real comm, echo over iopub).

    Both triggers: the browser's update message (``handle_msg``) and a kernel-side trait change
    (``widget.value = v``, which sends the new state to the frontend over iopub first).
    """
    from pathlib import Path

    from jupyter_client.manager import start_new_kernel

    root = str(Path(__file__).resolve().parents[1])
    km, kc = start_new_kernel(kernel_name="python3")
    lines: list[str] = []
    try:

        def keep(msg: dict[str, Any]) -> None:
            if msg["msg_type"] == "stream":
                lines.append(msg["content"]["text"])
            elif msg["msg_type"] == "error":
                lines.append("\n".join(msg["content"]["traceback"]))

        code = KERNEL_CODE.format(root=root, n_fast=n_fast, n_lead=n_lead)
        kc.execute_interactive(code, timeout=300, output_hook=keep)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    text = "".join(lines)
    if "RESULTS " not in text:
        raise RuntimeError(f"kernel benchmark failed:\n{text}")
    results: list[dict[str, Any]] = json.loads(text.split("RESULTS ", 1)[1])
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--quick", action="store_true", help="smaller samples")
    ap.add_argument("--json", action="store_true", help="also print JSON")
    ap.add_argument("--kernel", action="store_true", help="also run the cases in a real kernel")
    # Everything runs inside one asyncio loop, as widget observers do in a kernel: the live
    # session adopts the running loop, UDP targets send from the loop thread, throttle timers
    # are loop.call_later timers.
    asyncio.run(run(ap.parse_args()))


if __name__ == "__main__":
    main()
