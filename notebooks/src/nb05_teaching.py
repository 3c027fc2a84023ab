"""Notebook 05-teaching-osc.ipynb.

OSC byte by byte for a class, with self-checking exercises.
"""

from __future__ import annotations

import nbformat

from .common import code, md

FILENAME = "05-teaching-osc.ipynb"


def cells() -> list[nbformat.NotebookNode]:
    return [
        md("""
# Teaching OSC: what is in a packet?

For a class: project this notebook and take an OSC packet apart, byte by byte. Everything here
runs offline. Each section ends with a question; the **exercises** at the end have solution cells
that check themselves.

An OSC *message* is: an **address** (a string starting with `/`), a **type tag string** (`,`
then one letter per argument) and the **arguments**. Strings end with a NUL byte and are padded
with NULs to a multiple of 4 bytes; numbers are big-endian.
"""),
        code("%load_ext osc_live"),
        code("%osc explain /hello"),
        md("""
`/hello` is 6 characters; with its NUL terminator 7; padded to 8. The type tag string `,` with
no arguments is padded to 4. Total 12 bytes.

*Question:* how long are `/hi`, `/hey` and `/hiya`? Predict, then check:
"""),
        code("""
from osc_live.osc_message import OscMessage, encode_message

{address: len(encode_message(address)) for address in ["/hi", "/hey", "/hiya", "/hello!!"]}"""),
        md("""
## Types

| tag | type | bytes |
|---|---|---|
| `i` | int32 | 4 |
| `f` | float32 (IEEE 754) | 4 |
| `s` | string | padded to 4 |
| `b` | blob: int32 size + bytes | padded to 4 |
| `h` / `d` | int64 / float64 | 8 |
| `T` `F` `N` `I` | true, false, nil, infinitum | 0: the tag is the value |
| `t` | timetag (NTP) | 8 |
"""),
        code("%osc explain /types 1 2.5 'two words' True None b'\\x01\\x02' d:0.1 h:5"),
        md("""
## Floats are 32 bits

`f` keeps about 7 significant digits: 0.1 cannot be stored exactly. What comes back from the
wire is the nearest float32. This is why osc_live's two-way widgets compare values with a
tolerance: otherwise a slider at 0.95 would receive 0.949999988, "change", and send it again,
forever.
"""),
        code("""
received = OscMessage(encode_message("/x", [0.95])).params[0]
received, received == 0.95, abs(received - 0.95) < 1e-6"""),
        md("""
## Bundles and time

A bundle starts with `#bundle`, then an 8-byte **timetag** (NTP: seconds since 1900 in 32 bits,
fraction of a second in 32 bits, so about 0.23 ns resolution), then each element with its size.
The special timetag `1` means "immediately".
"""),
        code("%osc explain --bundle --at +1 /chord 60"),
        code("""
from osc_live.parsing.ntp import ntp_to_unix, unix_to_ntp

now = 1_700_000_000.25  # a Unix time
tag = unix_to_ntp(now)
hex(tag), tag >> 32, (tag & 0xFFFFFFFF) / 2**32, ntp_to_unix(tag)"""),
        md("""
## Streams: framing on TCP

A TCP connection carries bytes, not packets. OSC 1.0 puts the size first; OSC 1.1 uses SLIP:
`0xC0` ends a frame, and a `0xC0` or `0xDB` in the data is replaced by `0xDB 0xDC` or
`0xDB 0xDD`.
"""),
        code("%osc explain --tcp 1.0 /a 1"),
        code("%osc explain --tcp 1.1 /blob b:c0db"),
        md("""
## Address patterns: one message, many receivers

The *sender* may put a pattern in the address; the receiver delivers the message to every one of
its methods that matches: `?` one character, `*` any run of characters within one part (never
across a `/`), `[1-4]` a range, `[!1-3]` anything but, `{gain,pan}` alternatives. A mixer with
four channels, without any network:
"""),
        code(
            """
from osc_live.dispatcher import Dispatcher

reached = []
mixer = Dispatcher()
for channel in (1, 2, 3, 4):
    for control in ("gain", "pan"):
        method = f"/mixer/{channel}/{control}"
        mixer.map(method, lambda address, *args, method=method: reached.append(method))


def send_pattern(pattern):
    reached.clear()
    mixer.call_handlers_for_packet(encode_message(pattern, [0.5]), ("127.0.0.1", 9000))
    return sorted(reached)


hits = {p: send_pattern(p) for p in ["/mixer/*/gain", "/mixer/[1-2]/gain", "/mixer/3/{gain,pan}"]}
hits""",
            id="hits",
        ),
        md("""
## Exercises

1. **Size.** How many bytes is `/a/b 1 2.0 "x"`? Work it out on paper (address, tags, each
   argument), then check.
2. **By hand.** Build the bytes of `/hi 1` with `struct.pack` and compare with
   `encode_message("/hi", [1])`.
3. **Patterns.** Which methods of the mixer do `/mixer/[!1-3]/*`, `/mixer/?/p*` and `/*/gain`
   reach? (Careful with the last one.)
4. **A chord.** Send three `/s_new` messages as one bundle due one second from now, with a
   `%%osc --at +1` cell, to the virtual synth (`%osc connect`).
5. **Float32.** Which of 0.5, 0.1, 0.75, 0.3 survive a float32 round trip exactly? Why?

Solutions follow (each checks itself).
"""),
        code(
            """
# 1. /a/b -> 4 chars + NUL = 5 -> 8;  ",ifs" -> 4 + NUL = 5 -> 8;  i: 4;  f: 4;  "x" + NUL -> 4
answer_1 = 8 + 8 + 4 + 4 + 4
assert answer_1 == len(encode_message("/a/b", [1, 2.0, "x"]))
answer_1""",
            id="answer-1",
        ),
        code(
            """
# 2.
import struct

by_hand = b"/hi\\0" + b",i\\0\\0" + struct.pack(">i", 1)
assert by_hand == encode_message("/hi", [1])
by_hand""",
            id="answer-2",
        ),
        code(
            """
# 3. '[!1-3]' is channel 4 only; '?' any one character; '*' never crosses a '/':
#    '/*/gain' has two parts and every method has three, so it reaches nothing.
matching = {p: send_pattern(p) for p in ["/mixer/[!1-3]/*", "/mixer/?/p*", "/*/gain"]}
assert matching == {
    "/mixer/[!1-3]/*": ["/mixer/4/gain", "/mixer/4/pan"],
    "/mixer/?/p*": ["/mixer/1/pan", "/mixer/2/pan", "/mixer/3/pan", "/mixer/4/pan"],
    "/*/gain": [],
}
matching""",
            id="answer-3",
        ),
        code("%osc connect"),
        code("""
%%osc --at +1
# 4. C major, one second from now
/s_new default 2001 0 0 freq 261.63
/s_new default 2002 0 0 freq 329.63
/s_new default 2003 0 0 freq 392.0"""),
        code(
            """
import asyncio

from osc_live.live import session

await asyncio.sleep(1.3)
chord = [r.args[1] for r in session().synth.history if r.address == "/s_new"][-3:]  # this run's
assert chord == [2001, 2002, 2003], chord
%osc send /n_free 2001 2002 2003
chord""",
            id="answer-4",
        ),
        code(
            """
# 5. exactly representable: a sum of powers of two with few enough bits (0.5, 0.75)
exact = [x for x in (0.5, 0.1, 0.75, 0.3) if OscMessage(encode_message("/x", [x])).params[0] == x]
assert exact == [0.5, 0.75]
exact""",
            id="answer-5",
        ),
    ]
