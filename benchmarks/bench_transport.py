"""Transport speed: osc_live against python-osc 1.10.2 and a plain socket pair, both topologies.

Run alone: ``.venv/bin/python benchmarks/bench_transport.py [--quick] [--lateness]``; the whole
table (codec and transports): ``.venv/bin/python benchmarks/run.py``.

Every row times messages ``/bench 1 2.5 "abc"`` from a client to a server over loopback, from
the first send to the moment the server's handler has counted the last one, for three peers
side by side in interleaved rounds (``benchmarks/_stats.py``):

- ``osc_live``: ``SimpleTCPClient`` -> ``ThreadingOSCTCPServer`` (or the UDP twins);
- ``python-osc``: the same classes of python-osc 1.10.2;
- ``raw pair``: the ceiling, never our code -- a plain socket sending pre-framed messages, one
  ``sendall``/``sendto`` per message, to a plain socket that counts them (TCP: ``recv`` of 64 KiB
  counting bytes; UDP: ``recvfrom`` counting datagrams).

Topologies: *same process* (a notebook sending to its own listener: client and server share
the GIL) and *two processes* (the server in a child process, told what to expect over a pipe).
UDP rows are window-paced (a window of datagrams, then wait until all were handled: nothing is
lost, so the rate is the end-to-end rate, not the rate of a sender outrunning its receiver).
The last row is the client alone: ``SimpleUDPClient.send_message`` against a ``sendto`` loop of
the encoded datagram (the receiver's socket is never read).

``--lateness`` adds the lateness of future-dated bundles on ``AsyncOSCTCPServer`` while a 1 ms
ticker watches the loop (printed, not a table row).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _stats import Goal, Workload, format_table, machine, measure  # noqa: E402

ADDRESS = "/bench"
ARGS: list[Any] = [1, 2.5, "abc"]
WINDOW = 256
"""Datagrams sent before waiting for the receiver (UDP rows): well within the socket buffer."""


def _packet() -> bytes:
    from osc_live.osc_message import encode_message

    return encode_message(ADDRESS, ARGS)


def _frame(mode: str) -> bytes:
    from osc_live.framing import make_framer

    return _packet() if mode == "udp" else make_framer(mode).frame(_packet())


# --------------------------------------------------------------------------------------------
# receivers: count messages, tell when a target is reached
# --------------------------------------------------------------------------------------------


class Counter:
    """Thread-safe message count with a wait for a target."""

    def __init__(self) -> None:
        self.count = 0
        self.cond = threading.Condition()
        self.target = 1 << 62

    def add(self, n: int = 1) -> None:
        # Called by handlers; only notifies once the target is reached (cheap on the hot path).
        self.count += n
        if self.count >= self.target:
            with self.cond:
                self.cond.notify_all()

    def wait(self, target: int, timeout: float = 10.0) -> int:
        """Block until ``target`` messages were counted (or ``timeout``); return the count."""
        deadline = time.monotonic() + timeout
        with self.cond:
            self.target = target
            while self.count < target:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self.cond.wait(min(remaining, 0.05))
        return self.count


def start_receiver(
    impl: str, proto: str, mode: str, stack: contextlib.ExitStack
) -> tuple[int, Counter]:
    """Start one receiver in this process (threads); return its port and counter."""
    counter = Counter()
    add = counter.add

    def handler(address: str, *args: Any) -> None:
        add()

    if impl == "raw pair":
        if proto == "udp":
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
            sock.bind(("127.0.0.1", 0))
            stop = threading.Event()

            def udp_loop() -> None:
                recv = sock.recv  # blocking, no timeout: the ceiling pays no poll per datagram
                while True:
                    recv(65536)
                    if stop.is_set():
                        return
                    add()

            def stop_loop() -> None:
                stop.set()
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as poke:
                    poke.sendto(b"", sock.getsockname())
                thread.join(2)
                sock.close()

            thread = threading.Thread(target=udp_loop, name="bench-raw-udp", daemon=True)
            thread.start()
            stack.callback(stop_loop)
            return sock.getsockname()[1], counter
        listener = socket.create_server(("127.0.0.1", 0))
        frame_len = len(_frame(mode))

        def tcp_loop() -> None:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                recv = conn.recv
                held = 0
                while True:
                    try:
                        data = recv(1 << 16)
                    except OSError:
                        return
                    if not data:
                        return
                    held += len(data)
                    n, held = divmod(held, frame_len)
                    if n:
                        add(n)

        thread = threading.Thread(target=tcp_loop, name="bench-raw-tcp", daemon=True)
        thread.start()
        stack.callback(thread.join, 2)
        stack.callback(listener.close)
        return listener.getsockname()[1], counter

    if impl == "python-osc":
        from pythonosc import dispatcher as po_dispatcher
        from pythonosc import osc_server as po_udp
        from pythonosc import osc_tcp_server as po_tcp

        d: Any = po_dispatcher.Dispatcher()
        d.map(ADDRESS, handler)
        if proto == "udp":
            server: Any = po_udp.ThreadingOSCUDPServer(("127.0.0.1", 0), d)
        else:
            server = po_tcp.ThreadingOSCTCPServer(("127.0.0.1", 0), d, mode=mode)
            server.daemon_threads = True
    else:
        from osc_live import osc_server, osc_tcp_server
        from osc_live.dispatcher import Dispatcher

        d = Dispatcher()
        d.map(ADDRESS, handler)
        stack.callback(d.close)
        if proto == "udp":
            server = osc_server.ThreadingOSCUDPServer(("127.0.0.1", 0), d)
        else:
            server = osc_tcp_server.ThreadingOSCTCPServer(("127.0.0.1", 0), d, mode=mode)
    thread = threading.Thread(
        target=server.serve_forever, args=(0.05,), name=f"bench-{impl}", daemon=True
    )
    thread.start()
    stack.callback(thread.join, 5)
    stack.callback(server.server_close)
    stack.callback(server.shutdown)
    return server.server_address[1], counter


def _child_main(impl: str, proto: str, mode: str) -> None:
    """Child process: run a receiver; answer ``T <target>`` lines with ``C <count>``."""
    with contextlib.ExitStack() as stack:
        port, counter = start_receiver(impl, proto, mode, stack)
        print(f"PORT {port}", flush=True)
        for line in sys.stdin:
            if not line.strip():
                continue
            target = int(line.split()[1])
            print(f"C {counter.wait(target)}", flush=True)
    os._exit(0)


class Remote:
    """A receiver in a child process: ``port`` and ``wait(target)`` as :class:`Counter`."""

    def __init__(self, impl: str, proto: str, mode: str, stack: contextlib.ExitStack) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "--child", impl, proto, mode],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        stack.callback(self.close)
        assert self.proc.stdout is not None
        self.port = int(self.proc.stdout.readline().split()[1])

    def wait(self, target: int, timeout: float = 10.0) -> int:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(f"T {target}\n")
        self.proc.stdin.flush()
        return int(self.proc.stdout.readline().split()[1])

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# --------------------------------------------------------------------------------------------
# senders
# --------------------------------------------------------------------------------------------


def make_sender(
    impl: str, proto: str, mode: str, port: int, stack: contextlib.ExitStack
) -> Callable[[int], None]:
    """A function sending ``n`` messages the way ``impl``'s users do."""
    if impl == "raw pair":
        frame = _frame("udp" if proto == "udp" else mode)
        if proto == "udp":
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            stack.callback(sock.close)
            target = ("127.0.0.1", port)

            def raw_udp(n: int) -> None:
                sendto = sock.sendto
                for _ in range(n):
                    sendto(frame, target)

            return raw_udp
        sock = socket.create_connection(("127.0.0.1", port))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        stack.callback(sock.close)

        def raw_tcp(n: int) -> None:
            sendall = sock.sendall
            for _ in range(n):
                sendall(frame)

        return raw_tcp
    if impl == "python-osc":
        from pythonosc import tcp_client as po_tcp
        from pythonosc import udp_client as po_udp

        if proto == "udp":
            client: Any = po_udp.SimpleUDPClient("127.0.0.1", port)
            stack.callback(client._sock.close)
        else:
            client = po_tcp.SimpleTCPClient("127.0.0.1", port, mode=mode)
            stack.callback(client.close)
    else:
        from osc_live import tcp_client, udp_client

        if proto == "udp":
            client = udp_client.SimpleUDPClient("127.0.0.1", port)
        else:
            client = tcp_client.SimpleTCPClient("127.0.0.1", port, mode=mode)
        stack.callback(client.close)

    def send(n: int) -> None:
        send_message = client.send_message
        args = ARGS
        for _ in range(n):
            send_message(ADDRESS, args)

    return send


