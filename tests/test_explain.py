"""explain: annotated bytes of messages, bundles and TCP framings (checked against the codec)."""

from __future__ import annotations

import pytest

from osc_live.commands.annotate import annotate, explain_packet
from osc_live.errors import ParseError
from osc_live.framing import make_framer
from osc_live.osc_bundle import OscBundle
from osc_live.osc_message import OscMessage, encode_message


def test_fields_cover_every_byte_in_order() -> None:
    data = encode_message("/fx/reverb", [0.3, "hi", b"\xc0\x01", True, 192, 2**40, 0.5], "fsbTihd")
    fields = annotate(data)
    assert b"".join(f.data for f in fields) == data
    offsets = [f.offset for f in fields]
    assert offsets == sorted(offsets)
    parts = [f.part for f in fields]
    assert parts[:4] == ["address", "padding", "type tags", "padding"]
    assert "arg T" in parts and "blob data" in parts
    meanings = " ".join(f.meaning for f in fields)
    assert "'/fx/reverb'" in meanings and "int64 big-endian = 1099511627776" in meanings
    assert (
        "float32 IEEE 754 = 0.3 (the nearest float32: exactly 0.300000011920928955078125)"
        in meanings
    )


def test_nested_bundle() -> None:
    inner = OscBundle.from_contents(1, [OscMessage.from_parts("/b", [1])])
    outer = OscBundle.from_contents(1, [OscMessage.from_parts("/a", ["x"]), inner])
    fields = annotate(outer.dgram)
    assert b"".join(f.data for f in fields) == outer.dgram
    assert [f.part for f in fields].count("bundle") == 2
    assert max(f.depth for f in fields) == 2
    assert fields[1].meaning == "1 = immediately"


@pytest.mark.parametrize("mode", ["1.0", "1.1"])
def test_tcp_framings_match_the_framer(mode: str) -> None:
    data = encode_message("/x", [b"\xc0\xdb\x00", 0xC0])
    explanation = explain_packet(data, tcp=mode)
    assert explanation.wire == make_framer(mode).frame(data)
    assert b"".join(f.data for f in explanation.fields) == explanation.wire
    text = str(explanation)
    if mode == "1.0":
        assert "size prefix" in text and f"= {len(data)} bytes follow" in text
    else:
        assert text.count("SLIP END") == 2 and "SLIP escaped" in text


def test_text_and_html_rendering() -> None:
    explanation = explain_packet(encode_message("/a/long/address/here", ["<b>"]))
    text = str(explanation)
    assert text.splitlines()[1].split() == ["offset", "bytes", "ascii", "part", "meaning"]
    html = explanation._repr_html_()
    assert html.count("<tr>") == len(explanation.rows()) + 1
    assert "&lt;b&gt;" in html  # escaped


@pytest.mark.parametrize(
    "data",
    [
        b"/x\x00",
        b"/x\x00\x00,i\x00\x00\x00\x00",
        b"#bundle\x00\x00",
        b"nope",
        b"/x\x00\x00,q\x00\x00",
    ],
)
def test_malformed_bytes_raise_parse_error(data: bytes) -> None:
    with pytest.raises(ParseError):
        annotate(data)
