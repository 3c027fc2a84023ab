"""Generate the osc_live notebooks from code: ``python notebooks/make_notebooks.py``.

The ``.ipynb`` files are written without outputs (``tests/test_notebooks.py`` executes every one
with a real kernel and checks that the committed files equal what this script generates).

Environment variables the notebooks read (all optional):

``OSC_LIVE_SCSYNTH``   ``off``: never use SuperCollider; ``udp://host:port`` or ``tcp://host:port``:
                       use that scsynth; unset (``auto``): ask 127.0.0.1:57110 for ``/status`` when
                       an ``scsynth`` program is installed. Without one the built-in virtual synth
                       stands in, so every notebook runs with no external program.
``OSC_LIVE_SYNTHDEF``  the SynthDef to start on scsynth (default ``default``: the one sclang
                       loads; it has ``freq`` and ``amp`` controls).
``OSC_LIVE_LISTEN_PORT``  the UDP port notebook 04 listens on (default 9000).

The last cell of each notebook prints one line ``OSC_LIVE_SUMMARY {json}`` with kernel-side
state (values received, slider values, counters) for the tests: output written by background
callbacks is not saved by headless runs, a cell's own ``print`` is.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent

# ---------------------------------------------------------------------------- shared cells
FIND_SYNTH = '''\
import os
import shutil

from osc_live.udp_client import SimpleUDPClient


def find_scsynth(timeout=0.3):
    """The URL of a running SuperCollider server, or None (the virtual synth stands in).

    OSC_LIVE_SCSYNTH=off never looks; =udp://host:port or tcp://host:port uses that server;
    unset: ask 127.0.0.1:57110 (scsynth's usual port) for /status if scsynth is installed.
    """
    url = os.environ.get("OSC_LIVE_SCSYNTH", "auto")
    if url == "off" or (url == "auto" and shutil.which("scsynth") is None):
        return None
    if url == "auto":
        url = "udp://127.0.0.1:57110"
    if url.startswith("udp://"):
        host, port = url.removeprefix("udp://").rsplit(":", 1)
        try:
            with SimpleUDPClient(host, int(port)) as probe:
                probe.send_message("/status", [])
                if not any(m.address == "/status.reply" for m in probe.get_messages(timeout)):
                    return None
        except OSError:
            return None
    return url


SC_URL = find_scsynth()
SYNTHDEF = os.environ.get("OSC_LIVE_SYNTHDEF", "default")
print("synth:", SC_URL or "osc_live's virtual synth (no scsynth found)")'''

CONNECT = """\
%osc connect
# SuperCollider found? Connect to it too: the last connected target is the default one.
if SC_URL and SC_URL.startswith("tcp://"):
    %osc connect sc $SC_URL --mode 1.0
elif SC_URL:
    %osc connect sc $SC_URL"""

FIND_SYNTH_MD = """\
### Which synth?

The next cell looks for a running SuperCollider server (`scsynth`): it sends `/status` to port
57110 and waits 0.3 s for `/status.reply`. If there is none, osc_live's **virtual synth** stands
in: a small OSC server inside the kernel that understands the same commands (`/s_new`, `/n_set`,
`/s_get`, `/n_free`, `/status`...) and records everything it receives. Set the environment
variable `OSC_LIVE_SCSYNTH` to `udp://host:port` to point at another server, or to `off`."""


def md(text: str) -> nbformat.NotebookNode:
    return new_markdown_cell(text.strip("\n"))


def code(text: str) -> nbformat.NotebookNode:
    return new_code_cell(text.strip("\n"))


def summary(fields: str) -> nbformat.NotebookNode:
    """The last cell: a JSON line of kernel-side state (read by tests/test_notebooks.py)."""
    return code(
        "# One line of kernel-side state, for the automated run of this notebook (tests).\n"
        "import json\n\n"
        f"summary = {{\n{fields}\n}}\n"
        'print("OSC_LIVE_SUMMARY", json.dumps(summary, default=str))'
    )


# ---------------------------------------------------------------------------- 01
def quickstart() -> list[nbformat.NotebookNode]:
    return [
        md("""
# osc_live quickstart: OSC in five minutes

**Open Sound Control** (OSC) is how music software, synths, phones, sensors and lighting desks
talk to each other: small messages made of an *address* (`/fx/reverb`) and *arguments*
(`0.3`), usually sent over UDP.

In this notebook you will: connect to a synth, send messages, look at their bytes, see the
answers, and move a synth's frequency with a slider. Nothing needs to be installed: if no
SuperCollider server runs, osc_live's built-in virtual synth answers instead.
"""),
        code("%load_ext osc_live"),
        md("`%load_ext osc_live` adds the `%osc` command. `%osc help` lists everything it does."),
        code("%osc help"),
        md(FIND_SYNTH_MD),
        code(FIND_SYNTH),
        md("""
## 1. Connect

`%osc connect` with no address starts the virtual synth and makes it the *default target*:
where messages go when you do not name a target. `%osc connect sc udp://127.0.0.1:57110` would
connect to SuperCollider under the name `sc`. Targets can be UDP or TCP (`tcp://host:port`,
see notebook 02). `$SC_URL` takes the value of the Python variable `SC_URL`.
"""),
        code(CONNECT),
        md("""
## 2. Send

`%osc send /address arguments...`. Arguments are Python literals: ints, floats, strings (a bare
word is a string too), `True`/`False`, `None`, lists, bytes. The result is the message that was
sent.

SuperCollider's server speaks a documented OSC dialect: `/s_new synthdef node-id add-action
target-id control value ...` starts a synth node; `/n_set node-id control value` changes one
of its controls. Let's start node 1001.
"""),
        code("%osc send /s_new $SYNTHDEF 1001 0 0 freq 440 amp 0.1"),
        code("%osc send /n_set 1001 freq 660.0"),
        md("""
Python values come in with `$name`, and whole expressions with `{{expression}}`. Some devices
insist on a type: `i:3` is an int32, `f:3` a float32, `d:0.1` a float64, `s:440` a string.
"""),
        code("""
base = 220
%osc send /n_set 1001 freq {{base * 3}}
%osc send /n_set 1001 amp f:0.1"""),
        md("""
## 3. What exactly was sent?

`%osc explain` shows the bytes of a message: the address, NUL padding to a multiple of four
bytes, the type tags (`,isf`: int, string, float) and each argument in big-endian order.
Notebook 05 is all about this.
"""),
        code("%osc explain /n_set 1001 freq 660.0"),
        md("""
## 4. Answers

Ask the synth what its frequency is: `/s_get 1001 freq` is answered with
`/n_set 1001 freq <value>`. Answers come back to the port we sent from, and osc_live feeds them
to its dispatcher, where `%osc on /pattern function` calls your function.
`%osc monitor` shows a live table of everything sent and received.

Answers arrive on the kernel's event loop: between cells, or while a cell `await`s (a
`time.sleep` would block them).
"""),
        code("""
answers = []


def remember(address, *args):
    answers.append((address, *args))


%osc on /n_set remember
%osc monitor"""),
        code("""
import asyncio

%osc send /s_get 1001 freq
await asyncio.sleep(0.3)  # let the answer arrive
answers"""),
        md("""
## 5. A slider

`osc_live.slider(address, min, max, ...)` is a real ipywidgets slider that sends its value to
the address, at most 60 times a second and always the final value. `args=(1001, "freq")` puts
`1001 "freq"` before the value: moving it sends `/n_set 1001 freq <value>`. `log=True` makes a
logarithmic slider, as ears like. Drag it!
"""),
        code("""
import osc_live

freq = osc_live.slider("/n_set", 110, 1760, args=(1001, "freq"), log=True, value=660)
freq"""),
        md("Code can move it too (that sends the message, like the mouse does):"),
        code("freq.value = 880"),
        md("""
## 6. Status and clean up

`%osc status` lists targets, listeners and counters. The button below sends `/n_free 1001`,
which stops the node (with SuperCollider: the tone). When you are done, `%osc close all` closes
every socket osc_live opened (restarting the kernel does too).

**Next:** `02-tcp-bundles-timetags` (TCP, bundles, scheduling), `03-sliders-drive-a-synth`
(a panel of sliders), `04-receive-monitor-plot` (listening, live plots), `05-teaching-osc`
(packets byte by byte, with exercises).
"""),
        code("%osc status"),
        code("""
stop = osc_live.button("/n_free", 1001, description="stop node 1001")
stop"""),
        summary(
            '    "notebook": "01-quickstart",\n'
            '    "synth": SC_URL or "virtual",\n'
            '    "answers": answers,\n'
            '    "slider_value": freq.value,\n'
            '    "slider_sent": freq.osc.sent,\n'
            '    "slider_last_sent": freq.osc.last_sent,\n'
            '    "totals": dict(osc_live.live.session().traffic.totals),'
        ),
    ]


# ---------------------------------------------------------------------------- 02
def tcp_bundles() -> list[nbformat.NotebookNode]:
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
        code("""
import asyncio

from osc_live.live import session

await asyncio.sleep(0.8)
ran = [r for r in session().synth.history if r.address in ("/s_new", "/n_set") and 1002 in r.args]
delays = [round(r.arrived - sent_at, 2) for r in ran]
[(r.address, r.transport, f"ran {r.arrived - sent_at:.2f} s after sending") for r in ran]"""),
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

bundle = osc_bundle_builder.OscBundleBuilder(time.time() + 0.25)
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
        code("""
from osc_live import tcp_client

synth_host, synth_port = session().synth.tcp_address


async def ping_pong():
    async with tcp_client.AsyncTCPClient(synth_host, synth_port, mode="1.1") as client:
        await client.send_message("/ping", ["hello", 42])
        async for message in client.receive(timeout=2):
            return message.address, message.params


pong = asyncio.run(ping_pong())
pong"""),
        code("""
await asyncio.sleep(0.3)  # the chord bundle was due 0.25 s after it was built
%osc send /n_free 1002"""),
        summary(
            '    "notebook": "02-tcp-bundles-timetags",\n'
            '    "synth": SC_URL or "virtual",\n'
            '    "transports": sorted({r.transport for r in session().synth.history}),\n'
            '    "bundle_delays": delays,\n'
            '    "pong": pong,\n'
            '    "chord": [r.args for r in session().synth.history if r.address == "/chord"],'
        ),
    ]


# ---------------------------------------------------------------------------- 03
def sliders() -> list[nbformat.NotebookNode]:
    return [
        md("""
# Sliders drive a synth

A panel of sliders bound to the controls of a running synth node. Each slider is a real
ipywidgets control that sends `/n_set <node> <control> <value>` when it moves: rate-limited
(60 messages a second at most, and always the final value) and two-way (a message coming back
on the same address moves the slider without being sent again).
"""),
        code("""
%load_ext osc_live
import asyncio

import osc_live"""),
        md(FIND_SYNTH_MD),
        code(FIND_SYNTH),
        code(CONNECT),
        md("## 1. A synth node\n\nStart node 1003 of the SynthDef (it has `freq` and `amp`)."),
        code("""
NODE = 1003
%osc send /s_new $SYNTHDEF $NODE 0 0 freq 220 amp 0.1"""),
        md("""
## 2. A panel

`osc_live.panel({address: spec})` lays out labelled controls. A key can carry leading
arguments: `"/n_set 1003 freq"` sends `/n_set 1003 "freq" <value>`. A spec is `(min, max)`, or a
dict of options (`log`, `value`, `step`, `label`, `kind`...), or `True`/`False` for a toggle.
"""),
        code("""
synth_panel = osc_live.panel(
    {
        f"/n_set {NODE} freq": {"min": 55, "max": 1760, "log": True, "value": 220, "label": "freq"},
        f"/n_set {NODE} amp": {"min": 0.0, "max": 0.5, "value": 0.1, "label": "amp"},
    },
    title=f"node {NODE}",
)
freq = synth_panel.controls[f"/n_set {NODE} freq"]
amp = synth_panel.controls[f"/n_set {NODE} amp"]
synth_panel"""),
        md("""
Drag the sliders (you will hear it if SuperCollider is connected). Code can move them too, as
a `Play` widget, a `jslink` or a sequencer loop would:
"""),
        code("""
freq.value = 440
amp.value = 0.2"""),
        md("""
## 3. Ask the synth, and let the answer move the slider

`/s_get <node> freq` is answered with `/n_set <node> freq <value>`: the same address and leading
arguments as the freq slider, so the answer moves the slider, and the slider does **not** send it
back (no echo loop). Change the synth behind the slider's back, then ask:
"""),
        code("""
%osc send /n_set $NODE freq 330
%osc send /s_get $NODE freq
await asyncio.sleep(0.3)  # answers arrive while the kernel's loop runs
freq.value, freq.osc.received"""),
        md("""
## 4. Throttling

A drag produces many changes; the slider sends at most `throttle_hz` (default 60) messages a
second: the first change at once, the others merged, and the last one always. 200 changes in
a few milliseconds:
"""),
        code("""
before = freq.osc.sent
for f in range(200, 800, 3):
    freq.value = f
await asyncio.sleep(0.1)  # the trailing send fires on the kernel's event loop
drag_sent = freq.osc.sent - before
print(drag_sent, "messages for 200 changes; the last one:", freq.osc.last_sent)"""),
        md("""
## 5. More controls

`toggle` sends 1/0, `button` sends its arguments on each click, `xy` sends two values in one
message ("ask the synth" sends `/s_get`: the answer moves the freq slider; "stop the node"
sends `/n_free`). Every control has CSS classes derived from its address
(`osc-addr--n_set--1003-freq`) for styling and tests, and `control.osc` for its counters.
"""),
        code("""
gate = osc_live.toggle("/fx/bypass", description="bypass")
ask = osc_live.button("/s_get", NODE, "freq", "amp", description="ask the synth")
stop = osc_live.button("/n_free", NODE, description="stop the node")
pad = osc_live.xy("/pad", x=(0.0, 1.0), y=(-1.0, 1.0))
osc_live.panel({"/fx/bypass": gate, "/s_get": ask, "/n_free": stop, "/pad": pad})"""),
        code("freq._dom_classes, freq.osc"),
        md("""
### Exercises

1. Add a slider for a control of your own SynthDef (for example `pan`, from -1 to 1).
2. `osc_live.widgets.bind(widget, address)` binds any ipywidgets value widget: bind a
   `Dropdown` of notes (`options=[("C", 261.63), ("E", 329.63), ("G", 392.0)]`) to the freq.
3. Set `throttle_hz=5` on a new slider, drag it fast, and watch `%osc monitor`.
"""),
        code("""
# read the controls back (for the automated run of this notebook)
readback = {}


def remember(address, *args):
    readback[args[1]] = args[2]


%osc on /n_set remember
%osc send /s_get $NODE freq
%osc send /s_get $NODE amp
await asyncio.sleep(0.3)"""),
        summary(
            '    "notebook": "03-sliders-drive-a-synth",\n'
            '    "synth": SC_URL or "virtual",\n'
            '    "freq": freq.value,\n'
            '    "amp": amp.value,\n'
            '    "readback": readback,\n'
            '    "freq_received": freq.osc.received,\n'
            '    "drag_sent": drag_sent,\n'
            '    "classes": list(freq._dom_classes),'
        ),
    ]


# ---------------------------------------------------------------------------- 04
def receive() -> list[nbformat.NotebookNode]:
    return [
        md("""
# Receive: listening, the monitor, live plots, handlers

Phones (TouchOSC, GyrOSC), sensors, DAWs and game engines *send* OSC. Here the kernel listens,
shows what arrives in a live table and a live plot, calls your functions, and lets a slider
follow an incoming value. A small simulated sensor in this notebook stands in for a device.
"""),
        code("""
%load_ext osc_live
import asyncio
import math
import os

import ipywidgets as W

import osc_live

LISTEN_PORT = int(os.environ.get("OSC_LIVE_LISTEN_PORT", "9000"))"""),
        md("""
## 1. Listen

`%osc listen 9000` receives UDP on port 9000 of this machine (`tcp://:9000` for TCP). A device
on your network sends to your computer's IP address and that port. The receiver runs on the
kernel's event loop: between cells and while a cell `await`s.
"""),
        code("%osc listen $LISTEN_PORT"),
        md("""
Our stand-in sensor: a target pointed at our own listener (`me`), and a function that sends a
sine wave on `/sensor/accel` and a few presses on `/sensor/button`.
"""),
        code("""
me = %osc connect me udp://127.0.0.1:{{LISTEN_PORT}}


async def sensor(n=100):
    # a fake device; inside a function the Python API is handier than %osc lines
    for i in range(n):
        me.send_message("/sensor/accel", [math.sin(i / 8)])
        if i % 25 == 0:
            me.send_message("/sensor/button", [1])
        await asyncio.sleep(0.01)  # lets the listener (same event loop) receive"""),
        md("""
## 2. The monitor and a plot

Both update in place, at most 10 times a second however fast messages arrive; counters never
skip. Run the sensor and watch them move.
"""),
        code("%osc monitor /sensor/*"),
        code("%osc plot /sensor/accel"),
        md("""
## 3. Handlers

`%osc on /pattern function` calls `function(address, *args)` for each matching message. A
handler runs outside any cell, where a plain `print` would be lost; `%osc on` shows what the
function prints under the cell that ran `%osc on`. For state you want to see at a glance,
update a widget:
"""),
        code("""
presses = W.IntText(description="presses")
last_accel = W.FloatText(description="accel")


def on_button(address, *args):
    presses.value += 1


def on_accel(address, value):
    last_accel.value = value


%osc on /sensor/button on_button
%osc on /sensor/accel on_accel
W.HBox([presses, last_accel])"""),
        md("""
## 4. A slider that follows the sensor

A bound slider moves when its address arrives, and does not echo it back. (Moving it by hand
would send `/sensor/accel` to the default target, here `me`: try it and watch the monitor.)
"""),
        code("""
follower = osc_live.slider("/sensor/accel", -1.0, 1.0, step=0.001)
follower"""),
        code("await sensor()"),
        code("""
await asyncio.sleep(0.3)
presses.value, last_accel.value, follower.value, follower.osc.sent"""),
        md("""
## 5. Blocking cells: a threaded listener

A receiver on the event loop waits while a cell blocks (`time.sleep`, a long computation).
`--thread` runs the receiver in its own thread instead; handlers then run in that thread.
"""),
        code("""
import time

seen_in_thread = []


def seen(address, *args):
    seen_in_thread.append(args)


threaded = %osc listen threaded udp://127.0.0.1:0 --thread
th = %osc connect th udp://127.0.0.1:{{threaded.port}}
%osc on /blocking seen"""),
        code("""
for k in range(5):
    th.send_message("/blocking", [k])
time.sleep(0.5)  # a blocking cell: the threaded receiver still gets everything
len(seen_in_thread)"""),
        summary(
            '    "notebook": "04-receive-monitor-plot",\n'
            '    "presses": presses.value,\n'
            '    "last_accel": last_accel.value,\n'
            '    "follower": follower.value,\n'
            '    "follower_sent": follower.osc.sent,\n'
            '    "follower_received": follower.osc.received,\n'
            '    "seen_in_thread": len(seen_in_thread),\n'
            '    "received": osc_live.live.session().traffic.totals["received"],'
        ),
    ]


