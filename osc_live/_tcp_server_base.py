"""What every OSC TCP server shares, with no I/O: the per-connection :class:`Stream`, settings.

- :class:`Stream` -- one connection's state: its framer (reading and the replies' framing),
  the frame in progress and its start time (``frame_timeout``), the last data (``idle_timeout``),
  the bytes it holds (counted against ``max_buffered`` / ``max_buffered_total`` through its
  :class:`~osc_live._limits.Ticket`), counting in ``server.stats`` and warnings logged once per
  peer host and kind of trouble.  The socketserver-based servers and the asyncio server drive
  the same object, so they behave alike.
- :class:`ServerCore` -- what every server holds: mode, :class:`~osc_live._limits.Limits`,
  stats, the once-per-peer log and the :class:`~osc_live._limits.ConnectionGate`.
- :func:`host_family`, :func:`check_mode`, :func:`peer_of`.
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Sequence
from typing import Any

from osc_live._limits import ConnectionGate, Limits, PeerLog, ServerStats, Ticket
from osc_live._net import format_address, is_ipv6_literal
from osc_live.errors import FramingError
from osc_live.framing import MODES, Framer, make_framer

__all__ = [
    "MODE_1_0",
    "MODE_1_1",
    "MODE_AUTO",
    "ServerCore",
    "Stream",
    "check_mode",
    "host_family",
    "logger",
    "peer_of",
]

logger = logging.getLogger("osc_live.osc_tcp_server")

MODE_1_0 = "1.0"
"""OSC 1.0 stream framing: 4-byte big-endian size prefix."""
MODE_1_1 = "1.1"
"""OSC 1.1 stream framing: SLIP (the default)."""
MODE_AUTO = "auto"
"""Detect the framing of each connection from its first byte."""


def check_mode(mode: str) -> str:
    """Validate a server framing mode."""
    if mode not in MODES:
        raise ValueError(f"OSC mode must be one of {', '.join(map(repr, MODES))}, not {mode!r}")
    return mode


def peer_of(client_address: Any) -> tuple[str, str]:
    """``(host, "host:port")`` of a peer address (``("?", "?")`` when unknown)."""
    if isinstance(client_address, (tuple, list)) and len(client_address) >= 2:
        return str(client_address[0]), format_address(client_address[0], client_address[1])
    return "?", "?"


def host_family(host: Any, family: socket.AddressFamily | None) -> socket.AddressFamily:
    """The family to bind ``host`` with: IPv6 literals and IPv6-only names get AF_INET6."""
    if family is not None:
        return family
    if not isinstance(host, str):
        return socket.AF_INET
    if is_ipv6_literal(host):
        return socket.AF_INET6
    if host == "" or ("." in host and host.replace(".", "").isdigit()):
        return socket.AF_INET
    try:
        infos = socket.getaddrinfo(host, None, socket.AF_UNSPEC, socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return socket.AF_INET
    families = [info[0] for info in infos]
    if socket.AF_INET in families or not families:
        return socket.AF_INET
    return families[0]


class ServerCore:
    """Mode, limits, counters, warnings and admission of one server."""

    def __init__(self, mode: str, limits: Limits) -> None:
        """Validate ``mode``; count in a new :class:`ServerStats`."""
        self.mode = check_mode(mode)
        self.limits = limits
        self.stats = ServerStats()
        self.log = PeerLog(logger)
        self.gate = ConnectionGate(limits, self.stats, self.log)

    def stream(self, client_address: Any, now: float, ticket: Ticket | None) -> Stream:
        """The sans-I/O state of a new connection from ``client_address``."""
        return Stream(self, client_address, now, ticket)


class Stream:
    """Sans-I/O state of one connection: framing, timeouts, bytes held, counting, warnings."""

    __slots__ = (
        "core",
        "frame",
        "frame_started",
        "framer",
        "host",
        "last_rx",
        "peer",
        "stats",
        "ticket",
    )

    def __init__(self, core: ServerCore, client_address: Any, now: float, ticket: Ticket | None):
        self.core = core
        self.stats = core.stats
        self.host, self.peer = peer_of(client_address)
        self.ticket = ticket
        limits = core.limits
        self.framer: Framer = make_framer(core.mode, limits.max_packet_size)
        self.frame = self.framer.send
        self.frame_started: float | None = None
        self.last_rx = now

    def warn(self, kind: str, message: str, *args: Any) -> None:
        """Log about this peer: WARNING the first time its host hits ``kind``, DEBUG after."""
        self.core.log.warn(self.host, kind, "%s: " + message, self.peer, *args)

    def feed(self, data: bytes, now: float, unsent: int = 0) -> tuple[list[bytes], bool]:
        """Frame ``data``: return (complete packets, cut).

        ``cut``: the connection must be closed -- a size prefix beyond ``max_packet_size``, or
        more bytes held (frame in progress plus ``unsent`` reply bytes) than the limits allow.
        The packets completed before are still returned: they are good, the caller handles
        them.  Errors are counted and logged.
        """
        self.last_rx = now
        framer = self.framer
        try:
            packets = framer.feed(data)
        except FramingError as exc:
            packets = exc.packets
            if exc.fatal:
                self.stats.add("oversized")
                self.warn("oversized", "closing the connection: %s", exc)
                self.frame_started = None
                return packets, True
            self.stats.add("framing_errors")
            self.warn("framing", "dropped a bad frame: %s", exc)
        # In the middle of a frame: bytes are held towards it, or an oversized SLIP frame is
        # being skipped up to its END (a peer trickling one is cut by frame_timeout too).
        held = framer.buffered
        if not (held or framer.discarding):
            self.frame_started = None
        elif packets or self.frame_started is None:
            self.frame_started = now
        if packets:
            self.stats.add("packets", len(packets))
        if self.ticket is not None and (held or unsent or self.ticket.held):
            return packets, self.hold(held + unsent)
        return packets, False

    def hold(self, nbytes: int) -> bool:
        """Record that the connection holds ``nbytes``; True when that cuts it (logged)."""
        ticket = self.ticket
        if ticket is None:
            return False
        if ticket.hold(nbytes, self.peer) is None:
            return False
        self.frame_started = None
        return True

    def deadline(self) -> float | None:
        """Monotonic time at which this connection times out (None: never)."""
        limits = self.core.limits
        deadline: float | None = None
        if self.frame_started is not None and limits.frame_timeout is not None:
            deadline = self.frame_started + limits.frame_timeout
        if limits.idle_timeout is not None:
            idle = self.last_rx + limits.idle_timeout
            deadline = idle if deadline is None else min(deadline, idle)
        return deadline

    def expired(self, now: float) -> bool:
        """Count and log a timeout when the deadline has passed; True if so."""
        deadline = self.deadline()
        if deadline is None or now < deadline:
            return False
        self.stats.add("timeouts")
        limits = self.core.limits
        if (
            self.frame_started is not None
            and limits.frame_timeout is not None
            and now >= self.frame_started + limits.frame_timeout
        ):
            self.warn(
                "frame_timeout",
                "closing the connection: a frame did not complete within %.3g s (slow or"
                " stalled peer)",
                limits.frame_timeout,
            )
        else:
            self.warn(
                "idle_timeout", "closing the idle connection after %.3g s", limits.idle_timeout
            )
        return True

    def send_timed_out(self) -> None:
        """Count and log a peer that does not read its replies (the caller cuts it)."""
        self.stats.add("send_timeouts")
        self.warn("send_timeout", "closing the connection: the peer does not read its replies")

    def ended(self) -> None:
        """The peer closed: count a frame left incomplete."""
        if self.frame_started is not None:
            self.stats.add("partial_frames")
            self.warn(
                "partial_frame",
                "the peer disconnected in the middle of a frame; partial frame dropped",
            )
            self.frame_started = None

    def close(self) -> None:
        """The connection is gone: free its slot and its bytes."""
        if self.ticket is not None:
            self.ticket.release()

    def encode(self, dispatcher: Any, results: Sequence[Any]) -> bytes:
        """Frame the replies for handler ``results``."""
        frame = self.frame
        packets = dispatcher.encode_replies(results)
        return b"".join(frame(p) for p in packets)
