"""What the blocking and the asyncio TCP clients share, with no I/O of its own.

- :class:`ClientBase` -- where to connect, the stream's framer (the first SLIP frame of a
  connection lives there, :meth:`~osc_live.framing.SlipFramer.send`), received packets
  (:meth:`ClientBase._feed`), the reconnect policy, its queue of *packets* (framed only when
  they are written, on the connection they go to) and the errors the clients raise;
- :class:`Inflight` -- which packets written on a connection may not have reached the kernel
  entirely (a timeout or a reset in the middle): those are sent again whole, never half;
- small helpers: python-osc's argument rule (:func:`args_of`), parsing and flattening received
  packets, encoding handler replies, calling user callbacks safely.
"""

from __future__ import annotations

import errno
import logging
import socket
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from osc_live._net import OscTimeoutError, family_for_host, format_address, named_error
from osc_live._net import strip_brackets as _strip_brackets
from osc_live._reconnect import ReconnectGaveUp, ReconnectPolicy, SendQueue
from osc_live.dispatcher import encode_replies
from osc_live.errors import FramingError, OscError
from osc_live.framing import DEFAULT_MAX_PACKET_SIZE, Framer, make_framer
from osc_live.osc_bundle import OscBundle
from osc_live.osc_message import OscMessage
from osc_live.osc_packet import parse_packet

__all__ = [
    "CLOSE_TIMEOUT",
    "DEFAULT_TIMEOUT",
    "LIVENESS_INTERVAL",
    "MODE_1_0",
    "MODE_1_1",
    "ClientBase",
    "Inflight",
    "Packet",
    "args_of",
    "call_hook",
    "flatten",
    "parse",
    "reply_packets",
    "unconfirmed",
]

logger = logging.getLogger("osc_live.tcp_client")

MODE_1_0 = "1.0"
"""OSC 1.0 stream framing: every packet preceded by its size (4 bytes, big-endian)."""
MODE_1_1 = "1.1"
"""OSC 1.1 stream framing: SLIP (RFC 1055), double-END; the default."""

DEFAULT_TIMEOUT = 30.0
"""Default timeout of the clients, in seconds (as python-osc)."""

LIVENESS_INTERVAL = 0.002
"""Reconnecting clients check for a server close at most this often (seconds) before sending."""

CLOSE_TIMEOUT = 30.0
"""Seconds ``close()`` waits at most for the server to close its side after the client's EOF
when neither ``close(timeout)`` nor the client's ``timeout`` says otherwise."""

Packet = OscMessage | OscBundle
DisconnectHook = Callable[[BaseException | None], Any]
ReconnectHook = Callable[[], Any]


def unconfirmed(waited: float, undelivered: int | None) -> str:
    """Why a close is unconfirmed after waiting ``waited`` s for the server's EOF.

    ``undelivered``: bytes the client's kernel (or buffer) still held, destroyed by the close.
    """
    if undelivered:
        lost = f"{undelivered} bytes not yet delivered to its host are lost"
    else:
        lost = "the messages sent last are lost if it had not read them yet"
    return f"it had not closed its side after {waited:.3g} s; {lost}"


def check_mode(mode: str) -> str:
    """Validate a client framing mode (clients send, so they cannot auto-detect)."""
    if mode not in (MODE_1_0, MODE_1_1):
        raise ValueError(f"OSC mode must be {MODE_1_0!r} or {MODE_1_1!r}, not {mode!r}")
    return mode


def args_of(value: Any) -> Sequence[Any]:
    """python-osc's ``build_msg`` rule: ``""`` -> no argument, a scalar/str/bytes -> one."""
    if isinstance(value, str):
        return () if value == "" else (value,)
    if isinstance(value, (list, tuple)):
        return value
    if isinstance(value, (bytes, bytearray, memoryview)) or not isinstance(value, Iterable):
        return (value,)
    if type(value).__module__ == "numpy" and getattr(value, "ndim", 1) == 0:
        return (value,)
    return list(value)


