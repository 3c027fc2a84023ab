"""Every notebook of notebooks/ in JupyterLab, in Chromium, on every kernel of the matrix.

As a user would: open it, Run ▸ Run All Cells, look at what each cell shows (the saved file's
outputs, checked by the same ``tests/notebook_checks.py`` as the headless run), then play with
it: drag its sliders and press keys on them, click its buttons, send it OSC from outside where
it listens, run a cell again, and check that page, kernel and synth agree.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests.browser.harness import LabServer, send_udp
from tests.browser.lab import (
    cell_with,
    drag,
    expect,
    open_notebook,
    press,
    rerun,
    run_all,
    run_cell_below,
    run_cell_below_value,
    save,
    shown_value,
)
from tests.notebook_checks import CHECKS, listen_port

pytestmark = pytest.mark.browser
HISTORY = (
    "from osc_live.live import session; "
    "h = [(r.address, list(r.args)) for r in session().synth.history]; "
)


def play_01(page: Any) -> None:
    """The log slider: shown at 880 (nothing sent on display), dragged, keyed; the stop button."""
    freq = ".osc-addr--n_set--1001-freq"
    expect(page.locator(f"{freq} .widget-readout")).to_have_text("880")
    time.sleep(1.0)  # a page answer to the display would have arrived by now
    assert run_cell_below_value(page, "freq.osc.sent, freq.value") == (1, 880)
    drag(page, freq, 0.3)
    press(page, freq, "ArrowRight")
    time.sleep(0.5)  # the throttle's trailing send (the final value) leaves within 1/60 s
    page.locator(".osc-button.osc-addr--n_free").click()
    time.sleep(0.5)
    last, value, sent = run_cell_below_value(page, HISTORY + "h[-2:], freq.value, freq.osc.sent")
    assert last[1] == ("/n_free", [1001]), last
    address, (node, control, synth_freq) = last[0]
    assert (address, node, control) == ("/n_set", 1001, "freq")
    assert synth_freq == pytest.approx(value, rel=1e-6)  # float32 on the wire
    assert shown_value(page, freq, log=True) == pytest.approx(value, rel=1e-3)
    assert sent >= 2 and 110 <= value < 880, (value, sent)


def play_03(page: Any) -> None:
    """The panel: drag amp and freq, keys on amp, the toggle, the pad; run the check cell again:
    synth and sliders agree, and the page shows the kernel's values."""
    amp, freq = ".osc-addr--n_set--1003-amp", ".osc-addr--n_set--1003-freq"
    expect(page.locator(f"{amp} .noUi-handle[role='slider']")).to_have_attribute(
        "aria-valuetext", "0.2"
    )
    assert float(page.locator(f"{freq} .widget-readout").inner_text()) == pytest.approx(
        797, rel=0.004
    )
    drag(page, amp, 0.8)
    press(page, amp, "ArrowLeft", 2)
    drag(page, freq, 0.5)
    page.locator(".osc-toggle.osc-addr--fx-bypass").click()
    drag(page, ".osc-addr--pad .osc-x", 0.25)
    time.sleep(0.5)
    check = _literal(rerun(page, cell_with(page, "held = {}")))
    assert check["synth"] == pytest.approx(check["sliders"], abs=1e-3), check
    sliders = check["sliders"]
    assert sliders["amp"] == pytest.approx(shown_value(page, amp), abs=1e-9)
    assert 0.35 <= sliders["amp"] <= 0.45 and 150 <= sliders["freq"] <= 600, sliders
    bypass, pad = run_cell_below_value(
        page,
        HISTORY
        + '[a for a in h if a[0] == "/fx/bypass"][-1], [a for a in h if a[0] == "/pad"][-1]',
    )
    assert bypass == ("/fx/bypass", [1])
    assert pad[1][0] == pytest.approx(shown_value(page, ".osc-addr--pad .osc-x"), abs=1e-6)
    # "ask the synth" after the check cell: its answer (/n_set 1003 freq .. amp ..) reaches the
    # check's handler too, which takes it (it once raised a TypeError, shown nowhere)
    page.locator(".osc-button", has_text="ask the synth").click()
    log = cell_with(page, "held = {}").locator(".osc-live-log")
    expect(log).to_contain_text("remember: called 3 times", timeout=10_000)
    expect(log).not_to_contain_text("raised")
    assert run_cell_below_value(page, "len(session().handler_errors)") == 0


