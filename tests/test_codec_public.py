"""``osc_message.infer_tag``: the one public home of python-osc's type inference.

It must give exactly the tags ``encode_message`` / ``build_msg`` write for the same values.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from osc_live.errors import BuildError
from osc_live.osc_message import MAX_ARRAY_DEPTH, OscMessage, encode_message, infer_tag
from osc_live.osc_message_builder import build_msg
from osc_live.parsing.osc_types import INFINITUM, RGBA, Char, Double, Int64, Symbol, TimeTag

text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\0"), max_size=6)
leaves = st.one_of(
    st.integers(-(2**63), 2**63 - 1),
    st.floats(width=32),
    text,
    st.binary(max_size=5),
    st.sampled_from([True, False, None, INFINITUM]),
    text.map(Symbol),
    st.integers(-(2**63), 2**63 - 1).map(Int64),
    st.floats().map(Double),
    st.integers(0, 2**32 - 1).map(RGBA),
    st.tuples(*[st.integers(0, 255)] * 4),
)
values = st.recursive(leaves, lambda inner: st.lists(inner, max_size=3), max_leaves=8)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(values, max_size=5))
def test_infer_tag_matches_the_tags_encode_message_writes(args: list[Any]) -> None:
    tags = "".join(infer_tag(v) for v in args)
    assert OscMessage(encode_message("/x", args)).type_tags == tags
    assert build_msg("/x", args).type_tags == tags if args else True


@pytest.mark.parametrize(
    ("value", "tag"),
    [
        (1, "i"),
        (2**31, "h"),
        (-(2**63), "h"),
        (0.5, "f"),
        ("saw", "s"),
        (b"\x00", "b"),
        (bytearray(b"x"), "b"),
        (True, "T"),
        (False, "F"),
        (None, "N"),
        (INFINITUM, "I"),
        (Symbol("a"), "S"),
        (Char("a"), "c"),
        (Int64(1), "h"),
        (Double(1.0), "d"),
        (RGBA(1), "r"),
        ((1, 2, 3, 4), "m"),
        ((1, 2, 3), "[iii]"),
        ([1, [0.5, "x"], []], "[i[fs][]]"),
        (TimeTag.from_ntp(1), "t"),
        (np.int32(3), "i"),
        (np.float64(0.25), "f"),
        (np.array([1, 2]), "[ii]"),
    ],
)
def test_infer_tag_of_each_kind_of_value(value: Any, tag: str) -> None:
    assert infer_tag(value) == tag


def test_infer_tag_float_tag_d_applies_to_plain_floats_only() -> None:
    assert infer_tag([0.5, 1, Double(2.0)], float_tag="d") == "[did]"


@pytest.mark.parametrize("value", [object(), 2**64, {"a": 1}, 1j])
def test_infer_tag_refuses_values_that_have_no_osc_type(value: Any) -> None:
    with pytest.raises(BuildError):
        infer_tag(value)


def test_infer_tag_bounds_array_nesting() -> None:
    nested: list[Any] = []
    for _ in range(MAX_ARRAY_DEPTH + 1):
        nested = [nested]
    with pytest.raises(BuildError, match="nested"):
        infer_tag(nested)


def test_the_error_classes_are_importable_from_the_top_level_package() -> None:
    import osc_live
    from osc_live import errors

    for name in ("OscError", "ParseError", "BuildError", "FramingError", "NtpError"):
        assert getattr(osc_live, name) is getattr(errors, name)
        assert name in osc_live.__all__
    with pytest.raises(osc_live.OscError):
        OscMessage(b"/x\x00\x00,q\x00\x00")
