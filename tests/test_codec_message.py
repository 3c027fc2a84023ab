"""OscMessage, OscMessageBuilder and build_msg: API, equality, repr and parse errors."""

from __future__ import annotations

import copy
import pickle
from typing import Any

import pytest

from osc_live import osc_message_builder
from osc_live._codec_base import GENERATE_AFTER
from osc_live.errors import BuildError, ParseError
from osc_live.osc_message import MAX_ARRAY_DEPTH, OscMessage, encode_message
from osc_live.osc_message_builder import OscMessageBuilder, build_msg
from osc_live.parsing.osc_types import INFINITUM, Char, Symbol, TimeTag

NOTE = b"/synth/note\0,iifs\0\0\0\0\0\0<\0\0\0\x7f?\0\0\0saw\0"


def test_parse_note() -> None:
    msg = OscMessage(NOTE)
    assert msg.address == "/synth/note"
    assert msg.params == [60, 127, 0.5, "saw"]
    assert list(msg) == [60, 127, 0.5, "saw"]
    assert msg.type_tags == "iifs"
    assert msg.dgram == NOTE
    assert msg.size == len(NOTE)
    assert repr(msg) == "OscMessage('/synth/note', [60, 127, 0.5, 'saw'])"
    assert str(msg) == "/synth/note 60 127 0.5 saw"
    assert OscMessage.dgram_is_message(NOTE)
    assert not OscMessage.dgram_is_message(b"#bundle\0")


def test_params_is_a_copy() -> None:
    msg = OscMessage(NOTE)
    msg.params.append(1)
    assert msg.params == [60, 127, 0.5, "saw"]


def test_parse_accepts_bytearray_and_memoryview() -> None:
    assert OscMessage(bytearray(NOTE)) == OscMessage(NOTE)
    assert OscMessage(memoryview(NOTE)).dgram == NOTE
    with pytest.raises(ParseError):
        OscMessage("/a")  # type: ignore[arg-type]


def test_repeated_parse_uses_generated_parser_with_same_result() -> None:
    dgram = encode_message("/gen", [1, 2.5, "x", b"yz", [True, None], 2**40, Symbol("s")])
    first = OscMessage(dgram).params
    for _ in range(10):
        assert OscMessage(dgram).params == first
    bad = dgram[:-1]
    for _ in range(3):
        with pytest.raises(ParseError):
            OscMessage(bad)


def test_equality_and_hash() -> None:
    a = OscMessage(NOTE)
    b = OscMessage.from_parts("/synth/note", [60, 127, 0.5, "saw"])
    c = OscMessage.from_parts("/synth/note", [60, 127, 0.5, "sax"])
    assert a == b and hash(a) == hash(b)
    assert a != c
    assert a != NOTE
    assert len({a, b, c}) == 2
    nan = OscMessage.from_parts("/nan", [float("nan")])
    assert nan == OscMessage(nan.dgram)


def test_pickle() -> None:
    msg = OscMessage(NOTE)
    assert pickle.loads(pickle.dumps(msg)) == msg


def test_no_type_tag_string() -> None:
    msg = OscMessage(b"/old\0\0\0\0")
    assert msg.params == [] and msg.type_tags == ""
    assert OscMessage(b"/a\0\0,\0\0\0").params == []


def test_from_parts_params_are_what_parsing_gives() -> None:
    args: list[Any] = [0.1, (1.5, "x"), 2**40, True, None, INFINITUM, b"b", Char("c")]
    built = OscMessage.from_parts("/p", args)
    parsed = OscMessage(built.dgram)
    assert built.params == parsed.params
    assert [type(p) for p in built.params] == [type(p) for p in parsed.params]
    assert built.type_tags == parsed.type_tags == "f[fs]hTNIbc"


def test_from_parts_explicit_tags() -> None:
    msg = OscMessage.from_parts("/x", [1, 2, "s", 3], "fdSh")
    assert msg.type_tags == "fdSh"
    assert OscMessage(msg.dgram).params == msg.params == [1.0, 2.0, "s", 3]


def test_encode_message_arg_forms() -> None:
    assert encode_message("/a") == b"/a\0\0,\0\0\0"
    assert encode_message("/a", "text") == encode_message("/a", ["text"])
    assert encode_message("/a", 5) == encode_message("/a", [5])  # type: ignore[arg-type]
    assert encode_message("/a", iter([1, 2])) == encode_message("/a", (1, 2))
    assert encode_message("/a", [1, 2]) == encode_message("/a", (1, 2))


def test_timetag_argument() -> None:
    msg = OscMessage.from_parts("/t", [TimeTag.from_unix(1700000000.25)])
    assert msg.type_tags == "t"
    assert OscMessage(msg.dgram).params[0].unix == 1700000000.25


