"""What each notebook's text promises, checked on an executed notebook's own cell outputs.

Shared by the headless run (``tests/test_notebooks.py``, nbclient) and the browser run
(``tests/browser/test_browser_notebooks.py``: JupyterLab's Run All, then the saved file). Cells
are found by their id (``code(..., id="answer")`` in ``notebooks/src/nbNN_*.py`` → ``nbNN-answer``);
a result is read back from its ``text/plain`` with ``ast.literal_eval`` (literals only).
"""

from __future__ import annotations

import ast
import math
import re
from typing import Any

import nbformat
import pytest


def cell(nb: nbformat.NotebookNode, cell_id: str) -> nbformat.NotebookNode:
    """The cell with id ``cell_id`` (fails the test if there is none)."""
    for c in nb.cells:
        if c.get("id") == cell_id:
            return c
    pytest.fail(f"no cell {cell_id!r} in the notebook", pytrace=False)


def text(nb: nbformat.NotebookNode, cell_id: str) -> str:
    """Everything a cell shows as text: streams, results and displays (``text/plain``)."""
    parts = []
    for out in cell(nb, cell_id).get("outputs", []):
        if out.get("output_type") == "stream":
            parts.append(out.get("text", ""))
        elif out.get("output_type") == "error":
            parts.append(f"{out.get('ename')}: {out.get('evalue')}")
        else:
            parts.append(out.get("data", {}).get("text/plain", ""))
    return "\n".join("".join(p) if isinstance(p, list) else p for p in parts)


def result(nb: nbformat.NotebookNode, cell_id: str) -> Any:
    """The value of a cell's last expression (its ``execute_result``, a Python literal)."""
    for out in cell(nb, cell_id).get("outputs", []):
        if out.get("output_type") == "execute_result":
            plain = out["data"]["text/plain"]
            return ast.literal_eval("".join(plain) if isinstance(plain, list) else plain)
    pytest.fail(f"cell {cell_id!r} shows no result: {text(nb, cell_id)!r}", pytrace=False)


def shown(nb: nbformat.NotebookNode, cell_id: str) -> Any:
    """A cell's result as a literal when it is one, else the text of its ``repr``."""
    try:
        return result(nb, cell_id)
    except (ValueError, SyntaxError):
        for out in cell(nb, cell_id).get("outputs", []):
            if out.get("output_type") == "execute_result":
                plain = out["data"]["text/plain"]
                return "".join(plain) if isinstance(plain, list) else plain
        raise


def errors(nb: nbformat.NotebookNode) -> list[str]:
    """Every error output of the notebook (``ename: evalue``)."""
    return [
        f"{c.get('id')}: {o.get('ename')}: {o.get('evalue')}"
        for c in nb.cells
        for o in c.get("outputs", [])
        if o.get("output_type") == "error"
    ]


def check_01(nb: nbformat.NotebookNode) -> None:
    """Quickstart: the synth's answer, the slider's one send, the counters."""
    assert ("/n_set", 1001, "freq", 660) in [tuple(a) for a in result(nb, "nb01-answers")]
    assert result(nb, "nb01-moved") == (880, 1, [1001, "freq", 880.0])  # display sent nothing
    status = text(nb, "nb01-status")
    sent = re.search(r"\bsent (\d+)", status)
    assert sent and int(sent.group(1)) >= 6, status
    assert not errors(nb)


def check_02(nb: nbformat.NotebookNode) -> None:
    """TCP and bundles: timetagged messages ran together ~0.5 s later; /pong; the chord."""
    ran = result(nb, "nb02-scheduled")
    assert [(a, t) for a, t, _ in ran] == [("/s_new", "tcp"), ("/n_set", "tcp")], ran
    delays = [float(re.search(r"ran ([\d.]+) s", w).group(1)) for _, _, w in ran]  # type: ignore[union-attr]
    assert all(0.45 <= d <= 0.8 for d in delays) and max(delays) - min(delays) <= 0.02, ran
    assert result(nb, "nb02-pong") == ("/pong", ["hello", 42])
    notes, apart = result(nb, "nb02-chord")
    assert notes == [(261.63, "tcp"), (329.63, "tcp"), (392.0, "tcp")]
    assert float(apart.split()[0]) < 5, apart  # one bundle: run at the same moment
    assert not errors(nb)


def check_03(nb: nbformat.NotebookNode) -> None:
    """Sliders: the /s_get answer moved the slider to 330; 200 changes throttled; the synth
    and the sliders agree."""
    value, received = result(nb, "nb03-answer")
    assert value == 330 and received >= 1
    line = text(nb, "nb03-throttle")
    count = re.match(r"(\d+) messages for 200 changes; the last one: (.*)$", line.strip())
    assert count and 1 <= int(count.group(1)) <= 10, line
    assert ast.literal_eval(count.group(2)) == [1003, "freq", 797.0]
    assert "osc-addr--n_set--1003-freq" in text(nb, "nb03-classes")
    check = result(nb, "nb03-check")
    assert check["synth"] == pytest.approx(check["sliders"], abs=1e-3), check
    assert not errors(nb)


