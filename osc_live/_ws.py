"""Private WebSocket pieces shared by ``ws_client``, ``osc_ws_server`` and ``bridge``.

- :func:`websockets_module` -- the optional ``websockets`` package (16.1 or 17.x), imported lazily
  with a clear error naming the extra to install (``osc-live[websocket]``);
  :func:`websockets_version` its version.
- :class:`WSLimits` -- the limits every WebSocket server and the bridge enforce: the stream
  servers' :class:`~osc_live._limits.Limits` plus the WebSocket ones, and the ``websockets``
  keywords they map to.
- :class:`WSServerStats` -- the stream servers' counters plus the WebSocket ones.
- :class:`PeerPolicy` -- sans-I/O handling of one peer: what to do with each incoming message
  (an OSC packet, a text frame, garbage), how a closed connection is counted, warnings logged
  once per peer.  The sync and asyncio servers and the bridge share it, so they behave alike.

The convention on the wire is osc.js ``WebSocketPort``'s and the OSCQuery proposal's: one binary
WebSocket message carries one OSC packet (a message or a bundle), nothing else.
"""

from __future__ import annotations

import importlib
import logging
import re
from dataclasses import dataclass, field, fields, replace
from types import ModuleType
from typing import Any

from osc_live._limits import Limits, PeerLog, ServerStats
from osc_live._osc_json import json_to_packet
from osc_live.errors import OscError

__all__ = [
    "CLOSE_MALFORMED",
    "CLOSE_TEXT",
    "TEXT_MODES",
    "Cut",
    "PeerPolicy",
    "WSLimits",
    "WSServerStats",
    "looks_like_osc",
    "websockets_module",
    "websockets_version",
]

INSTALL_HINT = (
    "OSC over WebSocket needs the optional package 'websockets' (16.1 or 17.x):"
    " pip install 'osc-live[websocket]'"
)
MIN_WEBSOCKETS = (16, 1)
"""The oldest websockets osc_live runs on (the newest that supports Python 3.10)."""

DEFAULT_WS_MAX_QUEUE = 16
"""Messages received but not yet handled, per connection, before reading pauses."""

TEXT_MODES = ("reject", "json")
"""What a server does with a text frame: close the connection, or read it as osc.js JSON."""

CLOSE_TEXT = (
    1003,
    "text frames are not OSC: send one binary WebSocket message per OSC packet",
)
CLOSE_MALFORMED = (1003, "not an OSC packet: send one binary WebSocket message per OSC packet")
CLOSE_BAD_JSON = 1007  # with the reason naming what is wrong

_log = logging.getLogger("osc_live.websocket")


def websockets_module(submodule: str = "") -> ModuleType:
    """Import ``websockets`` (or ``websockets.<submodule>``); ImportError names the extra, and
    says so when the installed version is too old."""
    try:
        module = importlib.import_module("websockets")
    except ImportError as exc:
        raise ImportError(INSTALL_HINT) from exc
    found = websockets_version(module)
    if (0, 0) < found < MIN_WEBSOCKETS:
        raise ImportError(
            f"osc_live needs websockets >= {'.'.join(map(str, MIN_WEBSOCKETS))}, found "
            f"{getattr(module, '__version__', '?')}: pip install 'osc-live[websocket]'"
        )
    if not submodule:
        return module
    try:
        return importlib.import_module(f"websockets.{submodule}")
    except ImportError as exc:
        raise ImportError(INSTALL_HINT) from exc


def websockets_version(module: ModuleType | None = None) -> tuple[int, int]:
    """``(major, minor)`` of the installed websockets (``(0, 0)`` when it cannot be read)."""
    if module is None:
        module = importlib.import_module("websockets")
    numbers = re.findall(r"\d+", str(getattr(module, "__version__", "")))[:2]
    return (int(numbers[0]), int(numbers[1])) if len(numbers) == 2 else (0, 0)


def looks_like_osc(data: bytes) -> bool:
    """True when ``data`` has the shape of an OSC packet (checked before any parsing).

    A message starts with ``/``, a bundle with ``#bundle\\0``; both are a multiple of 4 bytes.
    Anything else is garbage, not a damaged packet: the peer does not speak OSC.
    """
    if not data or len(data) % 4:
        return False
    return data[:1] == b"/" or data[:8] == b"#bundle\x00"


