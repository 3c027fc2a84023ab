"""A notebook executed by a real kernel: connect, send, listen, receive, plot, monitor, unload.

Headless runs do not save what background callbacks display, so the notebook's last cells
print JSON of the kernel-side state (handler calls, plot data, counters, leftovers) and the
test asserts on that.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

nbclient = pytest.importorskip("nbclient")
nbformat = pytest.importorskip("nbformat")

NOTEBOOK = Path(__file__).parent / "notebooks_fixtures" / "live_roundtrip.ipynb"


def _json_outputs(nb: Any) -> list[dict[str, Any]]:
    found = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            text = out.get("text", "")
            if out.get("output_type") == "stream" and text.startswith("{"):
                found.append(json.loads(text))
    return found


@pytest.fixture(scope="module")
def executed() -> Any:
    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=60, kernel_name="python3")
    client.execute()
    return nb


def test_notebook_runs_without_errors(executed: Any) -> None:
    errors = [
        o for c in executed.cells for o in c.get("outputs", []) if o.get("output_type") == "error"
    ]
    assert errors == []


def test_kernel_side_state(executed: Any) -> None:
    state, _ = _json_outputs(executed)
    xs = [args[0] for address, args in state["seen"] if address == "/sensor/x"]
    assert len(xs) == 20
    assert all(math.isclose(x, i / 20, abs_tol=1e-6) for i, x in enumerate(xs))
    assert [args for address, args in state["seen"] if address == "/sensor/y"] == [[1], [2]]
    assert state["plot_count"] == 20  # what arrived on /sensor/x
    assert len(state["plot_series"][0]) == state["plot_count"]
    assert state["async_result"] == 42
    # print() in an `%osc on` handler lands in its log view, not in the void
    assert len(state["log_lines"]) == 20 and state["log_lines"][0] == "got /sensor/x 0.0"
    assert state["log_frames"] >= 2
    assert all(state["handles_alive"])  # no DisplayHandle.update failed
    assert state["tcp_replies"] == [["/pong", [1]], ["/pong", [2]], ["/pong", [3]]]
    assert state["loop"] == "kernel"
    assert state["live_display"] is True
    synth = state["synth"]
    assert synth["last"]["/ping"] == [3]  # the last of the TCP example
    assert synth["nodes"]["1001"]["freq"] == 440
    assert math.isclose(synth["nodes"]["1001"]["amp"], 0.2, rel_tol=1e-6)


def test_counters_exact_and_refresh_bounded(executed: Any) -> None:
    state, _ = _json_outputs(executed)
    assert state["burst_rows"] == [3000]  # nothing lost when frames are skipped
    seconds = state["burst_seconds"]
    assert state["burst_frames"] <= 10 * seconds + 2


def test_unload_leaves_nothing(executed: Any) -> None:
    """Our tasks are found by the code they run (a coroutine of the osc_live package), not by
    a name that also appears in ipykernel's task reprs in a clone named ``osc_live``."""
    state, leftovers = _json_outputs(executed)
    assert any(n.startswith("osc_live-tcp-replies") for n in state["our_tasks_before_unload"])
    assert leftovers["tasks"] == []
    assert leftovers["threads"] == []
    assert leftovers["fds_after"] <= leftovers["fds_before"]
