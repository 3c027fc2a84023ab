"""The codec's bounds hold under hostile input: bounded caches, no compilation per cold shape,
and the eviction of a plan never changes a result."""

from __future__ import annotations

import itertools
from typing import Any

from osc_live import _codec_base, _encode_plans, _parse_plans
from osc_live.osc_message import OscMessage, encode_message
from osc_live.osc_message_builder import OscMessageBuilder, build_msg
from osc_live.parsing.osc_types import Symbol, TimeTag

VALUES: dict[str, Any] = {"i": 1, "f": 0.5, "s": "x", "T": True, "F": False, "N": None}


def _shapes(count: int, length: int = 6) -> list[list[Any]]:
    combos = itertools.islice(itertools.product(VALUES, repeat=length), count)
    return [[VALUES[t] for t in tags] for tags in combos]


def test_parse_caches_stay_bounded_under_type_tag_churn() -> None:
    for n in range(1500):
        tags = "i" * (n % 300) + "f" * (n // 300)
        raw = b"/c%d\0" % n
        raw += b"\0" * (-len(raw) % 4)
        tag_bytes = ("," + tags).encode()
        dgram = raw + tag_bytes + b"\0" * (4 - len(tag_bytes) % 4) + b"\0" * 4 * len(tags)
        assert len(OscMessage(dgram).params) == len(tags)
    for cache in (_parse_plans.PLANS, _parse_plans.HEADS):
        assert len(cache) <= _codec_base.PLAN_CACHE_SIZE
        assert all(len(key) <= _codec_base.CACHE_KEY_LIMIT for key in cache)


def test_encode_caches_stay_bounded_under_argument_type_churn() -> None:
    shapes = _shapes(3000)
    for _ in range(_codec_base.GENERATE_AFTER):
        for args in shapes[:40]:
            encode_message("/x", args)
    for n, args in enumerate(shapes):
        assert OscMessage(build_msg(f"/churn/{n}", args).dgram).params == args
    for cache in (_encode_plans.TAG_PLANS, _encode_plans.SIG_PLANS, _codec_base.ADDRESSES):
        assert len(cache) <= _codec_base.PLAN_CACHE_SIZE
    assert len(_encode_plans._SEEN) <= _codec_base.PLAN_CACHE_SIZE


def test_parsers_are_generated_only_for_repeated_tag_strings() -> None:
    dgram = encode_message("/g", [1, "a", b"b", 2.5, [Symbol("s")], TimeTag.from_ntp(7)])
    key = dgram[4 : dgram.index(0, 4)]
    _parse_plans.PLANS.pop(key, None)
    _parse_plans.HEADS.clear()
    first = OscMessage(dgram).params
    plan = _parse_plans.PLANS[key]
    assert plan.fn is None
    for _ in range(_codec_base.GENERATE_AFTER):
        assert OscMessage(dgram).params == first
    assert plan.fn is not None
    assert OscMessage(dgram).params == first
    assert OscMessage(dgram).params == OscMessage.from_parts("/g", first).params


def test_encoders_are_generated_only_for_repeated_tag_strings() -> None:
    tags = "ifsiNfsi"
    args = [1, 0.5, "a", 2, None, 1.5, "b", 3]
    _encode_plans.TAG_PLANS.pop(tags, None)
    _encode_plans.SIG_PLANS.pop(tuple(map(type, args)), None)
    _encode_plans._SEEN.pop(tags, None)
    want = encode_message("/e", args)
    assert tags not in _encode_plans.TAG_PLANS  # cold: the careful encoder did it
    for _ in range(_codec_base.GENERATE_AFTER):
        assert encode_message("/e", args) == want
    assert _encode_plans.TAG_PLANS[tags] is not None
    assert encode_message("/e", args) == want
    assert build_msg("/e", args).dgram == want


def test_builder_params_survive_the_eviction_of_their_plan() -> None:
    args = [7, 0.25, "z"]
    for _ in range(_codec_base.GENERATE_AFTER + 1):
        builder = OscMessageBuilder("/ev")
        for arg in args:
            builder.add_arg(arg)
        msg = builder.build()
    _encode_plans.TAG_PLANS.clear()
    assert msg.params == args


def test_caches_survive_concurrent_churn_from_several_threads() -> None:
    """Evictions race between threads (a full cache drops its older half): no KeyError, and
    every result is still right."""
    import threading

    shapes = _shapes(2500, length=5)
    errors: list[BaseException] = []

    def work(offset: int) -> None:
        try:
            for n in range(offset, offset + 2500, 3):
                args = shapes[n % len(shapes)]
                address = f"/t{offset}/{n}"
                data = encode_message(address, args)
                assert build_msg(address, args).dgram == data
                assert OscMessage(data).params == args
        except BaseException as exc:  # reported below, with the thread's own traceback lost
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k * 700,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not errors, errors
    for cache in (_parse_plans.PLANS, _parse_plans.HEADS, _encode_plans.ADDRESS_PLANS):
        assert len(cache) <= _codec_base.PLAN_CACHE_SIZE
