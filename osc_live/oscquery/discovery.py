"""What ``%osc discover`` finds, one row per announced instance, remembered by name.

:func:`discover` browses zeroconf (``_oscjson._tcp``, ``_osc._udp``, ``_osc._tcp``) and
groups the services of one instance name into a :class:`Found`: where its OSC receiver is
(from ``_osc._udp``/``_osc._tcp``, else from the OSCQuery server's HOST_INFO) and its OSCQuery
URL. Found instances are remembered for this process, so ``%osc connect NAME``,
``%osc query NAME`` and ``%osc panel NAME`` work by name, and the OSC paths of their
namespaces (read once, bounded) feed the tab completion of ``%osc send``.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from osc_live._net import format_address
from osc_live.oscquery.client import OscQueryError, host_info, query
from osc_live.oscquery.mdns import OSC_TCP, OSC_UDP, OSCJSON, browse

__all__ = [
    "MAX_COMPLETION_PATHS",
    "Found",
    "completion_paths",
    "discover",
    "forget",
    "format_table",
    "lookup",
    "remember",
    "remember_paths",
    "remembered",
    "resolve_url",
]

#: OSC paths kept per discovered namespace for tab completion.
MAX_COMPLETION_PATHS = 2000
_LOCK = threading.Lock()
_FOUND: dict[str, Found] = {}
_PATHS: dict[str, tuple[str, ...]] = {}  # OSCQuery URL -> method paths


@dataclass(frozen=True)
class Found:
    """One announced instance: its OSC receiver (if known) and its OSCQuery URL (if any)."""

    name: str
    host: str
    port: int | None = None
    transport: str | None = None
    oscquery: str | None = None

    @property
    def osc_url(self) -> str | None:
        """``udp://host:port`` / ``tcp://host:port`` of its OSC receiver (None: unknown)."""
        if self.port is None or self.transport is None:
            return None
        return f"{self.transport}://{format_address(self.host, self.port)}"


def discover(timeout: float = 2.0, *, lan: bool = False, read_timeout: float = 1.0) -> list[Found]:
    """Browse for ``timeout`` seconds; return the instances found (and remember them).

    For an OSCQuery server announced without an ``_osc._*`` record, its HOST_INFO says where
    its OSC receiver is; each OSCQuery namespace is read once for completion. Those reads
    share ``read_timeout`` seconds per server and never fail the discovery.
    """
    services = browse(timeout, lan=lan)
    rows: dict[str, dict[str, Any]] = {}
    for service in services:
        row = rows.setdefault(service.name, {"name": service.name, "host": service.host})
        if service.type == OSCJSON:
            row["oscquery"] = service.url
        elif service.type in (OSC_UDP, OSC_TCP) and (
            "transport" not in row or service.type == OSC_UDP
        ):
            row.update(host=service.host, port=service.port, transport=service.transport)
    found: list[Found] = []
    for row in rows.values():
        url = row.get("oscquery")
        if url is not None:
            deadline = time.monotonic() + read_timeout
            if "port" not in row:
                try:
                    info = host_info(url, timeout=read_timeout)
                    row["port"] = info.osc_port or int(url.rsplit(":", 1)[1].rstrip("/"))
                    row["transport"] = info.transport
                    if info.osc_ip and info.osc_ip not in ("0.0.0.0", "::"):
                        row["host"] = info.osc_ip
                except OscQueryError:
                    pass
            remember_paths(url, max(deadline - time.monotonic(), 0.05))
        found.append(Found(**row))
    found.sort(key=lambda f: f.name.lower())
    with _LOCK:
        _FOUND.update({f.name: f for f in found})
    return found


def remember_paths(url: str, timeout: float = 1.0, root: Any = None) -> None:
    """Keep the method paths of the namespace at ``url`` for completion (read it unless
    ``root`` is given; a failed read keeps nothing)."""
    if root is None:
        try:
            root = query(url, timeout=timeout)
        except OscQueryError:
            return
    paths = [n.path for n in root.walk() if n.is_method and n.path != "/"]
    with _LOCK:
        _PATHS[url] = tuple(paths[:MAX_COMPLETION_PATHS])


def completion_paths(_session: Any = None) -> set[str]:
    """Every remembered OSC path of discovered or queried namespaces (a completion source)."""
    with _LOCK:
        return {p for paths in _PATHS.values() for p in paths}


def remember(found: Found) -> None:
    """Make ``found`` known by name (what this process advertises is, without a discover)."""
    with _LOCK:
        _FOUND[found.name] = found


def forget(name: str, oscquery: str | None = None) -> None:
    """Forget ``name`` (only if its OSCQuery URL is ``oscquery``, when given)."""
    with _LOCK:
        found = _FOUND.get(name)
        if found is not None and (oscquery is None or found.oscquery == oscquery):
            del _FOUND[name]
            _PATHS.pop(found.oscquery or "", None)


def lookup(name: str) -> Found | None:
    """The remembered instance called ``name`` (None if discovery has not found it)."""
    with _LOCK:
        return _FOUND.get(name)


def remembered() -> dict[str, Found]:
    """Every remembered instance by name."""
    with _LOCK:
        return dict(_FOUND)


def resolve_url(text: str) -> str:
    """An OSCQuery URL as given, or the URL of the discovered instance called ``text``."""
    found = lookup(text)
    if found is not None:
        if found.oscquery is None:
            raise OscQueryError(f"{text!r} announces no OSCQuery server (only OSC)")
        return found.oscquery
    return text


def format_table(found: list[Found]) -> str:
    """The table ``%osc discover`` prints."""
    if not found:
        return "no OSC or OSCQuery service found (loopback only unless --lan)"
    header = ("name", "host", "port", "transport", "OSCQuery URL")
    rows = [
        (f.name, f.host, "" if f.port is None else str(f.port), f.transport or "", f.oscquery or "")
        for f in found
    ]
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(c.ljust(widths[i]) for i, c in enumerate(r)).rstrip() for r in [header, *rows]
    ]
    return "\n".join(lines)
