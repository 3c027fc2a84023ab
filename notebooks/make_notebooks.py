"""Generate the osc_live notebooks from code: ``python notebooks/make_notebooks.py``.

Each notebook's cells live in their own module, ``notebooks/src/nbNN_<name>.py``, which defines
``FILENAME`` (``"NN-title.ipynb"``) and ``cells()`` (the list of cells, built with ``md`` and
``code`` from ``notebooks/src/common.py``, which also holds the cells several notebooks share).
Adding a notebook is adding such a module and running this script; nothing here lists them.

The ``.ipynb`` files are written without outputs (``tests/test_notebooks.py`` executes every one
with a real kernel and checks that the committed files equal what this script generates).

Environment variables the notebooks read (all optional):

``OSC_LIVE_SCSYNTH``   ``off``: never use SuperCollider; ``udp://host:port`` or ``tcp://host:port``:
                       use that scsynth; unset (``auto``): ask 127.0.0.1:57110 for ``/status`` when
                       an ``scsynth`` program is installed. Without one the built-in virtual synth
                       stands in, so every notebook runs with no external program.
``OSC_LIVE_SYNTHDEF``  the SynthDef to start on scsynth (default ``default``: the one sclang
                       loads; it has ``freq`` and ``amp`` controls).
``OSC_LIVE_LISTEN_PORT``  the UDP port notebook 04 listens on (default 9000).
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path

import nbformat
from nbformat.v4 import new_notebook

HERE = Path(__file__).resolve().parent
SRC = HERE / "src"
PACKAGE = "osc_live_notebook_src"  # a private name: the folder is loaded by path, not sys.path

NAME_KEY = "osc_live_cell_name"  # = common.NAME_KEY: a cell's own name, moved into its id

METADATA = {
    "kernelspec": {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"},
    "language_info": {"name": "python"},
}


def _load_sources() -> dict[str, Callable[[], list[nbformat.NotebookNode]]]:
    """``{filename: cells}`` for every ``src/nbNN_*.py`` module, in file-name order."""
    if PACKAGE not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            PACKAGE, SRC / "__init__.py", submodule_search_locations=[str(SRC)]
        )
        assert spec is not None and spec.loader is not None
        package = importlib.util.module_from_spec(spec)
        sys.modules[PACKAGE] = package
        spec.loader.exec_module(package)
    found: dict[str, Callable[[], list[nbformat.NotebookNode]]] = {}
    for path in sorted(SRC.glob("nb[0-9][0-9]_*.py")):
        module = importlib.import_module(f"{PACKAGE}.{path.stem}")
        name: str = module.FILENAME
        if not name.startswith(path.stem[2:4] + "-") or not name.endswith(".ipynb"):
            raise ValueError(f"{path.name}: FILENAME {name!r} must be '{path.stem[2:4]}-….ipynb'")
        if name in found:
            raise ValueError(f"{path.name}: FILENAME {name!r} is used twice")
        found[name] = module.cells
    return found


NOTEBOOKS = _load_sources()


def build(name: str) -> nbformat.NotebookNode:
    """The notebook ``name`` (cells with stable ids, no outputs).

    A cell without an id gets ``nbNN-<index>``; a cell given an id (``code(..., id="x")``)
    gets ``nbNN-x``.
    """
    cells = NOTEBOOKS[name]()
    stem = name.split("-", 1)[0]
    for i, cell in enumerate(cells):
        own = cell["metadata"].pop(NAME_KEY, None)
        cell["id"] = f"nb{stem}-{own}" if own else f"nb{stem}-{i:02d}"
    ids = [cell["id"] for cell in cells]
    if len(set(ids)) != len(ids):
        twice = sorted({i for i in ids if ids.count(i) > 1})
        raise ValueError(f"{name}: duplicate cell ids {twice}")
    nb = new_notebook(cells=cells, metadata=METADATA)
    nbformat.validate(nb)
    return nb


def render(name: str) -> str:
    """The file contents of notebook ``name``."""
    return nbformat.writes(build(name)) + "\n"


def main(argv: list[str]) -> int:
    """Write every notebook (or only those named in ``argv``) next to this script."""
    for name in argv or list(NOTEBOOKS):
        path = HERE / name
        path.write_text(render(name))
        print("wrote", path.relative_to(HERE.parent))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