@dataclass(frozen=True)
class WSLimits:
    """Limits of a WebSocket server (and of the bridge's WebSocket side).

    ``stream`` holds the limits every stream server shares (:class:`osc_live._limits.Limits`:
    ``max_packet_size``, ``max_buffered``, ``max_buffered_total``, ``max_connections``,
    ``max_connections_per_host``, ``send_timeout``...), readable here as attributes too; the
    WebSocket ones are:

    - ``max_queue``: messages received and not yet handled per connection before reading
      pauses (TCP back-pressure); at most ``max_buffered // max_packet_size`` (4 by default),
      so the messages a connection holds stay within ``max_buffered``;
    - ``write_limit``: bytes of replies buffered in the transport before a send waits (and
      ``send_timeout`` cuts a peer that does not read);
    - ``ping_interval`` / ``ping_timeout``: a keep-alive ping every ``ping_interval`` s; a peer
      that does not answer within ``ping_timeout`` s (dead, or stuck in the middle of a frame:
      a pong cannot be sent inside a frame) is cut, counted in ``timeouts`` -- the WebSocket
      counterpart of ``frame_timeout``;
    - ``open_timeout``: seconds the opening handshake may take (slow-loris handshakes are cut);
    - ``text``: ``"reject"`` (close 1003 with a reason, counted in ``text_frames``) or
      ``"json"`` (read a text frame as an osc.js JSON packet, see :mod:`osc_live._osc_json`).
    """

    stream: Limits = field(default_factory=Limits)
    max_queue: int = DEFAULT_WS_MAX_QUEUE
    write_limit: int = 64 * 1024
    ping_interval: float | None = 10.0
    ping_timeout: float | None = 10.0
    open_timeout: float | None = 10.0
    close_timeout: float | None = 2.0
    text: str = "reject"

    def __post_init__(self) -> None:
        """Validate the values."""
        for name in ("max_queue", "write_limit"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an int >= 1, not {value!r}")
        if self.text not in TEXT_MODES:
            raise ValueError(f"text must be one of {TEXT_MODES}, not {self.text!r}")

    @classmethod
    def build(cls, limits: WSLimits | Limits | None = None, **options: Any) -> WSLimits:
        """``limits`` with keyword overrides of any field, shared or WebSocket (TypeError if
        unknown)."""
        if isinstance(limits, Limits):
            limits = cls(stream=limits)
        base = limits if limits is not None else cls()
        own = {f.name for f in fields(cls)} - {"stream"}
        shared = {f.name for f in fields(Limits)}
        unknown = set(options) - own - shared
        if unknown:
            raise TypeError(f"unknown WebSocket option(s): {', '.join(sorted(unknown))}")
        stream = Limits.build(base.stream, **{k: v for k, v in options.items() if k in shared})
        return replace(base, stream=stream, **{k: v for k, v in options.items() if k in own})

    def __getattr__(self, name: str) -> Any:
        """The shared limits read as attributes (``limits.max_connections``)."""
        if name != "stream" and name in Limits.__dataclass_fields__:
            return getattr(self.stream, name)
        raise AttributeError(name)

    @property
    def queue(self) -> int:
        """Messages held per connection: ``max_queue``, within ``max_buffered``."""
        fit = max(1, self.stream.max_buffered // self.stream.max_packet_size)
        return min(self.max_queue, fit)

    def serve_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``websockets``' ``serve``."""
        return {
            "max_size": self.stream.max_packet_size,
            "max_queue": self.queue,
            "write_limit": self.write_limit,
            "ping_interval": self.ping_interval,
            "ping_timeout": self.ping_timeout,
            "open_timeout": self.open_timeout,
            "close_timeout": self.close_timeout,
            # OSC packets are small; a deflate context costs ~300 KiB per connection.
            "compression": None,
        }


class WSServerStats(ServerStats):
    """Counters of a WebSocket server or bridge (thread-safe).

    Those of :class:`osc_live._limits.ServerStats` (``connections``, ``active``, ``refused``,
    ``packets``, ``replies``, ``replies_dropped``, ``oversized``, ``over_buffer``, ``timeouts``,
    ``send_timeouts``, ``handler_errors``; the framing ones stay 0: WebSocket frames itself),
    plus:

    - ``text_frames``: text frames refused (the connection is closed with 1003);
    - ``json_packets``: text frames read as osc.js JSON (``text="json"``);
    - ``malformed``: binary messages that are no OSC packet at all (the peer is cut) or, for
      the bridge, that do not parse (dropped);
    - ``protocol_errors``: connections closed for a WebSocket protocol error (bad frames,
      bad UTF-8 in a text frame...); ``refused`` also counts forbidden origins and paths.
    """

    FIELDS: tuple[str, ...] = (
        *ServerStats.FIELDS,
        "text_frames",
        "json_packets",
        "malformed",
        "protocol_errors",
    )
    text_frames: int
    json_packets: int
    malformed: int
    protocol_errors: int


class Cut(OscError):
    """The peer must be disconnected: ``code`` and ``reason`` go in the close frame."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"{code} {reason}")
        self.code = code
        self.reason = reason


def _close_code(exc: BaseException) -> int | None:
    """The close code we sent (or else received) on a closed connection, if any."""
    for side in ("sent", "rcvd"):
        frame = getattr(exc, side, None)
        code = getattr(frame, "code", None)
        if isinstance(code, int):
            return code
    return None


class PeerPolicy:
    """Sans-I/O policy for one WebSocket peer: classify messages, count, warn once.

    ``packet(message)`` returns the OSC packet bytes of a received message or raises
    :class:`Cut` (the caller closes with ``cut.code``/``cut.reason``).  ``closed(exc)`` counts
    how the connection ended.  Warnings go through the server's
    :class:`~osc_live._limits.PeerLog`: WARNING the first time a peer host hits a given case,
    DEBUG afterwards, so a hostile peer cannot flood the log.
    """

    __slots__ = ("host", "limits", "log", "peer", "stats")

    def __init__(
        self, limits: WSLimits, stats: WSServerStats, log: PeerLog, host: str, peer: str
    ) -> None:
        self.limits = limits
        self.stats = stats
        self.log = log
        self.host = host
        self.peer = peer

    def warn(self, case: str, message: str, *args: Any) -> None:
        """Log ``message`` about this peer, at WARNING once per (host, case)."""
        self.log.warn(self.host, case, "%s: " + message, self.peer, *args)

    def packet(self, message: bytes | str) -> bytes:
        """The OSC packet carried by ``message`` (counted in ``packets``), or raise Cut."""
        if isinstance(message, str):
            if self.limits.text != "json":
                self.stats.add("text_frames")
                self.warn("text", "cut: a text frame (%d chars); OSC goes in binary", len(message))
                raise Cut(*CLOSE_TEXT)
            try:
                data = json_to_packet(message)
            except (ValueError, OscError) as exc:
                self.stats.add("malformed")
                reason = f"bad osc.js JSON: {exc}"
                self.warn("json", "cut: %s", reason)
                raise Cut(CLOSE_BAD_JSON, _short(reason)) from exc
            self.stats.add("json_packets")
            self.stats.add("packets")
            return data
        data = bytes(message)
        if not looks_like_osc(data):
            self.stats.add("malformed")
            self.warn("malformed", "cut: a binary message of %d bytes is not OSC", len(data))
            raise Cut(*CLOSE_MALFORMED)
        self.stats.add("packets")
        return data

    def closed(self, exc: BaseException | None) -> None:
        """Count how the connection ended (``exc``: websockets' ConnectionClosed, or None)."""
        if exc is None:
            return
        code = _close_code(exc)
        if code == 1009:
            self.stats.add("oversized")
            self.warn(
                "max_packet_size", "cut: a message over %d bytes", self.limits.max_packet_size
            )
        elif code == 1011 and "ping" in str(exc).lower():
            self.stats.add("timeouts")
            self.warn("ping", "cut: no answer to the keep-alive ping within %s s",
                      self.limits.ping_timeout)  # fmt: skip
        elif code in (1002, 1007):
            self.stats.add("protocol_errors")
            self.warn("protocol", "cut: WebSocket protocol error (%s)", exc)


def _short(reason: str, limit: int = 120) -> str:
    """A close reason fits in 123 UTF-8 bytes."""
    raw = reason.encode("utf-8")
    if len(raw) <= limit:
        return reason
    return raw[: limit - 3].decode("utf-8", "ignore") + "..."
