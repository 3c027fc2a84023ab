"""Against a real synth: sliders bound to a running scsynth node's controls.

scsynth (SuperCollider 3.13, on a private dummy JACK server: ``tests.peers``) runs the
``osclive_sine`` SynthDef (``freq``, ``amp``). A slider bound to ``/n_set <node> freq`` moves the
control — over UDP and over TCP with the OSC 1.0 size prefix (scsynth's only TCP framing) — and
the value is read back with ``/s_get`` through an independent stdlib socket. The reply to
``/s_get`` sent through osc_live (``/n_set <node> freq <v>``) comes back to the session (UDP reply
port, or the TCP connection) and moves the slider, without being sent back.
"""

from __future__ import annotations

import itertools
import socket
import struct
import time
from collections.abc import Iterator
from typing import Any

import pytest

from osc_live import widgets
from osc_live.live import OscSession
from tests.peers import osc
from tests.peers.fixtures import scsynth  # noqa: F401 - the session fixture
from tests.peers.scsynth import Scsynth

pytestmark = pytest.mark.peers

_NODES = itertools.count(7100)


def f32(x: float) -> float:
    return float(struct.unpack(">f", struct.pack(">f", x))[0])


def s_get(sc: Scsynth, node: int, control: str) -> float | None:
    reply = sc.request("/s_get", node, control, expect="/n_set")
    if not reply or reply[:2] != [node, control]:
        return None
    return float(reply[2])  # type: ignore[arg-type]


def wait_control(sc: Scsynth, node: int, control: str, want: float, timeout: float = 5.0) -> float:
    """Poll ``/s_get`` until the control equals ``want`` (as float32); return the last value."""
    deadline = time.monotonic() + timeout
    got = None
    while time.monotonic() < deadline:
        got = s_get(sc, node, control)
        if got is not None and got == pytest.approx(f32(want), rel=1e-6):
            return got
        time.sleep(0.02)
    raise AssertionError(f"{control} of node {node} is {got}, expected {want}")


def send_sc(sc: Scsynth, address: str, *args: osc.Arg) -> None:
    """Fire and forget, through a stdlib socket (not osc_live)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(osc.encode(address, args), ("127.0.0.1", sc.udp_port))


@pytest.fixture
def node(scsynth: Scsynth) -> Iterator[int]:  # noqa: F811
    """A fresh osclive_sine node (silent: amp 0), freed afterwards; created without osc_live."""
    n = next(_NODES)
    send_sc(scsynth, "/s_new", scsynth.synthdef, n, 0, 0, "freq", 440.0, "amp", 0.0)
    assert scsynth.request("/sync", 1, expect="/synced") == [1]
    assert s_get(scsynth, n, "freq") == 440.0, scsynth.log()
    yield n
    send_sc(scsynth, "/n_free", n)


@pytest.fixture
def live() -> Iterator[OscSession]:
    """A private live session (its own loop thread here), closed afterwards."""
    sess = OscSession()
    yield sess
    widgets.close_all()
    sess.close("all")


def _connect(sess: OscSession, sc: Scsynth, kind: str) -> Any:
    if kind == "udp":
        return sess.connect(f"udp://127.0.0.1:{sc.udp_port}", name="sc")
    return sess.connect(f"tcp://127.0.0.1:{sc.tcp_port}", name="sc", mode="1.0")


@pytest.mark.parametrize("kind", ["udp", "tcp-1.0"])
def test_slider_moves_a_running_nodes_freq(
    scsynth: Scsynth,  # noqa: F811
    node: int,
    live: OscSession,
    kind: str,
) -> None:
    target = _connect(live, scsynth, kind)
    freq = widgets.slider(
        "/n_set", 20, 2000, log=True, value=440, args=(node, "freq"), target=target,
        dispatcher=live.dispatcher,
    )  # fmt: skip
    amp = widgets.slider(
        "/n_set", 0.0, 0.5, args=(node, "amp"), target=target, dispatcher=live.dispatcher
    )
    freq.value = 660.0  # what a cell (or the browser) does
    wait_control(scsynth, node, "freq", 660.0)
    amp.value = 0.05
    wait_control(scsynth, node, "amp", 0.05)
    assert s_get(scsynth, node, "freq") == 660.0  # amp did not touch freq

    # a drag: 300 changes as fast as possible; throttled to 60/s; the final value lands
    for k in range(300):
        freq.value = 660.0 + k * 2.0
    final = freq.value
    wait_control(scsynth, node, "freq", final)
    assert freq.osc.sent < 30, freq.osc.sent
    assert freq.osc.last_error is None and target.sent >= freq.osc.sent


@pytest.mark.parametrize("kind", ["udp", "tcp-1.0"])
def test_scsynth_reply_moves_the_slider_without_echo(
    scsynth: Scsynth,  # noqa: F811
    node: int,
    live: OscSession,
    kind: str,
) -> None:
    """/s_get's reply is `/n_set node freq v`: it comes back to the session (UDP reply port, or
    the TCP connection) and moves the slider bound to `/n_set node freq`, which sends nothing
    back."""
    target = _connect(live, scsynth, kind)
    freq = widgets.slider(
        "/n_set",
        20.0,
        2000.0,
        0.25,
        value=440.0,
        args=(node, "freq"),
        target=target,
        dispatcher=live.dispatcher,
    )  # fmt: skip  (523.25 lies on the 0.25 grid: the value is not snapped)
    # someone else changes the synth (an independent socket, not osc_live)
    send_sc(scsynth, "/n_set", node, "freq", 523.25)
    wait_control(scsynth, node, "freq", 523.25)
    sent_before = freq.osc.sent
    target.send_message("/s_get", [node, "freq"])  # ask through osc_live: the reply comes home
    deadline = time.monotonic() + 5
    while freq.value == 440.0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert freq.value == pytest.approx(523.25, abs=1e-4) and freq.osc.received == 1
    time.sleep(0.1)
    assert freq.osc.sent == sent_before  # no echo
    assert s_get(scsynth, node, "freq") == pytest.approx(523.25, abs=1e-4)
