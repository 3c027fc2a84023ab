"""The package's layering: no import cycles, and data flows one way.

    magics (IPython glue) → commands (grammar, explain, CLI; no IPython) → notebook (session,
    views, widgets, synth) → transports → protocol

Checked two ways: statically, on the import graph read from the source with ``ast`` (every
``import`` anywhere in a module, lazy ones too, except under ``if TYPE_CHECKING:``); and
dynamically, by importing each protocol, transport and commands module in a fresh interpreter
and looking at ``sys.modules``.

A new module is classified by :func:`layer`: ``osc_live/magics/**`` magics, ``commands/**``
and ``cli.py`` commands, ``notebook/**`` and the notebook modules listed in ``NOTEBOOK``
notebook, everything else protocol or transport (``TRANSPORT_MODULES`` lists the
transports). A
module of the floor that needs an optional dependency imports it inside a function and lists
it in ``OPTIONAL``.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "osc_live"

PROTOCOL, TRANSPORT, NOTEBOOK_LAYER, COMMANDS, MAGICS, TOP = range(6)
NAMES = ["protocol", "transport", "notebook", "commands", "magics", "package"]

#: notebook-layer modules outside ``osc_live/notebook`` (documented import paths and widgets)
NOTEBOOK = {
    "osc_live.live",
    "osc_live.synth",
    "osc_live.widgets",
    "osc_live._throttle",
    "osc_live.oscquery.kernel",
    "osc_live.oscquery.panel",
    "osc_live.oscquery.synth_ns",
}
#: the transports (UDP, TCP, WebSocket); the rest of the floor is the protocol
TRANSPORT_MODULES = {
    "osc_live._net",
    "osc_live._reconnect",
    "osc_live._limits",
    "osc_live._serving",
    "osc_live._tcp_client_base",
    "osc_live._tcp_client_sync",
    "osc_live._tcp_client_async",
    "osc_live._tcp_client_protocol",
    "osc_live._tcp_client_dispatch",
    "osc_live._tcp_server_base",
    "osc_live._tcp_server_sync",
    "osc_live._tcp_server_async",
    "osc_live._udp_server_base",
    "osc_live._udp_server_async",
    "osc_live.udp_client",
    "osc_live.tcp_client",
    "osc_live.osc_server",
    "osc_live.osc_tcp_server",
    "osc_live.endpoints",
    "osc_live._ws",
    "osc_live.ws_client",
    "osc_live.osc_ws_server",
    "osc_live._links",
    "osc_live.bridge",
    "osc_live.oscquery",
    "osc_live.oscquery.client",
    "osc_live.oscquery.server",
    "osc_live.oscquery.mdns",
    "osc_live.oscquery.listen",
    "osc_live.oscquery.discovery",
}
#: never imported by the protocol, the transports or the commands, not even lazily
FORBIDDEN_BELOW_NOTEBOOK = ("IPython", "ipywidgets", "traitlets", "ipykernel", "jupyter_client")
#: third-party modules the floor may import lazily (inside a function), for optional features
OPTIONAL = {"numpy", "websockets", "zeroconf", "ifaddr"}


def layer(module: str) -> int:
    """The layer of an ``osc_live`` module."""
    if module == "osc_live":
        return TOP
    parts = module.split(".")
    if parts[1] == "magics":
        return MAGICS
    if parts[1] == "commands" or module == "osc_live.cli":
        return COMMANDS
    if parts[1] == "notebook" or module in NOTEBOOK:
        return NOTEBOOK_LAYER
    return TRANSPORT if module in TRANSPORT_MODULES else PROTOCOL


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def modules() -> dict[str, Path]:
    """Every module of the package: dotted name -> file."""
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _walk(node: ast.AST, top: bool) -> Iterator[tuple[ast.AST, bool]]:
    """Import nodes with whether they run at import time (module level, outside functions)."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.If) and _is_type_checking(child):
            for sub in child.orelse:
                yield from _walk(sub, top)
            continue
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            yield child, top
        inner = top and not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        yield from _walk(child, inner)


