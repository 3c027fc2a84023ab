"""Transport benchmark: client -> server messages/s over loopback, and future-bundle lateness.

Run from the repository root (one run prints everything)::

    .venv/bin/python benchmarks/bench_transport.py            # about a minute
    .venv/bin/python benchmarks/bench_transport.py --quick    # fewer messages

Throughput.  For UDP, TCP 1.0 and TCP 1.1 it times N messages ``/bench 1 2.5 "abc"`` sent by
one client to one server running in another process (so client and server do not share a
GIL), from the first send to the moment the server's handler has seen the last message:

- ``osc_live``: osc_live ``SimpleTCPClient`` / ``SimpleUDPClient`` -> osc_live blocking server;
- ``python-osc``: python-osc client -> python-osc blocking server (same shapes);
- ``raw``: a bare socket sending pre-encoded frames one ``sendall``/``sendto`` per message ->
  the osc_live server: the ceiling the osc_live pair can reach.

It prints messages/s (best of 3) and the ratios osc_live/python-osc and osc_live/raw.  UDP may
lose datagrams when the receiver falls behind: the delivered count is shown.

Lateness.  An osc_live :class:`AsyncOSCTCPServer` runs in this process with a ticker task that
wakes every millisecond and records how late it woke (the loop stall); a client process sends
bundles timetagged 50 ms ahead, 500 per second.  The handler records how late each message ran
compared to its timetag: p50 / p99 / max, and the maximum loop stall.

Targets (issue 3): TCP >= 3x python-osc and >= 0.5x raw; UDP >= 0.8x raw; lateness p99 <= 2 ms
with no loop stall.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

ADDRESS = "/bench"
ARGS: list[Any] = [1, 2.5, "abc"]


# --------------------------------------------------------------------------------------------
# server side (child process)
# --------------------------------------------------------------------------------------------


def _serve(proto: str, impl: str, mode: str, n: int) -> None:
    """Child: serve until n messages were handled (or UDP goes quiet); report the timings."""
    done = threading.Event()
    state = {"count": 0, "first": 0.0, "last": 0.0}

    def handler(address: str, *args: Any) -> None:
        c = state["count"] + 1
        state["count"] = c
        if c == 1:
            state["first"] = time.monotonic()
        if proto == "udp":
            state["last"] = time.monotonic()
        if c >= n:
            state["last"] = time.monotonic()
            done.set()

    if impl == "python-osc":
        from pythonosc import dispatcher as po_dispatcher
        from pythonosc import osc_server as po_udp
        from pythonosc import osc_tcp_server as po_tcp

        d: Any = po_dispatcher.Dispatcher()
        d.map(ADDRESS, handler)
        if proto == "udp":
            server: Any = po_udp.BlockingOSCUDPServer(("127.0.0.1", 0), d)
        else:
            server = po_tcp.BlockingOSCTCPServer(("127.0.0.1", 0), d, mode=mode)
    else:
        from osc_live import osc_server, osc_tcp_server
        from osc_live.dispatcher import Dispatcher

        d = Dispatcher()
        d.map(ADDRESS, handler)
        if proto == "udp":
            server = osc_server.BlockingOSCUDPServer(("127.0.0.1", 0), d)
        else:
            server = osc_tcp_server.BlockingOSCTCPServer(("127.0.0.1", 0), d, mode=mode)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    print("PORT", server.server_address[1], flush=True)
    if proto == "udp":
        # Datagrams may be lost: stop once nothing arrived for a second.
        seen = -1
        while not done.wait(1.0):
            if state["count"] == seen and seen > 0:
                break
            seen = state["count"]
        if not state["last"]:
            state["last"] = time.monotonic()
    else:
        done.wait(300)
    print("DONE", state["count"], repr(state["first"]), repr(state["last"]), flush=True)
    os._exit(0)


# --------------------------------------------------------------------------------------------
# client side
# --------------------------------------------------------------------------------------------


def _frames(mode: str) -> bytes:
    from osc_live.framing import make_framer
    from osc_live.osc_message import encode_message

    packet = encode_message(ADDRESS, ARGS)
    return packet if mode == "udp" else make_framer(mode).frame(packet)


def _send(proto: str, impl: str, mode: str, port: int, n: int) -> tuple[float, float]:
    """Send n messages; return the monotonic start and end times of the sending loop."""
    if impl == "raw":
        frame = _frames("udp" if proto == "udp" else mode)
        if proto == "udp":
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            target = ("127.0.0.1", port)
            sendto = sock.sendto
            t0 = time.monotonic()
            for _ in range(n):
                sendto(frame, target)
            t1 = time.monotonic()
        else:
            sock = socket.create_connection(("127.0.0.1", port))
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sendall = sock.sendall
            t0 = time.monotonic()
            for _ in range(n):
                sendall(frame)
            t1 = time.monotonic()
        sock.close()
        return t0, t1
    if impl == "python-osc":
        from pythonosc import tcp_client as po_tcp
        from pythonosc import udp_client as po_udp

        if proto == "udp":
            client: Any = po_udp.SimpleUDPClient("127.0.0.1", port)
        else:
            client = po_tcp.SimpleTCPClient("127.0.0.1", port, mode=mode)
    else:
        from osc_live import tcp_client, udp_client

        if proto == "udp":
            client = udp_client.SimpleUDPClient("127.0.0.1", port)
        else:
            client = tcp_client.SimpleTCPClient("127.0.0.1", port, mode=mode)
    send_message = client.send_message
    args = ARGS
    t0 = time.monotonic()
    for _ in range(n):
        send_message(ADDRESS, args)
    t1 = time.monotonic()
    if proto == "udp" and impl == "python-osc":
        client._sock.close()
    else:
        client.close()
    return t0, t1


def _one(proto: str, impl: str, mode: str, n: int) -> tuple[float, int, float]:
    """One measurement: (messages/s end to end, messages delivered, messages/s sent)."""
    server_impl = "python-osc" if impl == "python-osc" else "osc_live"
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve", proto, server_impl, mode, str(n)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert child.stdout is not None
    line = child.stdout.readline().split()
    port = int(line[1])
    t0, t1 = _send(proto, impl, mode, port, n)
    done = child.stdout.readline().split()
    child.wait(60)
    count, last = int(done[1]), float(done[3])
    return count / max(last - t0, 1e-9), count, n / max(t1 - t0, 1e-9)


def throughput(n_tcp: int, n_udp: int, repeat: int, udp: bool) -> list[str]:
    """Measure every transport; return the printed lines."""
    lines = [
        "",
        f"Throughput client -> server over loopback (messages/s end to end, best of {repeat})",
        f"{'transport':<10}{'osc_live':>12}{'python-osc':>12}{'raw':>12}"
        f"{'vs py-osc':>11}{'vs raw':>9}  target",
    ]
    cases = [("tcp", "1.0", n_tcp), ("tcp", "1.1", n_tcp)]
    if udp:
        cases.insert(0, ("udp", "-", n_udp))
    for proto, mode, n in cases:
        n_po = max(n // 3, 1000)
        # Interleaved repeats, best of each: a burst of load on the (shared) machine then
        # hits every contestant alike.
        runs: dict[str, list[tuple[float, int, float]]] = {"ours": [], "theirs": [], "raw": []}
        for _ in range(repeat):
            runs["ours"].append(_one(proto, "osc_live", mode, n))
            runs["theirs"].append(_one(proto, "python-osc", mode, n_po))
            runs["raw"].append(_one(proto, "raw", mode, n))
        ours, ours_n, ours_send = max(runs["ours"])
        theirs, theirs_n, theirs_send = max(runs["theirs"])
        raw, raw_n, raw_send = max(runs["raw"])
        name = "UDP" if proto == "udp" else f"TCP {mode}"
        target = ">= 0.8x raw" if proto == "udp" else ">= 3x python-osc, >= 0.5x raw"
        lines.append(
            f"{name:<10}{ours:>12,.0f}{theirs:>12,.0f}{raw:>12,.0f}"
            f"{ours / theirs:>10.2f}x{ours / raw:>8.2f}x  {target}"
        )
        if proto == "udp":
            # The receiver falls behind and datagrams are lost: the sending rate tells the
            # client's cost, the end-to-end rate the receiver's.
            lines.append(
                f"{'UDP send':<10}{ours_send:>12,.0f}{theirs_send:>12,.0f}{raw_send:>12,.0f}"
                f"{ours_send / theirs_send:>10.2f}x{ours_send / raw_send:>8.2f}x"
                "  (client sending rate)"
            )
            lines.append(
                f"{'':<10}delivered: osc_live {ours_n}/{n}, python-osc {theirs_n}/{n_po},"
                f" raw {raw_n}/{n}"
            )
    return lines


# --------------------------------------------------------------------------------------------
# lateness of future-dated bundles on the asyncio server
# --------------------------------------------------------------------------------------------


def _bundle_client(port: int, count: int, ahead: float, rate: float) -> None:
    """Child: send ``count`` bundles timetagged ``ahead`` seconds ahead, ``rate`` per second."""
    from osc_live import tcp_client
    from osc_live.osc_bundle import OscBundle
    from osc_live.osc_message import OscMessage, encode_message
    from osc_live.parsing.ntp import unix_to_ntp

    with tcp_client.TCPClient("127.0.0.1", port) as client:
        start = time.time()
        for i in range(count):
            target = start + i / rate
            delay = target - time.time()
            if delay > 0:
                time.sleep(delay)
            when = time.time() + ahead
            msg = OscMessage(encode_message("/late", [int(when * 1_000_000)]))
            client.send(OscBundle.from_contents(unix_to_ntp(when), [msg]))
        time.sleep(ahead + 0.2)


def _lateness_round(count: int) -> tuple[list[float], float, float]:
    """One round: (lateness of each message in s, loop stall while busy, stall when idle)."""
    from osc_live import osc_tcp_server
    from osc_live.dispatcher import Dispatcher

    late: list[float] = []
    d = Dispatcher()

    def on_late(address: str, micros: int) -> None:
        late.append(time.time() - micros / 1_000_000)

    d.map("/late", on_late)

    async def main() -> tuple[float, float]:
        stop = asyncio.Event()

        async def ticker(seconds: float | None = None) -> float:
            # Worst lateness of a 1 ms sleep: while bundles flow (or for ``seconds`` idle).
            loop = asyncio.get_running_loop()
            prev = loop.time()
            end = None if seconds is None else prev + seconds
            worst = 0.0
            while not stop.is_set() and (end is None or prev < end):
                await asyncio.sleep(0.001)
                now = loop.time()
                if seconds is not None or late:
                    worst = max(worst, now - prev - 0.001)
                prev = now
            return worst

        idle = await ticker(count / 500.0)  # as long as the busy part
        async with osc_tcp_server.AsyncOSCTCPServer("127.0.0.1", 0, d, mode="1.1") as server:
            tick = asyncio.ensure_future(ticker())
            proc = await asyncio.create_subprocess_exec(
                sys.executable, __file__, "--bundle-client", str(server.port), str(count), cwd=ROOT
            )
            await proc.wait()
            stop.set()
            busy = await tick
        return busy, idle

    busy, idle = asyncio.run(main())
    d.close()
    return late, busy, idle


def lateness(count: int, rounds: int) -> list[str]:
    """Rounds of the asyncio server with a ticker; return the printed lines."""
    lines = [
        "",
        f"Future-dated bundles on AsyncOSCTCPServer ({count} bundles per round, 50 ms ahead,"
        " 500/s; a 1 ms ticker watches the loop; the idle stall is the machine's own noise)",
    ]
    best: tuple[float, str] | None = None
    for r in range(rounds):
        late, busy, idle = _lateness_round(count)
        if not late:
            lines.append(f"round {r + 1}: no bundle arrived")
            continue
        ms = sorted(x * 1000 for x in late)
        p50 = statistics.median(ms)
        p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
        line = (
            f"round {r + 1}: lateness p50 {p50:.3f} ms, p99 {p99:.3f} ms, max {ms[-1]:.3f} ms;"
            f" loop stall {busy * 1000:.3f} ms busy, {idle * 1000:.3f} ms idle"
        )
        lines.append(line)
        if best is None or p99 < best[0]:
            best = (p99, line)
    if best is not None:
        lines.append(f"best {best[1].split(': ', 1)[1]}  (target p99 <= 2 ms, no stall)")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer messages, one repeat")
    parser.add_argument("--serve", nargs=4, help=argparse.SUPPRESS)
    parser.add_argument("--bundle-client", nargs=2, help=argparse.SUPPRESS)
    ns = parser.parse_args()
    if ns.serve:
        proto, impl, mode, n = ns.serve
        _serve(proto, impl, mode, int(n))
        return
    if ns.bundle_client:
        _bundle_client(int(ns.bundle_client[0]), int(ns.bundle_client[1]), 0.05, 500.0)
        return
    quick = (20_000, 20_000, 1, 500)
    n_tcp, n_udp, repeat, bundles = quick if ns.quick else (60_000, 60_000, 3, 1000)
    try:
        import pythonosc  # noqa: F401
    except ImportError:
        print("python-osc is not installed: pip install python-osc==1.10.2")
        return
    version = sys.version.split()[0]
    lines = [f"osc_live transport benchmark, Python {version}, {os.cpu_count()} CPUs"]
    try:
        import osc_live.osc_server
        import osc_live.udp_client  # noqa: F401

        udp = True
    except ImportError:
        lines.append("note: osc_live.udp_client / osc_server missing: UDP not measured")
        udp = False
    lines += throughput(n_tcp, n_udp, repeat, udp)
    lines += lateness(bundles, repeat)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
