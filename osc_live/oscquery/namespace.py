"""A live, thread-safe OSCQuery namespace: the tree a server serves, with change events.

::

    ns = Namespace()
    ns.add("/fx/reverb", "f", access=3, value=[0.3], range=(0.0, 1.0), description="reverb")
    ns.add("/fx/clear")                          # no TYPE: a bang (no arguments)
    ns.set_value("/fx/reverb", [0.5])            # LISTEN clients get /fx/reverb 0.5
    ns.remove("/fx/clear")                       # WebSocket clients get PATH_REMOVED

Parents are created on demand as containers (``ACCESS 0``) and removed again when their last
child goes, unless they were added themselves. Every change is reported to the subscribers
(:meth:`subscribe`) as a :class:`Change`, outside the lock, on the thread that made it.
"""

from __future__ import annotations

import copy
import logging
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from osc_live.oscquery.model import (
    ACCESS_NONE,
    ACCESS_READWRITE,
    ACCESS_WRITE,
    Node,
    check_path,
    flat_tags,
    ranges,
    split_types,
)

__all__ = ["MAX_NODES", "Change", "Namespace", "NodeSpec"]

_log = logging.getLogger("osc_live.oscquery")

#: Most nodes one namespace holds (adding more raises ValueError).
MAX_NODES = 100_000


@dataclass(frozen=True)
class Change:
    """One change of a namespace.

    ``kind`` is ``"value"`` (``path`` got ``value``, typed ``type``; ``packet`` is the OSC
    message as it arrived, when it came from the network), ``"added"`` or ``"removed"``.
    """

    kind: str
    path: str
    type: str | None = None
    value: tuple[Any, ...] = ()
    packet: bytes | None = None


@dataclass(frozen=True)
class NodeSpec:
    """What :meth:`Namespace.sync` makes of one path (the arguments of :meth:`Namespace.add`)."""

    type: str | None = None
    access: int | None = None
    value: tuple[Any, ...] | None = None
    range: tuple[Any, ...] | None = None
    description: str | None = None
    tags: tuple[str, ...] | None = None
    unit: tuple[Any, ...] | None = None
    critical: bool | None = None


Subscriber = Callable[[Change], None]


