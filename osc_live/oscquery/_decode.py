"""Turn a remote server's JSON into :class:`~osc_live.oscquery.model.Node` and
:class:`~osc_live.oscquery.model.HostInfo`, within bounds, or fail with one line.

Nothing from the network is trusted: the bytes are counted before parsing (containers), the
parsed tree is walked iteratively for its depth, every attribute is type-checked, and each
error names the JSON location (``/fx/reverb: RANGE is a string, expected an array``).
Value contents are read leniently (a VALUE with fewer items than its TYPE is kept as it is),
structure strictly.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from osc_live.oscquery.model import ATTRIBUTES, HostInfo, Node, Range, split_types

__all__ = ["Limits", "ReplyError", "host_info_from_json", "node_from_json", "parse_json"]


class ReplyError(ValueError):
    """A reply that is not a valid OSCQuery object, or is beyond a limit (one line)."""


class Limits:
    """Bounds on what one reply may cost (see docs/discovery.md)."""

    def __init__(
        self,
        max_bytes: int = 8 * 1024 * 1024,
        max_depth: int = 64,
        max_nodes: int = 50_000,
        max_containers: int = 250_000,
    ) -> None:
        self.max_bytes = max_bytes
        self.max_depth = max_depth
        self.max_nodes = max_nodes
        self.max_containers = max_containers


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def parse_json(body: bytes, limits: Limits) -> Any:
    """Parse a reply body: UTF-8 JSON, no more containers or nesting than ``limits`` allow."""
    containers = body.count(b"{") + body.count(b"[")  # brackets in strings count too: fine
    if containers > limits.max_containers:
        raise ReplyError(f"reply has more than {limits.max_containers} JSON objects and arrays")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ReplyError(f"reply is not UTF-8 (byte {exc.start})") from None
    try:
        data = json.loads(text)
    except RecursionError:
        raise ReplyError(f"reply JSON nested deeper than {limits.max_depth} levels") from None
    except ValueError as exc:
        raise ReplyError(f"reply is not JSON: {str(exc).splitlines()[0]}") from None
    depth = _depth(data, limits.max_depth)
    if depth > limits.max_depth:
        raise ReplyError(f"reply JSON nested deeper than {limits.max_depth} levels")
    return data


def _depth(data: Any, limit: int) -> int:
    """Nesting depth of ``data`` (iterative; stops counting past ``limit``)."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        stack.extend((child, depth + 1) for child in children)
    return deepest


# -- nodes ------------------------------------------------------------------------------------


_PER_VALUE = (("UNIT", "unit"), ("EXTENDED_TYPE", "extended_type"), ("CLIPMODE", "clipmode"))


def node_from_json(data: Any, limits: Limits, path: str = "/") -> Node:
    """The :class:`Node` (and subtree) described by ``data``, the reply for ``path``."""
    count = [0]
    return _node(data, path, limits, count)


def _node(data: Any, path: str, limits: Limits, count: list[int]) -> Node:
    if not isinstance(data, dict):
        raise ReplyError(f"{path}: node is {_kind(data)}, expected an object")
    count[0] += 1
    if count[0] > limits.max_nodes:
        raise ReplyError(f"reply describes more than {limits.max_nodes} nodes")
    full = data.get("FULL_PATH")
    if full is not None:
        if not isinstance(full, str) or not full.startswith("/"):
            raise ReplyError(f"{path}: FULL_PATH is {_kind(full)!s} {full!r:.40}, expected '/...'")
        path = full
    node = Node(path)
    type_ = _optional(data, "TYPE", str, path)
    if type_:
        try:
            split_types(type_)
        except ValueError as exc:
            raise ReplyError(f"{path}: bad TYPE: {exc}") from None
        node.type = type_
    access = data.get("ACCESS")
    if access is not None:
        if isinstance(access, bool) or not isinstance(access, int) or not 0 <= access <= 3:
            raise ReplyError(f"{path}: ACCESS is {access!r:.40}, expected 0, 1, 2 or 3")
        node.access = access
    node.description = _optional(data, "DESCRIPTION", str, path)
    node.critical = _optional(data, "CRITICAL", bool, path)
    if "VALUE" in data and data["VALUE"] is not None:
        node.value = _values(data["VALUE"], node, path)
    if "RANGE" in data and data["RANGE"] is not None:
        node.range = _ranges(data["RANGE"], node, path)
    tags = _optional(data, "TAGS", list, path)
    if tags is not None:
        if not all(isinstance(t, str) for t in tags):
            raise ReplyError(f"{path}: TAGS must be an array of strings")
        node.tags = list(tags)
    for key, attr in _PER_VALUE:
        value = data.get(key)
        if value is not None:
            setattr(node, attr, value if isinstance(value, list) else [value])
    overloads = _optional(data, "OVERLOADS", list, path)
    if overloads is not None:
        if not all(isinstance(o, dict) for o in overloads):
            raise ReplyError(f"{path}: OVERLOADS must be an array of objects")
        node.overloads = overloads
    contents = data.get("CONTENTS")
    if contents is not None:
        if not isinstance(contents, dict):
            raise ReplyError(f"{path}: CONTENTS is {_kind(contents)}, expected an object")
        prefix = "" if path == "/" else path
        for name, child in contents.items():
            if not name or "/" in name:
                raise ReplyError(f"{path}: bad CONTENTS key {name!r:.40}")
            node.contents[name] = _node(child, f"{prefix}/{name}", limits, count)
    node.extra = {k: v for k, v in data.items() if k not in ATTRIBUTES}
    return node


