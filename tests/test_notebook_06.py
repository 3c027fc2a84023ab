"""Notebook 06-discover.ipynb runs top to bottom in a real kernel, with nothing external: it
advertises the virtual synth over zeroconf (loopback), discovers it, queries it, serves the
kernel's slider and builds a panel of it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "06-discover.ipynb"


def text_of(cell: Any) -> str:
    out = []
    for output in cell.get("outputs", []):
        if output.get("output_type") == "stream":
            out.append(output["text"])
        elif "text/plain" in output.get("data", {}):
            out.append(output["data"]["text/plain"])
    return "".join(out)


def test_06_discover(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OSC_LIVE_SCSYNTH", "off")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(
        nb, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    try:
        client.execute()
    except CellExecutionError as exc:
        pytest.fail(f"06-discover: a cell failed:\n{str(exc)[-3000:]}", pytrace=False)
    nbformat.write(nb, tmp_path / NOTEBOOK.name)
    cells = {cell.get("id"): cell for cell in nb.cells}
    advertised = text_of(cells["nb06-advertise"])
    assert advertised.startswith("advertising demo-synth-") and "zeroconf" in advertised
    name = advertised.split()[1].rstrip(":")
    table = text_of(cells["nb06-discover"]).splitlines()
    assert table[0].split() == ["name", "host", "port", "transport", "OSCQuery", "URL"]
    assert any(row.startswith(name) and "http://127.0.0.1:" in row for row in table)
    tree = text_of(cells["nb06-query"])
    assert "s_new" in tree and "reverb" in tree and "0.3" in tree
    for widget_cell in ("nb06-kernel", "nb06-panel"):
        kinds = [set(o.get("data", {})) for o in cells[widget_cell]["outputs"]]
        assert any("application/vnd.jupyter.widget-view+json" in k for k in kinds), widget_cell
    assert text_of(cells["nb06-python"]).splitlines()[1] == "f [440.0] 20.0 2000.0"
    assert text_of(cells["nb06-close"]).strip().startswith("closed all")
