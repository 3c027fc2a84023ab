"""Notebook 06-discover.ipynb.

OSCQuery and zeroconf: advertise the virtual synth, discover it, read its namespace, serve the
kernel's own controls and get a panel of them for free. Nothing external: everything runs on
this machine's loopback.
"""

from __future__ import annotations

import nbformat

from .common import code, md

FILENAME = "06-discover.ipynb"


def cells() -> list[nbformat.NotebookNode]:
    return [
        md("""
# Discover OSC devices, browse their address spaces, get a panel for free

Today's OSC tools rarely make you type host, port and every address by heart. They **announce**
themselves on the network with zeroconf (the same mechanism printers use), and many describe
their **address space** with [OSCQuery](https://github.com/Vidvox/OSCQueryProposal): a small
HTTP server that answers with JSON — every address, its type, its range, its current value.
VRChat, ossia score, Chataigne, VDMX, MadMapper and the RNBO runner speak it.

In this notebook, with nothing to install and nothing leaving this machine:

1. advertise osc_live's virtual synth, and discover it;
2. read its address space;
3. serve the kernel's own sliders, and build a panel from a namespace.

Everything stays on the *loopback* interface (127.0.0.1) unless you add `--lan`.
"""),
        code("%load_ext osc_live"),
        md("""
## 1. Advertise the virtual synth

`%osc advertise NAME --synth` starts the virtual synth (if it is not running), serves its
namespace over OSCQuery on a free port, and announces it over zeroconf as `_oscjson._tcp`
(the OSCQuery server) and `_osc._udp` (its OSC port). Names must be unique on the network:
we add this kernel's process id.
"""),
        code(
            """
import os

name = f"demo-synth-{os.getpid()}"
%osc advertise $name --synth""",
            id="advertise",
        ),
        md("""
## 2. Discover

`%osc discover` listens for announcements for a moment (`--timeout`, 2 s by default) and lists
what it found: one row per device, with where its OSC port is and its OSCQuery URL. Other
programs on this machine that announce themselves (a TouchOSC bridge, ossia score...) show up
too.
"""),
        code("%osc discover --timeout 1", id="discover"),
        md("""
Every name found is remembered: `%osc connect NAME` connects to its OSC port, and
`%osc query NAME` / `%osc panel NAME` read its OSCQuery server.
"""),
        code(
            """
%osc connect $name
%osc send /fx/reverb 0.3
%osc send /n_set 1000 freq 440.0""",
        ),
        md("""
## 3. Browse its address space

`%osc query NAME [/path]` prints the namespace as a tree: the type tags (`f` float, `i` int,
`s` string, `—` no arguments), the current value, the range, the access (`r` read, `w` write)
and the description. The synth lists its commands and every address it has received.
"""),
        code("%osc query $name", id="query"),
        md("""
## 4. Serve the kernel's own controls

`%osc advertise NAME` (without `--synth`) serves the **kernel's** namespace: every bound
control with its type, range, live value and label, and every address handled with `%osc on`.
Remote OSC tools send to the kernel's listener (one is started if none runs): a remote change
moves the slider here, and the slider's moves reach clients that LISTEN.
"""),
        code(
            """
import osc_live

cutoff = osc_live.slider("/filter/cutoff", 20.0, 2000.0, value=440.0, target="synth",
                         description="cutoff")
kernel = f"demo-kernel-{os.getpid()}"
%osc advertise $kernel
cutoff""",
            id="kernel",
        ),
        md("""
## 5. A panel for free

`%osc panel NAME|URL [/path]` (or `osc_live.panel(oscquery=URL)`) reads a namespace and builds
controls: sliders for ranged numbers, toggles for booleans, buttons for commands without
arguments, text fields for strings. They send to the device's OSC port, and follow its changes
through the OSCQuery WebSocket (LISTEN). Here, the panel of the kernel's own namespace: drag its
slider and the original `cutoff` slider above follows.
"""),
        code("%osc panel $kernel", id="panel"),
        md("""
From Python, the same in pieces: `osc_live.oscquery.describe(url)` returns the HOST_INFO and
the tree, and `osc_live.oscquery.browse()` the raw zeroconf services.
"""),
        code(
            """
from osc_live import oscquery

remote = oscquery.describe(oscquery.discovery.lookup(kernel).oscquery)
node = remote.root.find("/filter/cutoff")
print(remote.host_info.name, "OSC at", remote.osc_address)
print(node.type, node.value, node.range[0].min, node.range[0].max)""",
            id="python",
        ),
        md("""
## 6. When you are done

Everything above stays up after Run All, so the panel keeps working: drag it as long as you
like. `%osc close NAME` stops one advertisement (the HTTP server and the zeroconf announcement
go away); `%osc close all` or `%unload_ext osc_live` stop everything. Call `done()` (the cell
below only defines it) to close all; restarting the kernel does the same.
"""),
        code(
            """
def done():
    %osc close all""",
            id="done",
        ),
    ]
