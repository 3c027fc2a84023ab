"""Notebook 02-tcp-bundles-timetags.ipynb.

TCP framings (OSC 1.0 sizes, OSC 1.1 SLIP), bundles and timetags, the asyncio client.
"""

from __future__ import annotations

import nbformat

from .common import CONNECT, FIND_SYNTH, FIND_SYNTH_MD, code, md

FILENAME = "02-tcp-bundles-timetags.ipynb"


def cells() -> list[nbformat.NotebookNode]:
    return [
        md("""
# TCP, bundles and timetags

UDP sends each OSC packet as one datagram: fast, but packets can be lost or reordered, and a
datagram has a size limit. **TCP** is a reliable byte *stream*, so packets need *framing* to be
told apart:

* **OSC 1.0** puts a 4-byte big-endian size before each packet (SuperCollider's framing);
* **OSC 1.1** wraps each packet in **SLIP** (RFC 1055): a `0xC0` byte ends each frame, and
  `0xC0` / `0xDB` inside the data are escaped.

**Bundles** group messages that must happen together, with a **timetag**: "run these at
21:30:00.250". This notebook sends over both framings and schedules bundles.
"""),
        code("%load_ext osc_live"),
        md(FIND_SYNTH_MD),
        code(FIND_SYNTH),
        code(CONNECT),
        md("""
## 1. Two TCP targets, two framings

`tcp://synth` is the virtual synth's TCP port: it detects the framing of each connection.
`--mode` chooses ours. `@name` sends to a named target instead of the default one.
"""),
        code("""
%osc connect slip tcp://synth --mode 1.1
%osc connect sized tcp://synth --mode 1.0
%osc send @slip /ping 1
%osc send @sized /ping 2"""),
        md("""
The same message, framed both ways. With OSC 1.0 the first four bytes are the size; with
OSC 1.1 the frame starts and ends with `0xC0`:
"""),
        code("%osc explain --tcp 1.0 /ping 1"),
        code("%osc explain --tcp 1.1 /ping 1"),
        md("A blob (`b:` hex bytes) containing `0xC0` and `0xDB` shows SLIP's escapes:"),
        code("%osc explain --tcp 1.1 /blob b:c0db00"),
        md("""
## 2. Bundles

In a `%%osc` cell each line is a message. `--bundle` sends them as one bundle (delivered
together, "immediately"); `--at +0.5` timetags the bundle half a second from now: the receiver
holds it and runs all its messages at that time. A timetag is NTP time: seconds since
1900-01-01 in 32 bits, plus a 32-bit fraction of a second.
"""),
        code("%osc explain --bundle --at +0.5 /n_set 1002 freq 440"),
        code("""
import time

sent_at = time.time()"""),
        code("""
%%osc @slip --at +0.5
# a synth node and a change of amplitude, both due in 0.5 s
/s_new $SYNTHDEF 1002 0 0 freq 330 amp 0.1
/n_set 1002 amp 0.05"""),
        md("""
The virtual synth records when it ran each message. Wait, then look: `/s_new` and `/n_set` ran
about 0.5 s after they were sent, together. (Nothing sleeps in osc_live: scheduled messages
wait on timers, so the kernel stays free meanwhile.)
"""),
        code(
            """
import asyncio

from osc_live.live import session

await asyncio.sleep(0.8)
ran = [
    r
    for r in session().synth.history
    if r.address in ("/s_new", "/n_set") and 1002 in r.args and r.arrived >= sent_at
]  # since the cell above sent them (not an earlier run's)
[(r.address, r.transport, f"ran {r.arrived - sent_at:.2f} s after sending") for r in ran]""",
            id="scheduled",
        ),
        md("""
SuperCollider schedules timetagged bundles with sample accuracy: this is how patterns stay in
time over a jittery network. With `scsynth` connected, try the `%%osc` cell above with `@sc`.
"""),
        md("""
## 3. The python-osc API, and asyncio

osc_live is a drop-in replacement for python-osc: the builders and clients have the same
names. A bundle built by hand:
"""),
        code("""
from osc_live import osc_bundle_builder, osc_message_builder

built_at = time.time()
bundle = osc_bundle_builder.OscBundleBuilder(built_at + 0.25)
for freq in (261.63, 329.63, 392.0):  # C major
    msg = osc_message_builder.OscMessageBuilder(address="/chord")
    msg.add_arg(freq)
    bundle.add_content(msg.build())
bundle = bundle.build()
session().target("slip").send(bundle)
bundle"""),
        md("""
The asyncio TCP client works as in python-osc's documentation, `asyncio.run(...)` included:
`%load_ext osc_live` made the kernel's event loop re-entrant (with `nest_asyncio2`) for that.
The virtual synth answers `/ping` with `/pong`:
"""),
        code(
            """
from osc_live import tcp_client

synth_host, synth_port = session().synth.tcp_address


async def ping_pong():
    async with tcp_client.AsyncTCPClient(synth_host, synth_port, mode="1.1") as client:
        await client.send_message("/ping", ["hello", 42])
        async for message in client.receive(timeout=2):
            return message.address, message.params


pong = asyncio.run(ping_pong())
pong""",
            id="pong",
        ),
        md("""
The chord bundle was due 0.25 s after it was built. Once that time has passed, the synth has
run its three messages, in order, at the same moment (the frequencies travelled as float32:
rounded here to the 2 decimals they were written with):
"""),
        code(
            """
await asyncio.sleep(0.3)
chord = [r for r in session().synth.history if r.address == "/chord" and r.arrived >= built_at]
gap = chord[-1].arrived - chord[0].arrived
[(round(r.args[0], 2), r.transport) for r in chord], f"{gap * 1000:.1f} ms apart"
""",
            id="chord",
        ),
        code("%osc send /n_free 1002"),
    ]
