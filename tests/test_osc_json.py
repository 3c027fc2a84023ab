"""osc.js JSON packets (opt-in text frames) read into OSC bytes: types, bundles, bad input."""

from __future__ import annotations

import json

import pytest

from osc_live._osc_json import json_to_packet
from osc_live.errors import OscError
from osc_live.osc_bundle import OscBundle
from osc_live.osc_message import OscMessage


def _message(obj: object) -> OscMessage:
    return OscMessage(json_to_packet(json.dumps(obj)))


def test_bare_values_inferred_as_osc_js_does() -> None:
    m = _message({"address": "/x", "args": [1, 2.5, "s", True, False, None, [1, "a"]]})
    assert OscMessage(m.dgram).params == [1.0, 2.5, "s", True, False, None, [1.0, "a"]]
    tags = m.dgram[4:].split(b"\0", 1)[0]
    assert tags == b",ffsTFN[fs]"


def test_typed_arguments_every_osc_js_type() -> None:
    m = _message(
        {
            "address": "/t",
            "args": [
                {"type": "i", "value": -3},
                {"type": "h", "value": 1 << 40},
                {"type": "f", "value": 0.5},
                {"type": "d", "value": 0.1},
                {"type": "s", "value": "str"},
                {"type": "S", "value": "sym"},
                {"type": "c", "value": "A"},
                {"type": "b", "value": [0, 1, 255]},
                {"type": "t", "value": {"raw": [3, 5]}},
                {"type": "r", "value": {"r": 255, "g": 0, "b": 128, "a": 1}},
                {"type": "m", "value": [0, 0x90, 60, 127]},
                {"type": "T"},
                {"type": "F"},
                {"type": "N"},
                {"type": "I"},
            ],
        }
    )
    tags = m.dgram[4:].split(b"\0", 1)[0]
    assert tags == b",ihfdsScbtrmTFNI"
    p = m.params
    assert p[0] == -3 and p[1] == 1 << 40 and p[2] == 0.5 and p[3] == 0.1
    assert p[4] == "str" and p[5] == "sym" and p[6] == "A" and p[7] == b"\x00\x01\xff"
    assert m.dgram.count((3).to_bytes(4, "big") + (5).to_bytes(4, "big")) == 1
    assert p[9] == 0xFF008001 and tuple(p[10]) == (0, 0x90, 60, 127)
    assert p[11:14] == [True, False, None]


def test_bundles_nested_and_timetags() -> None:
    packet = json_to_packet(
        json.dumps(
            {
                "timeTag": {"native": 1_700_000_000_000},
                "packets": [
                    {"address": "/a", "args": 1},
                    {"timeTag": {"raw": [0, 1]}, "packets": [{"address": "/b"}]},
                ],
            }
        )
    )
    bundle = OscBundle(packet)
    assert abs(bundle.timestamp - 1_700_000_000) < 1e-3
    assert bundle.content(0).address == "/a" and bundle.content(0).params == [1.0]
    assert bundle.content(1).timetag == 1


@pytest.mark.parametrize(
    "text",
    [
        "{",
        "[]",
        '{"args": []}',
        '{"address": "/x", "args": [{"type": "i", "value": "x"}]}',
        '{"address": "/x", "args": [{"type": "zz"}]}',
        '{"address": "/x", "args": [{"type": "q", "value": 1}]}',
        '{"packets": 3}',
        '{"timeTag": {"raw": [1]}, "packets": []}',
        '{"address": "/x", "args": [{"nope": 1}]}',
        '{"address": "/x", "args": ' + "[" * 50 + "]" * 50 + "}",
        "[" * 100_000,
    ],
)
def test_bad_json_raises_value_error(text: str) -> None:
    with pytest.raises((ValueError, OscError)):
        json_to_packet(text)
