"""Hostile input never escapes the dispatcher; the scheduler thread comes and goes."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from osc_live import _scheduler
from osc_live.dispatcher import Dispatcher
from osc_live.osc_bundle_builder import OscBundleBuilder
from osc_live.osc_message import OscMessage, encode_message

CLIENT = ("127.0.0.1", 1)
VALID = encode_message("/synth/1/freq", [440.0, "saw"])


def _dispatcher() -> Dispatcher:
    d = Dispatcher(strict_timing=False)
    for address in ("/synth/1/freq", "/synth/2/amp", "/a/*", "/x"):
        d.map(address, lambda *a: ("/r", len(a)))
    return d


@settings(max_examples=400, deadline=None)
@given(data=st.binary(max_size=120))
def test_random_bytes_never_raise(data: bytes) -> None:
    with _dispatcher() as d:
        assert isinstance(d.call_handlers_for_packet(data, CLIENT), list)
        assert isinstance(d.call_handlers_for_packet(b"/" + data, CLIENT), list)
        assert isinstance(d.call_handlers_for_packet(b"#bundle\x00" + data, CLIENT), list)


@settings(max_examples=400, deadline=None)
@given(pos=st.integers(0, len(VALID) - 1), byte=st.integers(0, 255), cut=st.integers(1, 64))
def test_mutated_messages_never_raise(pos: int, byte: int, cut: int) -> None:
    mutated = bytearray(VALID)
    mutated[pos] = byte
    with _dispatcher() as d:
        d.call_handlers_for_packet(bytes(mutated), CLIENT)
        d.call_handlers_for_packet(bytes(mutated[:-cut]), CLIENT)


@settings(max_examples=500, deadline=None)
@given(pattern=st.text(alphabet="/ab*?[]{},!-\\\x00é", max_size=40))
def test_any_pattern_string_is_safe(pattern: str) -> None:
    with _dispatcher() as d:
        list(d.handlers_for_address(pattern))
        list(d.handlers_for_address("/" + pattern))


@pytest.mark.timeout(20)
def test_hostile_pattern_through_dispatch() -> None:
    with Dispatcher() as d:
        d.map("/" + "a" * 10_000, lambda *a: "/r")
        d.map("/b", lambda *a: "/b")
        pattern = "/" + "*" * 200 + "x"
        assert d.call_handlers_for_packet(encode_message(pattern, []), CLIENT) == []
        assert d.call_handlers_for_packet(encode_message("/" + "*a" * 60, []), CLIENT) == ["/r"]
        # Over MAX_WILDCARDS: the pattern matches nothing (documented limit).
        assert d.call_handlers_for_packet(encode_message("/" + "*a" * 300, []), CLIENT) == []
        assert d.call_handlers_for_packet(encode_message("/[" * 500, []), CLIENT) == []


def test_scheduler_thread_exits_when_idle_and_restarts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_scheduler, "IDLE_EXIT", 0.1)
    got = threading.Event()
    with Dispatcher() as d:
        d.map("/x", lambda *a: got.set())
        for _ in range(2):
            got.clear()
            bb = OscBundleBuilder(time.time() + 0.02)
            bb.add_content(OscMessage(encode_message("/x", [])))
            d.call_handlers_for_packet(bb.build().dgram, CLIENT)
            assert got.wait(5)
            deadline = time.monotonic() + 5
            while any(t.name == "osc_live-scheduler" for t in threading.enumerate()):
                assert time.monotonic() < deadline
                time.sleep(0.02)


def test_close_from_a_scheduled_handler_does_not_deadlock() -> None:
    done = threading.Event()
    d = Dispatcher()

    def closer(*a: Any) -> None:
        d.close()
        done.set()

    d.map("/x", closer)
    bb = OscBundleBuilder(time.time() + 0.02)
    bb.add_content(OscMessage(encode_message("/x", [])))
    d.call_handlers_for_packet(bb.build().dgram, CLIENT)
    assert done.wait(5)
    d.close()
