"""Run the osc.js peer (tests/js/oscjs_peer.js, npm ``osc`` 2.4.5 + ``ws``) from the tests.

``bash scripts/setup.sh test`` installs tests/js/node_modules with ``npm ci``. Missing node or
modules skip the test, or fail it when ``OSC_LIVE_REQUIRE_PEERS=1`` (as ``scripts/test.sh`` sets).
Every process started here is stopped by its ``Popen`` object (terminate, then kill).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

JS_DIR = Path(__file__).resolve().parent / "js"
PEER = JS_DIR / "oscjs_peer.js"


def require_oscjs() -> str:
    """The node binary, after checking that osc.js is installed (skip or fail otherwise)."""
    node = shutil.which("node")
    why = None
    if node is None:
        why = "node is not installed (Debian package nodejs)"
    elif not (JS_DIR / "node_modules" / "osc" / "package.json").exists():
        why = "osc.js is not installed: run `bash scripts/setup.sh test` (npm ci in tests/js)"
    if why is not None:
        if os.environ.get("OSC_LIVE_REQUIRE_PEERS") == "1":
            pytest.fail(f"{why} (OSC_LIVE_REQUIRE_PEERS=1)", pytrace=False)
        pytest.skip(why)
    assert node is not None
    return node


async def run_client(url: str, expect: int, send: str = "all", timeout: float = 15.0) -> list[Any]:
    """Run ``oscjs_peer.js client``; the JSON lines it printed (what osc.js received)."""
    node = require_oscjs()
    proc = await asyncio.create_subprocess_exec(
        node, str(PEER), "client", url, str(expect), send,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        out, err = await asyncio.wait_for(proc.communicate(), timeout)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    lines = [json.loads(line) for line in out.decode().splitlines() if line.strip()]
    assert proc.returncode == 0, f"osc.js client failed ({proc.returncode}): {lines} {err!r}"
    return lines


class OscJsServer:
    """``oscjs_peer.js server``: osc.js WebSocketPort server echoing what it receives."""

    def __init__(self) -> None:
        node = require_oscjs()
        self.proc = subprocess.Popen(
            [node, str(PEER), "server"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        assert self.proc.stdout is not None
        first = json.loads(self.proc.stdout.readline())
        self.port = int(first["listening"])
        self.url = f"ws://127.0.0.1:{self.port}/"

    def received(self, count: int) -> list[Any]:
        """The next ``count`` packets osc.js printed."""
        assert self.proc.stdout is not None
        return [json.loads(self.proc.stdout.readline()) for _ in range(count)]

    def close(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()
