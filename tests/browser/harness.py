"""Throwaway JupyterLab servers and an OSC capture socket for the browser tests.

Loopback only. Every process started here is tracked through its ``Popen`` object and stopped by
PID (SIGTERM, then SIGKILL after a bounded wait); kernels are shut down by the server.
The capture decodes with the tiny stdlib codec of ``tests.peers.osc``, so a broken osc_live
can never fool the judge.
"""

from __future__ import annotations

import json
import os
import queue
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.peers.osc import decode, encode

Message = tuple[str, list[object]]


# ---------------------------------------------------------------------------- OSC over UDP
class UdpCapture:
    """A UDP socket on 127.0.0.1:<ephemeral> whose messages land in a queue (one thread)."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.port: int = self.sock.getsockname()[1]
        self.messages: queue.Queue[Message] = queue.Queue()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="browser-osc-capture", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            for msg in decode(data):
                self.messages.put(msg)

    def clear(self) -> None:
        """Forget everything received so far."""
        while True:
            try:
                self.messages.get_nowait()
            except queue.Empty:
                return

    def drain(self, timeout: float = 10.0, settle: float = 0.4) -> list[Message]:
        """Wait up to ``timeout`` for a first message, then collect until ``settle`` s of quiet."""
        out: list[Message] = []
        deadline = time.monotonic() + timeout
        while True:
            wait = settle if out else max(0.0, deadline - time.monotonic())
            try:
                out.append(self.messages.get(timeout=wait))
            except queue.Empty:
                return out

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sock.close()


def send_udp(port: int, address: str, *args: Any) -> None:
    """Send one OSC message to 127.0.0.1:``port`` (encoded without osc_live)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(encode(address, args), ("127.0.0.1", port))


# ---------------------------------------------------------------------------- JupyterLab
def free_port() -> int:
    """A loopback TCP port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def write_lab_settings(settings_dir: Path) -> None:
    """User settings so that no toast or dialog covers the notebook."""

    def put(package: str, plugin: str, data: dict[str, Any]) -> None:
        d = settings_dir / package
        d.mkdir(parents=True, exist_ok=True)
        (d / f"{plugin}.jupyterlab-settings").write_text(json.dumps(data))

    put("@jupyterlab/apputils-extension", "notification", {"fetchNews": "false"})
    # windowingMode "none": every cell is in the DOM (Lab 4 renders off-screen cells lazily)
    put(
        "@jupyterlab/notebook-extension", "tracker",
        {"autoStartDefaultKernel": True, "windowingMode": "none"},
    )  # fmt: skip


@dataclass
class LabServer:
    """A running ``python -m jupyterlab`` on loopback with a random token."""

    proc: subprocess.Popen[bytes]
    port: int
    token: str
    root: Path
    log_path: Path
    startup_s: float = float("nan")

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def lab_url(self, notebook: str) -> str:
        """Open ``notebook``; ``token`` logs the browser in, ``reset`` drops saved layouts."""
        return f"{self.base_url}/lab/tree/{notebook}?reset&token={self.token}"

    def api(self, method: str, path: str) -> Any:
        """Call the Jupyter server REST API."""
        req = urllib.request.Request(
            f"{self.base_url}{path}", method=method,
            headers={"Authorization": f"token {self.token}"},
        )  # fmt: skip
        with urllib.request.urlopen(req, timeout=10) as r:
            body = r.read()
        return json.loads(body) if body else None

    def delete_sessions(self, path: str | None = None) -> int:
        """Shut down the kernel sessions (of one notebook path, or all); return how many."""
        n = 0
        for sess in self.api("GET", "/api/sessions"):
            if path is None or sess.get("path") == path:
                self.api("DELETE", f"/api/sessions/{sess['id']}")
                n += 1
        return n

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 20.0) -> None:
        """SIGTERM the server by PID (it shuts its kernels down), SIGKILL if it hangs."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


def start_lab(
    root: Path, work: Path, env: dict[str, str] | None = None, timeout: float = 120.0
) -> LabServer:
    """Start JupyterLab headless on a free loopback port; wait until ``/api/status`` answers."""
    port = free_port()
    token = secrets.token_hex(16)
    for sub in ("runtime", "config", "settings", "workspaces", "data"):
        (work / sub).mkdir(parents=True, exist_ok=True)
    write_lab_settings(work / "settings")
    full_env = dict(os.environ)
    full_env.update(
        {
            "JUPYTER_RUNTIME_DIR": str(work / "runtime"),
            "JUPYTER_CONFIG_DIR": str(work / "config"),  # ignore ~/.jupyter
            "JUPYTER_PLATFORM_DIRS": "1",
            "PYTHONUNBUFFERED": "1",
        }
    )
    full_env.update(env or {})
    cmd = [
        sys.executable, "-m", "jupyterlab", "--no-browser",
        "--allow-root",  # harmless when not root; required when root
        "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
        f"--LabApp.user_settings_dir={work / 'settings'}",
        f"--LabApp.workspaces_dir={work / 'workspaces'}",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.handlers.announcements.NeverCheckForUpdate",
        "--ServerApp.terminals_enabled=False",
    ]  # fmt: skip
    log_path = work / "jupyterlab.log"
    t0 = time.monotonic()
    with open(log_path, "wb") as logf:
        proc = subprocess.Popen(
            cmd, stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
            env=full_env, cwd=root,
        )  # fmt: skip
    server = LabServer(proc, port, token, root, log_path)
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"jupyter lab exited with {proc.returncode}:\n{server.log()}")
        try:
            server.api("GET", "/api/status")
            break
        except OSError:
            pass
        if time.monotonic() - t0 > timeout:
            server.stop()
            raise TimeoutError(f"jupyter lab not ready after {timeout} s:\n{server.log()}")
        time.sleep(0.1)
    server.startup_s = time.monotonic() - t0
    return server
