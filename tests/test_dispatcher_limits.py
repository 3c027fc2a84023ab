"""The dispatcher's documented limits hold: scheduled messages and bytes (counted per message,
over the network too), pattern length and complexity, and patterns compiled outside the lock."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest
from pythonosc.osc_bundle_builder import OscBundleBuilder as PyBundleBuilder
from pythonosc.osc_message_builder import build_msg as py_build_msg
from pythonosc.udp_client import SimpleUDPClient as PySimpleUDPClient

from osc_live import _pattern, _routing
from osc_live.dispatcher import DEFAULT_MAX_SCHEDULED, DEFAULT_MAX_SCHEDULED_BYTES, Dispatcher
from osc_live.osc_bundle_builder import OscBundleBuilder
from osc_live.osc_message import encode_message
from osc_live.osc_message_builder import build_msg
from osc_live.osc_server import BlockingOSCUDPServer, ThreadingOSCUDPServer
from tests.peers.running import serving

CLIENT = ("127.0.0.1", 5555)


def _future_bundle(count: int, blob: bytes = b"", delay: float = 3600.0) -> bytes:
    builder = OscBundleBuilder(time.time() + delay)
    for i in range(count):
        builder.add_content(build_msg(f"/later/{i}", [i, blob] if blob else [i]))
    return builder.build().dgram


def test_defaults_are_documented_values() -> None:
    with Dispatcher() as d:
        assert d.max_scheduled == DEFAULT_MAX_SCHEDULED == 100_000
        assert d.max_scheduled_bytes == DEFAULT_MAX_SCHEDULED_BYTES == 32 * 1024 * 1024


def test_max_scheduled_counts_messages_not_bundles() -> None:
    with Dispatcher(max_scheduled=1000) as d:
        d.map("/later/*", lambda *a: None)
        packet = _future_bundle(100)
        for _ in range(50):
            d.call_handlers_for_packet(packet, CLIENT)
        assert d.pending_messages == 1000
        assert d.stats.scheduled == 1000
        assert d.stats.dropped == 4000
        assert d.pending == 10  # ten bundles' batches wait in the scheduler


def test_max_scheduled_bytes_caps_the_bytes_held() -> None:
    blob = b"\x01" * 60_000
    with Dispatcher(max_scheduled_bytes=200_000) as d:
        d.map("/later/*", lambda *a: None)
        for _ in range(10):
            d.call_handlers_for_packet(_future_bundle(1, blob), CLIENT)
        assert d.pending_messages == 3
        assert 180_000 <= d.pending_bytes <= 200_000
        assert d.stats.dropped == 7


def test_scheduled_room_is_given_back_when_messages_run_and_on_close() -> None:
    ran = threading.Event()
    with Dispatcher(max_scheduled=10) as d:
        d.map("/later/*", lambda *a: ran.set())
        d.call_handlers_for_packet(_future_bundle(10, delay=0.05), CLIENT)
        assert d.pending_messages == 10
        assert ran.wait(5)
        deadline = time.monotonic() + 5
        while d.pending_messages and time.monotonic() < deadline:
            time.sleep(0.01)
        assert d.pending_messages == 0 and d.pending_bytes == 0
        d.call_handlers_for_packet(_future_bundle(10), CLIENT)
        assert d.pending_messages == 10
        d.close()
        assert d.pending_messages == 0 and d.pending_bytes == 0
        assert d.stats.dropped == 0


def test_async_path_counts_messages_against_the_same_limits() -> None:
    async def main() -> tuple[int, int]:
        with Dispatcher(max_scheduled=150) as d:
            d.map("/later/*", lambda *a: None)
            packet = _future_bundle(100)
            for _ in range(3):
                await d.async_call_handlers_for_packet(packet, CLIENT)
            return d.pending_messages, d.stats.dropped

    assert asyncio.run(main()) == (100, 200)


@pytest.mark.parametrize("server_cls", [BlockingOSCUDPServer, ThreadingOSCUDPServer])
def test_scheduled_limits_hold_over_the_network(server_cls: Any) -> None:
    """python-osc sends 20 future bundles of 50 messages; 300 may wait: 300 wait."""
    disp = Dispatcher(max_scheduled=300)
    got: list[str] = []
    disp.map("/now", lambda address, *args: got.append(address))
    server = server_cls(("127.0.0.1", 0), disp)
    with serving(server):
        client = PySimpleUDPClient("127.0.0.1", server.server_address[1])
        for _ in range(20):
            builder = PyBundleBuilder(time.time() + 3600)
            for i in range(50):
                builder.add_content(py_build_msg(f"/later/{i}", i))
            client.send(builder.build())
            time.sleep(0.002)
        client.send_message("/now", 1)
        deadline = time.monotonic() + 10
        while not got and time.monotonic() < deadline:
            time.sleep(0.01)
        client._sock.close()
    try:
        assert got == ["/now"]
        assert disp.pending_messages == 300
        assert disp.stats.scheduled == 300
        assert disp.stats.scheduled + disp.stats.dropped == 1000  # none lost uncounted
    finally:
        disp.close()


# --- patterns ----------------------------------------------------------------------------------


def test_a_4000_character_pattern_matches_nothing_and_is_not_compiled() -> None:
    with Dispatcher() as d:
        d.map("/a/b", lambda *a: "/r")
        assert len("/*" * 2000) > _pattern.MAX_PATTERN_LENGTH
        assert d.call_handlers_for_packet(encode_message("/*" * 2000, []), CLIENT) == []
        assert _pattern.compile_pattern("/*" * 2000) is None
        many = "/*" * (_pattern.MAX_PATTERN_SEGMENTS + 1)
        assert len(many) <= _pattern.MAX_PATTERN_LENGTH
        assert _pattern.compile_pattern(many) is None
        assert d.call_handlers_for_packet(encode_message("/*/*", []), CLIENT) == ["/r"]


def test_pattern_compilation_does_not_hold_the_dispatcher_lock(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    entered = threading.Event()
    release = threading.Event()
    real = _pattern.compile_pattern

    def slow_compile(pattern: str) -> Any:
        entered.set()
        assert release.wait(5)
        return real(pattern)

    monkeypatch.setattr(_routing._pattern, "compile_pattern", slow_compile)
    with Dispatcher() as d:
        d.map("/a/1", lambda *a: "/one")
        results: list[Any] = []
        worker = threading.Thread(
            target=lambda: results.append(
                d.call_handlers_for_packet(encode_message("/a/*", []), CLIENT)
            )
        )
        worker.start()
        try:
            assert entered.wait(5)
            mapped = threading.Thread(target=lambda: d.map("/a/2", lambda *a: "/two"))
            mapped.start()
            mapped.join(2)
            assert not mapped.is_alive()  # map() did not wait for the compilation
            # Another thread dispatches an exact address meanwhile.
            assert d.call_handlers_for_packet(encode_message("/a/2", []), CLIENT) == ["/two"]
        finally:
            release.set()
            worker.join(5)
        assert results and results[0] in (["/one"], ["/one", "/two"])
        # The lookup computed across the map() was not cached: the next one sees both.
        assert d.call_handlers_for_packet(encode_message("/a/*", []), CLIENT) == ["/one", "/two"]


def test_pattern_caches_are_bounded() -> None:
    for i in range(_pattern.PATTERN_CACHE_SIZE + 100):
        _pattern.compile_pattern(f"/p/{i}/*")
    assert _pattern.compile_pattern.cache_info().currsize <= _pattern.PATTERN_CACHE_SIZE
    with Dispatcher() as d:
        d.map("/p/*", lambda *a: None)
        for i in range(_routing.LOOKUP_CACHE_SIZE + 100):
            d.call_handlers_for_packet(encode_message(f"/p/{i}", []), CLIENT)
        assert len(d._routes.cache) <= _routing.LOOKUP_CACHE_SIZE
