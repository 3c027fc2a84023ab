"""Process control for the peers: bounded lifetimes, PID-only stops, free ports, binary checks.

Rules kept here:

* every peer runs under coreutils ``timeout`` (when present), so even a test run that is killed
  outright leaves nothing running past ``lifetime`` seconds;
* a peer is stopped only through the :class:`subprocess.Popen` object that started it (never by
  name), and every stop is bounded: the polite way first, then SIGTERM, then SIGKILL;
* every wait has a deadline.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pytest

#: Peers are killed by their ``timeout`` guard after this many seconds even if never stopped.
DEFAULT_LIFETIME = 3600
#: Environment variable: when "1", a missing peer binary fails the test instead of skipping it.
REQUIRE_ENV = "OSC_LIVE_REQUIRE_PEERS"

_running: list[PeerProcess] = []


class PeerError(RuntimeError):
    """A peer did not start or did not answer; the message carries the tail of its log."""


def require_binaries(*names: str) -> None:
    """Skip the test when a program is missing, or fail it if ``OSC_LIVE_REQUIRE_PEERS=1``."""
    missing = [name for name in names if shutil.which(name) is None]
    if not missing:
        return
    hint = (
        f"missing peer program(s) {', '.join(missing)}: run `bash scripts/setup.sh test` as root "
        "(Debian packages liblo-tools, supercollider-server, jackd2)"
    )
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{hint} ({REQUIRE_ENV}=1)", pytrace=False)
    pytest.skip(hint)


def free_port(host: str = "127.0.0.1") -> int:
    """A port number free for both UDP and TCP on ``host`` a moment ago."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
            tcp.bind((host, 0))
            port = int(tcp.getsockname()[1])
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                try:
                    udp.bind((host, port))
                except OSError:
                    continue
                return port
    raise PeerError("no port free for both UDP and TCP after 50 tries")


def _socket_inodes(proto: str, port: int) -> set[str]:
    """Inodes of the sockets bound to ``port`` (TCP: listening), IPv4 and IPv6, from /proc."""
    wanted = f":{port:04X}"
    inodes = set()
    for name in (proto, proto + "6"):
        try:
            rows = Path("/proc/net", name).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            if len(fields) < 10 or not fields[1].endswith(wanted):
                continue
            if proto == "udp" or fields[3] == "0A":  # 0A = TCP_LISTEN
                inodes.add(fields[9])
    return inodes


def port_is_bound(proto: str, port: int, pids: Sequence[int] = ()) -> bool:
    """True when a socket is bound to ``port`` (TCP: listening) — held by one of ``pids`` if
    given (so a port taken by someone else is not mistaken for our peer being ready).

    Reads ``/proc`` (Linux) so that checking never disturbs the peer that is starting.
    """
    inodes = _socket_inodes(proto, port)
    if not inodes or not pids:
        return bool(inodes)
    targets = {f"socket:[{inode}]" for inode in inodes}
    for pid in pids:
        try:
            fds = os.listdir(f"/proc/{pid}/fd")
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") in targets:
                    return True
            except OSError:
                continue
    return False


def wait_until(
    predicate: Callable[[], object], timeout: float, what: str, alive: Callable[[], bool]
) -> None:
    """Poll ``predicate`` until true; :class:`PeerError` on timeout or once ``alive()`` fails."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if not alive():
            raise PeerError(f"{what}: the process exited")
        if time.monotonic() > deadline:
            raise PeerError(f"{what}: not ready after {timeout:.0f} s")
        time.sleep(0.02)


class PeerProcess:
    """One started program, its log file, and a bounded way to stop it."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        log: Path,
        *,
        env: Mapping[str, str] | None = None,
        lifetime: int = DEFAULT_LIFETIME,
        stdout: Path | None = None,
    ) -> None:
        self.name = name
        self.log = log
        self.stdout_path = stdout or log
        guard = shutil.which("timeout")
        command = list(argv)
        if guard and lifetime > 0:
            # timeout forwards SIGINT/SIGTERM to the program and kills it after `lifetime` s.
            command = [guard, "--kill-after=5", str(lifetime), *command]
        full_env = dict(os.environ)
        full_env.update(env or {})
        with open(self.stdout_path, "wb") as out:
            if stdout is None:
                self.popen = subprocess.Popen(
                    command, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                    env=full_env,
                )  # fmt: skip
            else:
                with open(log, "wb") as err:
                    self.popen = subprocess.Popen(
                        command, stdin=subprocess.DEVNULL, stdout=out, stderr=err, env=full_env
                    )
        _running.append(self)

    def alive(self) -> bool:
        return self.popen.poll() is None

    def pids(self) -> list[int]:
        """The started process and its children (the program itself under ``timeout``)."""
        pid = self.popen.pid
        found = [pid]
        try:
            children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
            found += [int(child) for child in children]
        except OSError:  # kernel without CONFIG_PROC_CHILDREN: look for our children by ppid
            for stat in Path("/proc").glob("[0-9]*/stat"):
                try:
                    fields = stat.read_text().rsplit(")", 1)[1].split()
                except (OSError, IndexError):
                    continue
                if fields and len(fields) > 1 and fields[1] == str(pid):
                    found.append(int(stat.parent.name))
        return found

    def log_tail(self, lines: int = 25) -> str:
        texts = []
        for path in dict.fromkeys((self.log, self.stdout_path)):
            try:
                tail = path.read_text(errors="replace").splitlines()[-lines:]
            except OSError:
                continue
            texts.append(f"--- {path.name}\n" + "\n".join(tail))
        return "\n".join(texts)

    def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` seconds for the process to end; True if it did."""
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        return True

    def stop(self, first: signal.Signals = signal.SIGTERM, grace: float = 3.0) -> None:
        """Signal ``first``, then SIGTERM, then SIGKILL, each with a grace period; reap it."""
        for sig in dict.fromkeys((first, signal.SIGTERM)):
            if not self.alive():
                break
            self.popen.send_signal(sig)
            if self.wait(grace):
                break
        if self.alive():
            self.popen.kill()
            self.wait(5.0)
        if self in _running:
            _running.remove(self)


@atexit.register
def _stop_leftovers() -> None:  # pragma: no cover - only when a run is interrupted
    for peer in list(_running):
        peer.stop(grace=1.0)
