"""Interop with python-oscquery 0.4.0 (PyPI), and zeroconf discovery between processes.

* its HTTP server, read by our client;
* our server, read by its HTTP client (``OSCQueryClient``) and found by its browser listener;
* two processes on loopback: its service and ours, each found by the other side's browser.

Zeroconf registration takes about 1.5 s per process: the two peers start together and the
discovery checks share them (one module-scoped pair).
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pythonoscquery.osc_query_browser import OSCQueryBrowser, OSCQueryListener
from pythonoscquery.osc_query_client import OSCQueryClient
from pythonoscquery.osc_query_service import OSCQueryHTTPHandler, OSCQueryHTTPServer
from pythonoscquery.shared.osc_access import OSCAccess
from pythonoscquery.shared.osc_address_space import OSCAddressSpace
from pythonoscquery.shared.osc_host_info import OSCHostInfo
from pythonoscquery.shared.osc_path_node import OSCPathNode
from zeroconf import IPVersion, ServiceBrowser, ServiceInfo, Zeroconf

from osc_live.oscquery import client, mdns
from osc_live.oscquery.namespace import Namespace
from osc_live.oscquery.server import OscQueryServer
from tests.peers.process import PeerProcess

PEER = Path(__file__).parent / "peers" / "oscquery_peer.py"
ROOT = Path(__file__).parent.parent


@pytest.fixture
def osc_receiver() -> Iterator[socket.socket]:
    """Where python-oscquery's HOST_INFO says its OSC server is (a plain UDP socket here)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(5)
    with sock:
        yield sock


@pytest.fixture
def their_server(osc_receiver: socket.socket) -> Iterator[str]:
    space = OSCAddressSpace()
    space.add_node(OSCPathNode("/avatar/parameters/volume", OSCAccess.READWRITE_VALUE, 0.5, "vol"))
    space.add_node(OSCPathNode("/avatar/parameters/mute", OSCAccess.READONLY_VALUE, True, "mute"))
    space.add_node(OSCPathNode("/avatar/change", OSCAccess.WRITEONLY_VALUE, "id", "avatar id"))
    osc_port = osc_receiver.getsockname()[1]
    info = OSCHostInfo(
        "their server", {"ACCESS": True, "VALUE": True}, "127.0.0.1", osc_port, "UDP"
    )
    http = OSCQueryHTTPServer(space, info, ("127.0.0.1", 0), OSCQueryHTTPHandler)
    worker = threading.Thread(target=http.serve_forever, name="pyoscquery-http", daemon=True)
    worker.start()
    try:
        yield f"http://127.0.0.1:{http.server_address[1]}/"
    finally:
        http.shutdown()
        http.server_close()
        worker.join(5)


def test_our_client_reads_python_oscquery(their_server: str):
    remote = client.describe(their_server)
    assert remote.host_info.name == "their server"
    assert remote.osc_address[0::2] == ("127.0.0.1", "udp")
    assert not remote.host_info.listen  # python-oscquery has no LISTEN
    volume = remote.root.find("/avatar/parameters/volume")
    assert volume.type == "f" and volume.value == [0.5] and volume.access == 3
    assert remote.root.find("/avatar/parameters/mute").type == "T"
    assert client.query(their_server, "/avatar/change").description == "avatar id"
    assert client.fetch(their_server, "/avatar/parameters/volume", "VALUE") == {"VALUE": [0.5]}
    assert client.fetch(their_server, "/avatar/change", "VALUE") is None  # 204 (write-only)
    with pytest.raises(client.OscQueryError, match="404"):
        client.query(their_server, "/nope")


def test_our_panel_of_python_oscquery(their_server: str, osc_receiver: socket.socket):
    from osc_live import live, widgets
    from osc_live.osc_message import OscMessage
    from osc_live.oscquery.panel import remote_panel

    live.reset_session()
    try:
        box = remote_panel(their_server, "/avatar", session=live.session())
        controls = box.remote.controls
        assert box.remote.follower is None  # python-oscquery has no LISTEN
        volume = controls["/avatar/parameters/volume"]
        assert type(volume).__name__ == "FloatText" and volume.value == 0.5  # no RANGE
        assert controls["/avatar/parameters/mute"].disabled  # READONLY_VALUE
        volume.value = 0.75
        message = OscMessage(osc_receiver.recv(65536))
        assert (message.address, message.params) == ("/avatar/parameters/volume", [0.75])
        controls["/avatar/change"].value = "avtr_1"
        message = OscMessage(osc_receiver.recv(65536))
        assert (message.address, message.params) == ("/avatar/change", ["avtr_1"])
    finally:
        widgets.close_all()
        live.reset_session()


