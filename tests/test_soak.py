"""Soak, sized for CI (a few seconds per server kind): hostile and good peers at once.

Against every TCP and UDP server kind, hostile peers (each from its own loopback address) cycle
through the attacks of :mod:`tests.hostile` -- escape runs, oversized and unfinished frames,
connection floods, trickles, peers that do not read, garbage, non-OSC and oversized datagrams --
while good clients on 127.0.0.1 keep sending and check every reply: zero loss, in order.  The
process's resident memory may not grow by more than a bound far below what the attacks push
(hundreds of megabytes).  (``ForkingOSCUDPServer`` is left out: a process per datagram has no
defence against a flood -- use the threading or asyncio server on an open network.)
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from osc_live.dispatcher import Dispatcher
from osc_live.osc_message import OscMessage, encode_message
from osc_live.osc_server import AsyncIOOSCUDPServer, BlockingOSCUDPServer, ThreadingOSCUDPServer
from tests import hostile
from tests.peers.running import serving
from tests.tcp_support import RunningServer

pytestmark = pytest.mark.timeout(120)

SECONDS = float(os.environ.get("OSC_LIVE_SOAK_SECONDS", "3"))
RSS_BOUND = 48 << 20
HOSTILE_COUNTERS = (
    "refused",
    "oversized",
    "framing_errors",
    "timeouts",
    "over_buffer",
    "send_timeouts",
    "partial_frames",
)
TCP_LIMITS: dict[str, Any] = {
    "max_packet_size": 1 << 20,
    "max_buffered": 1 << 20,
    "max_buffered_total": 8 << 20,
    "max_connections_per_host": 16,
    "frame_timeout": 1.0,
    "send_timeout": 0.5,
}


class Peak:
    """Samples this process's RSS every 20 ms in a thread; :meth:`stop` returns the peak growth."""

    def __init__(self) -> None:
        self.base = hostile.rss_bytes()
        self.peak = self.base
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="soak-rss")
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, hostile.rss_bytes())

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return self.peak - self.base


def _repeat(until: float, *attacks: Callable[[], Any]) -> Callable[[], int]:
    """Run the attacks one after the other until the monotonic time ``until``; count rounds."""

    def run() -> int:
        rounds = 0
        while time.monotonic() < until:
            for attack in attacks:
                if time.monotonic() >= until:
                    break
                with contextlib.suppress(OSError):
                    attack()
            rounds += 1
        return rounds

    return run


def _good_tcp(port: int, until: float, tag: str) -> Callable[[], int]:
    """Sessions of 100 numbered messages from 127.0.0.1, each reply checked; count messages."""

    def run() -> int:
        total = 0
        session = 0
        while time.monotonic() < until:
            mode = "1.0" if session % 2 else "1.1"
            got = hostile.good_client(port, mode, 100, f"{tag}{session}")
            assert got == list(range(100)), f"{tag} session {session} lost replies: {got[-5:]}"
            total += 100
            session += 1
        return total

    return run


def _big(d: Dispatcher) -> None:
    d.map("/big", lambda address, *args: ("/blob", b"\x00" * 30_000))


@pytest.fixture
def peak() -> Iterator[Callable[[], Peak]]:
    """Start RSS sampling when called; always stopped after the test."""
    started: list[Peak] = []

    def start() -> Peak:
        started.append(Peak())
        return started[-1]

    yield start
    for p in started:
        p.stop()


@pytest.mark.parametrize("kind", ["threading", "asyncio", "forking", "blocking"])
def test_tcp_soak(kind: str, peak: Callable[[], Peak]) -> None:
    options = dict(TCP_LIMITS)
    if kind == "blocking":  # one connection at a time: idle attackers must not hold it long
        options["idle_timeout"] = 0.3
    with RunningServer(kind, mode="auto", setup=_big, **options) as srv:
        hostile.good_client(srv.port, "1.1", 10, "warmup")
        rss = peak()
        until = time.monotonic() + SECONDS
        port = srv.port
        attackers = hostile.Attackers()
        if kind == "blocking":
            attackers.run(
                "cycle",
                _repeat(
                    until,
                    lambda: hostile.escape_run(port, 8, 2.0, "127.0.0.3"),
                    lambda: hostile.oversized_prefix(port, 1.0, "127.0.0.4"),
                    lambda: hostile.garbage(port, 1, "127.0.0.8"),
                    lambda: hostile.half_frame(port, "127.0.0.9"),
                ),
            )
            goods = 1
        else:
            attackers.run(
                "flood", _repeat(until, lambda: hostile.flood(port, 30, 0.5, "127.0.0.2"))
            )
            attackers.run(
                "escape", _repeat(until, lambda: hostile.escape_run(port, 32, 2.0, "127.0.0.3"))
            )
            attackers.run(
                "oversized",
                _repeat(until, lambda: hostile.oversized_prefix(port, 1.0, "127.0.0.4")),
            )
            attackers.run(
                "unfinished",
                _repeat(
                    until,
                    lambda: hostile.unfinished_frames(port, 16, 200_000, 0.3, 250_000, "127.0.0.5"),
                ),
            )
            attackers.run(
                "trickle", _repeat(until, lambda: hostile.trickle(port, 1.5, "127.0.0.6"))
            )
            attackers.run(
                "not_reading", _repeat(until, lambda: hostile.not_reading(port, 1.5, "127.0.0.7"))
            )
            attackers.run(
                "garbage",
                _repeat(
                    until,
                    lambda: hostile.garbage(port, random.randrange(1000), "127.0.0.8"),
                    lambda: hostile.half_frame(port, "127.0.0.9"),
                ),
            )
            goods = 3
        for i in range(goods):
            attackers.run(f"good{i}", _good_tcp(port, until, f"g{i}_"))
        results = attackers.join(timeout=SECONDS + 60)
        growth = rss.stop()
        assert all(results[f"good{i}"] >= 100 for i in range(goods))
        assert growth < RSS_BOUND, f"RSS grew by {growth >> 20} MiB"
        if kind in ("threading", "asyncio"):
            # Which limits a short soak hits depends on the machine's pace (each limit has its
            # own test in test_tcp_limits.py); several must have been hit and counted.
            counted = srv.stats.as_dict()
            hit = [name for name in HOSTILE_COUNTERS if counted[name]]
            assert len(hit) >= 3, counted


