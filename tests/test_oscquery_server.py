"""The OSCQuery server: HTTP answers and errors as the proposal says, LISTEN over WebSocket,
hostile clients cut and counted while others are served, a clean stop."""

from __future__ import annotations

import json
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from osc_live.osc_message import OscMessage, encode_message
from osc_live.oscquery import client
from osc_live.oscquery.namespace import Namespace
from osc_live.oscquery.server import OscQueryServer, answer


@pytest.fixture
def ns() -> Namespace:
    ns = Namespace()
    ns.add("/fx/reverb", "f", value=[0.3], range=(0.0, 1.0), description="reverb")
    ns.add("/fx/clear")
    ns.add("/meter", "f", access=1, value=0.0)
    ns.add("/secret", "i", access=2)
    return ns


@pytest.fixture
def server(ns: Namespace) -> Iterator[OscQueryServer]:
    with OscQueryServer(ns, name="test", osc_port=9999, max_clients=3, max_listens=4) as srv:
        yield srv


def http(url: str) -> tuple[int, bytes, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as r:
            return r.status, r.read(), r.headers.get("Content-Type", "")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(), exc.headers.get("Content-Type", "")


def ws(server: OscQueryServer):
    return connect(server.url.replace("http://", "ws://"), open_timeout=5, close_timeout=2)


def test_http_answers(server: OscQueryServer):
    status, body, kind = http(server.url)
    assert status == 200 and kind == "application/json"
    assert json.loads(body)["CONTENTS"]["fx"]["CONTENTS"]["reverb"]["RANGE"] == [
        {"MIN": 0.0, "MAX": 1.0}
    ]
    assert json.loads(http(server.url + "fx/reverb?VALUE")[1]) == {"VALUE": [0.3]}
    assert json.loads(http(server.url + "fx/reverb/?TYPE")[1]) == {"TYPE": "f"}
    assert json.loads(http(server.url + "fx?TYPE")[1]) == {}
    info = json.loads(http(server.url + "fx/reverb?HOST_INFO")[1])
    assert info["OSC_PORT"] == 9999 and info["OSC_TRANSPORT"] == "UDP"
    assert info["EXTENSIONS"]["LISTEN"] is True and info["WS_PORT"] == server.port
    assert http(server.url + "nope")[0] == 404
    assert http(server.url + "fx?BOGUS")[0] == 400
    assert http(server.url + "fx?VALUE&TYPE")[0] == 400
    assert http(server.url + "secret?VALUE")[0] == 204  # write-only: VALUE not readable
    assert json.loads(http(server.url + "fx/clear?VALUE")[1]) == {}  # no value yet
    assert server.stats.http_errors == 3


def test_answer_is_sans_io(ns: Namespace):
    info = OscQueryServer(ns).host_info()
    assert answer(ns, info, "/fx/reverb?value") == (200, {"VALUE": [0.3]})
    assert answer(ns, info, "/fx%2Freverb")[0] == 200
    assert answer(ns, info, "/zz?HOST_INFO")[0] == 200
    assert answer(ns, info, "/zz")[0] == 404


def test_listen_ignore_and_path_events(server: OscQueryServer, ns: Namespace):
    with ws(server) as conn:
        conn.send(json.dumps({"COMMAND": "LISTEN", "DATA": "/fx/reverb"}))
        deadline = time.monotonic() + 5
        while server.stats.listens < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        ns.set_value("/meter", [0.9])  # not listened: not pushed
        ns.set_value("/fx/reverb", [0.5])
        message = OscMessage(conn.recv(timeout=5))
        assert message.address == "/fx/reverb" and message.params == [0.5]
        ns.add("/fx/new", "i", value=1)
        assert json.loads(conn.recv(timeout=5)) == {"COMMAND": "PATH_ADDED", "DATA": "/fx/new"}
        ns.remove("/fx/reverb")
        assert json.loads(conn.recv(timeout=5)) == {
            "COMMAND": "PATH_REMOVED",
            "DATA": "/fx/reverb",
        }
        conn.send(json.dumps({"COMMAND": "IGNORE", "DATA": "/fx/new"}))
        # a binary OSC frame from the client sets the node's value (the default on_osc)
        conn.send(encode_message("/fx/new", [7]))
        deadline = time.monotonic() + 5
        while ns.to_json("/fx/new", "VALUE") != {"VALUE": [7]} and time.monotonic() < deadline:
            time.sleep(0.01)
        assert ns.to_json("/fx/new", "VALUE") == {"VALUE": [7]}
        assert client.fetch(server.url, "/fx/new", "VALUE") == {"VALUE": [7]}


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("not json", 1007),
        (json.dumps(["LISTEN"]), 1007),
        (json.dumps({"COMMAND": "LISTEN", "DATA": 5}), 1007),
        (b"\x00garbage", 1007),
    ],
)
def test_hostile_clients_are_cut_and_counted_others_served(server, ns, frame, code):
    with ws(server) as good, ws(server) as bad:
        good.send(json.dumps({"COMMAND": "LISTEN", "DATA": "/fx/reverb"}))
        bad.send(frame)
        with pytest.raises(ConnectionClosed) as info:
            bad.recv(timeout=5)
        assert info.value.rcvd is not None and info.value.rcvd.code == code
        ns.set_value("/fx/reverb", [0.25])
        assert OscMessage(good.recv(timeout=5)).params == [0.25]
    assert server.stats.ws_cut == 1 and server.stats.bad_input == 1