def end_to_end(
    impl: str, proto: str, mode: str, remote: bool, n: int, stack: contextlib.ExitStack
) -> Callable[[], float]:
    """A sample: ``n`` messages end to end (UDP: window-paced); returns messages/s."""
    if remote:
        receiver: Any = Remote(impl, proto, mode, stack)
        port = receiver.port
    else:
        port, receiver = start_receiver(impl, proto, mode, stack)
    send = make_sender(impl, proto, mode, port, stack)
    total = [0]

    def sample() -> float:
        start = time.perf_counter()
        base = total[0]
        if proto == "udp":
            sent = 0
            while sent < n:
                window = min(WINDOW, n - sent)
                send(window)
                sent += window
                got = receiver.wait(base + sent)
                if got < base + sent:  # lost datagrams: count what arrived
                    total[0] = got
                    return (got - base) / (time.perf_counter() - start)
        else:
            send(n)
            got = receiver.wait(base + n)
        total[0] = base + n
        return (got - base) / (time.perf_counter() - start)

    return sample


def udp_send_loop(impl: str, n: int, stack: contextlib.ExitStack) -> Callable[[], float]:
    """A sample: ``n`` sends towards a socket that is never read; returns sends/s."""
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    stack.callback(sink.close)
    port = sink.getsockname()[1]
    send = make_sender("raw pair" if impl == "sendto loop" else impl, "udp", "udp", port, stack)

    def sample() -> float:
        start = time.perf_counter()
        send(n)
        return n / (time.perf_counter() - start)

    return sample


