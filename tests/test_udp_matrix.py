"""Every UDP client, every UDP server, IPv4 and IPv6: a request and its reply."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from osc_live.dispatcher import Dispatcher
from osc_live.osc_message import OscMessage
from osc_live.osc_server import AsyncIOOSCUDPServer, BlockingOSCUDPServer, ThreadingOSCUDPServer
from osc_live.udp_client import AsyncUDPClient, DispatchClient, SimpleUDPClient, UDPClient
from tests.peers.running import Inbox, serving
from tests.tcp_support import HOSTS

SERVERS = ["blocking", "threading", "asyncio"] + (["forking"] if hasattr(os, "fork") else [])
CLIENTS = ["plain", "simple", "dispatch", "async"]


@contextmanager
def _asyncio_server(host: str, dispatcher: Dispatcher) -> Iterator[int]:
    """Our asyncio server on its own loop in a thread (stopped and joined afterwards)."""
    loop = asyncio.new_event_loop()
    server = AsyncIOOSCUDPServer((host, 0), dispatcher, loop)
    ready = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(server.create_serve_endpoint())
            ready.set()
            loop.run_forever()
            loop.run_until_complete(server.aclose())
        finally:
            loop.close()

    thread = threading.Thread(target=run, name="test-asyncio-server")
    thread.start()
    try:
        assert ready.wait(5.0)
        yield int(server.server_address[1])
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5.0)


@contextmanager
def _server(kind: str, host: str, dispatcher: Dispatcher) -> Iterator[int]:
    if kind == "asyncio":
        with _asyncio_server(host, dispatcher) as port:
            yield port
        return
    classes: dict[str, Callable[..., BlockingOSCUDPServer]] = {
        "blocking": BlockingOSCUDPServer,
        "threading": ThreadingOSCUDPServer,
    }
    if kind == "forking":
        from osc_live.osc_server import ForkingOSCUDPServer

        classes["forking"] = ForkingOSCUDPServer
    with serving(classes[kind]((host, 0), dispatcher)) as server:
        yield int(server.server_address[1])


def _request(kind: str, host: str, port: int, value: int) -> tuple[str, list[object]]:
    """Send ``/ping value`` with client ``kind``; return the reply (address, params)."""
    deadline = time.monotonic() + 5.0
    if kind == "plain":
        with UDPClient(host, port) as plain:
            plain.send(OscMessage.from_parts("/ping", [value]))
            data = b""
            while not data and time.monotonic() < deadline:
                data = plain.receive(0.2)
            message = OscMessage(data)
            return message.address, message.params
    if kind == "simple":
        with SimpleUDPClient(host, port) as simple:
            simple.send_message("/ping", value)
            while time.monotonic() < deadline:
                for message in simple.get_messages(0.2):
                    return message.address, message.params
        raise AssertionError("no reply")
    if kind == "dispatch":
        replies = Inbox()
        dispatcher = Dispatcher()
        dispatcher.map("/pong", replies)
        try:
            with DispatchClient(host, port, dispatcher=dispatcher) as client:
                client.send_message("/ping", value)
                while not replies.items and time.monotonic() < deadline:
                    client.handle_messages(0.2)
        finally:
            dispatcher.close()
        address, *params = replies.items[0]
        return address, params

    async def main() -> tuple[str, list[object]]:
        async with AsyncUDPClient(host, port, timeout=5.0) as client:
            await client.send_message("/ping", value)
            message = OscMessage(await client.receive())
            return message.address, message.params

    return asyncio.run(main())


@pytest.mark.parametrize("host", HOSTS)
@pytest.mark.parametrize("server_kind", SERVERS)
@pytest.mark.parametrize("client_kind", CLIENTS)
def test_request_and_reply(client_kind: str, server_kind: str, host: str) -> None:
    dispatcher = Dispatcher()
    dispatcher.map("/ping", lambda address, value: ("/pong", value + 1))
    try:
        with _server(server_kind, host, dispatcher) as port:
            assert _request(client_kind, host, port, 41) == ("/pong", [42])
    finally:
        dispatcher.close()
