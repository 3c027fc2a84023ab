"""Limits of the stream servers, their counters, and the admission/byte-budget gate (sans-I/O).

Shared by every connection-oriented server (TCP; the WebSocket server uses the same pieces):

- :class:`Limits` -- every bound a server enforces, with defaults safe for a laptop on a
  classroom network (``docs/transports.md`` has the table: limit, default, what happens at it,
  the counter);
- :class:`ServerStats` -- thread-safe counters (``server.stats``); subclasses add fields by
  extending ``FIELDS``;
- :class:`PeerLog` -- a warning logged once per peer host and limit (then DEBUG), with bounded
  memory, so a hostile peer cannot flood the log;
- :class:`ConnectionGate` -- admission (connections in all, per peer host) and the byte budget
  (per connection and for all connections together).  ``gate.admit(host)`` returns a
  :class:`Ticket` or ``None`` (refused: counted and logged); ``ticket.hold(n)`` records that the
  connection now holds ``n`` bytes (unfinished frames read plus replies not yet written) and
  returns the name of the limit it exceeds, if any (counted and logged: the caller cuts the
  connection); ``ticket.release()`` when the connection ends.

No I/O here and only the standard library.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass, fields, replace
from typing import Any

__all__ = [
    "DEFAULT_FRAME_TIMEOUT",
    "DEFAULT_MAX_BUFFERED",
    "DEFAULT_MAX_BUFFERED_TOTAL",
    "DEFAULT_MAX_CONNECTIONS",
    "DEFAULT_MAX_CONNECTIONS_PER_HOST",
    "DEFAULT_MAX_PACKET_SIZE",
    "DEFAULT_SEND_TIMEOUT",
    "DEFAULT_SHUTDOWN_GRACE",
    "ConnectionGate",
    "Limits",
    "PeerLog",
    "ServerStats",
    "Ticket",
]

DEFAULT_MAX_PACKET_SIZE = 1 << 20
"""Largest packet (decoded frame) accepted: 1 MiB."""
DEFAULT_MAX_BUFFERED = 4 << 20
"""Bytes one connection may hold (unfinished frame read + replies not yet written): 4 MiB."""
DEFAULT_MAX_BUFFERED_TOTAL = 32 << 20
"""Bytes all connections of a server may hold together: 32 MiB."""
DEFAULT_MAX_CONNECTIONS = 128
"""Connections a server serves at once."""
DEFAULT_MAX_CONNECTIONS_PER_HOST = 32
"""Connections a server serves at once from one peer IP address."""
DEFAULT_FRAME_TIMEOUT = 10.0
"""Seconds a started frame may take to complete before the connection is cut."""
DEFAULT_SEND_TIMEOUT = 10.0
"""Seconds a reply may wait for a peer that does not read before the connection is cut."""
DEFAULT_SHUTDOWN_GRACE = 0.25
"""Seconds connections are drained when a server stops."""


def _positive_int(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be an int >= 1, not {value!r}")


def _timeout(name: str, value: Any) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ValueError(f"{name} must be a number > 0 or None, not {value!r}")


@dataclass(frozen=True)
class Limits:
    """Every bound a stream server enforces (see ``docs/transports.md`` for the table).

    - ``max_packet_size``: largest packet; a bigger SLIP frame is dropped (``framing_errors``),
      a bigger OSC 1.0 size prefix cuts the connection (``oversized``);
    - ``max_buffered``: bytes one connection may hold -- the frame it is reading plus replies
      not yet written; beyond, the connection is cut (``over_buffer``);
    - ``max_buffered_total``: the same, summed over all connections; the connection whose bytes
      would exceed it is cut (``over_buffer``);
    - ``max_connections`` / ``max_connections_per_host``: connections served at once, in all
      and from one peer IP address; more are closed as soon as accepted (``refused``);
    - ``frame_timeout``: seconds a started frame may take (``timeouts``); ``idle_timeout``:
      seconds without data before a connection is closed (``None``: never; ``timeouts``);
      ``send_timeout``: seconds a reply may wait for a peer that does not read
      (``send_timeouts``); ``shutdown_grace``: seconds connections are drained on stop.
    """

    max_packet_size: int = DEFAULT_MAX_PACKET_SIZE
    max_buffered: int = DEFAULT_MAX_BUFFERED
    max_buffered_total: int = DEFAULT_MAX_BUFFERED_TOTAL
    max_connections: int = DEFAULT_MAX_CONNECTIONS
    max_connections_per_host: int = DEFAULT_MAX_CONNECTIONS_PER_HOST
    frame_timeout: float | None = DEFAULT_FRAME_TIMEOUT
    idle_timeout: float | None = None
    send_timeout: float | None = DEFAULT_SEND_TIMEOUT
    shutdown_grace: float = DEFAULT_SHUTDOWN_GRACE

    def __post_init__(self) -> None:
        """Validate every value."""
        for name in (
            "max_packet_size",
            "max_buffered",
            "max_buffered_total",
            "max_connections",
            "max_connections_per_host",
        ):
            _positive_int(name, getattr(self, name))
        for name in ("frame_timeout", "idle_timeout", "send_timeout"):
            _timeout(name, getattr(self, name))
        grace = self.shutdown_grace
        if isinstance(grace, bool) or not isinstance(grace, (int, float)) or grace < 0:
            raise ValueError(f"shutdown_grace must be a number >= 0, not {grace!r}")

    @classmethod
    def build(cls, limits: Limits | None = None, **overrides: Any) -> Limits:
        """``limits`` (default: the defaults) with ``overrides`` applied.

        Keyword arguments equal to :data:`UNSET` are ignored, so a server can pass its own
        keyword parameters straight through.
        """
        base = limits if limits is not None else cls()
        known = {f.name for f in fields(cls)}
        changes = {}
        for name, value in overrides.items():
            if name not in known:
                raise TypeError(f"unknown limit {name!r}")
            if value is not UNSET:
                changes[name] = value
        return replace(base, **changes) if changes else base


class _Unset:
    """Sentinel type of :data:`UNSET` (a keyword argument the caller did not give)."""

    _instance: _Unset | None = None

    def __new__(cls) -> _Unset:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()
"""Default of a server's limit keywords: "take it from ``limits`` (or the default)"."""


