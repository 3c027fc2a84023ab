"""Notebook 01-quickstart.ipynb.

The first notebook: connect, send, explain, answers, a log slider, a button.
"""

from __future__ import annotations

import nbformat

from .common import CONNECT, FIND_SYNTH, FIND_SYNTH_MD, code, md

FILENAME = "01-quickstart.ipynb"


def cells() -> list[nbformat.NotebookNode]:
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
        code(
            """
import asyncio

%osc send /s_get 1001 freq
await asyncio.sleep(0.3)  # let the answer arrive
answers""",
            id="answers",
        ),
        md("""
## 5. A slider

`osc_live.slider(address, min, max, ...)` is a real ipywidgets slider that sends its value to
the address, at most 60 times a second and always the final value. `args=(1001, "freq")` puts
`1001 "freq"` before the value: moving it sends `/n_set 1001 freq <value>`. `log=True` makes a
logarithmic slider, as ears like. Drag it!
"""),
        code(
            """
import osc_live

freq = osc_live.slider("/n_set", 110, 1760, args=(1001, "freq"), log=True, value=660)
freq""",
            id="slider",
        ),
        md("""
Showing the slider sent nothing: it starts at the synth's 660. Code can move it too, which
sends the message like the mouse does; `freq.osc` counts what it sent:
"""),
        code(
            """
freq.value = 880
freq.value, freq.osc.sent, freq.osc.last_sent""",
            id="moved",
        ),
        md("""
## 6. Status and clean up

`%osc status` lists targets, listeners and counters. The button below sends `/n_free 1001`,
which stops the node (with SuperCollider: the tone). When you are done, `%osc close all` closes
every socket osc_live opened (restarting the kernel does too).

**Next:** `02-tcp-bundles-timetags` (TCP, bundles, scheduling), `03-sliders-drive-a-synth`
(a panel of sliders), `04-receive-monitor-plot` (listening, live plots), `05-teaching-osc`
(packets byte by byte, with exercises).
"""),
        code("%osc status", id="status"),
        code(
            """
stop = osc_live.button("/n_free", 1001, description="stop node 1001")
stop""",
            id="stop",
        ),
    ]
