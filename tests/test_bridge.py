"""The WebSocket <-> UDP/TCP bridge: routing of replies per client, broadcast, limits, bad peers.

Through the bridge to scsynth and from osc.js: tests/test_ws_oscjs.py."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from osc_live.bridge import OscBridge, is_loopback
from osc_live.dispatcher import Dispatcher
from osc_live.osc_message import OscMessage, encode_message
from osc_live.osc_tcp_server import AsyncOSCTCPServer
from osc_live.ws_client import AsyncWSClient

pytestmark = pytest.mark.timeout(30)


class UdpSynth:
    """A UDP peer answering ``/who X`` with ``/you X`` to the sender (as scsynth answers)."""

    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.05)
        self.port = self.sock.getsockname()[1]
        self.received: list[tuple[str, list[Any]]] = []
        self.senders: set[Any] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="udp-synth")
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data, addr = self.sock.recvfrom(65536)
            except TimeoutError:
                continue
            message = OscMessage(data)
            self.received.append((message.address, message.params))
            self.senders.add(addr)
            if message.address == "/who":
                self.sock.sendto(encode_message("/you", message.params), addr)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()


@pytest.fixture
def synth() -> Iterator[UdpSynth]:
    s = UdpSynth()
    yield s
    s.close()


async def _ask(client: AsyncWSClient, name: str, expect: int = 1) -> list[Any]:
    await client.send_message("/who", name)
    got = []
    async for message in client.get_messages(0.5):
        got.append(message.params[0])
        if len(got) >= expect:
            break
    return got


def test_each_client_gets_its_own_replies(synth: UdpSynth) -> None:
    seen: list[tuple[str, str]] = []

    async def main() -> tuple[list[Any], list[Any], dict[str, int]]:
        async with OscBridge(
            "ws://127.0.0.1:0", f"udp://127.0.0.1:{synth.port}",
            on_packet=lambda d, peer, data: seen.append((d, OscMessage(data).address)),
        ) as bridge:  # fmt: skip
            async with AsyncWSClient(bridge.url) as a, AsyncWSClient(bridge.url) as b:
                got_a = await _ask(a, "A")
                got_b = await _ask(b, "B")
                got_a += await _ask(a, "A2")
            return got_a, got_b, bridge.stats.as_dict()

    got_a, got_b, stats = asyncio.run(main())
    assert got_a == ["A", "A2"] and got_b == ["B"]
    assert len(synth.senders) == 2  # one UDP socket per client
    assert stats["to_target"] == 3 and stats["from_target"] == 3 and stats["replies"] == 3
    assert ("in", "/who") in seen and ("out", "/you") in seen


def test_broadcast_sends_replies_to_everyone(synth: UdpSynth) -> None:
    async def main() -> tuple[list[Any], list[Any]]:
        async with OscBridge(
            "ws://127.0.0.1:0", f"udp://127.0.0.1:{synth.port}", broadcast=True
        ) as bridge:
            async with AsyncWSClient(bridge.url) as a, AsyncWSClient(bridge.url) as b:
                await a.send_message("/ping")  # opens a's link first
                await asyncio.sleep(0.05)
                await a.send_message("/who", "A")
                got_a = [m.params[0] async for m in a.get_messages(0.5)]
                got_b = [m.params[0] async for m in b.get_messages(0.5)]
            return got_a, got_b

    assert asyncio.run(main()) == (["A"], ["A"])


def test_tcp_target_both_framings() -> None:
    d = Dispatcher()
    d.map("/who", lambda address, *args: ("/you", *args))

    async def main(mode: str) -> list[Any]:
        async with (
            AsyncOSCTCPServer("127.0.0.1", 0, d, mode=mode) as tcp,
            OscBridge("ws://127.0.0.1:0", f"tcp://127.0.0.1:{tcp.port}", mode=mode) as bridge,
            AsyncWSClient(bridge.url) as client,
        ):
            return await _ask(client, f"T{mode}")

    assert asyncio.run(main("1.0")) == ["T1.0"]
    assert asyncio.run(main("1.1")) == ["T1.1"]


def test_unreachable_tcp_target_is_counted() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    async def main() -> dict[str, int]:
        async with OscBridge("ws://127.0.0.1:0", f"tcp://127.0.0.1:{port}") as bridge:
            async with AsyncWSClient(bridge.url) as client:
                await client.send_message("/x", 1)
                await client.send_message("/x", 2)
                await asyncio.sleep(0.2)
            return bridge.stats.as_dict()

    stats = asyncio.run(main())
    assert stats["target_errors"] == 2 and stats["to_target"] == 0


def test_garbage_and_text_never_reach_the_synth(synth: UdpSynth) -> None:
    async def main() -> tuple[int, int, list[Any], dict[str, int]]:
        async with OscBridge("ws://127.0.0.1:0", f"udp://127.0.0.1:{synth.port}") as bridge:
            codes = []
            for bad in ("text!", b"\x01\x02\x03\x04garbage", b"/bad\x00\x00\x00\x00,i\x00\x00"):
                async with connect(bridge.url, proxy=None) as peer:
                    await peer.send(bad)
                    if isinstance(bad, bytes) and bad.startswith(b"/"):
                        await asyncio.sleep(0.1)  # malformed OSC: dropped, connection kept
                        codes.append(0)
                        continue
                    with pytest.raises(ConnectionClosed) as closed:
                        await peer.recv()
                    assert closed.value.rcvd is not None
                    codes.append(closed.value.rcvd.code)
            async with AsyncWSClient(bridge.url) as good:
                got = await _ask(good, "ok")
            return codes[0], codes[1], got, bridge.stats.as_dict()

    text_code, garbage_code, got, stats = asyncio.run(main())
    assert text_code == 1003 and garbage_code == 1003 and got == ["ok"]
    assert stats["text_frames"] == 1 and stats["malformed"] == 2
    assert synth.received == [("/who", ["ok"])]


def test_loopback_by_default_lan_opt_in_and_origins(synth: UdpSynth) -> None:
    with pytest.raises(ValueError, match="lan=True"):
        OscBridge("ws://0.0.0.0:8080", "udp://127.0.0.1:57120")
    with pytest.raises(ValueError, match=r"scheme .http. is not udp or tcp or ws"):
        OscBridge("ws://127.0.0.1:0", "http://127.0.0.1:57120")
    assert OscBridge("ws://:0", "udp://127.0.0.1:1")._server.server_address[0] == "127.0.0.1"
    assert is_loopback("::1") and is_loopback("localhost") and not is_loopback("10.0.0.1")

    async def main() -> tuple[int, list[Any]]:
        async with OscBridge(
            "ws://127.0.0.1:0", f"udp://127.0.0.1:{synth.port}", origins=["http://127.0.0.1:1"]
        ) as bridge:
            with pytest.raises(InvalidStatus) as refused:
                async with connect(bridge.url, proxy=None, origin="http://evil.example"):
                    pass
            async with AsyncWSClient(bridge.url, origin="http://127.0.0.1:1") as ok:
                return refused.value.response.status_code, await _ask(ok, "o")

    assert asyncio.run(main()) == (403, ["o"])


def test_lan_is_needed_for_other_interfaces() -> None:
    """Checked when the bridge is made (no socket is bound here: tests stay on loopback)."""
    assert OscBridge("ws://:0", "udp://127.0.0.1:1", lan=True)._server.server_address[0] == ""
    assert OscBridge("ws://192.0.2.1:0", "udp://127.0.0.1:1", lan=True).lan
    with pytest.raises(ValueError, match="opens the synth to the network"):
        OscBridge("ws://192.0.2.1:0", "udp://127.0.0.1:1")


def test_a_restarted_tcp_target_is_reached_again() -> None:
    """The target closes the client's TCP link (a synth restarted): the next packet reopens it."""
    d = Dispatcher()
    d.map("/who", lambda address, *args: ("/you", *args))

    async def main() -> tuple[list[Any], list[Any], dict[str, int]]:
        tcp = AsyncOSCTCPServer("127.0.0.1", 0, d, mode="1.1")
        await tcp.listen()
        port = tcp.port
        async with OscBridge("ws://127.0.0.1:0", f"tcp://127.0.0.1:{port}") as bridge:
            async with AsyncWSClient(bridge.url) as client:
                first = await _ask(client, "before")
                await tcp.stop()
                tcp = AsyncOSCTCPServer("127.0.0.1", port, d, mode="1.1")
                await tcp.listen()
                await asyncio.sleep(0.1)  # the link's reader sees the old connection end
                second = await _ask(client, "after")
            await tcp.stop()
            return first, second, bridge.stats.as_dict()

    first, second, stats = asyncio.run(main())
    assert first == ["before"] and second == ["after"]
    assert stats["to_target"] == 2
