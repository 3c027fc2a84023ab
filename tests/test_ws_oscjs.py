"""Interop with osc.js (npm ``osc`` 2.4.5, ``WebSocketPort``): client and server, every argument
type osc.js supports, both directions, and through the bridge to a UDP synth (scsynth)."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from osc_live.bridge import OscBridge
from osc_live.dispatcher import Dispatcher
from osc_live.osc_server import ThreadingOSCUDPServer
from osc_live.osc_ws_server import AsyncOSCWSServer
from osc_live.parsing.osc_types import (
    INFINITUM,
    RGBA,
    Char,
    Double,
    Int64,
    MidiPacket,
    Symbol,
    TimeTag,
)
from osc_live.ws_client import WSClient
from tests.js_peers import OscJsServer, run_client
from tests.peers.fixtures import scsynth  # noqa: F401
from tests.peers.scsynth import Scsynth

pytestmark = [pytest.mark.peers, pytest.mark.timeout(60)]

# What osc.js's ALL_TYPES (tests/js/oscjs_peer.js) is once parsed by osc_live.
FROM_OSCJS = [
    -42,
    1 << 40,
    0.5,
    0.1,
    "h\u00e9llo",
    Symbol("sym"),
    b"\x00\x01\xff",
    TimeTag.from_ntp((3 << 32) | 5),
    True,
    False,
    None,
    INFINITUM,
    Char("A"),
    RGBA(0xFF0080FF),
    MidiPacket(0, 0x90, 60, 127),
    [1, "in array"],
]
FROM_OSCJS_TAGS = "ihfdsSbtTFNIcrm[is]"

# What we send to osc.js: every type it reads (no nested array: osc.js cannot read those).
TO_OSCJS = [
    7,
    Int64(-(1 << 40)),
    0.25,
    Double(2.5e-300),
    "\u00fcnicode \u266b",
    Symbol("sym"),
    b"\x10\x20",
    TimeTag.from_ntp((0x83AA7E80 << 32) | 0x80000000),
    True,
    False,
    None,
    INFINITUM,
    Char("z"),
    RGBA(0x01020304),
    MidiPacket(1, 0xB0, 7, 100),
    [3, "x"],
]


def _typed(packet: dict[str, Any]) -> list[tuple[str, Any]]:
    """osc.js metadata args as (type, value), arrays flattened with their brackets."""
    out: list[tuple[str, Any]] = []
    for arg in packet["args"]:
        if isinstance(arg, list):
            out.append(("[", None))
            out.extend((a["type"], a["value"]) for a in arg)
            out.append(("]", None))
        else:
            out.append((arg["type"], arg.get("value")))
    return out


def _check_oscjs_saw_to_oscjs(packet: dict[str, Any]) -> None:
    """What osc.js parsed from TO_OSCJS, value by value."""
    typed = _typed(packet)
    assert [t for t, _ in typed] == list("ihfdsSbtTFNIcrm[is]")
    values = dict(enumerate(v for _, v in typed))
    assert values[0] == 7
    assert values[1] == str(-(1 << 40))  # osc.js Long, printed as a decimal string
    assert values[2] == 0.25 and values[3] == 2.5e-300
    assert values[4] == "\u00fcnicode \u266b" and values[5] == "sym"
    assert values[6] == [0x10, 0x20]
    assert values[7]["raw"] == [0x83AA7E80, 0x80000000]
    assert values[8] is True and values[9] is False and values[10] is None
    assert values[12] == "z"
    assert values[13]["r"] == 1 and values[13]["g"] == 2 and values[13]["b"] == 3
    assert abs(values[13]["a"] - 4 / 255) < 1e-6
    assert values[14] == [1, 0xB0, 7, 100]
    assert values[16] == 3 and values[17] == "x"


def test_oscjs_client_and_our_server_every_type_both_ways() -> None:
    got: list[tuple[str, list[Any]]] = []
    d = Dispatcher()
    d.map("/oscjs/*", lambda address, *args: got.append((address, list(args))))
    d.map("/oscjs/types", lambda address, *args: ("/py/types", *TO_OSCJS))

    async def main() -> list[Any]:
        async with AsyncOSCWSServer("127.0.0.1", 0, d) as server:
            return await run_client(server.url, expect=1)

    (reply,) = asyncio.run(main())
    assert got[0] == ("/oscjs/types", FROM_OSCJS)
    assert got[1:] == [
        ("/oscjs/b1", [1]),
        ("/oscjs/b2", ["two"]),
        ("/oscjs/nested", [[1, ["deep"]]]),
    ]
    assert reply["address"] == "/py/types"
    _check_oscjs_saw_to_oscjs(reply)


@pytest.fixture
def oscjs_server() -> Iterator[OscJsServer]:
    server = OscJsServer()
    yield server
    server.close()


def test_our_client_and_oscjs_server_every_type_both_ways(oscjs_server: OscJsServer) -> None:
    with WSClient(oscjs_server.url, timeout=10) as client:
        first = next(client.get_messages(5))  # osc.js greets every connection with ALL_TYPES
        assert first.address == "/oscjs/types" and first.params == FROM_OSCJS
        assert first.dgram[len("/oscjs/types") + 4 :].startswith(b"," + FROM_OSCJS_TAGS.encode())
        client.send_message("/py/types", TO_OSCJS)
        (seen,) = oscjs_server.received(1)
        _check_oscjs_saw_to_oscjs(seen)
        echo = next(client.get_messages(5))  # osc.js re-encodes what it read and sends it back
    assert echo.address == "/py/types"
    assert echo.params == TO_OSCJS


@pytest.fixture
def udp_synth() -> Iterator[tuple[int, list[Any]]]:
    """Our own UDP server as a synth: records messages, answers /who with /you (all args)."""
    got: list[Any] = []
    d = Dispatcher()
    d.map("/*", lambda address, *args: got.append((address, args)))
    d.map("/oscjs/types", lambda address, *args: ("/synth/types", *args))
    server = ThreadingOSCUDPServer(("127.0.0.1", 0), d)
    thread = threading.Thread(target=server.serve_forever, name="udp-synth")
    thread.start()
    yield server.server_address[1], got  # type: ignore[misc]
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_oscjs_through_the_bridge_to_a_udp_synth(udp_synth: tuple[int, list[Any]]) -> None:
    """Every type survives the bridge both ways; the synth's reply reaches the osc.js client."""
    port, got = udp_synth

    async def main() -> tuple[list[Any], dict[str, int]]:
        async with OscBridge("ws://127.0.0.1:0", f"udp://127.0.0.1:{port}") as bridge:
            lines = await run_client(bridge.url, expect=1)
            return lines, bridge.stats.as_dict()

    (reply,), stats = asyncio.run(main())
    assert ("/oscjs/types", tuple(FROM_OSCJS)) in got
    assert ("/oscjs/nested", ([1, ["deep"]],)) in got
    assert reply["address"] == "/synth/types"
    assert [t for t, _ in _typed(reply)] == list(FROM_OSCJS_TAGS)
    assert stats["to_target"] == 3 and stats["from_target"] == 1