def test_bounds_on_clients_and_listens(server: OscQueryServer):
    with ws(server), ws(server), ws(server):
        with pytest.raises(InvalidStatus) as info:
            ws(server)
        assert info.value.response.status_code == 503
    assert server.stats.ws_refused == 1
    with ws(server) as conn:
        for i in range(5):
            conn.send(json.dumps({"COMMAND": "LISTEN", "DATA": f"/p{i}"}))
        with pytest.raises(ConnectionClosed) as closed:
            conn.recv(timeout=5)
        assert closed.value.rcvd.code == 1008
    with ws(server) as conn:  # an unknown command is ignored, not fatal
        conn.send(json.dumps({"COMMAND": "PATH_RENAMED_PLEASE", "DATA": "/x"}))
        conn.send(json.dumps({"COMMAND": "LISTEN", "DATA": "/fx/reverb"}))
        conn.ping().wait(5)


def test_a_slow_client_is_cut(ns: Namespace):
    with OscQueryServer(ns, queue_size=8) as server, ws(server) as conn:
        conn.send(json.dumps({"COMMAND": "LISTEN", "DATA": "/fx/reverb"}))
        deadline = time.monotonic() + 5
        while server.stats.listens < 1 and time.monotonic() < deadline:
            time.sleep(0.01)
        # the client reads nothing while far more frames than the queue holds are pushed
        for i in range(20_000):
            ns.set_value("/fx/reverb", [i / 20_000])
        deadline = time.monotonic() + 10
        while server.stats.ws_cut < 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert server.stats.ws_cut == 1


def test_browser_origins_are_checked(server: OscQueryServer):
    url = server.url.replace("http://", "ws://")
    with connect(url, origin="http://localhost:8888", open_timeout=5):
        pass
    with pytest.raises(InvalidStatus) as info:
        connect(url, origin="https://evil.example", open_timeout=5)
    assert info.value.response.status_code == 403


def test_close_frees_the_port_and_thread(ns: Namespace):
    server = OscQueryServer(ns).start()
    port = server.port
    with ws(server) as conn:
        server.close()
        with pytest.raises(ConnectionClosed) as info:
            conn.recv(timeout=5)
        assert info.value.rcvd is not None and info.value.rcvd.code == 1001  # going away
    assert not server.running
    with OscQueryServer(ns, port=port) as again:  # the port is free again
        assert again.port == port
    server.close()  # idempotent
    with pytest.raises(OSError):
        OscQueryServer(ns, port=_busy_port()).start()


def _busy_port() -> int:
    global _BUSY
    _BUSY = socket.create_server(("127.0.0.1", 0))
    return int(_BUSY.getsockname()[1])


_BUSY: socket.socket | None = None


@pytest.fixture(autouse=True)
def _close_busy() -> Iterator[None]:
    yield
    global _BUSY
    if _BUSY is not None:
        _BUSY.close()
        _BUSY = None


def test_a_silent_or_slow_http_client_is_dropped_while_others_are_served(ns: Namespace):
    with OscQueryServer(ns, open_timeout=0.5) as server:
        slow = socket.create_connection(("127.0.0.1", server.port), timeout=5)
        with slow:
            slow.sendall(b"GET /fx HTTP/1.1\r\nHost: x\r\n")  # never finishes its request
            assert client.fetch(server.url, "/fx/reverb", "VALUE") == {"VALUE": [0.3]}
            start = time.monotonic()
            assert slow.recv(100) == b""  # dropped after open_timeout
            assert time.monotonic() - start < 3
