"""OSCQuery nodes, ranges and HOST_INFO, and their JSON (the Vidvox OSCQuery proposal).

A :class:`Node` describes one OSC container or method: ``FULL_PATH``, ``CONTENTS``, ``TYPE``,
``ACCESS``, ``VALUE``, ``RANGE``, ``DESCRIPTION``, ``TAGS``, ``EXTENDED_TYPE``, ``UNIT``,
``CRITICAL``, ``CLIPMODE``, ``OVERLOADS``; attributes a remote server sends that the proposal
does not name are kept in :attr:`Node.extra`. :class:`HostInfo` is the ``?HOST_INFO`` object.

Values follow the proposal's table: ``i h f d t`` are JSON numbers, ``s S c`` strings, ``r``
a ``"#RRGGBBAA"`` string, ``T F`` booleans, ``N I b m`` null, ``[ ]`` nested arrays.
:func:`json_value` and :func:`osc_value` convert one value each way.

Pure data, standard library only: no I/O here.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ACCESS_NONE",
    "ACCESS_READ",
    "ACCESS_READWRITE",
    "ACCESS_WRITE",
    "ATTRIBUTES",
    "EXTENSIONS",
    "HostInfo",
    "Node",
    "Range",
    "check_path",
    "flat_tags",
    "json_value",
    "osc_value",
    "ranges",
    "split_types",
]

ACCESS_NONE, ACCESS_READ, ACCESS_WRITE, ACCESS_READWRITE = 0, 1, 2, 3

#: Node attributes of the proposal, in the order we write them.
ATTRIBUTES = (
    "FULL_PATH",
    "DESCRIPTION",
    "TYPE",
    "ACCESS",
    "VALUE",
    "RANGE",
    "TAGS",
    "EXTENDED_TYPE",
    "UNIT",
    "CRITICAL",
    "CLIPMODE",
    "OVERLOADS",
    "CONTENTS",
)

#: What our server supports (its ``HOST_INFO`` ``EXTENSIONS``).
EXTENSIONS: dict[str, bool] = {
    "ACCESS": True,
    "VALUE": True,
    "RANGE": True,
    "DESCRIPTION": True,
    "TAGS": True,
    "EXTENDED_TYPE": True,
    "UNIT": True,
    "CRITICAL": True,
    "CLIPMODE": True,
    "OVERLOADS": True,
    "LISTEN": True,
    "PATH_ADDED": True,
    "PATH_REMOVED": True,
    "PATH_RENAMED": False,
    "PATH_CHANGED": False,
    "HTML": False,
}

_VALUE_TAGS = frozenset("ihfdtsSbcrmTFNI")
# OSC 1.0: these characters may not appear in an OSC method's name.
_RESERVED = re.compile(r"[\s#*,?\[\]{}]")


def check_path(path: str) -> str:
    """``path`` if it is a valid OSC address for a node (``/`` or ``/a/b``), else ValueError."""
    if not isinstance(path, str) or not path.startswith("/"):
        raise ValueError(f"an OSC address starts with '/', got {path!r}")
    if path == "/":
        return path
    if path.endswith("/") or "//" in path:
        raise ValueError(f"empty part in OSC address {path!r}")
    bad = _RESERVED.search(path)
    if bad:
        raise ValueError(f"character {bad.group()!r} is not allowed in OSC address {path!r}")
    return path


def split_types(tags: str) -> list[Any]:
    """The structure of a TYPE string: ``"i[ff]s"`` → ``["i", ["f", "f"], "s"]``.

    Raises ValueError for an unknown tag or unbalanced brackets.
    """
    stack: list[list[Any]] = [[]]
    for ch in tags:
        if ch == "[":
            inner: list[Any] = []
            stack[-1].append(inner)
            stack.append(inner)
        elif ch == "]":
            if len(stack) == 1:
                raise ValueError(f"unbalanced ']' in type tags {tags!r}")
            stack.pop()
        elif ch in _VALUE_TAGS:
            stack[-1].append(ch)
        else:
            raise ValueError(f"unknown type tag {ch!r} in {tags!r}")
    if len(stack) != 1:
        raise ValueError(f"unbalanced '[' in type tags {tags!r}")
    return stack[0]


def flat_tags(tags: str) -> str:
    """The value tags of a TYPE string without array brackets (``"i[ff]"`` → ``"iff"``)."""
    return tags.replace("[", "").replace("]", "")


def json_value(tag: str, value: Any) -> Any:
    """One OSC argument as its JSON equivalent (see the module docstring)."""
    if tag in "NIbm" or value is None:
        return None
    if tag in "TF":
        return bool(value)
    if tag == "r":
        return f"#{int(value) & 0xFFFFFFFF:08X}"
    if tag in "sSc":
        return str(value)
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None  # JSON has no NaN or infinity
    if isinstance(value, (int, float)):
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def osc_value(tag: str, value: Any) -> Any:
    """A JSON value as the Python value to send for ``tag`` (ValueError if it cannot be)."""
    if tag in "TF":
        return bool(value)
    if tag in "NI":
        return None
    if tag in "ih":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"expected a number for '{tag}', got {value!r}")
        return int(value)
    if tag in "fdt":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"expected a number for '{tag}', got {value!r}")
        return float(value)
    if tag in "sSc":
        if not isinstance(value, str):
            raise ValueError(f"expected a string for '{tag}', got {value!r}")
        return value
    if tag == "r":
        if isinstance(value, str) and re.fullmatch(r"#[0-9A-Fa-f]{8}", value):
            return int(value[1:], 16)
        raise ValueError(f"expected a colour '#RRGGBBAA' for 'r', got {value!r}")
    raise ValueError(f"cannot send a value of type '{tag}'")


def _json_values(tags: Sequence[Any], values: Sequence[Any]) -> list[Any]:
    out: list[Any] = []
    for i, tag in enumerate(tags):
        value = values[i] if i < len(values) else None
        if isinstance(tag, list):
            out.append(_json_values(tag, value if isinstance(value, (list, tuple)) else []))
        else:
            out.append(json_value(tag, value))
    return out


@dataclass(frozen=True)
class Range:
    """The RANGE of one value: ``MIN``, ``MAX`` and/or the allowed ``VALS``."""

    min: Any = None
    max: Any = None
    vals: tuple[Any, ...] | None = None

    def to_json(self) -> dict[str, Any]:
        """The JSON object (absent keys omitted)."""
        out: dict[str, Any] = {}
        if self.min is not None:
            out["MIN"] = self.min
        if self.max is not None:
            out["MAX"] = self.max
        if self.vals is not None:
            out["VALS"] = list(self.vals)
        return out

    @property
    def bounded(self) -> bool:
        """True when both MIN and MAX are finite numbers with MIN < MAX."""
        lo, hi = self.min, self.max
        return (
            isinstance(lo, (int, float))
            and isinstance(hi, (int, float))
            and not isinstance(lo, bool)
            and not isinstance(hi, bool)
            and math.isfinite(lo)
            and math.isfinite(hi)
            and lo < hi
        )


def _range_json(item: Any) -> Any:
    if item is None:
        return None
    if isinstance(item, list):
        return [_range_json(x) for x in item]
    return item.to_json()


@dataclass
class Node:
    """One node of an OSCQuery namespace (a container, a method, or both).

    ``value`` holds Python values as sent over OSC (``r`` as an int, ``b`` as bytes);
    :meth:`to_json` converts them. ``range`` holds one :class:`Range` (or None) per value,
    nested lists for ``[ ]`` arrays, as ``TYPE`` is structured.
    """

    path: str
    type: str | None = None
    access: int | None = None
    value: list[Any] | None = None
    range: list[Any] | None = None
    description: str | None = None
    tags: list[str] | None = None
    extended_type: list[Any] | None = None
    unit: list[Any] | None = None
    critical: bool | None = None
    clipmode: list[Any] | None = None
    overloads: list[dict[str, Any]] | None = None
    contents: dict[str, Node] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The last part of the path (``""`` for the root)."""
        return self.path.rsplit("/", 1)[-1]

    @property
    def is_method(self) -> bool:
        """True when OSC messages can be sent here: it has a TYPE, or it is a leaf (no
        CONTENTS: the proposal's OSC method; without TYPE it takes no arguments, a "bang")."""
        return self.type is not None or not self.contents

    @property
    def readable(self) -> bool:
        """True when ACCESS allows reading the value (absent ACCESS: readable)."""
        return self.access is None or bool(self.access & ACCESS_READ)

    @property
    def writable(self) -> bool:
        """True when ACCESS allows sending to it (absent ACCESS: writable)."""
        return self.access is None or bool(self.access & ACCESS_WRITE)

    def walk(self) -> Iterator[Node]:
        """This node and every node below it, depth first, children in order."""
        stack = [self]
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(list(node.contents.values())))

    def find(self, path: str) -> Node | None:
        """The node at ``path`` under this one (absolute path), None if there is none."""
        if path == self.path:
            return self
        prefix = "" if self.path == "/" else self.path
        if not path.startswith(prefix + "/"):
            return None
        node: Node | None = self
        for part in path[len(prefix) + 1 :].split("/"):
            node = node.contents.get(part) if node is not None else None
            if node is None:
                return None
        return node

    def attribute(self, name: str) -> Any:
        """The JSON value of attribute ``name`` (None when the node does not have it)."""
        if name == "FULL_PATH":
            return self.path
        if name == "CONTENTS":
            return {k: v.to_json() for k, v in self.contents.items()} if self.contents else None
        if name == "TYPE":
            return self.type
        if name == "ACCESS":
            return self.access
        if name == "VALUE":
            if self.value is None or self.type is None:
                return None
            return _json_values(split_types(self.type), self.value)
        if name == "RANGE":
            return None if self.range is None else [_range_json(r) for r in self.range]
        simple = {
            "DESCRIPTION": self.description,
            "TAGS": self.tags,
            "EXTENDED_TYPE": self.extended_type,
            "UNIT": self.unit,
            "CRITICAL": self.critical,
            "CLIPMODE": self.clipmode,
            "OVERLOADS": self.overloads,
        }
        if name in simple:
            return simple[name]
        return self.extra.get(name)

    def to_json(self, attribute: str | None = None) -> dict[str, Any]:
        """The node as the proposal's JSON object: all of it and its CONTENTS, or only
        ``attribute`` (``{}`` when the node does not have it)."""
        names = ATTRIBUTES if attribute is None else (attribute,)
        out: dict[str, Any] = {}
        for name in names:
            value = self.attribute(name)
            if value is not None:
                out[name] = value
        if attribute is None:
            for key, value in self.extra.items():
                out.setdefault(key, value)
        return out


