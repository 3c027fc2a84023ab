"""The kernels the browser scenarios run on: the main venv's ipykernel and older ones.

Each older version lives in its own venv, ``.venv-kernels/ipykernel-<version>`` (made by
``scripts/setup.sh test`` from ``kernels.txt``: only ipykernel, ipywidgets and osc_live with
its websocket and discovery extras), and is
registered as a kernelspec ``osc-ipykernel-<version>`` in the throwaway JupyterLab's data dir
(``JUPYTER_PATH``); a test's notebook copy names the kernel it wants in its metadata, as a user
picking a kernel in Lab does.
"""

from __future__ import annotations

import functools
import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VERSIONS_FILE = Path(__file__).with_name("kernels.txt")
DEFAULT = "python3"


@dataclass(frozen=True)
class Kernel:
    """One kernelspec: its name, the Python it runs, the ipykernel version that Python has."""

    name: str
    python: Path
    version: str

    @property
    def label(self) -> str:
        return f"ipykernel-{self.version}"


def versions() -> list[str]:
    """The older ipykernel versions of ``kernels.txt``."""
    lines = VERSIONS_FILE.read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def _version_of(python: Path) -> str | None:
    try:
        out = subprocess.run(
            [str(python), "-c", "import ipykernel; print(ipykernel.__version__)"],
            capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip()


def wanted() -> list[str]:
    """Test ids of every kernel the suite runs on (the default one first)."""
    return ["default", *versions()]


@functools.cache
def find(key: str) -> Kernel | None:
    """The kernel for a test id; None when its venv is missing or holds another version."""
    if key == "default":
        version = _version_of(Path(sys.executable))
        return None if version is None else Kernel(DEFAULT, Path(sys.executable), version)
    python = ROOT / ".venv-kernels" / f"ipykernel-{key}" / "bin" / "python"
    if not python.exists() or _version_of(python) != key:
        return None
    return Kernel(f"osc-ipykernel-{key}", python, key)


def register(kernel: Kernel, data_dir: Path) -> None:
    """Write ``kernel``'s kernelspec under ``data_dir/kernels`` (nothing for the default)."""
    if kernel.name == DEFAULT:
        return
    spec_dir = data_dir / "kernels" / kernel.name
    spec_dir.mkdir(parents=True, exist_ok=True)
    spec = {
        "argv": [str(kernel.python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": f"Python 3 (ipykernel {kernel.version})",
        "language": "python",
        "metadata": {"debugger": True},
    }
    (spec_dir / "kernel.json").write_text(json.dumps(spec, indent=1))


def use(nb_path: Path, kernel: Kernel) -> None:
    """Point a notebook file at ``kernel`` (its metadata's kernelspec)."""
    nb = json.loads(nb_path.read_text())
    nb.setdefault("metadata", {})["kernelspec"] = {
        "name": kernel.name,
        "display_name": "Python 3 (ipykernel)" if kernel.name == DEFAULT else kernel.name,
        "language": "python",
    }
    nb_path.write_text(json.dumps(nb, indent=1))
