"""python-osc 1.10.2 both ways over TCP: its clients -> our servers, our clients -> its servers."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from osc_live import tcp_client
from osc_live.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from osc_live.osc_message_builder import OscMessageBuilder
from tests.tcp_support import RunningServer, pythonosc_server, wait_until

pytest.importorskip("pythonosc")

from pythonosc import tcp_client as po_client

pytestmark = pytest.mark.timeout(60)

ARGS: list[Any] = [1, 2.5, "text", b"\x00\x01blob", True, None, 1 << 40]


def _expected(args: list[Any]) -> list[Any]:
    return [pytest.approx(a) if isinstance(a, float) else a for a in args]


@pytest.mark.parametrize("kind", ["blocking", "threading", "asyncio"])
@pytest.mark.parametrize(
    ("client_mode", "server_mode"),
    [("1.0", "1.0"), ("1.1", "1.1"), ("1.0", "auto"), ("1.1", "auto")],
)
def test_pythonosc_client_to_our_server(kind: str, client_mode: str, server_mode: str) -> None:
    with RunningServer(kind, mode=server_mode) as srv:
        client = po_client.SimpleTCPClient("127.0.0.1", srv.port, mode=client_mode)
        try:
            client.send_message("/po/args", ARGS)
            client.send_message("/po/one", 7)
            got = []
            for msg in client.get_messages(timeout=1):
                got.append((msg.address, msg.params))
                if len(got) == 2:
                    break
        finally:
            client.close()
        assert srv.wait_for(2) == [("/po/args", _expected(ARGS)), ("/po/one", [7])]
    assert got == [("/echo/po/args", _expected(ARGS)), ("/echo/po/one", [7])]


@pytest.mark.parametrize("server_mode", ["1.1", "auto"])
def test_pythonosc_async_client_to_our_asyncio_server(server_mode: str) -> None:
    with RunningServer("asyncio", mode=server_mode) as srv:

        async def main() -> list[Any]:
            async with po_client.AsyncSimpleTCPClient("127.0.0.1", srv.port) as client:
                await client.send_message("/po/async", [1, "two"])
                return [(m.address, m.params) async for m in client.get_messages(timeout=1)]

        got = asyncio.run(main())
        assert srv.wait_for(1) == [("/po/async", [1, "two"])]
    assert got == [("/echo/po/async", [1, "two"])]


@pytest.mark.parametrize("mode", ["1.0", "1.1"])
def test_our_client_to_pythonosc_server(mode: str) -> None:
    with pythonosc_server(mode) as (_server, recorder):
        port = _server.server_address[1]
        with tcp_client.SimpleTCPClient("127.0.0.1", port, mode=mode) as client:
            client.send_message("/ours/args", ARGS)
            builder = OscBundleBuilder(IMMEDIATELY)
            for i in range(3):
                m = OscMessageBuilder(f"/ours/bundle/{i}")
                m.add_arg(i)
                builder.add_content(m.build())
            client.send(builder.build())
            got = []
            for msg in client.get_messages(timeout=1):
                got.append((msg.address, msg.params))
                if len(got) == 4:
                    break
        assert wait_until(lambda: len(recorder.messages) == 4)
        assert recorder.messages[0] == ("/ours/args", _expected(ARGS))
        assert recorder.messages[1:] == [(f"/ours/bundle/{i}", [i]) for i in range(3)]
    assert got[0] == ("/echo/ours/args", _expected(ARGS))
    assert got[1:] == [(f"/echo/ours/bundle/{i}", [i]) for i in range(3)]


@pytest.mark.parametrize("mode", ["1.0", "1.1"])
def test_our_async_client_to_pythonosc_server(mode: str) -> None:
    with pythonosc_server(mode) as (_server, recorder):
        port = _server.server_address[1]

        async def main() -> list[Any]:
            async with tcp_client.AsyncSimpleTCPClient("127.0.0.1", port, mode=mode) as client:
                for i in range(5):
                    await client.send_message("/ours/async", i)
                out = []
                async for msg in client.get_messages(timeout=1):
                    out.append(msg.params[0])
                    if len(out) == 5:
                        break
                return out

        got = asyncio.run(main())
        assert wait_until(lambda: len(recorder.messages) == 5)
        assert recorder.messages == [("/ours/async", [i]) for i in range(5)]
    assert got == [0, 1, 2, 3, 4]
