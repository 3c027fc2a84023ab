"""Dispatcher API and semantics, the same tests run against python-osc where it is right."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from pythonosc import dispatcher as ref_dispatcher
from pythonosc.osc_message_builder import build_msg as ref_build_msg

from osc_live import dispatcher as our_dispatcher
from osc_live.dispatcher import Dispatcher, Handler, encode_replies
from osc_live.osc_bundle_builder import OscBundleBuilder
from osc_live.osc_message import encode_message
from osc_live.osc_message_builder import OscMessageBuilder
from osc_live.parsing import osc_types

CLIENT = ("127.0.0.1", 5555)


@pytest.fixture(params=["pythonosc", "osc_live"])
def mod(request: pytest.FixtureRequest) -> Any:
    return ref_dispatcher if request.param == "pythonosc" else our_dispatcher


@pytest.fixture
def disp(mod: Any) -> Iterator[Any]:
    d = mod.Dispatcher()
    yield d
    if hasattr(d, "close"):
        d.close()


def callbacks(handlers: Any) -> list[Any]:
    return sorted(h.callback for h in handlers)


# --- python-osc's own test cases, over both implementations ----------------------------


def test_empty_by_default(disp: Any) -> None:
    assert list(disp.handlers_for_address("/test")) == []


def test_default_handler_when_no_match(disp: Any, mod: Any) -> None:
    disp.set_default_handler(7)
    assert list(disp.handlers_for_address("/test")) == [mod.Handler(7, [])]
    disp.map("/test", 1)
    assert list(disp.handlers_for_address("/test")) == [mod.Handler(1, [])]
    disp.set_default_handler(None)
    assert list(disp.handlers_for_address("/nothing")) == []


def test_simple_map_and_match(disp: Any, mod: Any) -> None:
    disp.map("/test", 5, 1, 2, 3)
    disp.map("/test2", 5)
    assert list(disp.handlers_for_address("/test")) == [mod.Handler(5, [1, 2, 3])]
    assert list(disp.handlers_for_address("/test2")) == [mod.Handler(5, [])]


def test_example_from_spec(disp: Any) -> None:
    addresses = ["/first/this/one", "/second/1", "/second/2", "/third/a", "/third/b", "/third/c"]
    for index, address in enumerate(addresses):
        disp.map(address, index)
    for index, address in enumerate(addresses):
        assert callbacks(disp.handlers_for_address(address)) == [index]
    assert callbacks(disp.handlers_for_address("/second/?")) == [1, 2]
    assert callbacks(disp.handlers_for_address("/third/*")) == [3, 4, 5]
    assert callbacks(disp.handlers_for_address("/third/[a-b]")) == [3, 4]
    assert callbacks(disp.handlers_for_address("/third/[!a-b]")) == [5]
    assert callbacks(disp.handlers_for_address("/{first,second}/*")) == [1, 2]


@pytest.mark.parametrize(
    ("mapped", "pattern", "expected"),
    [
        (["/foo/bar/1", "/foo/bar/2"], "/*", []),
        (["/foo/bar/1", "/foo/bar/2"], "/foo/*/2", [1]),
        (["/foo/bar/1", "/foo/bar/2"], "/*/*/*", [0, 1]),
        (["/footest/bar+tender/1"], "/foo*/bar+*/*", [0]),
        (["/footest/bar+tender/1"], "/foo*/bar*/*", [0]),
        (["/a+b", "/aaab"], "/aaab", [1]),
        (["/a+b", "/aaab"], "/a+b", [0]),
        (["/starbase/*"], "/starbase/bar", [0]),
        (["/*"], "/anything/matches", [0]),
        (["/foo/*/bar/*"], "/foo/wild/bar/wild", [0]),
        (["/foo/*/bar/*"], "/foo/wild/nomatch/wild", []),
        (["/foo/bar", "/*"], "/foo/bar", [0, 1]),
        (["/qwer/*/zxcv"], "/qwer/whatever/zxcvsomethingmore", []),
        (["/qwer/*/zxcv"], "/qwer/whatever/zxcv", [0]),
        (["/a/*", "/a/b"], "/a/*", [0, 1]),
    ],
)
def test_matching_like_python_osc(
    disp: Any, mapped: list[str], pattern: str, expected: list[int]
) -> None:
    for index, address in enumerate(mapped):
        disp.map(address, index)
    assert callbacks(disp.handlers_for_address(pattern)) == expected


def test_handler_order_is_mapping_order(disp: Any) -> None:
    disp.map("/b/*", 1)
    disp.map("/b/x", 2)
    disp.map("/b/x", 0)
    disp.map("/*", 3)
    assert [h.callback for h in disp.handlers_for_address("/b/x")] == [1, 2, 0, 3]
    assert [h.callback for h in disp.handlers_for_address("/b/?")] == [1, 2, 0, 3]


def test_multiple_handlers(disp: Any, mod: Any) -> None:
    disp.map("/foo/bar", 1)
    disp.map("/foo/bar", 2)
    assert list(disp.handlers_for_address("/foo/bar")) == [mod.Handler(1, []), mod.Handler(2, [])]


def test_unmap(disp: Any) -> None:
    def dummy() -> None:
        pass

    returned = disp.map("/map/me", dummy)
    assert len(list(disp.handlers_for_address("/map/me"))) == 1
    disp.unmap("/map/me", returned)
    assert list(disp.handlers_for_address("/map/me")) == []
    disp.map("/map/me/too", dummy, 1, needs_reply_address=True)
    disp.unmap("/map/me/too", dummy, 1, needs_reply_address=True)
    assert list(disp.handlers_for_address("/map/me/too")) == []


def test_unmap_exception(disp: Any) -> None:
    def dummy() -> None:
        pass

    with pytest.raises(ValueError, match="doesn't have handler"):
        disp.unmap("/unmap/exception", dummy)
    handler = disp.map("/unmap/somethingelse", dummy)
    with pytest.raises(ValueError):
        disp.unmap("/unmap/exception", handler)
    with pytest.raises(ValueError):
        disp.unmap("/unmap/somethingelse", dummy, 1)


def test_unmap_invalidates_pattern_cache(disp: Any) -> None:
    h = disp.map("/s/1", 1)
    disp.map("/s/2", 2)
    assert callbacks(disp.handlers_for_address("/s/*")) == [1, 2]
    disp.unmap("/s/1", h)
    assert callbacks(disp.handlers_for_address("/s/*")) == [2]
    disp.map("/s/3", 3)
    assert callbacks(disp.handlers_for_address("/s/*")) == [2, 3]
    disp.map("/s/*", 4)
    assert callbacks(disp.handlers_for_address("/s/9")) == [4]


def test_strict_timing_flag(mod: Any) -> None:
    d = mod.Dispatcher(strict_timing=False)
    assert d._strict_timing is False
    assert mod.Dispatcher()._strict_timing is True


# --- handler call shapes ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixed", "needs_reply", "expected"),
    [
        ((), False, ("/x", 1, "s")),
        ((7, 8), False, ("/x", [7, 8], 1, "s")),
        ((), True, (CLIENT, "/x", 1, "s")),
        ((7,), True, (CLIENT, "/x", [7], 1, "s")),
    ],
)
def test_call_shapes(disp: Any, fixed: tuple[Any, ...], needs_reply: bool, expected: Any) -> None:
    calls: list[tuple[Any, ...]] = []

    def handler(*args: Any) -> None:
        calls.append(args)

    disp.map("/x", handler, *fixed, needs_reply_address=needs_reply)
    assert disp.call_handlers_for_packet(encode_message("/x", [1, "s"]), CLIENT) == []
    assert calls == [expected]


def test_default_handler_call_shape(disp: Any) -> None:
    calls: list[tuple[Any, ...]] = []
    disp.set_default_handler(lambda *a: calls.append(a), needs_reply_address=True)
    disp.call_handlers_for_packet(encode_message("/nope", [2]), CLIENT)
    assert calls == [(CLIENT, "/nope", 2)]


def test_results_collected(disp: Any) -> None:
    disp.map("/q", lambda addr, *a: ("/r", *a))
    disp.map("/q", lambda addr, *a: None)
    disp.map("/q", lambda addr, *a: "/done")
    assert disp.call_handlers_for_packet(encode_message("/q", [1, 2.5]), CLIENT) == [
        ("/r", 1, 2.5),
        "/done",
    ]


def test_bundle_immediate_messages_in_order(disp: Any) -> None:
    seen: list[str] = []
    disp.map("/*", lambda addr, *a: seen.append(addr))
    bb = OscBundleBuilder(osc_types.IMMEDIATELY)
    for addr in ("/a", "/b", "/c"):
        bb.add_content(OscMessageBuilder(addr).build())
    disp.call_handlers_for_packet(bb.build().dgram, CLIENT)
    assert seen == ["/a", "/b", "/c"]


def test_malformed_packet_returns_empty(disp: Any) -> None:
    disp.map("/x", lambda *a: "/r")
    for bad in (b"", b"/x", b"/x\x00\x00,i\x00\x00", b"#bundle\x00\x00", b"garbage!"):
        assert disp.call_handlers_for_packet(bad, CLIENT) == []


def test_handler_exception_propagates(disp: Any) -> None:
    def boom(*a: Any) -> None:
        raise RuntimeError("boom")

    disp.map("/x", boom)
    with pytest.raises(RuntimeError):
        disp.call_handlers_for_packet(encode_message("/x"), CLIENT)


def test_async_call_handlers_for_packet(disp: Any) -> None:
    called: list[str] = []

    def sync_handler(address: str, *args: Any) -> str:
        called.append("sync")
        return "/s"

    async def async_handler(address: str, *args: Any) -> tuple[str, int]:
        await asyncio.sleep(0)
        called.append("async")
        return ("/a", 1)

    disp.map("/sync", sync_handler)
    disp.map("/async", async_handler)

    async def main() -> tuple[list[Any], list[Any]]:
        r1 = await disp.async_call_handlers_for_packet(b"/sync\x00\x00\x00,\x00\x00\x00", CLIENT)
        r2 = await disp.async_call_handlers_for_packet(b"/async\x00\x00,\x00\x00\x00", CLIENT)
        return r1, r2

    assert asyncio.run(main()) == (["/s"], [("/a", 1)])
    assert called == ["sync", "async"]


def test_handler_invoke_and_async_invoke(mod: Any) -> None:
    from osc_live.osc_message import OscMessage

    msg = OscMessage(encode_message("/m", [1, 2]))

    async def acb(*a: Any) -> Any:
        return a

    h = mod.Handler(lambda *a: a, [9], True)
    assert h.invoke(CLIENT, msg) == (CLIENT, "/m", [9], 1, 2)
    assert asyncio.run(mod.Handler(acb, []).async_invoke(CLIENT, msg)) == ("/m", 1, 2)
    assert mod.Handler(1, []) != mod.Handler(1, [2])


# --- osc_live only ------------------------------------------------------------------------


def test_osc11_double_slash() -> None:
    d: Any
    with Dispatcher() as d:
        d.map("/synth/1/freq", 1)
        d.map("/synth/2/freq", 2)
        d.map("/freq", 3)
        d.map("/synth/1/amp", 4)
        assert callbacks(d.handlers_for_address("//freq")) == [1, 2, 3]
        assert callbacks(d.handlers_for_address("/synth//freq")) == [1, 2]
        assert callbacks(d.handlers_for_address("//1/*")) == [1, 4]


def test_malformed_pattern_matches_nothing_but_default() -> None:
    d: Any
    with Dispatcher() as d:
        d.map("/a[b", 1)
        d.map("/ab", 2)
        assert list(d.handlers_for_address("/a[b")) == []
        d.set_default_handler(9)
        assert callbacks(d.handlers_for_address("/a{b")) == [9]


def test_parse_errors_logged_and_counted(caplog: pytest.LogCaptureFixture) -> None:
    with Dispatcher() as d:
        d.map("/x", lambda *a: None)
        with caplog.at_level(logging.DEBUG, logger="osc_live.dispatcher"):
            assert d.call_handlers_for_packet(b"garbage", CLIENT) == []
            assert d.call_handlers_for_packet(b"/x\x00\x00,q\x00\x00", CLIENT) == []
        d.call_handlers_for_packet(encode_message("/x"), CLIENT)
        d.call_handlers_for_packet(encode_message("/y"), CLIENT)
        assert d.stats.parse_errors == 2
        assert d.stats.packets == 4
        assert d.stats.messages == 2
        assert d.stats.unmatched == 1
        records = [r for r in caplog.records if r.name == "osc_live.dispatcher"]
        assert records and records[0].levelno == logging.WARNING
        assert "malformed" in records[0].getMessage()
        assert all(r.name != "root" for r in caplog.records)
        assert d.stats.as_dict()["parse_errors"] == 2


def test_encode_replies_like_python_osc() -> None:
    results: list[Any] = ["/a", ("/b", 1, 2.5, "s"), ("/c",), ("/d", [1, 2]), ["/e", True]]
    ours = encode_replies(results)
    expected = []
    for r in results[:4]:
        rr = r if isinstance(r, tuple) else [r]
        expected.append(ref_build_msg(rr[0], rr[1:]).dgram)
    assert ours[:4] == expected
    assert ours[4] == encode_message("/e", [True])
    assert Dispatcher.encode_replies is encode_replies


def test_encode_replies_skips_bad_results(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="osc_live.dispatcher"):
        out = encode_replies([42, ("/ok",), (1, 2), ("/bad", object()), ()])
    assert out == [encode_message("/ok")]
    assert len(caplog.records) == 4


def test_sync_path_runs_coroutine_handlers_without_loop() -> None:
    async def acb(address: str, x: int) -> tuple[str, int]:
        await asyncio.sleep(0)
        return ("/r", x + 1)

    with Dispatcher() as d:
        d.map("/a", acb)
        assert d.call_handlers_for_packet(encode_message("/a", [1]), CLIENT) == [("/r", 2)]


def test_sync_path_coroutine_handler_in_running_loop_goes_to_reply() -> None:
    async def acb(address: str, x: int) -> tuple[str, int]:
        await asyncio.sleep(0)
        return ("/r", x + 1)

    got: list[Any] = []

    async def main() -> None:
        with Dispatcher() as d:
            d.map("/a", acb)
            assert (
                d.call_handlers_for_packet(encode_message("/a", [1]), CLIENT, reply=got.extend)
                == []
            )
            for _ in range(5):
                await asyncio.sleep(0)

    asyncio.run(main())
    assert got == [("/r", 2)]


def test_handler_is_exported_and_repr() -> None:
    h = Handler(print, [1])
    assert "print" in repr(h)
    with Dispatcher() as d:
        assert "0 addresses" in repr(d)


def test_exact_address_never_scans_mappings(monkeypatch: pytest.MonkeyPatch) -> None:
    with Dispatcher() as d:
        for i in range(10_000):
            d.map(f"/synth/{i}/note", lambda *a: "/r")

        def fail(address: str) -> None:
            raise AssertionError("slow path used for an exact address")

        monkeypatch.setattr(d._routes, "resolve_slow", fail)
        packet = encode_message("/synth/9999/note", [1])
        assert d.call_handlers_for_packet(packet, CLIENT) == ["/r"]
        assert len(list(d.handlers_for_address("/synth/5/note"))) == 1


def test_pattern_results_are_cached_until_map(monkeypatch: pytest.MonkeyPatch) -> None:
    with Dispatcher() as d:
        d.map("/a/1", 1)  # type: ignore[arg-type]
        assert len(list(d.handlers_for_address("/a/*"))) == 1
        calls = []
        original = d._routes.resolve_slow
        monkeypatch.setattr(d._routes, "resolve_slow", lambda a: calls.append(a) or original(a))
        assert len(list(d.handlers_for_address("/a/*"))) == 1
        assert calls == []
        d.map("/a/2", 2)  # type: ignore[arg-type]
        assert len(list(d.handlers_for_address("/a/*"))) == 2
        assert calls == ["/a/*"]


# --- packet hooks --------------------------------------------------------------------------


class Watching(Dispatcher):
    """Records every hook call, and the handler calls in between (for the order)."""

    def __init__(self) -> None:
        super().__init__()
        self.events: list[Any] = []

    def packet_parsed(self, timed_messages: Any, client_address: Any) -> None:
        self.events.append(("parsed", [(t, m.address) for t, m in timed_messages], client_address))

    def packet_rejected(self, exc: Any, data: Any, client_address: Any) -> None:
        assert isinstance(exc, osc_types.ParseError)
        self.events.append(("rejected", data, client_address))


def _bundle(timetag: float, *addresses: str) -> bytes:
    b = OscBundleBuilder(timetag)
    for a in addresses:
        b.add_content(OscMessageBuilder(a).build())
    return b.build().dgram


@pytest.mark.parametrize("path", ["sync", "async"])
def test_packet_hooks_once_per_packet_before_handlers(path: str) -> None:
    import time

    d = Watching()
    d.map("/*", lambda address, *args: d.events.append(("handled", address)))
    future = time.time() + 3600
    inner = OscBundleBuilder(osc_types.IMMEDIATELY)
    inner.add_content(OscMessageBuilder("/n2").build())
    nested = OscBundleBuilder(osc_types.IMMEDIATELY)
    nested.add_content(OscMessageBuilder("/n1").build())
    nested.add_content(inner.build())
    packets = [
        encode_message("/a", [1]),
        _bundle(osc_types.IMMEDIATELY, "/b", "/c"),
        _bundle(future, "/later"),
        nested.build().dgram,
        b"/bad\0\0\0\0,i\0\0",  # an int without its bytes
        b"#bundle\0",  # truncated bundle
        _bundle(osc_types.IMMEDIATELY),  # an empty bundle parses: no messages
    ]

    def call(p: bytes) -> Any:
        if path == "sync":
            return d.call_handlers_for_packet(p, CLIENT)
        return asyncio.run(d.async_call_handlers_for_packet(p, CLIENT))

    try:
        for p in packets:
            call(p)
        kinds = [(e[0], [a for _, a in e[1]] if e[0] == "parsed" else e[1]) for e in d.events]
        assert kinds == [
            ("parsed", ["/a"]),
            ("handled", "/a"),
            ("parsed", ["/b", "/c"]),
            ("handled", "/b"),
            ("handled", "/c"),
            ("parsed", ["/later"]),  # seen on arrival, handled at its time
            ("parsed", ["/n1", "/n2"]),
            ("handled", "/n1"),
            ("handled", "/n2"),
            ("rejected", packets[4]),
            ("rejected", packets[5]),
            ("parsed", []),
        ]
        assert all(e[2] == CLIENT for e in d.events if e[0] != "handled")
        times = {a: t for e in d.events if e[0] == "parsed" for t, a in e[1]}
        assert abs(times["/later"] - future) < 1e-3  # the bundle's time
        assert 0 < times["/a"] < future and 0 < times["/b"] < future  # due now: arrival time
        assert d.stats.packets == 7 and d.stats.parse_errors == 2
        assert d.stats.scheduled == 1
    finally:
        d.close()


def test_packet_hooks_not_overridden_are_not_called(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: Any) -> None:
        raise AssertionError("hook called")

    d = Dispatcher()
    assert d._on_parsed is None  # the hot path skips the hook entirely
    monkeypatch.setattr(Dispatcher, "packet_parsed", boom)
    got: list[str] = []
    d.map("/a", lambda address: got.append(address))
    d.call_handlers_for_packet(encode_message("/a"), CLIENT)
    d.call_handlers_for_packet(_bundle(osc_types.IMMEDIATELY, "/a"), CLIENT)
    assert got == ["/a", "/a"]
    d.close()


def test_packet_hook_exception_propagates_and_handlers_do_not_run() -> None:
    class Failing(Dispatcher):
        def packet_parsed(self, timed_messages: Any, client_address: Any) -> None:
            raise RuntimeError("monitor broke")

    d = Failing()
    got: list[str] = []
    d.map("/a", lambda address: got.append(address))
    with pytest.raises(RuntimeError):
        d.call_handlers_for_packet(encode_message("/a"), CLIENT)
    with pytest.raises(RuntimeError):
        d.call_handlers_for_packet(_bundle(osc_types.IMMEDIATELY, "/a"), CLIENT)
    assert got == [] and d.stats.parse_errors == 0
    d.close()
