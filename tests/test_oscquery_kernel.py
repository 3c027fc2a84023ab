"""The kernel side of OSCQuery: serving the session's namespace, the virtual synth's, and a
panel of bound controls built from a remote namespace (two-way through LISTEN, no echo)."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import ipywidgets as W
import pytest
from websockets.sync.client import connect

from osc_live import live, widgets
from osc_live.osc_message import OscMessage
from osc_live.oscquery import client
from osc_live.oscquery.kernel import advertise, advertised
from osc_live.oscquery.namespace import Namespace
from osc_live.oscquery.panel import panels, remote_panel
from osc_live.oscquery.server import OscQueryServer
from osc_live.udp_client import SimpleUDPClient


def wait_until(predicate: Any, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return bool(predicate())


@pytest.fixture
def ses() -> Iterator[live.OscSession]:
    live.reset_session()
    yield live.session()
    widgets.close_all()
    live.reset_session()


def test_the_kernel_namespace_follows_handlers_and_controls(ses: live.OscSession):
    ses.on("/fx/hit", lambda address, *args: None)
    ses.on("/fx/*", lambda address, *args: None)  # a pattern is not a node
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    with sink, SimpleUDPClient("127.0.0.1", sink.getsockname()[1]) as out:
        slider = widgets.slider("/fx/reverb", 0.0, 1.0, value=0.3, target=out, description="verb")
        widgets.toggle("/fx/on", target=out)
        service = advertise("kernel test", zeroconf=False, session=ses)
        assert wait_until(lambda: "/fx/reverb" in service.namespace)
        root = client.query(service.url)
        reverb = root.find("/fx/reverb")
        assert (reverb.type, reverb.value, reverb.access) == ("f", [0.3], 3)
        assert (reverb.range[0].min, reverb.range[0].max, reverb.description) == (0.0, 1.0, "verb")
        assert root.find("/fx/on").type == "i" and root.find("/fx/hit").type is None
        assert root.find("/fx/*") is None and root.find("/fx/hit").is_method
        info = client.host_info(service.url)
        listener = ses.listeners["oscquery"]  # none was running: one was started
        assert (info.osc_port, info.osc_transport) == (listener.port, "UDP")

        url = service.url.replace("http://", "ws://")
        with connect(url, open_timeout=5) as ws:
            for path in ("/fx/reverb", "/fx/hit"):
                ws.send(json.dumps({"COMMAND": "LISTEN", "DATA": path}))
            assert wait_until(lambda: service.server.stats.listens == 2)
            slider.value = 0.75  # the control moves: LISTEN clients hear it
            message = OscMessage(ws.recv(timeout=5))
            assert message.address == "/fx/reverb" and abs(message.params[0] - 0.75) < 1e-6
            # a message arriving at the kernel's listener on a handled address
            with SimpleUDPClient("127.0.0.1", listener.port) as sender:
                sender.send_message("/fx/hit", [3, "x"])
            message = OscMessage(ws.recv(timeout=5))
            assert (message.address, message.params) == ("/fx/hit", [3, "x"])
            assert client.fetch(service.url, "/fx/hit", "TYPE") == {"TYPE": "is"}
        widgets.close_all()
        assert wait_until(lambda: "/fx/reverb" not in service.namespace)
        service.close()
    assert not service.server.running and advertised(ses) == {}
    assert "kernel test" not in ses.resources


def test_what_exists_when_a_query_arrives_is_served_without_polling(ses: live.OscSession):
    """A control made just before a query is in the reply (nothing waits for a refresh), and
    LISTEN clients hear controls and handlers come and go; idle, nothing runs."""
    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", 0))
    with sink, SimpleUDPClient("127.0.0.1", sink.getsockname()[1]) as out:
        service = advertise("fresh", zeroconf=False, session=ses)
        busy, blocking = threading.Event(), threading.Event()
        ses.runner.call_soon(lambda: (blocking.set(), busy.wait(10)))  # a cell that runs on
        assert blocking.wait(5)
        try:  # while the session loop is busy (Run All: the next cell's query comes at once)
            cutoff = widgets.slider("/filter/cutoff", 20.0, 2000.0, value=440.0, target=out)
            node = client.query(service.url).find("/filter/cutoff")
        finally:
            busy.set()
        assert node is not None and (node.type, node.value) == ("f", [440.0])
        assert (node.range[0].min, node.range[0].max) == (20.0, 2000.0)
        cutoff.max = 5000.0  # edited after it was served: the next query says so
        assert client.fetch(service.url, "/filter/cutoff", "RANGE") == {
            "RANGE": [{"MIN": 20.0, "MAX": 5000.0}]
        }
        mode = widgets.bind(
            W.Dropdown(options=["lp", "hp"], value="lp"), "/filter/mode", target=out
        )
        assert client.fetch(service.url, "/filter/mode", "RANGE") == {
            "RANGE": [{"VALS": ["lp", "hp"]}]
        }

        url = service.url.replace("http://", "ws://")
        with connect(url, open_timeout=5) as ws:
            ws.send(json.dumps({"COMMAND": "LISTEN", "DATA": "/filter/cutoff"}))
            assert wait_until(lambda: service.server.stats.listens == 1)
            cutoff.value = 880.0
            message = OscMessage(ws.recv(timeout=5))
            assert (message.address, message.params) == ("/filter/cutoff", [880.0])
            gain = widgets.slider("/amp/gain", 0.0, 1.0, target=out)
            assert json.loads(ws.recv(timeout=5)) == {"COMMAND": "PATH_ADDED", "DATA": "/amp"}
            assert json.loads(ws.recv(timeout=5)) == {"COMMAND": "PATH_ADDED", "DATA": "/amp/gain"}
            ws.send(json.dumps({"COMMAND": "LISTEN", "DATA": "/amp/gain"}))
            assert wait_until(lambda: service.server.stats.listens == 2)
            gain.value = 0.5  # followed as soon as it is LISTENed
            message = OscMessage(ws.recv(timeout=5))
            assert (message.address, message.params) == ("/amp/gain", [0.5])
            ses.on("/amp/hit", lambda address, *args: None)
            assert json.loads(ws.recv(timeout=5)) == {"COMMAND": "PATH_ADDED", "DATA": "/amp/hit"}
            gain.osc.close()
            assert json.loads(ws.recv(timeout=5)) == {
                "COMMAND": "PATH_REMOVED",
                "DATA": "/amp/gain",
            }
            mode.osc.close()
            assert json.loads(ws.recv(timeout=5)) == {
                "COMMAND": "PATH_REMOVED",
                "DATA": "/filter/mode",
            }
        assert "/amp/gain" not in service.namespace and "/amp/hit" in service.namespace
        idle = service.refreshes
        time.sleep(0.6)  # longer than the period of the former 0.5 s polling
        assert service.refreshes == idle
        box = remote_panel(service.url, session=ses)  # its controls mirror, they are not served
        assert sorted(box.remote.controls) == ["/amp/hit", "/filter/cutoff"]
        for _ in range(5):  # the panel's slider sits on its own grid (880 is not on it)
            assert client.fetch(service.url, "/filter/cutoff", "VALUE") == {"VALUE": [880.0]}
        box.remote.close()
        service.close()
    assert service._changed not in ses.map_hooks


def test_the_synth_namespace(ses: live.OscSession):
    service = advertise("synth test", synth=True, zeroconf=False, session=ses)
    root = client.query(service.url)
    assert root.find("/s_new").description.startswith("creates a node")
    assert root.find("/sync").type == "i"
    synth = ses.synth
    assert client.host_info(service.url).osc_port == synth.udp_address[1]
    target = ses.connect()  # the virtual synth
    target.send_message("/fx/delay", [0.25, 3])
    assert wait_until(lambda: "/fx/delay" in service.namespace)
    assert wait_until(
        lambda: client.fetch(service.url, "/fx/delay", "VALUE") == {"VALUE": [0.25, 3]}
    )
    service.close()
    assert synth.on_message is not None  # the session's own callback is back


@pytest.fixture
def device() -> Iterator[tuple[Namespace, OscQueryServer, socket.socket]]:
    """A remote OSCQuery device: a namespace, its server, and its UDP OSC receiver."""
    ns = Namespace()
    ns.add("/synth/cutoff", "f", value=800.0, range=(20.0, 20000.0), description="cutoff")
    ns.add("/synth/wave", "s", value="saw", range={"vals": ["sine", "saw", "square"]})
    ns.add("/synth/on", "T", value=False)
    ns.add("/synth/name", "s", access=1, value="dev")
    ns.add("/synth/reset")
    receiver = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    receiver.bind(("127.0.0.1", 0))
    receiver.settimeout(5)
    server = OscQueryServer(ns, name="device", osc_port=receiver.getsockname()[1]).start()
    try:
        yield ns, server, receiver
    finally:
        server.close()
        receiver.close()


def test_a_remote_panel_sends_and_follows_without_echo(ses, device):
    ns, server, receiver = device
    box = remote_panel(server.url, session=ses)
    holder = box.remote
    controls = holder.controls
    assert sorted(controls) == [
        "/synth/cutoff",
        "/synth/name",
        "/synth/on",
        "/synth/reset",
        "/synth/wave",
    ]
    cutoff = controls["/synth/cutoff"]
    assert (cutoff.min, cutoff.max) == (20.0, 20000.0)
    assert cutoff.value == pytest.approx(800.0, abs=cutoff.step)  # on the page's grid
    assert type(controls["/synth/wave"]).__name__ == "Dropdown"
    assert type(controls["/synth/on"]).__name__ == "ToggleButton"
    assert type(controls["/synth/reset"]).__name__ == "Button"
    assert controls["/synth/name"].disabled
    assert holder.follower is not None and holder.follower.wait_connected(5)
    assert wait_until(lambda: server.stats.listens == 4)  # LISTEN is processed asynchronously
    assert "device" in ses.targets  # named after HOST_INFO's NAME
    # the user moves the control: the remote's OSC port gets it
    cutoff.value = 1200.0
    message = OscMessage(receiver.recv(65536))
    assert message.address == "/synth/cutoff"
    assert message.params[0] == pytest.approx(cutoff.value, rel=1e-6)  # float32 on the wire
    controls["/synth/on"].value = True
    assert OscMessage(receiver.recv(65536)).params == [True]
    # the remote changes: LISTEN moves the control, and nothing is sent back
    ns.set_value("/synth/cutoff", [440.0])
    assert wait_until(lambda: abs(cutoff.value - 440.0) <= cutoff.step)
    receiver.settimeout(0.3)
    with pytest.raises(TimeoutError):
        receiver.recv(65536)
    holder.close()
    assert holder.follower is not None and not holder.follower.connected
    assert panels(ses) == []


def test_a_remote_panel_of_a_server_without_listen(ses):
    ns = Namespace()
    ns.add("/x", "i", value=5, range=(0, 10))
    with OscQueryServer(ns, name="plain") as server:
        box = remote_panel(server.url, "/x", listen=False, session=ses)
        assert box.remote.follower is None and box.remote.controls["/x"].value == 5
    with pytest.raises(client.OscQueryError, match="connection refused"):
        remote_panel(server.url, session=ses, timeout=1)


def test_the_listen_client_reconnects_and_listens_again(ses):
    from osc_live.dispatcher import Dispatcher
    from osc_live.oscquery.listen import ListenClient

    ns = Namespace()
    ns.add("/v", "i", value=0)
    got: list[Any] = []
    disp = Dispatcher()
    disp.map("/v", lambda address, *args: got.append(args[0]))
    server = OscQueryServer(ns).start()
    port = server.port
    follower = ListenClient(
        server.url.replace("http", "ws"),
        ["/v"],
        lambda data: disp.call_handlers_for_packet(data, None),
        loop=ses.loop,
    ).start()
    try:
        assert wait_until(lambda: server.stats.listens == 1)
        ns.set_value("/v", [1])
        assert wait_until(lambda: got == [1])
        server.close()  # the server goes away, and comes back on the same port
        assert wait_until(lambda: not follower.connected)
        server = OscQueryServer(ns, port=port).start()
        assert wait_until(lambda: server.stats.listens == 1, timeout=10)  # LISTEN again
        ns.set_value("/v", [2])
        assert wait_until(lambda: got == [1, 2])
        assert follower.connections == 2
    finally:
        follower.close()
        server.close()
