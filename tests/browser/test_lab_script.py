"""README's ``bash scripts/lab.sh``: the URL it prints opens notebooks/01-quickstart.ipynb.

The script runs as a user runs it (setup, then JupyterLab on the repository), with extra
JupyterLab arguments for a headless run (no browser window, a free port, settings and
workspaces in a temporary folder; the token is JupyterLab's own, as printed). The printed URL
is opened in Chromium and the active tab must be the quickstart notebook, not the Launcher.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.browser.harness import free_port, write_lab_settings

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

ROOT = Path(__file__).resolve().parents[2]
URL = re.compile(r"(http://127\.0\.0\.1:\d+/\S+)")


def _printed_url(proc: subprocess.Popen[str], log: list[str], timeout: float) -> str:
    deadline = time.monotonic() + timeout
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            if proc.poll() is not None:
                break
            continue
        log.append(line)
        found = URL.search(line)
        if found and "token=" in found.group(1):
            return found.group(1)
    raise AssertionError("lab.sh printed no URL:\n" + "".join(log[-40:]))


def test_lab_sh_prints_a_url_that_opens_the_quickstart(browser: Any, tmp_path: Path) -> None:
    for sub in ("runtime", "config", "settings", "workspaces"):
        (tmp_path / sub).mkdir()
    write_lab_settings(tmp_path / "settings")
    env = {
        **os.environ,
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
        "JUPYTER_PLATFORM_DIRS": "1",
        "OSC_LIVE_SCSYNTH": "off",
    }
    cmd = [
        "bash", "scripts/lab.sh", "--no-browser",
        f"--ServerApp.port={free_port()}", "--ServerApp.port_retries=0",
        f"--LabApp.user_settings_dir={tmp_path / 'settings'}",
        f"--LabApp.workspaces_dir={tmp_path / 'workspaces'}",
        "--LabApp.news_url=None", "--ServerApp.terminals_enabled=False",
    ]  # fmt: skip
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        stdin=subprocess.DEVNULL,
    )  # fmt: skip
    log: list[str] = []
    context = None
    try:
        url = _printed_url(proc, log, timeout=180)
        assert "/lab/tree/notebooks/01-quickstart.ipynb" in url
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.goto(url)
        page.wait_for_selector(".jp-NotebookPanel", timeout=90_000)
        current = page.locator("#jp-main-dock-panel .lm-TabBar-tab.lm-mod-current")
        assert current.first.inner_text(timeout=30_000).strip().startswith("01-quickstart")
        assert page.locator("#jp-main-dock-panel .jp-Launcher").count() == 0
    finally:
        if context is not None:
            context.close()
        if proc.poll() is None:  # lab.sh exec'd jupyter: this PID is the server
            proc.send_signal(signal.SIGTERM)  # it shuts its kernels down
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()
