"""Notebook 07 (bridge and replay) runs top to bottom in a real kernel (nbclient), offline, and
its named cells show what their text promises."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "07-bridge-and-replay.ipynb"

pytestmark = pytest.mark.timeout(180)


def _value(nb: nbformat.NotebookNode, name: str) -> Any:
    """The execute_result of the cell named ``name`` (its repr read back as a literal)."""
    for cell in nb.cells:
        if cell.get("id") == f"nb07-{name}":
            for out in cell.get("outputs", []):
                if out.get("output_type") == "execute_result":
                    text = out["data"]["text/plain"]
                    try:
                        return ast.literal_eval(text)
                    except (ValueError, SyntaxError):
                        return text
    raise AssertionError(f"cell nb07-{name} has no result")


def test_07_bridge_and_replay(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OSC_LIVE_SCSYNTH", "off")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(
        nb, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    )
    try:
        client.execute()
    except CellExecutionError as exc:
        pytest.fail(f"a cell failed:\n{str(exc)[-3000:]}", pytrace=False)
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors
    assert "5 packets" in _value(nb, "record")
    times = _value(nb, "file")
    assert [a for a, _ in times] == ["/s_new", "/n_set", "/n_set", "/n_set", "/n_free"]
    assert 0.13 < times[2][1] - times[1][1] < 0.4  # the recorded spacing (0.15 s asked)
    assert "5/5 sent" in _value(nb, "replay") and "done, 2x" in _value(nb, "replay")
    synth_got, sent, on_time = _value(nb, "replayed")
    assert synth_got == 5 and sent == 5 and on_time
    answers, heard = _value(nb, "page")
    assert answers == [("/kernel/freq", [523.25])]
    assert heard == "/page/freq (523.25,)"
    assert "1 to target, 1 back" in _value(nb, "bridge")
