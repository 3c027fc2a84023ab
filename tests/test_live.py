"""The live session's Python API (the contract the widgets build on) and the virtual synth."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from osc_live import live
from osc_live.notebook.views import address_filter
from osc_live.osc_bundle import OscBundle
from osc_live.osc_message import OscMessage
from osc_live.osc_packet import OscPacket
from osc_live.parsing.ntp import unix_to_ntp
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
def test_view_filters_use_osc_patterns(pattern: str, address: str, match: bool) -> None:
    accept = address_filter(pattern)
    assert accept is not None and accept(address) is match


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


def test_synth_state_is_bounded() -> None:
    """A sender cannot grow the synth without limit: addresses (least recent forgotten),
    nodes (scsynth's /fail), controls, scheduled messages and connections are capped and
    what was refused is counted."""
    with VirtualSynth(
        max_addresses=3, max_nodes=2, max_controls=2, max_scheduled=2, max_connections=1
    ) as synth:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            for k in range(5):
                sock.sendto(OscMessage.from_parts(f"/a/{k}", [k]).dgram, synth.udp_address)
            assert synth.wait_for(5)
            assert list(synth.last) == ["/a/2", "/a/3", "/a/4"]
            assert synth.refused["addresses"] == 2

            def tell(address: str, *args: Any) -> None:
                count = synth.count
                sock.sendto(OscMessage.from_parts(address, list(args)).dgram, synth.udp_address)
                assert synth.wait_for(count + 1)

            tell("/s_new", "sine", 1, 0, 1, "freq", 1.0, "amp", 0.5, "pan", 0)
            assert synth.nodes[1] == {"synthdef": "sine", "freq": 1.0, "amp": 0.5}
            assert synth.refused["controls"] == 1
            tell("/n_set", 2, "freq", 2)
            fail = ask(synth, "/s_new", "sine", 3, 0, 1)
            assert fail[0].address == "/fail" and fail[0].params[0] == "/s_new"
            assert sorted(synth.nodes) == [1, 2] and synth.refused["nodes"] == 1
            later = time.time() + 60
            bundle = OscBundle.from_contents(
                unix_to_ntp(later), [OscMessage.from_parts("/later", [k]) for k in range(3)]
            )
            sock.sendto(bundle.dgram, synth.udp_address)
            assert wait_until(lambda: synth.refused["scheduled"] == 1)
            with socket.create_connection(synth.tcp_address) as first:
                first.sendall(b"\xc0" + OscMessage.from_parts("/tcp", [1]).dgram + b"\xc0")
                assert wait_until(lambda: synth.get("/tcp") == (1,))
                with socket.create_connection(synth.tcp_address) as second:
                    second.settimeout(2)
                    assert second.recv(1) == b""  # closed at once: one connection allowed
                assert synth.refused["connections"] == 1
            assert synth.snapshot()["refused"]["nodes"] == 1
        finally:
            sock.close()


def test_synth_survives_garbage(synth: VirtualSynth) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.sendto(b"garbage", synth.udp_address)
    sock.close()
    assert ask(synth, "/ping")[0].address == "/pong"
    assert synth.errors == 1


# --- the reply ports: loopback by default, one per family ----------------------------------------


def _ipv6_loopback() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


needs_ipv6 = pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback")


def test_udp_targets_send_from_connected_loopback_sockets(ses: live.OscSession) -> None:
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.settimeout(3)
    stranger = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        target = ses.connect(f"udp://127.0.0.1:{rx.getsockname()[1]}", name="rx")
        synth = ses.connect()
        local = target.local_address
        assert local is not None and local[0] == "127.0.0.1"
        assert synth.local_address != local  # each target has its own socket
        target.send_message("/x", [1])
        data, peer = rx.recvfrom(1024)
        assert OscMessage(data).params == [1] and peer == local
        # the peer answers to the port it saw: that reply reaches the session dispatcher
        rx.sendto(OscMessage.from_parts("/answer", [2]).dgram, peer)
        assert wait_until(lambda: ses.traffic.totals["received"] == 1)
        # anyone else is refused by the connected socket (only the target may answer)
        stranger.sendto(OscMessage.from_parts("/intruder", [3]).dgram, peer)
        rx.sendto(OscMessage.from_parts("/answer", [4]).dgram, peer)
        assert wait_until(lambda: ses.traffic.totals["received"] == 2)
        assert "/intruder" not in ses.traffic.addresses()
        assert f"127.0.0.1:{local[1]}" in ses.status()["reply_ports"]
        # `localhost` is IPv4 loopback as well
        assert ses.connect(f"udp://localhost:{rx.getsockname()[1]}").local_address[0] == "127.0.0.1"
    finally:
        rx.close()
        stranger.close()


def test_udp_send_works_while_the_loop_is_blocked(ses: live.OscSession) -> None:
    """A send from a cell that blocks (or from another thread) leaves at once: it does not wait
    for the session loop."""
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.settimeout(3)
    try:
        target = ses.connect(f"udp://127.0.0.1:{rx.getsockname()[1]}")
        released = threading.Event()
        ses.runner.call_soon(released.wait, 5)  # the loop is now stuck in a callback
        try:
            target.send_message("/while_blocked", [1])
            assert OscMessage(rx.recvfrom(1024)[0]).address == "/while_blocked"
        finally:
            released.set()
    finally:
        rx.close()


def test_tcp_target_local_address_is_what_the_server_sees(ses: live.OscSession) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        server.settimeout(5)
        target = ses.connect(f"tcp://127.0.0.1:{server.getsockname()[1]}", name="t")
        conn, peer = server.accept()
        with conn:
            assert target.local_address == peer
            assert ses.status()["tcp_ports"] == [f"127.0.0.1:{peer[1]}"]
        ses.close("t")
        assert target.local_address is None and ses.status()["tcp_ports"] == []


# --- IPv6 targets against real servers on ::1 ----------------------------------------------------


@needs_ipv6
def test_udp_and_tcp_targets_on_ipv6_loopback(ses: live.OscSession) -> None:
    got: list[tuple[str, tuple[Any, ...]]] = []
    ses.dispatcher.map("/pong", lambda address, *args: got.append((address, args)))
    with VirtualSynth("::1") as remote:
        udp_port = remote.udp_address[1]
        tcp_port = remote.tcp_address[1]
        udp = ses.connect(f"udp://[::1]:{udp_port}")
        assert udp.name == f"udp:[::1]:{udp_port}" and udp.url == f"udp://[::1]:{udp_port}"
        local = udp.local_address
        assert local is not None and local[0] == "::1"
        udp.send_message("/ping", [1])
        assert wait_until(lambda: (("/pong", (1,))) in got)  # the reply came back over IPv6
        assert remote.history[-1].source == f"[::1]:{local[1]}"
        tcp = ses.connect(f"tcp://[::1]:{tcp_port}", mode="1.0")
        assert tcp.url.startswith(f"tcp://[::1]:{tcp_port} ")
        tcp_local = tcp.local_address
        assert tcp_local is not None and tcp_local[0] == "::1" and tcp_local[1] != tcp_port
        tcp.send_message("/ping", [2])
        assert wait_until(lambda: ("/pong", (2,)) in got)
        # an IPv4 target alongside gets its own IPv4 loopback reply port
        ses.connect()
        assert sorted(ses.status()["reply_ports"]) == sorted(
            [f"127.0.0.1:{ses.target('synth').local_address[1]}", f"[::1]:{local[1]}"]
        )
        ses.close()


@needs_ipv6
def test_ipv6_listener_receives_from_an_ipv6_target(ses: live.OscSession) -> None:
    got: list[tuple[str, tuple[Any, ...]]] = []
    ses.dispatcher.map("/in", lambda address, *args: got.append((address, args)))
    for thread in (False, True):
        lis = ses.listen("udp://[::1]:0", thread=thread, name="v6")
        assert lis.url == f"udp://[::1]:{lis.port}"
        ses.connect(f"udp://[::1]:{lis.port}", name="to_v6").send_message("/in", [thread])
        assert wait_until(lambda thread=thread: ("/in", (thread,)) in got)
    tlis = ses.listen("tcp://[::1]:0", name="v6tcp")
    ses.connect(f"tcp://[::1]:{tlis.port}", name="tcp6").send_message("/in", ["tcp"])
    assert wait_until(lambda: ("/in", ("tcp",)) in got)


# --- counting what arrives: one parse per packet, exact counters ---------------------------------


def _count_parses(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count datagrams parsed: ``OscMessage(dgram)`` and ``OscBundle(dgram)`` calls (a bundle
    builds its messages without those, so each packet counts once per parse)."""
    calls = [0]
    for cls in (OscMessage, OscBundle):
        original = cls.__init__

        def counting(self: Any, dgram: bytes, original: Any = original) -> None:
            calls[0] += 1
            original(self, dgram)

        monkeypatch.setattr(cls, "__init__", counting)
    return calls


def test_received_packets_are_parsed_once(
    ses: live.OscSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    seen: list[Any] = []
    ses.dispatcher.map("/*", lambda address, *args: seen.append((address, args)))
    message = OscMessage.from_parts("/a", [1, "x"]).dgram
    bundle = OscBundle.from_contents(
        1, [OscMessage.from_parts("/b", [2]), OscMessage.from_parts("/c", [3.5])]
    ).dgram
    calls = _count_parses(monkeypatch)
    peer = ("127.0.0.1", 9)
    ses.dispatcher.call_handlers_for_packet(message, peer)
    assert calls[0] == 1
    ses.dispatcher.call_handlers_for_packet(bundle, peer)
    assert calls[0] == 2  # the bundle once (it was parsed twice before: count, dispatch)
    asyncio.run(ses.dispatcher.async_call_handlers_for_packet(message, peer))
    asyncio.run(ses.dispatcher.async_call_handlers_for_packet(bundle, peer))
    assert calls[0] == 4
    assert [a for a, _ in seen] == ["/a", "/b", "/c"] * 2
    totals = ses.traffic.totals
    assert (totals["packets"], totals["received"], totals["errors"]) == (4, 6, 0)
    rows = {row.address: row for row in ses.traffic.snapshot()}
    assert rows["/a"].count == 2 and list(rows["/c"].args) == [3.5]


def test_counters_are_exact_over_the_network(ses: live.OscSession) -> None:
    from osc_live.parsing.ntp import unix_to_ntp

    handled: list[str] = []
    ses.dispatcher.map("/n/*", lambda address, *args: handled.append(address))
    lis = ses.listen(0)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        for i in range(100):
            sock.sendto(OscMessage.from_parts(f"/n/{i % 3}", [i]).dgram, ("127.0.0.1", lis.port))
        two = [OscMessage.from_parts("/n/b", [1]), OscMessage.from_parts("/n/b", [2])]
        sock.sendto(OscBundle.from_contents(1, two).dgram, ("127.0.0.1", lis.port))
        later = OscBundle.from_contents(unix_to_ntp(time.time() + 0.4), two[:1])
        sock.sendto(later.dgram, ("127.0.0.1", lis.port))
        sock.sendto(b"/bad\0\0\0\0,i\0\0", ("127.0.0.1", lis.port))  # an int with no bytes
        assert wait_until(lambda: ses.traffic.totals["errors"] == 1)
        totals = ses.traffic.totals
        # the future-dated message is counted on arrival, handled at its time
        assert (totals["packets"], totals["received"]) == (102, 103)
        assert len(handled) == 102 and ses.dispatcher.stats.parse_errors == 1
        assert wait_until(lambda: len(handled) == 103)
        assert ses.traffic.totals["received"] == 103
    finally:
        sock.close()


# --- closing the synth closes the targets that point at it ---------------------------------------


def test_close_synth_closes_every_target_pointing_at_it(ses: live.OscSession) -> None:
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    try:
        other = ses.connect(f"udp://127.0.0.1:{rx.getsockname()[1]}", name="other")
        main = ses.connect()
        fx = ses.connect(name="fx")
        fxt = ses.connect("tcp://synth", name="fxt")
        assert fx.synth_instance is main.synth_instance is ses.synth
        assert ses.close("synth") == ["synth", "fx", "fxt"]
        assert list(ses.targets) == ["other"] and ses.target() is other
        assert ses.synth is None and main.closed and fx.closed and fxt.closed
        with pytest.raises(ConnectionError, match="target 'fx' is closed"):
            fx.send_message("/x", 1)
        # a new synth: new targets work, the old objects stay closed
        fresh = ses.connect(name="fx")
        fresh.send_message("/again", 1)
        assert ses.synth.wait_for(1, 3) and ses.synth.get("/again") == (1,)
    finally:
        rx.close()


def test_close_a_target_of_the_synth_keeps_the_synth(ses: live.OscSession) -> None:
    ses.connect()
    ses.connect(name="fx")
    assert ses.close("fx") == ["fx"]
    assert ses.synth is not None and ses.synth.running and list(ses.targets) == ["synth"]


def test_send_to_a_synth_stopped_behind_the_session_is_a_clear_error(
    ses: live.OscSession,
) -> None:
    target = ses.connect(name="fx")
    ses.synth.close()
    with pytest.raises(ConnectionError, match="virtual synth that was closed"):
        target.send_message("/x", 1)
    assert ses.connect(name="fx").send_message("/y", 2).address == "/y"  # starts a new synth


def test_sends_and_receptions_from_many_threads_are_counted_exactly(ses: live.OscSession) -> None:
    """Widget callbacks (kernel subshells), listener threads and the loop touch the session at
    once: every message is counted once, the monitor and plot keep refreshing."""
    threads_n, per_thread = 4, 300
    rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rx.bind(("127.0.0.1", 0))
    rx.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    rx.settimeout(3)
    try:
        target = ses.connect(f"udp://127.0.0.1:{rx.getsockname()[1]}")
        lis = ses.listen(0, thread=True)
        into = ses.connect(f"udp://127.0.0.1:{lis.port}", name="into")
        monitor = ses.monitor()
        plot = ses.plot("/in")
        ses.live_display = False
        start = threading.Barrier(threads_n)

        def work(k: int) -> None:
            start.wait(5)
            for i in range(per_thread):
                target.send_message(f"/out/{k}", [i])
                into.send_message("/in", [i])

        workers = [threading.Thread(target=work, args=(k,)) for k in range(threads_n)]
        for w in workers:
            w.start()
        for w in workers:
            w.join(10)
        total = threads_n * per_thread
        got = 0
        while got < total:
            rx.recv(1024)
            got += 1
        assert wait_until(lambda: ses.traffic.totals["received"] == total, 5)
        assert ses.traffic.totals["sent"] == 2 * total
        assert target.sent == total and into.sent == total
        assert plot.count == total
        assert {r.address for r in ses.traffic.recent(10)} >= {f"/out/{k}" for k in range(2)}
        assert wait_until(lambda: monitor.frames > 1)
    finally:
        rx.close()


def test_monitor_rates_fall_to_zero_after_traffic_stops(ses: live.OscSession) -> None:
    lis = ses.listen(0)
    target = ses.connect(f"udp://127.0.0.1:{lis.port}")
    monitor = ses.monitor("/rate/*")
    monitor.handle = _Display()  # what a kernel's display handle does: render every update
    ses.live_display = True
    stop = threading.Event()

    def traffic() -> None:
        while not stop.is_set():
            target.send_message("/rate/x", [1])
            time.sleep(0.01)

    sender = threading.Thread(target=traffic)
    sender.start()
    try:
        assert wait_until(lambda: any(rate > 0 for rate in _last_rates(monitor)), 5)
    finally:
        stop.set()
        sender.join(5)
    frames = monitor.frames
    # no message any more: the view keeps refreshing by itself until every rate shown is 0
    assert wait_until(lambda: monitor.frames > frames + 1 and _last_rates(monitor) == [0.0], 5)
    assert wait_until(lambda: all(rate == 0 for _, _, rate in monitor._seen.values()), 5)
    time.sleep(0.3)  # a refresh already on its way
    assert monitor.handle.shown[-1].count("<td>0.0</td>") == 2  # the page's last frame: both rows
    settled = monitor.frames
    time.sleep(0.5)
    assert monitor.frames == settled  # and then it stops refreshing


class _Display:
    """Stands in for IPython's DisplayHandle: renders what it is given."""

    def __init__(self) -> None:
        self.shown: list[str] = []

    def update(self, obj: Any) -> None:
        self.shown.append(obj._repr_html_())


def _last_rates(monitor: Any) -> list[float]:
    return [rate for key, (_, _, rate) in monitor._seen.items() if key[0] == "received"]


def test_traffic_rows_are_capped_least_recent_first_and_totals_stay_exact(
    ses: live.OscSession,
) -> None:
    ses.traffic.resize(100)
    dispatch = ses.dispatcher.call_handlers_for_packet
    for k in range(1000):
        dispatch(OscMessage.from_parts(f"/d/{k}", [k]).dgram, ("127.0.0.1", 9))
    dispatch(OscMessage.from_parts("/d/950", [0]).dgram, ("127.0.0.1", 9))  # used again
    assert len(ses.traffic) == 100 and ses.traffic.evicted == 900
    assert ses.traffic.totals["received"] == 1001 and ses.traffic.totals["packets"] == 1001
    recent = ses.traffic.recent(3)
    assert [r.address for r in recent] == ["/d/950", "/d/999", "/d/998"]
    assert recent[0].count == 2
    assert "/d/0" not in ses.traffic.addresses() and "/d/900" in ses.traffic.addresses()
    text = repr(ses.monitor().frame())
    assert "received 1001" in text and "100 addresses kept, 900 older dropped" in text


def test_monitor_and_plot_show_float32_values_by_their_shortest_repr(
    ses: live.OscSession,
) -> None:
    monitor = ses.monitor()
    plot = ses.plot("/amp")
    packet = OscMessage.from_parts("/amp", [0.1, 0.1, 440.0], "fdf").dgram
    ses.dispatcher.call_handlers_for_packet(packet, ("127.0.0.1", 9))
    row = monitor.table()[0]
    assert row[3] == "0.1 0.1 440.0"  # float32 0.1 is 0.10000000149011612 as a double
    assert "0.10000000149" not in repr(monitor.frame())
    assert "last 0.1 0.1 440.0" in repr(plot.frame())


def test_handler_log_header_counts_calls_and_printed_lines(ses: live.OscSession) -> None:
    ses.runner.run(_on_loop(ses))
    quiet, chatty = ses.logs
    assert quiet.title() == "/quiet → on_button: called 2 times, printed nothing"
    assert chatty.title() == "/chatty → shout: called 1 time, printed 2 lines"
    assert repr(chatty.frame()).splitlines()[1:] == ["a", "b"]


def test_handler_log_header_says_when_the_handler_raised(ses: live.OscSession) -> None:
    """A handler that raises shows it where its output is shown (not only in ``%osc status``):
    notebook 03's ``remember(address, node, control, value)`` given the ``/s_get`` answer of
    two controls (``/n_set 1003 freq 220.0 amp 0.1``)."""

    def remember(address: str, node: int, control: str, value: float) -> None:
        pass

    ses.runner.run(_map_and_dispatch(ses, remember, [1003, "freq", 220.0, "amp", 0.1]))
    (log,) = ses.logs
    assert log.title() == (
        "/n_set → remember: called 1 time, printed nothing, raised 1 time "
        "(last: TypeError: test_handler_log_header_says_when_the_handler_raised.<locals>."
        "remember() takes 4 positional arguments but 6 were given)"
    )
    assert ses.handler_errors and "takes 4 positional arguments" in ses.handler_errors[-1]
    assert "raised 1 time" in repr(log.frame())


async def _map_and_dispatch(ses: live.OscSession, handler: Any, args: list[Any]) -> None:
    ses.on("/n_set", handler, log=True)
    ses.dispatcher.call_handlers_for_packet(
        OscMessage.from_parts("/n_set", args).dgram, ("127.0.0.1", 9)
    )


async def _on_loop(ses: live.OscSession) -> None:
    def on_button(address: str, *args: Any) -> None:
        pass

    def shout(address: str, *args: Any) -> None:
        print("a")
        print("b")

    ses.on("/quiet", on_button, log=True)
    ses.on("/chatty", shout, log=True)
    assert ses.logs[0].title() == "/quiet → on_button: not called yet"
    dispatch = ses.dispatcher.call_handlers_for_packet
    for address in ("/quiet", "/quiet", "/chatty"):
        dispatch(OscMessage.from_parts(address, [1]).dgram, ("127.0.0.1", 9))


@pytest.mark.parametrize("url", ["udp://127.0.0.1:0", "tcp://127.0.0.1:0"])
@pytest.mark.parametrize("thread", [False, True])
def test_listener_packet_hooks_see_only_that_listener(
    ses: live.OscSession, url: str, thread: bool
) -> None:
    one = ses.listen(url, thread=thread, name="one")
    two = ses.listen(url, thread=thread, name="two")
    seen: list[tuple[bytes, Any]] = []
    one.packet_hooks.append(lambda data, peer: seen.append((data, peer)))
    scheme = url.split(":")[0]
    to_one = ses.connect(f"{scheme}://127.0.0.1:{one.port}", name="to_one")
    to_two = ses.connect(f"{scheme}://127.0.0.1:{two.port}", name="to_two")
    to_two.send_message("/two", [2])
    to_one.send_message("/one", [1])
    assert wait_until(lambda: ses.traffic.totals["received"] == 2)
    assert wait_until(lambda: len(seen) == 1)
    assert OscMessage(seen[0][0]).address == "/one"


def test_handler_log_keeps_only_what_the_handler_prints(
    ses: live.OscSession, capsys: pytest.CaptureFixture[str]
) -> None:
    """While a logged handler runs on the loop, another thread's prints (a cell on a kernel
    subshell, a listener's thread) are not swallowed into the handler's log."""
    ses.runner.run(_log_with_a_printing_thread(ses))
    log = ses.logs[-1]
    assert list(log.lines) == ["from the handler"]
    assert "from another thread" in capsys.readouterr().out


async def _log_with_a_printing_thread(ses: live.OscSession) -> None:
    def handler(address: str, *args: Any) -> None:
        other = threading.Thread(target=print, args=("from another thread",))
        other.start()
        other.join(5)
        print("from the handler")

    ses.on("/log", handler, log=True)
    ses.dispatcher.call_handlers_for_packet(
        OscMessage.from_parts("/log", [1]).dgram, ("127.0.0.1", 9)
    )