# --------------------------------------------------------------------------------------------
# the table
# --------------------------------------------------------------------------------------------

PEERS = ("osc_live", "python-osc", "raw pair")
PYTHON_OSC_SHARE = 3
"""python-osc is ~3x slower: it sends a third as many messages per sample (same duration)."""


def workloads(stack: contextlib.ExitStack, quick: bool = False) -> list[Workload]:
    """The transport rows of ``benchmarks/run.py`` (see the module docstring)."""
    n = 6_000 if quick else 20_000
    rows: list[Workload] = []
    for remote in (False, True):
        where = "two processes" if remote else "same process"
        for mode in ("1.1", "1.0"):
            peers = {
                impl: end_to_end(
                    impl,
                    "tcp",
                    mode,
                    remote,
                    n // PYTHON_OSC_SHARE if impl == "python-osc" else n,
                    stack,
                )
                for impl in PEERS
            }
            rows.append(
                Workload(
                    f"TCP {mode} SimpleTCPClient -> ThreadingOSCTCPServer, {where}",
                    peers,
                    [Goal("python-osc", 3.0), Goal("raw pair", 0.5)],
                    unit="msg",
                    note=""
                    if remote
                    else "client and server share the GIL (a notebook "
                    "sending to its own listener); see docs/transports.md for the profile",
                )
            )
        peers = {
            impl: end_to_end(
                impl, "udp", "udp", remote, n // 4 if impl == "python-osc" else n, stack
            )
            for impl in PEERS
        }
        rows.append(
            Workload(
                f"UDP SimpleUDPClient -> ThreadingOSCUDPServer, window-paced, {where}",
                peers,
                [Goal("raw pair", 0.6)],
                unit="msg",
                note=f"windows of {WINDOW} datagrams, each waited for: no loss",
            )
        )
    rows.append(
        Workload(
            "SimpleUDPClient.send_message loop",
            {impl: udp_send_loop(impl, n * 2, stack) for impl in ("osc_live", "python-osc")}
            | {"sendto loop": udp_send_loop("sendto loop", n * 2, stack)},
            [Goal("sendto loop", 0.8)],
            unit="msg",
            note="the sendto loop sends the same encoded datagram with socket.sendto",
        )
    )
    return rows


# --------------------------------------------------------------------------------------------
# lateness of future-dated bundles on the asyncio server (printed with --lateness)
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


def lateness(count: int) -> str:
    """Lateness of bundles 50 ms ahead at 500/s on AsyncOSCTCPServer, and the loop's stalls."""
    from osc_live import osc_tcp_server
    from osc_live.dispatcher import Dispatcher

    late: list[float] = []
    d = Dispatcher()
    d.map("/late", lambda address, micros: late.append(time.time() - micros / 1_000_000))

    async def main() -> tuple[float, float]:
        stop = asyncio.Event()

        async def ticker(seconds: float | None = None) -> float:
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

        idle = await ticker(count / 500.0)
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
    if not late:
        return "no bundle arrived"
    ms = sorted(x * 1000 for x in late)
    p99 = ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    return (
        f"future-dated bundles on AsyncOSCTCPServer ({count}, 50 ms ahead, 500/s): lateness"
        f" p50 {statistics.median(ms):.3f} ms, p99 {p99:.3f} ms, max {ms[-1]:.3f} ms; loop stall"
        f" {busy * 1000:.3f} ms busy, {idle * 1000:.3f} ms idle (the machine's own noise)"
    )


def main() -> None:
    """Measure the transport rows alone and print them (and the lateness with --lateness)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="shorter samples, 3 rounds")
    parser.add_argument("--rounds", type=int, default=None, help="interleaved rounds (7)")
    parser.add_argument("--lateness", action="store_true", help="also bundle lateness")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--bundle-client", nargs=2, help=argparse.SUPPRESS)
    ns = parser.parse_args()
    if ns.child:
        _child_main(*ns.child)
        return
    if ns.bundle_client:
        _bundle_client(int(ns.bundle_client[0]), int(ns.bundle_client[1]), 0.05, 500.0)
        return
    rounds = ns.rounds or (3 if ns.quick else 7)
    before = machine()
    started = time.monotonic()
    with contextlib.ExitStack() as stack:
        rows = [measure(w, rounds) for w in workloads(stack, ns.quick)]
    print(
        format_table(
            rows,
            title=f"bench_transport: medians of {rounds} interleaved rounds in"
            f" {time.monotonic() - started:.0f} s\n\nMachine: {before}",
        )
    )
    if ns.lateness:
        print()
        print(lateness(500 if ns.quick else 1000))


if __name__ == "__main__":
    main()