# ---------------------------------------------------------------------------- 05
def teaching() -> list[nbformat.NotebookNode]:
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
        code("""
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
hits"""),
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
        code("""
# 1. /a/b -> 4 chars + NUL = 5 -> 8;  ",ifs" -> 4 + NUL = 5 -> 8;  i: 4;  f: 4;  "x" + NUL -> 4
answer_1 = 8 + 8 + 4 + 4 + 4
assert answer_1 == len(encode_message("/a/b", [1, 2.0, "x"]))
answer_1"""),
        code("""
# 2.
import struct

by_hand = b"/hi\\0" + b",i\\0\\0" + struct.pack(">i", 1)
assert by_hand == encode_message("/hi", [1])
by_hand"""),
        code("""
# 3. '[!1-3]' is channel 4 only; '?' any one character; '*' never crosses a '/':
#    '/*/gain' has two parts and every method has three, so it reaches nothing.
matching = {p: send_pattern(p) for p in ["/mixer/[!1-3]/*", "/mixer/?/p*", "/*/gain"]}
assert matching == {
    "/mixer/[!1-3]/*": ["/mixer/4/gain", "/mixer/4/pan"],
    "/mixer/?/p*": ["/mixer/1/pan", "/mixer/2/pan", "/mixer/3/pan", "/mixer/4/pan"],
    "/*/gain": [],
}
matching"""),
        code("%osc connect"),
        code("""
%%osc --at +1
# 4. C major, one second from now
/s_new default 2001 0 0 freq 261.63
/s_new default 2002 0 0 freq 329.63
/s_new default 2003 0 0 freq 392.0"""),
        code("""
import asyncio

from osc_live.live import session

await asyncio.sleep(1.3)
chord = [r.args[1] for r in session().synth.history if r.address == "/s_new"]
assert chord == [2001, 2002, 2003], chord
%osc send /n_free 2001 2002 2003
chord"""),
        code("""
# 5. exactly representable: a sum of powers of two with few enough bits (0.5, 0.75)
exact = [x for x in (0.5, 0.1, 0.75, 0.3) if OscMessage(encode_message("/x", [x])).params[0] == x]
assert exact == [0.5, 0.75]
exact"""),
        summary(
            '    "notebook": "05-teaching-osc",\n'
            '    "hits": hits,\n'
            '    "answer_1": answer_1,\n'
            '    "matching": matching,\n'
            '    "chord": chord,\n'
            '    "exact": exact,'
        ),
    ]


NOTEBOOKS = {
    "01-quickstart.ipynb": quickstart,
    "02-tcp-bundles-timetags.ipynb": tcp_bundles,
    "03-sliders-drive-a-synth.ipynb": sliders,
    "04-receive-monitor-plot.ipynb": receive,
    "05-teaching-osc.ipynb": teaching,
}

METADATA = {
    "kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"},
    "language_info": {"name": "python"},
}


def build(name: str) -> nbformat.NotebookNode:
    """The notebook ``name`` (cells with stable ids, no outputs)."""
    cells = NOTEBOOKS[name]()
    stem = name.split("-", 1)[0]
    for i, cell in enumerate(cells):
        cell["id"] = f"nb{stem}-{i:02d}"  # stable ids: regenerating gives identical files
    nb = new_notebook(cells=cells, metadata=METADATA)
    nbformat.validate(nb)
    return nb


def render(name: str) -> str:
    """The file contents of notebook ``name``."""
    return nbformat.writes(build(name)) + "\n"


def main(argv: list[str]) -> int:
    for name in NOTEBOOKS:
        path = HERE / name
        path.write_text(render(name))
        print("wrote", path.relative_to(HERE.parent))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
