"""Notebook 04-receive-monitor-plot.ipynb.

Listening, the monitor, a live plot, handlers, a slider that follows a sensor.
"""

from __future__ import annotations

import nbformat

from .common import code, md

FILENAME = "04-receive-monitor-plot.ipynb"


def cells() -> list[nbformat.NotebookNode]:
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
on your network sends to your computer's IP address and that port (port 0 picks a free one:
the listener shows which). The receiver runs on the kernel's event loop: between cells and
while a cell `await`s.
"""),
        code(
            """
listener = %osc listen $LISTEN_PORT
listener""",
            id="listen",
        ),
        md("""
Our stand-in sensor: a target pointed at our own listener (`me`), and a function that sends a
sine wave on `/sensor/accel` and a few presses on `/sensor/button`.
"""),
        code("""
me = %osc connect me udp://127.0.0.1:{{listener.port}}


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
        code("%osc monitor /sensor/*", id="monitor"),
        code("%osc plot /sensor/accel", id="plot"),
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
sends `/sensor/accel` to the default target, the last one connected: `me` here, `th` once
section 5 has run; both are this notebook's own listeners. Try it and watch the monitor.)
"""),
        code(
            """
follower = osc_live.slider("/sensor/accel", -1.0, 1.0, step=0.001)
follower""",
            id="follower",
        ),
        code("await sensor()"),
        md("""
100 values and 4 presses arrived: the counter says 4, the slider stands on the last value
(to its 0.001 step) and has sent nothing back:
"""),
        code(
            """
await asyncio.sleep(0.3)
presses.value, round(last_accel.value, 4), round(follower.value, 3), follower.osc.sent""",
            id="counts",
        ),
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
        code(
            """
for k in range(5):
    th.send_message("/blocking", [k])
time.sleep(0.5)  # a blocking cell: the threaded receiver still gets everything
len(seen_in_thread)""",
            id="threaded",
        ),
    ]
