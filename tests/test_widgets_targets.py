"""Widgets over every target kind: UDP, TCP with OSC 1.0 framing, TCP with OSC 1.1 (SLIP).

The receivers here are plain sockets decoded with the stdlib codec of ``tests.peers.osc`` (and
hand-written de-framing), independent of osc_live. Targets come from a private live session
(``connect(url, mode=…)``, the notebook path) and, for UDP and TCP, from the clients directly.
Two-way binding is checked through a real session listener too.
"""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from osc_live import widgets
from osc_live.live import OscSession
from osc_live.notebook import _binding
from tests.peers.osc import decode, encode

END, ESC, ESC_END, ESC_ESC = 0xC0, 0xDB, 0xDC, 0xDD


def _slip_packets(buf: bytearray) -> list[bytes]:
    """Cut complete SLIP frames off ``buf`` (in place) and unescape them."""
    out = []
    while True:
        try:
            end = buf.index(END, 1 if buf[:1] == b"\xc0" else 0)
        except ValueError:
            return out
        frame, buf[: end + 1] = bytes(buf[:end]).lstrip(b"\xc0"), b""
        raw, i = bytearray(), 0
        while i < len(frame):
            if frame[i] == ESC:
                raw.append(END if frame[i + 1] == ESC_END else ESC)
                i += 2
            else:
                raw.append(frame[i])
                i += 1
        if raw:
            out.append(bytes(raw))


def _size_packets(buf: bytearray) -> list[bytes]:
    out = []
    while len(buf) >= 4:
        (n,) = struct.unpack(">i", buf[:4])
        if len(buf) < 4 + n:
            break
        out.append(bytes(buf[4 : 4 + n]))
        del buf[: 4 + n]
    return out


