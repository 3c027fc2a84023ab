"""A real browser reaches a notebook kernel through the WebSocket bridge (issue 12).

A static page using osc.js (tests/js/bridge_page.html, served on 127.0.0.1) runs in Debian's
Chromium; a real kernel (jupyter_client) runs ``%osc listen``, ``%osc on`` and ``%osc bridge``.
The page's message crosses the bridge into the kernel's listener (its handler and the session's
monitor counters see it) and the handler's reply reaches the page.
"""

from __future__ import annotations

import functools
import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.js_peers import JS_DIR, require_oscjs

# jupyter_client's blocking client keeps one helper thread ("MainThread - runner") for the
# life of the process, whoever starts it first: not a thread of ours.
pytestmark = [pytest.mark.timeout(180), pytest.mark.allow_thread_leak]


class Kernel:
    """A python3 kernel (jupyter_client) whose cells' printed output is returned."""

    def __init__(self) -> None:
        from jupyter_client.manager import KernelManager

        self.km = KernelManager(kernel_name="python3")
        self.km.start_kernel(env={**__import__("os").environ, "OSC_LIVE_SCSYNTH": "off"})
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=60)

    def run(self, code: str) -> str:
        out: list[str] = []

        def hook(msg: dict[str, Any]) -> None:
            kind, content = msg["msg_type"], msg["content"]
            if kind == "stream":
                out.append(content["text"])
            elif kind == "error":
                out.append("ERROR " + content["ename"] + ": " + content["evalue"])

        reply = self.kc.execute_interactive(code, output_hook=hook, timeout=60)
        text = "".join(out)
        assert reply["content"]["status"] == "ok", text
        return text

    def close(self) -> None:
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=False)


@pytest.fixture
def kernel() -> Iterator[Kernel]:
    k = Kernel()
    yield k
    k.close()


@pytest.fixture
def pages() -> Iterator[str]:
    """tests/js/ served on 127.0.0.1 (the page and osc.js's browser build)."""
    require_oscjs()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    handler = functools.partial(Quiet, directory=str(JS_DIR))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="browser-pages")
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_oscjs_page_drives_the_notebook_through_the_bridge(
    kernel: Kernel, pages: str, page: Any
) -> None:
    assert (Path(JS_DIR) / "node_modules/osc/dist/osc-browser.min.js").exists()
    url = (
        kernel.run(
            "%load_ext osc_live\n"
            "import json\n"
            "from osc_live.live import session\n"
            "hits = []\n"
            "def on_page(address, *args):\n"
            "    hits.append([address, [list(a) if isinstance(a, bytes) else a for a in args]])\n"
            "    return ('/kernel/ok', len(hits), 'thanks')\n"
            "listener = %osc listen 0\n"
            "%osc on /page/* on_page\n"
            "bridge = %osc bridge ws://127.0.0.1:0 udp://127.0.0.1:{{listener.port}}\n"
            "%osc monitor /page/*\n"
            "print(bridge.bridge.url)\n"
        )
        .strip()
        .splitlines()[-1]
    )
    assert url.startswith("ws://127.0.0.1:")
    page.goto(f"{pages}/bridge_page.html?{url}")
    page.wait_for_function(
        "document.getElementById('replies').textContent.includes('/kernel/ok')", timeout=20_000
    )
    replies = json.loads(page.inner_text("#replies"))
    assert replies == [{"address": "/kernel/ok", "args": [1, "thanks"]}]
    assert page.inner_text("#state") == "open"
    seen = json.loads(
        kernel.run(
            "import asyncio\n"
            "await asyncio.sleep(0.1)\n"
            "print(json.dumps({'hits': hits, 'totals': session().traffic.totals_copy(),"
            " 'bridge': bridge.bridge.stats.as_dict()}))\n"
        )
        .strip()
        .splitlines()[-1]
    )
    assert seen["hits"] == [["/page/hit", [7, 0.5, "from chromium", [1, 2, 3]]]]
    assert seen["totals"]["received"] >= 1  # the monitor's counters saw it
    assert seen["bridge"]["to_target"] == 1 and seen["bridge"]["replies"] == 1
    kernel.run("%osc close all")