class Namespace:
    """An OSCQuery address space shared by the threads that change it and the server."""

    def __init__(self, description: str | None = "root node") -> None:
        self._lock = threading.RLock()
        self._root = Node("/", access=ACCESS_NONE, description=description)
        self._explicit: set[str] = set()
        self._count = 1
        self._subscribers: list[Subscriber] = []

    # -- reading ---------------------------------------------------------------------------

    def get(self, path: str) -> Node | None:
        """A copy of the node at ``path`` and its subtree (None if there is none)."""
        with self._lock:
            node = self._root.find(path)
            return None if node is None else copy.deepcopy(node)

    def to_json(self, path: str, attribute: str | None = None) -> dict[str, Any] | None:
        """The JSON object of ``path`` (or of one ``attribute``), None if there is no node."""
        with self._lock:
            node = self._root.find(path)
            return None if node is None else node.to_json(attribute)

    def node_access(self, path: str) -> tuple[bool, int | None, bool]:
        """``(exists, ACCESS, has TYPE)`` of ``path``, read under the lock."""
        with self._lock:
            node = self._root.find(path)
            if node is None:
                return False, None, False
            return True, node.access, node.type is not None

    def paths(self) -> list[str]:
        """Every path in the tree, depth first (the root first)."""
        with self._lock:
            return [node.path for node in self._root.walk()]

    def __contains__(self, path: object) -> bool:
        with self._lock:
            return isinstance(path, str) and self._root.find(path) is not None

    def __len__(self) -> int:
        with self._lock:
            return self._count

    # -- changing --------------------------------------------------------------------------

    def add(
        self,
        path: str,
        type: str | None = None,
        *,
        access: int | None = None,
        value: Sequence[Any] | Any = None,
        range: Any = None,
        description: str | None = None,
        tags: Iterable[str] | None = None,
        unit: Sequence[Any] | None = None,
        critical: bool | None = None,
    ) -> None:
        """Add the node at ``path`` (or replace its attributes; its children stay).

        ``type`` is the OSC type tag string (``"f"``, ``"ii"``, ``"i[ff]"``); ``access``
        defaults to 3 (read and write) with a TYPE; without one it is left out, which the
        proposal reads as "writable" (a method taking no or any arguments: a bang).
        ``value`` is one value or a sequence, one item per type tag; ``range`` is
        ``(min, max)``, a :class:`Range`, a dict with ``min``/``max``/``vals``, or a list of
        those (None for a value without range).
        """
        node = self._build(path, type, access, value, range, description, tags, unit, critical)
        events: list[Change] = []
        with self._lock:
            existing = self._root.find(path)
            if existing is None:
                events = self._insert(node)
            else:
                node.contents = existing.contents
                self._replace(existing, node)
            self._explicit.add(path)
        self._emit(events)

    def remove(self, path: str) -> bool:
        """Remove ``path`` and everything under it; False if there was no such node."""
        if path == "/":
            raise ValueError("the root of a namespace cannot be removed")
        with self._lock:
            node = self._root.find(path)
            if node is None:
                return False
            removed = list(node.walk())
            self._detach(path)
            self._count -= len(removed)
            for item in removed:
                self._explicit.discard(item.path)
            pruned = self._prune(path.rsplit("/", 1)[0] or "/")
        self._emit([Change("removed", p) for p in [path, *pruned]])
        return True

    def set_value(
        self,
        path: str,
        value: Sequence[Any],
        *,
        type: str | None = None,
        packet: bytes | None = None,
    ) -> bool:
        """Record a new value for ``path`` and tell the subscribers (LISTEN clients).

        ``type`` (the tags the value arrived with) replaces the node's TYPE when the node has
        none. Returns False (and changes nothing) when there is no such node.
        """
        values = tuple(value)
        with self._lock:
            node = self._root.find(path)
            if node is None:
                return False
            if node.type is None and type:
                node.type = type
                if node.access in (None, ACCESS_WRITE):
                    node.access = ACCESS_READWRITE
            node.value = list(values)
            tags = node.type
        self._emit([Change("value", path, tags or type, values, packet)])
        return True

    def sync(self, specs: Mapping[str, NodeSpec]) -> None:
        """Make the explicitly added nodes exactly ``specs``: add what is new, update what
        changed (the VALUE too, without a value event), remove what is gone."""
        with self._lock:
            gone = sorted(self._explicit - set(specs), key=len, reverse=True)
        for path in gone:
            if path in self:
                self.remove(path)
        for path, spec in specs.items():
            with self._lock:
                current = self._root.find(path)
                same = current is not None and path in self._explicit and _matches(current, spec)
            if not same:
                self.add(
                    path,
                    spec.type,
                    access=spec.access,
                    value=spec.value,
                    range=spec.range,
                    description=spec.description,
                    tags=spec.tags,
                    unit=spec.unit,
                    critical=spec.critical,
                )

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call ``callback(change)`` after every change; returns the function that stops it.

        Callbacks run on the thread that made the change and must be quick (the server only
        queues the change for its own thread); an exception is logged and ignored.
        """
        with self._lock:
            self._subscribers = [*self._subscribers, callback]

        def unsubscribe() -> None:
            with self._lock:
                self._subscribers = [s for s in self._subscribers if s is not callback]

        return unsubscribe

    # -- internals -------------------------------------------------------------------------

    @staticmethod
    def _build(
        path: str,
        type: str | None,
        access: int | None,
        value: Any,
        range: Any,
        description: str | None,
        tags: Iterable[str] | None,
        unit: Sequence[Any] | None,
        critical: bool | None,
    ) -> Node:
        check_path(path)
        if path == "/":
            raise ValueError("describe the root through Namespace(description=...)")
        if type is not None:
            split_types(type)  # validates
        if access is None and type:
            access = ACCESS_READWRITE
        if access not in (None, 0, 1, 2, 3):
            raise ValueError(f"ACCESS is 0, 1, 2 or 3, got {access!r}")
        values: list[Any] | None = None
        if value is not None:
            if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
                values = [value]
            else:
                values = list(value)
        if values is not None and type is not None:
            expected = len(split_types(type))
            if len(values) != expected:
                raise ValueError(
                    f"{path}: TYPE {type!r} takes {expected} value(s), got {len(values)}"
                )
        rng = ranges(range)
        if rng is not None and type is not None and len(rng) == 1 < len(flat_tags(type)):
            rng = rng * len(split_types(type))
        return Node(
            path,
            type=type or None,
            access=access,
            value=values,
            range=rng,
            description=description,
            tags=None if tags is None else [str(t) for t in tags],
            unit=None if unit is None else list(unit),
            critical=critical,
        )

    def _insert(self, node: Node) -> list[Change]:
        parts = node.path.strip("/").split("/")
        missing = sum(
            1 for i in range(len(parts)) if self._root.find("/" + "/".join(parts[: i + 1])) is None
        )
        if self._count + missing > MAX_NODES:
            raise ValueError(f"a namespace holds at most {MAX_NODES} nodes")
        parent = self._root
        events: list[Change] = []
        for i, part in enumerate(parts[:-1]):
            child = parent.contents.get(part)
            if child is None:
                child = Node("/" + "/".join(parts[: i + 1]), access=ACCESS_NONE)
                parent.contents[part] = child
                self._count += 1
                events.append(Change("added", child.path))
            parent = child
        parent.contents[parts[-1]] = node
        self._count += 1
        events.append(Change("added", node.path))
        return events

    def _replace(self, old: Node, new: Node) -> None:
        parent = self._root.find(old.path.rsplit("/", 1)[0] or "/")
        assert parent is not None
        parent.contents[old.name] = new

    def _detach(self, path: str) -> None:
        parent = self._root.find(path.rsplit("/", 1)[0] or "/")
        if parent is not None:
            parent.contents.pop(path.rsplit("/", 1)[1], None)

    def _prune(self, path: str) -> list[str]:
        """Remove implicit containers left empty, from ``path`` upwards."""
        pruned: list[str] = []
        while path != "/":
            node = self._root.find(path)
            if node is None or node.contents or path in self._explicit:
                break
            self._detach(path)
            self._count -= 1
            pruned.append(path)
            path = path.rsplit("/", 1)[0] or "/"
        return pruned

    def _emit(self, events: Sequence[Change]) -> None:
        if not events:
            return
        subscribers = self._subscribers
        for event in events:
            for callback in subscribers:
                try:
                    callback(event)
                except Exception:
                    _log.exception("namespace subscriber failed")


def _matches(node: Node, spec: NodeSpec) -> bool:
    """True when ``node`` already has every attribute ``spec`` asks for."""
    probe = Namespace._build(
        node.path,
        spec.type,
        spec.access,
        spec.value,
        spec.range,
        spec.description,
        spec.tags,
        spec.unit,
        spec.critical,
    )
    return (
        probe.type,
        probe.access,
        probe.value,
        probe.range,
        probe.description,
        probe.tags,
        probe.unit,
        probe.critical,
    ) == (
        node.type,
        node.access,
        node.value,
        node.range,
        node.description,
        node.tags,
        node.unit,
        node.critical,
    )
