"""End to end in a real browser: JupyterLab in Debian's Chromium, driven by Playwright.

Page → ipywidgets → kernel → osc_live → UDP → this process, and back: UDP → the notebook's
listener → dispatcher → slider → page, with no echo. Values on the wire are float32, so they are
compared with ``abs=1e-6``; the widget frontend merges fast changes (one sync message in flight),
so counts are never asserted, only order, address and the exact final value.
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest

from tests.browser.harness import LabServer, UdpCapture, send_udp
from tests.browser.lab import expect, open_notebook, run_all_until, run_cell_below
from tests.browser.notebook import ADDRESS

pytestmark = pytest.mark.browser

SLIDER = ".osc-control.osc-addr--fx-reverb"  # classes added by osc_live.slider
HANDLE = f"{SLIDER} .noUi-handle[role='slider']"  # ipywidgets 8 renders noUiSlider
TRACK = f"{SLIDER} .noUi-base"
READOUT = f"{SLIDER} .widget-readout"
PORT = ".osc-test-listen-port"


def open_and_run(page: Any, lab: LabServer, notebook: str) -> Any:
    """Open the notebook, wait for its kernel, Run All, wait for the slider; return its handle."""
    t0 = time.monotonic()
    open_notebook(page, lab, notebook)
    handle = page.locator(HANDLE)
    run_all_until(page, handle)
    # aria-valuenow is rounded to 1 decimal by noUiSlider; aria-valuetext is the value
    expect(handle).to_have_attribute("aria-valuetext", "0.5")
    expect(page.locator(PORT)).to_have_text(re.compile(r"^\d+$"), timeout=30_000)
    print(f"notebook ready in {time.monotonic() - t0:.2f} s")
    return handle


def values_sent(capture: UdpCapture, timeout: float = 10.0) -> list[float]:
    msgs = capture.drain(timeout=timeout)
    assert msgs, "no OSC message reached the capture socket"
    assert {a for a, _ in msgs} == {ADDRESS}, msgs
    assert all(len(args) == 1 and isinstance(args[0], float) for _, args in msgs), msgs
    return [float(args[0]) for _, args in msgs]  # type: ignore[arg-type]


def test_keys_and_drag_send_increasing_values(
    page: Any, lab: LabServer, notebook: str, osc_capture: UdpCapture
) -> None:
    handle = open_and_run(page, lab, notebook)
    osc_capture.clear()

    handle.focus()
    for _ in range(5):
        handle.press("ArrowRight")  # one step (0.01) each
    expect(handle).to_have_attribute("aria-valuetext", "0.55")
    expect(page.locator(READOUT)).to_have_text("0.55")
    keys = values_sent(osc_capture)
    assert keys == sorted(keys) and len(set(keys)) == len(keys), keys
    assert all(0.505 < v < 0.555 for v in keys), keys
    assert keys[-1] == pytest.approx(0.55, abs=1e-6)

    box, track = handle.bounding_box(), page.locator(TRACK).bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] / 2, y)
    page.mouse.down()
    page.mouse.move(track["x"] + 0.9 * track["width"], y, steps=15)
    page.mouse.up()
    drag = values_sent(osc_capture)
    final = float(handle.get_attribute("aria-valuetext"))
    assert 0.85 <= final <= 0.95, final
    print(f"drag: {len(drag)} messages {drag[0]:.3f} → {drag[-1]:.3f}")
    assert len(drag) >= 2, drag  # sent while dragging, not only on release
    assert drag == sorted(drag) and drag[0] > 0.55, drag
    assert drag[-1] == pytest.approx(final, abs=1e-6)


def test_incoming_osc_moves_the_slider_without_echo_and_shows_in_the_monitor(
    page: Any, lab: LabServer, notebook: str, osc_capture: UdpCapture
) -> None:
    handle = open_and_run(page, lab, notebook)
    port = int(page.locator(PORT).inner_text())
    osc_capture.clear()

    send_udp(port, ADDRESS, 0.8)  # float32 0.800000011920929 on the wire
    expect(handle).to_have_attribute("aria-valuetext", "0.8", timeout=10_000)
    expect(page.locator(READOUT)).to_have_text("0.80")
    send_udp(port, ADDRESS, 0.25)
    expect(handle).to_have_attribute("aria-valuetext", "0.25", timeout=10_000)
    echo = osc_capture.drain(timeout=1.0, settle=0.2)
    assert echo == [], f"incoming messages were echoed back: {echo}"

    monitor = page.locator(".jp-Notebook .jp-Cell").nth(3).locator(".jp-OutputArea")
    expect(monitor).to_contain_text(ADDRESS, timeout=10_000)
    expect(monitor).to_contain_text("0.25", timeout=10_000)

    # and the page still drives the kernel afterwards
    handle.focus()
    handle.press("ArrowRight")
    expect(handle).to_have_attribute("aria-valuetext", "0.26")
    assert values_sent(osc_capture)[-1] == pytest.approx(0.26, abs=1e-6)


# ---------------------------------------------------------------------------- issue 8
FINE = ".osc-addr--sensor-x"
FREQ = ".osc-addr--freq"
PLAIN = ".plain-slider"


def handle_of(page: Any, scope: str) -> Any:
    return page.locator(f"{scope} .noUi-handle[role='slider']")


def kernel_report(page: Any) -> dict[str, Any]:
    """Click the notebook's "report" button: the kernel writes its values into a label."""
    import json

    label = page.locator(".osc-test-report")
    before = label.inner_text()
    n = json.loads(before)["n"] + 1 if before else 1
    page.locator(".osc-test-ask").click()
    expect(label).to_contain_text(f'"n": {n},', timeout=20_000)  # this click's report
    return json.loads(label.inner_text())  # type: ignore[no-any-return]


