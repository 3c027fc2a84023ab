"""The live session's Python API (the contract the widgets build on) and the virtual synth."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest

from osc_live import live
from osc_live.osc_bundle import OscBundle
from osc_live.osc_message import OscMessage
from osc_live.osc_packet import OscPacket
from osc_live.synth import VirtualSynth


@pytest.fixture
def ses() -> Iterator[live.OscSession]:
    live.reset_session()
    yield live.session()
    live.reset_session()


def wait_until(predicate: Any, timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return bool(predicate())


def test_session_is_a_singleton(ses: live.OscSession) -> None:
    assert live.session() is ses


def test_target_without_connect_is_a_clear_error(ses: live.OscSession) -> None:
    with pytest.raises(LookupError, match="no target"):
        ses.target()
    ses.connect()
    with pytest.raises(LookupError, match="no target named 'x' \\(targets: synth\\)"):
        ses.target("x")


def test_connect_send_and_hooks(ses: live.OscSession) -> None:
    sent: list[tuple[Any, str]] = []
    ses.send_hooks.append(lambda content, target: sent.append((content, target.name)))
    target = ses.connect()
    assert ses.target() is target and target.name == "synth"
    message = target.send_message("/fx/reverb", [0.3], "f")
    assert isinstance(message, OscMessage) and message.type_tags == "f"
    assert target.send_message("/one", 5).params == [5]  # a single value, python-osc style
    target.send(OscBundle.from_contents(1, [OscMessage.from_parts("/b", [1])]))
    assert [name for _, name in sent] == ["synth"] * 3
    assert wait_until(lambda: ses.synth.count == 3)
    assert ses.synth.get("/fx/reverb") == (pytest.approx(0.3),)
    assert ses.traffic.totals["sent"] == 3


def test_named_and_default_targets(ses: live.OscSession) -> None:
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.settimeout(3)
    try:
        first = ses.connect(f"udp://127.0.0.1:{rx.getsockname()[1]}", name="first")
        ses.connect()
        assert ses.target().name == "synth"
        ses.target("first").send_message("/x", [1])
        assert OscMessage(rx.recv(1024)).params == [1]
        ses.close("first")
        assert first.closed and "first" not in ses.targets
    finally:
        rx.close()


def test_listen_feeds_the_dispatcher(ses: live.OscSession) -> None:
    got: list[tuple[str, tuple[Any, ...]]] = []
    ses.dispatcher.map("/in/*", lambda address, *args: got.append((address, args)))
    listener = ses.listen(0)
    ses.connect(f"udp://127.0.0.1:{listener.port}", name="loop")
    ses.target("loop").send_message("/in/a", [1, "b"])
    assert wait_until(lambda: got == [("/in/a", (1, "b"))])
    ses.close(listener.name)
    assert listener.closed and listener.name not in ses.listeners


def test_close_unknown_name(ses: live.OscSession) -> None:
    with pytest.raises(LookupError, match="nothing named 'x'"):
        ses.close("x")


def test_close_all_stops_loop_and_synth(ses: live.OscSession) -> None:
    ses.connect()
    ses.listen(0, thread=True)
    loop = ses.loop
    ses.close()
    assert loop.is_closed() and ses.synth is None and not ses.targets and not ses.listeners


def test_enable_nested_asyncio_needs_a_running_loop() -> None:
    assert live.enable_nested_asyncio() is False


@pytest.mark.parametrize(
    ("pattern", "address", "match"),
    [
        ("/a/*", "/a/b", True),
        ("/a/*", "/a/b/c", False),
        ("/a/{x,y}", "/a/y", True),
        ("/a/[0-9]", "/a/5", True),
        ("/a/[!0-9]", "/a/5", False),
        ("/a/?", "/a/bc", False),
        ("//c", "/a/b/c", True),
    ],
)
def test_pattern_regex(pattern: str, address: str, match: bool) -> None:
    assert bool(live.pattern_regex(pattern).match(address)) is match


# --- the virtual synth on its own ---------------------------------------------------------------


@pytest.fixture
def synth() -> Iterator[VirtualSynth]:
    with VirtualSynth() as s:
        yield s


def ask(synth: VirtualSynth, address: str, *args: Any) -> list[OscMessage]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.settimeout(2)
    try:
        sock.sendto(OscMessage.from_parts(address, list(args)).dgram, synth.udp_address)
        return [t.message for t in OscPacket(sock.recv(65536)).messages]
    finally:
        sock.close()


def test_synth_queries(synth: VirtualSynth) -> None:
    assert ask(synth, "/ping", 1)[0].address == "/pong"
    assert ask(synth, "/status")[0].address == "/status.reply"
    assert ask(synth, "/sync", 7)[0].params == [7]
    assert ask(synth, "/get", "/ping")[0].params == ["/ping", 1]
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.sendto(
        OscMessage.from_parts("/s_new", ["sine", 1000, 0, 1, "freq", 440.0]).dgram,
        synth.udp_address,
    )
    sock.close()
    reply = ask(synth, "/s_get", 1000, "freq", "amp")[0]
    assert reply.address == "/n_set" and reply.params == [1000, "freq", 440.0, "amp", 0.0]
    assert synth.snapshot()["nodes"]["1000"]["synthdef"] == "sine"


def test_synth_honours_timetags(synth: VirtualSynth) -> None:
    from osc_live.parsing.ntp import unix_to_ntp

    due = time.time() + 0.3
    bundle = OscBundle.from_contents(unix_to_ntp(due), [OscMessage.from_parts("/later", [1])])
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.sendto(bundle.dgram, synth.udp_address)
    sock.close()
    time.sleep(0.1)
    assert synth.get("/later") is None
    assert synth.wait_for(1, 2)
    item = synth.history[-1]
    assert item.due == pytest.approx(due, abs=0.01) and item.arrived >= due - 0.01


def test_synth_survives_garbage(synth: VirtualSynth) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.sendto(b"garbage", synth.udp_address)
    sock.close()
    assert ask(synth, "/ping")[0].address == "/pong"
    assert synth.errors == 1
