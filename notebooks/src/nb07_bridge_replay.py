"""Notebook 07-bridge-and-replay.ipynb.

Record the virtual synth's traffic, replay it (faster), and drive the notebook from a web page
through the WebSocket bridge. Nothing external is needed: the synth is osc_live's virtual synth,
the page is served from the kernel on 127.0.0.1, and a stand-in plays the page when no browser
looks at it (the automated run).
"""

from __future__ import annotations

import nbformat

from .common import code, md

FILENAME = "07-bridge-and-replay.ipynb"

# A self-contained page: a minimal OSC encoder/decoder (float, int, string) in plain JavaScript,
# so the notebook needs nothing from npm. Real projects use osc.js (WebSocketPort): the same
# bridge serves it (tests/browser/test_browser_bridge.py drives osc.js in Chromium).
PAGE = r'''
PAGE = """<!doctype html>
<meta charset="utf-8"><title>osc_live page</title>
<body style="font-family: sans-serif">
<p>Frequency <input id="freq" type="range" min="100" max="1000" value="440">
<button id="hit">hit</button></p>
<p>Kernel says: <b id="answer">nothing yet</b> <small id="state">connecting</small></p>
<script>
const pad = (n) => (4 - (n % 4)) % 4 || 4;
function str(s) {
  const b = new TextEncoder().encode(s);
  const out = new Uint8Array(b.length + pad(b.length));
  out.set(b);
  return out;
}
function encode(address, args) {
  let tags = ",";
  let parts = [];
  for (const a of args) {
    if (typeof a === "string") {
      tags += "s";
      parts.push(str(a));
    } else {
      tags += "f";
      const b = new Uint8Array(4);
      new DataView(b.buffer).setFloat32(0, a);
      parts.push(b);
    }
  }
  parts = [str(address), str(tags), ...parts];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let i = 0;
  for (const p of parts) { out.set(p, i); i += p.length; }
  return out;
}
function readStr(v, i) {
  let j = i;
  while (v.getUint8(j)) j++;
  const s = new TextDecoder().decode(new Uint8Array(v.buffer, i, j - i));
  return [s, j + pad(j - i)];
}
function decode(buf) {
  const v = new DataView(buf);
  let [address, i] = readStr(v, 0);
  let tags;
  [tags, i] = readStr(v, i);
  const args = [];
  for (const t of tags.slice(1)) {
    if (t === "f") { args.push(v.getFloat32(i)); i += 4; }
    else if (t === "i") { args.push(v.getInt32(i)); i += 4; }
    else if (t === "s") { let s; [s, i] = readStr(v, i); args.push(s); }
  }
  return { address, args };
}
const show = (id, text) => { document.getElementById(id).textContent = text; };
const ws = new WebSocket(location.search.slice(1));
ws.binaryType = "arraybuffer";
ws.onopen = () => show("state", "connected");
ws.onclose = (e) => show("state", "disconnected" + (e.reason ? ": " + e.reason : ""));
ws.onmessage = (e) => { const m = decode(e.data); show("answer", m.address + " " + m.args); };
const freq = document.getElementById("freq");
freq.oninput = () => ws.send(encode("/page/freq", [Number(freq.value)]));
document.getElementById("hit").onclick = () => ws.send(encode("/page/hit", ["button"]));
</script>"""
'''


