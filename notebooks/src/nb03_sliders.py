"""Notebook 03-sliders-drive-a-synth.ipynb.

A panel of bound sliders drives a synth node; answers move them without an echo.
"""

from __future__ import annotations

import nbformat

from .common import CONNECT, FIND_SYNTH, FIND_SYNTH_MD, code, md

FILENAME = "03-sliders-drive-a-synth.ipynb"


def cells() -> list[nbformat.NotebookNode]:
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
        code(
            """
synth_panel = osc_live.panel(
    {
        f"/n_set {NODE} freq": {"min": 55, "max": 1760, "log": True, "value": 220, "label": "freq"},
        f"/n_set {NODE} amp": {"min": 0.0, "max": 0.5, "value": 0.1, "label": "amp"},
    },
    title=f"node {NODE}",
)
freq = synth_panel.controls[f"/n_set {NODE} freq"]
amp = synth_panel.controls[f"/n_set {NODE} amp"]
synth_panel""",
            id="panel",
        ),
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
        code(
            """
%osc send /n_set $NODE freq 330
%osc send /s_get $NODE freq
await asyncio.sleep(0.3)  # answers arrive while the kernel's loop runs
freq.value, freq.osc.received""",
            id="answer",
        ),
        md("""
## 4. Throttling

A drag produces many changes; the slider sends at most `throttle_hz` (default 60) messages a
second: the first change at once, the others merged, and the last one always. 200 changes in
a few milliseconds:
"""),
        code(
            """
before = freq.osc.sent
for f in range(200, 800, 3):
    freq.value = f
await asyncio.sleep(0.1)  # the trailing send fires on the kernel's event loop
print(freq.osc.sent - before, "messages for 200 changes; the last one:", freq.osc.last_sent)""",
            id="throttle",
        ),
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
        code("freq._dom_classes, freq.osc", id="classes"),
        md("""
### Exercises

1. Add a slider for a control of your own SynthDef (for example `pan`, from -1 to 1).
2. `osc_live.widgets.bind(widget, address)` binds any ipywidgets value widget: bind a
   `Dropdown` of notes (`options=[("C", 261.63), ("E", 329.63), ("G", 392.0)]`) to the freq.
3. Set `throttle_hz=5` on a new slider, drag it fast, and watch `%osc monitor`.
"""),
        md("""
## 6. Check: what does the synth hold?

Ask the synth for both controls: its answers (`/n_set 1003 freq <value>`) come back on the
sliders' own addresses, so they also move the sliders, without an echo. Run this cell again
after dragging: the synth and the sliders agree.
"""),
        code(
            """
held = {}


def remember(address, node, *pairs):  # /n_set 1003 freq 440.0 [amp 0.2 ...]
    for control, value in zip(pairs[::2], pairs[1::2], strict=True):
        held[control] = round(value, 4)  # float32 on the wire: 0.2 arrives as 0.20000000298...


%osc on /n_set remember
%osc send /s_get $NODE freq
%osc send /s_get $NODE amp
await asyncio.sleep(0.3)
{"synth": held, "sliders": {"freq": freq.value, "amp": amp.value}}""",
            id="check",
        ),
    ]
