"""A namespace as text: the tree ``%osc query`` and ``osc-live query`` print.

::

    /                     root node
    ├─ fx/
    │  ├─ reverb          f    0.3        0 … 1        rw  reverb
    │  └─ clear           —                            w   clear the delay line
    └─ meter              f    0.0                     r

Columns: name (containers end in ``/``), TYPE (``—``: no arguments), VALUE, RANGE
(``min … max`` or the VALS), ACCESS (``r``, ``w``, ``rw``; blank: not said), DESCRIPTION.
"""

from __future__ import annotations

from typing import Any

from osc_live.oscquery.model import Node, Range, json_value, split_types

__all__ = ["format_tree"]

_ACCESS = {0: "", 1: "r", 2: "w", 3: "rw"}


def _short(value: Any, width: int = 24) -> str:
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= width else text[: width - 1] + "…"


def _values(node: Node) -> str:
    if node.value is None or node.type is None:
        return ""
    tags = split_types(node.type)
    shown = []
    for i, value in enumerate(node.value):
        tag = tags[i] if i < len(tags) and isinstance(tags[i], str) else ""
        shown.append(_short(json_value(tag, value) if tag in ("r",) else value, 16))
    return " ".join(shown)


def _range(item: Any) -> str:
    if item is None:
        return ""
    if isinstance(item, list):
        return "[" + ", ".join(_range(x) for x in item) + "]"
    assert isinstance(item, Range)
    if item.vals is not None:
        return "{" + ", ".join(_short(v, 12) for v in item.vals) + "}"
    if item.min is None and item.max is None:
        return ""
    lo = "" if item.min is None else _short(item.min, 10)
    hi = "" if item.max is None else _short(item.max, 10)
    return f"{lo} … {hi}"


def _row(node: Node) -> list[str]:
    kind = node.type if node.type else ("—" if node.is_method else "")
    ranges = " ".join(r for r in (_range(x) for x in node.range or []) if r)
    access = "" if node.access is None else _ACCESS.get(node.access, str(node.access))
    if node.access is None and node.is_method:
        access = "w"
    return [kind, _values(node), ranges, access, node.description or ""]


def format_tree(root: Node, *, max_nodes: int = 2000) -> str:
    """``root`` and its subtree as aligned text lines (at most ``max_nodes`` nodes)."""
    lines: list[tuple[str, list[str]]] = []
    label = root.path if root.path == "/" else root.path + ("/" if root.contents else "")
    lines.append((label, _row(root)))
    shown = 1
    truncated = False

    def visit(node: Node, prefix: str) -> None:
        nonlocal shown, truncated
        children = list(node.contents.values())
        for i, child in enumerate(children):
            if shown >= max_nodes:
                truncated = True
                return
            last = i == len(children) - 1
            name = child.name + ("/" if child.contents else "")
            lines.append((prefix + ("└─ " if last else "├─ ") + name, _row(child)))
            shown += 1
            visit(child, prefix + ("   " if last else "│  "))

    visit(root, "")
    if truncated:
        lines.append(("…", [f"(more than {max_nodes} nodes)", "", "", "", ""]))
    widths = [max(len(text) for text, _ in lines)]
    for column in range(4):
        widths.append(max(len(row[column]) for _, row in lines))
    out = []
    for text, row in lines:
        cells = [text.ljust(widths[0])] + [row[c].ljust(widths[c + 1]) for c in range(4)] + [row[4]]
        out.append("  ".join(cells).rstrip())
    return "\n".join(out)