def cells() -> list[nbformat.NotebookNode]:
    return [
        md("""
# Bridge and replay: record a session, play it back, drive it from a web page

Two things OSC tools are often asked for:

* **Replay a session.** A teacher replays what a sensor sent yesterday; a live coder captures a
  jam and plays it back into the synth; a bug report carries the exact packets with their
  timing. `%osc record` writes every packet with its time to a plain text file;
  `%osc replay` sends them again **at their recorded times**, faster or slower, once or in a loop.
* **Browsers cannot send UDP.** A web page (a phone's browser in a classroom, a page built on
  osc.js, open-stage-control) speaks OSC over WebSocket. `%osc bridge` relays it to a synth that
  speaks UDP or TCP, and the synth's answers back to the page that asked.

Everything here runs on this machine: osc_live's virtual synth stands in for SuperCollider.
OSC over WebSocket needs the extra `pip install 'osc-live[websocket]'`.
"""),
        code("""
%load_ext osc_live
import asyncio
import json
import tempfile
from pathlib import Path

workdir = Path(tempfile.mkdtemp(prefix="osc_live-07-"))
synth = %osc connect
synth"""),
        md("""
## 1. Record what we send to the synth

`%osc record FILE` records every packet the session *receives*; `--sent` adds what it sends.
An address pattern keeps only matching packets (`%osc record FILE /n_set --sent`). Here we
record a little melody sent to the synth, with its timing: three notes, 0.15 s apart.
"""),
        code(
            """
recording = %osc record {{workdir / "melody.jsonl"}} --sent

notes = [440.0, 554.37, 659.25]
%osc send /s_new default 1000 0 0 freq 220.0
for note in notes:
    freq = note
    await asyncio.sleep(0.15)
    %osc send /n_set 1000 freq $freq
%osc send /n_free 1000
%osc record stop""",
            id="record",
        ),
        md("""
The file is **JSON Lines**: one JSON object per line, readable by any tool (`jq`, pandas,
`grep`). The first line says what it is and when `t = 0` was; each packet has `t`
(nanoseconds on the monotonic clock), `dir` (`in` received, `out` sent), who sent it or to
whom, its address (for grep) and its bytes in base64 — every byte as it was on the wire.
"""),
        code(
            """
lines = (workdir / "melody.jsonl").read_text().splitlines()
for line in [*lines[:3], "...", *lines[-1:]]:
    print(line[:110])
records = [json.loads(line) for line in lines[1:-1]]
[(r["addr"], round(r["t"] / 1e9, 3)) for r in records]""",
            id="file",
        ),
        md("""
## 2. Replay it, twice as fast

`%osc replay FILE [@target]` sends the packets to a target at their recorded times — on the
event loop's clock, against the recorded schedule, so a late wake-up never delays the packets
after it (replayers that `sleep` the gap between packets drift). `--speed 2` halves every gap,
`--loop` starts over, `/pattern` filters, `--sent` replays what was *sent* (our melody) rather
than what was received. Bundles' timetags are shifted with their packets. `%osc replay stop`
ends it; the monitor shows replayed packets as sent.
"""),
        code("%osc monitor /n_*"),
        code(
            """
before = synth.synth_instance.count
replay = %osc replay {{workdir / "melody.jsonl"}} --sent --speed 2
while replay.running:
    await asyncio.sleep(0.05)
replay""",
            id="replay",
        ),
        code(
            """
# how late each packet left after its due time, in ms (p50, p99, max)
late = {k: round(v, 2) for k, v in replay.replayer.stats.lateness_ms().items()}
synth.synth_instance.count - before, replay.replayer.stats.sent, late""",
            id="replayed",
        ),
        md("""
## 3. Drive the notebook from a web page

The kernel listens for OSC (`%osc listen`), a handler answers, and `%osc bridge` puts a
WebSocket in front of the listener. The page below sends `/page/freq` when its slider moves and
`/page/hit` on its button; each packet crosses the bridge into the listener, the handler sets
the synth's frequency and answers `/kernel/freq`, and the answer goes back **to the page that
asked**. The bridge binds 127.0.0.1 only: `--lan` opens it to other machines (a phone in the
classroom), `--origin URL` restricts which pages may connect.
"""),
        code("""
import ipywidgets as W

heard = W.Label("nothing from the page yet")


def from_page(address, *args):
    heard.value = f"{address} {args}"
    if address == "/page/freq":
        %osc send @synth /n_set 1000 freq {{float(args[0])}}
        return ("/kernel/freq", float(args[0]))
    return ("/kernel/ok", address)


%osc send @synth /s_new default 1000 0 0 freq 440.0
listener = %osc listen 0
%osc on /page/* from_page
bridge = %osc bridge ws://127.0.0.1:0 udp://127.0.0.1:{{listener.port}}
heard"""),
        md("""
The page is served by the kernel on 127.0.0.1 (a tiny HTTP server in a thread); it connects to
the bridge's WebSocket address given after `?` and says whether it is connected. In JupyterLab
on this machine it shows below: move its slider and watch the label above and the monitor.
"""),
        code(
            """
import functools
import http.server
import threading

from IPython.display import IFrame

"""
            + PAGE.strip("\n")
            + """

(workdir / "page.html").write_text(PAGE)
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(workdir))
http.server.SimpleHTTPRequestHandler.log_message = lambda *a: None  # quiet
pages = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
threading.Thread(target=pages.serve_forever, daemon=True).start()
page_url = f"http://127.0.0.1:{pages.server_port}/page.html?{bridge.bridge.url}"
IFrame(page_url, width="100%", height=120)"""
        ),
        md("""
When no browser looks at this notebook (an automated run), a stand-in plays the page: it speaks
OSC over WebSocket exactly as the page does, with osc_live's own WebSocket client.
"""),
        code(
            """
from osc_live.ws_client import AsyncWSClient

async with AsyncWSClient(bridge.bridge.url) as page:
    await page.send_message("/page/freq", 523.25)
    answers = [(m.address, m.params) async for m in page.get_messages(0.5)]
answers, heard.value""",
            id="page",
        ),
        code(
            """
bridge""",
            id="bridge",
        ),
        md("""
`%osc status` lists the bridge with its counters (packets each way, clients refused, peers cut
for sending text, garbage or oversized frames), the recording and the replay.
"""),
        code("%osc status", id="status"),
        md("""
## 4. From a terminal

The same three things exist as commands, e.g. to bridge a web controller to SuperCollider, or
to capture a sensor for an hour and play it back later:

```
osc-live bridge ws://127.0.0.1:8080 udp://127.0.0.1:57120
osc-live record sensor.jsonl udp://127.0.0.1:9000 /sensor/*
osc-live replay sensor.jsonl udp://127.0.0.1:57120 --speed 0.5 --loop
```
"""),
        md("""
## 5. When you are done

Everything above stays up after Run All, so the page keeps working: play with it as long as
you like. Then call `done()` (the cell below only defines it): it stops the page server and,
with `%osc close all`, the bridge, the listener, the synth and any recording or replay — the
page then says *disconnected*. Restarting the kernel does the same.
"""),
        code(
            """
def done():
    # the page server, then everything osc_live opened in this notebook
    pages.shutdown()
    pages.server_close()
    %osc close all""",
            id="done",
        ),
    ]
