"""Codec and dispatch speed: osc_live against python-osc 1.10.2 and the other pure-Python OSC
codecs on PyPI (aiosc 0.3, oscpy 0.6, osc4py3 1.0.8), in one process, interleaved rounds.

Run alone: ``.venv/bin/python benchmarks/bench_codec.py [--quick]``; the whole table (codec and
transports): ``.venv/bin/python benchmarks/run.py``.  Peers: ``pip install -r
benchmarks/requirements.txt``; a peer that is not installed is left out of its rows (and said).

Each workload is checked first: every peer must produce the same bytes (or the same values)
as osc_live, so the rows compare equal work.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import itertools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _stats import Goal, Workload, format_table, machine, measure, timed  # noqa: E402

from osc_live import dispatcher as l_dispatcher  # noqa: E402
from osc_live import osc_bundle as l_bundle  # noqa: E402
from osc_live import osc_bundle_builder as l_bundle_builder  # noqa: E402
from osc_live import osc_message as l_message  # noqa: E402
from osc_live import osc_message_builder as l_builder  # noqa: E402

ADDRESS = "/synth/note"
ARGS = (60, 127, 0.5, "saw")
DGRAM = l_message.encode_message(ADDRESS, ARGS)


def _optional(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def _peers() -> dict[str, Any]:
    """The peer modules that are installed (python-osc is a test dependency: always)."""
    from pythonosc import (
        dispatcher,
        osc_bundle,
        osc_bundle_builder,
        osc_message,
        osc_message_builder,
    )

    found: dict[str, Any] = {
        "pythonosc": {
            "dispatcher": dispatcher,
            "osc_bundle": osc_bundle,
            "osc_bundle_builder": osc_bundle_builder,
            "osc_message": osc_message,
            "osc_message_builder": osc_message_builder,
        }
    }
    found["aiosc"] = _optional("aiosc")
    found["oscpy"] = _optional("oscpy.parser")
    found["osc4py3"] = _optional("osc4py3.oscbuildparse")
    return found


def _check(name: str, got: object, want: object) -> None:
    if got != want:
        raise AssertionError(f"{name}: the peers do not do the same work: {got!r} != {want!r}")


def _build_msg_workload(p: dict[str, Any], number: int) -> Workload:
    py_build = p["pythonosc"]["osc_message_builder"].build_msg
    l_build = l_builder.build_msg
    args = list(ARGS)
    peers: dict[str, Callable[[], object]] = {
        "osc_live": lambda: l_build(ADDRESS, args).dgram,
        "python-osc": lambda: py_build(ADDRESS, args).dgram,
    }
    if p["aiosc"] is not None:
        pack = p["aiosc"].pack_message
        peers["aiosc"] = lambda: pack(ADDRESS, *args)
    if p["oscpy"] is not None:
        fmt = p["oscpy"].format_message
        peers["oscpy"] = lambda: fmt(ADDRESS, args, encoding="utf8")[0]
    if p["osc4py3"] is not None:
        o = p["osc4py3"]
        peers["osc4py3"] = lambda: o.encode_packet(o.OSCMessage(ADDRESS, None, args))
    for name, fn in peers.items():
        _check(name, bytes(fn()), DGRAM)  # type: ignore[call-overload]
    return Workload(
        'build_msg("/synth/note", [60, 127, 0.5, "saw"]).dgram',
        {name: timed(fn, number) for name, fn in peers.items()},
        [Goal("python-osc", 6), Goal("aiosc", 1)],
        note="each peer's own one-call way to pack the message (aiosc pack_message, oscpy "
        "format_message, osc4py3 encode_packet(OSCMessage))",
    )


def _builder_workload(p: dict[str, Any], number: int) -> Workload:
    def with_builder(cls: Any) -> Callable[[], bytes]:
        def build() -> bytes:
            builder = cls(ADDRESS)
            builder.add_arg(60)
            builder.add_arg(127)
            builder.add_arg(0.5)
            builder.add_arg("saw")
            return builder.build().dgram  # type: ignore[no-any-return]

        return build

    peers = {
        "osc_live": with_builder(l_builder.OscMessageBuilder),
        "python-osc": with_builder(p["pythonosc"]["osc_message_builder"].OscMessageBuilder),
    }
    for name, fn in peers.items():
        _check(name, fn(), DGRAM)
    return Workload(
        "`OscMessageBuilder` add_arg x4 + build().dgram",
        {name: timed(fn, number) for name, fn in peers.items()},
        [Goal("python-osc", 5)],
    )


def _parse_workload(p: dict[str, Any], number: int) -> Workload:
    py_msg = p["pythonosc"]["osc_message"].OscMessage
    want = list(ARGS)
    peers: dict[str, Callable[[], list[Any]]] = {
        "osc_live": lambda: l_message.OscMessage(DGRAM).params,
        "python-osc": lambda: py_msg(DGRAM).params,
    }
    if p["aiosc"] is not None:
        parse = p["aiosc"].parse_message
        peers["aiosc"] = lambda: parse(DGRAM)[1]
    if p["oscpy"] is not None:
        read = p["oscpy"].read_message
        peers["oscpy"] = lambda: read(DGRAM, encoding="utf8")[2]
    if p["osc4py3"] is not None:
        decode = p["osc4py3"].decode_packet
        peers["osc4py3"] = lambda: list(decode(DGRAM).arguments)
    for name, fn in peers.items():
        _check(name, fn(), want)
    return Workload(
        "`OscMessage(dgram).params`",
        {name: timed(fn, number) for name, fn in peers.items()},
        [Goal("python-osc", 3.5), Goal("aiosc", 1.5)],
        note="the peers' parse to (address, values): aiosc parse_message, oscpy read_message, "
        "osc4py3 decode_packet",
    )


def _bundle_workload(p: dict[str, Any], number: int) -> Workload:
    py = p["pythonosc"]
    args = list(ARGS)

    def with_modules(msg_mod: Any, bundle_mod: Any) -> Callable[[], bytes]:
        build_msg = msg_mod.build_msg
        bundle_cls = bundle_mod.OscBundleBuilder
        immediately = bundle_mod.IMMEDIATELY

        def build() -> bytes:
            bundle = bundle_cls(immediately)
            for _ in range(10):
                bundle.add_content(build_msg(ADDRESS, args))
            return bundle.build().dgram  # type: ignore[no-any-return]

        return build

    peers: dict[str, Callable[[], object]] = {
        "osc_live": with_modules(l_builder, l_bundle_builder),
        "python-osc": with_modules(py["osc_message_builder"], py["osc_bundle_builder"]),
    }
    want = peers["osc_live"]()
    if p["aiosc"] is not None:
        pack_bundle = p["aiosc"].pack_bundle
        items = [(ADDRESS, *args)] * 10
        peers["aiosc"] = lambda: pack_bundle(items)
    if p["osc4py3"] is not None:
        o = p["osc4py3"]

        def osc4py3_bundle() -> bytes:
            msgs = [o.OSCMessage(ADDRESS, None, args) for _ in range(10)]
            return o.encode_packet(o.OSCBundle(o.OSC_IMMEDIATELY, msgs))  # type: ignore[no-any-return]

        peers["osc4py3"] = osc4py3_bundle
    for name, fn in peers.items():
        _check(name, bytes(fn()), want)  # type: ignore[call-overload]
    return Workload(
        "10 `build_msg` + `OscBundleBuilder(IMMEDIATELY).build().dgram`",
        {name: timed(fn, max(number // 10, 50)) for name, fn in peers.items()},
        [Goal("python-osc", 10)],
    )


def _dispatch_workload(p: dict[str, Any], number: int, n: int) -> Workload:
    def handler(address: str, *args: object) -> None:
        return None

    py_disp = p["pythonosc"]["dispatcher"].Dispatcher()
    l_disp = l_dispatcher.Dispatcher()
    for i in range(n):
        py_disp.map(f"/synth/{i}/note", handler)
        l_disp.map(f"/synth/{i}/note", handler)
    packet = l_message.encode_message(f"/synth/{n - 1}/note", ARGS)
    client = ("127.0.0.1", 9000)
    py_count = 10 if n >= 100 else 1
    return Workload(
        f"dispatch, {n:,} mapped address{'es' if n > 1 else ''}",
        {
            "osc_live": timed(lambda: l_disp.call_handlers_for_packet(packet, client), number),
            "python-osc": timed(
                lambda: py_disp.call_handlers_for_packet(packet, client),
                max(number // (py_count * 10), 50),
            ),
        },
        [Goal("python-osc", 50)] if n == 1000 else [],
        note="" if n == 1000 else "information (no goal)",
    )


def _pattern_workload(p: dict[str, Any], number: int) -> Workload:
    """Dispatch a never-seen address pattern each time (1,000 mapped addresses): compile and
    match, no cache hit; python-osc matches every pattern afresh anyway."""

    def handler(address: str, *args: object) -> None:
        return None

    py_disp = p["pythonosc"]["dispatcher"].Dispatcher()
    l_disp = l_dispatcher.Dispatcher()
    for i in range(1000):
        py_disp.map(f"/synth/{i}/note", handler)
        l_disp.map(f"/synth/{i}/note", handler)
    packets = [l_message.encode_message(f"/synth/{i}?/n*e", [1]) for i in range(100_000)]
    client = ("127.0.0.1", 9000)
    ours = itertools.cycle(packets)
    theirs = itertools.cycle(packets)
    return Workload(
        "dispatch a new pattern every message (`/synth/<n>?/n*e`), 1,000 mapped addresses",
        {
            "osc_live": timed(lambda: l_disp.call_handlers_for_packet(next(ours), client), 200),
            "python-osc": timed(lambda: py_disp.call_handlers_for_packet(next(theirs), client), 50),
        },
        note="information: pattern churn costs a compilation (backtracking-safe, so dearer than"
        " python-osc's plain regex) and a match per mapped address; cached patterns cost a lookup",
    )


def _send_path_workload(p: dict[str, Any], number: int) -> Workload:
    py_build = p["pythonosc"]["osc_message_builder"].build_msg
    args = list(ARGS)
    return Workload(
        "`encode_message` (every client's send_message path)",
        {
            "osc_live": timed(lambda: l_message.encode_message(ADDRESS, args), number),
            "python-osc": timed(lambda: py_build(ADDRESS, args).dgram, number),
        },
        note="information: python-osc's send_message builds with build_msg",
    )


def _bundle_parse_workload(p: dict[str, Any], number: int) -> Workload:
    dgram = l_bundle_builder.OscBundleBuilder(l_bundle_builder.IMMEDIATELY)
    for _ in range(10):
        dgram.add_content(l_builder.build_msg(ADDRESS, list(ARGS)))
    data = dgram.build().dgram
    py_bundle = p["pythonosc"]["osc_bundle"].OscBundle

    def ours() -> object:
        return [m.params for m in l_bundle.OscBundle(data)]

    def theirs() -> object:
        return [m.params for m in py_bundle(data)]

    _check("python-osc", theirs(), ours())
    return Workload(
        "parse a bundle of 10 and read every message's params",
        {"osc_live": timed(ours, max(number // 10, 50)), "python-osc": timed(theirs, 200)},
        note="information (no goal)",
    )


def _distinct_tag_dgrams(count: int) -> list[bytes]:
    """``count`` message datagrams, each with its own type tag string."""
    values = {"i": 1, "f": 0.5, "s": "x", "T": True, "F": False, "N": None, "h": 2**40, "b": b"z"}
    out = []
    for tags in itertools.islice(itertools.product(values, repeat=6), count):
        out.append(l_message.encode_message("/cold", [values[t] for t in tags]))
    return out


def _cold_tags_workload(number: int) -> Workload:
    """Parse with a type tag string never seen (beyond the plan cache) vs one seen before."""
    # More distinct strings than any plan cache holds, cycled: each one is evicted (cold) by
    # the time it comes back.
    cold = itertools.cycle(_distinct_tag_dgrams(60_000))
    warm = _distinct_tag_dgrams(1)[0]
    message = l_message.OscMessage
    return Workload(
        "parse, a new type tag string every message (cold) vs a known one (warm)",
        {
            "osc_live": timed(lambda: message(next(cold)).params, number),
            "warm": timed(lambda: message(warm).params, number),
        },
        [Goal("warm", 0.1)],
        note="churn of type tag strings is an attack: a cold string must cost at most 10x a "
        "warm one",
    )


def _cold_encode_workload(number: int) -> Workload:
    values: dict[str, Any] = {"i": 1, "f": 0.5, "s": "x", "T": True, "F": False, "N": None}
    combos = list(itertools.islice(itertools.product(values, repeat=7), 60_000))
    cold = itertools.cycle([[values[t] for t in tags] for tags in combos])
    warm = [values[t] for t in combos[0]]
    build = l_builder.build_msg
    return Workload(
        "build_msg, new argument types every message (cold) vs known ones (warm)",
        {
            "osc_live": timed(lambda: build("/cold", next(cold)).dgram, number),
            "warm": timed(lambda: build("/cold", warm).dgram, number),
        },
        [Goal("warm", 0.1)],
    )


def workloads(stack: contextlib.ExitStack, quick: bool = False) -> list[Workload]:
    """The codec and dispatch workloads of the table (``stack`` receives any cleanup)."""
    number = 2000 if quick else 10_000
    p = _peers()
    missing = [name for name in ("aiosc", "oscpy", "osc4py3") if p[name] is None]
    rows = [
        _build_msg_workload(p, number),
        _builder_workload(p, number),
        _parse_workload(p, number),
        _bundle_workload(p, number),
        _dispatch_workload(p, number, 1000),
        _send_path_workload(p, number),
        _bundle_parse_workload(p, number),
        _dispatch_workload(p, number, 1),
        _pattern_workload(p, number),
        _cold_tags_workload(number // 2),
        _cold_encode_workload(number // 2),
    ]
    if missing:
        rows[0].note += f" (not installed: {', '.join(missing)})"
    return rows


def main() -> None:
    """Print the codec part of the table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer operations per sample")
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds (default 7)")
    opts = parser.parse_args()
    with contextlib.ExitStack() as stack:
        rows = [measure(w, opts.rounds) for w in workloads(stack, opts.quick)]
    print(format_table(rows, title=f"{machine()}; {opts.rounds} interleaved rounds"))


if __name__ == "__main__":
    main()
