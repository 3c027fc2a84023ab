"""Cells and helpers shared by the notebook modules (``nbNN_*.py`` beside this file)."""

from __future__ import annotations

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell

NAME_KEY = "osc_live_cell_name"

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
    """A markdown cell (surrounding blank lines stripped)."""
    return new_markdown_cell(text.strip("\n"))


def code(text: str, *, id: str | None = None) -> nbformat.NotebookNode:
    """A code cell; ``id`` names it (``nbNN-<id>``) so tests can find its outputs by name."""
    cell = new_code_cell(text.strip("\n"))
    if id is not None:
        cell["metadata"][NAME_KEY] = id  # make_notebooks.build turns it into the cell id
    return cell