@dataclass
class HostInfo:
    """The ``?HOST_INFO`` object: who serves, where its OSC and WebSocket servers are.

    Absent fields mean what the proposal says: the OSC server and the WebSocket server are
    at the HTTP server's address and port, and the OSC transport is UDP.
    """

    name: str | None = None
    extensions: dict[str, bool] = field(default_factory=dict)
    osc_ip: str | None = None
    osc_port: int | None = None
    osc_transport: str | None = None
    ws_ip: str | None = None
    ws_port: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def transport(self) -> str:
        """``"udp"`` or ``"tcp"`` (UDP when the server does not say)."""
        return "tcp" if (self.osc_transport or "").upper() == "TCP" else "udp"

    @property
    def listen(self) -> bool:
        """True when the server announces LISTEN (value streaming over its WebSocket)."""
        return bool(self.extensions.get("LISTEN"))

    def to_json(self) -> dict[str, Any]:
        """The JSON object (absent fields omitted)."""
        out: dict[str, Any] = {}
        for key, value in (
            ("NAME", self.name),
            ("EXTENSIONS", dict(self.extensions)),
            ("OSC_IP", self.osc_ip),
            ("OSC_PORT", self.osc_port),
            ("OSC_TRANSPORT", self.osc_transport),
            ("WS_IP", self.ws_ip),
            ("WS_PORT", self.ws_port),
        ):
            if value is not None:
                out[key] = value
        for key, value in self.extra.items():
            out.setdefault(key, value)
        return out


