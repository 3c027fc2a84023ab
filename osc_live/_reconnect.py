"""Reconnection policy and the bounded send queue of the reconnecting TCP clients.

A client made with ``reconnect=True`` (or ``reconnect=ReconnectPolicy(...)``) survives a broken
connection: it reconnects with exponential backoff (:meth:`ReconnectPolicy.delays`), and what
is sent meanwhile waits in a :class:`SendQueue` bounded by ``max_queue`` messages.  A full
queue raises :class:`ReconnectQueueFull` -- nothing is dropped silently.  After
``max_attempts`` failed attempts (``None``: never give up) sending raises
:class:`ReconnectGaveUp`, which carries the messages that were never sent.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

from osc_live._net import format_address

__all__ = ["ReconnectGaveUp", "ReconnectPolicy", "ReconnectQueueFull", "SendQueue"]


@dataclass(frozen=True)
class ReconnectPolicy:
    """How a client reconnects: exponential backoff and the size of the waiting queue.

    - ``initial_delay``: seconds before the second attempt (the first is immediate).
    - ``factor``: each further delay is the previous one times ``factor`` ...
    - ``max_delay``: ... up to ``max_delay`` seconds.
    - ``jitter``: each delay is randomised by up to +/- this fraction (spreads many clients).
    - ``max_queue``: messages that may wait while disconnected; one more raises
      :class:`ReconnectQueueFull`.
    - ``max_attempts``: attempts before giving up (``None``: keep trying until closed).
    - ``connect_timeout``: seconds allowed for one connection attempt.
    """

    initial_delay: float = 0.05
    factor: float = 2.0
    max_delay: float = 5.0
    jitter: float = 0.1
    max_queue: int = 10_000
    max_attempts: int | None = None
    connect_timeout: float = 5.0

    def __post_init__(self) -> None:
        """Validate the numbers."""
        if self.initial_delay < 0 or self.max_delay < 0:
            raise ValueError("reconnect delays must be >= 0")
        if self.factor < 1:
            raise ValueError("reconnect factor must be >= 1")
        if not 0 <= self.jitter <= 1:
            raise ValueError("reconnect jitter must be between 0 and 1")
        if self.max_queue < 0:
            raise ValueError("max_queue must be >= 0")
        if self.max_attempts is not None and self.max_attempts < 1:
            raise ValueError("max_attempts must be >= 1 or None")
        if self.connect_timeout <= 0:
            raise ValueError("connect_timeout must be > 0")

    @classmethod
    def coerce(cls, value: bool | ReconnectPolicy | None) -> ReconnectPolicy | None:
        """``True`` -> the default policy, ``False``/``None`` -> no reconnection, a policy as is."""
        if value is None or value is False:
            return None
        if value is True:
            return cls()
        if isinstance(value, ReconnectPolicy):
            return value
        raise TypeError(
            f"reconnect must be a bool or a ReconnectPolicy, not {type(value).__name__}"
        )

    def delays(self) -> Iterator[float]:
        """Seconds to wait before each attempt: 0, then exponential backoff with jitter."""
        attempt = 0
        delay = self.initial_delay
        while self.max_attempts is None or attempt < self.max_attempts:
            if attempt == 0:
                yield 0.0
            else:
                spread = delay * self.jitter
                yield max(0.0, delay + random.uniform(-spread, spread))
                delay = min(self.max_delay, delay * self.factor)
            attempt += 1


class ReconnectQueueFull(ConnectionError):
    """Raised by ``send`` while disconnected when ``max_queue`` messages already wait.

    The message that could not be queued was NOT sent; ``.host``, ``.port`` and ``.queued``
    (the number of waiting messages) tell where and how many.
    """

    def __init__(self, host: str, port: int, queued: int) -> None:
        """Build the error for ``host:port`` with ``queued`` messages waiting."""
        super().__init__(
            f"not connected to {format_address(host, port)} and the reconnect queue is full"
            f" ({queued} messages waiting, max_queue={queued}); this message was not sent"
        )
        self.host = host
        self.port = port
        self.queued = queued


class ReconnectGaveUp(ConnectionError):
    """The client stopped reconnecting after ``max_attempts``; ``.unsent`` holds the packets.

    ``.unsent`` are the OSC packets (messages or bundles, as bytes, unframed) never sent.
    """

    def __init__(self, host: str, port: int, attempts: int, unsent: list[bytes]) -> None:
        """Build the error for ``host:port`` after ``attempts`` attempts."""
        super().__init__(
            f"gave up reconnecting to {format_address(host, port)} after {attempts} attempts;"
            f" {len(unsent)} queued messages were not sent"
        )
        self.host = host
        self.port = port
        self.attempts = attempts
        self.unsent = unsent


class SendQueue:
    """FIFO of OSC packets waiting for a connection, at most ``maxlen`` of them.

    Packets are kept unframed: they are framed when written, on the connection they go to.
    """

    def __init__(self, maxlen: int) -> None:
        """Create an empty queue holding at most ``maxlen`` packets."""
        self.maxlen = maxlen
        self._items: deque[bytes] = deque()

    def __len__(self) -> int:
        """Number of waiting packets."""
        return len(self._items)

    def full(self) -> bool:
        """True when one more packet would not fit."""
        return len(self._items) >= self.maxlen

    def put(self, packet: bytes, host: str, port: int) -> None:
        """Append ``packet``; raise :class:`ReconnectQueueFull` (naming host:port) when full."""
        if len(self._items) >= self.maxlen:
            raise ReconnectQueueFull(host, port, len(self._items))
        self._items.append(packet)

    def put_all(self, packets: list[bytes], host: str, port: int) -> None:
        """Append every packet, or none of them if they do not all fit (then raise as put)."""
        if len(self._items) + len(packets) > self.maxlen:
            raise ReconnectQueueFull(host, port, len(self._items))
        self._items.extend(packets)

    def peek(self) -> bytes:
        """The oldest packet (the queue must not be empty)."""
        return self._items[0]

    def pop(self) -> bytes:
        """Remove and return the oldest packet."""
        return self._items.popleft()

    def take(self, max_bytes: int) -> list[bytes]:
        """Remove and return the oldest packets, about ``max_bytes`` of them (at least one)."""
        items = self._items
        batch: list[bytes] = []
        size = 0
        while items and (not batch or size + len(items[0]) <= max_bytes):
            packet = items.popleft()
            batch.append(packet)
            size += len(packet)
        return batch

    def requeue(self, packets: list[bytes]) -> None:
        """Put ``packets`` (oldest first) back in front of the queue, ignoring ``maxlen``.

        For packets that were accepted for sending but never left on a connection that died:
        they go out before anything queued since, and are never refused.
        """
        self._items.extendleft(reversed(packets))

    def take_all(self) -> list[bytes]:
        """Remove and return every packet, oldest first."""
        items = list(self._items)
        self._items.clear()
        return items
