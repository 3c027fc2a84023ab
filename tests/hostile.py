"""Hostile TCP peers and a well-behaved client, for the end-to-end limit tests and the soak.

Every attack connects from :data:`HOSTILE_HOST` (another loopback address, so per-host limits
can tell it from the good client on 127.0.0.1), is bounded in time, and returns how its
connection(s) ended.  :func:`good_client` sends numbered messages and collects the echoes of
:class:`tests.tcp_support.Recorder`: nothing may be lost, nothing reordered.
"""

from __future__ import annotations

import contextlib
import os
import random
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

from osc_live import tcp_client
from osc_live.osc_message import encode_message

HOSTILE_HOST = "127.0.0.2"
"""Default source address of the attacks (each attack may take its own: per-host limits)."""
END = b"\xc0"
ESC = b"\xdb"

# No test on this page: pytest collects the module only for its helpers.


def rss_bytes() -> int:
    """This process's resident set size (Linux /proc)."""
    with open(f"/proc/{os.getpid()}/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def connect(port: int, src: str = HOSTILE_HOST, timeout: float = 5.0) -> socket.socket:
    """A TCP connection to 127.0.0.1:port from ``src``."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind((src, 0))
    sock.settimeout(timeout)
    sock.connect(("127.0.0.1", port))
    return sock


def _push(sock: socket.socket, chunks: Any, deadline: float) -> bool:
    """Send ``chunks`` until they run out or the deadline; True if the server cut us."""
    try:
        for chunk in chunks:
            if time.monotonic() > deadline:
                return False
            sock.sendall(chunk)
    except OSError:
        return True
    return _cut_soon(sock, deadline)


def _cut_soon(sock: socket.socket, deadline: float) -> bool:
    """Wait (reading and discarding) until the server closes, or the deadline; True if closed."""
    while time.monotonic() < deadline:
        sock.settimeout(max(0.01, min(0.2, deadline - time.monotonic())))
        try:
            if not sock.recv(1 << 16):
                return True
        except TimeoutError:
            continue
        except OSError:
            return True
    return False


def _still_open(socks: list[socket.socket]) -> int:
    """How many of ``socks`` the server has not closed (no EOF, no reset)."""
    kept = 0
    for sock in socks:
        sock.setblocking(False)
        try:
            kept += sock.recv(1, socket.MSG_PEEK) != b""
        except BlockingIOError:
            kept += 1
        except OSError:
            pass
    return kept


def escape_run(
    port: int, megabytes: int = 20, seconds: float = 5.0, src: str = HOSTILE_HOST
) -> bool:
    """A SLIP frame of nothing but ESC bytes (0xDB), ``megabytes`` long (issue 9 item 1)."""
    deadline = time.monotonic() + seconds
    chunk = ESC * (1 << 16)
    with contextlib.closing(connect(port, src)) as sock:
        return _push(sock, [END] + [chunk] * (megabytes * 16), deadline)


def oversized_prefix(port: int, seconds: float = 3.0, src: str = HOSTILE_HOST) -> bool:
    """An OSC 1.0 size prefix of 2 GB followed by junk: must be cut at once."""
    deadline = time.monotonic() + seconds
    with contextlib.closing(connect(port, src)) as sock:
        return _push(sock, [b"\x7f\xff\xff\xf0", bytes(1 << 16)], deadline)


def flood(port: int, count: int, hold: float, src: str = HOSTILE_HOST) -> tuple[int, int]:
    """Open ``count`` idle connections, hold them ``hold`` s: (kept open, cut or refused)."""
    socks: list[socket.socket] = []
    try:
        for _ in range(count):
            with contextlib.suppress(OSError):
                socks.append(connect(port, src, timeout=2.0))
        time.sleep(hold)
        kept = _still_open(socks)
        return kept, count - kept
    finally:
        for sock in socks:
            sock.close()


def unfinished_frames(
    port: int, count: int, nbytes: int, hold: float, claim: int, src: str = HOSTILE_HOST
) -> tuple[int, int]:
    """``count`` connections each send ``nbytes`` of an OSC 1.0 frame claiming ``claim`` bytes,
    then stall: (still open, cut)."""
    socks: list[socket.socket] = []
    cut = 0
    try:
        for _ in range(count):
            try:
                sock = connect(port, src, timeout=2.0)
            except OSError:
                cut += 1
                continue
            socks.append(sock)
            with contextlib.suppress(OSError):
                sock.sendall(claim.to_bytes(4, "big") + bytes(nbytes))
        time.sleep(hold)
        kept = _still_open(socks)
        return kept, count - kept
    finally:
        for sock in socks:
            sock.close()


def trickle(port: int, seconds: float, src: str = HOSTILE_HOST) -> bool:
    """One byte of a frame every 50 ms (a slow-loris peer): must be cut by frame_timeout."""
    deadline = time.monotonic() + seconds
    message = encode_message("/t", [bytes(400)])  # 20 s to trickle one frame
    frame = len(message).to_bytes(4, "big") + message

    def slowly() -> Any:
        for b in frame * 1000:
            time.sleep(0.05)
            yield bytes([b])

    with contextlib.closing(connect(port, src)) as sock:
        return _push(sock, slowly(), deadline)


def not_reading(port: int, seconds: float, src: str = HOSTILE_HOST) -> bool:
    """Ask for big replies and never read them: cut by send_timeout or max_buffered."""
    deadline = time.monotonic() + seconds
    request = encode_message("/big")
    frame = len(request).to_bytes(4, "big") + request
    with contextlib.closing(connect(port, src)) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        try:
            while time.monotonic() < deadline:
                sock.settimeout(0.2)
                try:
                    sock.sendall(frame * 64)
                except TimeoutError:
                    continue
        except OSError:
            return True
        return False


def garbage(port: int, seed: int = 0, src: str = HOSTILE_HOST) -> bool:
    """Random bytes, bad SLIP escapes and well-framed non-OSC packets; then a clean close."""
    rng = random.Random(seed)
    blob = bytes(rng.getrandbits(8) for _ in range(4096))
    with contextlib.closing(connect(port, src)) as sock:
        try:
            sock.sendall(END + b"garbage" + ESC + b"X" + END + END + b"not osc" + END + blob)
        except OSError:
            return True
        return _cut_soon(sock, time.monotonic() + 0.2)


def half_frame(port: int, src: str = HOSTILE_HOST) -> None:
    """Half an OSC 1.0 frame, then disconnect."""
    message = encode_message("/half", [1, 2, 3])
    with contextlib.closing(connect(port, src)) as sock, contextlib.suppress(OSError):
        sock.sendall((len(message)).to_bytes(4, "big") + message[:7])


def good_client(port: int, mode: str, count: int, tag: str = "good") -> list[int]:
    """Send ``/<tag> i`` for i < count from 127.0.0.1; return the values echoed back, in order."""
    got: list[int] = []
    with tcp_client.SimpleTCPClient("127.0.0.1", port, mode=mode, timeout=10) as client:
        for i in range(count):
            client.send_message(f"/{tag}", i)
            if i % 50 == 49:
                time.sleep(0.001)
        for message in client.get_messages(timeout=5):
            got.append(message.params[0])
            if len(got) == count:
                break
    return got


class Attackers:
    """Run attacks in background threads; :meth:`join` waits for all, re-raising any error."""

    def __init__(self) -> None:
        self.threads: list[threading.Thread] = []
        self.results: dict[str, Any] = {}
        self.errors: list[BaseException] = []

    def run(self, name: str, attack: Callable[..., Any], *args: Any) -> None:
        def target() -> None:
            try:
                self.results[name] = attack(*args)
            except BaseException as exc:
                self.errors.append(exc)

        thread = threading.Thread(target=target, name=f"attack-{name}")
        thread.start()
        self.threads.append(thread)

    def join(self, timeout: float = 30.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        for thread in self.threads:
            thread.join(max(0.1, deadline - time.monotonic()))
        if self.errors:
            raise self.errors[0]
        return self.results
