"""Benchmark: kernel-side cost of ``%osc send``, and the receiver's ingest rate with a monitor.

    .venv/bin/python benchmarks/bench_magics.py                      # full run (~90 s)
    .venv/bin/python benchmarks/bench_magics.py --quick              # smaller samples (~15 s)
    .venv/bin/python benchmarks/bench_magics.py --distinct 1000000   # only part 4

Everything runs inside one asyncio event loop, as cells do in ipykernel 7 (the session then
uses that loop, as in a kernel, not its private thread).

1. **send** — ``shell.run_line_magic("osc", "send /fx/reverb 0.3 7 'hi'")`` N times in an
   IPython InteractiveShell, to a UDP socket that nobody reads (datagrams the kernel drops
   cost nothing here): µs per message for the magic (parse + encode + sendto + counters), and
   for comparison the widget path ``session().target().send_message(...)`` and a bare
   ``SimpleUDPClient.send_message``.
2. **ingest** — a separate process sends UDP datagrams to ``%osc listen`` at a fixed rate (and
   then as fast as it can) for a few seconds while ``%osc monitor`` is displayed (a display
   handle that renders every frame to HTML, as the kernel would send it). Reported: messages
   handled per second, messages lost (sent but never counted: the kernel socket buffer
   overflowed), frames rendered per second (bound: 10), and the event loop's lateness: a
   timer every 20 ms, the way the kernel would start a trivial cell (p50 / p99 / max).
3. **kernel** (``--kernel``) — the same 10,000 msgs/s into a real ipykernel (started with
   jupyter_client) running ``%osc listen`` and ``%osc monitor``; meanwhile trivial cells
   (``1 + 1``) are executed one after another and their round trip (execute request → reply)
   is timed, compared with the same cells on the idle kernel.
4. **distinct** (``--distinct N``, default 1,000,000) — N messages on N *distinct* addresses
   (``/d/0`` … ``/d/N-1``, one int each) fed to the session dispatcher (the path every
   listener and reply takes: parse, counters, traffic table, monitor marking) while a monitor
   is displayed and rendered ten times a second of elapsed time; each configuration in its own
   process so RSS is its own: the default row cap (``traffic_rows``) and the cap lifted above
   N (what an uncapped table costs). Reported: µs per message over the first and the last
   10 % of the messages, the monitor frame's render time at the end, rows kept, totals exact,
   and the RSS growth.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import subprocess
import sys
import time
from typing import Any

SENDER = r"""
import socket, sys, time
port, rate, seconds = int(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])
sys.path.insert(0, sys.argv[4])
from osc_live.osc_message import encode_message
data = [encode_message('/sensor/' + 'xyz'[k % 3], [k, k / 7.0]) for k in range(300)]
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
sent, t0 = 0, time.perf_counter()
batch = 50
while time.perf_counter() - t0 < seconds:
    for _ in range(batch):
        s.sendto(data[sent % 300], ('127.0.0.1', port))
        sent += 1
    if rate > 0:
        ahead = sent / rate - (time.perf_counter() - t0)
        if ahead > 0:
            time.sleep(ahead)
print(sent, time.perf_counter() - t0)
"""


def shell() -> Any:
    from IPython.testing import globalipapp

    globalipapp.start_ipython()
    ip = globalipapp.get_ipython()
    ip.run_line_magic("load_ext", "osc_live")
    return ip


def bench_send(ip: Any, n: int) -> dict[str, float]:
    from osc_live.live import session
    from osc_live.udp_client import SimpleUDPClient

    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    port = sink.getsockname()[1]
    ip.run_line_magic("osc", f"connect sink udp://127.0.0.1:{port}")
    results: dict[str, float] = {}
    line = "send /fx/reverb 0.3 7 'hi'"
    for _ in range(500):
        ip.run_line_magic("osc", line)
    t0 = time.perf_counter()
    for _ in range(n):
        ip.run_line_magic("osc", line)
    results["magic_send_us"] = (time.perf_counter() - t0) / n * 1e6

    target = session().target()
    t0 = time.perf_counter()
    for _ in range(n):
        target.send_message("/fx/reverb", [0.3, 7, "hi"])
    results["target_send_message_us"] = (time.perf_counter() - t0) / n * 1e6

    with SimpleUDPClient("127.0.0.1", port) as client:
        t0 = time.perf_counter()
        for _ in range(n):
            client.send_message("/fx/reverb", [0.3, 7, "hi"])
        results["simple_udp_client_us"] = (time.perf_counter() - t0) / n * 1e6
    ip.run_line_magic("osc", "close sink")
    sink.close()
    return results


class _Handle:
    """Stands in for the kernel's DisplayHandle: renders each frame like a kernel would."""

    def __init__(self) -> None:
        self.updates = 0
        self.bytes = 0

    def update(self, obj: Any) -> None:
        self.updates += 1
        self.bytes += len(obj._repr_html_()) + len(repr(obj))


