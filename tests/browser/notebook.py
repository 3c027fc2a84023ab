"""The notebook the browser tests open: a slider bound to /fx/reverb, a listener, a monitor.

It is generated (not stored) so that it always matches the API under test. The kernel learns
where to send from ``OSC_TEST_PORT`` (inherited from the Jupyter server's environment); its
listener binds an ephemeral port and shows the number in the page (``.osc-test-listen-port``),
so that tests never collide on a port.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ADDRESS = "/fx/reverb"

CELLS = [
    new_markdown_cell("# osc_live browser test\nA slider bound to `/fx/reverb`, two-way."),
    new_code_cell(
        "import os\n"
        "import ipywidgets as W\n"
        "import osc_live\n"
        "from osc_live.live import session\n"
        "\n"
        "s = session()\n"
        "s.connect(f\"udp://127.0.0.1:{os.environ['OSC_TEST_PORT']}\")  # the test's capture\n"
        "listener = s.listen('udp://127.0.0.1:0')                    # any free port\n"
        "port_label = W.Label(str(listener.port))\n"
        "port_label.add_class('osc-test-listen-port');"
    ),
    new_code_cell(
        f"reverb = osc_live.slider({ADDRESS!r}, 0.0, 1.0, value=0.5)\nW.VBox([reverb, port_label])"
    ),
    new_code_cell("%load_ext osc_live\n%osc monitor /fx/*"),
    new_code_cell(
        "import json\n"
        "fine = osc_live.slider('/sensor/x', -1.0, 1.0, step=0.001)\n"
        "freq = osc_live.slider('/freq', 110, 1760, log=True, value=880)\n"
        "plain = W.FloatSlider(0.5, min=0.0, max=1.0, step=0.01)  # no osc_live binding\n"
        "plain.add_class('plain-slider')\n"
        "report = W.Label()\n"
        "report.add_class('osc-test-report')\n"
        "\n"
        "reports = []\n"
        "\n"
        "def do_report(_=None):\n"
        "    reports.append(1)\n"
        "    report.value = json.dumps({\n"
        "        'n': len(reports),\n"
        "        'values': {'fine': fine.value, 'freq': freq.value, 'plain': plain.value,\n"
        "                   'reverb': reverb.value},\n"
        "        'sent': {'fine': fine.osc.sent, 'freq': freq.osc.sent,\n"
        "                 'reverb': reverb.osc.sent},\n"
        "    })\n"
        "\n"
        "ask = W.Button(description='report')\n"
        "ask.add_class('osc-test-ask')\n"
        "ask.on_click(do_report)\n"
        "W.VBox([fine, freq, plain, ask, report])"
    ),
]


def write_notebook(path: Path) -> Path:
    """Write the test notebook to ``path``."""
    nb = new_notebook(
        cells=CELLS,
        metadata={
            "kernelspec": {
                "name": "python3",
                "display_name": "Python 3 (ipykernel)",
                "language": "python",
            },
            "language_info": {"name": "python"},
        },
    )
    nbformat.write(nb, path)
    return path
