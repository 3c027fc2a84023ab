"""Every client x every server: TCP (both framings and auto) and UDP, sync and async, IPv4/IPv6.

Each case sends two messages and a bundle of two through one client to one server and checks
that the server got them (in-process servers) and that the four ``/echo...`` replies came
back to the client (every server kind, forking included).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from osc_live import tcp_client
from osc_live.dispatcher import Dispatcher
from osc_live.osc_bundle import OscBundle
from osc_live.osc_message import OscMessage, encode_message
from tests.tcp_support import HOSTS, SERVER_KINDS, Recorder, RunningServer

pytestmark = pytest.mark.timeout(90)

SENT = [("/m/one", [1, "a"]), ("/m/two", [2.5])]
IN_BUNDLE = [("/b/three", [3]), ("/b/four", ["x", True])]
EXPECTED = SENT + IN_BUNDLE
ECHOES = [("/echo" + a, p) for a, p in EXPECTED]


def _bundle() -> OscBundle:
    return OscBundle.from_contents(1, [OscMessage(encode_message(a, p)) for a, p in IN_BUNDLE])


def _handle_until(client: Any, recorder: Recorder, count: int, timeout: float = 5.0) -> None:
    """Run ``client.handle_messages`` until ``count`` messages were handled or ``timeout``.

    One ``handle_messages(0.3)`` ends after 0.3 s without a packet: a forking server that
    takes longer to start its child under load would leave it with nothing.
    """
    deadline = time.monotonic() + timeout
    while len(recorder.messages) < count and time.monotonic() < deadline:
        client.handle_messages(0.3)


async def _async_handle_until(
    client: Any, recorder: Recorder, count: int, timeout: float = 5.0
) -> None:
    """:func:`_handle_until` for the asyncio dispatch client."""
    deadline = time.monotonic() + timeout
    while len(recorder.messages) < count and time.monotonic() < deadline:
        await client.handle_messages(0.3)


def _norm(items: list[tuple[str, list[Any]]]) -> list[tuple[str, list[Any]]]:
    out = []
    for address, params in items:
        out.append((address, [round(p, 3) if isinstance(p, float) else p for p in params]))
    return out


# --- TCP ----------------------------------------------------------------------------------------

SYNC_TCP = [tcp_client.TCPClient, tcp_client.SimpleTCPClient, tcp_client.TCPDispatchClient]
ASYNC_TCP = [
    tcp_client.AsyncTCPClient,
    tcp_client.AsyncSimpleTCPClient,
    tcp_client.AsyncDispatchTCPClient,
]


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def _run_sync_tcp(cls: type, host: str, port: int, mode: str) -> list[tuple[str, list[Any]]]:
    if cls is tcp_client.TCPDispatchClient:
        recorder = Recorder(reply=False)
        disp = Dispatcher()
        disp.set_default_handler(recorder)
        try:
            with cls(host, port, _family(host), mode, dispatcher=disp) as client:
                for address, params in SENT:
                    client.send_message(address, params)
                client.send(_bundle())
                _handle_until(client, recorder, len(ECHOES))
        finally:
            disp.close()
        return recorder.messages
    got = []
    with cls(host, port, _family(host), mode) as client:
        for address, params in SENT:
            client.send_message(address, params)
        client.send(_bundle())
        for msg in client.get_messages(timeout=5):
            got.append((msg.address, msg.params))
            if len(got) == len(ECHOES):
                break
    return got


def _run_async_tcp(cls: type, host: str, port: int, mode: str) -> list[tuple[str, list[Any]]]:
    async def main() -> list[tuple[str, list[Any]]]:
        if cls is tcp_client.AsyncDispatchTCPClient:
            recorder = Recorder(reply=False)
            disp = Dispatcher()
            disp.set_default_handler(recorder)
            try:
                async with cls(host, port, _family(host), mode, dispatcher=disp) as client:
                    for address, params in SENT:
                        await client.send_message(address, params)
                    await client.send(_bundle())
                    await _async_handle_until(client, recorder, len(ECHOES))
            finally:
                disp.close()
            return recorder.messages
        got = []
        async with cls(host, port, _family(host), mode) as client:
            for address, params in SENT:
                await client.send_message(address, params)
            await client.send(_bundle())
            async for msg in client.get_messages(timeout=5):
                got.append((msg.address, msg.params))
                if len(got) == len(ECHOES):
                    break
        return got

    return asyncio.run(main())


@pytest.mark.parametrize("host", HOSTS)
@pytest.mark.parametrize("server_mode", ["1.0", "1.1", "auto"])
@pytest.mark.parametrize("kind", SERVER_KINDS)
def test_tcp_matrix(kind: str, server_mode: str, host: str) -> None:
    client_modes = ["1.0", "1.1"] if server_mode == "auto" else [server_mode]
    failures = []
    with RunningServer(kind, mode=server_mode, host=host) as srv:
        count = 0
        for mode in client_modes:
            for cls in SYNC_TCP + ASYNC_TCP:
                run = _run_sync_tcp if cls in SYNC_TCP else _run_async_tcp
                got = run(cls, host, srv.port, mode)
                count += 1
                if _norm(got) != _norm(ECHOES):
                    failures.append((cls.__name__, mode, got))
                if kind != "forking":
                    received = srv.wait_for(len(EXPECTED) * count, timeout=5)
                    if _norm(received[-len(EXPECTED) :]) != _norm(EXPECTED):
                        failures.append((cls.__name__, mode, "server got", received))
    assert not failures


# --- UDP ----------------------------------------------------------------------------------------

try:  # the UDP modules belong to another area: their absence must not hide the TCP matrix
    from osc_live import osc_server, udp_client

    HAVE_UDP = True
except ImportError:  # pragma: no cover
    HAVE_UDP = False

UDP_KINDS = ["blocking", "threading", "asyncio"] + (
    ["forking"] if HAVE_UDP and hasattr(osc_server, "ForkingOSCUDPServer") else []
)


@contextlib.contextmanager
def udp_server(kind: str, host: str) -> Iterator[tuple[int, Recorder]]:
    """One of the UDP servers (H4's osc_server) with an echoing recorder."""
    recorder = Recorder()
    disp = Dispatcher()
    disp.set_default_handler(recorder)
    thread: threading.Thread
    if kind == "asyncio":
        loop = asyncio.new_event_loop()
        ready = threading.Event()
        stop: list[asyncio.Event] = []
        port: list[int] = []

        async def main() -> None:
            server = osc_server.AsyncIOOSCUDPServer((host, 0), disp)
            async with server:
                port.append(server.server_address[1])
                stop.append(asyncio.Event())
                ready.set()
                await stop[0].wait()

        thread = threading.Thread(target=loop.run_until_complete, args=(main(),), name="udp-async")
        thread.start()
        ready.wait(10)
        try:
            yield port[0], recorder
        finally:
            loop.call_soon_threadsafe(stop[0].set)
            thread.join(10)
            loop.close()
            disp.close()
        return
    cls = {
        "blocking": osc_server.BlockingOSCUDPServer,
        "threading": osc_server.ThreadingOSCUDPServer,
        "forking": getattr(osc_server, "ForkingOSCUDPServer", None),
    }[kind]
    server = cls((host, 0), disp)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), name=f"udp-{kind}")
    thread.start()
    try:
        yield server.server_address[1], recorder
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
        disp.close()


