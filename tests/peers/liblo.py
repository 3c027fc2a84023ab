"""liblo's command-line tools as test peers: ``oscdump`` (capture) and ``oscsend`` (source).

Facts about liblo 0.31 (Debian 12) that shape this module, all observed:

* ``oscdump -L osc.udp://:PORT`` / ``osc.tcp://:PORT`` prints one line per message, flushed at
  once (``-L``; without it output to a file is block-buffered until exit). Only one flag is read.
* It binds ``0.0.0.0:PORT``, IPv4 only, and takes a host in the URL for a multicast group: we can
  not make it bind loopback, so tests only ever *send* to it on 127.0.0.1.
* Line format: ``<ntp secs hex>.<ntp frac hex> <path> <tags without ','>`` then `` <arg>`` each;
  floats ``%f``, strings ``"..."``, ``#T``/``#F``, ``Nil``, blobs ``[3b 0x1 0x2 0x3]``. The stamp
  is the bundle's timetag for bundled messages (future bundles are held until due).
* Over TCP it guesses the framing per connection from the first bytes: ``/``, ``END /`` or
  ``#bun`` → SLIP (OSC 1.1), else a 4-byte size prefix (OSC 1.0). Quirk: a SLIP stream whose first
  packet is ``END #bundle`` is taken for size-prefixed and nothing on it is ever printed.
* ``oscsend`` speaks UDP and, over TCP, the OSC 1.0 size prefix only; no IPv6.
"""

from __future__ import annotations

import re
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from tests.peers.process import (
    DEFAULT_LIFETIME,
    PeerError,
    PeerProcess,
    free_port,
    port_is_bound,
    wait_until,
)

#: The receive stamp at the start of every oscdump line.
STAMP = r"[0-9a-f]{8}\.[0-9a-f]{8}"


class Oscdump:
    """``oscdump -L`` listening on ``proto`` (``"udp"`` or ``"tcp"``) at a free port.

    Use as a context manager; :meth:`lines` returns what it printed so far and :meth:`wait_for`
    waits for a line matching a regular expression.
    """

    def __init__(
        self, proto: str = "udp", port: int | None = None, lifetime: int = DEFAULT_LIFETIME
    ) -> None:
        if proto not in ("udp", "tcp"):
            raise ValueError(f"proto must be 'udp' or 'tcp', not {proto!r}")
        self.proto = proto
        self._fixed_port = port is not None
        self.port = port or free_port()
        self.host = "127.0.0.1"  # where to send: oscdump binds all IPv4 interfaces
        self._lifetime = lifetime
        self._dir: tempfile.TemporaryDirectory[str] | None = None
        self._process: PeerProcess | None = None

    @property
    def url(self) -> str:
        return f"osc.{self.proto}://:{self.port}"

    @property
    def output(self) -> Path:
        assert self._dir is not None, "oscdump is not started"
        return Path(self._dir.name, "oscdump.out")

    def start(self, attempts: int = 3) -> Oscdump:
        """Start and wait until the port is bound; a port taken meanwhile means another try."""
        for attempt in range(attempts):
            try:
                return self._start_once()
            except PeerError:
                if self._fixed_port or attempt == attempts - 1:
                    raise
                self.port = free_port()
        raise AssertionError("unreachable")  # pragma: no cover

    def _start_once(self) -> Oscdump:
        self._dir = tempfile.TemporaryDirectory(prefix="osclive-oscdump-")
        directory = Path(self._dir.name)
        process = PeerProcess(
            f"oscdump {self.url}",
            ["oscdump", "-L", self.url],
            directory / "oscdump.err",
            stdout=directory / "oscdump.out",
            lifetime=self._lifetime,
        )
        self._process = process
        try:
            wait_until(
                lambda: port_is_bound(self.proto, self.port, process.pids()), 10.0,
                f"oscdump on {self.url}",
                process.alive,
            )  # fmt: skip
        except PeerError as exc:
            tail = process.log_tail()
            self.stop()
            raise PeerError(f"{exc}\n{tail}") from None
        return self

    def stop(self) -> None:
        """SIGINT (oscdump leaves its loop and flushes), then SIGTERM/SIGKILL if needed."""
        if self._process is not None:
            self._process.stop(signal.SIGINT, grace=2.0)
            self._process = None
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None

    def __enter__(self) -> Oscdump:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def lines(self) -> list[str]:
        """Every line printed so far (one per received message)."""
        try:
            return self.output.read_text(errors="replace").splitlines()
        except FileNotFoundError:
            return []

    def messages(self) -> list[str]:
        """Like :meth:`lines` without the receive stamps: ``"/path tags arg ..."``."""
        return [re.sub(rf"^{STAMP} ", "", line) for line in self.lines()]

    def errors(self) -> str:
        """What oscdump wrote to stderr (liblo's ``liblo server error ...`` lines)."""
        assert self._process is not None
        return self._process.log.read_text(errors="replace")

    def wait_for(self, pattern: str, timeout: float = 5.0) -> str:
        """Return the first line matching the regex ``pattern``, waiting up to ``timeout`` s."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            for line in self.lines():
                if regex.search(line):
                    return line
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"oscdump ({self.url}) printed no line matching {pattern!r} within "
                    f"{timeout} s; it printed: {self.lines()[-10:]}"
                )
            time.sleep(0.02)

    def wait_for_count(self, count: int, timeout: float = 5.0) -> list[str]:
        """Wait until at least ``count`` lines were printed; return the messages."""
        deadline = time.monotonic() + timeout
        while len(self.lines()) < count and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.messages()


def oscsend(
    port: int, address: str, types: str = "", *values: str, proto: str = "udp"
) -> subprocess.CompletedProcess[str]:
    """Run ``oscsend osc.<proto>://127.0.0.1:<port> <address> <types> <values...>``.

    Over TCP oscsend writes the OSC 1.0 size prefix. Raises :class:`PeerError` on a non-zero exit.
    """
    argv = ["oscsend", f"osc.{proto}://127.0.0.1:{port}", address]
    if types or values:
        argv += [types, *values]
    result = subprocess.run(
        argv, capture_output=True, text=True, timeout=10, stdin=subprocess.DEVNULL
    )
    if result.returncode != 0:
        raise PeerError(f"{' '.join(argv)} exited {result.returncode}: {result.stderr.strip()}")
    return result
