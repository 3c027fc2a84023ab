"""Every notebook in notebooks/ runs top to bottom in a real kernel (nbclient), offline.

Headless runs do not save what background callbacks display, so each notebook ends with a cell
that prints ``OSC_LIVE_SUMMARY {json}``: kernel-side state (answers received, slider values,
counters), asserted here. ``OSC_LIVE_SCSYNTH=off`` keeps SuperCollider out of the main run (the
virtual synth stands in); ``test_sliders_notebook_drives_real_scsynth`` runs notebook 03 again
against the ``scsynth`` peer fixture. The committed ``.ipynb`` files must equal what
``notebooks/make_notebooks.py`` generates from ``notebooks/src/nbNN_*.py``.
"""

from __future__ import annotations

import json
import math
import socket
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

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


def _free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_notebook(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **env: str
) -> tuple[dict[str, Any], nbformat.NotebookNode]:
    """Execute ``name`` in a fresh kernel; return its summary and the executed notebook."""
    monkeypatch.setenv("OSC_LIVE_SCSYNTH", "off")
    monkeypatch.setenv("OSC_LIVE_LISTEN_PORT", str(_free_udp_port()))
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
    for cell in reversed(nb.cells):
        for out in cell.get("outputs", []):
            text = out.get("text", "")
            if out.get("output_type") == "stream" and text.startswith("OSC_LIVE_SUMMARY "):
                summary: dict[str, Any] = json.loads(text.split(" ", 1)[1])
                return summary, nb
    pytest.fail(f"{name}: no OSC_LIVE_SUMMARY line in the outputs", pytrace=False)


def errors_in(nb: nbformat.NotebookNode) -> list[str]:
    return [
        f"{o.get('ename')}: {o.get('evalue')}"
        for c in nb.cells
        for o in c.get("outputs", [])
        if o.get("output_type") == "error"
    ]


def test_notebook_set_is_complete_and_generated() -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_notebooks", NOTEBOOKS / "make_notebooks.py")
    assert spec is not None and spec.loader is not None
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    # one module per notebook in notebooks/src/, one committed file per module
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == sorted(gen.NOTEBOOKS)
    assert set(EXPECTED) <= set(gen.NOTEBOOKS)
    for name in gen.NOTEBOOKS:
        assert (NOTEBOOKS / name).read_text() == gen.render(name), (
            f"{name} differs from notebooks/make_notebooks.py: regenerate it"
        )
        nb = nbformat.read(NOTEBOOKS / name, as_version=4)
        nbformat.validate(nb)
        assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")
        prose = sum(len(c.source) for c in nb.cells if c.cell_type == "markdown")
        assert prose > 1500, f"{name}: a teaching notebook needs prose ({prose} chars)"


def test_01_quickstart(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    s, nb = run_notebook("01-quickstart.ipynb", tmp_path, monkeypatch)
    assert s["synth"] == "virtual"
    assert ["/n_set", 1001, "freq", 660.0] in s["answers"], s["answers"]
    assert s["slider_value"] == 880 and s["slider_sent"] == 1
    assert s["slider_last_sent"] == [1001, "freq", 880.0]
    assert s["totals"]["sent"] >= 6 and s["totals"]["synth"] >= 6
    assert not errors_in(nb)


def test_02_tcp_bundles_timetags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    s, nb = run_notebook("02-tcp-bundles-timetags.ipynb", tmp_path, monkeypatch)
    assert s["transports"] == ["tcp", "udp"] or "tcp" in s["transports"], s["transports"]
    assert len(s["bundle_delays"]) == 2 and all(0.4 <= d <= 0.75 for d in s["bundle_delays"])
    assert s["pong"] == ["/pong", ["hello", 42]]
    assert [round(a[0], 2) for a in s["chord"]] == [261.63, 329.63, 392.0]
    assert not errors_in(nb)


def test_03_sliders_drive_a_synth(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    s, nb = run_notebook("03-sliders-drive-a-synth.ipynb", tmp_path, monkeypatch)
    check_sliders_summary(s)
    assert s["synth"] == "virtual"
    assert not errors_in(nb)


def check_sliders_summary(s: dict[str, Any]) -> None:
    # /s_get's answer moved the freq slider to 330 (set behind its back), then the drag
    assert s["freq_received"] >= 1
    assert s["freq"] == 797 and s["readback"]["freq"] == pytest.approx(797)
    assert s["amp"] == 0.2 and s["readback"]["amp"] == pytest.approx(0.2, abs=1e-6)
    assert 1 <= s["drag_sent"] <= 10, s["drag_sent"]  # 200 changes, throttled
    assert {"osc-control", "osc-slider", "osc-addr--n_set--1003-freq"} <= set(s["classes"])


def test_04_receive_monitor_plot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    s, nb = run_notebook("04-receive-monitor-plot.ipynb", tmp_path, monkeypatch)
    assert s["presses"] == 4
    assert s["last_accel"] == pytest.approx(math.sin(99 / 8), abs=1e-6)
    assert s["follower"] == pytest.approx(math.sin(99 / 8), abs=1e-3)
    assert s["follower_sent"] == 0 and s["follower_received"] >= 90  # followed, no echo
    assert s["seen_in_thread"] == 5
    assert s["received"] >= 104
    assert not errors_in(nb)


def test_05_teaching_osc(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    s, nb = run_notebook("05-teaching-osc.ipynb", tmp_path, monkeypatch)
    assert s["hits"] == {
        "/mixer/*/gain": ["/mixer/1/gain", "/mixer/2/gain", "/mixer/3/gain", "/mixer/4/gain"],
        "/mixer/[1-2]/gain": ["/mixer/1/gain", "/mixer/2/gain"],
        "/mixer/3/{gain,pan}": ["/mixer/3/gain", "/mixer/3/pan"],
    }
    assert s["matching"]["/*/gain"] == []
    assert s["answer_1"] == 28 and s["chord"] == [2001, 2002, 2003]
    assert s["exact"] == [0.5, 0.75]
    assert not errors_in(nb)


@pytest.mark.peers
def test_sliders_notebook_drives_real_scsynth(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    scsynth: Any,  # noqa: F811
) -> None:
    """Notebook 03 against SuperCollider (the peers fixture) instead of the virtual synth."""
    s, nb = run_notebook(
        "03-sliders-drive-a-synth.ipynb",
        tmp_path,
        monkeypatch,
        OSC_LIVE_SCSYNTH=f"udp://127.0.0.1:{scsynth.udp_port}",
        OSC_LIVE_SYNTHDEF=scsynth.synthdef,
    )
    assert s["synth"] == f"udp://127.0.0.1:{scsynth.udp_port}"
    check_sliders_summary(s)
    assert not errors_in(nb)
