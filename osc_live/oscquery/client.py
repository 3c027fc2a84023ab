"""Read a remote OSCQuery server: its namespace, one node, one attribute, its HOST_INFO.

::

    from osc_live.oscquery import client
    remote = client.describe("http://127.0.0.1:5678/")      # HOST_INFO + the whole tree
    remote.root.find("/fx/reverb").range                    # [Range(min=0.0, max=1.0)]
    client.query("http://127.0.0.1:5678/", "/fx")           # one subtree (a Node)
    client.fetch("http://127.0.0.1:5678/", "/fx/reverb", "VALUE")   # {"VALUE": [0.3]}

Every call is bounded: the whole exchange (connect, request, reply) finishes within
``timeout`` seconds, the reply within ``limits`` (size, JSON depth, node count; see
:class:`~osc_live.oscquery._decode.Limits`). Anything else (a refused connection, a server
that never answers, huge or deeply nested JSON, wrong types) raises :class:`OscQueryError`
with one line that names the URL and what was wrong. Standard library only.
"""

from __future__ import annotations

import ipaddress
import socket
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any

from osc_live._net import format_address
from osc_live.oscquery._decode import (
    Limits,
    ReplyError,
    host_info_from_json,
    node_from_json,
    parse_json,
)
from osc_live.oscquery._http import HttpError, ResponseReader, request_bytes
from osc_live.oscquery.model import HostInfo, Node

__all__ = [
    "DEFAULT_TIMEOUT",
    "Limits",
    "OscQueryError",
    "Remote",
    "ServerUrl",
    "describe",
    "fetch",
    "host_info",
    "parse_url",
    "query",
]

DEFAULT_TIMEOUT = 5.0
_RECV = 65536


class OscQueryError(Exception):
    """A remote OSCQuery server could not be read (one line, naming the URL)."""


@dataclass(frozen=True)
class ServerUrl:
    """Where an OSCQuery server is: ``host``, ``port`` and the node ``path`` asked for."""

    host: str
    port: int
    path: str = "/"

    @property
    def base(self) -> str:
        """``http://host:port/`` (IPv6 hosts in brackets)."""
        return f"http://{format_address(self.host, self.port)}/"

    def __str__(self) -> str:
        return self.base.rstrip("/") + self.path


def parse_url(url: str, path: str | None = None) -> ServerUrl:
    """``http://host:port[/path]``, ``host:port`` or a bare port (loopback) as a ServerUrl;
    ``path`` (``/fx``) replaces the URL's path. ValueError for anything else."""
    text = url.strip()
    if text.isdigit():
        text = f"http://127.0.0.1:{text}"
    elif "://" not in text:
        text = "http://" + text
    parts = urllib.parse.urlsplit(text)
    if parts.scheme != "http":
        raise ValueError(f"only http:// OSCQuery URLs are supported, got {url!r}")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"bad port in {url!r}") from None
    if not parts.hostname or port is None:
        raise ValueError(f"an OSCQuery URL needs a host and a port: {url!r}")
    node = path if path is not None else urllib.parse.unquote(parts.path) or "/"
    if not node.startswith("/"):
        raise ValueError(f"an OSC path starts with '/', got {node!r}")
    if len(node) > 1:
        node = node.rstrip("/")
    return ServerUrl(parts.hostname, port, node)


@dataclass
class Remote:
    """A remote server as read once: its URL, its HOST_INFO and the tree at ``url.path``."""

    url: ServerUrl
    host_info: HostInfo
    root: Node

    @property
    def osc_address(self) -> tuple[str, int, str]:
        """``(host, port, "udp"|"tcp")`` of its OSC server, with the proposal's defaults
        (the HTTP host and port, UDP) for what HOST_INFO leaves out."""
        info = self.host_info
        return info.osc_ip or self.url.host, info.osc_port or self.url.port, info.transport

    @property
    def ws_url(self) -> str:
        """The ``ws://`` URL of its WebSocket (LISTEN) server."""
        info = self.host_info
        return f"ws://{format_address(info.ws_ip or self.url.host, info.ws_port or self.url.port)}/"