def _service_info(port: int) -> ServiceInfo:
    return ServiceInfo(
        mdns.OSCJSON,
        f"ours.{mdns.OSCJSON}",
        port=port,
        addresses=[socket.inet_aton("127.0.0.1")],
    )


def test_python_oscquery_client_reads_our_server():
    ns = Namespace()
    ns.add("/synth/freq", "f", value=440.0, range=(20.0, 2000.0), description="frequency")
    ns.add("/synth/gate", "T", value=True)
    ns.add("/synth/name", "s", access=1, value="sine")
    with OscQueryServer(ns, name="osc_live test", osc_port=57120) as server:
        theirs = OSCQueryClient(_service_info(server.port))
        info = theirs.get_host_info()
        assert (info.name, info.osc_port, info.osc_transport) == ("osc_live test", 57120, "UDP")
        root = theirs.query_node("/")
        freq = root.find_subnode("/synth/freq")
        assert freq.value == [440.0] and freq.description == "frequency"
        assert freq.access == OSCAccess.READWRITE_VALUE
        assert root.find_subnode("/synth/name").access == OSCAccess.READONLY_VALUE
        assert theirs.query_node("/synth/gate").value == [True]
        assert theirs.query_node("/nothing") is None  # our 404


@pytest.fixture(scope="module")
def peers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, tuple[str, int]]]:
    """Both peers, started together (their zeroconf registrations overlap)."""
    tmp = tmp_path_factory.mktemp("oscquery-peers")
    env = {"PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    started = {
        kind: PeerProcess(
            kind,
            [sys.executable, str(PEER), kind, f"interop {kind} {os.getpid()}"],
            tmp / f"{kind}.log",
            stdout=tmp / f"{kind}.out",
            env=env,
            lifetime=120,
        )
        for kind in ("ours", "pyoscquery")
    }
    ready: dict[str, tuple[str, int]] = {}
    try:
        deadline = time.monotonic() + 30
        while len(ready) < len(started) and time.monotonic() < deadline:
            for kind, peer in started.items():
                text = peer.stdout_path.read_text() if peer.stdout_path.exists() else ""
                for line in text.splitlines():
                    if line.startswith("ready "):
                        _, url, port = line.split()
                        ready[kind] = (url, int(port))
                if not peer.alive() and kind not in ready:
                    pytest.fail(f"{kind} peer died:\n{peer.log_tail()}")
            time.sleep(0.05)
        assert len(ready) == 2, {k: p.log_tail() for k, p in started.items()}
        yield ready
    finally:
        for peer in started.values():
            peer.stop()


@pytest.mark.allow_thread_leak  # the module-scoped peers fixture is process based: no threads
def test_our_browser_finds_python_oscquery_and_ours(peers):
    found = mdns.browse(timeout=1.0)
    by = {(s.name, s.type): s for s in found}
    theirs_name = f"interop pyoscquery {os.getpid()}"
    ours_name = f"interop ours {os.getpid()}"
    their_http = by[(theirs_name, mdns.OSCJSON)]
    assert their_http.url == peers["pyoscquery"][0]
    assert by[(theirs_name, mdns.OSC_UDP)].port == 9001
    assert by[(ours_name, mdns.OSCJSON)].url == peers["ours"][0]
    assert by[(ours_name, mdns.OSC_UDP)].url == "udp://127.0.0.1:57120"
    # and what was found can be read
    assert client.query(their_http.url).find("/avatar/volume").value == [0.5]


def test_python_oscquery_browser_finds_ours(peers):
    # its OSCQueryBrowser, with a loopback-only Zeroconf (its default is every interface)
    zc = Zeroconf(
        interfaces=["127.0.0.1"], ip_version=IPVersion.V4Only, unicast=True, use_asyncio=False
    )
    browser = OSCQueryBrowser.__new__(OSCQueryBrowser)
    browser.listener = OSCQueryListener()
    browser.zc = zc
    browser.browser = ServiceBrowser(zc, [mdns.OSCJSON, mdns.OSC_UDP], browser.listener)
    try:
        name = f"interop ours {os.getpid()}"
        deadline = time.monotonic() + 10
        service = None
        while service is None and time.monotonic() < deadline:
            time.sleep(0.2)
            with_info = [s for s in browser.get_discovered_oscquery() if s is not None]
            if any(s.name.startswith(name) for s in with_info):
                service = browser.find_service_by_name(name)
        assert service is not None and service.port == int(peers["ours"][0].rsplit(":", 1)[1][:-1])
        hits = browser.find_nodes_by_endpoint_address("/synth/freq")
        (_svc, info, node) = next(h for h in hits if h[0].name.startswith(name))
        assert info.osc_port == 57120 and node.value == [440.0]
    finally:
        browser.browser.cancel()
        zc.close()
