"""%osc / %%osc through a real IPython InteractiveShell, against real UDP receivers."""

from __future__ import annotations

import math
import os
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

pytest.importorskip("IPython")

import contextlib

from IPython.core.error import UsageError
from IPython.testing import globalipapp

from osc_live import live
from osc_live.osc_bundle import OscBundle
from osc_live.osc_message import OscMessage
from osc_live.osc_packet import OscPacket


def start_ipython() -> Any:
    """The test suite's one global IPython shell."""
    globalipapp.start_ipython()
    return globalipapp.get_ipython()


class Receiver:
    """A plain UDP socket on 127.0.0.1 that collects decoded OSC packets."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(3)
        self.port = self.sock.getsockname()[1]
        self.url = f"udp://127.0.0.1:{self.port}"

    def packet(self) -> bytes:
        return self.sock.recvfrom(65536)[0]

    def messages(self, count: int = 1) -> list[tuple[str, list[Any]]]:
        out: list[tuple[str, list[Any]]] = []
        while len(out) < count:
            for timed in OscPacket(self.packet()).messages:
                out.append((timed.message.address, list(timed.message.params)))
        return out

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def ip() -> Iterator[Any]:
    shell = start_ipython()
    shell.run_line_magic("load_ext", "osc_live")
    yield shell
    shell.run_line_magic("unload_ext", "osc_live")
    shell.config.pop("OscLive", None)
    for name in ("a", "b", "freq", "values", "seen", "handler", "i", "gain", "port", "sweep"):
        shell.user_ns.pop(name, None)


@pytest.fixture
def rx() -> Iterator[Receiver]:
    receiver = Receiver()
    yield receiver
    receiver.close()


def osc(ip: Any, line: str) -> Any:
    return ip.run_line_magic("osc", line)


def wait_until(predicate: Any, timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return bool(predicate())


# --- extension -------------------------------------------------------------------------------


def test_load_twice_is_harmless_and_unload_removes_the_magic() -> None:
    shell = start_ipython()
    shell.run_line_magic("load_ext", "osc_live")
    shell.run_line_magic("load_ext", "osc_live")
    assert "osc" in shell.magics_manager.magics["line"]
    assert "osc" in shell.magics_manager.magics["cell"]
    shell.run_line_magic("unload_ext", "osc_live")
    assert "osc" not in shell.magics_manager.magics["line"]


def _osc_hooks(shell: Any) -> int:
    dispatch = shell.strdispatchers.get("complete_command")
    if dispatch is None:
        return 0
    return sum(len(list(dispatch.s_matches(key))) for key in ("%osc", "%%osc"))


def _ours(shell: Any) -> list[str]:
    return [
        type(c).__name__
        for c in shell.configurables
        if type(c).__name__ in ("OscMagics", "OscLive")
    ]


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")  # shell.complete
def test_fifty_load_unload_cycles_leave_no_extra_hooks_or_configurables() -> None:
    shell = start_ipython()
    shell.run_line_magic("load_ext", "osc_live")
    hooks, configurables = _osc_hooks(shell), len(shell.configurables)
    assert hooks >= 2 and sorted(_ours(shell)) == ["OscLive", "OscMagics"]
    shell.run_line_magic("unload_ext", "osc_live")
    assert _ours(shell) == [] and len(shell.configurables) == configurables - 2
    for _ in range(50):
        shell.run_line_magic("load_ext", "osc_live")
        assert _osc_hooks(shell) == hooks and len(shell.configurables) == configurables
        shell.run_line_magic("unload_ext", "osc_live")
    assert _osc_hooks(shell) == hooks  # installed once per shell, inert while unloaded
    assert _ours(shell) == [] and len(shell.configurables) == configurables - 2
    assert "OscMagics" not in shell.magics_manager.registry
    assert "osc" not in shell.magics_manager.magics["line"]
    assert not any(m.endswith("connect") for m in shell.complete("", "%osc con", 8)[1])
    shell.run_line_magic("load_ext", "osc_live")  # and completion works again once loaded
    try:
        assert "connect" in shell.complete("", "%osc con", 8)[1]
    finally:
        shell.run_line_magic("unload_ext", "osc_live")


def _socket_fds() -> int:
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            count += os.readlink(f"/proc/self/fd/{fd}").startswith("socket:")
    return count


def test_unload_closes_every_socket_task_and_thread(rx: Receiver) -> None:
    shell = start_ipython()
    before = _socket_fds()
    shell.run_line_magic("load_ext", "osc_live")
    osc(shell, "connect")
    osc(shell, f"connect out {rx.url}")
    osc(shell, "listen 0")
    osc(shell, "listen th 0 --thread")
    osc(shell, "send /x 1")
    osc(shell, "monitor")
    loop = live.session().loop
    assert any(t.name.startswith("osc_live") for t in threading.enumerate())
    shell.run_line_magic("unload_ext", "osc_live")
    assert not [t.name for t in threading.enumerate() if t.name.startswith("osc_live")]
    assert loop.is_closed()  # the private loop (no kernel here) is gone with its tasks
    assert _socket_fds() <= before


def test_close_all_closes_everything_but_keeps_the_extension(ip: Any) -> None:
    osc(ip, "connect")
    osc(ip, "listen 0")
    osc(ip, "close all")
    session = live.session()
    assert session.targets == {} and session.listeners == {} and session.synth is None
    assert not [t.name for t in threading.enumerate() if t.name.startswith("osc_live")]
    osc(ip, "connect")  # usable again
    assert osc(ip, "send /ping").address == "/ping"


# --- connect / send ------------------------------------------------------------------------------


def test_send_to_a_udp_receiver_returns_the_message(ip: Any, rx: Receiver) -> None:
    target = osc(ip, f"connect {rx.url}")
    assert target.url == rx.url
    msg = osc(ip, "send /x 1 2.5 'two words' True None [1, 2] b'\\x00\\x01'")
    assert isinstance(msg, OscMessage)
    assert msg.type_tags == "ifsTN[ii]b"
    address, args = rx.messages()[0]
    assert address == "/x"
    assert args[:5] == [1, 2.5, "two words", True, None]
    assert args[6] == b"\x00\x01"
    assert "/x" in repr(msg)


def test_explicit_type_tags(ip: Any, rx: Receiver) -> None:
    osc(ip, f"connect {rx.url}")
    msg = osc(ip, "send /t i:3 f:1 d:0.1 h:5 s:abc S:sym c:z T F N I b:00ff")
    assert msg.type_tags == "ifdhsScTFNIb"
    _address, args = rx.messages()[0]
    assert args[0] == 3 and args[1] == 1.0 and math.isclose(args[2], 0.1)
    assert args[3] == 5 and args[4] == "abc" and args[-1] == b"\x00\xff"


def test_interpolation_and_patterns_pass_untouched(ip: Any, rx: Receiver) -> None:
    osc(ip, f"connect {rx.url}")
    ip.user_ns.update(a=1, b=2, freq=440, values=[0.5, 0.25])
    result = ip.run_cell("%osc send /{a,b}/amp $freq {{freq * 2}} *$values")
    assert result.success, result.error_in_exec
    address, args = rx.messages()[0]
    assert address == "/{a,b}/amp"
    assert args == [440, 880, 0.5, 0.25]


def test_trailing_semicolon_hides_the_output(
    ip: Any, rx: Receiver, capsys: pytest.CaptureFixture[str]
) -> None:
    osc(ip, f"connect {rx.url}")
    shown = ip.run_cell("%osc send /shown 1", store_history=True)
    assert isinstance(shown.result, OscMessage)
    capsys.readouterr()
    for source in ("%osc send /x 1;", "%osc send /x 'a;' ;", "%osc /x 1;  # note", "%osc /x [1];"):
        result = ip.run_cell(source, store_history=True)
        assert result.success, result.error_in_exec
        assert result.result is None
    assert "Out[" not in capsys.readouterr().out
    assert [m[0] for m in rx.messages(5)] == ["/shown", "/x", "/x", "/x", "/x"]
    assert osc(ip, "send /y 1;") is None  # run_line_magic gets the ';' too
    assert rx.messages()[0] == ("/y", [1])
    assert osc(ip, "status;") is None and "default target" in capsys.readouterr().out
    # %%osc: a ';' ending the first line or the last message line
    result = ip.run_cell("%%osc --bundle;\n/a 1\n/b 2\n", store_history=True)
    assert result.success and result.result is None
    assert OscBundle(rx.packet()).num_contents == 2
    result = ip.run_cell("%%osc\n/c 1\n/d 'x;';  # last\n", store_history=True)
    assert result.success and result.result is None
    assert rx.messages(2) == [("/c", [1]), ("/d", ["x;"])]
    assert "Out[" not in capsys.readouterr().out


def test_interpolation_sees_the_locals_of_a_function(ip: Any, rx: Receiver) -> None:
    osc(ip, f"connect {rx.url}")
    ip.user_ns.update(i=99, gain=0.5)  # a global i, shadowed by the loop's i
    cell = (
        "def sweep(n):\n"
        "    for i in range(n):\n"
        "        %osc send /track/{{i}}/vol $i $gain;\n"
        "    for i in range(n):\n"
        '        get_ipython().run_line_magic("osc", "send /track/{{i}}/vol {{i}}")\n'
        "    %osc send /t/$i/done *{{[i, n]}}\n"
        "sweep(2)\n"
    )
    result = ip.run_cell(cell)
    assert result.success, result.error_in_exec
    assert rx.messages(5) == [
        ("/track/0/vol", [0, 0.5]),
        ("/track/1/vol", [1, 0.5]),
        ("/track/0/vol", [0]),
        ("/track/1/vol", [1]),
        ("/t/1/done", [1, 2]),
    ]
    result = ip.run_cell("%osc send /top $i")  # a cell's top level: the user namespace
    assert result.success and rx.messages()[0] == ("/top", [99])


def test_dollar_name_in_urls_and_words(ip: Any, rx: Receiver) -> None:
    ip.user_ns.update(port=rx.port, i=2)
    target = osc(ip, "connect out udp://127.0.0.1:$port")
    assert target.url == rx.url
    msg = osc(ip, "send @out /track/$i/vol take$i.wav /price$$usd")
    assert msg.address == "/track/2/vol" and list(msg.params) == ["take2.wav", "/price$usd"]
    assert rx.messages()[0] == ("/track/2/vol", ["take2.wav", "/price$usd"])
    with pytest.raises(UsageError, match=r"undefined variable '\$nope'.*\$\$"):
        osc(ip, "connect udp://127.0.0.1:$nope")


def test_close_all_and_unload_close_the_widget_bindings(
    ip: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import sys

    with monkeypatch.context() as patch:  # the magic never imports ipywidgets by itself
        patch.delitem(sys.modules, "osc_live.widgets", raising=False)
        osc(ip, "close all")
        assert "osc_live.widgets" not in sys.modules
    widgets = pytest.importorskip("osc_live.widgets")
    osc(ip, "connect")
    dispatcher = live.session().dispatcher
    first = widgets.slider("/fx/reverb", 0.0, 1.0)
    second = widgets.toggle("/fx/on")
    assert list(dispatcher.handlers_for_address("/fx/reverb"))
    capsys.readouterr()
    osc(ip, "close all")
    assert "closed all (and 2 widget bindings)" in capsys.readouterr().out
    assert first.osc.closed and second.osc.closed
    assert not [b for b in widgets.bindings() if b in (first.osc, second.osc)]
    assert not list(dispatcher.handlers_for_address("/fx/reverb"))
    osc(ip, "connect")
    third = widgets.slider("/fx/reverb", 0.0, 1.0)
    ip.run_line_magic("unload_ext", "osc_live")
    try:
        assert third.osc.closed and not widgets.bindings()
    finally:
        ip.run_line_magic("load_ext", "osc_live")  # the fixture unloads it


def test_named_targets_and_default(ip: Any, rx: Receiver) -> None:
    other = Receiver()
    try:
        osc(ip, f"connect one {rx.url}")
        osc(ip, f"connect two {other.url}")
        osc(ip, "send /to/default 1")
        osc(ip, "send @one /to/one 2")
        assert other.messages()[0][0] == "/to/default"
        assert rx.messages()[0] == ("/to/one", [2])
        ip.run_line_magic("config", "OscLive.default_target = 'one'")
        osc(ip, "send /again 3")
        assert rx.messages()[0] == ("/again", [3])
    finally:
        other.close()


def test_float_type_option(ip: Any, rx: Receiver) -> None:
    osc(ip, f"connect {rx.url}")
    ip.run_line_magic("config", "OscLive.float_type = 'd'")
    assert osc(ip, "send /d 0.1").type_tags == "d"
    assert rx.messages()[0] == ("/d", [0.1])


def test_traffic_rows_option_caps_the_monitor_table(ip: Any) -> None:
    from osc_live.notebook.traffic import DEFAULT_MAX_ROWS

    session = live.session()
    assert session.traffic.max_rows == DEFAULT_MAX_ROWS
    lis = osc(ip, "listen 0")
    osc(ip, f"connect me udp://127.0.0.1:{lis.port}")
    ip.run_line_magic("config", "OscLive.traffic_rows = 5")
    assert session.traffic.max_rows == 5
    for k in range(20):
        osc(ip, f"send /row/{k} {k};")
    assert wait_until(lambda: session.traffic.totals["received"] == 20)
    assert len(session.traffic) == 5 and session.traffic.totals["sent"] == 20


def test_cell_one_by_one_bundle_and_timetag(ip: Any, rx: Receiver) -> None:
    osc(ip, f"connect out {rx.url}")
    sent = ip.run_cell_magic("osc", "", "/a 1\n# comment\n\n/b 'x'  # trailing\n")
    assert [m.address for m in sent] == ["/a", "/b"]
    assert rx.messages(2) == [("/a", [1]), ("/b", ["x"])]

    bundle = ip.run_cell_magic("osc", "@out --bundle", "/c 1\n/d 2")
    assert isinstance(bundle, OscBundle) and bundle.timetag == 1
    assert OscBundle(rx.packet()).num_contents == 2

    before = time.time()
    bundle = ip.run_cell_magic("osc", "--at +0.25", "/s_new default 1001 0 1 freq 440")
    assert before + 0.2 < bundle.timestamp < time.time() + 0.3
    assert OscBundle(rx.packet()).timestamp == pytest.approx(bundle.timestamp, abs=1e-6)


def test_short_form_without_send(ip: Any, rx: Receiver) -> None:
    osc(ip, f"connect {rx.url}")
    osc(ip, "/short 1")
    assert rx.messages()[0] == ("/short", [1])


# --- virtual synth --------------------------------------------------------------------------


def test_virtual_synth_records_and_answers(ip: Any) -> None:
    seen: list[tuple[str, tuple[Any, ...]]] = []
    ip.user_ns["handler"] = lambda address, *args: seen.append((address, args))
    osc(ip, "on /pong handler")
    osc(ip, "on /n_set handler")
    target = osc(ip, "connect")
    assert target.name == "synth" and "virtual synth" in target.url
    osc(ip, "send /ping 7")
    osc(ip, "send /s_new default 1000 0 1 freq 440.0")
    osc(ip, "send /n_set 1000 amp 0.5")
    osc(ip, "send /s_get 1000 freq amp")
    assert wait_until(lambda: len(seen) == 2)
    assert seen[0] == ("/pong", (7,))
    assert seen[1] == ("/n_set", (1000, "freq", 440.0, "amp", 0.5))
    synth = live.session().synth
    assert synth.get("/ping") == (7,)
    assert synth.count == 4
    rows = {(r.direction, r.address) for r in live.session().traffic.snapshot()}
    assert {("sent", "/ping"), ("synth", "/ping"), ("received", "/pong")} <= rows


# --- listen / on ----------------------------------------------------------------------------


@pytest.mark.parametrize("flag", ["", "--thread"])
def test_listen_udp_and_on(ip: Any, flag: str) -> None:
    from osc_live.udp_client import SimpleUDPClient

    seen: list[tuple[str, tuple[Any, ...]]] = []
    ip.user_ns["handler"] = lambda address, *args: seen.append((address, args))
    listener = osc(ip, f"listen 0 {flag}")
    assert listener.threaded == bool(flag)
    osc(ip, "on /sensor/* handler")
    with SimpleUDPClient("127.0.0.1", listener.port) as client:
        client.send_message("/sensor/a", [1, 2.5])
        client.send_message("/other", 3)
    assert wait_until(lambda: live.session().traffic.totals["received"] == 2)
    assert seen == [("/sensor/a", (1, 2.5))]
    # the dispatcher is the user's to map
    assert live.session().dispatcher.map is not None


@pytest.mark.parametrize("scheme", ["udp", "tcp"])
def test_listening_again_on_the_same_port_replaces_the_listener(ip: Any, scheme: str) -> None:
    """A cell with ``%osc listen 9000`` run twice (Run All again, same kernel): the second run
    replaces the first listener instead of failing with "Address already in use"."""
    from osc_live.tcp_client import SimpleTCPClient
    from osc_live.udp_client import SimpleUDPClient

    kind = socket.SOCK_DGRAM if scheme == "udp" else socket.SOCK_STREAM
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"{scheme}://127.0.0.1:{port}"
    first = osc(ip, f"listen {url}")
    again = osc(ip, f"listen {url}")
    assert first.closed and not again.closed and again.port == port
    named = osc(ip, f"listen sensor {url}")  # another name, same port: replaced too
    renamed = osc(ip, f"listen sensor {url}")
    assert again.closed and named.closed and renamed.port == port
    assert list(live.session().listeners) == ["sensor"]
    seen: list[Any] = []
    ip.user_ns["handler"] = lambda address, *args: seen.append(args)
    osc(ip, "on /again handler")
    client = SimpleUDPClient if scheme == "udp" else SimpleTCPClient
    with client("127.0.0.1", port) as c:
        c.send_message("/again", 1)
        assert wait_until(lambda: seen == [(1,)])
    # a port held by another program is still an error, not a silent replacement
    with socket.socket(socket.AF_INET, kind) as other:
        other.bind(("127.0.0.1", 0))
        if kind == socket.SOCK_STREAM:
            other.listen()
        with pytest.raises(UsageError, match="cannot listen on"):
            osc(ip, f"listen {scheme}://127.0.0.1:{other.getsockname()[1]}")
    assert list(live.session().listeners) == ["sensor"]


def test_running_an_on_cell_again_replaces_its_handler(ip: Any) -> None:
    """A cell that defines a handler and maps it with ``%osc on``, run twice (Run All again):
    each message calls it once, not twice. Another function on the same pattern stays."""
    from osc_live.udp_client import SimpleUDPClient

    ip.user_ns["hits"] = hits = []
    ip.user_ns["others"] = others = []
    cell = "def on_button(address, *args):\n    hits.append(args)\n%osc on /button on_button\n"
    for _ in range(2):
        assert ip.run_cell(cell).success
    assert ip.run_cell("def count(address, *args):\n    others.append(args)\n").success
    osc(ip, "on /button count")
    listener = osc(ip, "listen 0")
    with SimpleUDPClient("127.0.0.1", listener.port) as client:
        client.send_message("/button", 1)
        assert wait_until(lambda: others == [(1,)])
    assert hits == [(1,)]
    assert len(live.session().mapped["/button"]) == 2


def test_handler_errors_are_kept_not_raised(ip: Any) -> None:
    def broken(address: str, *args: Any) -> None:
        raise ValueError("boom")

    ip.user_ns["handler"] = broken
    osc(ip, "on /pong handler")
    osc(ip, "connect")
    osc(ip, "send /ping")
    assert wait_until(lambda: live.session().handler_errors)
    assert "boom" in live.session().handler_errors[-1]
    assert "boom" in live.session().status()["handler_errors"][-1]


# --- monitor / plot ---------------------------------------------------------------------------


def test_monitor_and_plot(ip: Any, capsys: pytest.CaptureFixture[str]) -> None:
    osc(ip, "connect")
    assert osc(ip, "monitor") is None
    osc(ip, "plot /level")
    for value in (0.1, 0.5, 0.9):
        osc(ip, f"send /level {value}")
    session = live.session()
    monitor, plot = session.views
    assert wait_until(lambda: plot.count == 3)  # the synth received them
    table = monitor.table()
    assert ("sent", "/level") in {(r[0], r[1]) for r in table}
    assert "<table>" in monitor.frame()._repr_html_()
    assert "<svg" in plot.frame()._repr_html_()
    assert plot.series()[0] == pytest.approx([0.1, 0.5, 0.9], rel=1e-6)
    assert "OSC monitor" in capsys.readouterr().out


def test_refreshes_are_bounded_and_counts_exact(ip: Any) -> None:
    listener = osc(ip, "listen 0")
    osc(ip, "monitor")
    view = live.session().views[0]
    frames0 = view.frames
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    data = OscMessage.from_parts("/burst", [1]).dgram
    start = time.monotonic()
    try:
        for k in range(2000):
            sock.sendto(data, ("127.0.0.1", listener.port))
            if k % 200 == 199:
                time.sleep(0.02)
    finally:
        sock.close()
    assert wait_until(lambda: live.session().traffic.totals["received"] == 2000, 5)
    time.sleep(0.25)
    elapsed = time.monotonic() - start
    assert view.frames - frames0 <= 10 * elapsed + 2


# --- explain ----------------------------------------------------------------------------------


def test_explain_variants(ip: Any) -> None:
    text = str(osc(ip, "explain /fx/reverb 0.3"))
    assert "address pattern '/fx/reverb'" in text and "float32" in text and "padding" in text
    html = osc(ip, "explain /x 192")._repr_html_()
    assert "<table>" in html
    assert "size prefix" in str(osc(ip, "explain --tcp 1.0 /x 1"))
    slip = str(osc(ip, "explain --tcp 1.1 /x b:c0db"))
    assert "SLIP END" in slip and "SLIP escaped" in slip
    bundle = str(osc(ip, "explain --bundle /a 1"))
    assert "#bundle" in bundle and "immediately" in bundle and "element 0" in bundle
    assert "UTC" in str(osc(ip, "explain --at +1 /a 1"))


# --- status / close / help / completion -------------------------------------------------------


def test_status_close_help(ip: Any, rx: Receiver, capsys: pytest.CaptureFixture[str]) -> None:
    osc(ip, f"connect out {rx.url}")
    osc(ip, "listen inbox 0")
    osc(ip, "status")
    out = capsys.readouterr().out
    assert "out" in out and "inbox" in out and "counters" in out
    osc(ip, "close inbox")
    assert "inbox" not in live.session().listeners
    with pytest.raises(UsageError, match="nothing named 'nope'"):
        osc(ip, "close nope")
    osc(ip, "help")
    out = capsys.readouterr().out
    assert "%osc send [@target] /address" in out and "explain" in out
    osc(ip, "help send")
    assert "send one message" in capsys.readouterr().out
    doc = ip.magics_manager.magics["line"]["osc"].__doc__
    assert "%osc connect" in doc and "$name" in doc


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")
def test_tab_completion(ip: Any, rx: Receiver) -> None:
    osc(ip, f"connect mysynth {rx.url}")
    osc(ip, "send /fx/reverb 0.3")
    osc(ip, "listen inbox 0")

    def complete(line: str) -> list[str]:
        return list(ip.complete("", line, len(line))[1])

    assert "send" in complete("%osc sen")
    assert any(m.endswith("mysynth") for m in complete("%osc send @my"))
    assert any(m.endswith("reverb") for m in complete("%osc send /fx/re"))
    assert "--thread" in complete("%osc listen 9000 --th")
    assert "inbox" in complete("%osc close in")


# --- errors: one line ---------------------------------------------------------------------------

MALFORMED = [
    ("frobnicate", "frobnicate"),
    ("send", "/address"),
    ("send x 1", "'x'"),
    ("send /x [1, 2", "'[1, 2'"),
    ("send /x 'open", "unterminated"),
    ("send /x i:1.5", "'i:1.5'"),
    ("send /x f:abc", "'f:abc'"),
    ("send /x i:99999999999", "'i:99999999999'"),
    ("send /x c:ab", "'c:ab'"),
    ("send /x b:zz", "'b:zz'"),
    ("send /x $undefined_name", "'$undefined_name'"),
    ("send /x {{1/0}}", "ZeroDivisionError"),
    ("send /x {{", "'{{'"),
    ("send /x 1 + 2", "'+'"),
    ("send /x 99999999999999999999", "64-bit"),
    ("send @ /x", "'@'"),
    ("connect ftp://h:1", "'ftp://h:1'"),
    ("connect udp://h", "missing :port"),
    ("connect udp://127.0.0.1:70000", "port out of range"),
    ("connect udp://127.0.0.1:9 --mode 1.0", "--mode"),
    ("connect tcp://127.0.0.1:9 --mode 2.0", "'2.0'"),
    ("connect a b c", "'c'"),
    ("listen 0 --frobnicate", "'--frobnicate'"),
    ("listen 0 --mode", "--mode needs a value"),
    ("on /x", "function"),
    ("on /x not_defined_anywhere", "'not_defined_anywhere'"),
    ("on x print", "'x'"),
    ("plot", "/address"),
    ("plot /x --points 1", "--points"),
    ("monitor /a /b", "'/b'"),
    ("explain", "/address"),
    ("explain --tcp 3 /x", "'3'"),
    ("explain --at -1 /x", "'-1'"),
    ("status now", "'now'"),
    ("close a b", "'b'"),
    ("help nothing", "'nothing'"),
]


@pytest.mark.parametrize(("line", "named"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_line_is_one_line_usage_error(ip: Any, line: str, named: str) -> None:
    with pytest.raises(UsageError) as info:
        osc(ip, line)
    message = str(info.value)
    assert "\n" not in message
    assert named in message


def test_usage_error_in_a_cell_shows_one_line(ip: Any, capsys: pytest.CaptureFixture[str]) -> None:
    result = ip.run_cell("%osc send nope")
    assert isinstance(result.error_in_exec, UsageError)
    captured = capsys.readouterr()
    lines = [line for line in (captured.out + captured.err).splitlines() if line.strip()]
    assert lines == ["UsageError: bad address 'nope': must start with '/'"]


@pytest.mark.parametrize(
    ("lines", "named"),
    [
        ("/ok 1\n/bad i:x", "line 2"),
        ("# only a comment", "no message"),
        ("not-an-address", "line 1"),
    ],
)
def test_malformed_cell(ip: Any, lines: str, named: str) -> None:
    osc(ip, "connect")
    with pytest.raises(UsageError, match=named):
        ip.run_cell_magic("osc", "", lines)
    with pytest.raises(UsageError, match="'--later'"):
        ip.run_cell_magic("osc", "--later", "/x 1")


def test_no_target_and_network_errors_are_one_line(ip: Any) -> None:
    with pytest.raises(UsageError, match="no target") as info:
        osc(ip, "send /x 1")
    assert "\n" not in str(info.value)
    with pytest.raises(UsageError, match="cannot resolve") as info:
        osc(ip, "connect udp://no-such-host.invalid:9000")
    assert "\n" not in str(info.value)
    with pytest.raises(UsageError, match="no target named 'ghost'"):
        osc(ip, "send @ghost /x")
    blocker = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    blocker.bind(("127.0.0.1", 0))
    try:
        with pytest.raises(UsageError, match="cannot listen") as info:
            osc(ip, f"listen {blocker.getsockname()[1]}")
        assert "\n" not in str(info.value)
    finally:
        blocker.close()


# --- TCP --------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["1.0", "1.1"])
def test_tcp_target_to_the_virtual_synth_gets_replies(ip: Any, mode: str) -> None:
    seen: list[tuple[str, tuple[Any, ...]]] = []
    ip.user_ns["handler"] = lambda address, *args: seen.append((address, args))
    osc(ip, "on /pong handler")
    target = osc(ip, f"connect tcp://synth --mode {mode}")
    assert target.kind == "tcp" and f"OSC {mode}" in target.url
    osc(ip, "send /ping 1 'x'")
    assert wait_until(lambda: seen == [("/pong", (1, "x"))])
    assert live.session().synth.get("/ping") == (1, "x")


@pytest.mark.parametrize("flag", ["", "--thread"])
@pytest.mark.parametrize("mode", ["1.0", "1.1"])
def test_listen_tcp(ip: Any, flag: str, mode: str) -> None:
    seen: list[tuple[str, tuple[Any, ...]]] = []
    ip.user_ns["handler"] = lambda address, *args: seen.append((address, args))
    osc(ip, "on /in handler")
    listener = osc(ip, f"listen tcp://127.0.0.1:0 --mode auto {flag}")
    assert listener.kind == "tcp"
    osc(ip, f"connect tcp://127.0.0.1:{listener.port} --mode {mode}")
    osc(ip, "send /in 5 2.5")
    ip.run_cell_magic("osc", "--bundle", "/in 6\n/in 7")
    assert wait_until(lambda: len(seen) == 3)
    assert seen == [("/in", (5, 2.5)), ("/in", (6,)), ("/in", (7,))]


def test_tcp_connection_refused_is_one_line(ip: Any) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()  # nothing listens there now
    with pytest.raises(UsageError, match="cannot connect to tcp://") as info:
        osc(ip, f"connect tcp://127.0.0.1:{port}")
    assert "\n" not in str(info.value)


# --- reply ports, IPv6, closing the synth -----------------------------------------------------


def test_status_shows_the_loopback_reply_port(
    ip: Any, rx: Receiver, capsys: pytest.CaptureFixture[str]
) -> None:
    target = osc(ip, f"connect {rx.url}")
    osc(ip, "send /x 1")
    port = rx.sock.recvfrom(1024)[1][1]
    assert target.local_address == ("127.0.0.1", port)
    osc(ip, "status")
    assert f"udp from 127.0.0.1:{port}" in capsys.readouterr().out


def test_status_shows_a_tcp_targets_local_address(
    ip: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        server.settimeout(5)
        target = osc(ip, f"connect t tcp://127.0.0.1:{server.getsockname()[1]}")
        conn, peer = server.accept()
        with conn:
            assert target.local_address == peer  # the address the server sees
            osc(ip, "status")
            assert f"tcp from 127.0.0.1:{peer[1]}" in capsys.readouterr().out
        osc(ip, "close t")
        assert target.local_address is None


def _ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback")
def test_ipv6_targets_and_listener(ip: Any) -> None:
    seen: list[tuple[str, tuple[Any, ...]]] = []
    ip.user_ns["handler"] = lambda address, *args: seen.append((address, args))
    osc(ip, "on /in* handler")
    udp = osc(ip, "listen v6 udp://[::1]:0")
    tcp = osc(ip, "listen v6tcp tcp://[::1]:0 --thread")
    assert udp.url == f"udp://[::1]:{udp.port}"
    osc(ip, f"connect u6 udp://[::1]:{udp.port}")
    osc(ip, "send /in6 1")
    osc(ip, f"connect t6 tcp://[::1]:{tcp.port} --mode 1.0")
    osc(ip, "send /in6 2")
    ip.run_cell_magic("osc", "@u6 --bundle", "/in6 3\n/in6 4")
    assert wait_until(lambda: len(seen) == 4)
    assert sorted(seen) == [("/in6", (i,)) for i in range(1, 5)]
    assert live.session().target("u6").local_address[0] == "::1"
    assert live.session().target("t6").local_address[0] == "::1"


def test_close_synth_closes_its_targets(
    ip: Any, rx: Receiver, capsys: pytest.CaptureFixture[str]
) -> None:
    osc(ip, f"connect out {rx.url}")
    osc(ip, "connect")
    osc(ip, "connect fx")
    osc(ip, "connect fxt tcp://synth")
    capsys.readouterr()
    osc(ip, "close synth")
    assert capsys.readouterr().out.strip() == "closed synth (and its targets: fx, fxt)"
    with pytest.raises(UsageError, match="no target named 'fx'"):
        osc(ip, "send @fx /x 1")
    osc(ip, "send /y 2")  # the default falls back to the target left
    assert rx.messages()[0] == ("/y", [2])
    osc(ip, "close out")
    assert capsys.readouterr().out.strip() == "closed out"