def fetch(
    url: str | ServerUrl,
    path: str | None = None,
    attribute: str | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    limits: Limits | None = None,
) -> Any:
    """GET ``path`` (and ``?attribute``) and return the parsed JSON (None for 204)."""
    where = _where(url, path)
    limits = limits or Limits()
    target = urllib.parse.quote(where.path, safe="/") + (f"?{attribute}" if attribute else "")
    try:
        status, reason, body = _get(where.host, where.port, target, timeout, limits.max_bytes)
    except HttpError as exc:
        raise OscQueryError(f"{where}: bad reply: {exc}") from None
    except (OSError, TimeoutError) as exc:
        raise OscQueryError(f"{where}: {_os_text(exc, timeout)}") from None
    shown = f"{where}{'?' + attribute if attribute else ''}"
    if status == 204:
        return None
    if status == 404:
        raise OscQueryError(f"{shown}: no such node (404)")
    if status != 200:
        detail = body[:120].decode("utf-8", "replace").strip().splitlines()
        raise OscQueryError(
            f"{shown}: HTTP {status} {reason}" + (f": {detail[0]}" if detail else "")
        )
    try:
        return parse_json(body, limits)
    except ReplyError as exc:
        raise OscQueryError(f"{shown}: {exc}") from None


def query(
    url: str | ServerUrl,
    path: str | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    limits: Limits | None = None,
) -> Node:
    """The node at ``path`` (default: the URL's path, else ``/``) and everything under it."""
    where = _where(url, path)
    limits = limits or Limits()
    data = fetch(where, timeout=timeout, limits=limits)
    try:
        return node_from_json(data, limits, where.path)
    except ReplyError as exc:
        raise OscQueryError(f"{where}: {exc}") from None


def host_info(
    url: str | ServerUrl, *, timeout: float = DEFAULT_TIMEOUT, limits: Limits | None = None
) -> HostInfo:
    """The server's ``?HOST_INFO``."""
    where = _where(url, "/")
    data = fetch(where, "/", "HOST_INFO", timeout=timeout, limits=limits)
    try:
        return host_info_from_json(data)
    except ReplyError as exc:
        raise OscQueryError(f"{where}: {exc}") from None


def describe(
    url: str | ServerUrl,
    path: str | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    limits: Limits | None = None,
) -> Remote:
    """HOST_INFO and the tree at ``path``, read within ``timeout`` seconds altogether."""
    where = _where(url, path)
    deadline = time.monotonic() + timeout
    info = host_info(where, timeout=timeout, limits=limits)
    left = max(deadline - time.monotonic(), 0.001)
    return Remote(where, info, query(where, timeout=left, limits=limits))


# -- the exchange -----------------------------------------------------------------------------


def _where(url: str | ServerUrl, path: str | None) -> ServerUrl:
    if isinstance(url, ServerUrl):
        return url if path is None else ServerUrl(url.host, url.port, path)
    try:
        return parse_url(url, path)
    except ValueError as exc:
        raise OscQueryError(str(exc)) from None


def _os_text(exc: BaseException, timeout: float) -> str:
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return f"no complete reply within {timeout:g} s"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused (is an OSCQuery server running there?)"
    text = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return text.splitlines()[0] if text else type(exc).__name__


def _address(host: str, port: int) -> tuple[socket.AddressFamily, tuple[Any, ...]]:
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        infos = socket.getaddrinfo(host, port, socket.AF_UNSPEC, socket.SOCK_STREAM)
        infos.sort(key=lambda info: info[0] != socket.AF_INET)
        return infos[0][0], infos[0][4]
    family = socket.AF_INET6 if ip.version == 6 else socket.AF_INET
    return family, (host, port)


def _get(
    host: str, port: int, target: str, timeout: float, max_bytes: int
) -> tuple[int, str, bytes]:
    """One GET, bounded in total time and size: ``(status, reason, body)``."""
    deadline = time.monotonic() + timeout

    def left() -> float:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError
        return remaining

    family, sockaddr = _address(host, port)
    reader = ResponseReader(max_bytes)
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.settimeout(left())
        sock.connect(sockaddr)
        sock.settimeout(left())
        sock.sendall(request_bytes(host, port, target))
        while not reader.done:
            sock.settimeout(left())
            data = sock.recv(_RECV)
            if not data:
                reader.finish()
                break
            reader.feed(data)
    return reader.status, reader.reason, reader.body