def _resolve(module: str, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    package = module.split(".")
    is_package = modules()[module].name == "__init__.py"
    base = package if is_package else package[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


@cache
def imports() -> dict[str, list[tuple[str, bool]]]:
    """module -> [(imported module, at import time?)], ``from a import b`` resolved to ``a.b``
    when ``a.b`` is a module of the package."""
    known = modules()
    graph: dict[str, list[tuple[str, bool]]] = {}
    for name, path in known.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        found: list[tuple[str, bool]] = []
        for node, top in _walk(tree, True):
            if isinstance(node, ast.Import):
                found += [(alias.name, top) for alias in node.names]
            else:
                assert isinstance(node, ast.ImportFrom)
                base = _resolve(name, node)
                subs = [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in known]
                if len(subs) < len(node.names):  # a name defined by ``base`` itself
                    found.append((base, top))
                found += [(sub, top) for sub in subs]
        graph[name] = found
    return graph


def _internal_edges(eager_only: bool) -> dict[str, set[str]]:
    known = modules()
    edges: dict[str, set[str]] = {}
    for name, found in imports().items():
        targets = set()
        for target, top in found:
            if eager_only and not top:
                continue
            # importing a.b.c runs a/__init__ and a/b/__init__ first (except the packages
            # this module is part of: they are being imported already)
            parts = target.split(".")
            for i in range(2, len(parts) + 1):
                prefix = ".".join(parts[:i])
                own = name.startswith(prefix + ".") and prefix != target
                if prefix in known and prefix != name and not own:
                    targets.add(prefix)
        edges[name] = targets
    return edges


def _cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_the_graph_is_read() -> None:
    graph = imports()
    assert "osc_live.magics.extension" in graph
    assert ("osc_live.commands", True) in graph["osc_live.magics.extension"]
    assert layer("osc_live.magics.extension") == MAGICS
    assert layer("osc_live.commands.subcommands.send") == COMMANDS
    assert layer("osc_live.notebook.kernel_session") == NOTEBOOK_LAYER
    assert layer("osc_live.udp_client") == TRANSPORT
    assert layer("osc_live.osc_message") == PROTOCOL


def test_no_import_cycles() -> None:
    """No cycle among the package's modules, counting lazy imports inside functions too
    (a package's ``__init__`` and its own submodules aside: Python runs the ``__init__``
    first)."""
    assert _cycles(_internal_edges(eager_only=False)) == []


def test_data_flows_one_way() -> None:
    """No module imports a module of a higher layer, not even lazily (TYPE_CHECKING aside)."""
    wrong = []
    for name, targets in _internal_edges(eager_only=False).items():
        if layer(name) == TOP:
            continue
        for target in sorted(targets):
            if layer(target) == TOP:
                continue
            if layer(target) > layer(name):
                wrong.append(
                    f"{name} ({NAMES[layer(name)]}) imports {target} ({NAMES[layer(target)]})"
                )
    assert wrong == []


def _third_party(name: str) -> bool:
    top = name.split(".")[0]
    return bool(top) and top != "osc_live" and top not in sys.stdlib_module_names


def test_floor_and_commands_never_reach_ipython() -> None:
    """Protocol, transports and commands import no IPython, ipywidgets, traitlets, ipykernel;
    protocol and transports import only the standard library at import time (optional extras
    lazily)."""
    wrong = []
    for name, found in imports().items():
        level = layer(name)
        if level in (NOTEBOOK_LAYER, MAGICS, TOP):
            continue
        for target, top in found:
            root = target.split(".")[0]
            if root in FORBIDDEN_BELOW_NOTEBOOK:
                wrong.append(f"{name} imports {target}")
            elif level <= TRANSPORT and _third_party(target) and (top or root not in OPTIONAL):
                wrong.append(f"{name} imports {target} ({'eagerly' if top else 'lazily'})")
    assert wrong == []


_PROBE = """
import importlib, json, sys
importlib.import_module(sys.argv[1])
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in {forbidden!r}
                        or m.startswith(("osc_live.notebook", "osc_live.commands",
                                         "osc_live.magics", "osc_live.widgets")))))
"""


def _floor_and_commands() -> list[str]:
    return sorted(
        m
        for m in modules()
        if layer(m) in (PROTOCOL, TRANSPORT, COMMANDS) and not m.endswith("__main__")
    )


@pytest.mark.timeout(120)
def test_importing_a_floor_module_loads_nothing_above_it() -> None:
    """In a fresh interpreter per module: importing a protocol or transport module loads no
    notebook/commands/magics module and none of IPython, ipywidgets, traitlets, ipykernel;
    importing a commands module loads none of those four."""
    probe = _PROBE.replace("{forbidden!r}", repr(set(FORBIDDEN_BELOW_NOTEBOOK)))
    wrong = {}
    for name in _floor_and_commands():
        out = subprocess.run(
            [sys.executable, "-c", probe, name],
            capture_output=True,
            text=True,
            timeout=60,
            cwd=ROOT,
            check=False,
        )
        assert out.returncode == 0, f"import {name} failed: {out.stderr[-2000:]}"
        loaded = json.loads(out.stdout.strip().splitlines()[-1])
        if layer(name) == COMMANDS:
            loaded = [m for m in loaded if m.split(".")[0] in FORBIDDEN_BELOW_NOTEBOOK]
        if loaded:
            wrong[name] = loaded
    assert wrong == {}


def test_documented_import_paths_still_work() -> None:
    """README/docs import paths of the notebook layer are thin aliases of the new homes."""
    from osc_live import live, synth
    from osc_live.magics import grammar
    from osc_live.notebook import kernel_session
    from osc_live.notebook import synth as notebook_synth

    assert live.session is kernel_session.session and live.OscSession is kernel_session.OscSession
    assert callable(live.enable_nested_asyncio) and callable(live.reset_session)
    assert synth.VirtualSynth is notebook_synth.VirtualSynth
    assert "send" in grammar.SUBCOMMANDS and grammar.parse_command("send /x 1").message.args == (1,)
    assert grammar.parse_endpoint("tcp://[::1]:9").host == "::1"