def test_builder_api() -> None:
    builder = OscMessageBuilder(address="/b")
    assert builder.address == "/b"
    builder.address = "/c"
    builder.add_arg(1)
    builder.add_arg(2.0, OscMessageBuilder.ARG_TYPE_DOUBLE)
    builder.add_arg([1, "x"], ["i", "s"])
    builder.add_arg("sym", builder.ARG_TYPE_SYMBOL)
    builder.add_arg("c", builder.ARG_TYPE_CHAR)
    builder.add_arg(None, builder.ARG_TYPE_INFINITUM)
    builder.add_arg(0, builder.ARG_TYPE_TIMETAG)
    builder.add_arg(None, builder.ARG_TYPE_TRUE)
    assert builder.args[:2] == [("i", 1), ("d", 2.0)]
    assert builder.args[2] == ("[", None)
    msg = builder.build()
    assert msg.address == "/c"
    assert msg.type_tags == "id[is]ScItT"
    assert msg.params == OscMessage(msg.dgram).params
    assert msg.params[:6] == [1, 2.0, [1, "x"], "sym", "c", INFINITUM]


def test_builder_errors() -> None:
    with pytest.raises(BuildError):
        OscMessageBuilder().build()
    with pytest.raises(BuildError):
        OscMessageBuilder("").build()
    builder = OscMessageBuilder("/a")
    with pytest.raises(ValueError):
        builder.add_arg(1, "x")
    with pytest.raises(ValueError):
        builder.add_arg(object())
    with pytest.raises(ValueError):
        builder.add_arg([1, 2], ["i"])
    builder.add_arg(2**40, "i")  # like python-osc, the value is only checked by build()
    with pytest.raises(BuildError):
        builder.build()


def test_builder_constants() -> None:
    names = {
        n: getattr(OscMessageBuilder, n) for n in dir(OscMessageBuilder) if n.startswith("ARG_")
    }
    assert names["ARG_TYPE_SYMBOL"] == "S"
    assert names["ARG_TYPE_CHAR"] == "c"
    assert names["ARG_TYPE_TIMETAG"] == "t"
    assert names["ARG_TYPE_INFINITUM"] == names["ARG_TYPE_IMPULSE"] == "I"
    assert set("ihfdsSbcrmtTFNI") <= set(names.values())


def test_build_msg() -> None:
    assert build_msg("/a").params == []
    assert build_msg("/a", "x").params == ["x"]
    assert build_msg("/a", b"x").params == [b"x"]
    assert build_msg("/a", 3).params == [3]
    assert build_msg("/a", [1, 2.5]).params == [1, 2.5]
    assert build_msg("/a", (1, 2, 3, 4)).params == [1, 2, 3, 4]
    assert osc_message_builder.ArgValue is not None


def test_deep_arrays() -> None:
    ok: list[Any] = [1]
    for _ in range(MAX_ARRAY_DEPTH - 1):
        ok = [ok]
    assert OscMessage(encode_message("/d", [ok])).params == [ok]
    with pytest.raises(BuildError):
        encode_message("/d", [[ok]])
    tags = "[" * (MAX_ARRAY_DEPTH + 1) + "]" * (MAX_ARRAY_DEPTH + 1)
    raw = ("," + tags).encode()
    with pytest.raises(ParseError, match="deeper"):
        OscMessage(b"/d\0\0" + raw + b"\0" * (4 - len(raw) % 4))
    raw = ("," + "[" * 100_000).encode()
    with pytest.raises(ParseError):
        OscMessage(b"/d\0\0" + raw + b"\0" * (4 - len(raw) % 4))


ERRORS: list[tuple[bytes, str, int]] = [
    (b"", "not NUL-terminated", 0),
    (b"/abc", "not NUL-terminated", 0),
    (b"/ab\0", "", -1),
    (b"/abcd\0", "padding", 0),
    (b"/\xff\0\0", "UTF-8", 1),
    (b"/a\0\0iii\0", "must start with ','", 4),
    (b"/a\0\0,i", "not NUL-terminated", 4),
    (b"/a\0\0,ix\0", "unknown OSC type tag 'x' at byte 6", 6),
    (b"/a\0\0,x\0\0\0\0\0\x01", "unknown OSC type tag 'x' at byte 5", 5),
    (b"/a\0\0,]\0\0", "unexpected ']'", 5),
    (b"/a\0\0,[\0\0", "missing ']'", 6),
    (b"/a\0\0,i\0\0\0\0\0", "too short for int32 at byte 8", 8),
    (b"/a\0\0,h\0\0\0\0\0\0\0\0\0", "too short for int64 at byte 8", 8),
    (b"/a\0\0,s\0\0abcd", "not NUL-terminated", 8),
    (b"/a\0\0,s\0\0abcd\0", "padding", 8),
    (b"/a\0\0,s\0\0\xc3\0\0\0", "UTF-8", 8),
    (b"/a\0\0,b\0\0\0\0\0\x05abcd", "runs past the end", 8),
    (b"/a\0\0,b\0\0\x80\0\0\0", "negative blob size", 8),
    (b"/a\0\0,b\0\0\0\0\0\x01x", "runs past the end", 8),
    (b"/a\0\0,c\0\0\0\x11\0\0", "not a Unicode code point", 8),
    (b"/a\0\0,c\0\0\0\0\xd8\0", "not a Unicode code point", 8),
    (b"/a\0\0,t\0\0\0\0\0\0", "timetag", 8),
    (b"/a\0\0,if\0" + b"\0\0\0\x01", "float32", 12),
    (b"/a\0\0,fi\0" + b"\0\0\0\0\x01", "int32", 12),
]


