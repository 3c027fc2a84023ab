"""binder/ is a valid repo2docker configuration (repo2docker itself cannot run here).

What repo2docker does with these files, and what is checked:

* With a ``binder/`` directory, repo2docker reads configuration *only* from it (root-level files
  are ignored), and an ``environment.yml`` there would win over ``requirements.txt``.
* ``requirements.txt`` is installed with ``pip install -r binder/requirements.txt`` from the
  repository root; a local reference (``-e .``) makes it copy the whole repository first. So
  ``.`` must be the project, with the extras named.
* ``runtime.txt`` is ``python-X.Y``; ``apt.txt`` holds package names (``#`` comments allowed),
  checked against the local apt lists with ``apt-cache show`` when those exist (Debian here,
  Ubuntu on mybinder.org: a name found here is a strong hint, not a proof).
* ``postBuild`` must be executable, start with a shebang, and be valid shell.
* The Binder link opens ``notebooks/01-quickstart.ipynb``: that file must exist.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
BINDER = ROOT / "binder"
#: The link for the README badge (``<org>`` is the GitHub owner).
BINDER_URL = (
    "https://mybinder.org/v2/gh/<org>/osc_live/main?urlpath=lab/tree/notebooks/01-quickstart.ipynb"
)
APT_NAME = re.compile(r"^[a-z0-9][a-z0-9.+-]+$")  # Debian policy 5.6.1, as repo2docker checks


def _pyproject() -> dict[str, object]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def _lines(path: Path) -> list[str]:
    out = []
    for raw in path.read_text().splitlines():
        line = raw.partition("#")[0].strip()
        if line:
            out.append(line)
    return out


def test_only_one_environment_spec() -> None:
    assert BINDER.is_dir()
    assert (BINDER / "requirements.txt").is_file()
    for shadowing in ("environment.yml", "environment.yaml", "Pipfile", "Dockerfile"):
        assert not (BINDER / shadowing).exists(), f"binder/{shadowing} would replace pip"


def test_requirements_parse_and_install_this_project() -> None:
    project = _pyproject()["project"]
    assert isinstance(project, dict)
    extras = set(project["optional-dependencies"])
    local = []
    for line in _lines(BINDER / "requirements.txt"):
        if line.startswith(("-e ", "--editable", ".")):
            spec = line.split(None, 1)[1] if line.startswith("-e ") else line
            spec = spec.removeprefix("--editable=")
            m = re.fullmatch(r"(\.{1,2}(?:/[^\[]*)?)(?:\[([\w,\s-]+)\])?", spec)
            assert m, f"unexpected local requirement {line!r}"
            path = (ROOT / m.group(1)).resolve()  # pip runs from the repository root
            assert path == ROOT, f"{line!r} must install this repository ({path})"
            assert (path / "pyproject.toml").is_file()
            wanted = {e.strip() for e in (m.group(2) or "").split(",") if e.strip()}
            assert wanted <= extras, f"unknown extras {wanted - extras}"
            assert "notebook" in wanted or "lab" in wanted, "the notebooks need ipywidgets"
            local.append(line)
        else:
            assert not line.startswith("-"), f"unexpected pip option {line!r}"
            try:
                Requirement(line)
            except InvalidRequirement as exc:
                pytest.fail(f"binder/requirements.txt: {line!r}: {exc}")
    assert len(local) == 1, "install osc_live itself exactly once"


def test_runtime_matches_requires_python() -> None:
    text = (BINDER / "runtime.txt").read_text().strip()
    m = re.fullmatch(r"python-(3\.\d+)", text)
    assert m, f"runtime.txt must be python-3.X, not {text!r}"
    project = _pyproject()["project"]
    assert isinstance(project, dict)
    assert Version(m.group(1)) in SpecifierSet(project["requires-python"])


def test_apt_packages_are_valid_names_and_exist() -> None:
    names = _lines(BINDER / "apt.txt")
    assert names, "apt.txt is empty: delete it rather"
    for name in names:
        assert APT_NAME.match(name), f"invalid apt package name {name!r}"
    apt_cache = shutil.which("apt-cache")
    lists = Path("/var/lib/apt/lists")
    if apt_cache is None or not any(lists.glob("*_Packages*")):
        pytest.skip("no apt lists here to check package existence against")
    for name in names:
        r = subprocess.run(
            [apt_cache, "show", "--no-all-versions", name],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert r.returncode == 0 and f"Package: {name}" in r.stdout, f"{name}: {r.stderr}"


def test_postbuild_is_an_executable_shell_script() -> None:
    post = BINDER / "postBuild"
    assert os.access(post, os.X_OK), "postBuild must be executable (git keeps the mode)"
    first = post.read_text().splitlines()[0]
    assert first.startswith("#!") and "bash" in first, first
    bash = shutil.which("bash")
    assert bash is not None
    r = subprocess.run([bash, "-n", str(post)], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    mode = subprocess.run(
        ["git", "ls-files", "-s", "binder/postBuild"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    ).stdout
    if mode:  # committed: the executable bit must be in git too
        assert mode.startswith("100755"), mode


def test_postbuild_import_check_passes_here() -> None:
    """The import line of postBuild works in this environment (what Binder will run)."""
    line = next(
        ln for ln in (BINDER / "postBuild").read_text().splitlines() if ln.startswith("python -c")
    )
    code = line.split('"', 2)[1]
    r = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("osc_live ")


def test_binder_link_opens_the_quickstart() -> None:
    urlpath = BINDER_URL.split("urlpath=", 1)[1]
    assert urlpath.startswith("lab/tree/")
    notebook = ROOT / urlpath.removeprefix("lab/tree/")
    assert notebook.is_file(), f"{notebook} is missing"
    readme = (ROOT / "README.md").read_text()
    for url in re.findall(r"https://mybinder\.org/v2/gh/[^\s)\"']+", readme):
        target = url.split("urlpath=", 1)[1].removeprefix("lab/tree/") if "urlpath=" in url else ""
        assert not target or (ROOT / target).is_file(), f"README Binder link {url} is broken"


#: What a notebook line needs beyond the notebook extra, by the extra that provides it.
EXTRA_USES = {
    "discovery": ("%osc advertise", "%osc discover", "%osc query", "%osc panel", "oscquery"),
    "websocket": ("%osc bridge", "ws://", "osc_live.ws_client", "osc_ws_server"),
}


def _extras_closure(extras: set[str]) -> set[str]:
    """``extras`` and every ``osc-live[...]`` extra they pull in, recursively."""
    optional = _pyproject()["project"]["optional-dependencies"]  # type: ignore[index]
    todo, seen = list(extras), set()
    while todo:
        extra = todo.pop()
        if extra in seen:
            continue
        seen.add(extra)
        for line in optional[extra]:
            req = Requirement(line)
            if req.name == "osc-live":
                todo.extend(req.extras)
    return seen


def _binder_extras() -> set[str]:
    for line in _lines(BINDER / "requirements.txt"):
        m = re.search(r"\[([\w,\s-]+)\]", line)
        if line.startswith("-e ") and m:
            return {e.strip() for e in m.group(1).split(",")}
    return set()


@pytest.mark.parametrize("where", ["scripts/lab.sh", "binder"])
def test_every_notebook_runs_where_the_readme_opens_it(where: str) -> None:
    """README's first command (``scripts/lab.sh``: ``setup.sh lab``, the lab extra) and the
    Binder link install what every notebook uses: 06 (discovery) and 07 (the WebSocket
    bridge) once failed there with "needs the optional package 'websockets'"."""
    if where == "binder":
        installed = _extras_closure(_binder_extras())
    else:
        setup = (ROOT / "scripts" / "setup.sh").read_text()
        assert (
            'extra="lab"' in setup
            and "bash scripts/setup.sh lab" in (ROOT / "scripts" / "lab.sh").read_text()
        )
        installed = _extras_closure({"lab"})
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        source = notebook.read_text()
        for extra, uses in EXTRA_USES.items():
            used = [u for u in uses if u in source]
            assert not used or extra in installed, (
                f"{where} does not install osc-live[{extra}], which {notebook.name} uses "
                f"({', '.join(used)})"
            )
