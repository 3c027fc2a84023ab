"""Write the seed corpus of the fuzz target (tests/fuzz/corpus/seed-*): valid and broken
messages of every type tag, nested bundles and framed streams.  Re-run after changing it:

    .venv/bin/python tests/fuzz/make_seeds.py
"""

from __future__ import annotations

import hashlib
import struct
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from osc_live.framing import SizePrefixFramer, SlipFramer  # noqa: E402
from osc_live.osc_bundle import OscBundle  # noqa: E402
from osc_live.osc_message import OscMessage, encode_message  # noqa: E402
from osc_live.parsing.osc_types import (  # noqa: E402
    INFINITUM,
    RGBA,
    Char,
    Double,
    Int64,
    MidiPacket,
    Symbol,
    TimeTag,
)

CORPUS = Path(__file__).resolve().parent / "corpus"


def messages() -> list[bytes]:
    """Valid messages covering every tag, arrays, and the generated-encoder shapes."""
    args = [
        [],
        [60, 127, 0.5, "saw"],
        [1, 2**40, 0.25, Double(1e300), "é", Symbol("sym"), b"\x00\xc0\xdb", Char("x")],
        [True, False, None, INFINITUM, RGBA(0x11223344), MidiPacket(1, 144, 60, 100)],
        [TimeTag.from_ntp(1), TimeTag.from_ntp(2**63 + 5), Int64(-1)],
        [[1, [2.5, ["deep"]], []], "after"],
        [float("nan"), float("inf"), -0.0],
        [b"", b"a", b"ab", b"abc", b"abcd"],
        ["", "a" * 3, "b" * 4, "c" * 5],
    ]
    out = [encode_message("/synth/note", a) for a in args]
    out.append(encode_message("/*/x/{a,b}/[!c-d]?//y", [1]))
    out.append(b"/c\0\0,ici\0\0\0\0" + struct.pack(">iIi", 1, 0x41000000, 2))  # osc4py3 char
    out.append(b"/noTags\0")  # no type tag string at all (OSC 1.0 allows it)
    return out


def broken(valid: list[bytes]) -> list[bytes]:
    """Typical defects: truncations, bad tags, bad sizes, bad UTF-8, unbalanced arrays."""
    out = [v[: len(v) // 2] for v in valid if len(v) > 8]
    out += [
        b"/a\0\0,z\0\0",
        b"/a\0\0,[i\0\0\0\0\0\1",
        b"/a\0\0,]\0\0",
        b"/a\0\0,b\0\0\x7f\xff\xff\xff",
        b"/a\0\0,s\0\0\xff\xfe\0\0",
        b"/\xc3\0\0,\0\0\0",
        b"/a\0\0i\0\0\0",
        b"#bundle\0",
        b"#bundle\0" + bytes(8) + b"\0\0\0\3abc",
        b"#bundle\0" + bytes(8) + b"\0\0\1\0/x\0\0",
        b"/a\0\0," + b"[" * 40 + b"\0" * 3,
    ]
    return out


def bundles(valid: list[bytes]) -> list[bytes]:
    """Bundles: flat, nested, immediate and dated."""
    msgs = [OscMessage(v) for v in valid[:4]]
    inner = OscBundle.from_contents(2**32 * 4_000_000_000, msgs[:2])
    outer = OscBundle.from_contents(1, [msgs[2], inner, msgs[3]])
    deep = outer
    for _ in range(5):
        deep = OscBundle.from_contents(1, [deep])
    return [inner.dgram, outer.dgram, deep.dgram, OscBundle.from_contents(1, []).dgram]


def streams(packets: list[bytes]) -> list[tuple[int, bytes]]:
    """(framer kind, stream) pairs: size-prefixed, SLIP with and without leading END, mixed."""
    size = SizePrefixFramer().frame
    slip = SlipFramer().frame
    out = [
        (0, b"".join(size(p) for p in packets[:4])),
        (1, b"".join(slip(p) for p in packets[:4])),
        (1, slip(packets[1])[1:] + slip(packets[2])),
        (1, b"\xc0" + b"\xdb" * 50 + b"\xc0" + slip(packets[0])),
        (2, b"".join(slip(p) for p in packets[2:5])),
        (2, b"".join(size(p) for p in packets[2:5])),
        (0, b"\xff\xff\xff\xff" + packets[0]),
        (0, b"\0\0\0\0" + size(packets[1])),
    ]
    return out


def main() -> None:
    """(Re)write tests/fuzz/corpus/seed-*."""
    CORPUS.mkdir(parents=True, exist_ok=True)
    for old in CORPUS.glob("seed-*"):
        old.unlink()
    valid = messages()
    packets = valid + bundles(valid)
    inputs: list[bytes] = []
    for p in valid + broken(valid):
        inputs.append(b"\0" + p)  # as a message
        inputs.append(b"\2" + p)  # as a packet
    for b in bundles(valid):
        inputs.append(b"\1" + b)
        inputs.append(b"\2" + b)
    for kind, stream in streams(packets):
        for chunk in (0, 3, 16):  # chunk sizes 1, 4 and 17 bytes
            inputs.append(bytes([3 + kind, chunk]) + stream)
    for data in inputs:
        name = "seed-" + hashlib.sha1(data).hexdigest()[:16]
        (CORPUS / name).write_bytes(data)
    print(f"{len(inputs)} seeds in {CORPUS}")


if __name__ == "__main__":
    main()
