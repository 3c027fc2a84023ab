"""Helpers of the TCP tests: run any of our TCP servers (and python-osc's) on loopback.

:class:`RunningServer` starts one server kind (``blocking``, ``threading``, ``forking``,
``asyncio``) on an ephemeral port, with a dispatcher that records every message and answers
``/echo<address>`` with the same arguments, and stops everything (threads, loop, dispatcher)
on exit.  The recorded messages are only visible for the in-process kinds (a forking server
handles connections in child processes: test it through its replies).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from osc_live import osc_tcp_server
from osc_live.dispatcher import Dispatcher

SERVER_KINDS = ["blocking", "threading", "forking", "asyncio"]
if not hasattr(os, "fork"):  # pragma: no cover - POSIX only
    SERVER_KINDS.remove("forking")

# No test on this page: pytest collects the module only for its helpers.


def ipv6_available() -> bool:
    """True when a TCP socket can be bound on ::1."""
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
    except OSError:
        return False
    return True


HOSTS = [
    pytest.param("127.0.0.1", id="ipv4"),
    pytest.param(
        "::1",
        id="ipv6",
        marks=pytest.mark.skipif(not ipv6_available(), reason="no IPv6 loopback"),
    ),
]


class Recorder:
    """Dispatcher default handler: records ``(address, params)`` and echoes them back.

    Addresses starting with ``/echo`` or ``/thanks`` are recorded but not answered (no loops).
    """

    def __init__(self, reply: bool = True) -> None:
        self.messages: list[tuple[str, list[Any]]] = []
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)
        self.reply = reply

    def __call__(self, address: str, *args: Any) -> Any:
        with self.cond:
            self.messages.append((address, list(args)))
            self.cond.notify_all()
        if self.reply and not address.startswith(("/echo", "/thanks")):
            return ("/echo" + address, *args)
        return None

    def wait_for(self, count: int, timeout: float = 10.0) -> list[tuple[str, list[Any]]]:
        """Wait until ``count`` messages were recorded (or the timeout); return them all."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while len(self.messages) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self.cond.wait(remaining)
            return list(self.messages)


class RunningServer:
    """One of our TCP servers serving on loopback in the background (a context manager)."""

    def __init__(
        self,
        kind: str,
        mode: str = "1.1",
        host: str = "127.0.0.1",
        *,
        reply: bool = True,
        dispatcher: Dispatcher | None = None,
        port: int = 0,
        setup: Callable[[Dispatcher], None] | None = None,
        **options: Any,
    ) -> None:
        self.kind = kind
        self.mode = mode
        self.host = host
        self.port = port
        self.options = options
        self.recorder = Recorder(reply)
        self.own_dispatcher = dispatcher is None
        self.dispatcher = dispatcher if dispatcher is not None else Dispatcher()
        if dispatcher is None:
            self.dispatcher.set_default_handler(self.recorder)
        if setup is not None:
            setup(self.dispatcher)
        self.server: Any = None
        self.thread: threading.Thread | None = None
        self.loop: asyncio.AbstractEventLoop | None = None

    @property
    def messages(self) -> list[tuple[str, list[Any]]]:
        with self.recorder.lock:
            return list(self.recorder.messages)

    def wait_for(self, count: int, timeout: float = 10.0) -> list[tuple[str, list[Any]]]:
        return self.recorder.wait_for(count, timeout)

    @property
    def stats(self) -> osc_tcp_server.ServerStats:
        return self.server.stats  # type: ignore[no-any-return]

    def start(self) -> RunningServer:
        if self.kind == "asyncio":
            self._start_async()
        else:
            cls = {
                "blocking": osc_tcp_server.BlockingOSCTCPServer,
                "threading": osc_tcp_server.ThreadingOSCTCPServer,
                "forking": getattr(osc_tcp_server, "ForkingOSCTCPServer", None),
            }[self.kind]
            self.server = cls(
                (self.host, self.port), self.dispatcher, mode=self.mode, **self.options
            )
            self.port = self.server.server_address[1]
            self.thread = threading.Thread(
                target=self.server.serve_forever, args=(0.05,), name=f"tcp-test-{self.kind}"
            )
            self.thread.start()
        return self

    def _start_async(self) -> None:
        ready = threading.Event()
        failure: list[BaseException] = []
        loop = asyncio.new_event_loop()
        self.loop = loop

        async def main() -> None:
            try:
                server = osc_tcp_server.AsyncOSCTCPServer(
                    self.host, self.port, self.dispatcher, mode=self.mode, **self.options
                )
                await server.listen()
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                return
            self.server = server
            self.port = server.port
            ready.set()
            await server.start()

        def run() -> None:
            try:
                loop.run_until_complete(main())
                loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                loop.close()

        self.thread = threading.Thread(target=run, name="tcp-test-asyncio")
        self.thread.start()
        ready.wait(10)
        if failure:
            self.thread.join()
            raise failure[0]

    def stop(self) -> None:
        if self.server is not None:
            if self.kind == "asyncio":
                assert self.loop is not None
                if not self.loop.is_closed():
                    fut = asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop)
                    with contextlib.suppress(Exception):
                        fut.result(15)
            else:
                self.server.shutdown()
                self.server.server_close()
        if self.thread is not None:
            self.thread.join(15)
            self.thread = None
        if self.own_dispatcher:
            self.dispatcher.close()

    def __enter__(self) -> RunningServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def pythonosc_server(mode: str, host: str = "127.0.0.1") -> Iterator[tuple[Any, Recorder]]:
    """python-osc's ThreadingOSCTCPServer with a recording, echoing dispatcher."""
    from pythonosc import dispatcher as po_dispatcher
    from pythonosc import osc_tcp_server as po_server

    recorder = Recorder()
    disp = po_dispatcher.Dispatcher()
    disp.set_default_handler(recorder)
    server = po_server.ThreadingOSCTCPServer((host, 0), disp, mode=mode)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="tcp-test-pythonosc")
    thread.start()
    try:
        yield server, recorder
    finally:
        server.shutdown()
        server.socket.close()
        thread.join(10)


def wait_until(predicate: Callable[[], bool], timeout: float = 10.0) -> bool:
    """Poll ``predicate`` until true or ``timeout``; return its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()
