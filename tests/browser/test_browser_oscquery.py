"""``%osc panel`` of a served OSCQuery namespace in JupyterLab (Chromium via Playwright).

The device lives in this test process: a namespace served by our OSCQuery server, whose
HOST_INFO names a UDP capture socket as its OSC port. The notebook runs ``%osc panel URL``:
the panel renders; pressing keys on its slider sends to the device's OSC port; a value change
on the device reaches the slider through LISTEN, and nothing is echoed back.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook

from osc_live.oscquery.namespace import Namespace
from osc_live.oscquery.server import OscQueryServer
from tests.browser.harness import LabServer, UdpCapture
from tests.browser.lab import expect, open_notebook, run_all_until

pytestmark = pytest.mark.browser

SLIDER = ".osc-remote .osc-control.osc-addr--synth-cutoff"
HANDLE = f"{SLIDER} .noUi-handle[role='slider']"
TOGGLE = ".osc-remote .osc-control.osc-addr--synth-on"


@pytest.fixture
def device() -> Iterator[tuple[Namespace, OscQueryServer, UdpCapture]]:
    ns = Namespace()
    ns.add("/synth/cutoff", "f", value=0.5, range=(0.0, 1.0), description="cutoff")
    ns.add("/synth/on", "T", value=False, description="on")
    capture = UdpCapture()
    server = OscQueryServer(ns, name="browser device", osc_port=capture.port).start()
    try:
        yield ns, server, capture
    finally:
        server.close()
        capture.close()


@pytest.fixture
def panel_notebook(lab: LabServer, device: Any, request: pytest.FixtureRequest) -> Iterator[str]:
    _, server, _ = device
    name = f"oscquery_{request.node.name}.ipynb"
    nb = new_notebook(
        cells=[new_code_cell(f"%load_ext osc_live\n%osc panel {server.url}")],
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
    )
    nbformat.write(nb, lab.root / name)
    yield name
    lab.delete_sessions(name)


def test_panel_of_a_served_namespace_is_two_way(
    page: Any, lab: LabServer, device: Any, panel_notebook: str
) -> None:
    ns, server, capture = device
    open_notebook(page, lab, panel_notebook)
    handle = page.locator(HANDLE)
    run_all_until(page, handle)
    expect(handle).to_have_attribute("aria-valuetext", "0.5")
    expect(page.locator(TOGGLE)).to_be_visible()
    deadline = time.monotonic() + 30
    while server.stats.listens < 2 and time.monotonic() < deadline:  # the panel LISTENs
        time.sleep(0.05)
    assert server.stats.listens == 2
    capture.clear()

    # the user moves the control: the device's OSC port receives the value
    handle.focus()
    for _ in range(3):
        handle.press("ArrowRight")
    expect(handle).to_have_attribute("aria-valuetext", "0.503")  # remote panels: a 1/1000 grid
    sent = capture.drain(timeout=10)
    assert sent and {a for a, _ in sent} == {"/synth/cutoff"}, sent
    assert sent[-1][1][0] == pytest.approx(0.503, abs=1e-6)

    # the device changes: LISTEN moves the slider in the page, and nothing comes back
    capture.clear()
    ns.set_value("/synth/cutoff", [0.25])
    expect(handle).to_have_attribute("aria-valuetext", "0.25", timeout=10_000)
    ns.set_value("/synth/on", [True])
    expect(page.locator(TOGGLE)).to_have_class(re.compile(r"mod-active"))
    assert capture.drain(timeout=1.0, settle=0.2) == [], "remote changes were echoed back"
