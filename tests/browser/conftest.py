"""Fixtures of the browser suite: one capture socket, one JupyterLab and one Chromium per session;
a fresh browser context and a fresh notebook copy (hence a fresh kernel) per test.

``OSC_LIVE_REQUIRE_BROWSER=1`` (set by ``scripts/test.sh``) turns a missing Playwright or
Chromium into a failure instead of a skip. ``CHROMIUM_PATH`` overrides ``/usr/bin/chromium``.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser import kernels
from tests.browser.harness import LabServer, UdpCapture, start_lab
from tests.browser.kernels import Kernel
from tests.browser.notebook import write_notebook

ROOT = Path(__file__).resolve().parents[2]
REQUIRE_ENV = "OSC_LIVE_REQUIRE_BROWSER"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
TIMINGS: dict[str, float] = {}


def browser_required() -> bool:
    return os.environ.get(REQUIRE_ENV) == "1"


def _missing(why: str) -> None:
    hint = f"{why}: run `bash scripts/setup.sh test` as root (Debian package chromium)"
    if browser_required():
        pytest.fail(f"{hint} ({REQUIRE_ENV}=1)", pytrace=False)
    pytest.skip(hint)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def osc_capture() -> Iterator[UdpCapture]:
    """Where the notebook's default target sends (its port reaches the kernel by env)."""
    cap = UdpCapture()
    yield cap
    cap.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (no ``playwright install``)."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("playwright is not installed")
    if not Path(CHROMIUM).exists():
        _missing(f"no chromium at {CHROMIUM}")
    with sync_playwright() as pw:
        t0 = time.monotonic()
        b = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        TIMINGS["chromium_launch_s"] = time.monotonic() - t0
        yield b
        b.close()


@pytest.fixture(scope="session")
def lab(
    tmp_path_factory: pytest.TempPathFactory, osc_capture: UdpCapture, browser: Any
) -> Iterator[LabServer]:
    """JupyterLab on loopback (started after the browser check: no browser, no server)."""
    work = tmp_path_factory.mktemp("lab")
    root = work / "root"
    root.mkdir()
    for key in kernels.wanted():  # the older ipykernels as kernelspecs (tests/browser/kernels.py)
        found = kernels.find(key)
        if found is not None:
            kernels.register(found, work / "data")
    # OSC_LIVE_SCSYNTH=off: the teaching notebooks use their virtual synth, never probe 57110;
    # OSC_LIVE_LISTEN_PORT=0: notebook 04 listens on a free port (it shows which)
    env = {
        "OSC_TEST_PORT": str(osc_capture.port), "OSC_LIVE_SCSYNTH": "off",
        "OSC_LIVE_LISTEN_PORT": "0", "JUPYTER_PATH": str(work / "data"),
    }  # fmt: skip
    server = start_lab(root, work, env)
    TIMINGS["jupyterlab_start_s"] = server.startup_s
    yield server
    server.delete_sessions()
    t0 = time.monotonic()
    server.stop()
    TIMINGS["jupyterlab_stop_s"] = time.monotonic() - t0


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    rep = outcome.get_result()  # type: ignore[attr-defined]
    setattr(item, f"rep_{rep.when}", rep)


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A page in a fresh browser context; a screenshot is saved when the test fails."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    ctx.set_default_timeout(30_000)
    pg = ctx.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    yield pg
    rep = getattr(request.node, "rep_call", None)
    if rep is not None and rep.failed:
        shot = Path(f"/tmp/osc_live-browser-fail-{request.node.name}.png")
        pg.screenshot(path=str(shot), full_page=True)
        print(f"failure screenshot: {shot}; page errors: {errors}")
    ctx.close()


@pytest.fixture(params=kernels.wanted())
def kernel(request: pytest.FixtureRequest) -> Kernel:
    """Each browser scenario runs once per ipykernel of ``tests/browser/kernels.txt`` (and the
    main venv's): a missing kernel venv fails under ``OSC_LIVE_REQUIRE_BROWSER=1``."""
    found = kernels.find(request.param)
    if found is None:
        _missing(f"no kernel venv .venv-kernels/ipykernel-{request.param}")
    assert found is not None
    return found


def _file_name(request: pytest.FixtureRequest, suffix: str = "") -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in request.node.name) + suffix


@pytest.fixture
def notebook(lab: LabServer, kernel: Kernel, request: pytest.FixtureRequest) -> Iterator[str]:
    """A per-test notebook file (fresh path: fresh kernel); its session is deleted afterwards."""
    name = _file_name(request, ".ipynb")
    write_notebook(lab.root / name)
    kernels.use(lab.root / name, kernel)
    yield name
    lab.delete_sessions(name)


@pytest.fixture
def project_notebook(
    lab: LabServer, kernel: Kernel, request: pytest.FixtureRequest
) -> Iterator[Any]:
    """Copy a notebook of notebooks/ into the Lab root (a per-test name, on the test's kernel):
    ``project_notebook("03-...ipynb")`` returns the copy's name."""
    copied: list[str] = []

    def copy(name: str) -> str:
        target = f"{_file_name(request)}-{name}"
        shutil.copy(ROOT / "notebooks" / name, lab.root / target)
        kernels.use(lab.root / target, kernel)
        copied.append(target)
        return target

    yield copy
    for name in copied:
        lab.delete_sessions(name)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if TIMINGS:
        terminalreporter.write_line(
            "browser timings: " + ", ".join(f"{k}={v:.2f}" for k, v in TIMINGS.items())
        )