class ServerStats:
    """Counters of a server (thread-safe; per process for the forking servers).

    - ``connections``: connections accepted; ``active``: open now; ``refused``: closed at once
      because ``max_connections`` / ``max_connections_per_host`` was reached;
    - ``packets``: complete packets read and given to the dispatcher;
    - ``replies``: reply packets sent; ``replies_dropped``: replies whose connection had gone;
    - ``framing_errors``: recoverable framing errors (bad SLIP escape, SLIP packet too big,
      empty size-prefixed packet) -- the bad packet is dropped, the connection goes on;
    - ``oversized``: size prefixes beyond ``max_packet_size`` -- the connection is cut;
    - ``over_buffer``: connections cut for holding more than ``max_buffered`` bytes, or for
      bytes beyond ``max_buffered_total`` (all connections);
    - ``partial_frames``: connections that ended in the middle of a frame (the part is dropped);
    - ``timeouts``: connections cut because a frame did not complete within ``frame_timeout``
      or nothing came for ``idle_timeout``;
    - ``send_timeouts``: connections cut because the peer did not read its replies;
    - ``handler_errors``: exceptions raised by handlers (logged; the connection goes on).
    """

    FIELDS: tuple[str, ...] = (
        "connections",
        "active",
        "refused",
        "packets",
        "replies",
        "replies_dropped",
        "framing_errors",
        "oversized",
        "over_buffer",
        "partial_frames",
        "timeouts",
        "send_timeouts",
        "handler_errors",
    )
    connections: int
    active: int
    refused: int
    packets: int
    replies: int
    replies_dropped: int
    framing_errors: int
    oversized: int
    over_buffer: int
    partial_frames: int
    timeouts: int
    send_timeouts: int
    handler_errors: int

    def __init__(self) -> None:
        """All counters at zero."""
        self._lock = threading.Lock()
        for name in self.FIELDS:
            setattr(self, name, 0)

    def add(self, name: str, n: int = 1) -> int:
        """Add ``n`` to counter ``name``; return its new value."""
        with self._lock:
            value: int = getattr(self, name) + n
            setattr(self, name, value)
            return value

    def as_dict(self) -> dict[str, int]:
        """The counters as a dict."""
        with self._lock:
            return {name: getattr(self, name) for name in self.FIELDS}

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v}" for k, v in self.as_dict().items())
        return f"{type(self).__name__}({inner})"


