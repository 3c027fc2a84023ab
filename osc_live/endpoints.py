"""Endpoint URLs: ``udp://host:port``, ``tcp://host:port``, ``9000``, ``[::1]:9000``.

Pure and standard-library only: text in, :class:`Endpoint` out. Used by the notebook session
(``session().connect("udp://…")``, ``listen(9000)``), the ``%osc`` grammar and the ``osc-live``
command. Which schemes exist, and what each accepts, is the table :data:`SCHEMES`; a transport
adds its scheme there (one :class:`Scheme` entry) and its session link in
``osc_live.notebook.links``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["SCHEMES", "Endpoint", "EndpointError", "Scheme", "parse_endpoint", "scheme"]

#: the host name of the embedded virtual synth (``udp://synth``, ``tcp://synth``)
SYNTH_HOST = "synth"


class EndpointError(ValueError):
    """A malformed endpoint; ``str(err)`` is one line naming the text."""


@dataclass(frozen=True)
class Scheme:
    """What a URL scheme accepts.

    ``connect_modes`` / ``listen_modes``: the values ``--mode`` may take when connecting or
    listening (empty: the scheme has no modes and ``--mode`` is refused); the first one is the
    default. ``path``: URLs may carry a ``/path`` after the port (WebSocket). ``synth``: the
    virtual synth is reachable under this scheme (``scheme://synth``).
    """

    name: str
    summary: str
    connect_modes: tuple[str, ...] = ()
    listen_modes: tuple[str, ...] = ()
    path: bool = False
    synth: bool = False

    def default_mode(self, listening: bool) -> str:
        """The mode used when ``--mode`` is not given ("" for a scheme without modes)."""
        modes = self.listen_modes if listening else self.connect_modes
        return modes[0] if modes else ""


#: every scheme the session, the magics and the CLI understand, in the order help lists them
SCHEMES: dict[str, Scheme] = {
    "udp": Scheme("udp", "OSC over UDP datagrams", synth=True),
    "tcp": Scheme(
        "tcp",
        "OSC over TCP: 1.0 = size prefix, 1.1 = SLIP, auto = detected per connection",
        connect_modes=("1.1", "1.0"),
        listen_modes=("auto", "1.0", "1.1"),
        synth=True,
    ),
    "ws": Scheme(
        "ws",
        "OSC over WebSocket: one binary message per packet (osc.js); needs osc-live[websocket]",
        path=True,
    ),
}


def scheme(name: str) -> Scheme:
    """The :class:`Scheme` called ``name`` (EndpointError if unknown)."""
    try:
        return SCHEMES[name]
    except KeyError:
        known = " or ".join(SCHEMES)
        raise EndpointError(f"scheme {name!r} is not {known}") from None


@dataclass(frozen=True)
class Endpoint:
    """Where to send or listen. Host ``synth`` (port 0) is the virtual synth."""

    scheme: str
    host: str
    port: int
    path: str = ""

    @property
    def is_synth(self) -> bool:
        """True for the built-in virtual synth."""
        return self.host == SYNTH_HOST

    @property
    def url(self) -> str:
        """The canonical ``scheme://host:port[/path]`` spelling (IPv6 hosts in brackets)."""
        if self.is_synth:
            return f"{self.scheme}://{SYNTH_HOST}"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}{self.path}"


_URL = re.compile(
    r"(?:(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://)?"
    r"(?:\[(?P<v6>[^\]]*)\]|(?P<host>[^:/\[\]]*))"
    r"(?::(?P<port>\d*))?(?P<path>/\S*)?\Z"
)


def parse_endpoint(
    text: str, *, listening: bool = False, default_host: str = "127.0.0.1"
) -> Endpoint:
    """``udp://host:port``, ``tcp://host:port``, ``host:port`` (UDP), ``port`` (UDP on
    ``default_host``), ``tcp://:port``, ``udp://synth`` / ``tcp://synth`` (the virtual synth,
    not when ``listening``), IPv6 in brackets (``udp://[::1]:9000``)."""
    text = str(text).strip()
    if text.isdigit():
        return _endpoint("udp", default_host, text, text, "")
    m = _URL.match(text)
    if not m:
        raise EndpointError(f"bad address {text!r}: expected udp://host:port or tcp://host:port")
    name = (m.group("scheme") or "udp").lower()
    if name not in SCHEMES:
        known = " or ".join(SCHEMES)
        raise EndpointError(f"bad address {text!r}: scheme {name!r} is not {known}")
    kind = SCHEMES[name]
    host = m.group("v6") if m.group("v6") is not None else (m.group("host") or "")
    port, path = m.group("port"), m.group("path") or ""
    if path and not kind.path:
        raise EndpointError(f"bad address {text!r}: {name}:// takes no /path")
    if host == SYNTH_HOST and not port:
        if listening or not kind.synth:
            raise EndpointError(f"bad address {text!r}: the virtual synth is not a place to listen")
        return Endpoint(name, SYNTH_HOST, 0)
    if not port:
        raise EndpointError(f"bad address {text!r}: missing :port")
    return _endpoint(name, host or default_host, port, text, path)


def _endpoint(name: str, host: str, port: str, text: str, path: str) -> Endpoint:
    number = int(port)
    if not 0 <= number <= 65535:
        raise EndpointError(f"bad address {text!r}: port out of range")
    return Endpoint(name, host, number, path)
