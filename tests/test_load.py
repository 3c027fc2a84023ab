"""Load: 20 TCP clients x 5,000 messages each into the threading and asyncio servers.

Nothing may be lost and every connection's messages must arrive in the order sent.  Functional
assertions only (no timing); bounded by pytest-timeout.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from osc_live import tcp_client
from osc_live.dispatcher import Dispatcher
from tests.tcp_support import RunningServer

pytestmark = pytest.mark.timeout(180)

CLIENTS = 20
MESSAGES = 5_000


class PerClient:
    """Handler recording the sequence numbers received for each ``/load/<client>`` address."""

    def __init__(self) -> None:
        self.seen: dict[str, list[int]] = {}
        self.total = 0
        self.cond = threading.Condition()

    def __call__(self, address: str, seq: int, *rest: Any) -> None:
        with self.cond:
            self.seen.setdefault(address, []).append(seq)
            self.total += 1
            if self.total == CLIENTS * MESSAGES:
                self.cond.notify_all()

    def wait_all(self, timeout: float) -> int:
        with self.cond:
            self.cond.wait_for(lambda: self.total >= CLIENTS * MESSAGES, timeout)
            return self.total

    def check(self) -> None:
        assert self.total == CLIENTS * MESSAGES
        assert sorted(self.seen) == sorted(f"/load/{k}" for k in range(CLIENTS))
        for address, seqs in self.seen.items():
            assert seqs == list(range(MESSAGES)), f"{address}: lost or reordered"


def _setup(recorder: PerClient) -> Any:
    def setup(d: Dispatcher) -> None:
        d.map("/load/*", recorder)

    return setup


def _sync_clients(port: int, mode: str) -> None:
    errors: list[BaseException] = []
    start = threading.Barrier(CLIENTS)

    def run(k: int) -> None:
        try:
            with tcp_client.SimpleTCPClient("127.0.0.1", port, mode=mode) as client:
                start.wait(30)
                address = f"/load/{k}"
                for i in range(MESSAGES):
                    client.send_message(address, [i, "payload", 0.5])
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(k,), name=f"load-{k}") for k in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors


@pytest.mark.parametrize(("kind", "mode"), [("threading", "1.1"), ("asyncio", "1.0")])
def test_sync_clients_into_server(kind: str, mode: str) -> None:
    recorder = PerClient()
    with RunningServer(kind, mode=mode, setup=_setup(recorder)) as srv:
        _sync_clients(srv.port, mode)
        recorder.wait_all(60)
        assert srv.stats.connections == CLIENTS
    recorder.check()


@pytest.mark.parametrize("kind", ["threading", "asyncio"])
def test_async_clients_into_auto_server(kind: str) -> None:
    recorder = PerClient()
    with RunningServer(kind, mode="auto", setup=_setup(recorder)) as srv:

        async def one(k: int) -> None:
            mode = "1.0" if k % 2 else "1.1"
            async with tcp_client.AsyncSimpleTCPClient("127.0.0.1", srv.port, mode=mode) as c:
                address = f"/load/{k}"
                for i in range(MESSAGES):
                    await c.send_message(address, [i, "payload", 0.5])
                    if i % 500 == 0:
                        await asyncio.sleep(0)  # interleave the connections

        async def main() -> None:
            await asyncio.gather(*(one(k) for k in range(CLIENTS)))

        asyncio.run(main())
        recorder.wait_all(60)
    recorder.check()
