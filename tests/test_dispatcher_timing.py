"""Timetag scheduling: future bundles never delay other packets; replies; close()."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Any

import pytest

from osc_live.dispatcher import Dispatcher
from osc_live.osc_bundle_builder import OscBundleBuilder
from osc_live.osc_message import OscMessage, encode_message
from osc_live.parsing import osc_types

CLIENT = ("127.0.0.1", 5555)


def bundle(when: float, *messages: tuple[str, list[Any]]) -> bytes:
    bb = OscBundleBuilder(when)
    for address, args in messages:
        bb.add_content(OscMessage(encode_message(address, args)))
    return bb.build().dgram


class Recorder:
    """Thread-safe record of handler calls and replies."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, float, str]] = []
        self.replies: list[list[Any]] = []
        self.event = threading.Event()
        self.lock = threading.Lock()

    def handler(self, address: str, *args: Any) -> tuple[str, ...]:
        with self.lock:
            self.calls.append((address, time.time(), threading.current_thread().name))
        return ("/done", address)

    def reply(self, results: list[Any]) -> None:
        with self.lock:
            self.replies.append(results)
        self.event.set()


def test_future_bundle_does_not_delay_later_message() -> None:
    rec = Recorder()
    with Dispatcher() as d:
        d.map("/*", rec.handler)
        start = time.time()
        due = start + 0.3
        assert (
            d.call_handlers_for_packet(bundle(due, ("/later", [1])), CLIENT, reply=rec.reply) == []
        )
        assert d.call_handlers_for_packet(encode_message("/now", [2]), CLIENT) == [
            ("/done", "/now")
        ]
        # Neither call waited for the bundle: its handler has not run yet (no time asserted).
        assert [c[0] for c in rec.calls] == ["/now"]
        assert d.pending == 1
        assert rec.event.wait(5)
        assert rec.replies == [[("/done", "/later")]]
        later = rec.calls[1]
        assert later[0] == "/later"
        assert later[1] >= due - 0.001
        assert later[2] == "osc_live-scheduler"
        assert d.stats.scheduled == 1


def test_same_timetag_messages_run_together_in_order() -> None:
    rec = Recorder()
    with Dispatcher() as d:
        d.map("/*", rec.handler)
        pkt = bundle(time.time() + 0.1, ("/a", []), ("/b", []), ("/c", []))
        d.call_handlers_for_packet(pkt, CLIENT, reply=rec.reply)
        assert rec.event.wait(5)
        assert rec.replies == [[("/done", "/a"), ("/done", "/b"), ("/done", "/c")]]


def test_mixed_bundle_immediate_returned_future_replied() -> None:
    rec = Recorder()
    with Dispatcher() as d:
        d.map("/*", rec.handler)
        outer = OscBundleBuilder(osc_types.IMMEDIATELY)
        outer.add_content(OscMessage(encode_message("/now", [])))
        inner = OscBundleBuilder(time.time() + 0.1)
        inner.add_content(OscMessage(encode_message("/later", [])))
        outer.add_content(inner.build())
        assert d.call_handlers_for_packet(outer.build().dgram, CLIENT, reply=rec.reply) == [
            ("/done", "/now")
        ]
        assert rec.event.wait(5)
        assert rec.replies == [[("/done", "/later")]]


def test_past_bundle_runs_now() -> None:
    rec = Recorder()
    with Dispatcher() as d:
        d.map("/*", rec.handler)
        pkt = bundle(time.time() - 10, ("/old", []))
        assert d.call_handlers_for_packet(pkt, CLIENT) == [("/done", "/old")]


def test_strict_timing_false_dispatches_at_once() -> None:
    rec = Recorder()
    with Dispatcher(strict_timing=False) as d:
        d.map("/*", rec.handler)
        pkt = bundle(time.time() + 3600, ("/far", []))
        assert d.call_handlers_for_packet(pkt, CLIENT) == [("/done", "/far")]
        assert d.pending == 0
        assert not any(t.name == "osc_live-scheduler" for t in threading.enumerate())