def test_display_sends_nothing_and_keeps_the_log_value_exactly(
    page: Any, lab: LabServer, notebook: str, osc_capture: UdpCapture
) -> None:
    """Issue 8, item 2: showing a log slider at 880 sent two /n_set and left 880.0000000010133."""
    osc_capture.clear()
    open_and_run(page, lab, notebook)
    expect(handle_of(page, FREQ)).to_be_visible(timeout=30_000)
    expect(page.locator(f"{FREQ} .widget-readout")).to_have_text("880")
    assert osc_capture.drain(timeout=1.5, settle=0.2) == [], "displaying sent OSC"
    report = kernel_report(page)
    assert report["values"]["freq"] == 880  # exactly: not 880.0000000010133
    assert report["sent"] == {"fine": 0, "freq": 0, "reverb": 0}


def test_off_step_incoming_values_never_echo_and_a_drag_still_sends(
    page: Any, lab: LabServer, notebook: str, osc_capture: UdpCapture
) -> None:
    """Issue 8, items 1 and 2: 0.1247 on a step-0.001 slider, from outside, 50 times; then keys
    and a drag in the page send, and page and kernel agree."""
    open_and_run(page, lab, notebook)
    port = int(page.locator(PORT).inner_text())
    handle = handle_of(page, FINE)
    expect(handle).to_be_visible(timeout=30_000)
    osc_capture.clear()
    for i in range(50):
        send_udp(port, "/sensor/x", 0.1247 if i % 2 else 0.3333)
        time.sleep(0.01)
    send_udp(port, "/sensor/x", 0.1247)
    expect(handle).to_have_attribute("aria-valuetext", "0.125", timeout=10_000)
    assert osc_capture.drain(timeout=1.5, settle=0.3) == [], "incoming values were echoed"
    assert kernel_report(page)["values"]["fine"] == 0.125  # snapped once, in the kernel

    handle.focus()
    handle.press("ArrowRight")
    expect(page.locator(f"{FINE} .widget-readout")).to_have_text("0.126")
    keys = osc_capture.drain(timeout=10)
    assert [a for a, _ in keys] == ["/sensor/x"]
    assert keys[-1][1][0] == pytest.approx(0.126, abs=1e-6)

    send_udp(port, "/sensor/x", 0.4999)  # off the grid again, then a real mouse drag
    expect(handle).to_have_attribute("aria-valuetext", "0.5", timeout=10_000)
    box, track = handle.bounding_box(), page.locator(f"{FINE} .noUi-base").bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] / 2, y)
    page.mouse.down()
    page.mouse.move(track["x"] + 0.2 * track["width"], y, steps=12)
    page.mouse.up()
    drag = osc_capture.drain(timeout=10)
    final = float(handle.get_attribute("aria-valuetext"))
    assert drag and drag[-1][1][0] == pytest.approx(final, abs=1e-6), (drag, final)
    assert kernel_report(page)["values"]["fine"] == pytest.approx(final, abs=1e-12)