def check_04(nb: nbformat.NotebookNode) -> None:
    """Receive: 4 presses, the follower on the last value with no echo, the threaded listener."""
    presses, accel, follower, sent = result(nb, "nb04-counts")
    assert presses == 4 and accel == pytest.approx(math.sin(99 / 8), abs=1e-4)
    assert follower == pytest.approx(accel, abs=1e-3) and sent == 0
    assert result(nb, "nb04-threaded") == 5
    assert "/sensor/accel" in text(nb, "nb04-monitor")
    assert not errors(nb)


def listen_port(nb: nbformat.NotebookNode) -> int:
    """The port notebook 04's listener shows (``<Listener udp:PORT ...>``)."""
    shown = text(nb, "nb04-listen")
    found = re.search(r"udp://127\.0\.0\.1:(\d+)", shown)
    assert found, shown
    return int(found.group(1))


def check_05(nb: nbformat.NotebookNode) -> None:
    """Teaching: each solution shows what its exercise asked for (and checks itself)."""
    assert result(nb, "nb05-hits") == {
        "/mixer/*/gain": ["/mixer/1/gain", "/mixer/2/gain", "/mixer/3/gain", "/mixer/4/gain"],
        "/mixer/[1-2]/gain": ["/mixer/1/gain", "/mixer/2/gain"],
        "/mixer/3/{gain,pan}": ["/mixer/3/gain", "/mixer/3/pan"],
    }
    assert result(nb, "nb05-answer-1") == 28
    assert result(nb, "nb05-answer-2") == b"/hi\x00,i\x00\x00\x00\x00\x00\x01"
    assert result(nb, "nb05-answer-3")["/*/gain"] == []
    assert result(nb, "nb05-answer-4") == [2001, 2002, 2003]
    assert result(nb, "nb05-answer-5") == [0.5, 0.75]
    assert not errors(nb)


def check_06(nb: nbformat.NotebookNode) -> None:
    """Discover: the synth advertised over zeroconf (loopback), found, queried; the kernel's
    slider served and a panel built from it (widgets shown); the Python API; still up."""
    advertised = text(nb, "nb06-advertise")
    assert advertised.startswith("advertising demo-synth-") and "zeroconf" in advertised
    name = advertised.split()[1].rstrip(":")
    table = text(nb, "nb06-discover").splitlines()
    assert table[0].split() == ["name", "host", "port", "transport", "OSCQuery", "URL"]
    assert any(row.startswith(name) and "http://127.0.0.1:" in row for row in table)
    tree = text(nb, "nb06-query")
    assert "s_new" in tree and "reverb" in tree and "0.3" in tree
    for widget_cell in ("nb06-kernel", "nb06-panel"):
        kinds = [set(o.get("data", {})) for o in cell(nb, widget_cell)["outputs"]]
        assert any("application/vnd.jupyter.widget-view+json" in k for k in kinds), widget_cell
    assert text(nb, "nb06-python").splitlines()[1] == "f [440.0] 20.0 2000.0"
    assert text(nb, "nb06-done") == ""  # it only defines done(): Run All leaves the panel up
    assert not errors(nb)


def check_07(nb: nbformat.NotebookNode) -> None:
    """Bridge and replay: the recording, its file, the replay on time, the page's round trip."""
    assert "5 packets" in shown(nb, "nb07-record")
    times = shown(nb, "nb07-file")
    assert [a for a, _ in times] == ["/s_new", "/n_set", "/n_set", "/n_set", "/n_free"]
    assert 0.13 < times[2][1] - times[1][1] < 0.4  # the recorded spacing (0.15 s asked)
    replay = shown(nb, "nb07-replay")
    assert "5/5 sent" in replay and "done, 2x" in replay
    synth_got, sent, late = shown(nb, "nb07-replayed")
    assert synth_got == 5 and sent == 5
    assert set(late) == {"p50", "p99", "max"}  # shown, not judged: speed is measured, not asserted
    answers, heard = shown(nb, "nb07-page")
    assert answers == [("/kernel/freq", [523.25])]
    assert heard == "/page/freq (523.25,)"
    assert "1 to target, 1 back" in shown(nb, "nb07-bridge")
    assert not errors(nb)


CHECKS = {
    "01-quickstart.ipynb": check_01,
    "02-tcp-bundles-timetags.ipynb": check_02,
    "03-sliders-drive-a-synth.ipynb": check_03,
    "04-receive-monitor-plot.ipynb": check_04,
    "05-teaching-osc.ipynb": check_05,
    "06-discover.ipynb": check_06,
    "07-bridge-and-replay.ipynb": check_07,
}