def ranges(spec: Sequence[Any] | Mapping[str, Any] | Range | None) -> list[Any] | None:
    """Normalise a user range spec to a RANGE list: ``(0, 1)`` → ``[Range(0, 1)]``;
    a list of such items (or None) for several values; a Range as is."""
    if spec is None:
        return None
    if isinstance(spec, Range):
        return [spec]
    if isinstance(spec, Mapping):
        return [Range(spec.get("min"), spec.get("max"), _vals(spec.get("vals")))]
    items = list(spec)
    if len(items) == 2 and all(isinstance(x, (int, float)) for x in items):
        return [Range(items[0], items[1])]
    return [_range_item(item) for item in items]


def _range_item(item: Any) -> Any:
    """One RANGE item: None, a Range, a dict, ``(min, max)``, or a list of those (an array)."""
    if item is None or isinstance(item, Range):
        return item
    if isinstance(item, Mapping):
        return Range(item.get("min"), item.get("max"), _vals(item.get("vals")))
    if isinstance(item, tuple) and len(item) == 2:
        return Range(item[0], item[1])
    if isinstance(item, list):
        return [_range_item(x) for x in item]
    raise ValueError(f"a RANGE item is (min, max), a dict, a Range or None, got {item!r}")


def _vals(vals: Any) -> tuple[Any, ...] | None:
    return None if vals is None else tuple(vals)
