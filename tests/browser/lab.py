"""What a user does in JupyterLab, as Playwright calls: open a notebook, Run All, wait, drag a
slider, press keys, add and run a cell, run a cell again, save; and reading what the page shows.

Selectors were checked in the live page (JupyterLab 4.6, ipywidgets 8 / noUiSlider 15).
Importing this module skips the importing test module when Playwright is missing (a failure
under ``OSC_LIVE_REQUIRE_BROWSER=1``); ``expect`` is Playwright's, re-exported.
"""

from __future__ import annotations

import ast
import os
import re
import time
from pathlib import Path
from typing import Any

import nbformat
import pytest

from tests.browser.harness import LabServer

try:
    from playwright.sync_api import expect
except ImportError:  # pragma: no cover - depends on the machine
    if os.environ.get("OSC_LIVE_REQUIRE_BROWSER") == "1":
        raise
    pytest.skip("playwright is not installed", allow_module_level=True)

# The toolbar says "idle" for ~0.5 s while the kernel name is still "No Kernel": Run All in that
# window runs nothing. Wait for both a kernel name and the idle state.
KERNEL_READY_JS = """() => {
  const name = document.querySelector('.jp-NotebookPanel-toolbar .jp-Toolbar-kernelName');
  const ind = document.querySelector('.jp-NotebookPanel-toolbar .jp-Notebook-ExecutionIndicator');
  return !!name && !!ind && name.textContent.trim() !== 'No Kernel'
         && ind.getAttribute('data-status') === 'idle';
}"""
# Every code cell has run (its prompt shows a number, not "[*]" or "[ ]").
ALL_RAN_JS = """() => {
  const prompts = [...document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt')]
    .map(e => e.textContent.trim()).filter(t => t !== '' && t !== '[ ]:');
  const all = document.querySelectorAll('.jp-Notebook .jp-CodeCell').length;
  return prompts.length > 0 && prompts.every(t => /^\\[\\d+\\]:$/.test(t))
         && prompts.length >= all - 1;
}"""
RUN_ALL = "li.lm-Menu-item[data-command='runmenu:run-all']"
ERROR_OUTPUT = ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.error']"
CELLS = ".jp-Notebook .jp-Cell"
_RAN = re.compile(r"^\[\d+\]:$")


def open_notebook(page: Any, lab: LabServer, name: str) -> None:
    """Open ``name`` in Lab and wait for its kernel."""
    page.goto(lab.lab_url(name))
    page.wait_for_function(KERNEL_READY_JS, timeout=90_000)


def click_run_all(page: Any) -> None:
    """Run ▸ Run All Cells (the menu, as a user does)."""
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.locator(RUN_ALL).click()


def run_all(page: Any, timeout_s: float = 90) -> float:
    """Run ▸ Run All Cells; wait until every cell ran; fail on an error output. Seconds taken."""
    t0 = time.monotonic()
    click_run_all(page)
    # Run All stops at a cell that fails: wait for every cell, or for an error output
    error_shown = f"() => !!document.querySelector({ERROR_OUTPUT!r})"
    page.wait_for_function(f"() => ({ALL_RAN_JS})() || ({error_shown})()", timeout=timeout_s * 1000)
    fail_on_errors(page)
    return time.monotonic() - t0


def run_all_until(page: Any, locator: Any, timeout_s: float = 60) -> None:
    """Run ▸ Run All Cells and wait until ``locator`` shows (or fail on the first error output)."""
    click_run_all(page)
    expect(locator.or_(page.locator(ERROR_OUTPUT)).first).to_be_visible(timeout=timeout_s * 1000)
    fail_on_errors(page)


def fail_on_errors(page: Any) -> None:
    errors = page.locator(ERROR_OUTPUT)
    if errors.count():
        pytest.fail(f"a notebook cell failed:\n{errors.first.inner_text()}", pytrace=False)


def cell_with(page: Any, source_text: str) -> Any:
    """The cell whose source contains ``source_text``."""
    return page.locator(CELLS).filter(has=page.locator(".jp-InputArea", has_text=source_text))


def output_text(cell: Any) -> str:
    """What a cell's outputs show, as text (without the ``[n]:`` prompts), one per line."""
    return "\n".join(cell.locator(".jp-OutputArea-output").all_inner_texts())


