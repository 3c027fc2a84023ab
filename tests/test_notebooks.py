"""Every notebook in notebooks/ runs top to bottom in a real kernel (nbclient), offline.

What each cell's text promises is checked on that cell's own outputs, found by its id
(``tests/notebook_checks.py``, shared with the browser run in JupyterLab). No notebook has a
cell written for the tests. ``OSC_LIVE_SCSYNTH=off`` keeps SuperCollider out of the main run
(the virtual synth stands in); ``test_sliders_notebook_drives_real_scsynth`` runs notebook 03
again against the ``scsynth`` peer fixture. The committed ``.ipynb`` files must equal what
``notebooks/make_notebooks.py`` generates from ``notebooks/src/nbNN_*.py``.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from tests.notebook_checks import CHECKS, check_03, text
from tests.peers.fixtures import scsynth  # noqa: F401 - the session fixture

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
EXPECTED = [
    "01-quickstart.ipynb",
    "02-tcp-bundles-timetags.ipynb",
    "03-sliders-drive-a-synth.ipynb",
    "04-receive-monitor-plot.ipynb",
    "05-teaching-osc.ipynb",
]


def run_notebook(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **env: str
) -> nbformat.NotebookNode:
    """Execute ``name`` in a fresh kernel; return the executed notebook."""
    monkeypatch.setenv("OSC_LIVE_SCSYNTH", "off")
    monkeypatch.setenv("OSC_LIVE_LISTEN_PORT", "0")  # notebook 04 listens on a free port
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = NotebookClient(
        nb, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    try:
        client.execute()
    except CellExecutionError as exc:
        pytest.fail(f"{name}: a cell failed:\n{str(exc)[-3000:]}", pytrace=False)
    nbformat.validate(nb)
    nbformat.write(nb, tmp_path / name)  # kept for inspection when something looks wrong
    return nb


def test_notebook_set_is_complete_and_generated() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_notebooks", NOTEBOOKS / "make_notebooks.py")
    assert spec is not None and spec.loader is not None
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    # one module per notebook in notebooks/src/, one committed file per module
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == sorted(gen.NOTEBOOKS)
    assert set(EXPECTED) <= set(gen.NOTEBOOKS)
    # every notebook says in tests/notebook_checks.py what its cells must show (headless and
    # in JupyterLab)
    assert sorted(CHECKS) == sorted(gen.NOTEBOOKS)
    for name in gen.NOTEBOOKS:
        assert (NOTEBOOKS / name).read_text() == gen.render(name), (
            f"{name} differs from notebooks/make_notebooks.py: regenerate it"
        )
        nb = nbformat.read(NOTEBOOKS / name, as_version=4)
        nbformat.validate(nb)
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")
        prose = sum(len(c.source) for c in nb.cells if c.cell_type == "markdown")
        assert prose > 1500, f"{name}: a teaching notebook needs prose ({prose} chars)"
        # no cell written for the tests: they read the cells users read
        assert "OSC_LIVE_SUMMARY" not in (NOTEBOOKS / name).read_text(), name


@pytest.mark.parametrize("name", sorted(CHECKS))
def test_notebook_runs_and_shows_what_it_says_twice(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run All, check; then Run All again without restarting the kernel (what users do after
    an edit), check again: every cell runs again and shows what it says. Notebook 04 listens
    on a fixed port here, as it does for users (9000): a listener re-made on its own port."""
    monkeypatch.setenv("OSC_LIVE_SCSYNTH", "off")
    monkeypatch.setenv("OSC_LIVE_LISTEN_PORT", str(free_udp_port()))
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    client = NotebookClient(
        nb, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    with client.setup_kernel():
        for run in ("first", "second"):
            for index, cell in enumerate(nb.cells):
                try:
                    client.execute_cell(cell, index)
                except CellExecutionError as exc:
                    pytest.fail(f"{name}, {run} Run All: a cell failed:\n{exc}", pytrace=False)
            nbformat.validate(nb)
            nbformat.write(nb, tmp_path / f"{run}-{name}")  # kept for inspection
            CHECKS[name](nb)


def free_udp_port() -> int:
    """A loopback UDP port that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.peers
def test_sliders_notebook_drives_real_scsynth(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    scsynth: Any,  # noqa: F811
) -> None:
    """Notebook 03 against SuperCollider (the peers fixture) instead of the virtual synth."""
    nb = run_notebook(
        "03-sliders-drive-a-synth.ipynb",
        tmp_path,
        monkeypatch,
        OSC_LIVE_SCSYNTH=f"udp://127.0.0.1:{scsynth.udp_port}",
        OSC_LIVE_SYNTHDEF=scsynth.synthdef,
    )
    assert f"synth: udp://127.0.0.1:{scsynth.udp_port}" in text(nb, "nb03-03")
    check_03(nb)