# --- UDP ------------------------------------------------------------------------------------


def _udp_attacks(port: int, until: float, src: str, seed: int) -> Callable[[], int]:
    """Garbage, non-OSC, truncated and unmapped datagrams (~5,000/s) and 64 KB ones (50/s).

    UDP has no flow control: a sender faster than the server reads fills the socket buffer,
    and then the kernel drops everyone's datagrams.  The rate stays within what the servers
    read on a loaded 2-core machine; the defence tested is that junk costs the reader little
    and never reaches (or blocks) the handlers of good clients.
    """
    rng = random.Random(seed)
    big = bytes(65_000)
    junk = [
        b"",
        b"garbage!",
        encode_message("/unmapped", [1, 2.5, "x"]),
        encode_message("/echo", [1])[:-3],
        b"#bundle\x00" + bytes(8) + (1 << 30).to_bytes(4, "big"),
        bytes(rng.getrandbits(8) for _ in range(200)),
    ]

    def run() -> int:
        sent = 0
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind((src, 0))
            while time.monotonic() < until:
                with contextlib.suppress(OSError):
                    sock.sendto(big, ("127.0.0.1", port))
                    for _ in range(100):
                        sock.sendto(rng.choice(junk), ("127.0.0.1", port))
                sent += 101
                time.sleep(0.02)
        return sent

    return run


def _good_udp(port: int, until: float, tag: int) -> Callable[[], int]:
    """Windows of 20 numbered messages, every echo awaited before the next window."""

    def run() -> int:
        total = 0
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind(("127.0.0.1", 0))
            sock.settimeout(5)
            while time.monotonic() < until:
                for i in range(20):
                    sock.sendto(encode_message("/echo", [tag, total + i]), ("127.0.0.1", port))
                got = []
                for _ in range(20):
                    data = sock.recv(65536)
                    got.append(OscMessage(data).params[1])
                assert sorted(got) == list(range(total, total + 20)), f"client {tag} lost replies"
                total += 20
        return total

    return run


@contextlib.contextmanager
def _udp_server(kind: str, d: Dispatcher) -> Iterator[Any]:
    if kind == "asyncio":
        loop = asyncio.new_event_loop()
        server = AsyncIOOSCUDPServer(("127.0.0.1", 0), d, loop=loop)
        ready = threading.Event()

        def run() -> None:
            asyncio.set_event_loop(loop)
            loop.run_until_complete(server.create_serve_endpoint())
            ready.set()
            loop.run_forever()
            loop.run_until_complete(server.aclose())
            loop.close()

        thread = threading.Thread(target=run, name="soak-udp-asyncio")
        thread.start()
        ready.wait(10)
        try:
            yield server
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(10)
    else:
        cls = ThreadingOSCUDPServer if kind == "threading" else BlockingOSCUDPServer
        with serving(cls(("127.0.0.1", 0), d)) as server:
            yield server


@pytest.mark.parametrize("kind", ["blocking", "threading", "asyncio"])
def test_udp_soak(kind: str, peak: Callable[[], Peak]) -> None:
    d = Dispatcher()
    d.map("/echo", lambda address, *args: ("/echoed", *args))
    with _udp_server(kind, d) as server:
        port = server.server_address[1]
        rss = peak()
        until = time.monotonic() + SECONDS
        runners = hostile.Attackers()
        for i in range(2):
            runners.run(f"hostile{i}", _udp_attacks(port, until, f"127.0.0.{2 + i}", i))
        for i in range(3):
            runners.run(f"good{i}", _good_udp(port, until, i))
        results = runners.join(timeout=SECONDS + 60)
        growth = rss.stop()
        assert all(results[f"good{i}"] >= 20 for i in range(3))
        assert server.stats.dropped > 0
        assert growth < RSS_BOUND, f"RSS grew by {growth >> 20} MiB"