def _optional(data: Mapping[str, Any], key: str, kind: type, path: str) -> Any:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
        expected = {str: "a string", bool: "a boolean", list: "an array"}[kind]
        raise ReplyError(f"{path}: {key} is {_kind(value)}, expected {expected}")
    return value


def _values(raw: Any, node: Node, path: str) -> list[Any]:
    items = raw if isinstance(raw, list) else [raw]
    tags = split_types(node.type) if node.type else []
    return [_value(item, tags[i] if i < len(tags) else None, path) for i, item in enumerate(items)]


def _value(item: Any, tag: Any, path: str) -> Any:
    if isinstance(item, dict):
        raise ReplyError(f"{path}: VALUE holds an object, expected numbers, strings or arrays")
    if isinstance(item, list):
        inner = tag if isinstance(tag, list) else []
        return [_value(x, inner[i] if i < len(inner) else None, path) for i, x in enumerate(item)]
    if tag == "r" and isinstance(item, str):
        text = item.lstrip("#")
        try:
            return int(text, 16) if len(text) == 8 else None
        except ValueError:
            return None
    return item


def _ranges(raw: Any, node: Node, path: str) -> list[Any]:
    if isinstance(raw, dict):
        count = len(split_types(node.type)) if node.type else 1
        one = _range(raw, path)
        return [one] * max(count, 1)
    if not isinstance(raw, list):
        raise ReplyError(f"{path}: RANGE is {_kind(raw)}, expected an array")
    out: list[Any] = []
    for item in raw:
        if item is None:
            out.append(None)
        elif isinstance(item, list):
            out.append([None if x is None else _range(x, path) for x in item])
        else:
            out.append(_range(item, path))
    return out


def _range(item: Any, path: str) -> Range:
    if not isinstance(item, dict):
        raise ReplyError(f"{path}: RANGE item is {_kind(item)}, expected an object")
    lo, hi, vals = item.get("MIN"), item.get("MAX"), item.get("VALS")
    for key, bound in (("MIN", lo), ("MAX", hi)):
        if isinstance(bound, (dict, list)):
            raise ReplyError(f"{path}: RANGE {key} is {_kind(bound)}, expected a value")
    if vals is not None:
        if not isinstance(vals, list) or any(isinstance(v, (dict, list)) for v in vals):
            raise ReplyError(f"{path}: RANGE VALS must be an array of values")
        vals = tuple(vals)
    return Range(lo, hi, vals)


# -- HOST_INFO --------------------------------------------------------------------------------


def host_info_from_json(data: Any) -> HostInfo:
    """The :class:`HostInfo` described by a ``?HOST_INFO`` reply."""
    if not isinstance(data, dict):
        raise ReplyError(f"HOST_INFO is {_kind(data)}, expected an object")
    info = HostInfo()
    info.name = _optional(data, "NAME", str, "HOST_INFO")
    extensions = data.get("EXTENSIONS")
    if extensions is not None:
        if not isinstance(extensions, dict):
            raise ReplyError(f"HOST_INFO: EXTENSIONS is {_kind(extensions)}, expected an object")
        info.extensions = {str(k): bool(v) for k, v in extensions.items()}
    info.osc_ip = _optional(data, "OSC_IP", str, "HOST_INFO")
    info.osc_port = _port(data, "OSC_PORT")
    transport = _optional(data, "OSC_TRANSPORT", str, "HOST_INFO")
    if transport is not None and transport.upper() not in ("UDP", "TCP"):
        raise ReplyError(f"HOST_INFO: OSC_TRANSPORT is {transport!r:.20}, expected UDP or TCP")
    info.osc_transport = None if transport is None else transport.upper()
    info.ws_ip = _optional(data, "WS_IP", str, "HOST_INFO")
    info.ws_port = _port(data, "WS_PORT")
    known = {"NAME", "EXTENSIONS", "OSC_IP", "OSC_PORT", "OSC_TRANSPORT", "WS_IP", "WS_PORT"}
    info.extra = {k: v for k, v in data.items() if k not in known}
    return info


def _port(data: Mapping[str, Any], key: str) -> int | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value < 65536:
        raise ReplyError(f"HOST_INFO: {key} is {value!r:.20}, expected a port number")
    return value
