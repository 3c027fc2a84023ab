"""Property tests: any message (every type, nested arrays) and any nested bundle round-trips."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from osc_live._parse_careful import parse_careful
from osc_live.osc_bundle import OscBundle
from osc_live.osc_message import OscMessage, encode_message
from osc_live.osc_message_builder import OscMessageBuilder
from osc_live.osc_packet import OscPacket
from osc_live.parsing.osc_types import (
    INFINITUM,
    RGBA,
    Char,
    Double,
    Int64,
    MidiPacket,
    Symbol,
    TimeTag,
)

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"), max_size=12)
byte = st.integers(0, 255)
leaves = st.one_of(
    st.integers(-(2**31), 2**31 - 1),
    st.integers(-(2**63), 2**63 - 1).map(Int64),
    st.floats(width=32),
    st.floats().map(Double),
    text,
    text.map(Symbol),
    st.characters(blacklist_categories=("Cs",)).map(Char),
    st.binary(max_size=9),
    st.sampled_from([True, False, None, INFINITUM]),
    st.integers(0, 2**32 - 1).map(RGBA),
    st.tuples(byte, byte, byte, byte).map(lambda t: MidiPacket(*t)),
    st.integers(0, 2**64 - 1).map(TimeTag.from_ntp),
)
values = st.recursive(leaves, lambda inner: st.lists(inner, max_size=4), max_leaves=12)
addresses = text.map(lambda s: "/" + s)


def typed(value: Any) -> Any:
    """A comparable picture of a value: its type and repr (NaN-safe), recursively."""
    if isinstance(value, list):
        return ["list", [typed(v) for v in value]]
    return [type(value).__name__, repr(value)]


@SETTINGS
@given(addresses, st.lists(values, max_size=6))
def test_message_round_trip(address: str, args: list[Any]) -> None:
    built = OscMessage.from_parts(address, args)
    assert encode_message(address, args) == built.dgram
    parsed = OscMessage(built.dgram)
    assert parsed == built
    assert parsed.address == address
    assert parsed.type_tags == built.type_tags
    assert typed(parsed.params) == typed(built.params)
    assert typed(list(parse_careful(built.dgram)[2])) == typed(parsed.params)
    # The parsed values, sent again with inferred types, give the same bytes.
    assert encode_message(address, parsed.params) == built.dgram
    # The builder gives the same bytes.
    builder = OscMessageBuilder(address)
    for arg in args:
        builder.add_arg(arg)
    from_builder = builder.build()
    assert from_builder.dgram == built.dgram
    assert typed(from_builder.params) == typed(parsed.params)
    # Explicit type tags give the same bytes and the same parsed values.
    assert encode_message(address, parsed.params, built.type_tags) == built.dgram
    explicit = OscMessage.from_parts(address, args, built.type_tags)
    assert explicit.dgram == built.dgram
    assert typed(explicit.params) == typed(parsed.params)


@SETTINGS
@given(addresses, st.lists(values, max_size=6))
def test_repeated_parse_is_stable(address: str, args: list[Any]) -> None:
    dgram = encode_message(address, args)
    first = typed(OscMessage(dgram).params)
    for _ in range(5):  # crosses the threshold of generated parsers
        assert typed(OscMessage(dgram).params) == first


messages = st.builds(OscMessage.from_parts, addresses, st.lists(values, max_size=3))
timetags = st.integers(0, 2**64 - 1)


def count_messages(bundle: OscBundle) -> int:
    return sum(1 if isinstance(c, OscMessage) else count_messages(c) for c in bundle)


bundles = st.recursive(
    st.builds(OscBundle.from_contents, timetags, st.lists(messages, max_size=3)),
    lambda inner: st.builds(
        OscBundle.from_contents, timetags, st.lists(st.one_of(messages, inner), max_size=3)
    ),
    max_leaves=6,
)


@SETTINGS
@given(bundles)
def test_bundle_round_trip(bundle: OscBundle) -> None:
    parsed = OscBundle(bundle.dgram)
    assert parsed == bundle
    assert parsed.timetag == bundle.timetag
    assert parsed.timestamp == bundle.timestamp
    assert parsed.num_contents == bundle.num_contents
    for mine, theirs in zip(parsed, bundle, strict=True):
        assert type(mine) is type(theirs) and mine == theirs
    timed = OscPacket(bundle.dgram).messages
    assert len(timed) == count_messages(bundle)
    assert [t.time for t in timed] == sorted(t.time for t in timed)


explicit_pairs = st.one_of(
    st.tuples(st.just("i"), st.one_of(st.booleans(), st.integers(-(2**31), 2**31 - 1))),
    st.tuples(st.just("h"), st.one_of(st.booleans(), st.integers(-(2**63), 2**63 - 1))),
    st.tuples(st.just("f"), st.one_of(st.integers(-(2**24), 2**24), st.floats(width=32))),
    st.tuples(st.just("d"), st.one_of(st.integers(-(2**53), 2**53), st.floats())),
    st.tuples(st.sampled_from("sS"), st.one_of(text, text.map(Symbol))),
    st.tuples(st.just("c"), st.characters(blacklist_categories=("Cs",))),
    st.tuples(st.just("r"), st.integers(0, 2**32 - 1)),
    st.tuples(st.just("m"), st.tuples(byte, byte, byte, byte)),
    st.tuples(st.sampled_from("TFNI"), st.none()),
)


@SETTINGS
@given(st.lists(explicit_pairs, max_size=8))
def test_explicit_types_give_parsed_values(pairs: list[tuple[str, Any]]) -> None:
    """Whatever value an explicit tag is given, the built message holds the parsed values."""
    builder = OscMessageBuilder("/x")
    for tag, value in pairs:
        builder.add_arg(value, tag)
    built = builder.build()
    parsed = OscMessage(built.dgram)
    assert typed(built.params) == typed(parsed.params)
    tags = "".join(tag for tag, _ in pairs)
    values = [value for _, value in pairs]
    assert encode_message("/x", values, tags) == built.dgram
    assert typed(OscMessage.from_parts("/x", values, tags).params) == typed(parsed.params)