@pytest.mark.parametrize(("dgram", "text", "offset"), ERRORS)
def test_parse_errors_name_problem_and_offset(dgram: bytes, text: str, offset: int) -> None:
    if offset < 0:
        assert OscMessage(dgram).params == []
        return
    for _ in range(2):  # second time through the caches
        with pytest.raises(ParseError, match=text) as info:
            OscMessage(dgram)
        assert info.value.offset == offset


def test_truncated_trailing_float_is_padded_like_python_osc() -> None:
    assert OscMessage(b"/a\0\0,f\0\0\x3f\x80").params == [1.0]
    assert OscMessage(b"/a\0\0,if\0" + b"\0\0\0\x01\x3f").params == [1, 0.5]


def test_trailing_bytes_are_ignored_like_python_osc() -> None:
    assert OscMessage(b"/a\0\0,i\0\0\0\0\0\x01\0\0\0\0").params == [1]


# --- builder fast path: params computed on first use -----------------------------------------


def _built(address: str, *args: Any) -> OscMessage:
    builder = OscMessageBuilder(address)
    for arg in args:
        builder.add_arg(arg)
    return builder.build()


def test_builder_fast_path_params_are_computed_on_first_use() -> None:
    class Name(str):
        pass

    for _ in range(GENERATE_AFTER):  # the fast path takes a tag string once it is warm
        msg = _built("/synth/note", 60, 127, 0.1, Name("saw"), b"\x01\x02", True, None)
    assert msg.type_tags == "iifsbTN"
    assert object.__getattribute__(msg, "_params") is None  # not computed by build()
    assert not hasattr(msg, "__dict__")
    expected = OscMessage(msg.dgram).params
    assert msg.params == expected  # 0.1 rounded to 32 bits, the str subclass a plain str
    assert type(msg.params[3]) is str and msg.params[2] != 0.1
    assert msg._params is msg._params  # computed once, then kept
    assert list(msg) == expected and len(msg.params) == 7
    fresh = _built("/synth/note", 60, 127, 0.1, "saw")
    assert repr(fresh) == repr(OscMessage(fresh.dgram))
    assert str(fresh) == str(OscMessage(fresh.dgram))
    assert fresh == OscMessage(fresh.dgram) and hash(fresh) == hash(OscMessage(fresh.dgram))
    again = _built("/synth/note", 60, 127, 0.1, "saw")
    assert pickle.loads(pickle.dumps(again)).params == OscMessage(again.dgram).params
    assert copy.copy(_built("/c", 1.5)).params == [1.5]
    with pytest.raises(AttributeError, match="nope"):
        _ = msg.nope  # type: ignore[attr-defined]
    parsed = OscMessage(msg.dgram)
    with pytest.raises(AttributeError):
        _ = parsed._values


@pytest.mark.parametrize(
    "args",
    [
        (1,),
        (2**40,),  # h: not the add_arg fast path, still the generated encoder
        ("a", "bc", "def", "ghij"),
        (b"", b"xyz"),
        (True, False, None, 1.5, -3),
        tuple(range(70)),  # more items than any generated plan: the careful encoder
    ],
)
def test_builder_paths_agree_with_parsing(args: tuple[Any, ...]) -> None:
    msg = _built("/p", *args)
    parsed = OscMessage(msg.dgram)
    assert msg.dgram == encode_message("/p", list(args))
    assert msg.params == parsed.params and msg.type_tags == parsed.type_tags


def test_builder_bad_values_still_raise_build_error() -> None:
    builder = OscMessageBuilder("/bad")
    builder.add_arg("nul\0inside")
    with pytest.raises(BuildError):
        builder.build()
    builder = OscMessageBuilder("/bad")
    builder.add_arg(1.5, "i")
    with pytest.raises(BuildError):
        builder.build()
    builder = OscMessageBuilder("/bad")
    builder.args.append(("i", 1, "extra"))  # not a pair: the careful path names it
    with pytest.raises(BuildError, match="pairs"):
        builder.build()
