"""Widgets inside a real ipykernel (nbclient): loop timers, blocking cells, threaded listeners.

A kernel runs widget observers on its asyncio loop, so the throttle's trailing edge must be a
``loop.call_later`` timer there (no thread), fire between cells or during ``await``, and messages
from a threaded listener must be applied on the kernel's thread. The notebook below records what
it saw and prints one JSON line, which is asserted here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_notebook

CELLS = [
    """
import asyncio, json, socket, threading, time
import osc_live
from osc_live.live import session

class Recorder:
    def __init__(self):
        self.got = []
    def send_message(self, address, args):
        self.got.append((address, list(args), threading.current_thread().name))

rec = Recorder()
s = osc_live.slider("/fx/reverb", 0.0, 1.0, 0.001, target=rec, throttle_hz=20)
threads_before = threading.active_count()
for k in range(1, 101):
    s.value = k / 100
state = {
    "timer_kind": s.osc.throttle.timer_kind,
    "threads_added": threading.active_count() - threads_before,
    "sent_in_cell": len(rec.got),
}
""",
    """
await asyncio.sleep(0.1)  # the trailing edge fires on the kernel loop
state["after_await"] = [g[1][0] for g in rec.got]
state["send_threads"] = sorted({g[2] for g in rec.got})
""",
    """
# a blocking cell: the loop timer cannot fire until the cell ends
n = len(rec.got)
s.value = 0.5
s.value = 0.25
time.sleep(0.2)
state["blocked_sent"] = len(rec.got) - n
""",
    """
await asyncio.sleep(0.1)
state["after_block"] = rec.got[-1][1][0]

# incoming from a threaded listener is applied on the kernel's main thread
applied_on = []
s.observe(lambda ch: applied_on.append(threading.current_thread().name), names="value")
lst = session().listen("udp://127.0.0.1:0", thread=True)
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as tx:
    from osc_live.osc_message import encode_message
    tx.sendto(encode_message("/fx/reverb", [0.75]), ("127.0.0.1", lst.port))
for _ in range(100):
    await asyncio.sleep(0.01)
    if s.value == 0.75:
        break
state["incoming_value"] = s.value
state["applied_on"] = applied_on
state["sent_total"] = s.osc.sent
state["main_thread"] = threading.main_thread().name
session().close("all")
print("STATE", json.dumps(state))
""",
]


def test_widgets_in_a_real_kernel(tmp_path: Path) -> None:
    nb = new_notebook(
        cells=[new_code_cell(c.strip()) for c in CELLS],
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
    )
    NotebookClient(
        nb, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    line = next(
        o["text"]
        for c in nb.cells
        for o in c.get("outputs", [])
        if o.get("output_type") == "stream" and o["text"].startswith("STATE ")
    )
    st: dict[str, Any] = json.loads(line.split(" ", 1)[1])
    # loop timer, no thread, leading edge in the cell, trailing edge after the await
    assert st["timer_kind"] == "loop" and st["threads_added"] == 0
    assert st["sent_in_cell"] == 1
    assert st["after_await"] == [0.01, 1.0]
    assert st["send_threads"] == [st["main_thread"]]
    # a blocking cell delays the trailing value until the loop runs again; it is not lost
    assert st["blocked_sent"] == 1  # 0.5 went at once (the interval had passed), 0.25 waits
    assert st["after_block"] == 0.25
    # threaded listener → kernel thread, no echo
    assert st["incoming_value"] == 0.75
    assert st["applied_on"] == [st["main_thread"]]
    assert st["sent_total"] == 4  # 0.01, 1.0, 0.5, 0.25: nothing echoed