class Capture:
    """A UDP or TCP (1.0 / 1.1) receiver on loopback collecting ``(address, args)``."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.messages: list[tuple[str, list[object]]] = []
        self.cond = threading.Condition()
        family = socket.SOCK_DGRAM if kind == "udp" else socket.SOCK_STREAM
        self.sock = socket.socket(socket.AF_INET, family)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        if kind != "udp":
            self.sock.listen(1)
        self.port = self.sock.getsockname()[1]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"capture-{kind}")
        self._thread.start()

    def _add(self, packet: bytes) -> None:
        with self.cond:
            self.messages += decode(packet)
            self.cond.notify_all()

    def _run(self) -> None:
        if self.kind == "udp":
            while not self._stop.is_set():
                try:
                    self._add(self.sock.recv(65536))
                except TimeoutError:
                    continue
            return
        conn = None
        while conn is None and not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
        if conn is None:
            return
        conn.settimeout(0.05)
        buf = bytearray()
        with conn:
            while not self._stop.is_set():
                try:
                    chunk = conn.recv(65536)
                except TimeoutError:
                    continue
                if not chunk:
                    return
                buf += chunk
                split = _slip_packets if self.kind == "tcp-1.1" else _size_packets
                for packet in split(buf):
                    self._add(packet)

    def wait(self, count: int, timeout: float = 5.0) -> list[tuple[str, list[object]]]:
        with self.cond:
            self.cond.wait_for(lambda: len(self.messages) >= count, timeout)
            return list(self.messages)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()


@pytest.fixture
def live(monkeypatch: pytest.MonkeyPatch) -> Iterator[OscSession]:
    """A private session standing in for the kernel-wide ``session()`` of the widgets."""
    sess = OscSession()
    monkeypatch.setattr(_binding, "_session", lambda: sess)
    yield sess
    widgets.close_all()
    sess.close("all")


KINDS = ["udp", "tcp-1.0", "tcp-1.1"]


def _url(kind: str, port: int) -> tuple[str, str]:
    scheme = "udp" if kind == "udp" else "tcp"
    return f"{scheme}://127.0.0.1:{port}", kind.rpartition("-")[2] if kind != "udp" else "1.1"


@pytest.mark.parametrize("kind", KINDS)
def test_every_control_over_every_session_target(live: OscSession, kind: str) -> None:
    cap = Capture(kind)
    try:
        url, mode = _url(kind, cap.port)
        live.connect(url, name="t", mode=mode)  # the default target: controls use it
        s = widgets.slider("/fx/reverb", 0.0, 1.0, dispatcher=live.dispatcher)
        i = widgets.slider("/steps", 0, 16, target="t", dispatcher=live.dispatcher)
        d = widgets.slider("/gain", 0.0, 2.0, type_tag="d", dispatcher=live.dispatcher)
        t = widgets.toggle("/fx/on", dispatcher=live.dispatcher)
        b = widgets.button("/go", "now")
        pad = widgets.xy("/pad", dispatcher=live.dispatcher)
        s.value = 0.25
        i.value = 3
        d.value = 1.5
        t.value = True
        b.click()
        pad.x.value = 0.5
        got = cap.wait(6)
        assert got == [
            ("/fx/reverb", [0.25]),
            ("/steps", [3]),
            ("/gain", [1.5]),  # decoded from a 'd' tag
            ("/fx/on", [1]),
            ("/go", ["now"]),
            ("/pad", [0.5, 0.0]),
        ], got
        assert all(c.osc.last_error is None for c in (s, i, d, t, b, pad))
    finally:
        live.close("t")
        cap.close()


@pytest.mark.parametrize("kind", ["udp", "tcp-1.0", "tcp-1.1"])
def test_drag_over_each_transport_is_throttled_and_ends_exact(live: OscSession, kind: str) -> None:
    cap = Capture(kind)
    try:
        url, mode = _url(kind, cap.port)
        target = live.connect(url, name="t", mode=mode)
        s = widgets.slider(
            "/fx/reverb", 0.0, 1.0, 0.001, target=target, dispatcher=False, throttle_hz=30
        )
        t0 = time.monotonic()
        k = 0
        while time.monotonic() - t0 < 0.5:
            k += 1
            s.value = min(1.0, k / 1000)
            time.sleep(0.001)
        elapsed = time.monotonic() - t0
        final = s.value
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            msgs = cap.wait(1)
            if msgs and msgs[-1][1][0] == pytest.approx(final, abs=1e-6):
                break
            time.sleep(0.02)
        values = [m[1][0] for m in cap.messages]
        assert values[-1] == pytest.approx(final, abs=1e-6)
        assert values == sorted(values)
        assert len(values) <= elapsed * 30 + 2, (len(values), elapsed)
    finally:
        live.close("t")
        cap.close()


def test_two_way_through_a_session_listener(live: OscSession) -> None:
    """A UDP listener of the session moves a slider; nothing is echoed to the target."""
    cap = Capture("udp")
    try:
        live.connect(f"udp://127.0.0.1:{cap.port}", name="t")
        listener = live.listen("udp://127.0.0.1:0")
        s = widgets.slider("/fx/reverb", 0.0, 1.0, dispatcher=live.dispatcher)
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
            tx.sendto(encode("/fx/reverb", [0.8]), ("127.0.0.1", listener.port))
            deadline = time.monotonic() + 5
            while s.value != 0.8 and time.monotonic() < deadline:
                time.sleep(0.01)
        assert s.value == 0.8 and s.osc.received == 1
        time.sleep(0.2)
        assert cap.messages == [] and s.osc.sent == 0
        s.value = 0.5
        assert cap.wait(1) == [("/fx/reverb", [0.5])]
    finally:
        cap.close()


def test_direct_clients_as_targets() -> None:
    """osc_live's own UDP and TCP clients (python-osc API) work as targets without a session."""
    from osc_live.tcp_client import SimpleTCPClient
    from osc_live.udp_client import SimpleUDPClient

    for kind in ("udp", "tcp-1.0", "tcp-1.1"):
        cap = Capture(kind)
        client: Any = (
            SimpleUDPClient("127.0.0.1", cap.port)
            if kind == "udp"
            else SimpleTCPClient("127.0.0.1", cap.port, mode=kind.rpartition("-")[2])
        )
        try:
            s = widgets.slider("/a", 0.0, 1.0, type_tag="d", target=client, dispatcher=False)
            s.value = 0.5
            assert cap.wait(1) == [("/a", [0.5])], kind
        finally:
            widgets.close_all()
            client.close()
            cap.close()