def test_oscjs_through_the_bridge_to_scsynth(scsynth: Scsynth) -> None:  # noqa: F811
    """A browser-style client drives scsynth over UDP: /status and /sync answered to it."""
    packets = [
        {"address": "/status"},
        {"address": "/sync", "args": [{"type": "i", "value": 4242}]},
    ]

    async def main() -> list[Any]:
        async with OscBridge("ws://127.0.0.1:0", f"udp://127.0.0.1:{scsynth.udp_port}") as bridge:
            return await run_client(bridge.url, expect=2, send=json.dumps(packets))

    replies = asyncio.run(main())
    by_address = {r["address"]: r for r in replies}
    assert set(by_address) == {"/status.reply", "/synced"}
    assert by_address["/synced"]["args"] == [{"type": "i", "value": 4242}]
    assert len(by_address["/status.reply"]["args"]) >= 9


def test_oscjs_through_the_bridge_to_scsynth_tcp(scsynth: Scsynth) -> None:  # noqa: F811
    packets = [{"address": "/sync", "args": [{"type": "i", "value": 7}]}]

    async def main() -> list[Any]:
        async with OscBridge(
            "ws://127.0.0.1:0", f"tcp://127.0.0.1:{scsynth.tcp_port}", mode="1.0"
        ) as bridge:
            return await run_client(bridge.url, expect=1, send=json.dumps(packets))

    assert asyncio.run(main()) == [{"address": "/synced", "args": [{"type": "i", "value": 7}]}]


def test_no_socket_leaks_after_oscjs_runs() -> None:
    """The bridge closes each client's UDP socket when the client leaves."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sink:
        sink.bind(("127.0.0.1", 0))

        async def main() -> int:
            async with OscBridge(
                "ws://127.0.0.1:0", f"udp://127.0.0.1:{sink.getsockname()[1]}"
            ) as bridge:
                await run_client(bridge.url, expect=0, send="[]")
                await asyncio.sleep(0.2)
                return len(bridge._links)

        assert asyncio.run(main()) == 0