def test_sliders_stay_live_after_a_change_made_while_a_cell_awaits(
    page: Any, lab: LabServer, notebook: str, osc_capture: UdpCapture
) -> None:
    """Issue 8 (b): with ipykernel 7.4.0 a change made while a cell awaits left every widget
    dead (no ``idle`` for that comm message). A plain ipywidgets slider and a bound one, both."""
    handle = open_and_run(page, lab, notebook)
    plain = handle_of(page, PLAIN)
    expect(plain).to_be_visible(timeout=30_000)
    osc_capture.clear()
    run_cell_below(page, "import asyncio; await asyncio.sleep(4)", wait=False)
    time.sleep(1.0)  # the cell is awaiting now
    plain.focus()
    plain.press("ArrowRight")
    handle.focus()
    handle.press("ArrowRight")
    time.sleep(4.0)  # the cell has ended
    plain.focus()
    for _ in range(3):
        plain.press("ArrowRight")
    handle.focus()
    for _ in range(3):
        handle.press("ArrowRight")
    expect(handle).to_have_attribute("aria-valuetext", "0.54")
    expect(plain).to_have_attribute("aria-valuetext", "0.54")
    sent = values_sent(osc_capture)
    assert sent[-1] == pytest.approx(0.54, abs=1e-6), sent
    values = kernel_report(page)["values"]
    assert values["plain"] == 0.54 and values["reverb"] == 0.54, values


def test_slider_stays_live_while_a_cell_blocks(
    page: Any, lab: LabServer, notebook: str, osc_capture: UdpCapture, kernel: Any
) -> None:
    """Issue 8: a cell runs ``time.sleep(5)`` while the user presses keys on a bound slider that
    an incoming OSC value (a kernel-side change, on the main thread) has just moved.

    ipykernel 7 runs the page's widget messages on a subshell thread, so the sends leave during
    the sleep (7.4 routes a widget's messages to the subshell that last published on it: the
    binding republishes in the page's context after kernel-side changes); ipykernel 6 has no
    subshells: they leave when the cell ends, none lost. Either way page, kernel and wire agree.
    """
    handle = open_and_run(page, lab, notebook)
    port = int(page.locator(PORT).inner_text())
    handle.focus()
    handle.press("ArrowRight")  # a first page change (0.51)
    expect(handle).to_have_attribute("aria-valuetext", "0.51")
    send_udp(port, ADDRESS, 0.3)  # then a kernel-side change, from the main thread
    expect(handle).to_have_attribute("aria-valuetext", "0.3", timeout=10_000)
    time.sleep(0.5)
    osc_capture.clear()
    started = time.monotonic()
    run_cell_below(page, "import time; time.sleep(5)", wait=False)
    time.sleep(1.5)  # the cell is sleeping now
    handle.focus()
    for _ in range(3):
        handle.press("ArrowRight")
    expect(handle).to_have_attribute("aria-valuetext", "0.33")
    first = osc_capture.messages.get(timeout=15)
    arrived = time.monotonic() - started
    rest = osc_capture.drain(timeout=8, settle=0.5)
    sent = [float(a[0]) for _, a in [first, *rest]]  # type: ignore[arg-type]
    print(f"ipykernel {kernel.version}: first send {arrived:.2f} s after the 5 s cell started")
    assert sent == sorted(sent) and sent[-1] == pytest.approx(0.33, abs=1e-6), sent
    if int(kernel.version.split(".")[0]) >= 7:
        assert arrived < 4.5, f"the slider waited for the blocking cell ({arrived:.2f} s)"
    else:
        assert arrived >= 4.8, f"ipykernel 6 has no subshells, yet it sent at {arrived:.2f} s"
    values = kernel_report(page)["values"]
    assert values["reverb"] == 0.33, values