def test_close_cancels_and_stops_thread_then_reusable() -> None:
    rec = Recorder()
    d = Dispatcher()
    d.map("/*", rec.handler)
    d.call_handlers_for_packet(bundle(time.time() + 3600, ("/far", [])), CLIENT)
    assert any(t.name == "osc_live-scheduler" for t in threading.enumerate())
    d.close()
    d.close()  # idempotent
    assert d.pending == 0
    assert not any(t.name == "osc_live-scheduler" for t in threading.enumerate())
    d.call_handlers_for_packet(bundle(time.time() + 0.05, ("/again", [])), CLIENT, reply=rec.reply)
    assert rec.event.wait(5)
    assert [c[0] for c in rec.calls] == ["/again"]
    d.close()


def test_scheduler_survives_handler_and_reply_errors(caplog: pytest.LogCaptureFixture) -> None:
    rec = Recorder()

    def boom(address: str, *args: Any) -> None:
        raise RuntimeError("boom")

    def bad_reply(results: list[Any]) -> None:
        raise RuntimeError("bad reply")

    with caplog.at_level(logging.ERROR, logger="osc_live.dispatcher"), Dispatcher() as d:
        d.map("/boom", boom)
        d.map("/ok", rec.handler)
        soon = time.time() + 0.05
        d.call_handlers_for_packet(
            bundle(soon, ("/boom", []), ("/ok", [])), CLIENT, reply=bad_reply
        )
        d.call_handlers_for_packet(bundle(soon + 0.05, ("/ok", [])), CLIENT, reply=rec.reply)
        assert rec.event.wait(5)
        assert [c[0] for c in rec.calls] == ["/ok", "/ok"]
        assert d.stats.handler_errors == 2
    assert any("boom" in (r.exc_text or "") for r in caplog.records)


def test_max_scheduled_drops(caplog: pytest.LogCaptureFixture) -> None:
    with (
        caplog.at_level(logging.WARNING, logger="osc_live.dispatcher"),
        Dispatcher(max_scheduled=2) as d,
    ):
        d.map("/*", lambda *a: None)
        far = time.time() + 3600
        for i in range(4):
            d.call_handlers_for_packet(bundle(far + i, ("/x", [])), CLIENT)
        assert d.pending == 2
        assert d.stats.scheduled == 2
        assert d.stats.dropped == 2
    assert any("dropped" in r.getMessage() for r in caplog.records)


def test_async_future_bundle_does_not_delay_later_message() -> None:
    rec = Recorder()

    async def main() -> None:
        loop = asyncio.get_running_loop()
        done = loop.create_future()

        async def areply(results: list[Any]) -> None:
            rec.reply(results)
            done.set_result(None)

        with Dispatcher() as d:
            d.map("/*", rec.handler)
            start = time.time()
            due = start + 0.2
            pkt = bundle(due, ("/later", []))
            assert await d.async_call_handlers_for_packet(pkt, CLIENT, reply=areply) == []
            assert await d.async_call_handlers_for_packet(encode_message("/now", []), CLIENT) == [
                ("/done", "/now")
            ]
            assert [c[0] for c in rec.calls] == ["/now"]  # the bundle was not awaited
            await asyncio.wait_for(done, 5)
            assert rec.calls[1][1] >= due - 0.01
            assert rec.calls[1][2] == threading.current_thread().name  # in the loop thread

    asyncio.run(main())
    assert [c[0] for c in rec.calls] == ["/now", "/later"]
    assert rec.replies == [[("/done", "/later")]]


def test_async_close_cancels_call_at() -> None:
    rec = Recorder()

    async def main() -> None:
        d = Dispatcher()
        d.map("/*", rec.handler)
        await d.async_call_handlers_for_packet(bundle(time.time() + 0.05, ("/x", [])), CLIENT)
        assert d.pending == 1
        d.close()
        assert d.pending == 0
        await asyncio.sleep(0.15)

    asyncio.run(main())
    assert rec.calls == []


def test_async_coroutine_handler_scheduled() -> None:
    got: list[Any] = []

    async def acb(address: str, x: int) -> tuple[str, int]:
        await asyncio.sleep(0)
        return ("/r", x)

    async def main() -> None:
        with Dispatcher() as d:
            d.map("/a", acb)
            await d.async_call_handlers_for_packet(
                bundle(time.time() + 0.05, ("/a", [3])), CLIENT, reply=got.extend
            )
            for _ in range(50):
                if got:
                    break
                await asyncio.sleep(0.02)

    asyncio.run(main())
    assert got == [("/r", 3)]