async def bench_ingest(ip: Any, rate: float, seconds: float) -> dict[str, Any]:
    from osc_live.live import session

    ses = session()
    listener = ip.run_line_magic("osc", "listen bench 0")
    sock = listener.server.transport.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    view = ses.monitor("/sensor/*")
    view.handle = _Handle()
    ses.live_display = True
    ses.traffic.clear()
    frames0 = view.frames
    lateness: list[float] = []
    loop = asyncio.get_running_loop()
    stop = False

    def tick(expected: float) -> None:
        lateness.append(loop.time() - expected)
        if not stop:
            loop.call_at(expected + 0.02, tick, expected + 0.02)

    start = loop.time()
    loop.call_at(start + 0.02, tick, start + 0.02)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        SENDER,
        str(listener.port),
        str(rate),
        str(seconds),
        str(__import__("pathlib").Path(__file__).resolve().parents[1]),
        stdout=subprocess.PIPE,
    )
    out, _ = await proc.communicate()
    sent, elapsed = out.split()
    await asyncio.sleep(0.5)  # drain
    stop = True
    received = ses.traffic.totals["received"]
    frames = view.frames - frames0
    ip.run_line_magic("osc", "close bench")
    lateness.sort()
    return {
        "target_rate": rate or "max",
        "sent": int(sent),
        "send_seconds": round(float(elapsed), 2),
        "sent_per_s": round(int(sent) / float(elapsed)),
        "handled": received,
        "handled_per_s": round(received / float(elapsed)),
        "lost": int(sent) - received,
        "frames_per_s": round(frames / (float(elapsed) + 0.5), 1),
        "loop_late_p50_ms": round(lateness[len(lateness) // 2] * 1000, 2),
        "loop_late_p99_ms": round(lateness[int(len(lateness) * 0.99)] * 1000, 2),
        "loop_late_max_ms": round(lateness[-1] * 1000, 2),
        "mean_frame_kb": round(view.handle.bytes / max(view.handle.updates, 1) / 1024, 1),
    }


async def main_async(quick: bool) -> dict[str, Any]:
    ip = shell()
    out: dict[str, Any] = {}
    out["send"] = bench_send(ip, 5000 if quick else 20000)
    seconds = 2.0 if quick else 4.0
    out["ingest"] = [await bench_ingest(ip, rate, seconds) for rate in (10_000, 0)]
    ip.run_line_magic("unload_ext", "osc_live")
    return out


def _cells(kc: Any, seconds: float) -> list[float]:
    """Round trips (ms) of trivial cells executed back to back for ``seconds``."""
    times = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        t0 = time.perf_counter()
        reply = kc.execute_interactive("1 + 1", timeout=30, output_hook=lambda msg: None)
        assert reply["content"]["status"] == "ok"
        times.append((time.perf_counter() - t0) * 1000)
    return sorted(times)


def bench_kernel(rate: float, seconds: float) -> dict[str, Any]:
    from pathlib import Path

    from jupyter_client.manager import start_new_kernel

    km, kc = start_new_kernel(kernel_name="python3")
    try:
        setup = (
            "%load_ext osc_live\nlis = %osc listen 0\n%osc monitor\n"
            "import socket\nlis.server.transport.get_extra_info('socket')"
            ".setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)\nprint(lis.port)"
        )
        lines: list[str] = []

        def keep(msg: dict[str, Any]) -> None:
            if msg["msg_type"] == "stream":
                lines.append(msg["content"]["text"])

        kc.execute_interactive(setup, timeout=30, output_hook=keep)
        port = int("".join(lines).split()[-1])
        idle = _cells(kc, 1.0)
        root = str(Path(__file__).resolve().parents[1])
        sender = subprocess.Popen(
            [sys.executable, "-c", SENDER, str(port), str(rate), str(seconds), root],
            stdout=subprocess.PIPE,
            text=True,
        )
        busy = _cells(kc, seconds - 0.5)
        out, _ = sender.communicate(timeout=seconds + 10)
        sent = int(out.split()[0])
        time.sleep(0.5)
        lines.clear()
        kc.execute_interactive(
            "from osc_live.live import session\n"
            "print(session().traffic.totals['received'], session().views[0].frames)",
            timeout=30,
            output_hook=keep,
        )
        received, frames = (int(x) for x in "".join(lines).split())
        kc.execute_interactive("%unload_ext osc_live", timeout=30, output_hook=lambda m: None)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)

    def pct(values: list[float], p: float) -> float:
        return round(values[min(len(values) - 1, int(len(values) * p))], 2)

    return {
        "rate": rate,
        "sent": sent,
        "counted": received,
        "lost": sent - received,
        "monitor_frames": frames,
        "idle_cell_p50_ms": pct(idle, 0.5),
        "idle_cell_p99_ms": pct(idle, 0.99),
        "busy_cells": len(busy),
        "busy_cell_p50_ms": pct(busy, 0.5),
        "busy_cell_p99_ms": pct(busy, 0.99),
        "busy_cell_max_ms": round(busy[-1], 2),
    }


def _rss_mb() -> float:
    with open("/proc/self/statm", encoding="ascii") as statm:
        pages = int(statm.read().split()[1])
    return pages * (__import__("os").sysconf("SC_PAGE_SIZE")) / 2**20


def distinct_worker(n: int, cap: int) -> dict[str, Any]:
    """One configuration of part 4, in this process (see the module docstring)."""
    import gc

    from osc_live.notebook.kernel_session import OscSession, SessionOptions
    from osc_live.osc_message import encode_message

    packets = [encode_message(f"/d/{k}", [k]) for k in range(n)]
    gc.collect()
    rss0 = _rss_mb()
    ses = OscSession(SessionOptions(traffic_rows=cap))
    view = ses.monitor()
    view.handle = _Handle()
    ses.live_display = True
    dispatch = ses.dispatcher.call_handlers_for_packet
    peer = ("127.0.0.1", 9000)
    tenth = max(n // 10, 1)
    marks: list[float] = []
    frame_every = 0.1
    t0 = time.perf_counter()
    next_frame = t0 + frame_every
    for k, packet in enumerate(packets):
        if k % tenth == 0:
            marks.append(time.perf_counter())
        dispatch(packet, peer)
        if k & 255 == 0 and time.perf_counter() >= next_frame:
            view.refresh()  # what the session's 10 Hz timer does in a kernel
            next_frame += frame_every
    marks.append(time.perf_counter())
    f0 = time.perf_counter()
    view.refresh()
    frame_ms = (time.perf_counter() - f0) * 1000
    totals = ses.traffic.totals_copy()
    out = {
        "messages": n,
        "traffic_rows_cap": cap,
        "first_10pct_us_per_msg": round((marks[1] - marks[0]) / tenth * 1e6, 2),
        "last_10pct_us_per_msg": round((marks[-1] - marks[-2]) / tenth * 1e6, 2),
        "ingest_first_msgs_per_s": round(tenth / (marks[1] - marks[0])),
        "ingest_last_msgs_per_s": round(tenth / (marks[-1] - marks[-2])),
        "frames": view.frames,
        "last_frame_ms": round(frame_ms, 2),
        "rows_kept": len(ses.traffic),
        "rows_dropped": ses.traffic.evicted,
        "totals_exact": totals["received"] == n and totals["packets"] == n,
        "rss_growth_mb": round(_rss_mb() - rss0, 1),
    }
    ses.close()
    return out


def bench_distinct(n: int) -> list[dict[str, Any]]:
    """Part 4: each configuration in a fresh process (RSS of its own)."""
    from osc_live.notebook.traffic import DEFAULT_MAX_ROWS

    rows = []
    for cap in (DEFAULT_MAX_ROWS, n + 1):
        out = subprocess.run(
            [sys.executable, __file__, "--distinct-worker", str(n), str(cap)],
            capture_output=True,
            text=True,
            check=True,
            timeout=1800,
        )
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--kernel", action="store_true", help="also measure a real kernel")
    parser.add_argument(
        "--distinct", type=int, default=0, metavar="N", help="only part 4, with N addresses"
    )
    parser.add_argument("--distinct-worker", nargs=2, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.distinct_worker:
        print(json.dumps(distinct_worker(*args.distinct_worker)))
        return
    if args.distinct:
        print(f"{args.distinct:,} distinct addresses into the session with a monitor displayed:")
        for row in bench_distinct(args.distinct):
            print("  " + ", ".join(f"{k}={v}" for k, v in row.items()))
        return
    results = asyncio.run(main_async(args.quick))
    results["distinct"] = bench_distinct(100_000 if args.quick else 1_000_000)
    if args.kernel:
        results["kernel"] = bench_kernel(10_000, 3.0 if args.quick else 5.0)
    send = results["send"]
    print("kernel-side cost per message (µs):")
    for key, value in send.items():
        print(f"  {key:<26} {value:8.1f}")
    print("ingest with the monitor displayed:")
    for row in results["ingest"]:
        print("  " + ", ".join(f"{k}={v}" for k, v in row.items()))
    print("distinct addresses into the session with a monitor displayed (one process each):")
    for row in results["distinct"]:
        print("  " + ", ".join(f"{k}={v}" for k, v in row.items()))
    if "kernel" in results:
        print("real kernel, 10,000 msgs/s into %osc listen with %osc monitor displayed:")
        print("  " + ", ".join(f"{k}={v}" for k, v in results["kernel"].items()))
    if args.json:
        print(json.dumps(results))


if __name__ == "__main__":
    main()
