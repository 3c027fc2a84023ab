"""Codec and dispatch speed: python-osc 1.10.2 and osc_live on the same workloads, one process.

Run: ``.venv/bin/python benchmarks/bench_codec.py`` (``--quick`` for fewer repetitions).
Each row is the best of several ``timeit`` repeats, in microseconds per operation.
"""

from __future__ import annotations

import argparse
import sys
import timeit
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pythonosc import dispatcher as p_dispatcher
from pythonosc import osc_bundle as p_bundle
from pythonosc import osc_bundle_builder as p_bundle_builder
from pythonosc import osc_message as p_message
from pythonosc import osc_message_builder as p_builder

from osc_live import osc_bundle as l_bundle
from osc_live import osc_bundle_builder as l_bundle_builder
from osc_live import osc_message as l_message
from osc_live import osc_message_builder as l_builder

ADDRESS = "/synth/note"
ARGS = (60, 127, 0.5, "saw")


def _pair(
    p_func: Callable[[], object], l_func: Callable[[], object], number: int, repeat: int
) -> tuple[float, float]:
    """Best time of one call of each, in microseconds, measured alternately so that the load
    of a shared machine hits both alike."""
    p_times: list[float] = []
    l_times: list[float] = []
    for _ in range(repeat):
        p_times.append(timeit.timeit(p_func, number=number))
        l_times.append(timeit.timeit(l_func, number=number))
    return min(p_times) / number * 1e6, min(l_times) / number * 1e6


def _build_with(builder_module: object) -> Callable[[], bytes]:
    builder_cls = builder_module.OscMessageBuilder  # type: ignore[attr-defined]

    def build() -> bytes:
        builder = builder_cls(ADDRESS)
        for arg in ARGS:
            builder.add_arg(arg)
        return builder.build().dgram  # type: ignore[no-any-return]

    return build


def _bundle_with(bundle_builder: object, message_builder: object) -> Callable[[], bytes]:
    msg_cls = message_builder.OscMessageBuilder  # type: ignore[attr-defined]
    bundle_cls = bundle_builder.OscBundleBuilder  # type: ignore[attr-defined]
    immediately = bundle_builder.IMMEDIATELY  # type: ignore[attr-defined]

    def build() -> bytes:
        bundle = bundle_cls(immediately)
        for _ in range(10):
            builder = msg_cls(ADDRESS)
            for arg in ARGS:
                builder.add_arg(arg)
            bundle.add_content(builder.build())
        return bundle.build().dgram  # type: ignore[no-any-return]

    return build


def _bundle_only(bundle_builder: object, message_builder: object) -> Callable[[], bytes]:
    """Bundle build from 10 already built messages (python-osc re-parses them all)."""
    msg_cls = message_builder.OscMessageBuilder  # type: ignore[attr-defined]
    bundle_cls = bundle_builder.OscBundleBuilder  # type: ignore[attr-defined]
    immediately = bundle_builder.IMMEDIATELY  # type: ignore[attr-defined]
    messages = []
    for _ in range(10):
        builder = msg_cls(ADDRESS)
        for arg in ARGS:
            builder.add_arg(arg)
        messages.append(builder.build())

    def build() -> bytes:
        bundle = bundle_cls(immediately)
        for msg in messages:
            bundle.add_content(msg)
        return bundle.build().dgram  # type: ignore[no-any-return]

    return build


def _dispatchers(n: int) -> tuple[object, object | None, bytes]:
    """python-osc and osc_live dispatchers with ``n`` mapped addresses, and a packet."""
    try:
        from osc_live import dispatcher as l_dispatcher
    except ImportError:
        l_dispatcher = None  # type: ignore[assignment]

    def handler(address: str, *args: object) -> None:
        return None

    p_disp = p_dispatcher.Dispatcher()
    l_disp = l_dispatcher.Dispatcher() if l_dispatcher is not None else None
    for i in range(n):
        p_disp.map(f"/synth/{i}/note", handler)
        if l_disp is not None:
            l_disp.map(f"/synth/{i}/note", handler)  # type: ignore[attr-defined]
    packet = l_message.encode_message(f"/synth/{n - 1}/note", ARGS)
    return p_disp, l_disp, packet


def main() -> None:
    """Print the comparison table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    opts = parser.parse_args()
    number = 2000 if opts.quick else 10000
    repeat = 5 if opts.quick else 15

    dgram = l_message.encode_message(ADDRESS, ARGS)
    p_msg = p_builder.OscMessageBuilder(ADDRESS)
    for arg in ARGS:
        p_msg.add_arg(arg)
    assert p_msg.build().dgram == dgram

    p_bundle_dgram = _bundle_with(p_bundle_builder, p_builder)()
    l_bundle_dgram = _bundle_with(l_bundle_builder, l_builder)()
    assert p_bundle_dgram == l_bundle_dgram

    rows: list[tuple[str, Callable[[], object], Callable[[], object], int]] = [
        (
            "build+encode: OscMessageBuilder(...).build().dgram",
            _build_with(p_builder),
            _build_with(l_builder),
            number,
        ),
        (
            "build+encode: send_message path (encode_message)",
            _build_with(p_builder),
            lambda: l_message.encode_message(ADDRESS, ARGS),
            number,
        ),
        (
            "parse: OscMessage(dgram).params",
            lambda: p_message.OscMessage(dgram).params,
            lambda: l_message.OscMessage(dgram).params,
            number,
        ),
        (
            "bundle of 10: OscBundleBuilder.build() of 10 messages",
            _bundle_only(p_bundle_builder, p_builder),
            _bundle_only(l_bundle_builder, l_builder),
            max(number // 10, 100),
        ),
        (
            "bundle of 10: build the messages and the bundle",
            _bundle_with(p_bundle_builder, p_builder),
            _bundle_with(l_bundle_builder, l_builder),
            max(number // 10, 100),
        ),
        (
            "bundle of 10: parse OscBundle(dgram)",
            lambda: p_bundle.OscBundle(p_bundle_dgram),
            lambda: l_bundle.OscBundle(l_bundle_dgram),
            max(number // 10, 100),
        ),
    ]
    dispatch_note = ""
    for n in (1, 100, 1000):
        p_disp, l_disp, packet = _dispatchers(n)
        if l_disp is None:
            dispatch_note = "dispatch rows skipped: osc_live.dispatcher is not available yet"
            break
        client = ("127.0.0.1", 9000)
        rows.append(
            (
                f"dispatch, {n} mapped addresses",
                lambda p_disp=p_disp, packet=packet, client=client: (  # type: ignore[misc]
                    p_disp.call_handlers_for_packet(packet, client)
                ),
                lambda l_disp=l_disp, packet=packet, client=client: (  # type: ignore[misc]
                    l_disp.call_handlers_for_packet(packet, client)
                ),
                max(number // (10 if n >= 100 else 1), 100),
            )
        )

    print(f"python {sys.version.split()[0]}, best of {repeat} repeats, microseconds per op")
    header = f"| {'workload':<54} | {'python-osc':>10} | {'osc_live':>9} | {'ratio':>6} |"
    print(header)
    print(f"|{'-' * 56}|{'-' * 11}:|{'-' * 10}:|{'-' * 7}:|")
    for name, p_func, l_func, n in rows:
        p_time, l_time = _pair(p_func, l_func, n, repeat)
        print(f"| {name:<54} | {p_time:>10.2f} | {l_time:>9.2f} | {p_time / l_time:>5.1f}x |")
    if dispatch_note:
        print(dispatch_note)


if __name__ == "__main__":
    main()