UDP_CLIENTS = ["UDPClient", "SimpleUDPClient", "DispatchClient", "AsyncUDPClient"]


def _run_udp(name: str, host: str, port: int) -> list[tuple[str, list[Any]]]:
    if name == "AsyncUDPClient":

        async def main() -> list[tuple[str, list[Any]]]:
            got = []
            async with udp_client.AsyncUDPClient(host, port) as client:
                for address, params in SENT:
                    await client.send_message(address, params)
                await client.send(_bundle())
                async for msg in client.get_messages(timeout=2):
                    got.append((msg.address, msg.params))
                    if len(got) == len(ECHOES):
                        break
            return got

        return asyncio.run(main())
    cls = getattr(udp_client, name)
    if name == "DispatchClient":
        recorder = Recorder(reply=False)
        disp = Dispatcher()
        disp.set_default_handler(recorder)
        try:
            with cls(host, port, dispatcher=disp, timeout=0.3) as client:
                for address, params in SENT:
                    client.send_message(address, params)
                client.send(_bundle())
                _handle_until(client, recorder, len(ECHOES))
        finally:
            disp.close()
        return recorder.messages
    got = []
    with cls(host, port, timeout=2) as client:
        for address, params in SENT:
            client.send(OscMessage(encode_message(address, params)))
        client.send(_bundle())
        while len(got) < len(ECHOES):
            data = client.receive(2)
            if not data:
                break
            got.append((OscMessage(data).address, OscMessage(data).params))
    return got


@pytest.mark.skipif(not HAVE_UDP, reason="osc_live.udp_client / osc_server missing")
@pytest.mark.parametrize("host", HOSTS)
@pytest.mark.parametrize("kind", UDP_KINDS)
def test_udp_matrix(kind: str, host: str) -> None:
    failures = []
    with udp_server(kind, host) as (port, recorder):
        for count, name in enumerate(UDP_CLIENTS, start=1):
            got = _run_udp(name, host, port)
            if sorted(_norm(got)) != sorted(_norm(ECHOES)):
                failures.append((name, got))
            if kind != "forking":
                received = recorder.wait_for(len(EXPECTED) * count, timeout=5)
                if sorted(_norm(received[-len(EXPECTED) :])) != sorted(_norm(EXPECTED)):
                    failures.append((name, "server got", received))
    assert not failures
