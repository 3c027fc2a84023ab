"""SuperCollider's ``scsynth`` on loopback over a private JACK server with the dummy driver.

scsynth has no null audio driver on Linux, it needs JACK; ``jackd -d dummy`` needs no sound card.
Start-up, as verified on Debian 12 (scsynth 3.13, jackd2 1.9.21):

1. ``jackd --no-realtime --name <unique> -d dummy -r 48000 -p 256`` with
   ``JACK_NO_START_SERVER=1`` (no libjack client may autostart an ALSA jackd: that hangs ~6 s and
   leaves ``/dev/shm`` files) and ``JACK_NO_AUDIO_RESERVATION=1`` (no D-Bus device reservation);
   ready when ``jack_wait --server <name> --check`` *prints* ``running`` (it exits 0 either way).
2. ``scsynth -B 127.0.0.1 -R 0 -H <name>:scsynth -u <udp> -t <tcp>`` with ``SC_SYNTHDEF_PATH``
   pointing at a directory holding our ``osclive_sine.scsyndef`` (loaded at boot); ready when it
   answers ``/status`` with ``/status.reply`` on every transport.
3. Stop: ``/quit`` (answered ``/done /quit``, the process exits within ~50 ms), then SIGTERM to
   jackd. A killed scsynth leaves ``/dev/shm/SuperColliderServer_<port>`` and a killed jackd
   ``jack_sem.*`` files: we remove the ones named after *our* ports and JACK server only.

scsynth's TCP framing is OSC 1.0 only (4-byte big-endian size prefix; SLIP resets the connection).
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from tests.peers import osc
from tests.peers.process import DEFAULT_LIFETIME, PeerError, PeerProcess, free_port, wait_until
from tests.peers.synthdef import write_synthdef

SYNTHDEF = "osclive_sine"


def _jackd_running() -> bool:
    """True if any process named ``jackd`` exists (read-only look at ``/proc``)."""
    for comm in Path("/proc").glob("[0-9]*/comm"):
        try:
            if comm.read_text().strip() == "jackd":
                return True
        except OSError:
            continue
    return False


class Scsynth:
    """A running scsynth (UDP and TCP on 127.0.0.1) plus its private dummy JACK server.

    Attributes after :meth:`start`: ``host``, ``udp_port``, ``tcp_port``, ``synthdef`` (the
    preloaded ``osclive_sine``), ``jack_name``. Use as a context manager.
    """

    def __init__(
        self, *, period: int = 256, lifetime: int = DEFAULT_LIFETIME, timeout: float = 30.0
    ) -> None:
        self.host = "127.0.0.1"
        self.udp_port = 0
        self.tcp_port = 0
        self.synthdef = SYNTHDEF
        self.jack_name = f"osclive-{os.getpid()}-{secrets.token_hex(3)}"
        self._period = period
        self._lifetime = lifetime
        self._timeout = timeout
        self._dir: tempfile.TemporaryDirectory[str] | None = None
        self._jackd: PeerProcess | None = None
        self._scsynth: PeerProcess | None = None

    # ------------------------------------------------------------------ start / stop
    def start(self, attempts: int = 2) -> Scsynth:
        """Start jackd and scsynth; ports taken meanwhile (or a failed start) mean another try."""
        for attempt in range(attempts):
            try:
                return self._start_once()
            except PeerError:
                if attempt == attempts - 1:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _start_once(self) -> Scsynth:
        self.jack_name = f"osclive-{os.getpid()}-{secrets.token_hex(3)}"
        self._dir = tempfile.TemporaryDirectory(prefix="osclive-scsynth-")
        directory = Path(self._dir.name)
        env = {"JACK_NO_START_SERVER": "1", "JACK_NO_AUDIO_RESERVATION": "1"}
        try:
            self._start_jackd(directory, env)
            synthdefs = directory / "synthdefs"
            write_synthdef(synthdefs, SYNTHDEF)
            self.udp_port = free_port()
            self.tcp_port = free_port()
            while self.tcp_port == self.udp_port:
                self.tcp_port = free_port()
            self._scsynth = scsynth = PeerProcess(
                "scsynth",
                [
                    "scsynth", "-B", "127.0.0.1", "-R", "0", "-H", f"{self.jack_name}:scsynth",
                    "-i", "2", "-o", "2", "-u", str(self.udp_port), "-t", str(self.tcp_port),
                ],
                directory / "scsynth.log",
                env={**env, "SC_SYNTHDEF_PATH": str(synthdefs)},
                lifetime=self._lifetime,
            )  # fmt: skip
            wait_until(self._status_udp, self._timeout, "scsynth /status over UDP", scsynth.alive)
            wait_until(self._status_tcp, 10.0, "scsynth /status over TCP", scsynth.alive)
        except BaseException as exc:
            tails = "\n".join(p.log_tail() for p in (self._jackd, self._scsynth) if p)
            self.stop()
            if isinstance(exc, PeerError):
                raise PeerError(f"{exc}\n{tails}") from None
            raise
        return self

    def _start_jackd(self, directory: Path, env: dict[str, str]) -> None:
        jackd = PeerProcess(
            "jackd",
            [
                "jackd", "--no-realtime", "--name", self.jack_name,
                "-d", "dummy", "-r", "48000", "-p", str(self._period), "-C", "2", "-P", "2",
            ],
            directory / "jackd.log",
            env=env,
            # jackd outlives scsynth's guard, so an expired scsynth leaves JACK cleanly.
            lifetime=self._lifetime + 3 if self._lifetime else 0,
        )  # fmt: skip
        self._jackd = jackd
        wait_until(self._jack_running, 15.0, f"jackd {self.jack_name}", jackd.alive)

    def _jack_running(self) -> bool:
        if shutil.which("jack_wait") is None:  # pragma: no cover - jack_wait ships with jackd2
            time.sleep(0.5)
            return True
        result = subprocess.run(
            ["jack_wait", "--server", self.jack_name, "--check"],
            capture_output=True, text=True, timeout=10, stdin=subprocess.DEVNULL,
            env={**os.environ, "JACK_NO_START_SERVER": "1"},
        )  # fmt: skip
        return result.stdout.strip() == "running"

    def _status_udp(self) -> bool:
        return osc.request_udp(self.udp_port, "/status", (), "/status.reply", 0.5) is not None

    def _status_tcp(self) -> bool:
        return osc.request_tcp(self.tcp_port, "/status", (), "/status.reply", 0.5) is not None

    def stop(self) -> None:
        """``/quit`` scsynth (SIGTERM/SIGKILL if it does not go), stop jackd, clean /dev/shm."""
        if self._scsynth is not None:
            if self._scsynth.alive():
                osc.request_udp(self.udp_port, "/quit", (), "/done", 1.0)
                self._scsynth.wait(3.0)
            self._scsynth.stop()
            self._scsynth = None
        if self._jackd is not None:
            self._jackd.stop()
            self._jackd = None
        self._clean_shm()
        if self._dir is not None:
            self._dir.cleanup()
            self._dir = None

    def _clean_shm(self) -> None:
        shm = Path("/dev/shm")
        if not shm.is_dir():
            return
        ours = [f"SuperColliderServer_{self.udp_port}", f"SuperColliderServer_{self.tcp_port}"]
        for entry in shm.iterdir():
            name = entry.name
            if name in ours or (self.jack_name in name and name.startswith("jack")):
                entry.unlink(missing_ok=True)
        # JACK's shared registry outlives every server; remove it only when no JACK server is
        # left at all (no jackd process, no other JACK segment), so no one else's jackd breaks.
        registry = shm / "jack-shm-registry"
        others = [e for e in shm.iterdir() if e.name.startswith("jack") and e != registry]
        if registry.exists() and not others and not _jackd_running():
            registry.unlink(missing_ok=True)

    def __enter__(self) -> Scsynth:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ helpers for tests
    def alive(self) -> bool:
        return self._scsynth is not None and self._scsynth.alive()

    def log(self) -> str:
        """scsynth's output so far (``/g_dumpTree`` and errors print there)."""
        return self._scsynth.log_tail(200) if self._scsynth else ""

    def request(self, address: str, *args: osc.Arg, expect: str) -> list[object] | None:
        """A stdlib-only UDP request (for checks independent of the code under test)."""
        return osc.request_udp(self.udp_port, address, args, expect, 2.0)