def play_04(page: Any, nb: Any) -> None:
    """OSC from outside to the notebook's listener moves the follower and counts a press; a drag
    of the follower goes out to the notebook's own listener and reaches its handler."""
    port = listen_port(nb)
    follower = ".osc-addr--sensor-accel"
    send_udp(port, "/sensor/accel", 0.5)
    send_udp(port, "/sensor/button", 1)
    expect(page.locator(f"{follower} .noUi-handle[role='slider']")).to_have_attribute(
        "aria-valuetext", "0.5", timeout=10_000
    )
    presses = page.locator(".widget-inline-hbox", has_text="presses").locator("input")
    expect(presses).to_have_value("5", timeout=10_000)
    expect(cell_with(page, "%osc monitor").locator(".jp-OutputArea")).to_contain_text("0.5")
    counts = cell_with(page, "presses.value, round(")
    assert _literal(rerun(page, counts)) == (5, 0.5, 0.5, 0)
    drag(page, follower, 0.9)
    time.sleep(0.5)
    value = shown_value(page, follower)
    presses_now, accel, kernel_value, sent = _literal(rerun(page, counts))
    assert presses_now == 5 and sent >= 1 and value > 0.5
    assert kernel_value == pytest.approx(value, abs=1e-3)
    assert accel == pytest.approx(value, abs=1e-3)  # looped through the listener to on_accel


def play_06(page: Any) -> None:
    """After Run All the advertisement and the panel stay up: a mouse drag of the panel's
    slider moves the kernel's ``cutoff`` slider, as the text says; ``done()`` closes all."""
    handle = ".osc-addr--filter-cutoff .noUi-handle[role='slider']"
    panel = cell_with(page, "%osc panel $kernel")
    original = cell_with(page, "cutoff = osc_live.slider").locator(handle)
    expect(panel.locator(handle)).to_be_visible(timeout=10_000)
    step = run_cell_below_value(page, "cutoff.step")  # the original keeps to its own grid
    for fraction in (0.8, 0.3, 0.6):
        drag(page, panel.locator(".osc-addr--filter-cutoff"), fraction)
        # the two sliders settle on one value (the kernel's keeps to its own grid and its
        # change comes back to the panel over LISTEN) near where the mouse let go
        deadline = time.monotonic() + 10
        while True:
            moved = float(panel.locator(handle).get_attribute("aria-valuetext"))
            shown = float(original.get_attribute("aria-valuetext"))
            if abs(shown - moved) <= step / 2 + 1e-6 and abs(moved - (20 + fraction * 1980)) < 200:
                break
            assert time.monotonic() < deadline, (fraction, moved, shown)
            time.sleep(0.1)
    time.sleep(0.5)
    moved = float(panel.locator(handle).get_attribute("aria-valuetext"))
    assert run_cell_below_value(page, "cutoff.value") == pytest.approx(moved, abs=step / 2)
    assert run_cell_below(page, "done()").strip().startswith("closed all")
    assert "default target: —" in run_cell_below(page, "%osc status")


def play_07(page: Any) -> None:
    """The page in the iframe, after Run All: connected; a drag of its range input crosses the
    bridge into the listener (the kernel's label and the synth follow) and the answer comes back
    to the page; ``done()`` closes the bridge and the page says so."""
    frame = page.frame_locator("iframe").first
    state, answer, freq = frame.locator("#state"), frame.locator("#answer"), frame.locator("#freq")
    expect(state).to_have_text("connected", timeout=10_000)
    page.locator("iframe").first.scroll_into_view_if_needed()
    box = _steady_box(freq)
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.375, y)  # the thumb: 440 on 100..1000
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.8, y, steps=8)
    page.mouse.up()
    value = float(freq.input_value())
    assert 700 <= value <= 1000, value
    heard = page.locator(".widget-label", has_text="/page/freq")
    expect(heard).to_have_text(f"/page/freq ({value},)", timeout=10_000)
    expect(answer).to_have_text(f"/kernel/freq {value:g}", timeout=10_000)
    last = run_cell_below_value(page, HISTORY + "h[-1]")
    assert last == ("/n_set", [1000, "freq", value]), last
    run_cell_below(page, "done()")
    expect(state).to_contain_text("disconnected", timeout=10_000)


def _steady_box(locator: Any, timeout_s: float = 10) -> Any:
    """``locator``'s bounding box once it stops moving (Lab may still scroll after Run All;
    Playwright's own stability wait does not reach into an iframe's layout shifts here)."""
    deadline = time.monotonic() + timeout_s
    box = locator.bounding_box()
    while time.monotonic() < deadline:
        time.sleep(0.2)
        again = locator.bounding_box()
        if again == box and box is not None:
            return box
        box = again
    pytest.fail(f"{locator} kept moving for {timeout_s} s", pytrace=False)


def _literal(text: str) -> Any:
    import ast

    return ast.literal_eval(text.strip())


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_notebook_in_lab(
    name: str, page: Any, lab: LabServer, project_notebook: Any, kernel: Any
) -> None:
    copy = project_notebook(name)
    open_notebook(page, lab, copy)
    took = run_all(page)
    nb = save(page, lab, copy)
    print(f"{name} on {kernel.label}: Run All {took:.1f} s")
    CHECKS[name](nb)
    if name.startswith("01-"):
        play_01(page)
    elif name.startswith("03-"):
        play_03(page)
    elif name.startswith("04-"):
        play_04(page, nb)
    elif name.startswith("06-"):
        play_06(page)
    elif name.startswith("07-"):
        play_07(page)