def flatten(packet: Packet, out: list[OscMessage]) -> None:
    """Append the messages of ``packet`` (bundles recursively) to ``out``, in order."""
    if isinstance(packet, OscMessage):
        out.append(packet)
        return
    for item in packet:
        flatten(item, out)


def parse(data: bytes, where: str) -> Packet | None:
    """Parse one received packet; a malformed one is logged and skipped (None)."""
    try:
        return parse_packet(data)
    except OscError as exc:
        logger.warning("ignoring a malformed packet (%d bytes) from %s: %s", len(data), where, exc)
        return None


def reply_packets(dispatcher: Any, results: Sequence[Any]) -> list[bytes]:
    """Encode handler results (``"/addr"`` or ``("/addr", *args)``) as OSC messages."""
    encode = getattr(dispatcher, "encode_replies", encode_replies)  # python-osc's has none
    return list(encode(results))


def call_hook(hook: Callable[..., Any] | None, *args: Any) -> Any:
    """Run a user callback; its exceptions are logged, never propagated."""
    if hook is None:
        return None
    try:
        return hook(*args)
    except Exception:
        logger.exception("error in reconnect callback %r", hook)
        return None


class Inflight:
    """Packets written on one connection that may not have reached the kernel entirely.

    ``add(packets, sizes)`` records packets as their framed bytes are written (``sizes``: the
    wire size of each); ``sent(total)`` forgets those entirely within the first ``total`` bytes
    written on the connection; ``unsent(total)`` returns (and forgets) the others, whole and
    oldest first -- a packet cut in the middle counts as unsent: the peer cannot have handled it.
    """

    __slots__ = ("_items", "written")

    def __init__(self) -> None:
        """Nothing written yet."""
        self.written = 0
        self._items: deque[tuple[int, bytes]] = deque()

    def __len__(self) -> int:
        """Packets tracked."""
        return len(self._items)

    def add(self, packets: Sequence[bytes], sizes: Sequence[int]) -> None:
        """Record ``packets`` whose framed bytes (``sizes`` each) are being written now."""
        end = self.written
        items = self._items
        for packet, size in zip(packets, sizes, strict=True):
            end += size
            items.append((end, packet))
        self.written = end

    def sent(self, total: int) -> None:
        """Forget the packets within the first ``total`` bytes written."""
        items = self._items
        while items and items[0][0] <= total:
            items.popleft()

    def unsent(self, total: int) -> list[bytes]:
        """The packets not entirely within the first ``total`` bytes (then forgotten)."""
        self.sent(total)
        packets = [packet for _end, packet in self._items]
        self._items.clear()
        return packets


