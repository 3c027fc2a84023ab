"""SuperCollider's scsynth driven by osc_live clients over UDP and TCP (OSC 1.0 framing).

One scsynth (on a private ``jackd -d dummy``) serves the whole session: see tests/peers/scsynth.py.
Every test uses its own node ids and frees its nodes, so tests do not depend on each other.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from typing import Any, Protocol

import pytest

from osc_live.dispatcher import Dispatcher
from osc_live.osc_bundle_builder import OscBundleBuilder
from osc_live.osc_message import OscMessage
from osc_live.osc_message_builder import OscMessageBuilder
from osc_live.udp_client import DispatchClient, SimpleUDPClient
from tests.peers.fixtures import scsynth  # noqa: F401
from tests.peers.running import Inbox
from tests.peers.scsynth import Scsynth
from tests.peers.synthdef import synthdef_bytes

pytestmark = pytest.mark.peers

_node_ids = itertools.count(5000)


class Client(Protocol):
    """What the tests need from a client: our UDP and TCP simple clients both have it."""

    def send_message(self, address: str, value: Any) -> None: ...
    def send(self, content: Any) -> None: ...
    def get_messages(self, timeout: float | None = None) -> Iterator[OscMessage]: ...


def request(
    client: Client, address: str, args: list[Any], expect: str, timeout: float = 5.0
) -> OscMessage:
    """Send one message; return the first reply at ``expect`` (other replies are skipped)."""
    client.send_message(address, args)
    return wait_reply(client, expect, timeout)


def wait_reply(client: Client, expect: str, timeout: float = 5.0) -> OscMessage:
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        for message in client.get_messages(0.1):
            if message.address == expect:
                return message
            seen.append(message.address)
    raise AssertionError(f"no {expect} reply within {timeout} s (got {seen})")


@pytest.fixture(params=["udp", "tcp"])
def client(request: pytest.FixtureRequest, scsynth: Scsynth) -> Iterator[Client]:  # noqa: F811
    """Our simple client on scsynth's UDP port, or on its TCP port with OSC 1.0 framing."""
    if request.param == "udp":
        with SimpleUDPClient(scsynth.host, scsynth.udp_port) as udp:
            yield udp
    else:
        from osc_live.tcp_client import SimpleTCPClient

        # scsynth speaks OSC 1.0 (size prefix) only: SLIP would reset the connection.
        with SimpleTCPClient(scsynth.host, scsynth.tcp_port, mode="1.0") as tcp:
            yield tcp


def test_status(client: Client) -> None:
    reply = request(client, "/status", [], "/status.reply")
    assert reply.type_tags == "iiiiiffdd"
    assert reply.params[0] == 1
    assert reply.params[7] == 48000.0  # nominal sample rate of our dummy JACK server


def test_status_with_dispatch_client(scsynth: Scsynth) -> None:  # noqa: F811
    dispatcher = Dispatcher()
    inbox = Inbox()
    dispatcher.map("/status.reply", inbox)
    try:
        with DispatchClient(scsynth.host, scsynth.udp_port, dispatcher=dispatcher) as client:
            client.send_message("/status", None)
            deadline = time.monotonic() + 5
            while not inbox.items and time.monotonic() < deadline:
                client.handle_messages(0.1)
    finally:
        dispatcher.close()
    assert inbox.items[0][0] == "/status.reply"
    assert inbox.items[0][1] == 1


def test_load_synthdef_and_drive_a_synth(client: Client, scsynth: Scsynth) -> None:  # noqa: F811
    node = next(_node_ids)
    done = request(client, "/d_recv", [synthdef_bytes("osclive_sine")], "/done")
    assert done.params == ["/d_recv"]
    client.send_message("/s_new", ["osclive_sine", node, 0, 0, "freq", 440.0, "amp", 0.0])
    try:
        freqs = [200.0 + 7.5 * i for i in range(100)]  # a slider moving: 100 /n_set
        for freq in freqs:
            client.send_message("/n_set", [node, "freq", freq])
        reply = request(client, "/s_get", [node, "freq", "amp"], "/n_set")
        assert reply.params == [node, "freq", freqs[-1], "amp", 0.0]
        # The running DSP graph saw it too: the synth mirrors freq on control bus 0.
        deadline = time.monotonic() + 5
        bus = None
        while bus != freqs[-1] and time.monotonic() < deadline:
            bus = request(client, "/c_get", [0], "/c_set").params[1]
        assert bus == freqs[-1]
    finally:
        client.send_message("/n_free", [node])
    assert request(client, "/sync", [node], "/synced").params == [node]


def test_timetagged_bundle_is_applied_at_its_time(client: Client) -> None:
    node = next(_node_ids)
    client.send_message("/s_new", ["osclive_sine", node, 0, 0, "freq", 300.0, "amp", 0.0])
    try:
        assert request(client, "/s_get", [node, "freq"], "/n_set").params == [node, "freq", 300.0]
        due = time.time() + 1.0
        later = OscMessageBuilder("/n_set")
        for arg in (node, "freq", 900.0):
            later.add_arg(arg)
        bundle = OscBundleBuilder(due)
        bundle.add_content(later.build())
        client.send(bundle.build())
        before = request(client, "/s_get", [node, "freq"], "/n_set").params
        asked_before_due = time.time() < due
        after = None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            after = request(client, "/s_get", [node, "freq"], "/n_set").params
            if after[2] == 900.0:
                break
            time.sleep(0.05)
        if asked_before_due:  # (always, unless this machine stalled for a whole second)
            assert before == [node, "freq", 300.0]
        assert after == [node, "freq", 900.0]
    finally:
        client.send_message("/n_free", [node])


def test_unknown_command_fails_politely(client: Client) -> None:
    reply = request(client, "/no_such_command", [], "/fail")
    assert reply.params[0] == "/no_such_command"


def test_scsynth_still_alive(scsynth: Scsynth) -> None:  # noqa: F811
    # The stdlib probe (independent of osc_live) still gets answers: nothing we sent broke it.
    assert scsynth.alive()
    assert scsynth.request("/status", expect="/status.reply") is not None


def test_status_with_async_udp_client(scsynth: Scsynth) -> None:  # noqa: F811
    import asyncio

    from osc_live.udp_client import AsyncUDPClient

    async def main() -> list[Any]:
        async with AsyncUDPClient(scsynth.host, scsynth.udp_port, timeout=5.0) as client:
            await client.send_message("/status", None)
            async for message in client.get_messages(2.0):
                if message.address == "/status.reply":
                    return message.params
        return []

    params = asyncio.run(main())
    assert params[0] == 1
    assert params[7] == 48000.0