class PeerLog:
    """Log a warning the first time a peer host hits a limit; DEBUG for the same pair later.

    Memory is bounded: at most ``max_peers`` (host, limit) pairs are remembered (the oldest
    forgotten first, so a host may be warned about again after many others were).
    """

    def __init__(self, logger: logging.Logger, max_peers: int = 1024) -> None:
        """Log on ``logger``; remember up to ``max_peers`` (host, limit) pairs."""
        self.logger = logger
        self.max_peers = max_peers
        self._seen: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._lock = threading.Lock()

    def warn(self, host: str, limit: str, message: str, *args: Any) -> bool:
        """Log ``message % args`` about ``host`` hitting ``limit``; True if at WARNING level."""
        key = (host, limit)
        with self._lock:
            first = key not in self._seen
            if first:
                self._seen[key] = None
                if len(self._seen) > self.max_peers:
                    self._seen.popitem(last=False)
            else:
                self._seen.move_to_end(key)
        self.logger.log(logging.WARNING if first else logging.DEBUG, message, *args)
        return first


class Ticket:
    """One admitted connection: releases its slot and its bytes when it ends."""

    __slots__ = ("_gate", "held", "host", "released")

    def __init__(self, gate: ConnectionGate, host: str) -> None:
        self._gate = gate
        self.host = host
        self.held = 0
        self.released = False

    def hold(self, nbytes: int, peer: str = "") -> str | None:
        """Record that the connection now holds ``nbytes``; the limit exceeded, or None.

        On a limit the bytes are not recorded, the hit is counted in ``over_buffer`` and
        logged (once per host): the caller must cut the connection.
        """
        if nbytes == self.held:
            return None
        return self._gate._hold(self, nbytes, peer)

    def release(self) -> None:
        """The connection ended: free its slot and its bytes (idempotent)."""
        self._gate._release(self)


class ConnectionGate:
    """Admission and byte budget of one server (thread-safe, sans-I/O)."""

    def __init__(self, limits: Limits, stats: ServerStats, log: PeerLog) -> None:
        """Enforce ``limits``, count in ``stats``, warn through ``log``."""
        self.limits = limits
        self.stats = stats
        self.log = log
        self._lock = threading.Lock()
        self._per_host: dict[str, int] = {}
        self._active = 0
        self._held = 0

    @property
    def active(self) -> int:
        """Connections admitted and not released."""
        return self._active

    @property
    def held(self) -> int:
        """Bytes held by all admitted connections."""
        return self._held

    def admit(self, host: str, peer: str = "") -> Ticket | None:
        """A ticket for a new connection from ``host``, or None when a limit is reached.

        A refusal is counted in ``refused`` and logged (once per host); the caller closes the
        connection at once.
        """
        limits = self.limits
        with self._lock:
            count = self._per_host.get(host, 0)
            if self._active >= limits.max_connections:
                limit = "max_connections"
                bound = limits.max_connections
            elif count >= limits.max_connections_per_host:
                limit = "max_connections_per_host"
                bound = limits.max_connections_per_host
            else:
                self._per_host[host] = count + 1
                self._active += 1
                return Ticket(self, host)
        self.stats.add("refused")
        self.log.warn(
            host,
            limit,
            "%s: connection refused: %s (%d) reached",
            peer or host,
            limit,
            bound,
        )
        return None

    def _hold(self, ticket: Ticket, nbytes: int, peer: str) -> str | None:
        limits = self.limits
        with self._lock:
            if ticket.released:
                return None
            total = self._held - ticket.held + nbytes
            if nbytes > limits.max_buffered:
                limit, bound, amount = "max_buffered", limits.max_buffered, nbytes
            elif nbytes > ticket.held and total > limits.max_buffered_total:
                limit, bound, amount = "max_buffered_total", limits.max_buffered_total, total
            else:
                self._held = total
                ticket.held = nbytes
                return None
        self.stats.add("over_buffer")
        self.log.warn(
            ticket.host,
            limit,
            "%s: connection cut: %d bytes held, over %s (%d)",
            peer or ticket.host,
            amount,
            limit,
            bound,
        )
        return limit

    def _release(self, ticket: Ticket) -> None:
        with self._lock:
            if ticket.released:
                return
            ticket.released = True
            self._held -= ticket.held
            ticket.held = 0
            self._active -= 1
            count = self._per_host.get(ticket.host, 0) - 1
            if count > 0:
                self._per_host[ticket.host] = count
            else:
                self._per_host.pop(ticket.host, None)