def last_output(cell: Any) -> str:
    """The text of a cell's last output (its result, when it has one)."""
    texts = cell.locator(".jp-OutputArea-output").all_inner_texts()
    return str(texts[-1]) if texts else ""


def run_cell_below(page: Any, source: str, timeout_s: float = 30, *, wait: bool = True) -> str:
    """Add a cell under the last one, type ``source`` (one line: the editor auto-indents), run
    it with Shift+Enter (what a user does) and return its last output (``wait=False``: return
    at once, while it runs)."""
    cells = page.locator(CELLS)
    index = cells.count()
    cells.last.locator(".jp-InputPrompt").click()
    page.keyboard.press("Escape")
    page.keyboard.press("b")
    new = cells.nth(index)
    expect(cells).to_have_count(index + 1)
    page.keyboard.press("Enter")
    # under load, keys typed before the new cell's editor has focus land nowhere (or elsewhere)
    expect(new.locator(".cm-content")).to_be_focused()
    page.keyboard.type(source)
    page.keyboard.press("Shift+Enter")
    if not wait:
        return ""
    expect(new.locator(".jp-InputPrompt")).to_have_text(_RAN, timeout=timeout_s * 1000)
    fail_on_errors(page)
    return last_output(new)


def run_cell_below_value(page: Any, source: str) -> Any:
    """:func:`run_cell_below` for an expression: its value (a Python literal)."""
    shown = run_cell_below(page, source).strip()
    return ast.literal_eval(shown)


def rerun(page: Any, cell: Any, timeout_s: float = 30) -> str:
    """Select ``cell`` and run it again with Shift+Enter; return its last output afterwards."""
    prompt = cell.locator(".jp-InputPrompt")
    before = prompt.inner_text()
    prompt.click()
    page.keyboard.press("Escape")
    page.keyboard.press("Shift+Enter")
    expect(prompt).not_to_have_text(before, timeout=timeout_s * 1000)
    expect(prompt).to_have_text(_RAN, timeout=timeout_s * 1000)
    fail_on_errors(page)
    return last_output(cell)


def save(page: Any, lab: LabServer, name: str, timeout_s: float = 20) -> nbformat.NotebookNode:
    """File ▸ Save (Ctrl+S) and read the saved notebook back: outputs as the page shows them."""
    path = lab.root / name
    before = path.stat().st_mtime_ns
    page.locator(CELLS).first.locator(".jp-InputPrompt").click()
    page.keyboard.press("Escape")
    page.keyboard.press("Control+s")
    deadline = time.monotonic() + timeout_s
    while path.stat().st_mtime_ns == before:
        if time.monotonic() > deadline:
            pytest.fail(f"{name} was not saved within {timeout_s} s", pytrace=False)
        time.sleep(0.1)
    time.sleep(0.3)  # the server writes the file in one go; let it finish
    return nbformat.reads(Path(path).read_text(), as_version=4)


def drag(page: Any, scope: Any, fraction: float, steps: int = 12) -> None:
    """Drag the slider handle inside ``scope`` (a CSS selector or a Locator) with the mouse to
    ``fraction`` of its track."""
    within = page.locator(scope) if isinstance(scope, str) else scope
    handle = within.locator(".noUi-handle[role='slider']").first
    handle.scroll_into_view_if_needed()
    box = handle.bounding_box()
    track = within.locator(".noUi-base").first.bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] / 2, y)
    page.mouse.down()
    page.mouse.move(track["x"] + fraction * track["width"], y, steps=steps)
    page.mouse.up()


def press(page: Any, scope: str, key: str, times: int = 1) -> None:
    """Focus the slider handle inside ``scope`` and press ``key`` ``times`` times."""
    handle = page.locator(f"{scope} .noUi-handle[role='slider']").first
    handle.focus()
    for _ in range(times):
        handle.press(key)


def shown_value(page: Any, scope: str, *, log: bool = False) -> float:
    """The value the slider inside ``scope`` shows: its handle's ``aria-valuetext`` (exact), or
    for a log slider (whose handle holds the exponent) its readout (4 significant digits)."""
    if log:
        return float(page.locator(f"{scope} .widget-readout").first.inner_text())
    handle = page.locator(f"{scope} .noUi-handle[role='slider']").first
    return float(handle.get_attribute("aria-valuetext"))