class ClientBase:
    """State shared by the blocking and asyncio clients (see the module docstring).

    The constructor (python-osc's signature plus keyword-only extensions) sets the shared
    state, then calls :meth:`_start_io`, the blocking or asyncio half.
    """

    def __init__(
        self,
        address: str,
        port: int,
        family: socket.AddressFamily = socket.AF_INET,
        mode: str = MODE_1_1,
        timeout: float | None = DEFAULT_TIMEOUT,
        *,
        reconnect: bool | ReconnectPolicy = False,
        on_disconnect: DisconnectHook | None = None,
        on_reconnect: ReconnectHook | None = None,
        max_packet_size: int = DEFAULT_MAX_PACKET_SIZE,
    ) -> None:
        """Set the shared state, then :meth:`_start_io` (the blocking clients connect there)."""
        self.address = address
        self.port = port
        self.family = family_for_host(_strip_brackets(address), family)
        self.mode = check_mode(mode)
        if timeout is not None and timeout <= 0:
            timeout = None
        self._timeout = timeout
        self._where = format_address(address, port)
        self._framer: Framer = make_framer(mode, max_packet_size)
        self._frame = self._framer.send
        self._pending: deque[bytes] = deque()
        self._policy = ReconnectPolicy.coerce(reconnect)
        self._queue = SendQueue(self._policy.max_queue if self._policy else 0)
        self.on_disconnect = on_disconnect
        self.on_reconnect = on_reconnect
        self._closed = False
        self._eof = False
        self._gave_up: ReconnectGaveUp | None = None
        self._broken: OSError | None = None
        self.reconnects = 0
        """Number of successful reconnections so far."""
        self._start_io()

    def _start_io(self) -> None:
        """The blocking or asyncio half of the constructor."""
        raise NotImplementedError

    def _first_connect_failed(self, exc: OSError) -> None:
        """The first connection failed: raise ``exc`` unless reconnecting (an unresolvable host
        always raises); else say so (the caller starts reconnecting)."""
        if self._policy is None or isinstance(exc, socket.gaierror):
            raise exc
        logger.warning("%s; reconnecting in the background", exc)

    @property
    def queued(self) -> int:
        """Messages waiting for a reconnection."""
        return len(self._queue)

    def _feed(self, framer: Framer, data: bytes) -> bool:
        """Frame received bytes into the pending packets; True if the stream is unusable.

        Framing errors are logged; the good packets of the chunk are kept.  On a fatal error
        (a size prefix beyond ``max_packet_size``) the framer is reset: the caller closes.
        """
        try:
            self._pending.extend(framer.feed(data))
        except FramingError as exc:
            self._pending.extend(exc.packets)
            logger.warning("framing error in data from %s: %s", self._where, exc)
            if exc.fatal:
                framer.reset()
                return True
        return False

    def _new_stream(self) -> None:
        """A new connection: the framer starts a new stream both ways."""
        self._framer.reset()
        self._eof = False

    def _closed_error(self) -> OSError:
        """What sending on a closed client raises."""
        return OSError(f"the client of {self._where} is closed")

    def _lost_error(self) -> OSError:
        """What sending on a connection that is gone raises (no reconnection)."""
        if self._broken is not None:
            return self._broken
        return named_error(
            ConnectionResetError(errno.ECONNRESET, "connection closed"),
            self.address,
            self.port,
            "sending to",
        )

    def _send_timeout(self, written: int, total: int, unsent: int) -> OscTimeoutError:
        """The error of a send that timed out after ``written`` of ``total`` bytes."""
        seconds = f"{self._timeout:g} s" if self._timeout is not None else "the timeout"
        if self._policy is not None:
            outcome = f"the connection was closed; {unsent} message(s) go out after reconnecting"
        elif written:
            outcome = (
                f"the connection was closed (the stream is out of frame); {unsent} message(s)"
                " not sent"
            )
        else:
            outcome = f"{unsent} message(s) not sent; the connection stays open"
        if written:
            what = f"{written} of {total} bytes written when {seconds} passed: {outcome}"
        else:
            what = f"the peer did not read for {seconds}: {outcome}"
        err = OscTimeoutError(errno.ETIMEDOUT, f"sending to {self._where}: {what}")
        err.host = self.address
        err.port = self.port
        return err

    def _give_up(self, attempts: int) -> ReconnectGaveUp:
        """Stop reconnecting: the error carrying every packet never sent."""
        self._gave_up = ReconnectGaveUp(self.address, self.port, attempts, self._queue.take_all())
        return self._gave_up

    def _close_timeout(self, timeout: float | None) -> float:
        """How long ``close(timeout)`` waits for the server's EOF (see :data:`CLOSE_TIMEOUT`)."""
        if timeout is None:
            timeout = self._timeout if self._timeout is not None else CLOSE_TIMEOUT
        return max(0.0, timeout)

    def _warn_unconfirmed_close(self, trouble: str) -> None:
        """``close()`` did not get the server's EOF: say so, and what may be lost."""
        logger.warning(
            "closed the connection to %s without the server's confirmation that it had read"
            " everything: %s",
            self._where,
            trouble,
        )

    def _warn_unsent_on_close(self) -> None:
        """Closing with packets still queued: say how many were never sent."""
        left = len(self._queue)
        if left:
            logger.warning(
                "closing the client of %s with %d queued messages that were never sent",
                self._where,
                left,
            )
